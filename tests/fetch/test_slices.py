"""A log group's window read as concurrent time slices (incidentkit.fetch.logs.slices and EventPages).

moto for a group at volume (it honours startTime/endTime and sorts by time, as AWS documents);
a ``before-send`` hook serving sorted events in small pages, honouring the bounds, for many
slices and injected throttling; botocore's Stubber for a chain that is not in time order.
"""

from __future__ import annotations

import json
import random
import threading
import time
import warnings
from typing import Any

import boto3
import pandas as pd
import pytest
from botocore.awsrequest import AWSResponse
from botocore.stub import ANY, Stubber

from incidentkit.errors import IncompleteDataWarning, ParameterError
from incidentkit.fetch import aws, logs, pacing
from incidentkit.fetch.logs.slices import HEADROOM, MAX_CHAINS, MAX_SLICES, chains_to_fill, chains_wanted, even_slices, rest_slices
from incidentkit.window import Window

from _helpers.fake_aws import error_response, ok_response

REGION = "us-east-1"
START_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z
W = Window(pd.Timestamp(START_MS, unit="ms", tz="UTC"), pd.Timestamp(START_MS + 3 * 3600_000, unit="ms", tz="UTC"))


# --- the slice arithmetic -----------------------------------------------------------------------------


def test_even_slices_cover_the_window_once():
    rng = random.Random(7)
    for _ in range(300):
        start = rng.randrange(0, 10**12)
        end = start + rng.randrange(0, 10**7)
        parts = rng.randrange(1, 70)
        spans = even_slices(start, end, parts)
        assert spans[0][0] == start and spans[-1][1] == end
        assert all(a <= b for a, b in spans) and all(b + 1 == c for (_, b), (c, _) in zip(spans, spans[1:]))
        assert len(spans) == min(parts, end - start + 1)
        lengths = [b - a + 1 for a, b in spans]
        assert max(lengths) - min(lengths) <= 1


def test_rest_slices_follow_the_pages_still_expected():
    # 2 pages took the first tenth of the window: about 18 more expected, capped at 8 slices
    assert len(rest_slices(0, 999, resume_ms=100, pages_done=2, max_slices=8)) == 8
    # 2 pages took 90 % of it: about 0.2 pages left, one call of the chain; slices would only add calls
    assert rest_slices(0, 999, resume_ms=900, pages_done=2, max_slices=8) == []
    # 2 pages took 40 % of it: 3 more expected, so at least two slices (else splitting is pointless)
    assert len(rest_slices(0, 999, resume_ms=400, pages_done=2, max_slices=8)) == 3
    assert rest_slices(0, 999, resume_ms=500, pages_done=1, max_slices=8) == []
    assert rest_slices(0, 999, resume_ms=999, pages_done=2, max_slices=8) == []
    assert rest_slices(0, 999, resume_ms=100, pages_done=2, max_slices=1) == []
    spans = rest_slices(0, 999, resume_ms=500, pages_done=3, max_slices=64)
    assert spans[0][0] == 500 and spans[-1][1] == 999


@pytest.mark.parametrize("rps", [0.5, 2.0, 5.0, 10.0, 25.0, 50.0, 100.0, 1000.0])
@pytest.mark.parametrize("latency", [0.0, 0.03, 0.12, 0.17, 0.6, 2.0])
def test_chains_wanted_fill_the_budget_by_little_s_law(rps, latency):
    n = chains_wanted(rps, latency, 4)
    assert 1 <= n <= MAX_CHAINS
    if n < MAX_CHAINS:
        assert n / max(latency, 1e-9) >= rps * HEADROOM - 1e-6  # n chains, one call each per latency: the budget and more
    if n > 1:
        assert (n - 1) / latency < rps * HEADROOM  # and not a chain more than that
    assert n >= chains_to_fill(rps, latency, MAX_CHAINS)  # the headroom only adds
    assert chains_wanted(rps, latency * 2, 4) >= n and chains_wanted(rps * 2, latency, 4) >= n


def test_chains_wanted_without_a_budget_is_the_caller_s_workers():
    assert chains_wanted(None, 0.6, 4) == chains_wanted(0.0, 5.0, 4) == 4
    assert chains_wanted(None, 0.6, 9) == 9
    # AWS's default FilterLogEvents quota at a usual call time: one chain fills it (no split)
    assert chains_wanted(5.0, 0.12, 4) == 1


