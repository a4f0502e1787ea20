"""Throttling and retries: capacity, throttle lines, retry spacing, scan bursts, and their detectors."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from incidentkit import findings, schema
from incidentkit.analyses import throttling as th
from incidentkit.findings import Inputs

from _helpers.analysis import ODD_INPUTS, assert_detectors_survive

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


# --------------------------------------------------------------------------- throttle lines


@pytest.mark.parametrize(
    "text, code, op",
    [
        ("botocore.exceptions.ClientError: An error occurred (ThrottlingException) when calling the FilterLogEvents "
         "operation (reached max retries: 4): Rate exceeded", "ThrottlingException", "FilterLogEvents"),
        ("botocore.exceptions.ClientError: An error occurred (Throttling) when calling the GenerateCredentialReport "
         "operation (reached max retries: 4): Rate exceeded", "Throttling", "GenerateCredentialReport"),
        (PTE, "ProvisionedThroughputExceededException", None),
        ("operation error CloudWatch Logs: DescribeLogStreams, exceeded maximum number of attempts, 9, https response "
         "error StatusCode: 400, RequestID: 1c82, api error ThrottlingException: Rate exceeded", "ThrottlingException",
         "DescribeLogStreams"),
        ("2018-06-21 16:25:50 +0000 [error]: #0 unexpected error error_class=Aws::CloudWatchLogs::Errors::ThrottlingException "
         "error=\"Rate exceeded\"", "ThrottlingException", None),
        ("com.amazonaws.services.dynamodbv2.model.ProvisionedThroughputExceededException: ... (Service: AmazonDynamoDBv2; "
         "Status Code: 400; Error Code: ProvisionedThroughputExceededException)", "ProvisionedThroughputExceededException", None),
        ("S3 PutObject failed: SlowDown: Please reduce your request rate.", "SlowDown", None),
        ("ThrottlingException: Throughput exceeds the current capacity of your table or index. DynamoDB is automatically "
         "scaling your table or index so please try again shortly.", "ThrottlingException", None),
        ("TooManyRequestsException: Rate Exceeded.", "TooManyRequestsException", None),
    ],
)
def test_throttle_errors_recognise_real_sdk_texts(text, code, op):
    df = th.throttle_errors(logs_frame([{"timestamp": T0, "message": text}]))
    assert len(df) == 1
    assert df.loc[0, "error_code"] == code
    if op:
        assert df.loc[0, "operation"] == op


def test_throttle_errors_leave_ordinary_lines_alone():
    texts = [
        "observed a slowdown in checkout latency",
        "ScannedCount=120 Count=12",
        "QueuePool limit of size 5 overflow 10 reached, connection timed out, timeout 30.00",
        "Task timed out after 3.00 seconds",
        "rate limiter configured: 100 rps",
    ]
    df = th.throttle_errors(logs_frame([{"timestamp": T0, "message": t} for t in texts]))
    assert df.empty
    assert list(df.columns) == list(th.THROTTLE_ERROR_COLUMNS)


def test_throttle_errors_read_every_real_throttle_sample(aws_samples):
    lines = (aws_samples / "error_messages.txt").read_text().splitlines()
    df = th.throttle_errors(logs_frame([{"timestamp": T0, "message": m} for m in lines]))
    # lines 16-25 of the published file are throttling texts; 0-15 are timeouts and pool errors
    assert sorted(df["message"].tolist()) == sorted(lines[16:26])
    assert (df["sdk_retries"].dropna() >= 4).all()


def test_throttle_errors_use_status_429_error_type_and_attempt_columns():
    df = th.throttle_errors(
        logs_frame(
            [
                {"timestamp": T0, "message": "POST /v1/orders", "status": 429},
                {"timestamp": T0, "message": "put failed", "error_type": "ProvisionedThroughputExceededException", "attempt": 3},
                {"timestamp": T0, "message": "GET / 200", "status": 200},
            ]
        )
    )
    assert df["error_code"].tolist() == ["HTTP 429", "ProvisionedThroughputExceededException"]
    assert df["attempt"].tolist()[1] == 3


# --------------------------------------------------------------------------- retry spacing


def test_tight_loop_reads_as_no_backoff():
    spacing = th.retry_spacing(tight_loop_logs())
    assert len(spacing) == 120  # one call per item key, not one per request id
    assert (spacing["pattern"] == "no-backoff").mean() > 0.95
    s = th.retry_summary(spacing)
    assert s["verdict"] == "no-backoff"
    assert s["share_within_50ms"] == 1.0
    assert s["median_growth"] < 1.3


def test_text_item_keys_split_calls_too():
    spacing = th.retry_spacing(tight_loop_logs(fmt="text"))
    assert len(spacing) == 120
    assert th.retry_summary(spacing)["verdict"] == "no-backoff"


def test_full_jitter_backoff_reads_as_backoff():
    spacing = th.retry_spacing(backoff_logs())
    s = th.retry_summary(spacing)
    assert s["verdict"] == "backoff"
    assert s["median_growth"] >= 1.5
    assert s["share_within_50ms"] < 0.25


def test_legacy_dynamodb_backoff_50ms_doubling_is_backoff():
    rows = []
    for i in range(20):
        t = T0 + pd.Timedelta(seconds=i)
        for a in range(6):
            rows.append({"timestamp": t, "request_id": f"r{i}", "message": PTE})
            t = t + pd.Timedelta(seconds=0.05 * 2**a + 0.006)
    s = th.retry_summary(th.retry_spacing(logs_frame(rows)))
    assert s["verdict"] == "backoff"
    assert 1.8 < s["median_growth"] < 2.2


def test_fixed_delay_is_not_called_no_backoff():
    rows = []
    for i in range(10):
        t = T0 + pd.Timedelta(seconds=10 * i)
        for a in range(4):
            rows.append({"timestamp": t + pd.Timedelta(seconds=a), "request_id": f"r{i}", "message": "Rate exceeded"})
    s = th.retry_summary(th.retry_spacing(logs_frame(rows)))
    assert s["verdict"] == "fixed-delay"


def test_attempt_numbers_untangle_interleaved_calls():
    # two calls of one invocation, interleaved: attempts 1,1,2,2,3,3 with growing gaps per call
    rows = []
    for call, offset in (("a", 0.0), ("b", 0.01)):
        t = 0.0
        for a in range(1, 5):
            rows.append({"timestamp": T0 + pd.Timedelta(seconds=t + offset), "request_id": "inv-1",
                         "message": f"Rate exceeded, retry {a}"})
            t += 0.2 * 2**a
    spacing = th.retry_spacing(logs_frame(rows))
    assert spacing["attempts"].tolist() == [4, 4]
    assert (spacing["pattern"] == "exponential").all()


def test_unkeyed_bursts_are_marked_interleaved_and_left_out():
    rows = [{"timestamp": T0 + pd.Timedelta(milliseconds=3 * i), "request_id": "inv-1", "message": PTE} for i in range(300)]
    spacing = th.retry_spacing(logs_frame(rows))
    assert spacing["interleaved"].all()
    assert th.retry_summary(spacing)["verdict"] == "insufficient"


def test_explicit_key_and_missing_key_column():
    logs = tight_loop_logs(20)
    logs["job_item"] = logs["message"].str.extract(r"order#(\d+)", expand=False)
    assert len(th.retry_spacing(logs, key="job_item")) == 20
    with pytest.raises(ValueError, match="not in the logs"):
        th.retry_spacing(logs, key="nope")


def test_retry_spacing_empty_inputs_keep_columns():
    for logs in (None, pd.DataFrame(), healthy_logs().iloc[0:0]):
        out = th.retry_spacing(logs)
        assert out.empty and list(out.columns) == list(th.RETRY_COLUMNS)
    assert th.retry_summary(th.retry_spacing(None))["verdict"] == "insufficient"


# --------------------------------------------------------------------------- capacity


def test_capacity_timeline_utilisation_and_settings_fallback():
    m = pd.concat(
        [
            metric("ConsumedWriteCapacityUnits", [3000, 6000, 6000]),
            metric("WriteThrottleEvents", [0, 1500, 9000]),
            metric("ConsumedReadCapacityUnits", [600, 600, 600]),
            metric("ThrottledRequests", [0, 40, 90], dims={"TableName": "orders", "Operation": "BatchWriteItem"}),
            metric("ThrottledRequests", [0, 0, 7], dims={"TableName": "orders", "Operation": "Query"}),
        ]
    )
    settings = pd.DataFrame(
        {"resource_type": "dynamodb:table", "resource_id": "arn:aws:dynamodb:us-east-1:1:table/orders",
         "setting": ["WriteCapacityUnits", "ReadCapacityUnits", "BillingMode"], "value": ["100", "50", "PROVISIONED"]}
    )
    cap = th.capacity_timeline(m, settings)
    assert list(cap.columns) == list(th.CAPACITY_COLUMNS)
    w = cap[cap["kind"] == "write"].reset_index(drop=True)
    assert w["utilisation"].round(3).tolist() == [0.5, 1.0, 1.0]
    assert w["throttle_ratio"].round(3).tolist() == [0.0, 0.25, 1.5]
    assert w["throttled_requests"].tolist() == [0, 40, 90]
    assert (w["capacity_source"] == "settings").all()
    r = cap[cap["kind"] == "read"].reset_index(drop=True)
    assert r["utilisation"].round(3).tolist() == [0.2, 0.2, 0.2]
    assert r["throttled_requests"].tolist() == [0, 0, 7]


def test_capacity_timeline_on_demand_has_no_utilisation():
    m = pd.concat([metric("ConsumedWriteCapacityUnits", [3000]), metric("WriteThrottleEvents", [10])])
    settings = pd.DataFrame({"resource_id": "orders", "setting": ["BillingMode"], "value": ["PAY_PER_REQUEST"]})
    cap = th.capacity_timeline(m, settings)
    assert cap.loc[0, "capacity_source"] == "on-demand"
    assert np.isnan(cap.loc[0, "utilisation"])


def test_capacity_timeline_selects_by_metric_not_query_id_and_handles_empty():
    m = metric("ProvisionedWriteCapacityUnits", [100], stat="Average")
    m["query_id"] = "whatever_the_fetcher_called_it"
    m2 = pd.concat([m, metric("ConsumedWriteCapacityUnits", [6000])])
    assert th.capacity_timeline(m2).loc[0, "utilisation"] == 1.0
    for empty in (None, pd.DataFrame(), metric("CPUUtilization", [1.0], ns="AWS/EC2")):
        out = th.capacity_timeline(empty)
        assert out.empty and list(out.columns) == list(th.CAPACITY_COLUMNS)


# --------------------------------------------------------------------------- detector: no backoff


def batch_metrics():
    return pd.concat(
        [
            metric("ConsumedWriteCapacityUnits", [0, 6000, 6000, 6000, 300], start=T0 - pd.Timedelta(minutes=1)),
            metric("ProvisionedWriteCapacityUnits", [100] * 5, stat="Average", start=T0 - pd.Timedelta(minutes=1)),
            metric("WriteThrottleEvents", [0, 480000, 510000, 90000, 0], start=T0 - pd.Timedelta(minutes=1)),
        ]
    )


def test_detect_throttling_without_backoff_positive():
    f = th.detect_throttling_without_backoff(Inputs(logs=tight_loop_logs(), metrics=batch_metrics()))
    assert f is not None and f.id == "throttling-without-backoff"
    assert f.severity == "high"
    assert f.confidence >= 0.75
    assert f.evidence["share_gaps_within_50ms"] == 1.0
    assert f.evidence["retried_calls"] == 120
    assert f.evidence["peak_utilisation"] == 1.0
    assert f.evidence["provisioned_units_per_s"] == 100
    assert f.evidence["top_operation"] == "PutItem"
    text = " ".join(f.remediation)
    assert "adaptive" in text and "UnprocessedItems" in text and "PAY_PER_REQUEST" in text
    assert f.onset is not None and f.onset.startswith("2026-03-02T09:00")


def test_detect_throttling_without_backoff_logs_only_still_finds_it():
    f = th.detect_throttling_without_backoff(Inputs(logs=tight_loop_logs(fmt="text")))
    assert f is not None and f.confidence >= 0.6


def test_healthy_window_raises_nothing():
    healthy_metrics = pd.concat(
        [
            metric("ConsumedWriteCapacityUnits", [1200] * 60),
            metric("ProvisionedWriteCapacityUnits", [100] * 60, stat="Average"),
            metric("WriteThrottleEvents", [0] * 10 + [3] + [0] * 30 + [2] + [0] * 18),
        ]
    )
    inputs = Inputs(logs=healthy_logs(), metrics=healthy_metrics)
    assert th.detect_throttling_without_backoff(inputs) is None
    inputs.requests = schema.empty_frame("requests")
    got = findings.detect(inputs, only=["throttling-without-backoff", "scan-read-burst"])
    assert not got.errors
    assert not got.at_least("medium")


def test_heavy_throttling_with_proper_backoff_is_not_this_finding():
    inputs = Inputs(logs=backoff_logs(n_calls=200), metrics=batch_metrics())
    assert th.detect_throttling_without_backoff(inputs) is None


def test_metrics_only_extreme_throttle_ratio_gives_a_weaker_finding():
    f = th.detect_throttling_without_backoff(Inputs(metrics=batch_metrics()))
    assert f is not None
    assert f.severity == "medium" and f.confidence <= 0.45
    assert f.evidence["peak_throttle_to_capacity"] == 85.0
    mild = pd.concat([metric("ConsumedWriteCapacityUnits", [6000]), metric("ProvisionedWriteCapacityUnits", [100], stat="Average"),
                      metric("WriteThrottleEvents", [900])])
    assert th.detect_throttling_without_backoff(Inputs(metrics=mild)) is None


def test_no_backoff_detector_edge_cases():
    assert th.detect_throttling_without_backoff(Inputs()) is None
    assert th.detect_throttling_without_backoff(Inputs(logs=healthy_logs().iloc[:0])) is None
    only_noise = logs_frame([{"timestamp": T0, "message": "hello"}])
    assert th.detect_throttling_without_backoff(Inputs(logs=only_noise, metrics=pd.DataFrame())) is None


def test_no_backoff_ranks_first_through_detect():
    got = findings.detect(Inputs(logs=tight_loop_logs(), metrics=batch_metrics(), requests=schema.empty_frame("requests")),
                          only=["throttling-without-backoff", "scan-read-burst"])
    assert got.top is not None and got.top.id == "throttling-without-backoff"


# --------------------------------------------------------------------------- scans and read bursts


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


def test_read_bursts_find_the_nightly_scan():
    m, logs = report_days()
    b = th.read_bursts(m, logs)
    assert list(b.columns) == list(th.READ_BURST_COLUMNS)
    assert len(b) == 3
    assert (b["time_of_day"] == "02:00").all()
    assert b["recurring"].all() and (b["days_seen"] == 3).all()
    # the report's start line plus its 25 throttled Scan pages, each night; Query lines are not scans
    assert (b["scan_lines"] == 26).all() and (b["scan_lines_total"] == 78).all()
    assert (b["scan_p_value"] < 1e-6).all()
    assert (b["duration_s"] == 600).all()
    assert b["peak_read_utilisation"].max() == 1.0
    assert (b["read_error_lines"] == 25).all()
    assert b["share_of_read_throttles"].round(3).tolist() == [0.333] * 3


def test_scan_operations_match_forms_and_skip_scanned_counts():
    logs = logs_frame(
        [
            {"timestamp": T0, "message": "boto: calling the Scan operation"},
            {"timestamp": T0, "message": "await client.send(new ScanCommand({TableName: 'orders'}))"},
            {"timestamp": T0, "message": "items = table.scan(Limit=100)"},
            {"timestamp": T0, "message": "ScannedCount=5 Count=5"},
            {"timestamp": T0, "message": "scanning inbox"},
            {"timestamp": T0, "message": "x", "operation": "scan"},
        ]
    )
    assert len(th.scan_operations(logs)) == 4


def test_detect_scan_read_burst_positive():
    m, logs = report_days()
    f = th.detect_scan_read_burst(Inputs(metrics=m, logs=logs))
    assert f is not None and f.id == "scan-read-burst"
    assert f.severity == "high"
    assert f.confidence >= 0.8
    e = f.evidence
    assert e["table"] == "orders" and e["time_of_day_utc"] == "02:00"
    assert e["days_with_burst_at_this_time"] == 3
    assert e["share_of_read_throttles"] == 1.0
    assert e["share_of_time"] < 0.02
    assert e["write_throttle_events_in_burst"] == 0
    assert "Query" in f.remediation[0] and "Limit" in f.remediation[1]


def test_single_day_scan_burst_explained_by_scan_lines():
    m, logs = report_days(days=1)
    f = th.detect_scan_read_burst(Inputs(metrics=m, logs=logs))
    assert f is not None and f.severity == "high"
    assert f.evidence["days_with_burst_at_this_time"] == 1
    assert f.evidence["scan_lines_in_burst"] == 26


PROGRESS_FORMATS = {
    "python logging": "2026-03-01 02:00:{s:02d},123 INFO report: scanning orders, page {k} (1000 items)",
    "node console JSON": '{{"level":30,"msg":"scanned {k}000 records from orders","segment":0,"totalSegments":1}}',
    "java slf4j": "02:00:{s:02d}.123 [main] INFO  c.a.r.ReportJob - Scan segment 2/4 of table orders: batch {k} done",
    "pagination keys only": '{{"event":"page","n":{k},"LastEvaluatedKey":{{"pk":"o#{k}"}}}}',
}


@pytest.mark.parametrize("fmt", sorted(PROGRESS_FORMATS))
def test_a_scanning_job_that_logs_its_own_progress_is_recognised(fmt):
    """The job logs its own progress, never a DynamoDB client line (no 'operation', no SDK text)."""
    m, _ = report_days(days=1, scans=False, failing_reads=False)
    t0 = pd.Timestamp("2026-03-01T02:00:00Z")
    rows = [{"timestamp": t0 + pd.Timedelta(seconds=10 * k), "request_id": "rep-1", "log_group": "/aws/lambda/nightly-report",
             "message": PROGRESS_FORMATS[fmt].format(k=k, s=min(59, 10 * k))} for k in range(1, 25)]
    rng = np.random.default_rng(2)
    rows += [{"timestamp": pd.Timestamp("2026-03-01T00:00:00Z") + pd.Timedelta(seconds=float(rng.uniform(0, 86400))),
              "request_id": f"q{k}", "log_group": "/aws/lambda/orders-api",
              "message": "Query orders by customer returned 12 items, ScannedCount=12, LastEvaluatedKey none"} for k in range(300)]
    logs = logs_frame(rows)
    scans = th.scan_operations(logs)
    assert len(scans) == 24 and set(scans["log_group"]) == {"/aws/lambda/nightly-report"}, "a Query's pages are not a Scan"
    f = th.detect_scan_read_burst(Inputs(metrics=m, logs=logs))
    assert f is not None and f.title.startswith("Scan-shaped read burst") and f.severity == "medium"


def test_unexplained_burst_is_low_and_scattered_throttles_raise_nothing():
    m, _ = report_days(days=1)
    f = th.detect_scan_read_burst(Inputs(metrics=m))
    assert f is not None and f.severity == "low"
    # healthy: a few read throttles scattered over the day, no scans
    n = 288
    reads = np.zeros(n)
    reads[[20, 90, 150, 230]] = [2, 1, 3, 1]
    healthy = metric("ReadThrottleEvents", reads, start=pd.Timestamp("2026-03-01T00:00Z"), period=300)
    assert th.detect_scan_read_burst(Inputs(metrics=healthy, logs=healthy_logs())) is None
    # spread throttling (no concentration) is not scan-shaped either
    spread = metric("ReadThrottleEvents", np.where(np.arange(n) % 3 == 0, 60.0, 0.0), start=pd.Timestamp("2026-03-01T00:00Z"), period=300)
    assert th.detect_scan_read_burst(Inputs(metrics=spread)) is None


def test_scan_detector_edge_cases():
    assert th.detect_scan_read_burst(Inputs()) is None
    assert th.detect_scan_read_burst(Inputs(logs=healthy_logs())) is None
    assert th.read_bursts(None).empty
    assert list(th.read_bursts(pd.DataFrame()).columns) == list(th.READ_BURST_COLUMNS)


def sparse_report(with_logs=True):
    """CloudWatch publishes ReadThrottleEvents only for minutes that had throttles; the report is an EventBridge cron."""
    start = pd.Timestamp("2026-03-09T04:30:00Z")
    consumed = np.full(120, 1500.0)
    consumed[90:102] = 24000.0
    m = pd.concat([
        metric("ConsumedReadCapacityUnits", consumed, start=start),
        metric("ProvisionedReadCapacityUnits", [400] * 120, start=start, stat="Average"),
        metric("ReadThrottleEvents", [4, 204, 240, 211, 204, 283, 194, 189, 223, 182, 213, 109],
               start=start + pd.Timedelta(minutes=91)),
    ])
    settings = pd.DataFrame({"resource_type": "AWS::Events::Rule",
                             "resource_id": "arn:aws:events:eu-central-1:1:rule/daily-sales-report",
                             "setting": ["ScheduleExpression", "State"], "value": ["cron(0 6 * * ? *)", "ENABLED"]})
    logs = logs_frame([{"timestamp": start + pd.Timedelta(minutes=90, seconds=s),
                        "message": f"Scan page {s}: Count=1000 ScannedCount=1000 LastEvaluatedKey present"} for s in range(0, 600, 20)])
    return m, settings, (logs if with_logs else None)


def test_sparse_throttle_datapoints_use_the_table_span_and_the_cron_schedule():
    m, settings, logs = sparse_report()
    b = th.read_bursts(m, logs, settings=settings)
    assert len(b) == 1
    assert b.loc[0, "time_share"] == pytest.approx(0.1)  # 12 of the 120 minutes the table's metrics cover
    assert b.loc[0, "schedule"] == "daily-sales-report cron(0 6 * * ? *)"
    f = th.detect_scan_read_burst(Inputs(metrics=m, logs=logs, settings=settings))
    assert f is not None and f.confidence >= 0.85 and f.evidence["schedule"] == "daily-sales-report cron(0 6 * * ? *)"
    m, settings, _ = sparse_report(with_logs=False)
    f = th.detect_scan_read_burst(Inputs(metrics=m, settings=settings))
    assert f is not None and f.severity == "medium"  # the schedule alone explains it
    other = settings.assign(value=["cron(30 22 * * ? *)", "ENABLED"])
    assert th.detect_scan_read_burst(Inputs(metrics=m, settings=other)).severity == "low"


def test_cron_schedules():
    s = pd.DataFrame({"resource_id": ["r/a", "r/b", "r/c", "r/d"], "setting": "ScheduleExpression",
                      "value": ["cron(0/15 8-9 ? * MON-FRI *)", "rate(1 day)", "cron(* * * * ? *)", "cron(5 1,13 * * ? *)"]})
    got = {rid: sorted(m) for rid, _, m in th._schedules(s)}
    assert got == {"r/a": [480, 495, 510, 525, 540, 555, 570, 585], "r/d": [65, 785]}


def test_sdk_retries_off_and_the_change_that_raised_concurrency():
    logs = tight_loop_logs(60, fmt="text")
    logs["message"] = logs["message"].str.replace(
        PTE, "An error occurred (ProvisionedThroughputExceededException) when calling the BatchWriteItem operation "
             "(reached max retries: 0): The level of configured provisioned throughput for the table was exceeded.", regex=False)
    changes = schema.conform(pd.DataFrame({
        "timestamp": pd.to_datetime(["2026-03-01T16:42:19Z", "2026-03-02T08:30:00Z"], utc=True),
        "event_name": ["UpdateEventSourceMapping20150331", "PutMetricAlarm"], "class": ["CONFIG_CHANGE", "CONFIG_CHANGE"],
        "actor": ["arn:aws:sts::1:assumed-role/Dev/tom", "arn:aws:iam::1:user/ops"], "resource": ["esm-1", "cpu"],
        "detail": ['{"params":{"scalingConfig":{"maximumConcurrency":100}}}', "{}"]}), "changes")
    f = th.detect_throttling_without_backoff(Inputs(logs=logs, metrics=batch_metrics(), changes=changes))
    assert f.evidence["sdk_retries_off"] is True and f.evidence["share_lines_sdk_retried"] == 0.0
    assert "switched off" in f.summary and "max_attempts 1" in f.remediation[0]
    assert [c["event_name"] for c in f.related_changes] == ["UpdateEventSourceMapping20150331"]
    # the same spacing with the SDK reporting its own retries (it backed off before giving up) is less certain
    sdk = logs.assign(message=logs["message"].str.replace("max retries: 0", "max retries: 9", regex=False))
    g = th.detect_throttling_without_backoff(Inputs(logs=sdk, metrics=batch_metrics()))
    assert g.confidence < f.confidence and g.evidence["sdk_retries_off"] is False


@pytest.mark.parametrize("case", sorted(ODD_INPUTS))
def test_detectors_survive_odd_frames(case):
    assert_detectors_survive((th.detect_throttling_without_backoff, th.detect_scan_read_burst), ODD_INPUTS[case])


def test_public_names_are_pinned():
    assert sorted(th.__all__) == ['CAPACITY_COLUMNS', 'READ_BURST_COLUMNS', 'RETRY_COLUMNS', 'SAME_TIME_OF_DAY', 'SCAN_BURST_CHANGES', 'SCAN_COLUMNS', 'THROTTLE_ERROR_COLUMNS', 'THROTTLING_CHANGES', 'TIGHT_GAP_S', 'capacity_timeline', 'detect_scan_read_burst', 'detect_throttling_without_backoff', 'read_bursts', 'retry_spacing', 'retry_summary', 'scan_operations', 'schedule_recurrence', 'throttle_errors']
    for name in th.__all__:
        assert hasattr(th, name)


def test_docstring_examples_run():
    import doctest

    result = doctest.testmod(th, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
