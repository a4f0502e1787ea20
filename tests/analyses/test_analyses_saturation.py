"""Saturation: pool errors, the pool gauge, the leak signature, database headroom and the leak detector."""

from __future__ import annotations

import json

import numpy as np
import math
import pandas as pd
import pytest

from incidentkit import findings, schema
from incidentkit.analyses import saturation as sat
from incidentkit.findings import Inputs

from _helpers.analysis import ODD_INPUTS, assert_detectors_survive

T0 = pd.Timestamp("2026-03-04T08:00:00Z")
SQLA = ("sqlalchemy.exc.TimeoutError: QueuePool limit of size 5 overflow 5 reached, connection timed out, timeout 30.00 "
        "(Background on this error at: https://sqlalche.me/e/20/3o7r)")


def frame(rows):
    df = pd.DataFrame(rows)
    df["timestamp"] = pd.to_datetime(df["timestamp"], utc=True)
    return df


def metric(name, values, *, start=T0, period=60, dims=None, stat="Average", ns="AWS/RDS"):
    ts = pd.date_range(start, periods=len(values), freq=f"{period}s")
    return pd.DataFrame({"timestamp": ts, "query_id": "q", "label": name, "namespace": ns, "metric_name": name,
                         "dimensions": json.dumps(dims or {"DBInstanceIdentifier": "orders-db"}, separators=(",", ":")),
                         "stat": stat, "period": period, "value": np.asarray(values, dtype=float)})


def rds(cpu=20.0, conns=36.0, n=150, seed=0):
    rng = np.random.default_rng(seed)
    return pd.concat([
        metric("CPUUtilization", rng.normal(cpu, 2, n).clip(1, 100)),
        metric("CPUUtilization", rng.normal(cpu + 8, 3, n).clip(1, 100), stat="Maximum"),
        metric("DatabaseConnections", rng.normal(conns, 2, n).clip(0), stat="Maximum"),
    ], ignore_index=True)


RDS_SETTINGS = pd.DataFrame({"resource_type": "rds_instance", "resource_id": "orders-db", "setting": ["max_connections"], "value": ["400"]})


