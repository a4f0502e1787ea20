"""incidentkit.fetch.logs.events / iter_pages: FilterLogEvents into tidy frames.

moto (in-process and over HTTP) for the call paths and paging at volume; botocore's Stubber
for the shapes moto cannot produce (empty pages with tokens, repeated tokens, duplicates,
ARNs); a ``before-send`` hook acting as a tiny FilterLogEvents server for throttling,
connection errors, expired credentials, concurrency and interrupts.
"""

from __future__ import annotations

import _thread
import json
import threading
import time
import warnings
from typing import Any

import boto3
import numpy as np
import pandas as pd
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import EndpointConnectionError
from botocore.stub import ANY, Stubber

from incidentkit.fetch import aws, logs
from incidentkit import schema
from incidentkit.errors import (
    BadWindowError,
    EndpointError,
    IncompleteDataWarning,
    NoCredentialsError,
    NotFoundError,
    ParameterError,
    ThrottledError,
)
from incidentkit.fetch.logs import _SeenIds
from incidentkit.window import Window

REGION = "us-east-1"


def _window(now_ms: int, back_ms: int = 3 * 3600_000) -> Window:
    return Window(pd.Timestamp(now_ms - back_ms, unit="ms", tz="UTC"), pd.Timestamp(now_ms, unit="ms", tz="UTC"))


def _now_ms() -> int:
    # whole seconds, an hour in the past: comfortably inside moto's 14-day acceptance window
    return (int(time.time()) - 3600) * 1000


def _seed(client: Any, group: str, streams: dict[str, int], base_ms: int, *, step_ms: int = 7) -> int:
    """Create ``group`` with streams of ``n`` events each (messages unique), via put_log_events batches."""
    client.create_log_group(logGroupName=group)
    total = 0
    for s_i, (stream, n) in enumerate(streams.items()):
        client.create_log_stream(logGroupName=group, logStreamName=stream)
        for lo in range(0, n, 10_000):
            batch = [
                {"timestamp": base_ms + (i * step_ms) + s_i, "message": f"{group}|{stream}|{i}"}
                for i in range(lo, min(n, lo + 10_000))
            ]
            client.put_log_events(logGroupName=group, logStreamName=stream, logEvents=batch)
        total += n
    return total


def _assert_events_frame(df: pd.DataFrame) -> None:
    assert tuple(df.columns) == schema.EVENT_COLUMNS
    assert str(df["timestamp"].dtype) == "datetime64[ns, UTC]"
    assert str(df["ingestion_time"].dtype) == "datetime64[ns, UTC]"
    for c in ("log_group", "log_stream", "event_id", "message"):
        assert str(df[c].dtype).startswith(("string", "str")) or isinstance(df[c].dtype, pd.StringDtype), c
    # sorted by timestamp, then event_id
    keys = list(zip(df["timestamp"].astype("int64"), df["event_id"].astype(str)))
    assert keys == sorted(keys)


@pytest.fixture
def moto_logs():
    from moto import mock_aws

    with mock_aws():
        yield boto3.client("logs", region_name=REGION)


# --- moto: paging at volume, several streams and groups ------------------------------------------------


def test_pagination_over_25k_events_in_several_streams_and_groups(moto_logs):
    now = _now_ms()
    base = now - 2 * 3600_000
    sizes = {
        "/aws/lambda/api-handler": {"2026/03/01/[$LATEST]a": 4_000, "2026/03/01/[$LATEST]b": 4_000, "c": 4_000, "d": 4_000},
        "/ecs/web": {"web/1": 3_500, "web/2": 3_500, "web/3": 3_500},
        "/aws/apigateway/access": {"only": 500},
    }
    for g, streams in sizes.items():
        _seed(moto_logs, g, streams, base)
    df = logs.events(list(sizes), _window(now), max_workers=3)

    assert len(df) == 27_000
    _assert_events_frame(df)
    # every event exactly once, in the right group and stream
    parts = df["message"].str.split("|", expand=True)
    assert (parts[0] == df["log_group"]).all() and (parts[1] == df["log_stream"]).all()
    assert not df["message"].duplicated().any()
    assert df.groupby("log_group").size().to_dict() == {g: sum(s.values()) for g, s in sizes.items()}
    a = df.attrs
    assert a["source"] == "logs.events" and a["complete"] is True and a["truncated"] is False
    # moto pages 10,000 events: 16,000 → 2 calls, 10,500 → 2, 500 → 1
    assert a["api_calls"] == 5 and a["pages"] == 5
    assert a["duplicates"] == 0 and a["rows"] == 27_000
    assert a["events_per_group"]["/ecs/web"] == 10_500
    assert a["query"]["api"] == "FilterLogEvents" and a["region"] == REGION


