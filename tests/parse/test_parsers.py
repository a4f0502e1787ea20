"""parsers.parse / parsers.requests / parsers.extract, useragent and emf: formats, aliases,
field maps, malformed lines, mixed groups, engines, and properties."""

from __future__ import annotations

import gc
import json
import warnings

import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from incidentkit.parse import _frame, _json, emf, useragent
from incidentkit import parse as parsers, schema
from incidentkit.errors import IncompleteDataWarning, ParameterError, ParseError
from _helpers import ROOT

RID = "8f507cfc-1b2c-4697-b07a-ac58fc914c95"
RID2 = "57f231fb-1730-4395-85cb-4f71bd2b87b8"


def parse(lines, **kw) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IncompleteDataWarning)
        return parsers.parse(lines, **kw)


def report(rid=RID, dur=100.0, init=None, extra="", sep="\t"):
    line = f"REPORT RequestId: {rid}{sep}Duration: {dur:.2f} ms{sep}Billed Duration: {int(dur) + 1} ms{sep}Memory Size: 512 MB{sep}Max Memory Used: 90 MB{sep}"
    if init is not None:
        line += f"Init Duration: {init:.2f} ms{sep}"
    return line + extra


def events(messages, log_group="/aws/lambda/orders-api", start="2026-03-01T03:00:00Z") -> pd.DataFrame:
    n = len(messages)
    t0 = pd.Timestamp(start)
    return pd.DataFrame(
        {
            "timestamp": pd.Series([t0 + pd.Timedelta(seconds=i) for i in range(n)], dtype=schema.UTC_NS),
            "ingestion_time": pd.Series([t0 + pd.Timedelta(seconds=i + 1) for i in range(n)], dtype=schema.UTC_NS),
            "log_group": pd.array([log_group] * n, dtype="string"),
            "log_stream": pd.array(["2026/03/01/[$LATEST]abc"] * n, dtype="string"),
            "event_id": pd.array([str(i) for i in range(n)], dtype="string"),
            "message": pd.array(messages, dtype="string"),
        }
    )


# --------------------------------------------------------------------------- shape and contract


def test_columns_dtypes_and_order_are_the_contract():
    df = parse(events([report(), '{"level": "info", "status": 200}', "hello"]))
    assert list(df.columns) == list(schema.PARSED_COLUMNS)
    for col in schema.PARSED_COLUMNS:
        assert str(df[col].dtype) == schema.DTYPES[col], col
    assert df["message"].tolist()[2] == "hello"


@pytest.mark.parametrize("empty", [[], pd.Series([], dtype="string"), schema.empty_frame("events")])
def test_empty_input_gives_fixed_columns(empty):
    df = parsers.parse(empty)
    assert list(df.columns) == list(schema.PARSED_COLUMNS) and len(df) == 0
    assert str(df["timestamp"].dtype) == schema.UTC_NS and str(df["status"].dtype) == "Int64"
    assert df.attrs["parse_stats"] == {"events": 0, "parsed": 0, "errors": 0, "by_format": {}, "error_reasons": {}}


def test_series_and_list_inputs_agree_and_keep_order():
    lines = [f'{{"requestId": "r{i}", "status": {200 + i % 3}}}' if i % 2 else report(rid=f"r{i}", dur=i + 1.0) for i in range(50)]
    a, b = parse(lines), parse(pd.Series(lines, index=range(100, 150)))
    pd.testing.assert_frame_equal(a, b)
    assert a["request_id"].tolist() == [f"r{i}" for i in range(50)]


def test_bad_inputs_are_parameter_errors():
    with pytest.raises(ParameterError):
        parsers.parse("just one string")
    with pytest.raises(ParameterError):
        parsers.parse(pd.DataFrame({"text": ["x"]}))
    with pytest.raises(ParameterError):
        parsers.parse(["ok", 12])
    with pytest.raises(ParameterError):
        parsers.parse(["x"], format="nginx")


def test_input_attrs_are_kept_and_stats_added():
    ev = events(["{broken", report()])
    ev.attrs.update(schema.provenance("logs.events", api_calls=3, issues=["page 2 failed"]))
    with pytest.warns(IncompleteDataWarning, match="1 of 2 log lines could not be parsed"):
        df = parsers.parse(ev)
    assert df.attrs["api_calls"] == 3 and df.attrs["source"] == "logs.events"
    assert df.attrs["issues"][0] == "page 2 failed" and "could not be parsed" in df.attrs["issues"][1]
    stats = df.attrs["parse_stats"]
    assert stats["events"] == 2 and stats["parsed"] == 1 and stats["errors"] == 1
    assert stats["by_format"] == {"json": 1, "lambda_platform": 1}
    assert stats["error_reasons"] == {"invalid JSON: unexpected character, expected a string key": 1}


def test_event_columns_are_kept_and_function_name_comes_from_the_group():
    ev = events([report(), "plain text"], log_group="/aws/lambda/checkout")
    df = parse(ev)
    pd.testing.assert_series_equal(df["timestamp"], ev["timestamp"])
    assert df["event_id"].tolist() == ["0", "1"] and df["log_stream"].iat[0] == "2026/03/01/[$LATEST]abc"
    assert df["function_name"].tolist() == ["checkout", "checkout"]
    assert parse(events(["x"], log_group="/ecs/web"))["function_name"].isna().all()


def test_function_names_from_mixed_groups_in_many_batches(monkeypatch):
    """Each batch reads the names of its own rows' groups (threads, batches of 3): a record's own
    function name wins, other groups and missing groups give none, a parse error none."""
    groups = ["/aws/lambda/pay", "/ecs/web", None, "/aws/lambda/cart", "/aws/lambda/pay", "/aws/lambda/", "/aws/lambda/cart"] * 3
    lines = [report(), "plain", "plain", '{"function_name": "own"}', "{not json", "plain", "plain"] * 3
    ev = events(lines)
    ev["log_group"] = pd.array(groups, dtype="string")
    monkeypatch.setattr("incidentkit.parse._frame.BATCH", 3)
    monkeypatch.setenv("INCIDENTKIT_PARSE_THREADS", "2")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IncompleteDataWarning)
        got = parse(ev)["function_name"].astype("object").where(lambda s: s.notna(), None).tolist()
    assert got == ["pay", None, None, "own", None, "", "cart"] * 3
    assert parse(events(["x"], log_group="/aws/lambda/"))["function_name"].isna().all()  # no name in any group: none


# --------------------------------------------------------------------------- malformed lines


