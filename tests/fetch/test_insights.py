"""incidentkit.fetch.insights (re-exported by incidentkit.fetch.logs): Logs Insights into typed frames.

moto ignores Insights semantics (always Complete, no statistics, no filter/stats), so
statuses, polling, splitting, truncation and token expiry are driven with botocore's
Stubber, on a fake clock (no real sleeps). moto is used once for the call path.
"""

from __future__ import annotations

import json
import math
import re
import time
import warnings
from typing import Any

import boto3
import pandas as pd
import pytest
from botocore.stub import ANY, Stubber

from incidentkit.fetch import aws, insights as ins, logs
from incidentkit.errors import (
    IncompleteDataWarning,
    ParameterError,
    QueryError,
    QueryFailedError,
    QueryTimeoutError,
    ThrottledError,
)
from incidentkit.window import Window

REGION = "us-east-1"
W = ("2026-03-01T03:00:00Z", "2026-03-01T04:00:00Z")
START, END = 1772334000000, 1772337600000


# --- fixtures ----------------------------------------------------------------------------------------


@pytest.fixture
def clock(monkeypatch):
    """A fake monotonic clock: sleeps advance it and are recorded."""
    state = {"now": 1_000.0, "sleeps": []}

    def sleep(seconds: float) -> None:
        state["sleeps"].append(seconds)
        state["now"] += seconds

    monkeypatch.setattr(ins.layers, "_sleep", sleep)
    monkeypatch.setattr(ins.layers, "_clock", lambda: state["now"])
    return state


@pytest.fixture
def stub(monkeypatch, clock):
    """A guarded logs client with a Stubber, used by the kit; also records every call's params."""
    client = aws.client("logs", region=REGION)
    stubber = Stubber(client)
    monkeypatch.setattr(aws, "client", lambda *a, **k: client)
    calls: list[tuple[str, dict[str, Any]]] = []

    def listener(service: str, operation: str, params: dict[str, Any]) -> None:
        calls.append((operation, dict(params)))

    aws.add_call_listener(listener)
    stubber.calls = calls  # type: ignore[attr-defined]
    stubber.client = client  # type: ignore[attr-defined]
    try:
        with stubber:
            yield stubber
        stubber.assert_no_pending_responses()
    finally:
        aws.remove_call_listener(listener)


def _ts(ms: int) -> str:
    return pd.Timestamp(ms, unit="ms", tz="UTC").strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def _raw_rows(n: int, start_ms: int = START, step_ms: int = 1000, tag: str = "") -> list[dict[str, str]]:
    return [
        {"@timestamp": _ts(start_ms + i * step_ms), "@message": f"{tag}msg {i}", "latency": f"{i * 1.5}", "@ptr": f"p{tag}{i}"}
        for i in range(n)
    ]


def _resp(rows: list[dict[str, str]], status: str = "Complete", matched: float | None = None, token: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"status": status, "results": [[{"field": k, "value": v} for k, v in r.items()] for r in rows]}
    if matched is not None:
        out["statistics"] = {"recordsMatched": float(matched), "recordsScanned": float(matched) * 2, "bytesScanned": 100.0}
    if token:
        out["nextToken"] = token
    return out


def _starts(stub: Stubber) -> list[dict[str, Any]]:
    return [p for op, p in stub.calls if op == "StartQuery"]  # type: ignore[attr-defined]


_BOUNDS = re.compile(r"toMillis\(@timestamp\) >= (\d+) and toMillis\(@timestamp\) < (\d+)")


def _bounds(params: dict[str, Any]) -> tuple[int, int]:
    m = _BOUNDS.search(params["queryString"])
    assert m, params["queryString"]
    return int(m.group(1)), int(m.group(2))


# --- polling and terminal states ------------------------------------------------------------------------