# --- moto: a large group, automatic and explicit slices, the same frame as one chain -------------------


@pytest.fixture(params=["interleaved", "stream-by-stream"])
def moto_group(request, monkeypatch):
    """A 45,000-event group in moto, read as AWS serves it (interleaved, in time order) or not.

    AWS always interleaves the streams in time order (the ``interleaved`` parameter is
    ignored since 2019); moto does so only when a caller sends ``interleaved=True``, else it
    answers stream by stream. The first case is AWS's; the second proves an unsorted chain is
    never split.
    """
    from moto import mock_aws
    from moto.logs.models import LogGroup

    if request.param == "interleaved":
        plain = LogGroup.filter_log_events

        def as_aws(self, group, names, start, end, limit, token, pattern, interleaved):  # noqa: ANN001
            return plain(self, group, names, start, end, limit, token, pattern, True)

        monkeypatch.setattr(LogGroup, "filter_log_events", as_aws)
    with mock_aws():
        client = boto3.client("logs", region_name=REGION)
        now = (int(time.time()) - 3600) * 1000
        base = now - 2 * 3600_000
        client.create_log_group(logGroupName="/big")
        n = 0
        for s_i in range(3):
            stream = f"app/{s_i}"
            client.create_log_stream(logGroupName="/big", logStreamName=stream)
            for lo in range(0, 15_000, 10_000):
                batch = [{"timestamp": base + i * 401 + s_i, "message": f"{stream} {i}"} for i in range(lo, min(15_000, lo + 10_000))]
                client.put_log_events(logGroupName="/big", logStreamName=stream, logEvents=batch)
                n += len(batch)
        win = Window(pd.Timestamp(now - 3 * 3600_000, unit="ms", tz="UTC"), pd.Timestamp(now, unit="ms", tz="UTC"))
        yield win, n, request.param == "interleaved"


def _same_frame(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a.drop(columns=["ingestion_time"]), b.drop(columns=["ingestion_time"]))


def test_a_large_group_is_split_after_two_pages_and_loses_nothing(moto_group):
    win, n, in_order = moto_group
    one = logs.events("/big", win, slices=1)
    auto = logs.events("/big", win, max_workers=4)
    assert len(one) == n == 45_000 and one.attrs["slices"] == 0 and one.attrs["api_calls"] == 5  # moto: 10,000 a page
    _same_frame(auto, one)  # every event once, in time order: the frame does not depend on how it was read
    a = auto.attrs
    assert a["complete"] is True and a["rows"] == n and a["events_per_group"] == {"/big": n}
    assert a["query"]["slices"] is None and one.attrs["query"]["slices"] == 1
    assert a["duplicates"] == 0
    if not in_order:  # pages that go back in time: read on as one chain, never split
        assert a["slices"] == 0 and a["api_calls"] == 5
        return
    assert a["slices"] >= 2 and a["slice_overlap"] > 0  # the page the chain stopped after was read again, dropped


@pytest.mark.parametrize("parts", [3, 64])
def test_explicit_slices_give_the_same_frame(moto_group, parts):
    win, n, _ = moto_group
    df = logs.events("/big", win, slices=parts, max_workers=8)
    assert len(df) == n and df["event_id"].is_unique and df.attrs["complete"] is True
    assert df.attrs["slices"] == parts and df.attrs["slice_overlap"] == 0 and df.attrs["duplicates"] == 0
    keys = list(zip(df["timestamp"].astype("int64"), df["event_id"].astype(str)))
    assert keys == sorted(keys)


def test_a_small_group_costs_no_extra_call(moto_group):
    win, _, _ = moto_group
    client = boto3.client("logs", region_name=REGION)
    client.create_log_group(logGroupName="/small")
    client.create_log_stream(logGroupName="/small", logStreamName="s")
    t = int(win.start.value // 1_000_000) + 60_000
    client.put_log_events(logGroupName="/small", logStreamName="s", logEvents=[{"timestamp": t + i, "message": str(i)} for i in range(50)])
    df = logs.events("/small", win)
    assert len(df) == 50 and df.attrs["api_calls"] == 1 and df.attrs["slices"] == 0


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"slices": 0}, "1 to 64"),
        ({"slices": MAX_SLICES + 1}, "1 to 64"),
        ({"slices": True}, "1 to 64"),
        ({"slices": 2.5}, "1 to 64"),
        ({"slices": 4, "limit": 10}, "not both"),
    ],
)
def test_bad_slices_fail_before_any_call(kwargs, words):
    with pytest.raises(ParameterError, match=words):
        logs.events("/g", W, **kwargs)