MALFORMED = {
    '{"level": "info", "status": 2': "invalid JSON",
    '{"a": 1} trailing': "invalid JSON",
    "{not json at all}": "invalid JSON",
    report().replace("Duration: 100.00", "Duration: abc", 1): "REPORT field 'Duration' is not a number",
    report().replace("Max Memory Used: 90", "Max Memory Used: lots"): "REPORT field 'Max Memory Used' is not a number",
    "REPORT RequestId: \tBilled Duration: 3 ms": "REPORT line without RequestId and Duration",
    "START RequestId:": "START line without RequestId",
    'http 2018-07-02T22:23:00.186641Z app/my-lb/50dc 192.168.1.1:2817 10.0.0.1:80 0.0 0.001 0.0 200 200 34 "GET / HTTP/1.1"': "ALB entry with missing or malformed fields",
    'http 2018-07-02T22:23:00.186641Z app/lb/1 1.2.3.4:1 - 0.0 0.001 0.0 2xx 200 34 366 "GET http://h:80/ HTTP/1.1" "curl/7" - - arn "Root=1-5" "-" "-" 0': "ALB entry with a non-numeric status or processing time",
    "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22": "VPC flow record with missing fields",
}


@pytest.mark.parametrize("line,reason", list(MALFORMED.items()))
def test_malformed_lines_are_marked_kept_and_counted(line, reason):
    good = '{"level": "info", "requestId": "r1"}'
    with pytest.warns(IncompleteDataWarning):
        df = parsers.parse([good, line, "free text is not an error"])
    assert df["parse_error"].tolist() == [False, True, False]
    assert df.at[1, "parse_error_reason"].startswith(reason), df.at[1, "parse_error_reason"]
    assert df.at[1, "message"] == line
    typed = [c for c in schema.PARSED_FIELDS if c not in ("format", "record_type", "parse_error", "parse_error_reason")]
    assert df.loc[1, typed].isna().all(), df.loc[1, typed][df.loc[1, typed].notna()]
    assert df.attrs["parse_stats"]["errors"] == 1 and df.at[0, "request_id"] == "r1"
    assert df.at[2, "format"] == "text"


def test_strict_raises_at_the_first_bad_line():
    with pytest.raises(ParseError) as err:
        parsers.parse(["fine", '{"a": ', "{nope"], strict=True)
    assert err.value.context["line"] == 1 and err.value.context["errors"] == 2
    assert "invalid JSON" in str(err.value)
    assert len(parsers.parse(["fine", report()], strict=True)) == 2


# --------------------------------------------------------------------------- Lambda


def test_report_variants():
    lines = [
        report(dur=15.74, init=130.49),
        report(dur=79.67, sep=" "),
        report(dur=79.67, sep="  "),
        f"REPORT RequestId: {RID}\tInit Duration: 48.26 ms\tDuration: 237.17 ms\tBilled Duration: 300 ms\tMemory Size: 128 MB\tMax Memory Used: 26 MB",
        report(dur=3000.0, extra="Status: timeout"),
        report(dur=10.0, extra="Status: error\tError Type: Runtime.OutOfMemory"),
        report(dur=12.5, init=None, extra="Restore Duration: 300.50 ms\tBilled Restore Duration: 120 ms"),
        report(dur=20.0, init=200.0, extra="\nXRAY TraceId: 1-5e34a614-10bdxmplf1fb44f07bc535a1\tSegmentId: 07f5xmpl2d1f6f85\tSampled: true"),
        report(dur=20.0, init=1234, extra="") .replace("1234.00", "1234"),
    ]
    df = parse(lines)
    assert (df["record_type"] == "report").all() and not df["parse_error"].any()
    assert df["duration_ms"].tolist() == [15.74, 79.67, 79.67, 237.17, 3000.0, 10.0, 12.5, 20.0, 20.0]
    assert df["init_duration_ms"].fillna(-1).tolist() == [130.49, -1, -1, 48.26, -1, -1, 300.5, 200.0, 1234.0]
    assert df["cold_start"].tolist() == [True, False, False, True, False, False, True, True, True]
    assert df["latency_ms"].tolist() == pytest.approx([146.23, 79.67, 79.67, 285.43, 3000.0, 10.0, 313.0, 220.0, 1254.0])
    assert df["timed_out"].tolist() == [False, False, False, False, True, False, False, False, False]
    assert df["error_type"].astype("string").fillna("").tolist() == ["", "", "", "", "Task timed out", "Runtime.OutOfMemory", "", "", ""]
    assert df.at[7, "xray_trace_id"] == "1-5e34a614-10bdxmplf1fb44f07bc535a1"
    assert df["memory_size_mb"].tolist() == [512.0, 512.0, 512.0, 128.0, 512, 512, 512, 512, 512]
    assert (df["request_id"] == RID).all()


_report_fields = st.fixed_dictionaries(
    {
        "rid": st.uuids().map(str),
        "dur": st.floats(0, 900_000).map(lambda x: round(x, 2)),
        "billed": st.integers(0, 900_000),
        "mem": st.sampled_from([128, 512, 10240]),
        "used": st.integers(1, 10240),
        "init": st.none() | st.floats(0, 10_000).map(lambda x: round(x, 2)),
        "status": st.sampled_from([None, "timeout", "error"]),
        "xray": st.booleans(),
    }
)


def _report_line(f: dict, sep: str) -> str:
    parts = [f"REPORT RequestId: {f['rid']}", f"Duration: {f['dur']:.2f} ms", f"Billed Duration: {f['billed']} ms", f"Memory Size: {f['mem']} MB", f"Max Memory Used: {f['used']} MB"]
    if f["init"] is not None:
        parts.append(f"Init Duration: {f['init']:.2f} ms")
    if f["status"]:
        parts.append(f"Status: {f['status']}")
    line = sep.join(parts) + sep
    if f["xray"]:
        line += f"\nXRAY TraceId: 1-5e34a614-10bdxmplf1fb44f07bc535a1{sep}SegmentId: 07f5xmpl2d1f6f85{sep}Sampled: true{sep}\n"
    return line


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_report_fields, min_size=1, max_size=12))
def test_report_fast_path_and_line_by_line_reader_agree(fields):
    tabs = parse([_report_line(f, "\t") for f in fields])  # vectorised TAB path
    spaces = parse([_report_line(f, "  ") for f in fields])  # read line by line
    cols = ["request_id", "duration_ms", "billed_duration_ms", "init_duration_ms", "memory_size_mb", "max_memory_used_mb", "latency_ms", "cold_start", "timed_out", "xray_trace_id"]
    pd.testing.assert_frame_equal(tabs[cols], spaces[cols])
    assert not tabs["parse_error"].any()
    assert tabs["duration_ms"].tolist() == [f["dur"] for f in fields]
    assert tabs["cold_start"].tolist() == [f["init"] is not None for f in fields]
    assert tabs["timed_out"].tolist() == [f["status"] == "timeout" for f in fields]
    assert tabs["init_duration_ms"].fillna(-1).tolist() == [-1 if f["init"] is None else f["init"] for f in fields]