def test_window_is_half_open_to_the_millisecond(moto_logs):
    now = _now_ms()
    w = _window(now, back_ms=600_000)
    s, e = w.start_ms, w.end_ms
    moto_logs.create_log_group(logGroupName="/edge")
    moto_logs.create_log_stream(logGroupName="/edge", logStreamName="s")
    stamps = [s - 1, s, s + 1, e - 1, e, e + 1]
    moto_logs.put_log_events(
        logGroupName="/edge", logStreamName="s", logEvents=[{"timestamp": t, "message": str(t)} for t in stamps]
    )
    df = logs.events("/edge", w)
    assert df["message"].tolist() == [str(s), str(s + 1), str(e - 1)]
    assert df["timestamp"].iloc[0] == w.start


def test_streams_are_sent_100_a_call_and_only_those_are_returned(moto_logs):
    now = _now_ms()
    moto_logs.create_log_group(logGroupName="/many")
    names = [f"stream-{i:03d}" for i in range(120)]
    for i, n in enumerate(names):
        moto_logs.create_log_stream(logGroupName="/many", logStreamName=n)
        moto_logs.put_log_events(
            logGroupName="/many", logStreamName=n, logEvents=[{"timestamp": now - 60_000 + i, "message": n}]
        )
    wanted = names[5:110]  # 105 streams: two calls (100 + 5)
    df = logs.events("/many", _window(now), streams=wanted)
    assert sorted(df["log_stream"].tolist()) == sorted(wanted)
    assert df.attrs["api_calls"] == 2
    assert df.attrs["query"]["logStreamNames"] == wanted


def test_limit_truncates_and_says_so(moto_logs):
    now = _now_ms()
    _seed(moto_logs, "/big", {"a": 9_000, "b": 9_000}, now - 3_600_000)
    with pytest.warns(IncompleteDataWarning, match="limit=12,345"):
        df = logs.events("/big", _window(now), limit=12_345)
    assert len(df) == 12_345
    assert df.attrs["truncated"] is True and df.attrs["complete"] is False
    # a limit above what exists is not a truncation
    with warnings.catch_warnings():
        warnings.simplefilter("error", IncompleteDataWarning)
        full = logs.events("/big", _window(now), limit=18_000)
    assert len(full) == 18_000 and full.attrs["complete"] is True and full.attrs["truncated"] is False


def test_empty_window_gives_the_fixed_columns(moto_logs):
    now = _now_ms()
    moto_logs.create_log_group(logGroupName="/quiet")
    df = logs.events("/quiet", _window(now))
    assert df.empty
    assert tuple(df.columns) == schema.EVENT_COLUMNS
    assert str(df["timestamp"].dtype) == "datetime64[ns, UTC]"
    assert df.attrs["complete"] is True and df.attrs["api_calls"] == 1


def test_missing_group_names_it_and_suggests_similar(moto_logs):
    now = _now_ms()
    for g in ("/aws/lambda/api-handler", "/aws/lambda/billing"):
        moto_logs.create_log_group(logGroupName=g)
    with pytest.raises(NotFoundError) as info:
        logs.events(["/aws/lambda/api-handlr"], _window(now))
    err = info.value
    text = str(err)
    assert "'/aws/lambda/api-handlr' does not exist" in text
    assert "similar: /aws/lambda/api-handler" in text
    assert "\n" not in err.message
    assert err.context["log_group"] == "/aws/lambda/api-handlr"
    assert isinstance(err.partial, pd.DataFrame) and tuple(err.partial.columns) == schema.EVENT_COLUMNS
    assert err.partial.attrs["complete"] is False