def leaky_app(*, tasks=3, minutes=120, seed=1, leak=True, size=10, gauge=True, gauge_fmt="json"):
    """Web tasks whose exception path keeps a pooled connection (incident 4), one log stream per task."""
    rng = np.random.default_rng(seed)
    rows, requests, gauges = [], [], []
    for task in range(tasks):
        stream = f"web/web/{task:032x}"
        leaked = 0
        exc_minutes = set(rng.choice(np.arange(5, minutes - 5), size=14, replace=False).tolist())
        for minute in range(minutes):
            t = T0 + pd.Timedelta(minutes=minute)
            if minute in exc_minutes:
                rows.append({"timestamp": t + pd.Timedelta(seconds=5), "log_stream": stream, "level": "ERROR",
                             "request_id": f"x{task}-{minute}", "error_type": "psycopg2.errors.UniqueViolation",
                             "message": "Traceback (most recent call last):\n  File \"app.py\", line 88, in create_order\n"
                                        "psycopg2.errors.UniqueViolation: duplicate key value violates unique constraint \"orders_pkey\""})
                # the access log's line for the same failed request: a consequence, not a second exception
                rows.append({"timestamp": t + pd.Timedelta(seconds=5), "log_stream": stream, "level": "ERROR", "status": 500,
                             "request_id": f"x{task}-{minute}", "message": json.dumps({"message": "POST /orders 500", "status": 500})})
                if leak:
                    leaked = min(size, leaked + 1)
            busy = int(rng.integers(0, 3))
            in_use = min(size, leaked + busy)
            if gauge is True:
                if gauge_fmt == "json":
                    msg = json.dumps({"level": "INFO", "msg": "pool stats", "pool_in_use": in_use, "pool_size": size})
                elif gauge_fmt == "emf":
                    msg = json.dumps({"_aws": {"Timestamp": int(t.timestamp() * 1000), "CloudWatchMetrics": [
                        {"Namespace": "Orders", "Dimensions": [["Service"]], "Metrics": [{"Name": "DbPoolCheckedOut"}]}]},
                        "Service": "orders", "DbPoolCheckedOut": in_use, "DbPoolSize": size})
                else:
                    msg = f"HikariPool-1 - Pool stats (total={size}, active={in_use}, idle={size - in_use}, waiting=0)"
                rows.append({"timestamp": t + pd.Timedelta(seconds=30), "log_stream": stream, "level": "INFO", "message": msg})
            for k in range(20):
                rid = f"r{task}-{minute}-{k}"
                ts = t + pd.Timedelta(seconds=3 * k + 1)
                requests.append({"timestamp": ts, "request_id": rid, "status": 200})
                if leaked >= size - 1 and rng.random() < 0.6:
                    rows.append({"timestamp": ts, "log_stream": stream, "level": "ERROR", "request_id": rid, "message": SQLA,
                                 "error_type": "sqlalchemy.exc.TimeoutError"})
                    rows.append({"timestamp": ts, "log_stream": stream, "level": "ERROR", "status": 500, "request_id": rid,
                                 "message": json.dumps({"message": "POST /orders 500", "status": 500})})
                    requests[-1]["status"] = 500
            gauges.append({"timestamp": t + pd.Timedelta(seconds=30), "task": task, "in_use": in_use})
    if gauge == "metric":  # what an EMF/PutMetricData gauge looks like once CloudWatch aggregates the tasks
        g = pd.DataFrame(gauges).groupby("timestamp")["in_use"].agg(["min", "mean"])
        ts = g.index.floor("1min")
        metric_rows = pd.concat([
            pd.DataFrame({"timestamp": ts, "namespace": "Orders", "metric_name": "DbPoolCheckedOut",
                          "dimensions": '{"Service":"orders"}', "stat": stat, "period": 60, "value": g[col].to_numpy()})
            for stat, col in (("Minimum", "min"), ("Average", "mean"))], ignore_index=True)
        metric_rows["timestamp"] = pd.to_datetime(metric_rows["timestamp"], utc=True)
        return frame([r for r in rows if "pool" not in str(r.get("message"))]), frame(requests), metric_rows
    return frame(rows), frame(requests)


# --------------------------------------------------------------------------- pool errors and gauge


@pytest.mark.parametrize(
    "text, library, kind, size, timeout",
    [
        (SQLA, "sqlalchemy", "pool-timeout", 5, 30.0),
        ("QueuePool limit of size 1 overflow 1 reached, connection timed out, timeout 30 (Background on this error at: http://sqlalche.me/e/3o7r)",
         "sqlalchemy", "pool-timeout", 1, 30.0),
        ("Caused by: java.sql.SQLTransientConnectionException: HikariPool-1 - Connection is not available, request timed out after 30014ms.",
         "hikaricp", "pool-timeout", None, 30.014),
        ("Caused by: java.sql.SQLTransientConnectionException: My Connection Pool - Connection is not available, request timed out after 30000ms.",
         "hikaricp", "pool-timeout", None, 30.0),
        ("HikariPool-2 - Connection is not available, request timed out after 5001ms (total=10, active=10, idle=0, waiting=12)",
         "hikaricp", "pool-timeout", 10, 5.001),
        ("Error: timeout exceeded when trying to connect", "node-postgres", "pool-timeout", None, None),
        ("psycopg_pool.PoolTimeout: couldn't get a connection after 30.00 sec", "psycopg-pool", "pool-timeout", None, 30.0),
        ("FATAL:  remaining connection slots are reserved for non-replication superuser connections", "postgresql", "server-limit", None, None),
        ("pymysql.err.OperationalError: (1040, 'Too many connections')", "mysql", "server-limit", None, None),
        ("Connection terminated due to connection timeout", "node-postgres", "connect-timeout", None, None),
    ],
)
def test_pool_errors_read_the_real_texts(text, library, kind, size, timeout):
    df = sat.pool_errors(frame([{"timestamp": T0, "message": text}]))
    assert len(df) == 1
    row = df.iloc[0]
    assert (row["library"], row["kind"]) == (library, kind)
    assert (np.isnan(row["pool_size"]) if size is None else row["pool_size"] == size)
    assert (np.isnan(row["timeout_s"]) if timeout is None else row["timeout_s"] == pytest.approx(timeout))