def test_platform_lines_and_runtime_exits():
    lines = [
        f"START RequestId: {RID} Version: $LATEST",
        f"END RequestId: {RID}",
        "INIT_START Runtime Version: python:3.11.v14\tRuntime Version ARN: arn:aws:lambda:af-south-1::runtime:f718",
        "INIT_REPORT Init Duration: 10000.00 ms\tPhase: init\tStatus: timeout",
        "EXTENSION\tName: datadog-agent\tState: Ready\tEvents: [INVOKE,SHUTDOWN]",
        f"RequestId: {RID} Error: Runtime exited with error: signal: killed\nRuntime.ExitError",
        f"RequestId: {RID2} Error: Task timed out after 6.01 seconds",
        "XRAY TraceId: 1-5e34a614-10bdxmplf1fb44f07bc535a1\tSegmentId: 07f5xmpl2d1f6f85\tSampled: true",
    ]
    df = parse(lines)
    assert df["format"].eq("lambda_platform").all()
    assert df["record_type"].tolist() == ["start", "end", "init_start", "init_report", "extension", "oom", "timeout", "xray"]
    assert df["request_id"].fillna("").tolist() == [RID, RID, "", "", "", RID, RID2, ""]
    assert df.at[3, "init_duration_ms"] == 10000.0 and df.at[3, "timed_out"] == True
    assert df.at[5, "error_type"] == "Runtime.ExitError" and df.at[5, "level"] == "ERROR"
    assert df.at[6, "timed_out"] == True and df.at[6, "error_type"] == "Task timed out"
    assert df.at[7, "xray_trace_id"] == "1-5e34a614-10bdxmplf1fb44f07bc535a1"


def test_runtime_prefixes_python_node_java_with_text_json_and_traceback():
    lines = [
        f"[ERROR]\t2024-05-01T10:00:00.123Z\t{RID}\tdatabase unavailable",
        f"2024-05-01T10:00:00.456Z\t{RID}\tWARN\tslow call",
        f'2024-05-01T10:00:01.000Z\t{RID}\tINFO\t{{"level": "error", "status": 503, "route": "/pay", "version": "2.9.0"}}',
        f'[INFO]\t2024-05-01T10:00:01.500Z\t{RID2}\t{{"message": "done", "statusCode": "201"}}',
        "[ERROR] KeyError: 'order_id'\nTraceback (most recent call last):\n  File \"/var/task/app.py\", line 3, in handler\n    return event['order_id']",
        f"2024-05-01 10:00:02 {RID} INFO  OrderHandler - accepted",
        f"2024-05-01T10:00:03.000Z {RID} Task timed out after 3.00 seconds",
    ]
    df = parse(lines)
    assert df["format"].tolist() == ["lambda_app", "lambda_app", "app_json", "app_json", "traceback", "lambda_app", "lambda_platform"]
    assert df["request_id"].fillna("").tolist() == [RID, RID, RID, RID2, "", RID, RID]
    assert df["level"].tolist() == ["ERROR", "WARN", "ERROR", "INFO", "ERROR", "INFO", "ERROR"]
    assert df.at[2, "status"] == 503 and df.at[2, "app_version"] == "2.9.0" and df.at[3, "status"] == 201
    assert df.at[4, "error_type"] == "KeyError" and df.at[4, "error_message"] == "'order_id'"
    assert df.at[0, "timestamp"] == pd.Timestamp("2024-05-01T10:00:00.123Z")
    assert df.at[5, "timestamp"] == pd.Timestamp("2024-05-01T10:00:02Z")
    assert df.at[6, "record_type"] == "timeout" and df.at[6, "timed_out"] == True
    assert pd.isna(df.at[0, "error_type"]) and df.at[0, "error_message"] == "database unavailable"  # no exception class
    assert pd.isna(df.at[1, "error_message"])  # WARN: no error text


TRACEBACKS = [
    (
        (
            "Traceback (most recent call last):\n  File \"app.py\", line 9, in put\n    table.put_item(Item=item)\n"
            "botocore.errorfactory.ProvisionedThroughputExceededException: An error occurred (ProvisionedThroughputExceededException) "
            "when calling the PutItem operation (reached max retries: 9): Rate of requests exceeds the allowed throughput."
        ),
        "botocore.errorfactory.ProvisionedThroughputExceededException",
        "PutItem",
        "python",
    ),
    (
        (
            "Traceback (most recent call last):\n  File \"db.py\", line 3, in get\n    conn = pool.connect()\n"
            "sqlalchemy.exc.TimeoutError: QueuePool limit of size 5 overflow 10 reached, connection timed out, timeout 30.00"
        ),
        "sqlalchemy.exc.TimeoutError",
        None,
        "python",
    ),
    (
        (
            "Traceback (most recent call last):\n  File \"x.py\", line 1, in f\nKeyError: 'a'\n\nDuring handling of the above exception, another exception occurred:\n\n"
            "Traceback (most recent call last):\n  File \"x.py\", line 3, in g\nbotocore.exceptions.ClientError: An error occurred (ThrottlingException) when calling the Query operation: Rate exceeded"
        ),
        "ThrottlingException",
        "Query",
        "python",
    ),
    (
        (
            "org.springframework.jdbc.CannotGetJdbcConnectionException: Failed to obtain JDBC Connection\n\tat org.springframework.jdbc.datasource.DataSourceUtils.getConnection(DataSourceUtils.java:84)\n"
            "Caused by: java.sql.SQLTransientConnectionException: HikariPool-1 - Connection is not available, request timed out after 30000ms.\n\tat com.zaxxer.hikari.pool.HikariPool.createTimeoutException(HikariPool.java:696)"
        ),
        "java.sql.SQLTransientConnectionException",
        None,
        "java",
    ),
    (
        "Error: timeout exceeded when trying to connect\n    at Timeout._onTimeout (/var/task/node_modules/pg-pool/index.js:188:27)\n    at listOnTimeout (node:internal/timers:569:17)",
        "Error",
        None,
        "node",
    ),
]


@pytest.mark.parametrize("text,etype,op,lang", TRACEBACKS)
def test_multiline_tracebacks(text, etype, op, lang):
    row = parse([text]).iloc[0]
    assert row["format"] == "traceback" and row["record_type"] == lang and row["level"] == "ERROR"
    assert row["error_type"] == etype
    assert (row["operation"] if pd.notna(row["operation"]) else None) == op
    assert pd.notna(row["error_message"])