def test_the_same_group_twice_is_fetched_once(moto_logs):
    now = _now_ms()
    _seed(moto_logs, "/dup", {"s": 10}, now - 60_000)
    df = logs.events(["/dup", "/dup"], _window(now))
    assert len(df) == 10 and df.attrs["api_calls"] == 1


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"streams": ["a"], "stream_prefix": "a"}, ParameterError),
        ({"limit": 0}, ParameterError),
        ({"max_workers": 0}, ParameterError),
        ({"pattern": 5}, ParameterError),
        ({"streams": []}, ParameterError),
    ],
)
def test_bad_arguments_fail_before_any_call(kwargs, error):
    with pytest.raises(error):
        logs.iter_pages("/g", ("2026-03-01T03:00Z", "2026-03-01T04:00Z"), **kwargs)


def test_bad_groups_and_windows():
    with pytest.raises(ParameterError):
        logs.events([], ("2026-03-01T03:00Z", "2026-03-01T04:00Z"))
    with pytest.raises(ParameterError):
        logs.events(["/ok", ""], ("2026-03-01T03:00Z", "2026-03-01T04:00Z"))
    with pytest.raises(BadWindowError):
        logs.events("/g", ("2026-03-01T04:00Z", "2026-03-01T03:00Z"))
    with pytest.raises(BadWindowError):
        logs.events("/g", "yesterday")


# --- moto over HTTP ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def moto_server():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def test_http_round_trip_against_moto_server(moto_server):
    seeder = boto3.client("logs", region_name=REGION, endpoint_url=moto_server)
    now = _now_ms()
    _seed(seeder, "/http/a", {"s1": 6_000, "s2": 5_000}, now - 3_600_000)
    _seed(seeder, "/http/b", {"only": 1_500}, now - 3_600_000)
    pages = logs.iter_pages(["/http/a", "/http/b"], _window(now), endpoint_url=moto_server, region=REGION)
    sizes = [len(p) for p in pages]
    assert sum(sizes) == 12_500 and max(sizes) <= logs.MAX_PAGE_EVENTS
    assert pages.attrs["complete"] is True and pages.attrs["api_calls"] == 3
    df = logs.events(["/http/a", "/http/b"], _window(now), endpoint_url=moto_server, region=REGION)
    assert len(df) == 12_500 and not df["message"].duplicated().any()
    _assert_events_frame(df)


# --- Stubber: page shapes moto cannot produce ---------------------------------------------------------


@pytest.fixture
def stubbed(monkeypatch):
    """A guarded logs client with a Stubber; the kit is made to use it."""
    client = aws.client("logs", region=REGION)
    stub = Stubber(client)
    monkeypatch.setattr(aws, "client", lambda *a, **k: client)
    with stub:
        yield stub
    stub.assert_no_pending_responses()


W = ("2026-03-01T03:00:00Z", "2026-03-01T04:00:00Z")
W_MS = (1772334000000, 1772337600000 - 1)


def _ev(ts: int, eid: str, msg: str = "m", stream: str = "s") -> dict[str, Any]:
    return {"logStreamName": stream, "timestamp": ts, "ingestionTime": ts + 500, "message": msg, "eventId": eid}


def _params(group: str = "/g", token: str | None = None, **more: Any) -> dict[str, Any]:
    p = {"logGroupName": group, "startTime": W_MS[0], "endTime": W_MS[1], **more}
    if token:
        p["nextToken"] = token
    return p


