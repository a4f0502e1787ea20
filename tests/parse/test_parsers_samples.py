"""Every published record of ``shared/reference/aws-samples`` parsed and checked against
``EXPECTED.json`` (skipped when the folder is absent)."""

from __future__ import annotations

import json
import math
import re
import warnings

import pandas as pd
import pytest

from incidentkit import parse as parsers, schema


def _lines(aws_samples, name: str) -> list[str]:
    path = aws_samples / name
    if not path.exists():
        pytest.skip(f"{name} is not among the published AWS records in {aws_samples}")
    return path.read_text().splitlines()


def _expected(expected_samples: dict, name: str) -> dict:
    if name not in expected_samples:
        pytest.skip(f"{name} has no entry in EXPECTED.json")
    return expected_samples[name]


def _parse(lines, **kw) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # none of the published records may be a parse error
        return parsers.parse(lines, **kw)


def _utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text).tz_localize("UTC") if pd.Timestamp(text).tzinfo is None else pd.Timestamp(text).tz_convert("UTC")


def _num(actual, expected) -> None:
    if expected is None:
        assert actual is pd.NA or actual is None or (isinstance(actual, float) and math.isnan(actual)), actual
    else:
        assert actual == pytest.approx(float(expected)), (actual, expected)


def _root(trace: str) -> str:
    m = re.search(r"Root=([^;]+)", trace)
    return m.group(1) if m else trace


_KIND = {
    "START": ("lambda_platform", "start"),
    "END": ("lambda_platform", "end"),
    "REPORT": ("lambda_platform", "report"),
    "XRAY": ("lambda_platform", "xray"),
    "INIT_START": ("lambda_platform", "init_start"),
    "TIMEOUT": ("lambda_platform", "timeout"),
    "APP": ("lambda_app", None),
}
_NUMERIC = ("duration_ms", "billed_duration_ms", "memory_size_mb", "max_memory_used_mb", "init_duration_ms")


def _check_lambda_line(row: pd.Series, exp: dict) -> None:
    fmt, rtype = _KIND[exp["kind"]]
    assert row["format"] == fmt
    if rtype:
        assert row["record_type"] == rtype
    if "request_id" in exp:
        assert row["request_id"] == exp["request_id"]
    for key in _NUMERIC:
        if key in exp:
            _num(row[key], exp[key])
    if "cold_start" in exp:
        assert bool(row["cold_start"]) is exp["cold_start"]
    if exp["kind"] == "REPORT":
        init = exp.get("init_duration_ms") or 0.0
        assert row["latency_ms"] == pytest.approx(exp["duration_ms"] + init)
    if "timed_out" in exp or exp.get("status") == "timeout" or exp["kind"] == "TIMEOUT":
        assert row["timed_out"] is True or row["timed_out"] == True
    if "trace_id" in exp:
        assert row["xray_trace_id"] == _root(exp["trace_id"])
    if "level" in exp:
        assert row["level"] == exp["level"]
    if "timestamp" in exp:
        assert row["timestamp"] == _utc(exp["timestamp"])
    if exp.get("out_of_memory"):
        assert row["record_type"] == "oom"
        assert row["error_type"] == "Runtime.OutOfMemory"


def test_lambda_platform_text(aws_samples, expected_samples):
    lines = _lines(aws_samples, "lambda_platform_text.log")
    exp = _expected(expected_samples, "lambda_platform_text.log")["lines"]
    df = _parse(lines)
    assert len(df) == len(lines) and df["message"].tolist() == lines
    assert set(exp) <= {str(i) for i in range(len(lines))}
    for i, e in exp.items():
        _check_lambda_line(df.iloc[int(i)], e)
    assert df.attrs["parse_stats"]["errors"] == 0


def test_lambda_sam_logs(aws_samples, expected_samples):
    lines = _lines(aws_samples, "lambda_sam_logs_tail.log")
    exp = _expected(expected_samples, "lambda_sam_logs_tail.log")["lines"]
    df = _parse(lines)
    for i, e in exp.items():
        row = df.iloc[int(i)]
        _check_lambda_line(row, e)
        assert row["log_stream"] == e["log_stream"]
        assert row["timestamp"] == _utc(e["timestamp"])  # sam prints naive times: read as UTC


