"""Throttling and retries: capacity, throttle lines, retry spacing, scan bursts, and their detectors."""

from __future__ import annotations


import numpy as np
import pandas as pd
import pytest

from incidentkit.analyses import throttling as th
from incidentkit.analyses.retries import throttle_errors

from _helpers.throttling_cases import PTE, T0, backoff_logs, healthy_logs, logs_frame, metric, report_days, tight_loop_logs


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


# --------------------------------------------------------------------------- scans and read bursts


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


def test_cron_schedules():
    s = pd.DataFrame({"resource_id": ["r/a", "r/b", "r/c", "r/d"], "setting": "ScheduleExpression",
                      "value": ["cron(0/15 8-9 ? * MON-FRI *)", "rate(1 day)", "cron(* * * * ? *)", "cron(5 1,13 * * ? *)"]})
    got = {rid: sorted(m) for rid, _, m in th._schedules(s)}
    assert got == {"r/a": [480, 495, 510, 525, 540, 555, 570, 585], "r/d": [65, 785]}


def test_public_names_are_pinned():
    assert sorted(th.__all__) == ['CAPACITY_COLUMNS', 'ERROR_LEVELS', 'READ_BURST_COLUMNS', 'RETRY_COLUMNS', 'SAME_TIME_OF_DAY', 'SCAN_COLUMNS', 'THROTTLE_ERROR_COLUMNS', 'TIGHT_GAP_S', 'capacity_timeline', 'minute_of_day', 'read_bursts', 'retry_spacing', 'retry_spacing_of', 'retry_summary', 'scan_operations', 'schedule_recurrence', 'throttle_errors', 'throttle_frame', 'time_of_day_distance']
    for name in th.__all__:
        assert hasattr(th, name)


def test_docstring_examples_run():
    import doctest

    result = doctest.testmod(th, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


def test_throttle_lines_found_in_any_text_column_and_read_from_the_joined_text():
    t = pd.Timestamp("2026-03-01T03:00Z")
    logs = pd.DataFrame({
        "timestamp": [t, t + pd.Timedelta(seconds=1), t + pd.Timedelta(seconds=2), t + pd.Timedelta(seconds=3)],
        "message": pd.array(["put failed", "An error occurred (ThrottlingException) when calling the PutItem operation",
                             None, "all good"], dtype="string"),
        "error_type": pd.Categorical([None, "SlowDown", "ProvisionedThroughputExceededException", None]),
        "error_message": pd.array(["Rate exceeded", None, None, "throughput fine"], dtype="string"),
    })
    out = throttle_errors(logs)
    # row 0 only in error_message, row 1 in the message first (the leftmost match wins), row 2 in a category
    assert out["error_code"].tolist() == ["Rate exceeded", "ThrottlingException", "ProvisionedThroughputExceededException"]
    assert out["operation"].tolist()[1] == "PutItem" and out["message"].isna().tolist() == [False, False, True]