def test_empty_pages_with_tokens_are_followed(stubbed):
    t0 = W_MS[0]
    stubbed.add_response("filter_log_events", {"events": [], "nextToken": "t1"}, _params())
    stubbed.add_response("filter_log_events", {"events": [], "nextToken": "t2"}, _params(token="t1"))
    stubbed.add_response("filter_log_events", {"events": [_ev(t0 + 1, "1"), _ev(t0 + 2, "2")], "nextToken": "t3"}, _params(token="t2"))
    stubbed.add_response("filter_log_events", {"events": [], "nextToken": "t4"}, _params(token="t3"))
    stubbed.add_response("filter_log_events", {"events": [_ev(t0 + 3, "3")]}, _params(token="t4"))
    df = logs.events("/g", W)
    assert df["event_id"].tolist() == ["1", "2", "3"]
    assert df.attrs["pages"] == 5 and df.attrs["empty_pages"] == 3 and df.attrs["api_calls"] == 5
    assert df.attrs["complete"] is True


@pytest.mark.parametrize("tokens", [["A", "B", "A"], ["A", "A"]])
def test_a_repeated_token_stops_instead_of_looping(stubbed, tokens):
    t0 = W_MS[0]
    prev = None
    for i, tok in enumerate(tokens):
        stubbed.add_response("filter_log_events", {"events": [_ev(t0 + i, str(i))], "nextToken": tok}, _params(token=prev))
        prev = tok
    # no further response is stubbed: one more call would fail the test (one chain: the stubs pin its calls)
    with pytest.warns(IncompleteDataWarning, match="repeated a nextToken"):
        df = logs.events("/g", W, slices=1)
    assert len(df) == len(tokens)
    assert df.attrs["complete"] is False and df.attrs["api_calls"] == len(tokens)
    assert any("endless loop" in i for i in df.attrs["issues"])


def test_out_of_order_and_duplicate_events_are_sorted_and_deduplicated(stubbed):
    t0 = W_MS[0]
    page1 = [_ev(t0 + 50, "e50"), _ev(t0 + 10, "e10"), _ev(t0 + 30, "e30"), _ev(t0 + 10, "e10")]  # dup inside a page
    page2 = [_ev(t0 + 30, "e30"), _ev(t0 + 20, "e20"), _ev(t0 + 20, "e19")]  # dup across pages; same ms, two ids
    stubbed.add_response("filter_log_events", {"events": page1, "nextToken": "n"}, _params())
    stubbed.add_response("filter_log_events", {"events": page2}, _params(token="n"))
    # the same event id in another group is another event
    stubbed.add_response("filter_log_events", {"events": [_ev(t0 + 10, "e10")]}, _params("/other"))
    df = logs.events(["/g", "/other"], W, max_workers=1)
    assert list(zip(df["log_group"], df["event_id"])) == [
        ("/g", "e10"), ("/other", "e10"), ("/g", "e19"), ("/g", "e20"), ("/g", "e30"), ("/g", "e50"),
    ]  # fmt: skip
    assert df.attrs["duplicates"] == 2
    assert df.attrs["complete"] is True
    _assert_events_frame(df)


def test_time_ordered_pages_with_ties_out_of_order_are_still_sorted(stubbed):
    t0 = W_MS[0]
    stubbed.add_response("filter_log_events", {"events": [_ev(t0 + 1, "b"), _ev(t0 + 1, "a"), _ev(t0 + 2, "z")]}, _params("/p"))
    stubbed.add_response("filter_log_events", {"events": [_ev(t0 + 2, "z")]}, _params("/o"))
    df = logs.events(["/p", "/o"], W, max_workers=1)
    assert list(zip(df["event_id"], df["log_group"])) == [("a", "/p"), ("b", "/p"), ("z", "/o"), ("z", "/p")]


def test_arn_uses_log_group_identifier_and_labels_by_name(stubbed):
    arn = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/api"
    p = {"logGroupIdentifier": arn, "startTime": W_MS[0], "endTime": W_MS[1]}
    stubbed.add_response("filter_log_events", {"events": [_ev(W_MS[0] + 5, "x")]}, p)
    df = logs.events(arn + ":*", W)
    assert df["log_group"].tolist() == ["/aws/lambda/api"]
    assert df.attrs["query"]["log_groups"] == [arn]