def test_pool_errors_published_samples(aws_samples):
    lines = (aws_samples / "error_messages.txt").read_text().splitlines()
    df = sat.pool_errors(frame([{"timestamp": T0, "message": m} for m in lines]))
    # lines 5-12 are pool checkout timeouts, 14 node-postgres' pool timeout, 15 its connect timeout
    assert sorted(df["message"].tolist()) == sorted(lines[5:13] + lines[14:16])
    assert set(df["kind"]) == {"pool-timeout", "connect-timeout"}


def test_pool_errors_ignore_ordinary_lines_and_keep_columns():
    texts = ["Task timed out after 3.00 seconds", "connected to pool orders-db", "ThrottlingException: Rate exceeded",
             "GET /health 200 in 3 ms"]
    df = sat.pool_errors(frame([{"timestamp": T0, "message": t} for t in texts]))
    assert df.empty and list(df.columns) == list(sat.POOL_ERROR_COLUMNS)
    assert sat.pool_errors(None).empty


def test_pool_usage_reads_fields_and_library_texts():
    logs = frame([
        {"timestamp": T0, "log_stream": "a", "message": json.dumps({"msg": "pool", "pool_in_use": 7, "pool_size": 10})},
        {"timestamp": T0, "log_stream": "b", "message": "Pool size: 5  Connections in pool: 0 Current Overflow: 5 Current Checked out connections: 10"},
        {"timestamp": T0, "log_stream": "c", "message": "pg pool totalCount=20 idleCount=4 waitingCount=9"},
        {"timestamp": T0, "log_stream": "d", "message": "db pool in use: 3"},
        {"timestamp": T0, "log_stream": "e", "message": "tick", "checkedout": 6},
        {"timestamp": T0, "log_stream": "f", "message": "HikariPool-1 - Timeout failure stats (total=10, active=10, idle=0, waiting=0)"},
        {"timestamp": T0, "log_stream": "g", "message": "user active=true"},
    ])
    u = sat.pool_usage(logs).set_index("pool")
    assert u.loc["a", "in_use"] == 7 and u.loc["a", "size"] == 10
    assert u.loc["b", "in_use"] == 10 and u.loc["b", "size"] == 10 and u.loc["b", "idle"] == 0
    assert u.loc["c", "in_use"] == 16 and u.loc["c", "waiting"] == 9
    assert u.loc["d", "in_use"] == 3
    assert u.loc["e", "in_use"] == 6
    assert u.loc["f/HikariPool-1", "in_use"] == 10
    assert "g" not in u.index


# --------------------------------------------------------------------------- leak signature


def test_leak_signature_on_a_leaking_pool():
    logs, _ = leaky_app()
    sig = sat.leak_signature(sat.pool_usage(logs), logs)
    assert len(sig) == 3
    assert sig["leak"].all()
    assert (sig["final_in_use"] >= 9).all() and (sig["baseline_in_use"] <= 1).all()
    assert (sig["exception_share"] >= 0.8).all()
    assert sig["leaked_per_exception"].between(0.5, 1.5).all()  # about one connection kept per exception
    assert sig["chance_share"].between(0, 1).all()
    assert not sig["returned_to_baseline"].any()


def test_a_healthy_pool_that_returns_to_idle_is_not_a_leak():
    logs, _ = leaky_app(leak=False)
    sig = sat.leak_signature(sat.pool_usage(logs), logs)
    assert not sig["leak"].any()
    assert sig["returned_to_baseline"].all()
    assert (sig["leaked"] <= 0).all()


def test_load_ramp_without_exceptions_is_not_attributed_to_exceptions():
    t = pd.date_range(T0, periods=60, freq="1min")
    level = np.repeat([1, 3, 5, 7], 15) + np.tile([0, 1], 30)
    use = pd.DataFrame({"timestamp": t, "pool": "web-1", "in_use": level.astype(float), "size": 20.0,
                        "idle": np.nan, "waiting": np.nan})
    sig = sat.leak_signature(use)
    assert sig.loc[0, "step_ups_after_exception"] == 0
    assert sat.detect_connection_pool_leak(Inputs(logs=frame([{"timestamp": T0, "message": "x"}]))) is None