# --- many slices against a server with small pages, throttling injected, paced by a budget ----------------


class SortedLogs:
    """FilterLogEvents as AWS documents it: events of ``[startTime, endTime]`` in time order, ``page`` a page.

    The token is the offset into the call's own window; ``throttle(n)`` says whether the
    n-th attempt (1-based, across threads) is throttled.
    """

    def __init__(self, events: dict[str, list[dict[str, Any]]], page: int = 50) -> None:
        self.events = {g: sorted(evs, key=lambda e: (e["timestamp"], e["eventId"])) for g, evs in events.items()}
        self.page = page
        self.attempts = self.throttled = 0
        self.served: dict[str, int] = {}
        self.throttle = lambda n: False
        self.lock = threading.Lock()

    def __call__(self, request: Any, **_: Any) -> AWSResponse:
        body = json.loads(request.body or b"{}")
        with self.lock:
            self.attempts += 1
            if self.throttle(self.attempts):
                self.throttled += 1
                return error_response(request, "logs", "ThrottlingException", "Rate exceeded")
        lo, hi = body["startTime"], body["endTime"]
        inside = [e for e in self.events[body["logGroupName"]] if lo <= e["timestamp"] <= hi]
        offset = int(body.get("nextToken") or 0)
        chunk = inside[offset : offset + self.page]
        with self.lock:
            for e in chunk:
                self.served[e["eventId"]] = self.served.get(e["eventId"], 0) + 1
        out: dict[str, Any] = {"events": chunk, "searchedLogStreams": []}
        if offset + self.page < len(inside):
            out["nextToken"] = str(offset + self.page)
        return ok_response(request, out)