def test_pattern_and_prefix_reach_the_api(stubbed):
    stubbed.add_response(
        "filter_log_events", {"events": []}, _params(filterPattern="?ERROR ?Timeout", logStreamNamePrefix="2026/03/01")
    )
    df = logs.events("/g", W, pattern="?ERROR ?Timeout", stream_prefix="2026/03/01")
    assert df.empty and df.attrs["query"]["filterPattern"] == "?ERROR ?Timeout"


def test_limit_is_passed_down_as_what_remains(stubbed):
    t0 = W_MS[0]
    stubbed.add_response("filter_log_events", {"events": [_ev(t0 + i, f"a{i}") for i in range(3)], "nextToken": "n"}, _params(limit=5))
    stubbed.add_response("filter_log_events", {"events": [_ev(t0 + 9, "b"), _ev(t0 + 10, "c")], "nextToken": "m"}, _params(token="n", limit=2))
    with pytest.warns(IncompleteDataWarning):
        df = logs.events("/g", W, limit=5)
    assert len(df) == 5 and df.attrs["truncated"] is True


def test_published_filter_log_events_response(stubbed, aws_samples, expected_samples):
    body = json.loads((aws_samples / "cwlogs_filter_log_events_response.json").read_text())
    want = expected_samples["cwlogs_filter_log_events_response.json"]["document"]
    stubbed.add_response("filter_log_events", body, {"logGroupName": "/sample", "startTime": ANY, "endTime": ANY})
    df = logs.events("/sample", ("2024-04-08T09:00:00Z", "2024-04-08T10:00:00Z"))
    assert len(df) == want["events_count"]
    by_id = df.set_index("event_id")
    for ev in want["events"]:
        row = by_id.loc[ev["eventId"]]
        assert row["timestamp"] == pd.Timestamp(ev["timestamp_iso"])
        assert row["ingestion_time"] == pd.Timestamp(ev["ingestionTime_iso"])
        assert row["log_stream"] == ev["logStreamName"] and row["message"] == ev["message"]
        assert len(ev["eventId"]) == 56  # opaque 56-digit ids survive as text


# --- a before-send hook as a tiny FilterLogEvents server: faults, concurrency, interrupts -----------------
# FakeLogs serves a group as one list of pages and ignores startTime / endTime, so the tests on it
# read each group as one chain (slices=1). Slicing is tested against moto, which honours the window
# (tests/fetch/test_slices.py).


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any):
        yield self._body


def _response(request: Any, status: int, body: dict[str, Any]) -> AWSResponse:
    headers = {"Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": "req"}
    return AWSResponse(request.url, status, headers, _Raw(json.dumps(body).encode()))


class FakeLogs:
    """Serves FilterLogEvents from memory: ``page`` events a page, tokens ``"<group>#<offset>"``.

    ``fault(group, offset, attempt)`` may return ``("throttle"|"expired"|"connection")`` to
    inject a fault on that call; ``on_call`` runs before each answer (for barriers, delays).
    """

    def __init__(self, data: dict[str, list[dict[str, Any]]], page: int = 100) -> None:
        self.data, self.page = data, page
        self.calls = 0
        self.attempts: dict[tuple[str, int], int] = {}
        self.fault = lambda group, offset, attempt: None
        self.on_call = lambda group, offset: None
        self.injected = 0
        self.lock = threading.Lock()

    def __call__(self, request: Any, **_: Any) -> AWSResponse:
        body = json.loads(request.body or b"{}")
        group = body["logGroupName"]
        offset = int(body["nextToken"].split("#")[1]) if body.get("nextToken") else 0
        with self.lock:
            self.calls += 1
            attempt = self.attempts[(group, offset)] = self.attempts.get((group, offset), 0) + 1
        self.on_call(group, offset)
        fault = self.fault(group, offset, attempt)
        if fault:
            with self.lock:
                self.injected += 1
        if fault == "throttle":
            return _response(request, 400, {"__type": "ThrottlingException", "message": "Rate exceeded"})
        if fault == "expired":
            return _response(request, 400, {"__type": "ExpiredTokenException", "message": "The security token included in the request is expired"})
        if fault == "connection":
            raise EndpointConnectionError(endpoint_url=request.url)
        if group not in self.data:
            return _response(request, 400, {"__type": "ResourceNotFoundException", "message": "The specified log group does not exist."})
        events = self.data[group]
        chunk = events[offset : offset + self.page]
        out: dict[str, Any] = {"events": chunk, "searchedLogStreams": []}
        if offset + self.page < len(events):
            out["nextToken"] = f"{group}#{offset + self.page}"
        return _response(request, 200, out)


