"""The ``connection-pool-leak`` detector (:mod:`incidentkit.findings.detectors.connection_pool_leak`): when it fires, when it stays silent."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from incidentkit import findings, schema
from incidentkit.analyses import saturation as sat
from incidentkit.findings import Inputs
from _helpers.saturation_cases import RDS_SETTINGS, SQLA, T0, frame, leaky_app, rds
from incidentkit.findings.detectors import connection_pool_leak


def test_load_ramp_without_exceptions_is_not_attributed_to_exceptions():
    t = pd.date_range(T0, periods=60, freq="1min")
    level = np.repeat([1, 3, 5, 7], 15) + np.tile([0, 1], 30)
    use = pd.DataFrame({"timestamp": t, "pool": "web-1", "in_use": level.astype(float), "size": 20.0,
                        "idle": np.nan, "waiting": np.nan})
    sig = sat.leak_signature(use)
    assert sig.loc[0, "step_ups_after_exception"] == 0
    assert connection_pool_leak.detect(Inputs(logs=frame([{"timestamp": T0, "message": "x"}]))) is None


def test_detect_connection_pool_leak_incident4():
    logs, requests = leaky_app()
    inputs = Inputs(logs=logs, requests=requests, metrics=rds(), settings=RDS_SETTINGS)
    f = connection_pool_leak.detect(inputs)
    assert f is not None and f.id == "connection-pool-leak"
    assert f.confidence >= 0.85
    assert f.severity in ("high", "critical")
    e = f.evidence
    assert e["library"] == "sqlalchemy" and e["pool_capacity"] == 10
    assert e["db_state"] == "headroom" and e["max_connections"] == 400
    assert e["leaked_connections"] >= 8 and e["step_ups_after_exception"] >= 7
    assert e["top_exception"] == "psycopg2.errors.UniqueViolation"
    assert 0 < e["share_requests_with_pool_error"] < 1
    assert "with engine.connect() as conn:" in f.remediation[0]
    assert any("70 %" in r for r in f.remediation) and any("pool_pre_ping" in r for r in f.remediation)
    got = findings.detect(inputs, only=["connection-pool-leak", "throttling-without-backoff"])
    assert got.top.id == "connection-pool-leak"


def test_hikari_gauge_and_errors_without_rds_metrics():
    logs, _ = leaky_app(gauge_fmt="hikari", seed=4)
    logs["message"] = logs["message"].str.replace(SQLA, "java.sql.SQLTransientConnectionException: HikariPool-1 - Connection "
                                                        "is not available, request timed out after 30000ms.", regex=False)
    f = connection_pool_leak.detect(Inputs(logs=logs))
    assert f is not None and f.evidence["library"] == "hikaricp"
    assert "leakDetectionThreshold" in f.remediation[0]
    assert f.confidence >= 0.65


def test_pool_errors_without_gauge_with_idle_database_is_a_likely_leak():
    logs, requests = leaky_app(gauge=False)
    f = connection_pool_leak.detect(Inputs(logs=logs, requests=requests, metrics=rds(), settings=RDS_SETTINGS))
    assert f is not None
    assert 0.5 <= f.confidence <= 0.65  # no gauge: pool errors + idle database + exceptions first
    assert "likely" in f.title and "log the pool's in-use count" in f.summary


def test_traffic_growth_lowers_confidence():
    logs, requests = leaky_app()
    base = connection_pool_leak.detect(Inputs(logs=logs, requests=requests, metrics=rds(), settings=RDS_SETTINGS))
    late = requests["timestamp"] > T0 + pd.Timedelta(minutes=96)
    busier = pd.concat([requests, requests[late].assign(request_id=lambda d: d["request_id"] + "b"),
                        requests[late].assign(request_id=lambda d: d["request_id"] + "c")], ignore_index=True)
    f = connection_pool_leak.detect(Inputs(logs=logs, requests=busier, metrics=rds(), settings=RDS_SETTINGS))
    assert f.evidence["traffic_growth"] >= 2.5
    assert f.confidence == pytest.approx(base.confidence - 0.1)


def test_saturated_database_is_not_called_a_leak():
    logs, requests = leaky_app(gauge=False)
    inputs = Inputs(logs=logs, requests=requests, metrics=rds(cpu=94.0, conns=395.0), settings=RDS_SETTINGS)
    assert connection_pool_leak.detect(inputs) is None


def test_healthy_app_raises_nothing():
    logs, requests = leaky_app(leak=False)
    logs = pd.concat([logs, frame([{"timestamp": T0 + pd.Timedelta(minutes=30), "log_stream": "web/web/0", "level": "ERROR",
                                     "message": SQLA}])], ignore_index=True)  # one stray pool timeout
    inputs = Inputs(logs=logs, requests=requests, metrics=rds(), settings=RDS_SETTINGS)
    assert connection_pool_leak.detect(inputs) is None
    got = findings.detect(inputs, only=["connection-pool-leak"])
    assert not got.errors and not got.at_least("medium")


def test_pool_leak_edge_cases():
    assert connection_pool_leak.detect(Inputs()) is None
    assert connection_pool_leak.detect(Inputs(logs=schema.empty_frame("parsed"), metrics=rds())) is None
    few = frame([{"timestamp": T0 + pd.Timedelta(seconds=i), "message": SQLA} for i in range(5)])
    f = connection_pool_leak.detect(Inputs(logs=few))
    assert f is not None and f.severity == "low" and f.confidence < 0.5


def test_emf_gauge_and_access_log_500s():
    logs, requests = leaky_app(gauge_fmt="emf", seed=5)
    u = sat.pool_usage(logs)
    assert u["pool"].nunique() == 3 and (u["size"] == 10).all()
    sig = sat.leak_signature(u, logs)
    assert sig["leak"].all()
    # the access-log 500s of the failed requests are not counted as exceptions that leak
    assert sig["leaked_per_exception"].between(0.5, 1.5).all()
    f = connection_pool_leak.detect(Inputs(logs=logs, requests=requests, metrics=rds(), settings=RDS_SETTINGS))
    assert f.confidence >= 0.85 and "not returned after exceptions" in f.title


def test_metric_gauge_stands_in_when_the_logs_have_none():
    logs, requests, gauge = leaky_app(gauge="metric", seed=6)
    assert sat.pool_usage(logs).empty
    u = sat.pool_usage_metrics(pd.concat([gauge, rds()], ignore_index=True))
    assert u["pool"].unique().tolist() == ['metric:Orders/DbPoolCheckedOut {"Service":"orders"}']
    f = connection_pool_leak.detect(Inputs(logs=logs, requests=requests, metrics=pd.concat([gauge, rds()]), settings=RDS_SETTINGS))
    assert f is not None and f.evidence["gauge_pool"].startswith("metric:") and f.evidence["step_ups"] >= 5