def test_scheduled_running_complete_with_the_published_response(stub, clock, aws_samples, expected_samples):
    sample = json.loads((aws_samples / "cwlogs_get_query_results_response.json").read_text())
    want = expected_samples["cwlogs_get_query_results_response.json"]["document"]
    stub.add_response("start_query", {"queryId": "q-1"}, {"logGroupNames": ["/aws/lambda/api"], "startTime": START // 1000,
                      "endTime": END // 1000, "queryString": ANY, "limit": 10_000})  # fmt: skip
    stub.add_response("get_query_results", {"status": "Scheduled", "results": []}, {"queryId": "q-1"})
    stub.add_response("get_query_results", {"status": "Running", "results": []}, {"queryId": "q-1"})
    stub.add_response("get_query_results", sample, {"queryId": "q-1"})
    df = logs.insights("fields @timestamp, @message, @logStream", "/aws/lambda/api", W)

    assert len(df) == want["rows_count"]
    assert "@ptr" not in df.columns
    assert str(df["@timestamp"].dtype) == "datetime64[ns, UTC]"
    got = dict(zip(df["@message"], df["@timestamp"]))
    for row in want["rows"]:
        assert got[row["@message"]] == pd.Timestamp(row["@timestamp"], tz="UTC")
    assert df["@timestamp"].is_monotonic_increasing  # time order, oldest first
    a = df.attrs
    assert a["source"] == "logs.insights" and a["complete"] is True and a["truncated"] is False
    assert a["api_calls"] == 4 and a["queries"] == 1 and a["query_ids"] == ["q-1"]
    assert a["statistics"]["recordsMatched"] == want["statistics"]["recordsMatched"]
    assert clock["sleeps"] == [1.0, 1.5]  # backoff between polls
    sent = _starts(stub)[0]["queryString"]
    assert sent.startswith(f"filter toMillis(@timestamp) >= {START} and toMillis(@timestamp) < {END}\n| fields @timestamp")


@pytest.mark.parametrize(
    "status, error",
    [("Failed", QueryFailedError), ("Cancelled", QueryFailedError), ("Unknown", QueryFailedError), ("Timeout", QueryTimeoutError)],
)
def test_every_terminal_status_raises_a_typed_error_with_context(stub, status, error):
    stub.add_response("start_query", {"queryId": "q-9"})
    stub.add_response("get_query_results", {"status": "Running", "results": _resp(_raw_rows(2), "Running")["results"]}, {"queryId": "q-9"})
    stub.add_response("get_query_results", {"status": status, "results": []}, {"queryId": "q-9"})
    with pytest.raises(error) as info:
        logs.insights("fields @message", ["/aws/lambda/a", "/aws/lambda/b"], W)
    err = info.value
    assert err.context["query_id"] == "q-9" and err.context["status"] == status
    assert "/aws/lambda/a" in err.context["log_groups"] and "/aws/lambda/b" in err.context["log_groups"]
    assert "2026-03-01T03:00:00Z" in err.context["window"]
    assert status in str(err) and "\n" not in err.message
    assert err.partial.empty and err.partial.attrs["complete"] is False


@pytest.mark.parametrize("status", ["Failed", "Cancelled", "Unknown", "Timeout", "Bogus"])
def test_wait_query_alone_types_every_end_state(stub, status):
    stub.add_response("get_query_results", {"status": status, "results": []}, {"queryId": "q"})
    with pytest.raises(QueryError) as info:
        ins.wait_query("q", client=stub.client, log_groups=["/g"], window="w")
    assert isinstance(info.value, QueryTimeoutError) == (status == "Timeout")
    assert info.value.context["query_id"] == "q"


class _Forever:
    """A client whose query never ends; records StopQuery."""

    def __init__(self) -> None:
        self.polls = 0
        self.stopped: list[str] = []

    def get_query_results(self, **kw: Any) -> dict[str, Any]:
        self.polls += 1
        return {"status": "Running", "results": []}

    def stop_query(self, **kw: Any) -> dict[str, Any]:
        self.stopped.append(kw["queryId"])
        return {"success": True}


def test_our_own_time_limit_stops_the_query(clock):
    fake = _Forever()
    with pytest.raises(QueryTimeoutError, match="after 10 s; stopped it") as info:
        ins.wait_query("q-slow", timeout=10, poll=1, max_poll=3, client=fake)
    assert fake.stopped == ["q-slow"]
    assert info.value.context["status"] == "Running"
    assert sum(clock["sleeps"]) == pytest.approx(10)
    assert max(clock["sleeps"]) <= 3 and clock["sleeps"][:3] == [1, 1.5, 2.25]


def test_wait_query_can_leave_the_query_running(clock):
    fake = _Forever()
    with pytest.raises(QueryTimeoutError):
        ins.wait_query("q", timeout=2, client=fake, stop_on_timeout=False)
    assert fake.stopped == []


def test_insights_time_limit_stops_the_query(stub, clock):
    stub.add_response("start_query", {"queryId": "q-1"})
    for _ in range(6):
        stub.add_response("get_query_results", {"status": "Running", "results": []}, {"queryId": "q-1"})
    stub.add_response("stop_query", {"success": True}, {"queryId": "q-1"})
    with pytest.raises(QueryTimeoutError) as info:
        logs.insights("fields @message", "/g", W, timeout=10)
    assert info.value.context["query_id"] == "q-1"


def test_query_unknown_to_aws_is_a_typed_error(stub):
    stub.add_client_error("get_query_results", "ResourceNotFoundException", "Query does not exist.")
    with pytest.raises(QueryFailedError, match="re-run") as info:
        ins.wait_query("gone", client=stub.client)
    assert info.value.context["status"] == "Expired"


def test_malformed_query(stub):
    stub.add_client_error("start_query", "MalformedQueryException", "unexpected symbol found | at line 1")
    with pytest.raises(QueryFailedError, match="malformed") as info:
        logs.insights("fields @message | | stats", "/g", W)
    assert info.value.context["status"] == "Malformed"


def test_throttled_start_with_nothing_running_raises(stub):
    stub.add_client_error("start_query", "ThrottlingException", "Rate exceeded", http_status_code=400)
    with pytest.raises(ThrottledError):
        logs.insights("fields @message", "/g", W)


def test_keyboard_interrupt_stops_running_queries_and_returns(stub, monkeypatch):
    stub.add_response("start_query", {"queryId": "q-1"})
    stub.add_response("get_query_results", {"status": "Running", "results": []}, {"queryId": "q-1"})
    stub.add_response("stop_query", {"success": True}, {"queryId": "q-1"})

    def ctrl_c(seconds: float) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(ins.layers, "_sleep", ctrl_c)
    with pytest.warns(IncompleteDataWarning, match="interrupted by user"):
        df = logs.insights("fields @message", "/g", W)
    assert df.empty and df.attrs["interrupted"] is True and df.attrs["complete"] is False


# --- results pages and expired tokens --------------------------------------------------------------------


def test_results_are_read_page_by_page_up_to_the_limit(stub):
    rows = _raw_rows(12_500, step_ms=100)
    stub.add_response("start_query", {"queryId": "q"}, {"logGroupNames": ["/g"], "startTime": ANY, "endTime": ANY,
                      "queryString": ANY, "limit": 20_000})  # fmt: skip
    stub.add_response("get_query_results", _resp(rows[:10_000], matched=12_500, token="page-2"), {"queryId": "q"})
    stub.add_response("get_query_results", _resp(rows[10_000:]), {"queryId": "q", "nextToken": "page-2"})
    df = logs.insights("fields @timestamp, @message, latency", "/g", W, limit=20_000)
    assert len(df) == 12_500 and df.attrs["complete"] is True
    assert df["latency"].dtype == "float64" and df["latency"].iloc[-1] == 12_499 * 1.5


def test_expired_results_token_reruns_the_query_once(stub):
    rows = _raw_rows(4)
    stub.add_response("start_query", {"queryId": "q-1"})
    stub.add_response("get_query_results", _resp(rows[:2], matched=4, token="t"), {"queryId": "q-1"})
    stub.add_client_error("get_query_results", "InvalidParameterException", "The specified nextToken has expired.",
                          expected_params={"queryId": "q-1", "nextToken": "t"})  # fmt: skip
    stub.add_response("start_query", {"queryId": "q-2"})
    stub.add_response("get_query_results", _resp(rows, matched=4), {"queryId": "q-2"})
    df = logs.insights("fields @timestamp, @message", "/g", W)
    assert len(df) == 4 and df.attrs["query_ids"] == ["q-1", "q-2"]
    assert any("expired" in i and "re-ran" in i for i in df.attrs["issues"])


def test_expired_twice_is_an_error_with_context(stub):
    for qid in ("q-1", "q-2"):
        stub.add_response("start_query", {"queryId": qid})
        stub.add_response("get_query_results", _resp(_raw_rows(2), matched=4, token="t"), {"queryId": qid})
        stub.add_client_error("get_query_results", "InvalidParameterException", "nextToken expired",
                              expected_params={"queryId": qid, "nextToken": "t"})  # fmt: skip
    with pytest.raises(QueryFailedError, match="token expired") as info:
        logs.insights("fields @message", "/g", W)
    assert info.value.context["status"] == "Expired" and info.value.context["query_id"] == "q-2"
    assert info.value.partial.attrs["complete"] is False


def test_collect_alone_raises_on_an_expired_token(stub):
    stub.add_client_error("get_query_results", "InvalidParameterException", "token has expired",
                          expected_params={"queryId": "q", "nextToken": "n"})  # fmt: skip
    with pytest.raises(QueryFailedError) as info:
        ins.collect("q", response=_resp(_raw_rows(1), token="n"), client=stub.client)
    assert info.value.context["status"] == "Expired"


def test_collect_alone_refuses_a_running_query(stub):
    stub.add_response("get_query_results", {"status": "Running", "results": []}, {"queryId": "q"})
    with pytest.raises(QueryError, match="wait_query"):
        ins.collect("q", client=stub.client)


def test_layers_compose(stub):
    stub.add_response("start_query", {"queryId": "q"})
    stub.add_response("get_query_results", {"status": "Running", "results": []}, {"queryId": "q"})
    stub.add_response("get_query_results", _resp(_raw_rows(3), matched=3), {"queryId": "q"})
    qid = ins.start_query("fields @timestamp, @message | limit 3", "/g", W, client=stub.client)
    final = ins.wait_query(qid, client=stub.client)
    df = ins.collect(qid, response=final, query="fields @timestamp, @message | limit 3", limit=10_000)
    assert len(df) == 3 and df.attrs["complete"] is True and df.attrs["records_matched"] == 3


# --- more than 50 log groups -----------------------------------------------------------------------


def test_more_than_50_groups_are_queried_in_batches(stub):
    groups = [f"/aws/lambda/fn-{i:03d}" for i in range(120)]
    for i, batch in enumerate((groups[:50], groups[50:100], groups[100:])):
        stub.add_response("start_query", {"queryId": f"q{i}"}, {"logGroupNames": batch, "startTime": ANY,
                          "endTime": ANY, "queryString": ANY, "limit": ANY})  # fmt: skip
    for i in range(3):
        stub.add_response("get_query_results", _resp(_raw_rows(5, tag=f"b{i}-"), matched=5), {"queryId": f"q{i}"})
    df = logs.insights("fields @timestamp, @message", groups, W)
    assert len(df) == 15 and df.attrs["queries"] == 3 and df.attrs["batches"] == 3
    assert "log_groups_batch" not in df.columns  # raw rows of different batches simply add up
    assert df.attrs["complete"] is True and df.attrs["statistics"]["recordsMatched"] == 15


def test_too_many_concurrent_queries_waits_for_ours(stub):
    groups = [f"/g{i}" for i in range(120)]
    stub.add_response("start_query", {"queryId": "q0"})
    stub.add_response("start_query", {"queryId": "q1"})
    stub.add_client_error("start_query", "LimitExceededException", "too many concurrent queries")
    stub.add_response("get_query_results", _resp(_raw_rows(1), matched=1), {"queryId": "q0"})
    stub.add_response("start_query", {"queryId": "q2"})
    stub.add_response("get_query_results", _resp(_raw_rows(1), matched=1), {"queryId": "q1"})
    stub.add_response("get_query_results", _resp(_raw_rows(1), matched=1), {"queryId": "q2"})
    df = logs.insights("fields @message", groups, W, max_concurrent=4)
    assert len(df) == 3 and df.attrs["query_ids"] == ["q0", "q1", "q2"] and df.attrs["complete"] is True


# --- truncation and splitting ------------------------------------------------------------------------


def test_full_raw_result_is_split_in_proportion_and_completed(stub):
    stub.add_response("start_query", {"queryId": "top"})
    stub.add_response("get_query_results", _resp(_raw_rows(100, step_ms=36_000), matched=250), {"queryId": "top"})
    sizes = [60, 70, 50, 70]
    quarter = (END - START) // 4
    for i, n in enumerate(sizes):
        stub.add_response("start_query", {"queryId": f"c{i}"})
        rows = _raw_rows(n, start_ms=START + i * quarter, step_ms=quarter // n, tag=f"c{i}-")
        stub.add_response("get_query_results", _resp(rows, matched=n), {"queryId": f"c{i}"})
    with warnings.catch_warnings():
        warnings.simplefilter("error", IncompleteDataWarning)
        df = logs.insights("fields @timestamp, @message", "/g", W, limit=100, max_concurrent=1)
    assert len(df) == 250 and df["@message"].is_unique
    a = df.attrs
    assert a["complete"] is True and a["splits"] == 1 and a["queries"] == 5
    assert a["statistics"]["recordsMatched"] == 250  # the kept parts only
    assert a["bytes_scanned_total"] == 500  # every query, the split one included
    # the parts tile the window exactly: contiguous, no overlap, no gap
    windows = [_bounds(p) for p in _starts(stub)]
    assert windows[0] == (START, END)
    kids = windows[1:]
    assert len(kids) == math.ceil(250 / (0.8 * 100)) == 4
    assert kids[0][0] == START and kids[-1][1] == END
    assert all(a_[1] == b_[0] for a_, b_ in zip(kids, kids[1:]))
    for p, (lo, hi) in zip(_starts(stub)[1:], kids):
        assert p["startTime"] == lo // 1000 and p["endTime"] == -(-hi // 1000)


def test_rows_below_the_limit_but_fewer_than_matched_are_split(stub):
    """An endpoint that returns one page and no nextToken: recordsMatched shows the rows missing."""
    stub.add_response("start_query", {"queryId": "top"})
    stub.add_response("get_query_results", _resp(_raw_rows(40), matched=90), {"queryId": "top"})
    third = (END - START) // 3
    for i in range(3):
        stub.add_response("start_query", {"queryId": f"c{i}"})
        stub.add_response("get_query_results", _resp(_raw_rows(30, start_ms=START + i * third, tag=f"c{i}-"), matched=30), {"queryId": f"c{i}"})
    df = logs.insights("fields @timestamp, @message", "/g", W, limit=50, max_concurrent=1)
    assert len(df) == 90 and df.attrs["complete"] is True and df.attrs["splits"] == 1
    assert len(_starts(stub)) == 4


def test_split_keeps_going_until_the_depth_limit_then_flags_truncation(stub):
    stub.add_response("start_query", {"queryId": "top"})
    stub.add_response("get_query_results", _resp(_raw_rows(100), matched=300), {"queryId": "top"})
    for i in range(4):
        stub.add_response("start_query", {"queryId": f"c{i}"})
        stub.add_response("get_query_results", _resp(_raw_rows(100, tag=f"c{i}-"), matched=120), {"queryId": f"c{i}"})
    with pytest.warns(IncompleteDataWarning, match="truncated"):
        df = logs.insights("fields @timestamp, @message", "/g", W, limit=100, max_split_depth=1, max_concurrent=1)
    a = df.attrs
    assert len(df) == 400 and a["truncated"] is True and a["complete"] is False
    assert len(a["truncated_windows"]) == 4
    t = a["truncated_windows"][0]
    assert t["rows"] == 100 and t["records_matched"] == 120 and "max_split_depth" in t["reason"]


def test_query_budget_is_respected_and_reported(stub):
    stub.add_response("start_query", {"queryId": "top"})
    stub.add_response("get_query_results", _resp(_raw_rows(10), matched=30), {"queryId": "top"})
    stub.add_response("start_query", {"queryId": "c0"})
    stub.add_response("get_query_results", _resp(_raw_rows(5), matched=5), {"queryId": "c0"})
    with pytest.warns(IncompleteDataWarning):
        df = logs.insights("fields @message", "/g", W, limit=10, max_queries=2, max_concurrent=1)
    assert df.attrs["queries"] == 2 and df.attrs["truncated"] is True
    assert any("max_queries" in t["reason"] for t in df.attrs["truncated_windows"])


def test_stats_without_a_time_bin_is_flagged_not_bisected(stub):
    rows = [{"@logStream": f"s{i}", "count(*)": str(i + 1)} for i in range(5)]
    stub.add_response("start_query", {"queryId": "q"})
    stub.add_response("get_query_results", _resp(rows, matched=999), {"queryId": "q"})
    with pytest.warns(IncompleteDataWarning, match="cannot be split"):
        df = logs.insights("stats count(*) by @logStream", "/g", W, limit=5)
    assert df.attrs["queries"] == 1 and df.attrs["truncated"] is True and df.attrs["shape"] == "aggregate"
    assert str(df["count(*)"].dtype) == "Int64"


def test_stats_below_the_limit_is_complete_whatever_recordsmatched_says(stub):
    rows = [{"@logStream": "s1", "count(*)": "700"}, {"@logStream": "s2", "count(*)": "299"}]
    stub.add_response("start_query", {"queryId": "q"})
    stub.add_response("get_query_results", _resp(rows, matched=999), {"queryId": "q"})
    with warnings.catch_warnings():
        warnings.simplefilter("error", IncompleteDataWarning)
        df = logs.insights("stats count(*) by @logStream | sort @logStream asc", "/g", W, limit=5)
    assert df["@logStream"].tolist() == ["s1", "s2"] and df.attrs["complete"] is True


def test_own_limit_command_is_respected_not_split(stub):
    stub.add_response("start_query", {"queryId": "q"})
    stub.add_response("get_query_results", _resp(_raw_rows(20), matched=5_000), {"queryId": "q"})
    with warnings.catch_warnings():
        warnings.simplefilter("error", IncompleteDataWarning)
        df = logs.insights("fields @timestamp, @message | limit 20", "/g", W)
    assert len(df) == 20 and df.attrs["complete"] is True and df.attrs["queries"] == 1


def _bin_rows(start_ms: int, n: int, bin_ms: int = 300_000) -> list[dict[str, str]]:
    return [{"bin(5m)": _ts(start_ms + i * bin_ms), "n": str(10 + i)} for i in range(n)]


def test_binned_stats_are_split_on_bin_boundaries(stub):
    stub.add_response("start_query", {"queryId": "top"})
    stub.add_response("get_query_results", _resp(_bin_rows(START, 7), matched=10_000), {"queryId": "top"})
    half = START + 30 * 60_000
    stub.add_response("start_query", {"queryId": "a"})
    stub.add_response("get_query_results", _resp(_bin_rows(START, 6), matched=5_000), {"queryId": "a"})
    stub.add_response("start_query", {"queryId": "b"})
    stub.add_response("get_query_results", _resp(_bin_rows(half, 6), matched=5_000), {"queryId": "b"})
    df = logs.insights("stats count(*) as n by bin(5m)", "/g", W, limit=7, max_concurrent=1)
    assert df.attrs["shape"] == "binned" and df.attrs["complete"] is True
    assert len(df) == 12 and df["bin(5m)"].is_monotonic_increasing and df["bin(5m)"].is_unique
    assert str(df["bin(5m)"].dtype) == "datetime64[ns, UTC]" and str(df["n"].dtype) == "Int64"
    kids = [_bounds(p) for p in _starts(stub)[1:]]
    assert kids == [(START, half), (half, END)]
    assert all(edge % 300_000 == 0 for edge in (kids[0][1],))


def test_a_single_full_bin_cannot_be_split_and_is_flagged(stub):
    stub.add_response("start_query", {"queryId": "q"})
    stub.add_response("get_query_results", _resp([{"bin(5m)": _ts(START), "k": str(i)} for i in range(3)]), {"queryId": "q"})
    with pytest.warns(IncompleteDataWarning, match="smallest window"):
        df = logs.insights("stats count(*) by bin(5m), k", "/g", ("2026-03-01T03:00:00Z", "2026-03-01T03:05:00Z"), limit=3)
    assert df.attrs["truncated"] is True and df.attrs["queries"] == 1


# --- query shapes and typing -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query, kind, bin_ms",
    [
        ("fields @timestamp, @message", "raw", None),
        ('filter @message like /a|b/ | fields @message', "raw", None),
        ('parse @message /(?<x>\\d+)|(?<y>z)/ | display x', "raw", None),
        ('fields @message # | stats count(*)\n| filter @message like "x | stats"', "raw", None),
        ("fields @duration / 1000 as s | sort s desc", "raw", None),
        ("fields @message | limit 20", "limited", None),
        ("stats count(*) by bin(1m)", "binned", 60_000),
        ("filter @type = 'REPORT' | stats pct(@duration, 99) as p99 by bin(30s), @logStream | sort p99 desc", "binned", 30_000),
        ("stats avg(x) by bin(2h) | filter `avg(x)` > 3", "binned", 7_200_000),
        ("stats count(*) by @logStream", "aggregate", None),
        ("stats count(*) by bin(1mo)", "aggregate", None),
        ("stats count(*) as c by bin(1m) | stats max(c)", "aggregate", None),
        ("stats count(*) by bin(1m) | limit 5", "aggregate", None),
        ("fields @message | dedup @message", "aggregate", None),
        ("pattern @message", "aggregate", None),
    ],
)
def test_query_shapes(query, kind, bin_ms):
    shape = ins.query_shape._query_shape(query)
    assert shape.kind == kind and shape.bin_ms == bin_ms


def test_results_frame_types_values():
    rows = [
        [{"field": "@timestamp", "value": "2024-05-19 06:10:35.743"}, {"field": "n", "value": "12"},
         {"field": "ratio", "value": "0.25"}, {"field": "zip", "value": "00123"}, {"field": "@message", "value": "42"},
         {"field": "@ptr", "value": "Cl..."}, {"field": "when", "value": "2024-05-19 06:00:00.000"}],
        [{"field": "@timestamp", "value": "2024-05-19 06:10:36.000"}, {"field": "n", "value": "-3"},
         {"field": "ratio", "value": "1e-3"}, {"field": "zip", "value": "99"}, {"field": "@message", "value": "x"}],
    ]  # fmt: skip
    df = ins.results_frame(rows)
    assert "@ptr" not in df.columns
    assert str(df["@timestamp"].dtype) == "datetime64[ns, UTC]"
    assert df["@timestamp"].iloc[0] == pd.Timestamp("2024-05-19T06:10:35.743Z")
    assert str(df["n"].dtype) == "Int64" and df["n"].tolist() == [12, -3]
    assert str(df["ratio"].dtype) == "float64"
    assert df["zip"].tolist() == ["00123", "99"]  # zero-padded: stays text
    assert df["@message"].tolist() == ["42", "x"]  # message is always text
    assert str(df["when"].dtype) == "datetime64[ns, UTC]" and pd.isna(df["when"].iloc[1])
    kept = ins.results_frame(rows, keep_ptr=True, columns=["extra"])
    assert kept["@ptr"].iloc[0] == "Cl..." and "extra" in kept.columns and kept["extra"].isna().all()
    empty = ins.results_frame([], columns=["@timestamp", "@message"])
    assert list(empty.columns) == ["@timestamp", "@message"] and empty.empty


@pytest.mark.parametrize(
    "kwargs",
    [{"limit": 0}, {"limit": 100_001}, {"max_queries": 0}, {"max_concurrent": 0}],
)
def test_bad_parameters(kwargs):
    with pytest.raises(ParameterError):
        logs.insights("fields @message", "/g", W, **kwargs)


def test_bad_queries():
    with pytest.raises(ParameterError):
        logs.insights("   ", "/g", W)
    with pytest.raises(ParameterError, match="SOURCE"):
        logs.insights("SOURCE logGroups(namePrefix: ['/aws']) | fields @message", "/g", W)
    with pytest.raises(ParameterError, match="at most 50"):
        ins.start_query("fields @message", [f"/g{i}" for i in range(51)], W)


def test_arns_go_as_log_group_identifiers(stub):
    arn = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/api"
    stub.add_response("start_query", {"queryId": "q"}, {"logGroupIdentifiers": [arn, "/plain"], "startTime": ANY,
                      "endTime": ANY, "queryString": ANY, "limit": ANY})  # fmt: skip
    stub.add_response("get_query_results", _resp([]), {"queryId": "q"})
    df = logs.insights("fields @message", [arn + ":*", "/plain"], W, columns=["@message"])
    assert list(df.columns) == ["@message"] and df.empty


# --- server-side analyses -----------------------------------------------------------------------------


def test_latency_split_query_text_and_frame(stub):
    text = ins.latency_query(bin="1m", origin=START)
    assert text == (
        'filter @type = "REPORT"\n'
        "| fields @duration + coalesce(@initDuration, 0) as ik_latency\n"
        "| stats count(*) as count, pct(ik_latency, 50) as p50, pct(ik_latency, 90) as p90, "
        "pct(ik_latency, 99) as p99, max(ik_latency) as max by bin(1m)"
    )
    rows = [
        {"bin(1m)": _ts(START + 60_000), "count": "40", "p50": "120.5", "p90": "300", "p99": "2100.25", "max": "2400"},
        {"bin(1m)": _ts(START), "count": "35", "p50": "110", "p90": "250.5", "p99": "900", "max": "950.75"},
    ]
    stub.add_response("start_query", {"queryId": "q"})
    stub.add_response("get_query_results", _resp(rows, matched=75), {"queryId": "q"})
    df = logs.insights_latency_split("/aws/lambda/api", W)
    assert _starts(stub)[0]["queryString"].endswith(text)
    assert list(df.columns) == list(ins.LATENCY_COLUMNS)
    assert str(df["timestamp"].dtype) == "datetime64[ns, UTC]" and str(df["count"].dtype) == "int64"
    assert all(str(df[c].dtype) == "float64" for c in ("p50", "p90", "p99", "max"))
    # like the local analysis: every bin of the window, empty ones with count 0 and NaN
    assert len(df) == 60 and df["timestamp"].iloc[0] == pd.Timestamp(START, unit="ms", tz="UTC")
    assert df["timestamp"].diff().dropna().eq(pd.Timedelta("1min")).all()
    assert df["count"].tolist()[:3] == [35, 40, 0] and df["count"].sum() == 75
    assert df["p99"].iloc[:2].tolist() == [900.0, 2100.25] and df["p99"].iloc[2:].isna().all()
    assert df.attrs["source"] == "logs.insights_latency_split" and df.attrs["complete"] is True
    assert df.attrs["bin"] == str(pd.Timedelta("1min"))


def test_latency_split_matches_the_local_analysis_shape():
    la = pytest.importorskip("incidentkit.analyses.latency")
    req = pd.DataFrame({"timestamp": pd.to_datetime([START + 5_000, START + 65_000], unit="ms", utc=True), "latency_ms": [100.0, 300.0]})
    local = la.percentiles(req, by="1min", window=Window.parse(*W))
    assert list(local.columns) == list(ins.LATENCY_COLUMNS)
    assert local.dtypes.astype(str).tolist() == ["datetime64[ns, UTC]", "int64", "float64", "float64", "float64", "float64"]


def test_bins_follow_an_unaligned_window_start_like_the_local_analyses(stub):
    start = START + 30_000  # 03:00:30: Logs Insights' bin(1m) would start bins at 03:00:00
    w = (pd.Timestamp(start, unit="ms", tz="UTC"), pd.Timestamp(start + 5 * 60_000, unit="ms", tz="UTC"))
    rows = [{"ik_bin": "0", "count": "2", "p50": "10", "p90": "20", "p99": "30", "max": "31"},
            {"ik_bin": "3", "count": "1", "p50": "5", "p90": "5", "p99": "5", "max": "5"}]  # fmt: skip
    stub.add_response("start_query", {"queryId": "q"})
    stub.add_response("get_query_results", _resp(rows), {"queryId": "q"})
    df = logs.insights_latency_split("/aws/lambda/api", w, bin="1min")
    sent = _starts(stub)[0]["queryString"]
    assert f"floor((toMillis(@timestamp) - {start}) / 60000) as ik_bin" in sent and sent.endswith("by ik_bin")
    assert df["timestamp"].tolist() == [pd.Timestamp(start + k * 60_000, unit="ms", tz="UTC") for k in range(5)]
    assert df["count"].tolist() == [2, 0, 0, 1, 0]


def test_unaligned_bins_split_on_their_own_boundaries(stub):
    start = START + 30_000
    w = (pd.Timestamp(start, unit="ms", tz="UTC"), pd.Timestamp(start + 3_600_000, unit="ms", tz="UTC"))
    full = [{"ik_bin": str(k), "count": "1", "p50": "1", "p90": "1", "p99": "1", "max": "1"} for k in range(5)]
    stub.add_response("start_query", {"queryId": "top"})
    stub.add_response("get_query_results", _resp(full), {"queryId": "top"})
    for qid, ks in (("a", range(0, 4)), ("b", range(30, 34))):
        stub.add_response("start_query", {"queryId": qid})
        stub.add_response("get_query_results", _resp([{**full[0], "ik_bin": str(k)} for k in ks]), {"queryId": qid})
    df = logs.insights_latency_split("/aws/lambda/api", w, bin="1m", limit=5, max_concurrent=1)
    kids = [_bounds(p) for p in _starts(stub)[1:]]
    assert kids == [(start, start + 30 * 60_000), (start + 30 * 60_000, start + 3_600_000)]
    assert df.attrs["complete"] is True and df["count"].sum() == 8 and len(df) == 60


def test_latency_split_by_cold_start_and_json_source(stub):
    text = ins.latency_query(source="json", latency_field=["latencyMs", "responseLatency"], cold_start_expr="ispresent(@initDuration)",
                             bin="5m", quantiles=(0.5, 0.999))  # fmt: skip
    assert "fields coalesce(latencyMs, responseLatency) as ik_latency, ispresent(@initDuration) as ik_cold" in text
    assert "filter ispresent(ik_latency)" in text and "pct(ik_latency, 99.9) as p99_9" in text and "by bin(5m), ik_cold" in text
    rows = [
        {"bin(5m)": _ts(START), "ik_cold": "1", "count": "3", "p50": "900", "p99_9": "1500", "max": "1500"},
        {"bin(5m)": _ts(START), "ik_cold": "0", "count": "97", "p50": "80", "p99_9": "300", "max": "310"},
    ]
    stub.add_response("start_query", {"queryId": "q"})
    stub.add_response("get_query_results", _resp(rows), {"queryId": "q"})
    df = logs.insights_latency_split("/app", W, source="json", latency_field=["latencyMs", "responseLatency"],
                                     cold_start_expr="ispresent(@initDuration)", bin="5m", quantiles=(0.5, 0.999))  # fmt: skip
    assert list(df.columns) == ["timestamp", "cold_start", "count", "p50", "p99.9", "max"]
    assert df["cold_start"].tolist() == [False, True] and df["count"].tolist() == [97, 3]
    assert df["p99.9"].tolist() == [300.0, 1500.0]


def test_latency_split_empty_has_fixed_columns(stub):
    stub.add_response("start_query", {"queryId": "q"})
    stub.add_response("get_query_results", _resp([]), {"queryId": "q"})
    df = logs.insights_latency_split("/aws/lambda/quiet", ("2026-03-01T03:00:00Z", "2026-03-01T03:03:00Z"))
    assert list(df.columns) == list(ins.LATENCY_COLUMNS)
    assert str(df["timestamp"].dtype) == "datetime64[ns, UTC]" and str(df["count"].dtype) == "int64"
    assert df["count"].tolist() == [0, 0, 0] and df["p50"].isna().all()


def test_latency_split_merges_batches_of_more_than_50_groups(stub):
    groups = [f"/aws/lambda/f{i}" for i in range(60)]
    b0 = [{"bin(1m)": _ts(START), "count": "30", "p50": "100", "p90": "200", "p99": "400", "max": "500"}]
    b1 = [{"bin(1m)": _ts(START), "count": "10", "p50": "200", "p90": "400", "p99": "800", "max": "2000"}]
    stub.add_response("start_query", {"queryId": "q0"})
    stub.add_response("start_query", {"queryId": "q1"})
    stub.add_response("get_query_results", _resp(b0), {"queryId": "q0"})
    stub.add_response("get_query_results", _resp(b1), {"queryId": "q1"})
    df = logs.insights_latency_split(groups, ("2026-03-01T03:00:00Z", "2026-03-01T03:01:00Z"))
    assert len(df) == 1 and list(df.columns) == list(ins.LATENCY_COLUMNS)
    row = df.iloc[0]
    assert row["count"] == 40 and row["max"] == 2000
    assert row["p50"] == pytest.approx((30 * 100 + 10 * 200) / 40)
    assert df.attrs["approximate"] is True and any("approximate" in i for i in df.attrs["issues"])


def test_error_rates_query_and_exact_pivot_across_batches(stub):
    text = ins.error_rate_query(bin="1m")
    assert text == (
        "fields coalesce(status, statusCode, status_code, httpStatus, elb_status_code) as ik_status\n"
        "| filter ispresent(ik_status)\n"
        "| fields floor(ik_status / 100) as ik_class\n"
        "| stats count(*) as requests by bin(1m), ik_class"
    )
    groups = [f"/api/{i}" for i in range(51)]
    t0, t1 = _ts(START), _ts(START + 60_000)
    b0 = [{"bin(1m)": t0, "ik_class": "2", "requests": "90"}, {"bin(1m)": t0, "ik_class": "5", "requests": "10"},
          {"bin(1m)": t1, "ik_class": "2", "requests": "50"}, {"bin(1m)": t1, "ik_class": "1", "requests": "2"}]  # fmt: skip
    b1 = [{"bin(1m)": t0, "ik_class": "4", "requests": "20"}, {"bin(1m)": t1, "ik_class": "2", "requests": "28"},
          {"bin(1m)": t1, "ik_class": "4", "requests": "5"}, {"bin(1m)": t1, "ik_class": "5", "requests": "15"}]  # fmt: skip
    stub.add_response("start_query", {"queryId": "q0"})
    stub.add_response("start_query", {"queryId": "q1"})
    stub.add_response("get_query_results", _resp(b0), {"queryId": "q0"})
    stub.add_response("get_query_results", _resp(b1), {"queryId": "q1"})
    df = logs.insights_error_rates(groups, ("2026-03-01T03:00:00Z", "2026-03-01T03:03:00Z"))
    assert _starts(stub)[0]["queryString"].endswith(text)
    assert list(df.columns) == list(ins.ERROR_RATE_COLUMNS)
    assert df["requests"].tolist() == [120, 100, 0]  # the empty third minute is shown
    assert df["n_4xx"].tolist() == [20, 5, 0] and df["n_5xx"].tolist() == [10, 15, 0] and df["n_other"].tolist() == [0, 2, 0]
    assert df["error_rate"].iloc[:2].tolist() == pytest.approx([30 / 120, 20 / 100]) and pd.isna(df["error_rate"].iloc[2])
    assert df["rate_2xx"].iloc[:2].tolist() == pytest.approx([90 / 120, 78 / 100])
    assert all(str(df[c].dtype) == "float64" for c in ins.ERROR_RATE_COLUMNS[1:])
    assert df.attrs["source"] == "logs.insights_error_rates" and not any("batches of up to" in i for i in df.attrs["issues"])


def test_error_rates_match_the_local_analysis_shape():
    er = pytest.importorskip("incidentkit.analyses.errors")
    req = pd.DataFrame({"timestamp": pd.to_datetime([START + 5_000] * 3, unit="ms", utc=True), "status": [200, 503, 404]})
    local = er.error_rate(req, by="1min", window=Window.parse(*W))
    assert list(local.columns) == list(ins.ERROR_RATE_COLUMNS)
    assert local.dtypes.astype(str).tolist()[1:] == ["float64"] * (len(ins.ERROR_RATE_COLUMNS) - 1)


@pytest.mark.parametrize("bad", ["1 month", "0m", "5", "1mo", "m1", "8d"])
def test_bad_bins(bad):
    with pytest.raises(ParameterError):
        ins.latency_query(bin=bad)


# --- moto: the call path -----------------------------------------------------------------------------


def test_call_path_against_moto():
    from moto import mock_aws

    with mock_aws():
        c = boto3.client("logs", region_name=REGION)
        now = (int(time.time()) - 600) * 1000
        c.create_log_group(logGroupName="/moto/app")
        c.create_log_stream(logGroupName="/moto/app", logStreamName="s")
        c.put_log_events(logGroupName="/moto/app", logStreamName="s",
                         logEvents=[{"timestamp": now - 1000 * (29 - i), "message": f"m{i}"} for i in range(30)])  # fmt: skip
        w = Window(pd.Timestamp(now - 3_600_000, unit="ms", tz="UTC"), pd.Timestamp(now + 1, unit="ms", tz="UTC"))
        df = logs.insights("fields @timestamp, @message", "/moto/app", w, poll=0.01)
    assert len(df) == 30 and df["@timestamp"].is_monotonic_increasing
    assert str(df["@timestamp"].dtype) == "datetime64[ns, UTC]"
    assert df.attrs["api_calls"] >= 2 and df.attrs["complete"] is True


def test_error_patterns_of_both_windows_become_the_signature_frame(stub):
    """Logs Insights' pattern command on the incident window and the baseline: one query each, the
    documented output fields (@pattern, @sampleCount, @ratio, @severityLabel) read into the frame
    signatures.from_patterns takes; a template absent from the baseline is new."""
    from incidentkit.analyses import signatures as sig

    inc = [{"@pattern": "Task timed out after <Token-1> seconds", "@sampleCount": "120", "@ratio": "0.9", "@severityLabel": "Error"},
           {"@pattern": "<Time-1> ERROR disk full on <Path-2>", "@sampleCount": "10", "@ratio": "0.1", "@severityLabel": "Error"}]
    base = [{"@pattern": "<Time-1> ERROR disk full on <*>", "@sampleCount": "9", "@ratio": "1.0", "@severityLabel": "Error"}]
    stub.add_response("start_query", {"queryId": "qi"})
    stub.add_response("get_query_results", _resp(inc), {"queryId": "qi"})
    stub.add_response("start_query", {"queryId": "qb"})
    stub.add_response("get_query_results", _resp(base), {"queryId": "qb"})
    baseline = ("2026-03-01T02:00:00Z", "2026-03-01T03:00:00Z")
    p = ins.insights_error_patterns("/aws/lambda/api", W, baseline=baseline)
    starts = _starts(stub)
    assert all(s["queryString"].endswith(ins.error_pattern_query()) for s in starts) and len(starts) == 2
    assert [s["startTime"] for s in starts] == [START // 1000, (START - 3_600_000) // 1000]
    assert list(p.columns) == list(ins.PATTERN_COLUMNS) and p["side"].tolist() == ["incident", "incident", "baseline"]
    assert p["count"].tolist() == [120, 10, 9] and p.attrs["exposure"] == p.attrs["baseline_exposure"] == 3600
    out = sig.from_patterns(p, exposure=p.attrs["exposure"], baseline_exposure=p.attrs["baseline_exposure"])
    assert list(out.columns) == list(sig.SIGNATURE_COLUMNS)
    assert out["template"].tolist() == ["Task timed out after <*> seconds", "<*> ERROR disk full on <*>"]
    assert out["new"].tolist() == [True, False] and out["baseline_count"].tolist() == [0, 9]


def test_error_patterns_of_an_empty_window_are_an_empty_frame(stub):
    stub.add_response("start_query", {"queryId": "q0"})
    stub.add_response("get_query_results", _resp([]), {"queryId": "q0"})
    p = ins.insights_error_patterns(["/g/a"], W, filter="filter level = 'ERROR'")
    assert p.empty and list(p.columns) == list(ins.PATTERN_COLUMNS) and p.attrs["baseline_exposure"] is None
    assert _starts(stub)[0]["queryString"].endswith("fields @message\n| filter level = 'ERROR'\n| pattern @message")