def test_mixed_lambda_group_keeps_order_and_joins_requests():
    lines = [
        "INIT_START Runtime Version: python:3.12.v30\tRuntime Version ARN: arn:aws:lambda:us-east-1::runtime:abc",
        f"START RequestId: {RID} Version: $LATEST",
        json.dumps({"level": "INFO", "location": "handler:12", "message": "charging", "timestamp": "2024-05-01 10:00:00,123+0000", "service": "payments",
                    "cold_start": True, "function_name": "payments", "function_request_id": RID, "xray_trace_id": "1-6630-abc", "route": "/pay",
                    "status": 502, "user_agent": "ShopApp/4.1.0 (Android 14) okhttp/4.12.0"}),
        f"[ERROR]\t2024-05-01T10:00:00.900Z\t{RID}\tpayment provider failed",
        "Traceback (most recent call last):\n  File \"pay.py\", line 4, in charge\nrequests.exceptions.ReadTimeout: HTTPSConnectionPool(host='psp', port=443): Read timed out.",
        f"END RequestId: {RID}",
        report(rid=RID, dur=2900.0, init=800.0),
        f"START RequestId: {RID2} Version: $LATEST",
        f"2024-05-01T10:00:05.000Z {RID2} Task timed out after 3.00 seconds",
        report(rid=RID2, dur=3000.0, extra="Status: timeout"),
        "plain line nobody formatted",
    ]
    df = parse(events(lines))
    assert len(df) == len(lines) and df["message"].tolist() == lines
    assert df["format"].tolist() == [
        "lambda_platform", "lambda_platform", "powertools", "lambda_app", "traceback", "lambda_platform",
        "lambda_platform", "lambda_platform", "lambda_platform", "lambda_platform", "text",
    ]
    assert df.at[2, "app_version"] == "4.1.0" and df.at[2, "xray_trace_id"] == "1-6630-abc"
    req = parsers.requests(df)
    assert req["request_id"].tolist() == [RID, RID2]
    first, second = req.iloc[0], req.iloc[1]
    assert first["status"] == 502 and first["route"] == "/pay" and first["app_version"] == "4.1.0"
    assert first["latency_ms"] == 3700.0 and first["duration_ms"] == 2900.0 and first["init_duration_ms"] == 800.0
    assert first["cold_start"] == True and first["timed_out"] == False
    assert first["function_name"] == "orders-api"  # the REPORT row's (from its log group)
    assert first["timestamp"] == df.at[0, "timestamp"] + pd.Timedelta(seconds=1)  # START row, the earliest of the request
    assert second["timed_out"] == True and second["error_type"] == "Task timed out" and second["cold_start"] == False
    stats = req.attrs["request_stats"]
    assert (stats["joined"], stats["standalone"], stats["by_tier"]) == (2, 0, {"invocation": 2})


# --------------------------------------------------------------------------- application JSON


@pytest.mark.parametrize(
    "record,field,value",
    [
        ({"status": 500}, "status", 500),
        ({"statusCode": "404"}, "status", 404),
        ({"status_code": 201.0}, "status", 201),
        ({"httpStatus": 302}, "status", 302),
        ({"http": {"status_code": 429}}, "status", 429),
        ({"http.status_code": 418}, "status", 418),
        ({"res": {"statusCode": 503}}, "status", 503),
        ({"status": "ok"}, "status", None),
        ({"latency": 12.5}, "latency_ms", 12.5),
        ({"latency_ms": 7}, "latency_ms", 7.0),
        ({"latencyMs": 8}, "latency_ms", 8.0),
        ({"duration": 100}, "latency_ms", 100.0),
        ({"durationMs": 101}, "latency_ms", 101.0),
        ({"duration_ms": 102}, "latency_ms", 102.0),
        ({"elapsed_ms": 103}, "latency_ms", 103.0),
        ({"response_time": 104}, "latency_ms", 104.0),
        ({"latency_s": 1.5}, "latency_ms", 1500.0),
        ({"duration_seconds": 0.25}, "latency_ms", 250.0),
        ({"response_time_sec": "2"}, "latency_ms", 2000.0),
        ({"durationSeconds": 3}, "latency_ms", 3000.0),
        ({"event": {"duration": 5_000_000}}, "latency_ms", 5.0),
        ({"responseTime": 42}, "latency_ms", 42.0),
        ({"version": "2.9.0"}, "app_version", "2.9.0"),
        ({"app_version": "3.0.1"}, "app_version", "3.0.1"),
        ({"appVersion": "1.2"}, "app_version", "1.2"),
        ({"client_version": "7"}, "app_version", "7"),
        ({"clientVersion": 8}, "app_version", "8"),
        ({"user_agent": "MyApp/2.9.0 (iOS 17)"}, "app_version", "2.9.0"),
        ({"userAgent": "okhttp/4.9.0"}, "app_version", None),
        ({"ua": "Mozilla/5.0 (Macintosh) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15"}, "app_version", None),
        ({"http": {"user_agent": "ShopApp/5.0.0"}}, "user_agent", "ShopApp/5.0.0"),
        ({"route": "/v1/orders/{id}"}, "route", "/v1/orders/{id}"),
        ({"path": "/v1/orders/7?expand=1"}, "route", "/v1/orders/7"),
        ({"url": "https://api.example.com/v1/cart#top"}, "route", "/v1/cart"),
        ({"endpoint": "/health"}, "route", "/health"),
        ({"routeKey": "GET /pets"}, "method", "GET"),
        ({"routeKey": "GET /pets"}, "route", "/pets"),
        ({"req": {"method": "post", "url": "/a"}}, "method", "POST"),
        ({"level": "WARNING"}, "level", "WARN"),
        ({"severity": "err"}, "level", "ERROR"),
        ({"levelname": "CRITICAL"}, "level", "FATAL"),
        ({"log": {"level": "debug"}}, "level", "DEBUG"),
        ({"log.level": "info"}, "level", "INFO"),
        ({"level": 50}, "level", "ERROR"),
        ({"level": 30}, "level", "INFO"),
        ({"level": 60}, "level", "FATAL"),
        ({"requestId": "a"}, "request_id", "a"),
        ({"request_id": "b"}, "request_id", "b"),
        ({"requestID": "c"}, "request_id", "c"),
        ({"awsRequestId": "d"}, "request_id", "d"),
        ({"correlation_id": "e"}, "request_id", "e"),
        ({"ip": "1.2.3.4"}, "client_ip", "1.2.3.4"),
        ({"sourceIp": "1.2.3.5"}, "client_ip", "1.2.3.5"),
        ({"errorType": "ValueError", "errorMessage": "bad"}, "error_type", "ValueError"),
        ({"error": {"type": "TimeoutError", "message": "slow"}}, "error_message", "slow"),
        ({"err": {"type": "Error", "message": "ECONNRESET"}}, "error_type", "Error"),
        ({"level": "error", "message": "An error occurred (ThrottlingException) when calling the Scan operation: Rate exceeded"}, "operation", "Scan"),
        ({"level": "error", "msg": "sqlalchemy.exc.TimeoutError: QueuePool limit"}, "error_type", "sqlalchemy.exc.TimeoutError"),
        ({"operation": "Scan"}, "operation", "Scan"),
        ({"service": "cart"}, "service", "cart"),
        ({"traceId": "Root=1-abc-def;Parent=1;Sampled=1"}, "xray_trace_id", "1-abc-def"),
    ],
)
def test_application_json_aliases(record, field, value):
    row = parse([json.dumps(record)]).iloc[0]
    assert not row["parse_error"]
    got = row[field]
    if value is None:
        assert pd.isna(got), got
    elif isinstance(value, float):
        assert got == pytest.approx(value)
    else:
        assert got == value