_PLATFORM_TYPES = {
    "platform.initStart": "init_start",
    "platform.initReport": "init_report",
    "platform.start": "start",
    "platform.runtimeDone": "runtime_done",
    "platform.report": "report",
}


def test_lambda_platform_json(aws_samples, expected_samples):
    lines = _lines(aws_samples, "lambda_platform_json.jsonl")
    exp = _expected(expected_samples, "lambda_platform_json.jsonl")["lines"]
    df = _parse(lines)
    for i, e in exp.items():
        row = df.iloc[int(i)]
        assert row["format"] == "lambda_platform_json"
        assert row["record_type"] == _PLATFORM_TYPES[e["type"]]
        assert row["timestamp"] == _utc(e["time"])
        if "request_id" in e:
            assert row["request_id"] == e["request_id"]
        else:
            assert pd.isna(row["request_id"])
        for key in _NUMERIC:
            if key in e:
                _num(row[key], e[key])
        if "cold_start" in e:
            assert bool(row["cold_start"]) is e["cold_start"]
        if e.get("record_is_actually") == "platform.start":  # doc bug: no init metrics invented
            assert pd.isna(row["init_duration_ms"]) and pd.isna(row["cold_start"])
        if e["type"] == "platform.report":
            _num(row["latency_ms"], e["duration_ms"] + (e.get("init_duration_ms") or 0.0))
            assert bool(row["timed_out"]) is (e.get("status") == "timeout")
        if "trace_id" in e:
            assert row["xray_trace_id"] == _root(e["trace_id"])
        if "function_name" in e:
            assert row["function_name"] == e["function_name"]


def test_alb_access_log(aws_samples, expected_samples):
    lines = _lines(aws_samples, "alb_access_log.log")
    exp = _expected(expected_samples, "alb_access_log.log")["lines"]
    df = _parse(lines)
    for i, e in exp.items():
        row = df.iloc[int(i)]
        assert row["format"] == "alb_access"
        assert row["status"] == e["elb_status_code"]
        times = [e["request_processing_time"], e["target_processing_time"], e["response_processing_time"]]
        expected_latency = sum(times) * 1000 if min(times) >= 0 else float("nan")
        _num(row["latency_ms"], expected_latency)
        assert row["method"] == e["request_method"]
        assert row["route"] == re.sub(r"^[a-z]+://[^/]*", "", e["request_url"]).split("?")[0]
        assert row["client_ip"] == e["client_ip"]
        assert (row["user_agent"] if pd.notna(row["user_agent"]) else None) == e["user_agent"]
        assert row["xray_trace_id"] == _root(e["trace_id"])
        assert (row["error_type"] if pd.notna(row["error_type"]) else None) == e["error_reason"]
        assert row["timestamp"] == _utc(e["time"])
        assert bool(row["status"] >= 500) is e["is_5xx"]


def test_alb_not_dispatched_and_extra_fields(aws_samples):
    line = _lines(aws_samples, "alb_access_log.log")[0]
    parts = line.split(" ")
    parts[5:8] = ["-1", "-1", "-1"]  # could not dispatch
    df = _parse([" ".join(parts), line + ' "TID_123abc" "extra-field"'])  # AWS: ignore unexpected trailing fields
    assert math.isnan(df.at[0, "latency_ms"]) and df.at[0, "status"] == 200
    assert df.at[1, "format"] == "alb_access" and df.at[1, "latency_ms"] == pytest.approx(1.0)


def test_apigw_access_record(aws_samples, expected_samples):
    lines = _lines(aws_samples, "apigw_access_log_records.jsonl")
    e = _expected(expected_samples, "apigw_access_log_records.jsonl")["lines"]["0"]
    row = _parse(lines).iloc[0]
    assert row["format"] == "apigw_access" and row["record_type"] == "access"
    assert row["request_id"] == e["requestId"]
    assert row["client_ip"] == e["ip"]
    assert row["method"] == e["method"]
    assert row["route"] == e["resourcePath"]  # the template beats the concrete path
    assert row["status"] == e["status"]
    assert row["timestamp"] == pd.Timestamp(e["requestTimeEpoch_ms"], unit="ms", tz="UTC")


