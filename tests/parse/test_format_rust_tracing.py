"""Rust ``tracing`` JSON lines (parse/formats/rust_tracing.py): the format added as a new format
is added — its module, its registry line, this test."""

from __future__ import annotations

import json

import pandas as pd

from incidentkit import parse

RID = "9c2e4f61-0b7a-4d3e-a5c8-2f1e6d9b7a40"
TRACE = "Root=1-67ab12cd-0f1e2d3c4b5a69788796a5b4;Parent=5e6f7a8b9c0d1e2f;Sampled=1;Lineage=1:2c3d4e5f:0"
SPAN = {"requestId": RID, "xrayTraceId": TRACE, "name": "Lambda runtime invoke"}


def tracing_line(level: str, fields: dict, *, span: dict | None = SPAN, target: str = "orders::handler") -> str:
    """A line as ``tracing_subscriber::fmt().json()`` writes it (key order as it writes them)."""
    rec = {"timestamp": "2025-02-11T08:14:03.512204Z", "level": level, "fields": fields, "target": target}
    if span is not None:
        rec["span"] = span
        rec["spans"] = [{"name": "cold start"}, span]
    return json.dumps(rec, separators=(",", ":"))


def test_lines_inside_an_invocation_carry_its_request_id_and_trace():
    df = parse.parse([tracing_line("INFO", {"message": "order accepted", "order_id": "o-1842"}),
                      tracing_line("DEBUG", {"message": "cache warm"}, span=None)])
    assert df["format"].tolist() == ["rust_tracing", "rust_tracing"] and not df["parse_error"].any()
    assert df["level"].tolist() == ["INFO", "DEBUG"] and df["record_type"].tolist() == ["log", "log"]
    assert df.at[0, "request_id"] == RID and df.at[0, "xray_trace_id"] == "1-67ab12cd-0f1e2d3c4b5a69788796a5b4"
    assert pd.isna(df.at[1, "request_id"])
    assert str(df.at[0, "timestamp"]) == "2025-02-11 08:14:03.512204+00:00"


def test_an_error_line_gives_the_aws_error_and_joins_its_invocation():
    err = ("dispatch failure: service error: An error occurred (ProvisionedThroughputExceededException) when calling "
           "the PutItem operation: The level of configured provisioned throughput for the table was exceeded")
    lines = [f"START RequestId: {RID} Version: $LATEST",
             tracing_line("ERROR", {"message": "could not store order", "error": err}),
             f"END RequestId: {RID}",
             f"REPORT RequestId: {RID}\tDuration: 812.04 ms\tBilled Duration: 813 ms\tMemory Size: 128 MB\tMax Memory Used: 31 MB"]
    df = parse.parse(lines)
    row = df.iloc[1]
    assert (row["level"], row["error_type"], row["operation"]) == ("ERROR", "ProvisionedThroughputExceededException", "PutItem")
    req = parse.requests(df)
    assert len(req) == 1 and req.at[0, "request_id"] == RID and req.at[0, "logged_error"]
    assert req.at[0, "error_type"] == "ProvisionedThroughputExceededException" and req.at[0, "tier"] == "invocation"


def test_json_that_only_looks_alike_stays_app_json():
    # a "target" key without the formatter's "fields" object is some app's own field
    df = parse.parse(['{"level":"info","target":"eu-west-1","message":"replicated","requestId":"r-7"}'])
    assert df.at[0, "format"] == "app_json" and df.at[0, "request_id"] == "r-7"
