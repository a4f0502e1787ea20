"""FilterLogEvents pages read by orjson (``parts._read_page_json``, a ``before-parse`` hook): what botocore gives, faster."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pandas as pd
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError

from incidentkit.fetch import aws, logs
from incidentkit.fetch.logs import pages, parts

T0 = 1_772_330_400_000


class _Body:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Any:
        yield self.body


def _client(status: int, body: bytes, *, fast: bool) -> Any:
    """The kit's logs client answering every FilterLogEvents with ``body``; ``fast``: the hook registered."""
    session = boto3.Session(region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t")
    c = aws.client("logs", session=session, max_attempts=1)
    headers = {"Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": "r"}
    c.meta.events.register("before-send.logs.FilterLogEvents", lambda request, **_: AWSResponse(request.url, status, headers, _Body(body)))
    if fast:
        c.meta.events.register("before-parse.logs.FilterLogEvents", parts._read_page_json)
    return c


PAGE = {
    "events": [
        {"logStreamName": "s/[$LATEST]1", "timestamp": T0, "message": 'tab\there "quoted" back\\slash\nnew line', "ingestionTime": T0 + 5,
         "eventId": "1"},
        {"logStreamName": "s2", "timestamp": T0 + 1, "message": "é ü 中文 😀 \u2028", "ingestionTime": T0 + 9, "eventId": "2"},
        {"logStreamName": "s2", "timestamp": T0 + 2, "message": "", "ingestionTime": T0 + 9, "eventId": "3", "unmodelled": 1},
    ],
    "searchedLogStreams": [{"logStreamName": "s2", "searchedCompletely": True}],
    "nextToken": "tok/+=",
}  # fmt: skip


@pytest.mark.parametrize("body", [json.dumps(PAGE).encode(), json.dumps(PAGE, ensure_ascii=False).encode("utf-8"),
                                  b'{"events": []}', b'{"events": [], "nextToken": "t"}'])  # fmt: skip
def test_the_page_read_by_orjson_is_what_botocore_parses(body: bytes) -> None:
    slow = _client(200, body, fast=False).filter_log_events(logGroupName="g")
    fast = _client(200, body, fast=True).filter_log_events(logGroupName="g")
    for r in (slow, fast):
        r["ResponseMetadata"].pop("HTTPHeaders", None)
    events = fast["events"]
    if events:  # members the model does not name pass through (the kit reads events by key); botocore drops them
        assert events[2].pop("unmodelled") == 1
    assert fast == slow
    assert all(type(e["timestamp"]) is int for e in events)


def test_a_lone_surrogate_page_is_left_to_botocore() -> None:
    body = b'{"events": [{"logStreamName": "s", "timestamp": 1, "message": "bad \\ud800 half", "ingestionTime": 2, "eventId": "x"}]}'
    rd: dict[str, Any] = {"status_code": 200, "body": body}
    out: dict[str, Any] = {}
    parts._read_page_json(rd, out)
    assert out == {} and rd["body"] == body
    r = _client(200, body, fast=True).filter_log_events(logGroupName="g")
    assert r["events"][0]["message"] == "bad \ud800 half"


@pytest.mark.parametrize("code", ["ThrottlingException", "ResourceNotFoundException"])
def test_errors_are_left_to_botocore(code: str) -> None:
    body = json.dumps({"__type": code, "message": "no"}).encode()
    with pytest.raises(ClientError) as exc:
        _client(400, body, fast=True).filter_log_events(logGroupName="g")
    assert exc.value.response["Error"]["Code"] == code


def test_a_fetch_reads_its_pages_with_orjson(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[int] = []

    def counting(response_dict: dict[str, Any], **kw: Any) -> None:
        seen.append(response_dict["status_code"])
        parts._read_page_json(response_dict, **kw)

    monkeypatch.setattr(pages, "_read_page_json", counting)
    body = json.dumps(PAGE | {"nextToken": None}).encode()
    session = boto3.Session(region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t")
    headers = {"Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": "r"}
    session.events.register("before-send.logs.FilterLogEvents", lambda request, **_: AWSResponse(request.url, 200, headers, _Body(body)))
    win = (pd.Timestamp(T0, unit="ms", tz="UTC"), pd.Timestamp(T0 + 60_000, unit="ms", tz="UTC"))
    df = logs.events("/g", win, session=session, slices=1, budget=logs.pacing.Budget({"FilterLogEvents": 0}))
    assert seen == [200]
    assert df["message"].tolist() == [e["message"] for e in PAGE["events"]]
    assert df["timestamp"].astype("int64").tolist() == [1_000_000 * e["timestamp"] for e in PAGE["events"]]