def _events(group: str, n: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    span = int((W.end - W.start).total_seconds() * 1000)
    # bursty: most events in a quarter of the window, several at the same millisecond
    stamps = [START_MS + (rng.randrange(span // 4) if rng.random() < 0.7 else rng.randrange(span)) for _ in range(n)]
    stamps += stamps[:40]  # ties: events at the same millisecond in other streams
    return [
        {"timestamp": t, "ingestionTime": t + 5, "logStreamName": f"s{i % 5}", "eventId": f"{group}-{i:06d}", "message": f"{group} {i}"}
        for i, t in enumerate(stamps)
    ]


@pytest.fixture
def sorted_logs(monkeypatch):
    from botocore.retries import standard

    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", lambda self, context: 0.0)
    server = SortedLogs({"/a": _events("/a", 3_000, 1), "/b": _events("/b", 1_200, 2), "/c": _events("/c", 30, 3)})
    session = boto3.Session(region_name=REGION)
    session.events.register("before-send.logs.FilterLogEvents", server)
    return server, session


def test_slices_of_several_groups_under_throttling_lose_nothing(sorted_logs):
    server, session = sorted_logs
    server.throttle = lambda n: n % 10 in (2, 5, 9)  # 30 % of attempts throttled, each retried
    with warnings.catch_warnings():
        warnings.simplefilter("error", IncompleteDataWarning)
        df = logs.events(["/a", "/b", "/c"], W, session=session, max_workers=6, max_attempts=8)
    a = df.attrs
    sizes = {g: len(evs) for g, evs in server.events.items()}
    assert a["complete"] is True and len(df) == sum(sizes.values()) and df["event_id"].is_unique
    assert set(df["event_id"]) == set(server.served)  # every event the service has, exactly once
    assert a["slices"] > 2 and a["events_per_group"] == sizes
    assert a["throttled"] == server.throttled == a["retries"] > 0
    assert a["api_calls"] + a["retries"] == server.attempts
    assert sum(server.served.values()) - len(server.served) == a["slice_overlap"] and a["duplicates"] == 0
    assert any(f"throttled {server.throttled:,} times" in i and "no events lost" in i for i in a["issues"])
    keys = list(zip(df["timestamp"].astype("int64"), df["event_id"].astype(str)))
    assert keys == sorted(keys)


def test_every_slice_attempt_draws_on_the_one_budget(sorted_logs):
    server, session = sorted_logs
    server.throttle = lambda n: n % 7 == 3
    slept: list[float] = []
    lock = threading.Lock()

    def sleep(s: float) -> None:
        with lock:
            slept.append(s)

    budget = pacing.Budget({"FilterLogEvents": 5}, clock=lambda: 0.0, sleep=sleep)  # time stands still: no real wait
    df = logs.events(["/a", "/b"], W, session=session, slices=6, max_workers=6, budget=budget)
    bucket = budget.bucket("FilterLogEvents", region=REGION)
    assert budget.scopes() == [("FilterLogEvents", REGION, None)]  # one bucket for every slice of both groups
    assert len(df) == 3_040 + 1_240 and df.attrs["rps_budget"] == 5.0
    assert bucket.acquired == server.attempts  # every attempt, the throttled ones and their retries too
    assert slept == pytest.approx([0.2] * (server.attempts - 1))  # served one at a time, 1/5 s apart


class InFlight:
    """Wraps a server hook: sleeps ``latency`` on each call and records the most calls in flight at once."""

    def __init__(self, inner: Any, latency: float) -> None:
        self.inner, self.latency = inner, latency
        self.now = self.peak = 0
        self.lock = threading.Lock()

    def __call__(self, request: Any, **kw: Any) -> Any:
        with self.lock:
            self.now += 1
            self.peak = max(self.peak, self.now)
        try:
            time.sleep(self.latency)
            return self.inner(request, **kw)
        finally:
            with self.lock:
                self.now -= 1


@pytest.mark.parametrize("rps, more", [(400.0, True), (0, False)])
def test_a_raised_budget_runs_more_chains_than_max_workers_and_loses_nothing(rps, more):
    """Paced at a budget that needs more chains than max_workers, a group's slices run past it; not paced, never."""
    events = {"/a": _events("/a", 3_000, 1), "/b": _events("/b", 600, 2)}
    server = InFlight(SortedLogs(events, page=50), latency=0.05)
    session = boto3.Session(region_name=REGION)
    session.events.register("before-send.logs.FilterLogEvents", server)
    df = logs.events(["/a", "/b"], W, session=session, max_workers=2, budget=pacing.Budget({"FilterLogEvents": rps}))
    a = df.attrs
    assert a["complete"] is True and len(df) == 3_040 + 640 and df["event_id"].is_unique
    assert set(df["event_id"]) == set(server.inner.served) and a["duplicates"] == 0
    assert sum(server.inner.served.values()) - len(server.inner.served) == a["slice_overlap"]
    keys = list(zip(df["timestamp"].astype("int64"), df["event_id"].astype(str)))
    assert keys == sorted(keys)
    if more:  # 400/s x 50 ms needs 20+ chains (25 with the headroom): the fetch grows past max_workers=2
        assert a["slices"] > 2 and 2 < server.peak <= MAX_CHAINS
    else:  # nothing says more chains are useful: max_workers bounds the calls in flight
        assert server.peak <= 2


def test_a_chain_out_of_time_order_is_never_split():
    """A service that does not sort (unlike AWS's documented FilterLogEvents) is read as one chain: nothing skipped."""
    client = aws.client("logs", region="us-east-1")
    stub = Stubber(client)
    t = START_MS + 1_000

    def ev(ts: int, i: int) -> dict[str, Any]:
        return {"timestamp": ts, "ingestionTime": ts, "logStreamName": "s", "eventId": f"e{i}", "message": "m"}

    pages = [[ev(t + 50, 0), ev(t + 60, 1)], [ev(t + 10, 2), ev(t + 70, 3)], [ev(t + 80, 4)], [ev(t + 5, 5)]]
    for i, page in enumerate(pages):
        body: dict[str, Any] = {"events": page, "searchedLogStreams": []}
        if i < len(pages) - 1:
            body["nextToken"] = f"t{i}"
        stub.add_response("filter_log_events", body, {"logGroupName": "/g", "startTime": ANY, "endTime": ANY, **({"nextToken": f"t{i - 1}"} if i else {})})
    import incidentkit.fetch.logs.pages as pages_mod

    with stub, pytest.MonkeyPatch.context() as mp:
        mp.setattr(pages_mod, "_client", lambda *a, **k: client)
        df = logs.events("/g", W)
    assert len(df) == 6 and df.attrs["slices"] == 0 and df.attrs["api_calls"] == 4 and df.attrs["complete"] is True