def test_apigw_access_record_clf_time_without_epoch(aws_samples, expected_samples):
    obj = json.loads(_lines(aws_samples, "apigw_access_log_records.jsonl")[0])
    obj.pop("requestTimeEpoch")
    e = _expected(expected_samples, "apigw_access_log_records.jsonl")["lines"]["0"]
    row = _parse([json.dumps(obj)]).iloc[0]
    assert row["timestamp"] == _utc(e["requestTime_utc"])


_CONTEXT = {
    "$context.identity.sourceIp": "203.0.113.7",
    "$context.identity.caller": "-",
    "$context.identity.user": "-",
    "$context.requestTime": "27/Oct/2023:13:40:57 +0000",
    "$context.httpMethod": "POST",
    "$context.resourcePath": "/orders/{id}",
    "$context.routeKey": "POST /orders/{id}",
    "$context.protocol": "HTTP/1.1",
    "$context.status": "504",
    "$context.responseLength": "41",
    "$context.requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
    "$context.extendedRequestId": "Ab1CdEfGhIjKlMn=",
}


def _render(template: str) -> str:
    for var in sorted(_CONTEXT, key=len, reverse=True):
        template = template.replace(var, _CONTEXT[var])
    return template


def test_apigw_documented_templates(aws_samples, expected_samples):
    templates = _lines(aws_samples, "apigw_access_log_format_templates.txt")
    exp = _expected(expected_samples, "apigw_access_log_format_templates.txt")["lines"]
    rendered = [_render(t) for t in templates]
    df = _parse(rendered)
    for i, e in exp.items():
        row = df.iloc[int(i)]
        if e["name"] == "XML":  # not a supported access-log shape: plain text, not an error
            assert row["format"] == "text" and not row["parse_error"]
            continue
        assert row["format"] == "apigw_access", (e, row["message"])
        assert row["status"] == 504
        assert row["method"] == "POST"
        assert row["route"] == "/orders/{id}"
        assert row["client_ip"] == "203.0.113.7"
        assert row["request_id"] == _CONTEXT["$context.requestId"]
        assert row["timestamp"] == pd.Timestamp("2023-10-27T13:40:57Z")


def test_vpc_flow_default(aws_samples, expected_samples):
    lines = _lines(aws_samples, "vpc_flow_log_default.log")
    exp = _expected(expected_samples, "vpc_flow_log_default.log")["lines"]
    df = _parse(lines)
    for i, e in exp.items():
        row = df.iloc[int(i)]
        assert row["format"] == "vpc_flow"
        assert (row["client_ip"] if pd.notna(row["client_ip"]) else None) == e["srcaddr"]
        assert row["timestamp"] == _utc(e["start_iso"])
        assert row["record_type"] == (e["action"] or e["log_status"]).lower()


def test_cloudtrail_records(aws_samples, expected_samples):
    lines = _lines(aws_samples, "cloudtrail_records.jsonl")
    exp = _expected(expected_samples, "cloudtrail_records.jsonl")["lines"]
    df = _parse(lines)
    arns = parsers.extract(df, ["userIdentity.arn", "userIdentity.type"])
    for i, e in exp.items():
        row = df.iloc[int(i)]
        assert row["format"] == "cloudtrail"
        assert row["timestamp"] == _utc(e["eventTime"])
        assert row["service"] == e["eventSource"]
        assert row["operation"] == e["eventName"]
        assert (row["error_type"] if pd.notna(row["error_type"]) else None) == e["errorCode"]
        assert pd.notna(row["error_message"]) is e["errorMessage_present"]
        if "errorMessage" in e:
            assert row["error_message"] == e["errorMessage"]
        assert (row["request_id"] if pd.notna(row["request_id"]) else None) == e["requestID"]
        assert row["client_ip"] == e["sourceIPAddress"]
        assert row["user_agent"] == e["userAgent"]
        assert pd.isna(row["app_version"])  # a CloudTrail userAgent is the caller's SDK
        assert arns.at[int(i), "userIdentity.arn"] == e["userIdentity.arn"]
        assert arns.at[int(i), "userIdentity.type"] == e["userIdentity.type"]