def test_a_client_address_loses_its_port_and_nothing_else():
    """Only an ``address:port`` loses its port; a bare IPv6 address (colons, no port), text and
    missing values pass unchanged, in their rows."""
    ips = ["10.0.3.4:51234", "1.2.3.4", "[2001:db8::7]:443", "2001:db8::7", None, "host:name", "10.0.0.1:123456", "[::1]:80"]
    got = parse([json.dumps({"ip": ip, "status": 200}) for ip in ips])["client_ip"].tolist()
    assert got == ["10.0.3.4", "1.2.3.4", "2001:db8::7", "2001:db8::7", pd.NA, "host:name", "10.0.0.1:123456", "::1"]


def test_same_record_through_python_and_arrow_engines():
    """The orjson fallback and the arrow path give the same frame (a varied corpus)."""
    lines = [json.dumps(r) for r in CORPUS] * 9 + [report(dur=float(i)) for i in range(5)]
    a = parse(lines, _engine="arrow")
    b = parse(lines, _engine="python")
    pd.testing.assert_frame_equal(a, b)


CORPUS = [
    {"level": "info", "status": 200, "latency_ms": 12.5, "route": "/a?x=1", "user_agent": "MyApp/1.0.0"},
    {"level": "ERROR", "status": "500", "message": "An error occurred (ThrottlingException) when calling the PutItem operation: slow down", "requestId": RID},
    {"severity": "warning", "http": {"status_code": 429, "method": "get", "url": "https://h/x"}, "duration_s": 0.5},
    {"level": 50, "msg": "boom", "err": {"type": "TypeError", "message": "x is undefined"}, "req": {"id": 7}, "time": 1714557600000},
    {"message": {"nested": "object message"}, "status": True, "cold_start": "true", "service": "svc", "function_name": "f"},
    {"type": "platform.report", "time": "2024-05-01T10:00:00Z", "record": {"requestId": RID, "metrics": {"durationMs": 5.5, "initDurationMs": 100}, "status": "timeout"}},
    {"eventVersion": "1.08", "eventTime": "2024-05-01T10:00:00Z", "eventSource": "ec2.amazonaws.com", "eventName": "RevokeSecurityGroupIngress", "errorCode": "Client.UnauthorizedOperation"},
    {"_aws": {"Timestamp": 1714557600000, "CloudWatchMetrics": [{"Namespace": "n", "Dimensions": [["service"]], "Metrics": [{"Name": "Latency", "Unit": "Milliseconds"}]}]}, "service": "a", "Latency": 3},
    {"requestId": "x-1", "ip": "1.1.1.1", "requestTime": "27/Oct/2023:13:40:57 +0000", "httpMethod": "GET", "resourcePath": "/r", "status": "200", "responseLatency": "31"},
    {"timestamp": "2024-05-01T10:00:00.000Z", "level": "INFO", "version": 3, "path": ["not", "a", "string"]},
]


def test_type_changes_across_rows_fall_back_without_loss():
    # "status" is a number in most rows and text in others, "message" sometimes an object:
    # the arrow reader refuses such a chunk, which is then read line by line
    lines = [json.dumps({"status": 200 + i % 5, "message": "ok"}) for i in range(500)]
    lines[250] = json.dumps({"status": "503", "message": {"detail": "object"}})
    lines[400] = json.dumps({"status": 504, "message": ["list"], "level": "error"})
    df = parse(lines)
    assert not df["parse_error"].any() and df["status"].notna().all()
    assert df.at[250, "status"] == 503 and df.at[400, "status"] == 504 and df.at[400, "level"] == "ERROR"
    assert df["status"].tolist()[:5] == [200, 201, 202, 203, 204]


def test_rare_keys_outside_the_sample_are_still_read():
    lines = [json.dumps({"level": "info", "status": 200}) for _ in range(3000)]
    lines[1777] = json.dumps({"level": "error", "status": 500, "errorType": "PoolTimeout", "app_version": "9.9.9"})
    df = parse(lines)
    assert df.at[1777, "error_type"] == "PoolTimeout" and df.at[1777, "app_version"] == "9.9.9"
    assert df["error_type"].notna().sum() == 1


def test_pretty_printed_and_whitespace_led_json():
    pretty = json.dumps({"level": "warn", "status": 404, "route": "/x"}, indent=2)
    df = parse([pretty, '   {"level": "info"}', "\t" + json.dumps({"status": 201})])
    assert df["format"].tolist() == ["app_json"] * 3 and not df["parse_error"].any()
    assert df.at[0, "status"] == 404 and df.at[1, "level"] == "INFO" and df.at[2, "status"] == 201


@pytest.mark.parametrize(
    "record,fields",
    [
        (  # Python
            {"level": "ERROR", "location": "h:1", "message": "failed", "timestamp": "2024-05-01 10:00:00,123+0000", "service": "payment",
             "cold_start": True, "function_name": "pay", "function_memory_size": 128, "function_arn": "arn:aws:lambda:...:pay",
             "function_request_id": RID, "xray_trace_id": "1-5759e988-bd862e3fe1be46a994272793", "exception": "Traceback...\nValueError: amount", "exception_name": "ValueError"},
            {"request_id": RID, "service": "payment", "cold_start": True, "function_name": "pay", "error_type": "ValueError", "level": "ERROR",
             "xray_trace_id": "1-5759e988-bd862e3fe1be46a994272793", "timestamp": pd.Timestamp("2024-05-01T10:00:00.123Z")},
        ),
        (  # TypeScript
            {"level": "ERROR", "message": "This is an ERROR log with some context", "sampling_rate": 0, "service": "serverlessAirline",
             "timestamp": "2021-12-12T21:49:58.084Z", "xray_trace_id": "abcdef123456abcdef123456abcdef123456", "cold_start": False,
             "function_name": "foo-bar-function", "function_request_id": "c6af9ac6-7b61-11e6-9a41-93e812345678",
             "error": {"name": "Error", "location": "/path/to/my/source-code/my.ts:18", "message": "Unexpected error #1", "stack": "Error: Unexpected error #1\n    at ..."}},
            {"error_type": "Error", "error_message": "Unexpected error #1", "cold_start": False, "service": "serverlessAirline"},
        ),
        (  # Java v2
            {"level": "INFO", "message": "Collecting payment", "cold_start": True, "function_arn": "arn:aws:lambda:eu-west-1:012345678910:function:pay",
             "function_memory_size": "512", "function_name": "pay", "function_request_id": "899856cb-83d1-40d7-8611-9e78f15f32f4",
             "function_version": "12", "sampling_rate": 0.1, "service": "payment", "timestamp": "2023-12-01T14:49:19.293Z"},
            {"request_id": "899856cb-83d1-40d7-8611-9e78f15f32f4", "function_name": "pay", "level": "INFO", "app_version": None},
        ),
        (  # Java v1 (camelCase)
            {"timestamp": "2020-05-24 18:17:33,774", "level": "INFO", "coldStart": True, "service": "payment", "samplingRate": 0.5,
             "message": "Collecting payment", "functionName": "test", "functionVersion": "1", "functionArn": "arn", "functionMemorySize": 128},
            {"cold_start": True, "function_name": "test", "timestamp": pd.Timestamp("2020-05-24T18:17:33.774Z")},
        ),
    ],
)
def test_powertools_variants(record, fields):
    row = parse([json.dumps(record)]).iloc[0]
    assert row["format"] == "powertools" and row["record_type"] == "log"
    for k, v in fields.items():
        assert (row[k] if not (v is None) else (None if pd.isna(row[k]) else row[k])) == v, (k, row[k])


