"""Issue 16 item 6: lines the Lambda runtimes write themselves, shaped like the real ones
(Node.js runtime interface client output as users publish it in issues; Lambda's platform
and runtime messages), each read with its level, time, request id and error type."""

from __future__ import annotations

import json
import warnings

import pandas as pd
import pytest

from incidentkit import parse
from incidentkit.errors import IncompleteDataWarning

RID = "3f1d7c2a-5b9e-4c0d-8e21-9a6b7c4d2e10"
T = "2025-02-11T08:14:03.512Z"


def report(rid: str = RID) -> str:
    return (f"REPORT RequestId: {rid}\tDuration: 41.20 ms\tBilled Duration: 42 ms\tMemory Size: 256 MB"
            "\tMax Memory Used: 88 MB")


def node_error(label: str, error_type: str, message: str, *, rid: str = RID, pretty: bool = False) -> str:
    """A Node.js runtime error record: ``<time>\\t<id>\\tERROR\\t<label> \\t{errorType, errorMessage, stack}``."""
    body = {"errorType": error_type, "errorMessage": message,
            "stack": [f"{error_type}: {message}", "    at Runtime.handler (file:///var/task/index.mjs:12:9)",
                      "    at Runtime.handleOnceNonStreaming (file:///var/runtime/index.mjs:1173:29)"]}
    text = json.dumps(body, indent=4) if pretty else json.dumps(body, separators=(",", ":"))
    return f"{T}\t{rid}\tERROR\t{label} \t{text}"


def quiet_parse(lines: list[str]) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("error", IncompleteDataWarning)
        return parse.parse(lines)


@pytest.mark.parametrize("pretty", [False, True])
def test_node_invoke_error_keeps_its_error_type_for_requests(pretty):
    df = quiet_parse([f"START RequestId: {RID} Version: $LATEST",
                      node_error("Invoke Error", "TypeError", "Cannot read properties of undefined (reading 'sku')", pretty=pretty),
                      f"END RequestId: {RID}", report()])
    row = df.iloc[1]
    assert (row["format"], row["record_type"], row["level"], row["request_id"]) == ("lambda_app", "invoke_error", "ERROR", RID)
    assert row["error_type"] == "TypeError" and row["error_message"].startswith("Cannot read properties")
    assert str(row["timestamp"]) == "2025-02-11 08:14:03.512000+00:00"
    req = parse.requests(df)
    assert len(req) == 1 and req.at[0, "error_type"] == "TypeError" and req.at[0, "logged_error"]


@pytest.mark.parametrize("obj", [
    "{ a: '1', b: '2' }",
    "{ statusCode: 200, headers: { 'content-type': 'application/json' }, body: '{\"ok\":true}' }",
    "{\n  orderId: 'o-1842',\n  items: [ { sku: 'A-1', qty: 2 } ],\n  total: 31.5\n}",
])
def test_a_node_object_printed_by_console_log_is_text_not_a_broken_json_record(obj):
    df = quiet_parse([f"{T}\t{RID}\tINFO\t{obj}", obj])
    assert not df["parse_error"].any()
    assert df["format"].tolist() == ["lambda_app", "text"] and df.at[0, "level"] == "INFO"
    assert df.at[0, "request_id"] == RID and df["record_type"].tolist() == ["js_object", "js_object"]
    assert df.attrs["parse_stats"]["errors"] == 0 and "issues" not in df.attrs


def test_what_opens_like_json_and_is_not_still_is_a_parse_error():
    with pytest.warns(IncompleteDataWarning):
        df = parse.parse(["{bad", '{"truncated": "rec', "{ a: 1 }"])
    assert df["parse_error"].tolist() == [True, True, False]
    assert df["format"].tolist() == ["json", "json", "text"]


@pytest.mark.parametrize("label,rtype", [("Uncaught Exception", "uncaught_exception"),
                                         ("Unhandled Promise Rejection", "unhandled_rejection")])
def test_node_errors_before_any_request_keep_time_and_level(label, rtype):
    line = node_error(label, "Runtime.ImportModuleError", "Error: Cannot find module 'pg'", rid="undefined")
    plain = f"{T}\tundefined\tWARN\tdeprecated option ignored"
    df = quiet_parse([line, plain])
    assert df["timestamp"].notna().all() and str(df.at[0, "timestamp"]) == "2025-02-11 08:14:03.512000+00:00"
    assert df["request_id"].isna().all()  # "undefined" is no request id
    assert (df.at[0, "format"], df.at[0, "record_type"], df.at[0, "level"], df.at[0, "error_type"]) == (
        "lambda_app", rtype, "ERROR", "Runtime.ImportModuleError")
    assert (df.at[1, "format"], df.at[1, "level"]) == ("lambda_app", "WARN")


def test_process_exited_before_completing_request_gets_its_request_id():
    lines = [f"START RequestId: {RID} Version: $LATEST", f"END RequestId: {RID}", report(),
             f"RequestId: {RID} Process exited before completing request"]
    df = quiet_parse(lines)
    row = df.iloc[3]
    assert (row["format"], row["record_type"], row["request_id"], row["level"]) == ("lambda_platform", "runtime_exit", RID, "ERROR")
    assert row["error_type"] == "Runtime.ExitError" and row["error_message"] == "Process exited before completing request"
    req = parse.requests(df)
    assert len(req) == 1 and req.at[0, "logged_error"] and req.at[0, "error_type"] == "Runtime.ExitError"


@pytest.mark.parametrize("line,etype", [
    ("Unknown application error occurred\nRuntime.Unknown", "Runtime.Unknown"),
    ("Unknown application error occurred", None),
    ("module initialization error", None),
    ("module initialization error: [Errno 13] Permission denied: '/var/task/app.py'", None),
])
def test_runtime_failures_are_errors(line, etype):
    df = quiet_parse([line])
    assert (df.at[0, "format"], df.at[0, "record_type"], df.at[0, "level"]) == ("lambda_platform", "runtime_error", "ERROR")
    assert (None if pd.isna(df.at[0, "error_type"]) else df.at[0, "error_type"]) == etype
    assert df.at[0, "error_message"] == line.split("\n")[0]


def test_an_error_object_logged_at_info_stays_info():
    stack = "Error: cache miss for key user:42\n    at get (file:///var/task/cache.mjs:8:11)\n    at Runtime.handler (file:///var/task/index.mjs:20:5)"
    other = "22222222-3333-4444-8555-666666666666"
    df = quiet_parse([f"{T}\t{RID}\tINFO\t{stack}", report(),
                      f"{T}\t{other}\tERROR\t{stack}", report(other)])
    info, err = df.iloc[0], df.iloc[2]
    assert (info["format"], info["level"], info["record_type"]) == ("lambda_app", "INFO", "log")
    assert pd.isna(info["error_type"]) and pd.isna(info["error_message"])
    assert (err["format"], err["level"], err["error_type"]) == ("traceback", "ERROR", "Error")
    req = parse.requests(df).set_index("request_id")
    assert not req.at[RID, "logged_error"] and pd.isna(req.at[RID, "error_type"])
    assert req.at[other, "logged_error"] and req.at[other, "error_type"] == "Error"