def test_leak_signature_empty_and_short():
    assert list(sat.leak_signature(sat.pool_usage(None)).columns) == list(sat.LEAK_COLUMNS)
    few = pd.DataFrame({"timestamp": pd.date_range(T0, periods=3, freq="1min"), "pool": "p", "in_use": [1.0, 2, 3],
                        "size": 5.0, "idle": np.nan, "waiting": np.nan})
    assert sat.leak_signature(few).empty


# --------------------------------------------------------------------------- database headroom


def test_db_headroom_states():
    h = sat.db_headroom(rds(), RDS_SETTINGS).iloc[0]
    assert h["state"] == "headroom" and h["max_connections"] == 400 and h["connection_use"] < 0.15
    busy = sat.db_headroom(rds(cpu=93.0, conns=390.0), RDS_SETTINGS).iloc[0]
    assert busy["state"] == "cpu-saturated"
    near = sat.db_headroom(rds(cpu=40.0, conns=380.0), RDS_SETTINGS).iloc[0]
    assert near["state"] == "connections-near-max"
    formula = RDS_SETTINGS.assign(value="{DBInstanceClassMemory/9531392}")
    assert np.isnan(sat.db_headroom(rds(), formula).iloc[0]["max_connections"])
    assert sat.db_headroom(None).empty and list(sat.db_headroom(pd.DataFrame()).columns) == list(sat.DB_COLUMNS)


# --------------------------------------------------------------------------- detector


def test_detect_connection_pool_leak_incident4():
    logs, requests = leaky_app()
    inputs = Inputs(logs=logs, requests=requests, metrics=rds(), settings=RDS_SETTINGS)
    f = sat.detect_connection_pool_leak(inputs)
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
    f = sat.detect_connection_pool_leak(Inputs(logs=logs))
    assert f is not None and f.evidence["library"] == "hikaricp"
    assert "leakDetectionThreshold" in f.remediation[0]
    assert f.confidence >= 0.65


def test_pool_errors_without_gauge_with_idle_database_is_a_likely_leak():
    logs, requests = leaky_app(gauge=False)
    f = sat.detect_connection_pool_leak(Inputs(logs=logs, requests=requests, metrics=rds(), settings=RDS_SETTINGS))
    assert f is not None
    assert 0.5 <= f.confidence <= 0.65  # no gauge: pool errors + idle database + exceptions first
    assert "likely" in f.title and "log the pool's in-use count" in f.summary


def test_traffic_growth_lowers_confidence():
    logs, requests = leaky_app()
    base = sat.detect_connection_pool_leak(Inputs(logs=logs, requests=requests, metrics=rds(), settings=RDS_SETTINGS))
    late = requests["timestamp"] > T0 + pd.Timedelta(minutes=96)
    busier = pd.concat([requests, requests[late].assign(request_id=lambda d: d["request_id"] + "b"),
                        requests[late].assign(request_id=lambda d: d["request_id"] + "c")], ignore_index=True)
    f = sat.detect_connection_pool_leak(Inputs(logs=logs, requests=busier, metrics=rds(), settings=RDS_SETTINGS))
    assert f.evidence["traffic_growth"] >= 2.5
    assert f.confidence == pytest.approx(base.confidence - 0.1)


def test_saturated_database_is_not_called_a_leak():
    logs, requests = leaky_app(gauge=False)
    inputs = Inputs(logs=logs, requests=requests, metrics=rds(cpu=94.0, conns=395.0), settings=RDS_SETTINGS)
    assert sat.detect_connection_pool_leak(inputs) is None