# --------------------------------------------------------------------------- field map


def test_field_map_paths_units_and_lists():
    lines = [
        json.dumps({"resp": {"code": 503}, "t": 1.25, "meta": {"build": "4.2.0"}, "who": "svc-a", "lvl": "warn"}),
        json.dumps({"resp": {"code": "200"}, "t": 0.5, "v": "4.3.0", "status": 999}),
    ]
    fm = {"status": "resp.code", "latency_ms": ("t", "s"), "app_version": ["meta.build", "v"], "service": "who", "level": "lvl"}
    df = parse(lines, field_map=fm)
    assert df["status"].tolist() == [503, 200]  # the map beats the built-in "status"
    assert df["latency_ms"].tolist() == [1250.0, 500.0]
    assert df["app_version"].tolist() == ["4.2.0", "4.3.0"]
    assert df.at[0, "service"] == "svc-a" and df.at[0, "level"] == "WARN"
    plain = parse(lines)
    assert pd.isna(plain.at[0, "status"]) and plain.at[1, "status"] == 999


def test_field_map_record_time():
    df = parse([json.dumps({"when": 1714557600, "x": 1})], field_map={"timestamp": "when"})
    assert df.at[0, "timestamp"] == pd.Timestamp("2024-05-01T10:00:00Z")


@pytest.mark.parametrize(
    "fm",
    [{"format": "x"}, {"status": 3}, {"status": ("a", "s")}, {"latency_ms": ("a", "fortnights")}, {"status": ".a"}, ["status"]],
)
def test_field_map_errors_are_clear(fm):
    with pytest.raises(ParameterError):
        parsers.parse(["{}"], field_map=fm)


# --------------------------------------------------------------------------- timestamps


def test_record_time_when_events_have_none():
    lines = [
        json.dumps({"time": 1714557600000}),  # epoch ms
        json.dumps({"ts": 1714557600.5}),  # epoch s (zap)
        json.dumps({"timestamp": "2024-05-01T12:00:00+02:00"}),
        json.dumps({"@timestamp": "2024-05-01T10:00:00"}),  # naive: UTC
        json.dumps({"requestTimeEpoch": "1714557600000"}),
        "no time at all",
    ]
    df = parse(lines)
    expected = [pd.Timestamp("2024-05-01T10:00:00Z"), pd.Timestamp("2024-05-01T10:00:00.5Z")] + [pd.Timestamp("2024-05-01T10:00:00Z")] * 3
    assert df["timestamp"].tolist()[:5] == expected and pd.isna(df.at[5, "timestamp"])
    ev = events(lines)
    assert parse(ev)["timestamp"].equals(ev["timestamp"])  # the event's own time wins


# --------------------------------------------------------------------------- forced format


def test_forced_format_marks_other_lines():
    alb = 'http 2018-07-02T22:23:00.186641Z app/lb/50dc 1.2.3.4:2817 10.0.0.1:80 0.000 0.001 0.000 200 200 34 366 "GET http://h:80/ HTTP/1.1" "curl/7.46.0" - - arn:aws:elasticloadbalancing:us-east-2:1:targetgroup/t/7 "Root=1-58337262-36d228ad5d99923122bbe354"'
    with pytest.warns(IncompleteDataWarning):
        df = parsers.parse([alb, '{"status": 200}', report()], format="alb_access")
    assert df["parse_error"].tolist() == [False, True, True]
    assert df.at[1, "parse_error_reason"] == "not a alb_access record (looks like app_json)"
    assert pd.isna(df.at[1, "status"]) and pd.isna(df.at[2, "duration_ms"])
    j = parse(['{"status": 200}', '{"eventSource": "s", "eventName": "n", "eventTime": "2024-01-01T00:00:00Z"}', "text"], format="json")
    assert j["parse_error"].tolist() == [False, False, True]
    t = parse([report(), '{"status": 500}'], format="text")
    assert t["format"].tolist() == ["text", "text"] and t["status"].isna().all()


# --------------------------------------------------------------------------- scale paths


def test_batches_and_chunked_messages_keep_order(monkeypatch):
    monkeypatch.setattr(_frame, "BATCH", 1000)
    n = 4500
    lines = [report(rid=f"r{i}", dur=float(i)) if i % 3 == 0 else json.dumps({"requestId": f"r{i}", "status": 200 + i % 100}) for i in range(n)]
    pieces = [events(lines[a:b]) for a, b in ((0, 700), (700, 2600), (2600, n))]
    ev = pd.concat(pieces, ignore_index=True)  # arrow-backed messages in several chunks
    df = parse(ev)
    assert df["request_id"].tolist() == [f"r{i}" for i in range(n)]
    assert df.loc[df["record_type"] == "report", "duration_ms"].tolist() == [float(i) for i in range(0, n, 3)]
    assert df["status"].dropna().tolist() == [200 + i % 100 for i in range(n) if i % 3]


def test_threads_do_not_change_the_result(monkeypatch):
    monkeypatch.setattr(_frame, "BATCH", 500)
    lines = [json.dumps(r) for r in CORPUS] * 150 + [report(rid=f"r{i}", dur=float(i)) for i in range(300)] + ["text", "{bad"] * 50
    monkeypatch.setenv("INCIDENTKIT_PARSE_THREADS", "1")
    one = parse(lines)
    monkeypatch.setenv("INCIDENTKIT_PARSE_THREADS", "3")
    three = parse(lines)
    pd.testing.assert_frame_equal(one, three)
    assert one.attrs["parse_stats"] == three.attrs["parse_stats"] and one.attrs["parse_stats"]["errors"] == 50


def test_lone_surrogates_are_replaced_not_fatal():
    lines = ["broken emoji \ud83d here", json.loads('"\\udc00"'), b"\xff ok".decode("utf-8", "surrogateescape"), '{"status": 500, "m": "\udc9f"}']
    for source in (lines, pd.DataFrame({"message": pd.Series(lines, dtype="object")})):
        df = parse(source)
        assert df["message"].tolist() == ["broken emoji \ufffd here", "\ufffd", "\ufffd ok", '{"status": 500, "m": "\ufffd"}']
        assert df.at[3, "status"] == 500 and df.attrs["parse_stats"]["errors"] == 0