def _dataset(groups: dict[str, int]) -> dict[str, list[dict[str, Any]]]:
    t0 = W_MS[0]
    return {
        g: [_ev(t0 + i * 3, f"{g}-{i:06d}", msg=f"{g} {i}", stream=f"s{i % 3}") for i in range(n)]
        for g, n in groups.items()
    }


@pytest.fixture
def fake(monkeypatch):
    """A boto3 Session whose logs calls are answered by a FakeLogs; no backoff sleeps."""
    from botocore.retries import standard

    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", lambda self, context: 0.0)

    def make(groups: dict[str, int], page: int = 100) -> tuple[FakeLogs, boto3.Session]:
        server = FakeLogs(_dataset(groups), page=page)
        session = boto3.Session(region_name=REGION)
        session.events.register("before-send.logs.FilterLogEvents", server)
        return server, session

    return make


def test_throttling_is_retried_and_counted(fake):
    server, session = fake({"/a": 450, "/b": 230})
    server.fault = lambda g, off, attempt: "throttle" if attempt <= 2 and (off // 100) % 2 == 0 else None
    with warnings.catch_warnings():
        warnings.simplefilter("error", IncompleteDataWarning)
        df = logs.events(["/a", "/b"], W, session=session, max_attempts=5, slices=1)
    assert len(df) == 680 and df.attrs["complete"] is True
    assert server.injected > 0
    assert df.attrs["retries"] == server.injected
    assert df.attrs["api_calls"] == 5 + 3  # successful calls (pages); retries are counted apart


def test_thirty_percent_of_calls_throttled_every_fetch_completes(fake):
    import zlib

    server, session = fake({f"/svc{i}": 700 + 37 * i for i in range(6)}, page=50)

    def fault(group: str, offset: int, attempt: int) -> str | None:
        h = zlib.crc32(f"{group}#{offset}".encode())
        throttled = h % 10 < 3  # 30 % of the calls ...
        return "throttle" if throttled and attempt <= 1 + h % 3 else None  # ... each throttled 1 to 3 times

    server.fault = fault
    df = logs.events([f"/svc{i}" for i in range(6)], W, session=session, slices=1)
    calls = df.attrs["api_calls"]
    assert len(df) == sum(700 + 37 * i for i in range(6)) and df.attrs["complete"] is True
    assert 0.2 * calls < sum(1 for (g, off), n in server.attempts.items() if n > 1) < 0.4 * calls
    assert df.attrs["retries"] == server.injected > 0


def test_throttled_past_the_budget_raises_with_the_partial_frame(fake):
    server, session = fake({"/a": 350})
    server.fault = lambda g, off, attempt: "throttle" if off == 200 else None
    with pytest.raises(ThrottledError) as info:
        logs.events("/a", W, session=session, max_attempts=3, slices=1)
    err = info.value
    assert "retry budget" in err.message and err.context["log_group"] == "/a"
    part = err.partial
    assert len(part) == 200 and part["event_id"].is_unique
    assert part.attrs["complete"] is False and part.attrs["retries"] == 2
    assert any("/a" in i for i in part.attrs["issues"])


@pytest.mark.parametrize("fault, error", [("connection", EndpointError), ("expired", NoCredentialsError)])
def test_connection_loss_and_expired_credentials_keep_the_evidence(fake, fault, error):
    server, session = fake({"/a": 300})
    server.fault = lambda g, off, attempt: fault if off >= 100 else None
    with pytest.raises(error) as info:
        logs.events("/a", W, session=session, max_attempts=2, slices=1)
    assert len(info.value.partial) == 100
    assert info.value.partial.attrs["complete"] is False


def test_groups_are_fetched_concurrently_and_bounded(fake):
    server, session = fake({f"/g{i}": 250 for i in range(8)}, page=50)
    barrier = threading.Barrier(2, timeout=10)
    inflight = {"now": 0, "max": 0}
    lock = threading.Lock()

    def on_call(group: str, offset: int) -> None:
        with lock:
            inflight["now"] += 1
            inflight["max"] = max(inflight["max"], inflight["now"])
        if group in ("/g0", "/g1") and offset == 0:
            barrier.wait()  # both first calls must be in flight together, or this times out
        time.sleep(0.002)
        with lock:
            inflight["now"] -= 1

    server.on_call = on_call
    df = logs.events([f"/g{i}" for i in range(8)], W, session=session, max_workers=4, slices=1)
    assert len(df) == 2000 and df.attrs["complete"] is True
    assert df.groupby("log_group").size().eq(250).all()
    assert 2 <= inflight["max"] <= 4
    assert df.attrs["api_calls"] == 8 * 5


def test_serial_fetch_cannot_pass_the_concurrency_check(fake):
    """The barrier above really detects concurrency: with one worker it breaks."""
    server, session = fake({"/g0": 10, "/g1": 10})
    barrier = threading.Barrier(2, timeout=0.5)
    server.on_call = lambda g, off: barrier.wait() if off == 0 else None
    with pytest.raises(Exception):
        logs.events(["/g0", "/g1"], W, session=session, max_workers=1, max_attempts=1, slices=1)


def test_keyboard_interrupt_returns_what_was_fetched(fake):
    server, session = fake({"/slow": 5_000}, page=50)

    def on_call(group: str, offset: int) -> None:
        if offset == 150:
            _thread.interrupt_main()  # Ctrl-C, delivered to the main thread
        if offset > 150:
            time.sleep(0.02)

    server.on_call = on_call
    try:
        with pytest.warns(IncompleteDataWarning, match="interrupted by user"):
            df = logs.events("/slow", W, session=session, max_workers=1, slices=1)
    except KeyboardInterrupt:  # pragma: no cover - the behaviour under test failed
        pytest.fail("KeyboardInterrupt escaped logs.events")
    assert 0 < len(df) < 5_000 and df["event_id"].is_unique
    assert df.attrs["complete"] is False and df.attrs["interrupted"] is True
    assert any("interrupted by user" in i for i in df.attrs["issues"])


# --- streaming -------------------------------------------------------------------------------------


def test_iter_pages_streams_frames_and_counts(fake):
    server, session = fake({"/a": 1_234, "/b": 77}, page=100)
    pages = logs.iter_pages(["/a", "/b"], W, session=session, slices=1)
    seen = 0
    for page in pages:
        assert tuple(page.columns) == schema.EVENT_COLUMNS and 0 < len(page) <= 100
        seen += len(page)
    assert seen == 1_311 == pages.attrs["rows"]
    assert pages.attrs["complete"] is True and pages.attrs["pages"] == 13 + 1
    with pytest.raises(ParameterError):
        iter(pages)


def test_stopping_early_keeps_the_pages_already_fetched(fake):
    server, session = fake({"/a": 1_000}, page=100)
    pages = logs.iter_pages("/a", W, session=session, max_workers=1, slices=1)
    it = iter(pages)
    next(it)
    deadline = time.monotonic() + 10
    while server.calls < 4 and time.monotonic() < deadline:  # the worker fills the queue ahead of the reader
        time.sleep(0.01)
    pages.close()
    kept = sum(len(f) for f in pages.leftover)  # fetched and queued, never yielded: kept, not lost
    assert kept >= 200 and pages.attrs["rows"] == 100 + kept
    assert pd.concat(pages.leftover)["event_id"].is_unique
    assert pages.attrs["complete"] is False and pages.attrs["interrupted"] is True
    assert server.calls < 10


def test_seen_ids_matches_a_python_set():
    rng = np.random.default_rng(7)
    seen, ref = _SeenIds(), set()
    for _ in range(60):
        batch = rng.integers(0, 5_000, size=rng.integers(1, 300), dtype=np.uint64)
        batch = np.unique(batch)
        got = seen.contains(batch)
        assert got.tolist() == [int(x) in ref for x in batch]
        new = batch[~got]
        seen.add(new)
        ref.update(int(x) for x in new)
    assert len(seen) == len(ref)
    assert len(seen.levels) <= 12  # merged, not one array per batch


# --- progress ------------------------------------------------------------------------------------


def test_progress_bar_counts_events(fake, monkeypatch):
    import tqdm.auto

    bars: list[Any] = []

    class Bar:
        def __init__(self, **kwargs: Any) -> None:
            self.n, self.closed, self.kwargs = 0, False, kwargs
            bars.append(self)

        def update(self, n: int) -> None:
            self.n += n

        def set_postfix_str(self, *_: Any, **__: Any) -> None:
            pass

        def close(self) -> None:
            self.closed = True

    monkeypatch.setattr(tqdm.auto, "tqdm", Bar)
    server, session = fake({"/a": 420, "/b": 80})
    logs.events(["/a", "/b"], W, session=session, progress=True, slices=1)
    assert len(bars) == 1 and bars[0].n == 500 and bars[0].closed
    logs.events(["/a"], W, session=session, progress=False, slices=1)
    assert len(bars) == 1


def test_progress_default_follows_tty_and_env(monkeypatch):
    from incidentkit.fetch.logs import _progress_enabled

    class Tty:
        def __init__(self, tty: bool) -> None:
            self.tty = tty

        def isatty(self) -> bool:
            return self.tty

    monkeypatch.setenv("INCIDENTKIT_PROGRESS", "1")
    monkeypatch.setattr("sys.stderr", Tty(True))
    assert _progress_enabled(None) is True
    monkeypatch.setattr("sys.stderr", Tty(False))
    monkeypatch.delitem(__import__("sys").modules, "IPython", raising=False)
    assert _progress_enabled(None) is False
    monkeypatch.setattr("sys.stderr", Tty(True))
    monkeypatch.setenv("INCIDENTKIT_PROGRESS", "0")
    assert _progress_enabled(None) is False
    assert _progress_enabled(True) is True


def test_public_names_are_pinned():
    from incidentkit.fetch import insights as ins

    assert sorted(logs.__all__) == sorted([
        "events", "iter_pages", "EventPages", "MAX_PAGE_EVENTS", "MAX_STREAMS_PER_CALL",
        "insights", "start_query", "wait_query", "collect", "results_frame",
        "insights_latency_split", "insights_error_rates", "LATENCY_COLUMNS", "ERROR_RATE_COLUMNS",
        "MAX_LOG_GROUPS", "MAX_LIMIT", "DEFAULT_LIMIT",
    ])  # fmt: skip
    assert sorted(ins.__all__) == sorted([
        "insights", "start_query", "wait_query", "collect", "results_frame", "insights_latency_split",
        "insights_error_rates", "latency_query", "error_rate_query", "LATENCY_COLUMNS", "ERROR_RATE_COLUMNS",
        "MAX_LOG_GROUPS", "MAX_LIMIT", "DEFAULT_LIMIT", "insights_error_patterns", "error_pattern_query", "PATTERN_COLUMNS",
    ])  # fmt: skip
    for name in logs.__all__:
        assert getattr(logs, name) is not None
    assert logs.insights is ins.insights  # one implementation, re-exported
