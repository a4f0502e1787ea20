"""Evidence frames shared by the saturation analysis tests and the tests of the detectors built on them."""

from __future__ import annotations

import json
import numpy as np
import pandas as pd


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