def test_object_dtype_messages_and_missing_event_columns():
    frame = pd.DataFrame({"message": pd.Series([report(), None, '{"status": 418}'], dtype="object")})
    df = parse(frame)
    assert list(df.columns) == list(schema.PARSED_COLUMNS)
    assert df["format"].tolist() == ["lambda_platform", "text", "app_json"] and df.at[2, "status"] == 418
    assert pd.isna(df.at[1, "message"]) and df["log_group"].isna().all()


def test_ingest_benchmark_runs_at_a_tiny_size(tmp_path):
    import subprocess
    import sys

    script = ROOT / "benchmarks" / "bench_ingest.py"
    out = subprocess.run(
        [sys.executable, str(script), "--events", "3000", "--repeat", "1", "--json", str(tmp_path / "r.json")],
        capture_output=True, text=True, timeout=600, check=False, env={**__import__("os").environ, "PYTHONWARNINGS": "ignore"},
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    assert "ratio: A / kit = " in out.stdout and "ratio: kit / B = " in out.stdout
    assert "ratio: peak RSS added / raw message bytes = " in out.stdout
    res = json.loads((tmp_path / "r.json").read_text())
    assert res["events"] == 3000 and res["memory"]["parsed_columns_mb"] > 0
    assert "kit parsed: 3,000 rows, 0 errors" in out.stdout


# --------------------------------------------------------------------------- requests


def test_requests_standalone_access_rows_and_precedence():
    apigw = json.dumps({"requestId": "api-1", "ip": "9.9.9.9", "httpMethod": "GET", "resourcePath": "/x", "status": "504", "responseLatency": "29001", "requestTime": "27/Oct/2023:13:40:57 +0000"})
    app_same = json.dumps({"requestId": "api-1", "level": "error", "status": 500, "latency_ms": 12, "route": "/internal"})
    alb = 'https 2018-07-02T22:23:00.186641Z app/lb/1 1.2.3.4:2817 10.0.0.1:80 0.086 0.048 0.037 502 - 0 57 "GET https://h:443/y HTTP/1.1" "MyApp/2.9.0 (iOS 17)" ECDHE TLSv1.2 arn "Root=1-58337281-1d84f3d73c47ec4e58577259" "-" "-" 1 2018-07-02T22:22:48.364000Z "forward" "-" "-"'
    no_id_app = json.dumps({"level": "info", "status": 201, "latency_ms": 33})
    chatter = json.dumps({"level": "info", "message": "cache warmed"})
    ct = json.dumps({"eventTime": "2024-01-01T00:00:00Z", "eventSource": "ec2.amazonaws.com", "eventName": "RunInstances", "requestID": "ct-1"})
    df = parse([apigw, app_same, alb, no_id_app, chatter, ct, "{broken"])
    req = parsers.requests(df)
    stats = req.attrs["request_stats"]
    assert len(req) == 3 and (stats["joined"], stats["standalone"], stats["by_tier"]) == (1, 2, {"entry": 2, "app": 1})
    by_id = req.set_index(req["request_id"].fillna("?"))
    r = by_id.loc["api-1"]
    assert r["status"] == 504 and r["latency_ms"] == 29001.0 and r["route"] == "/x"  # the access log wins
    assert "ct-1" not in by_id.index
    alone = req[req["request_id"].isna()]
    assert sorted(alone["status"].tolist()) == [201, 502]
    assert alone.loc[alone["status"] == 502, "app_version"].iat[0] == "2.9.0"
    assert list(req.columns) == list(schema.REQUEST_COLUMNS)


def test_requests_cold_start_from_report_over_powertools():
    pt = json.dumps({"level": "INFO", "service": "s", "cold_start": True, "function_request_id": RID, "status": 200})
    df = parse([pt, report(rid=RID, dur=5.0)])  # provisioned concurrency: no Init Duration
    req = parsers.requests(df)
    assert req.at[0, "cold_start"] == False
    only_pt = parsers.requests(parse([pt]))
    assert only_pt.at[0, "cold_start"] == True


def test_requests_of_nothing():
    out = parsers.requests(parse(["just text", json.dumps({"level": "info"})]))
    assert list(out.columns) == list(schema.REQUEST_COLUMNS) and out.empty
    with pytest.raises(ParameterError):
        parsers.requests(pd.DataFrame({"a": [1]}))


# --------------------------------------------------------------------------- extract


def test_extract_paths_from_parsed_and_raw():
    lines = [json.dumps({"userIdentity": {"arn": "arn:aws:iam::1:user/a", "type": "IAMUser"}, "requestParameters": {"groupId": "sg-1", "n": 2}}), "REPORT x", json.dumps({"a.b": True})]
    got = parsers.extract(parse(lines), ["userIdentity.arn", "requestParameters", "requestParameters.n", "a.b"])
    assert got.at[0, "userIdentity.arn"] == "arn:aws:iam::1:user/a"
    assert json.loads(got.at[0, "requestParameters"]) == {"groupId": "sg-1", "n": 2}
    assert got.at[0, "requestParameters.n"] == "2" and got.at[2, "a.b"] == "true"
    assert got.iloc[1].isna().all()


# --------------------------------------------------------------------------- user agents


@pytest.mark.parametrize(
    "ua,fam,ver,lib_ver",
    [
        ("MyApp/2.9.0 (iOS 17)", "MyApp", "2.9.0", "2.9.0"),
        ("MyApp/3.1.0-beta.2 CFNetwork/1494.0.7 Darwin/23.0.0", "MyApp", "3.1.0-beta.2", "3.1.0-beta.2"),
        ("ShopApp/4.1.0 (Android 14; Pixel 8) okhttp/4.12.0", "ShopApp", "4.1.0", "4.1.0"),
        ("okhttp/4.9.0", "okhttp", None, "4.9.0"),
        ("Dalvik/2.1.0 (Linux; U; Android 11; Pixel 5)", "Dalvik", None, "2.1.0"),
        ("aws-cli/2.15.0 Python/3.11.6 Linux/6.1 exe/x86_64", "aws-cli", None, "2.15.0"),
        ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36", "Chrome", None, "120.0.0.0"),
        ("Mozilla/5.0 (Windows NT 10.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36 Edg/120.0.2210.91", "Edge", None, "120.0.2210.91"),
        ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1", "Safari", None, "17.0"),
        ("Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0", "Firefox", None, "121.0"),
        ("ELB-HealthChecker/2.0", "ELB-HealthChecker", None, "2.0"),
        ("Amazon Route 53 Health Check Service; ref:c97cd53f; report http://amzn.to/1vsZADi", "Route53-Health-Check", None, None),
        ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "Googlebot", None, None),
        ("-", None, None, None),
        ("", None, None, None),
        (None, None, None, None),
        (float("nan"), None, None, None),
    ],
)
def test_user_agents(ua, fam, ver, lib_ver):
    assert useragent.family(ua) == fam
    assert useragent.version_from_user_agent(ua) == ver
    assert useragent.version_from_user_agent(ua, include_libraries=True) == lib_ver