def test_healthy_app_raises_nothing():
    logs, requests = leaky_app(leak=False)
    logs = pd.concat([logs, frame([{"timestamp": T0 + pd.Timedelta(minutes=30), "log_stream": "web/web/0", "level": "ERROR",
                                     "message": SQLA}])], ignore_index=True)  # one stray pool timeout
    inputs = Inputs(logs=logs, requests=requests, metrics=rds(), settings=RDS_SETTINGS)
    assert sat.detect_connection_pool_leak(inputs) is None
    got = findings.detect(inputs, only=["connection-pool-leak"])
    assert not got.errors and not got.at_least("medium")


def test_pool_leak_edge_cases():
    assert sat.detect_connection_pool_leak(Inputs()) is None
    assert sat.detect_connection_pool_leak(Inputs(logs=schema.empty_frame("parsed"), metrics=rds())) is None
    few = frame([{"timestamp": T0 + pd.Timedelta(seconds=i), "message": SQLA} for i in range(5)])
    f = sat.detect_connection_pool_leak(Inputs(logs=few))
    assert f is not None and f.severity == "low" and f.confidence < 0.5


def test_emf_gauge_and_access_log_500s():
    logs, requests = leaky_app(gauge_fmt="emf", seed=5)
    u = sat.pool_usage(logs)
    assert u["pool"].nunique() == 3 and (u["size"] == 10).all()
    sig = sat.leak_signature(u, logs)
    assert sig["leak"].all()
    # the access-log 500s of the failed requests are not counted as exceptions that leak
    assert sig["leaked_per_exception"].between(0.5, 1.5).all()
    f = sat.detect_connection_pool_leak(Inputs(logs=logs, requests=requests, metrics=rds(), settings=RDS_SETTINGS))
    assert f.confidence >= 0.85 and "not returned after exceptions" in f.title


def test_metric_gauge_stands_in_when_the_logs_have_none():
    logs, requests, gauge = leaky_app(gauge="metric", seed=6)
    assert sat.pool_usage(logs).empty
    u = sat.pool_usage_metrics(pd.concat([gauge, rds()], ignore_index=True))
    assert u["pool"].unique().tolist() == ['metric:Orders/DbPoolCheckedOut {"Service":"orders"}']
    f = sat.detect_connection_pool_leak(Inputs(logs=logs, requests=requests, metrics=pd.concat([gauge, rds()]), settings=RDS_SETTINGS))
    assert f is not None and f.evidence["gauge_pool"].startswith("metric:") and f.evidence["step_ups"] >= 5


def test_a_brief_cpu_peak_still_leaves_headroom():
    m = rds()
    peak = (m["metric_name"] == "CPUUtilization") & (m["stat"] == "Maximum")
    m.loc[m.index[peak][:3], "value"] = 75.0
    h = sat.db_headroom(m, RDS_SETTINGS).iloc[0]
    assert h["cpu_max"] == 75.0 and h["state"] == "headroom"


@pytest.mark.parametrize("case", sorted(ODD_INPUTS))
def test_detectors_survive_odd_frames(case):
    assert_detectors_survive((sat.detect_connection_pool_leak,), ODD_INPUTS[case])


def test_public_names_are_pinned():
    assert sorted(sat.__all__) == ['DB_COLUMNS', 'LEAK_COLUMNS', 'POOL_ERROR_COLUMNS', 'POOL_LEAK_CHANGES', 'POOL_USAGE_COLUMNS', 'db_headroom', 'detect_connection_pool_leak', 'leak_signature', 'pool_errors', 'pool_usage', 'pool_usage_metrics']
    for name in sat.__all__:
        assert hasattr(sat, name)


def test_docstring_examples_run():
    import doctest

    result = doctest.testmod(sat, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


def test_pool_errors_without_request_ids_are_not_a_zero_share_of_requests() -> None:
    """Error lines that carry no request id cannot be linked to requests: the share is unknown, not 0 %."""
    from incidentkit.analyses._common import request_share

    requests = pd.DataFrame({"request_id": ["a", "b", "c", "d"]})
    assert math.isnan(request_share(requests, pd.Series([None, None], dtype="string")))
    assert request_share(requests, pd.Series(["a", None], dtype="string")) == 0.25
    assert request_share(requests, pd.Series(["zz"], dtype="string")) == 0.0
