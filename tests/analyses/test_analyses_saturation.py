"""Saturation: pool errors, the pool gauge, the leak signature, database headroom and the leak detector."""

from __future__ import annotations

import json

import numpy as np
import math
import pandas as pd
import pytest

from incidentkit.analyses import saturation as sat

from _helpers.saturation_cases import RDS_SETTINGS, SQLA, T0, frame, leaky_app, rds


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


def test_a_brief_cpu_peak_still_leaves_headroom():
    m = rds()
    peak = (m["metric_name"] == "CPUUtilization") & (m["stat"] == "Maximum")
    m.loc[m.index[peak][:3], "value"] = 75.0
    h = sat.db_headroom(m, RDS_SETTINGS).iloc[0]
    assert h["cpu_max"] == 75.0 and h["state"] == "headroom"


def test_public_names_are_pinned():
    assert sorted(sat.__all__) == ['DB_COLUMNS', 'LEAK_COLUMNS', 'POOL_ERROR_COLUMNS', 'POOL_USAGE_COLUMNS', 'db_headroom', 'exception_lines', 'leak_signature', 'leak_signature_of', 'pool_error_rows', 'pool_errors', 'pool_usage', 'pool_usage_metrics']
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


def test_pool_errors_found_in_any_text_column():
    t = pd.Timestamp("2026-03-01T03:00Z")
    logs = pd.DataFrame({
        "timestamp": [t, t + pd.Timedelta(seconds=1), t + pd.Timedelta(seconds=2)],
        "message": pd.array(["request failed", None, "ok"], dtype="string"),
        "error_type": pd.Categorical([None, "OperationalError", None]),
        "error_message": pd.array(["HikariPool-1 - Connection is not available, request timed out after 30014ms.",
                                   "FATAL: sorry, too many clients already", None], dtype="string"),
    })
    out = sat.pool_errors(logs)
    assert out[["library", "kind"]].values.tolist() == [["hikaricp", "pool-timeout"], ["postgresql", "server-limit"]]
    assert out["timeout_s"].tolist()[0] == 30.014 and out["message"].tolist()[0] == "request failed"