def test_parse_user_agents_vectorised_matches_scalar():
    uas = ["MyApp/2.9.0", None, "okhttp/4.9.0", "MyApp/2.9.0", "Other/1"]
    out = useragent.parse_user_agents(pd.Series(uas, index=[5, 6, 7, 8, 9]))
    assert list(out.index) == [5, 6, 7, 8, 9]
    assert out["family"].tolist() == ["MyApp", pd.NA, "okhttp", "MyApp", "Other"]
    assert out["version"].tolist() == ["2.9.0", pd.NA, pd.NA, "2.9.0", "1"]


# --------------------------------------------------------------------------- EMF

EMF = {
    "_aws": {
        "Timestamp": 1714557600123,
        "CloudWatchMetrics": [
            {
                "Namespace": "ServerlessAirline",
                "Dimensions": [["service"], ["service", "route"]],
                "Metrics": [{"Name": "Latency", "Unit": "Milliseconds", "StorageResolution": 1}, {"Name": "Orders", "Unit": "Count"}],
            }
        ],
    },
    "service": "booking",
    "route": "/book",
    "Latency": [10, 30],
    "Orders": 1,
    "function_request_id": RID,
}


def test_emf_records_parse_and_give_metrics():
    lines = [json.dumps(EMF), json.dumps({**EMF, "Latency": 50, "Orders": 2, "_aws": {**EMF["_aws"], "Timestamp": 1714557602900}})]
    df = parse(events(lines))
    assert df["format"].tolist() == ["emf", "emf"] and df["record_type"].tolist() == ["metric", "metric"]
    assert df.at[0, "request_id"] == RID
    m = emf.metrics(df)
    assert list(m.columns) == list(schema.METRIC_COLUMNS) + ["unit"]
    lat = m[(m["metric_name"] == "Latency") & (m["dimensions"] == '{"service":"booking"}')]
    assert lat["value"].tolist() == [10.0, 30.0, 50.0] and (lat["period"] == 1).all() and (lat["stat"] == "Value").all()
    assert lat["timestamp"].iat[0] == pd.Timestamp(1714557600123, unit="ms", tz="UTC")
    assert set(m["dimensions"]) == {'{"service":"booking"}', '{"route":"/book","service":"booking"}'}
    orders = m[(m["metric_name"] == "Orders") & (m["dimensions"] == '{"service":"booking"}')]
    assert orders["period"].tolist() == [60, 60] and orders["unit"].tolist() == ["Count", "Count"]
    agg = emf.metrics(df, stats=["Sum", "Maximum", "SampleCount", "p50"])
    lat_agg = agg[(agg["metric_name"] == "Latency") & (agg["dimensions"] == '{"service":"booking"}')]
    by_stat = {s: g["value"].tolist() for s, g in lat_agg.groupby("stat")}
    assert by_stat == {"Sum": [40.0, 50.0], "Maximum": [30.0, 50.0], "SampleCount": [2.0, 1.0], "p50": [20.0, 50.0]}  # 1 s periods
    assert lat_agg["timestamp"].drop_duplicates().tolist() == [pd.Timestamp("2024-05-01T10:00:00Z"), pd.Timestamp("2024-05-01T10:00:02Z")]
    per_minute = emf.metrics(df, stats=["Sum"], period=60)
    assert per_minute.loc[(per_minute["metric_name"] == "Latency") & (per_minute["dimensions"] == '{"service":"booking"}'), "value"].tolist() == [90.0]


def test_emf_bad_values_are_reported_not_invented():
    bad = {**EMF, "Latency": "fast", "Orders": None}
    m = emf.metrics([json.dumps(bad), "not emf", '{"_aws": {"Timestamp": 1}}'])
    assert m.empty and list(m.columns) == list(schema.METRIC_COLUMNS) + ["unit"]
    assert any("Latency" in i and "not a number" in i for i in m.attrs["issues"])
    assert any("no CloudWatchMetrics" in i for i in m.attrs["issues"])
    with pytest.raises(ParameterError):
        emf.metrics([json.dumps(EMF)], stats=["Median"])


# --------------------------------------------------------------------------- properties


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=80), max_size=30))
def test_any_text_parses_to_one_row_per_line(lines):
    df = parse(lines)
    stats = df.attrs["parse_stats"]
    assert len(df) == len(lines) == stats["events"]
    assert stats["parsed"] + stats["errors"] == stats["events"]
    assert sum(stats["by_format"].values()) == len(lines)
    assert int(df["parse_error"].sum()) == stats["errors"]
    assert df["message"].fillna("").tolist() == lines
    assert set(df["format"]) <= set(parsers.FORMATS)


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**12, 10**12) | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=8), kids, max_size=3),
    max_leaves=10,
)
_keys = st.sampled_from(["status", "level", "message", "requestId", "latency_ms", "route", "version", "user_agent", "error", "http", "time", "x"])


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.dictionaries(_keys, _json_values, max_size=6), min_size=1, max_size=20))
@example([{}, {"time": 9223372037}])  # epoch seconds past datetime64[ns]'s year 2262 once crashed pandas
def test_any_json_object_is_parsed_never_an_error(records):
    lines = [json.dumps(r) for r in records]
    a = parse(lines)
    assert not a["parse_error"].any()
    assert set(a["format"]) <= {"app_json", "apigw_access", "powertools"}
    pd.testing.assert_frame_equal(a, parse(lines, _engine="python"))


def test_epoch_times_beyond_the_nanosecond_range_have_no_time_but_keep_the_line():
    lines = [json.dumps({"time": 9223372037, "message": "far future"}), json.dumps({"time": 1700000000, "message": "ok"})]
    df = parse(lines)
    assert df["message"].tolist() == lines  # the raw line kept
    assert pd.isna(df["timestamp"].iloc[0])
    assert df["timestamp"].iloc[1] == pd.Timestamp("2023-11-14 22:13:20", tz="UTC")


def test_the_json_readers_leaves_are_freed_without_the_garbage_collector():
    """A batch's leaves hold the JSON reader's buffers: once the caller drops them they must be
    freed by reference counting, not wait for a collection (a recursive closure did that: at 1M
    events ~70 MiB more at the parse's peak)."""
    lines = pa.array([json.dumps({"level": "info", "requestId": f"r{i}", "status": 200, "route": "/a", "user": {"id": i}}) for i in range(2000)],
                     type=pa.large_string())
    fm = _json.normalize_field_map(None)
    gc.collect()
    gc.disable()
    try:
        before = pa.total_allocated_bytes()
        read = _json.read_json(lines, fm)
        assert pa.total_allocated_bytes() > before and read[0][1].leaves
        del read
        assert pa.total_allocated_bytes() == before
    finally:
        gc.enable()
