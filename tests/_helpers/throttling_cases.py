"""Evidence frames shared by the throttling analysis tests and the tests of the detectors built on them."""

from __future__ import annotations

import json
import numpy as np
import pandas as pd


T0 = pd.Timestamp("2026-03-02T09:00:00Z")


PTE = (
    "ProvisionedThroughputExceededException: The level of configured provisioned throughput for the table "
    "was exceeded. Consider increasing your provisioning level with the UpdateTable API."
)


def metric(name, values, *, start=T0, period=60, dims=None, stat="Sum", ns="AWS/DynamoDB"):
    ts = pd.date_range(start, periods=len(values), freq=f"{period}s")
    return pd.DataFrame(
        {
            "timestamp": ts,
            "query_id": [f"q_{name.lower()}"] * len(values),
            "label": name,
            "namespace": ns,
            "metric_name": name,
            "dimensions": json.dumps(dims or {"TableName": "orders"}, sort_keys=True, separators=(",", ":")),
            "stat": stat,
            "period": period,
            "value": np.asarray(values, dtype=float),
        }
    )


def logs_frame(rows):
    df = pd.DataFrame(rows)
    df["timestamp"] = pd.to_datetime(df["timestamp"], utc=True)
    return df


def tight_loop_logs(n_items=120, *, seed=1, fmt="json"):
    """Batch job retrying each throttled PutItem at once (round trip 4-20 ms), then failing."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n_items):
        t = T0 + pd.Timedelta(seconds=float(rng.uniform(0, 20)))
        attempts = int(rng.integers(4, 12))
        for a in range(attempts):
            t = t + pd.Timedelta(milliseconds=float(rng.uniform(4, 20)))
            if fmt == "json":
                msg = json.dumps({"level": "WARNING", "msg": PTE, "item_key": f"order#{i}", "table": "orders"})
            else:
                msg = f"put failed for key=order#{i}: {PTE}"
            rows.append({"timestamp": t, "request_id": "batch-7f3a", "operation": "PutItem",
                         "level": "WARN", "message": msg, "error_type": "ProvisionedThroughputExceededException"})
        rows.append({"timestamp": t + pd.Timedelta(milliseconds=2), "request_id": "batch-7f3a", "operation": "PutItem",
                     "level": "ERROR", "message": f"giving up on key=order#{i} after {attempts} attempts",
                     "error_type": None})
    return logs_frame(rows)


def backoff_logs(n_calls=40, *, seed=2, base=0.1, cap=20.0, start=T0, with_attempt=True):
    """Throttled calls retried with exponential backoff and full jitter (what botocore 'standard' does)."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n_calls):
        t = start + pd.Timedelta(seconds=float(rng.uniform(0, 600)))
        for a in range(1, int(rng.integers(3, 6)) + 1):
            rows.append({"timestamp": t, "request_id": f"req-{i}", "operation": "UpdateItem", "level": "WARN",
                         "message": f"ThrottlingException: Rate exceeded (attempt {a})" if with_attempt
                         else "ThrottlingException: Rate exceeded"})
            t = t + pd.Timedelta(seconds=float(rng.uniform(0, min(cap, base * 2 ** a))) + 0.008)
    return logs_frame(rows)


def healthy_logs(seed=3):
    """Normal traffic: info lines, a trickle of unrelated errors, two throttles retried with backoff."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(600):
        t = T0 + pd.Timedelta(seconds=float(rng.uniform(0, 3600)))
        rows.append({"timestamp": t, "request_id": f"r{i}", "level": "INFO", "operation": "GetItem",
                     "message": f"GET /orders/{i} 200 in {rng.integers(5, 60)} ms"})
    for i in range(5):
        rows.append({"timestamp": T0 + pd.Timedelta(minutes=7 * i), "request_id": f"e{i}", "level": "ERROR",
                     "message": "KeyError: 'customer_id'", "error_type": "KeyError"})
    for i, base in enumerate((0.05, 0.05)):
        t = T0 + pd.Timedelta(minutes=10 + 20 * i)
        for a in range(3):
            rows.append({"timestamp": t, "request_id": f"t{i}", "operation": "PutItem", "level": "WARN",
                         "message": f"An error occurred (ProvisionedThroughputExceededException) when calling the PutItem operation: {PTE}"})
            t = t + pd.Timedelta(seconds=base * 2 ** (a + 1))
    return logs_frame(rows)


def report_days(days=3, *, scans=True, failing_reads=True):
    """A daily 02:00 report scanning `orders`: read throttles for ~6 min each night."""
    metrics, rows = [], []
    start = pd.Timestamp("2026-03-01T00:00:00Z")
    n = days * 24 * 12  # 5-minute bins
    ts = pd.date_range(start, periods=n, freq="5min")
    reads = np.zeros(n)
    consumed = np.full(n, 0.2 * 50 * 300)
    for d in range(days):
        i = d * 288 + 24  # 02:00
        reads[i:i + 2] = [2600, 900]
        consumed[i:i + 2] = 50 * 300
        if scans:
            rows.append({"timestamp": ts[i] - pd.Timedelta(seconds=40), "request_id": f"rep-{d}", "level": "INFO",
                         "operation": "Scan", "message": json.dumps({"msg": "daily report started", "operation": "Scan", "table_name": "orders"})})
        if failing_reads:
            for k in range(25):
                rows.append({"timestamp": ts[i] + pd.Timedelta(seconds=5 * k), "request_id": f"rep-{d}", "level": "ERROR",
                             "message": f"An error occurred (ProvisionedThroughputExceededException) when calling the Scan operation "
                                        f"(reached max retries: 9): {PTE}"})
    rng = np.random.default_rng(5)
    for k in range(400):  # ordinary traffic, Query and GetItem
        t = start + pd.Timedelta(seconds=float(rng.uniform(0, days * 86400)))
        rows.append({"timestamp": t, "request_id": f"q{k}", "level": "INFO", "operation": "Query",
                     "message": "Query orders by customer returned 12 items, ScannedCount=12"})
    metrics = pd.concat(
        [
            metric("ReadThrottleEvents", reads, start=start, period=300),
            metric("ConsumedReadCapacityUnits", consumed, start=start, period=300),
            metric("ProvisionedReadCapacityUnits", [50] * n, start=start, period=300, stat="Average"),
            metric("WriteThrottleEvents", [0] * n, start=start, period=300),
        ]
    )
    return metrics, logs_frame(rows)