def test_cloudtrail_lookup_events_response(aws_samples, expected_samples):
    path = aws_samples / "cloudtrail_lookup_events_response.json"
    if not path.exists():
        pytest.skip("no LookupEvents sample")
    e = _expected(expected_samples, "cloudtrail_lookup_events_response.json")["document"]
    doc = json.loads(path.read_text())
    inner = e["Events[0].CloudTrailEvent.parsed"]
    df = _parse([ev["CloudTrailEvent"] for ev in doc["Events"]])
    assert len(df) == e["events_count"]
    row = df.iloc[0]
    assert row["format"] == "cloudtrail" and row["record_type"] == "console_sign_in"
    assert row["operation"] == inner["eventName"] and row["service"] == inner["eventSource"]
    assert row["timestamp"] == _utc(inner["eventTime"])  # the inner record's time
    assert row["client_ip"] == inner["sourceIPAddress"]
    assert pd.isna(row["error_type"])
    assert parsers.extract(df, ["userIdentity.arn"]).iat[0, 0] == inner["userIdentity.arn"]


def test_filter_log_events_response_keeps_event_times(aws_samples, expected_samples):
    path = aws_samples / "cwlogs_filter_log_events_response.json"
    if not path.exists():
        pytest.skip("no FilterLogEvents sample")
    e = _expected(expected_samples, "cwlogs_filter_log_events_response.json")["document"]
    events = json.loads(path.read_text())["events"]
    frame = pd.DataFrame(
        {
            "timestamp": schema.utc([ev["timestamp"] for ev in events]),
            "ingestion_time": schema.utc([ev["ingestionTime"] for ev in events]),
            "log_group": pd.array(["/aws/lambda/api"] * len(events), dtype="string"),
            "log_stream": pd.array([ev["logStreamName"] for ev in events], dtype="string"),
            "event_id": pd.array([ev["eventId"] for ev in events], dtype="string"),
            "message": pd.array([ev["message"] for ev in events], dtype="string"),
        }
    )
    df = _parse(frame)
    assert list(df.columns) == list(schema.PARSED_COLUMNS)
    for i, ev in enumerate(e["events"]):
        assert df.at[i, "timestamp"] == _utc(ev["timestamp_iso"])
        assert df.at[i, "ingestion_time"] == _utc(ev["ingestionTime_iso"])
        assert df.at[i, "event_id"] == ev["eventId"] and df.at[i, "message"] == ev["message"]
        assert df.at[i, "format"] == "text" and df.at[i, "function_name"] == "api"


def test_error_messages(aws_samples, expected_samples):
    lines = _lines(aws_samples, "error_messages.txt")
    exp = _expected(expected_samples, "error_messages.txt")["lines"]
    df = _parse(lines)
    for i, e in exp.items():
        row = df.iloc[int(i)]
        cat = e["category"]
        if cat == "lambda_timeout":
            assert row["record_type"] == "timeout" and row["timed_out"] == True
            assert row["error_type"] == "Task timed out"
            assert f"{e['timeout_seconds']:.2f} seconds" in row["error_message"]
            if "request_id" in e:
                assert row["request_id"] == e["request_id"]
                assert row["timestamp"] == _utc(e["timestamp"])
        elif cat == "aws_throttling":
            assert row["error_type"].endswith(e["error_code"]), (row["error_type"], e)
            if "operation" in e:
                assert row["operation"] == e["operation"]
        elif cat == "db_pool_exhausted" and "exception" in e:
            assert row["error_type"] == e["exception"]
        assert not row["parse_error"]


def test_apigw_execution_log(aws_samples, expected_samples):
    lines = _lines(aws_samples, "apigw_execution_log_test_invoke.log")
    exp = _expected(expected_samples, "apigw_execution_log_test_invoke.log")["lines"]
    df = _parse(lines)
    for i, e in exp.items():
        row = df.iloc[int(i)]
        if "time" in e:
            assert row["format"] == "apigw_execution"
            assert row["timestamp"] == _utc(e["time"])
        if "status" in e:
            assert row["status"] == e["status"] and row["record_type"] == "method_completed"
