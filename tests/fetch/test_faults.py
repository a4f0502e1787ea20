"""Faults on the data layer, injected below the kit: every fetch either completes or fails typed, keeping its evidence.

No network: :class:`FakeAws` is a botocore ``before-send`` hook registered on a
``boto3.Session``, so every request the kit makes goes through botocore's real
machinery (serialisation, the guard, standard-mode retries, error parsing) and is
answered here instead of by AWS — like AWS would answer, including the faults:

* throttling (``ThrottlingException``, HTTP 400) of a deterministic 30 % of attempts
  (the 1st, 4th and 7th of every 10), or of every attempt past a point;
* lost connections (``EndpointConnectionError`` raised where the socket would be);
* credentials that expire mid-run (``ExpiredTokenException``);
* Logs Insights end states (Failed / Cancelled / Timeout / Unknown), expired result
  tokens, queries AWS no longer knows, results at the row limit;
* FilterLogEvents quirks: empty pages that still carry a token, a repeated token,
  events out of order, the same event id twice.

CloudWatch Logs and CloudTrail are answered by FakeAws itself (JSON protocols);
GetMetricData (CBOR protocol) by moto, with FakeAws only injecting the faults.

Every case is a parametrized test with an id, so ``pytest -rA`` lists what was tried.
Loops are bounded by call counts, not by wall time: FakeAws refuses to answer more
than :data:`MAX_CALLS` requests, so a fetch that loops fails instead of hanging.
"""

from __future__ import annotations

import json
import re
import time
import warnings
from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable

import boto3
import botocore.retries.standard
import pandas as pd
import pytest

from incidentkit.fetch import changes, logs, metrics
from incidentkit.fetch.insights import layers as insights_layers  # where the polls' clock lives
from incidentkit.errors import (
    EndpointError,
    IncompleteDataWarning,
    NoCredentialsError,
    QueryFailedError,
    QueryTimeoutError,
    ThrottledError,
)
from incidentkit.evidence import EvidenceBundle, sha256_file
from incidentkit.window import Window
from _helpers import fake_aws
from _helpers.fake_aws import REGION, THROTTLED_SLOTS, AwsFault, FakeAws, Fault, recent_window


# =============================================================================================
# FakeAws: a before-send hook acting as AWS
# =============================================================================================


# =============================================================================================
# fixtures
# =============================================================================================


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """No real sleeping: botocore's backoff, the CloudTrail pacer and Insights polls run on a fake clock."""
    monkeypatch.setattr(botocore.retries.standard.ExponentialBackoff, "delay_amount", lambda self, ctx: 0)
    monkeypatch.setattr(changes._lookup_pacer, "sleep", lambda s: None)
    state = {"now": 1_000.0, "sleeps": 0}

    def sleep(seconds: float) -> None:
        state["sleeps"] += 1
        state["now"] += seconds

    monkeypatch.setattr(insights_layers, "_sleep", sleep)
    monkeypatch.setattr(insights_layers, "_clock", lambda: state["now"])
    monkeypatch.delenv("INCIDENTKIT_MAX_ATTEMPTS", raising=False)
    return state


# =============================================================================================
# the services: FilterLogEvents, Logs Insights, LookupEvents (FakeAws) and GetMetricData (moto)
# =============================================================================================


def _event(group: str, stream: str, ts_ms: int, i: int, *, eid: str | None = None) -> dict[str, Any]:
    return {
        "logStreamName": stream,
        "timestamp": ts_ms,
        "ingestionTime": ts_ms + 150,
        "message": f"{group} {stream} event {i}",
        "eventId": eid or f"{abs(hash(group)) % 10_000:04d}{ts_ms:016d}{i:08d}",
    }


class FilterLogEventsServer:
    """FilterLogEvents over scripted pages per log group (``nextToken`` = ``<group>#<page>``).

    Each page answers only its events inside the call's ``startTime``/``endTime`` (both
    inclusive, as AWS does), so a time slice reads the scripted pages too (some empty).
    """

    def __init__(self, pages: dict[str, list[list[dict[str, Any]]]], *, token_of: Callable[[str, int], str | None] | None = None):
        self.pages = pages
        self.token_of = token_of or (lambda g, i: f"{g}#{i}" if i < len(self.pages[g]) else None)
        self.served: Counter = Counter()  # pages served by group
        self.ids_served: set[str] = set()
        self.rows_served = 0
        self.empty_served = 0

    def __call__(self, params: dict[str, Any]) -> dict[str, Any]:
        group = params.get("logGroupName") or params["logGroupIdentifier"]
        if group not in self.pages:
            raise AwsFault("ResourceNotFoundException", "The specified log group does not exist.")
        token = params.get("nextToken")
        idx = int(token.rsplit("#", 1)[1]) if token else 0
        self.served[group] += 1
        lo, hi = params.get("startTime", -1), params.get("endTime", 2**63)
        events = [e for e in self.pages[group][idx] if lo <= e["timestamp"] <= hi]
        self.ids_served.update(e["eventId"] for e in events)
        self.rows_served += len(events)
        self.empty_served += not events
        body: dict[str, Any] = {"events": events, "searchedLogStreams": []}
        nxt = self.token_of(group, idx + 1)
        if nxt:
            body["nextToken"] = nxt
        return body


def _paged_groups(groups: list[str], pages: int, per_page: int, win: Window) -> dict[str, list[list[dict[str, Any]]]]:
    base = win.start_ms + 1_000
    out = {}
    for g in groups:
        evs = [_event(g, f"s{i % 3}", base + i * 997, i) for i in range(pages * per_page)]
        out[g] = [evs[p * per_page : (p + 1) * per_page] for p in range(pages)]
    return out


_BOUNDS = re.compile(r"toMillis\(@timestamp\) >= (\d+) and toMillis\(@timestamp\) < (\d+)")


class InsightsServer:
    """StartQuery / GetQueryResults / StopQuery over a set of events, honouring the exact bounds and the limit.

    Each query is ``Running`` on its first poll and then ends with ``final(query_number)``
    (``Complete`` by default). Results are paged ``page_size`` rows at a time.
    """

    def __init__(self, events: dict[str, list[tuple[int, str]]], *, page_size: int = 10_000,
                 final: Callable[[int], str] = lambda n: "Complete") -> None:
        self.events = events
        self.page_size = page_size
        self.final = final
        self.queries: dict[str, dict[str, Any]] = {}
        self.stopped: list[str] = []
        self.results_faults: dict[tuple[int, int], AwsFault] = {}  # (query number, page) -> fault

    def start(self, params: dict[str, Any]) -> dict[str, Any]:
        m = _BOUNDS.search(params["queryString"])
        assert m, params["queryString"]
        lo, hi = int(m.group(1)), int(m.group(2))
        groups = params.get("logGroupNames") or params.get("logGroupIdentifiers")
        assert len(groups) <= 50 and lo // 1000 >= params["startTime"] and -(-hi // 1000) <= params["endTime"] + 1
        n = len(self.queries) + 1
        qid = f"q-{n:04d}"
        matched = sorted(((t, msg) for g in groups for t, msg in self.events.get(g, []) if lo <= t < hi), reverse=True)
        rows = [
            [
                {"field": "@timestamp", "value": pd.Timestamp(t, unit="ms").strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]},
                {"field": "@message", "value": msg},
                {"field": "@ptr", "value": f"ptr-{t}-{msg}"},
            ]
            for t, msg in matched[: params["limit"]]
        ]
        self.queries[qid] = {"n": n, "polls": 0, "rows": rows, "matched": len(matched), "groups": groups}
        return {"queryId": qid}

    def results(self, params: dict[str, Any]) -> dict[str, Any]:
        q = self.queries.get(params["queryId"])
        if q is None:
            raise AwsFault("ResourceNotFoundException", "Query does not exist.")
        token = params.get("nextToken")
        page = int(token.rsplit("#", 1)[1]) if token else 0
        fault = self.results_faults.get((q["n"], page))
        if fault is not None:
            raise fault
        q["polls"] += 1
        status = "Running" if q["polls"] == 1 and not token else self.final(q["n"])
        body: dict[str, Any] = {"status": status, "results": []}
        if status == "Complete":
            lo = page * self.page_size
            body["results"] = q["rows"][lo : lo + self.page_size]
            if lo + self.page_size < len(q["rows"]):
                body["nextToken"] = f"{params['queryId']}#{page + 1}"
            body["statistics"] = {"recordsMatched": float(q["matched"]), "recordsScanned": float(q["matched"] * 3),
                                  "bytesScanned": float(q["matched"] * 200)}
        return body

    def stop(self, params: dict[str, Any]) -> dict[str, Any]:
        self.stopped.append(params["queryId"])
        return {"success": True}

    def install(self, fake: FakeAws) -> None:
        fake.handlers.update({"StartQuery": self.start, "GetQueryResults": self.results, "StopQuery": self.stop})


def _insights_events(groups: list[str], per_group: int, win: Window) -> dict[str, list[tuple[int, str]]]:
    span = win.end_ms - win.start_ms
    return {
        g: [(win.start_ms + (i * 7_919 + k * 13) % span, f"{g} line {i}") for i in range(per_group)]
        for k, g in enumerate(groups)
    }


class LookupEventsServer:
    """CloudTrail LookupEvents: ``n`` write events, 50 a page."""

    def __init__(self, n: int, win: Window) -> None:
        self.events = []
        for i in range(n):
            t = win.start + (win.end - win.start) * (i + 0.5) / n
            record = {
                "eventVersion": "1.08", "eventTime": t.strftime("%Y-%m-%dT%H:%M:%SZ"), "eventSource": "ec2.amazonaws.com",
                "eventName": "AuthorizeSecurityGroupIngress", "awsRegion": REGION, "eventID": f"evt-{i:05d}",
                "readOnly": False, "userIdentity": {"type": "AssumedRole", "arn": f"arn:aws:sts::123456789012:assumed-role/ops/u{i}"},
                "requestParameters": {"groupId": f"sg-{i:08x}"},
            }  # fmt: skip
            self.events.append({"EventId": f"evt-{i:05d}", "EventName": record["eventName"], "ReadOnly": "false",
                                "EventTime": t.timestamp(), "EventSource": record["eventSource"],
                                "CloudTrailEvent": json.dumps(record)})  # fmt: skip

    def __call__(self, params: dict[str, Any]) -> dict[str, Any]:
        start = int(params.get("NextToken", "0"))
        body: dict[str, Any] = {"Events": self.events[start : start + 50]}
        if start + 50 < len(self.events):
            body["NextToken"] = str(start + 50)
        return body


@pytest.fixture
def moto_session():
    from moto import mock_aws

    with mock_aws():
        yield


METRIC_REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2")


def _seed_metrics(win: Window) -> list[Any]:
    """One metric per region, 10 datapoints each (written with plain boto3: the kit refuses writes)."""
    qs = []
    for r in METRIC_REGIONS:
        cw = boto3.client("cloudwatch", region_name=r)
        data = [{"MetricName": "Latency", "Dimensions": [{"Name": "Region", "Value": r}],
                 "Timestamp": (win.start + pd.Timedelta(minutes=5 * k + 1)).to_pydatetime(), "Value": float(k)}
                for k in range(10)]  # fmt: skip
        cw.put_metric_data(Namespace="Shop", MetricData=data)
        qs.append(metrics.query("Shop", "Latency", {"Region": r}, "Sum", region=r, period=300))
    return qs


# =============================================================================================
# the four fetchers, each on its fake service
# =============================================================================================


@dataclass
class Scenario:
    """A fetch, what complete looks like, and where "mid-run" is for it."""

    name: str
    fake: FakeAws
    run: Callable[..., pd.DataFrame]
    expected_rows: int
    mid_op: str  # operation whose attempt `mid_at` fails in the mid-run faults
    mid_at: int
    kept_rows: int  # rows fetched before that attempt


def _scenario(name: str, fake: FakeAws) -> Scenario:
    win = recent_window()
    if name == "logs.events":
        groups = ["/aws/lambda/orders", "/ecs/web", "/aws/apigateway/access"]
        fake.handlers["FilterLogEvents"] = FilterLogEventsServer(_paged_groups(groups, pages=6, per_page=40, win=win))
        # one worker: the mid-run fault lands after exactly two pages of the first group
        run = lambda session, **kw: logs.events(groups, win, session=session, max_workers=1, **kw)  # noqa: E731
        return Scenario(name, fake, run, 3 * 6 * 40, "FilterLogEvents", 3, 2 * 40)
    if name == "logs.insights":
        groups = [f"/aws/lambda/fn-{i:02d}" for i in range(60)]  # two batches: 50 + 10 groups
        server = InsightsServer(_insights_events(groups, 12, win), page_size=250)
        server.install(fake)
        run = lambda session, **kw: logs.insights("fields @timestamp, @message", groups, win, session=session,  # noqa: E731
                                                  max_concurrent=1, **kw)
        return Scenario(name, fake, run, 60 * 12, "StartQuery", 2, 50 * 12)
    if name == "metrics.get":
        qs = _seed_metrics(win)
        run = lambda session, **kw: metrics.get(qs, win, session=session, concurrency=1, **kw)  # noqa: E731
        return Scenario(name, fake, run, 3 * 10, "GetMetricData", 2, 10)
    if name == "changes.timeline":
        fake.handlers["LookupEvents"] = LookupEventsServer(230, win)
        run = lambda session, **kw: changes.timeline(win, sources=("cloudtrail",), session=session, **kw)  # noqa: E731
        return Scenario(name, fake, run, 230, "LookupEvents", 3, 100)
    raise AssertionError(name)


FETCHERS = ["logs.events", "logs.insights", "metrics.get", "changes.timeline"]


@pytest.fixture
def scenario(request) -> Scenario:
    if request.param == "metrics.get":
        request.getfixturevalue("moto_session")  # GetMetricData (CBOR) answered by moto
    return _scenario(request.param, FakeAws())


# =============================================================================================
# 30 % throttled: every fetch completes, every retry counted
# =============================================================================================


@pytest.mark.parametrize("scenario", FETCHERS, indirect=True)
def test_thirty_percent_throttled_every_fetch_completes(scenario: Scenario) -> None:
    fake = scenario.fake
    fake.throttle_ratio = True
    with warnings.catch_warnings():
        warnings.simplefilter("error", IncompleteDataWarning)  # complete: no warning at all
        df = scenario.run(fake.session())
    assert len(df) == scenario.expected_rows
    a = df.attrs
    assert a["complete"] is True and a["truncated"] is False, a["issues"]
    total = fake.total
    assert fake.throttled == sum(1 for slot in range(total) if slot % 10 in THROTTLED_SLOTS) > 0
    # every throttled attempt was retried by botocore and counted by the kit
    assert a["retries"] == fake.throttled
    assert a["api_calls"] == total - fake.throttled


@pytest.mark.parametrize("scenario", FETCHERS, indirect=True)
def test_unthrottled_baseline_gives_the_same_rows(scenario: Scenario) -> None:
    """The control: the same fetch without faults gives the same rows and no retries."""
    df = scenario.run(scenario.fake.session())
    assert len(df) == scenario.expected_rows and df.attrs["retries"] == 0 and df.attrs["complete"] is True


# =============================================================================================
# mid-run failures: a clear typed error, and the evidence fetched so far kept, marked incomplete
# =============================================================================================

MID_RUN = {
    "throttled-past-budget": ("throttle", ThrottledError, "retry budget"),
    "connection-lost": ("connection", EndpointError, "could not reach AWS"),
    "credentials-expired": ("expired", NoCredentialsError, "rejected the credentials"),
}


def _partial(exc: BaseException, result: pd.DataFrame | None) -> pd.DataFrame:
    """The evidence a failed fetch kept: ``err.partial`` (or the incomplete frame it returned)."""
    if result is not None:
        return result
    partial = getattr(exc, "partial", None)
    assert isinstance(partial, pd.DataFrame), f"{type(exc).__name__} carries no .partial frame: the evidence is lost"
    return partial


@pytest.mark.parametrize("fault", list(MID_RUN))
@pytest.mark.parametrize("scenario", FETCHERS, indirect=True)
def test_mid_run_failure_is_typed_and_keeps_the_evidence(scenario: Scenario, fault: str, monkeypatch) -> None:
    kind, error, words = MID_RUN[fault]
    fake = scenario.fake
    fake.faults.append(Fault(scenario.mid_op, scenario.mid_at, kind))
    budget = 3
    monkeypatch.setenv("INCIDENTKIT_MAX_ATTEMPTS", str(budget))  # every fetcher's clients honour it
    with pytest.raises(error) as info:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", IncompleteDataWarning)
            scenario.run(fake.session())
    err = info.value
    text = str(err)
    assert words in text and "\n" not in err.message
    # the retry budget was honoured: throttles and lost connections are retried, expired credentials are not
    tries = fake.attempts[scenario.mid_op] - (scenario.mid_at - 1)
    assert tries == (1 if kind == "expired" else budget), fake.attempts
    kept = _partial(err, None)
    assert kept.attrs["complete"] is False
    assert len(kept) == scenario.kept_rows, f"{len(kept)} rows kept, {scenario.kept_rows} were fetched"


# =============================================================================================
# the evidence bundle: retries in the manifest; a failed fetch recorded as incomplete
# =============================================================================================


def _investigation(fake: FakeAws, tmp_path, win: Window):
    from incidentkit.investigation import Investigation

    return Investigation(win.start, win.end, session=fake.session(), region=REGION, evidence=tmp_path / "evidence")


def test_retries_reach_the_evidence_manifest(tmp_path) -> None:
    win = recent_window()
    groups = ["/aws/lambda/orders", "/ecs/web"]
    fake = FakeAws(throttle_ratio=True)
    fake.handlers["FilterLogEvents"] = FilterLogEventsServer(_paged_groups(groups, pages=5, per_page=30, win=win))
    inv = _investigation(fake, tmp_path, win)
    df = inv.raw_logs(groups)
    assert len(df) == 2 * 5 * 30 and fake.throttled > 0
    manifest = json.loads((tmp_path / "evidence" / "manifest.json").read_text())
    (entry,) = [e for e in manifest["frames"].values() if e["kind"] == "logs"]
    assert entry["attrs"]["retries"] == fake.throttled
    assert entry["attrs"]["api_calls"] == fake.total - fake.throttled
    assert entry["attrs"]["complete"] is True and entry["rows"] == len(df)
    summary = EvidenceBundle.open(tmp_path / "evidence").summary()
    assert summary["retries"].tolist() == [fake.throttled]


@pytest.mark.parametrize("fault", list(MID_RUN))
def test_failed_fetch_is_recorded_incomplete_with_what_was_fetched(tmp_path, fault: str) -> None:
    kind, error, _ = MID_RUN[fault]
    win = recent_window()
    fake = FakeAws(faults=[Fault("FilterLogEvents", 4, kind)])
    server = FilterLogEventsServer(_paged_groups(["/aws/lambda/orders"], pages=6, per_page=25, win=win))
    fake.handlers["FilterLogEvents"] = server
    inv = _investigation(fake, tmp_path, win)
    with pytest.raises(error):
        inv.raw_logs("/aws/lambda/orders")
    bundle = EvidenceBundle.open(tmp_path / "evidence")
    (name,) = bundle.find("logs")
    entry = bundle.entry(name)
    # every event served before the fault is kept (the group is large: after two pages the rest of its
    # window went to time slices, so which events came before the 4th attempt depends on the slices)
    fetched = len(server.ids_served)
    assert 2 * 25 <= fetched < 6 * 25
    assert entry["rows"] == fetched and entry["attrs"]["complete"] is False
    assert any("fetch failed" in i for i in entry["attrs"]["issues"])
    assert sha256_file(tmp_path / "evidence" / entry["file"]) == entry["sha256"]
    assert len(bundle.load(name)) == fetched
    assert any("fetch failed" in i for i in inv.issues) and any("fetch failed" in i for i in bundle.context["issues"])
    # a later run re-fetches an incomplete frame instead of trusting it
    fake.faults.clear()
    again = inv.__class__(win.start, win.end, session=fake.session(), region=REGION, evidence=tmp_path / "evidence")
    assert len(again.raw_logs("/aws/lambda/orders")) == 6 * 25
    assert EvidenceBundle.open(tmp_path / "evidence").entry(name)["attrs"]["complete"] is True


# =============================================================================================
# Logs Insights end states: typed errors or bisection, never a silent partial frame
# =============================================================================================

INSIGHTS_END_STATES = {
    "Failed": (QueryFailedError, "ended Failed"),
    "Cancelled": (QueryFailedError, "ended Cancelled"),
    "Unknown": (QueryFailedError, "ended Unknown"),
    "Timeout": (QueryTimeoutError, "60-minute limit"),
}


def _insights_fake(groups: list[str], per_group: int, win: Window, **kw: Any) -> tuple[FakeAws, InsightsServer]:
    fake = FakeAws()
    server = InsightsServer(_insights_events(groups, per_group, win), **kw)
    server.install(fake)
    return fake, server


@pytest.mark.parametrize("status", list(INSIGHTS_END_STATES))
@pytest.mark.parametrize("which", ["first-query", "second-batch"])
def test_insights_end_state_is_a_typed_error_never_a_silent_partial(status: str, which: str) -> None:
    error, words = INSIGHTS_END_STATES[status]
    win = recent_window()
    groups = [f"/g/{i}" for i in range(60)] if which == "second-batch" else ["/g/0"]
    failing = 2 if which == "second-batch" else 1
    fake, server = _insights_fake(groups, 5, win, final=lambda n: status if n == failing else "Complete")
    with pytest.raises(error) as info:
        logs.insights("fields @timestamp, @message", groups, win, session=fake.session(), max_concurrent=1)
    err = info.value
    assert words in str(err) and err.context["status"] == status and err.context["query_id"] == f"q-{failing:04d}"
    partial = err.partial
    assert partial.attrs["complete"] is False
    assert len(partial) == (50 * 5 if which == "second-batch" else 0)  # the first batch completed before


@pytest.mark.parametrize(
    "case",
    ["token-expired-once", "token-expired-twice", "query-not-found-once", "query-not-found-always"],
)
def test_insights_expired_tokens_and_unknown_queries(case: str) -> None:
    win = recent_window()
    fake, server = _insights_fake(["/g/a"], 900, win, page_size=250)
    expired = AwsFault("InvalidParameterException", "The nextToken has expired")
    gone = AwsFault("ResourceNotFoundException", "Query does not exist.")
    if case.startswith("token-expired"):
        server.results_faults[(1, 2)] = expired  # page 3 of the first query
        if case.endswith("twice"):
            server.results_faults[(2, 2)] = expired  # and of the re-run
    else:
        real = server.results
        always = case.endswith("always")

        def results(params):
            q = server.queries[params["queryId"]]
            if q["polls"] >= 1 and (always or q["n"] == 1) and not params.get("nextToken"):
                raise gone
            return real(params)

        fake.handlers["GetQueryResults"] = results
    run = lambda: logs.insights("fields @timestamp, @message", "/g/a", win, session=fake.session())  # noqa: E731
    if case.endswith("once"):
        df = run()  # re-run once, then complete
        assert len(df) == 900 and df.attrs["complete"] is True and df.attrs["queries"] == 2
        assert any("re-ran it" in i for i in df.attrs["issues"])
        assert df["@message"].is_unique
    else:
        with pytest.raises(QueryFailedError) as info:
            run()
        err = info.value
        assert err.context["status"] == "Expired" and "re-run" in str(err)
        assert err.partial.attrs["complete"] is False and len(err.partial) == 0


def test_insights_result_at_the_limit_is_bisected_until_complete() -> None:
    win = recent_window(minutes=120)
    fake, server = _insights_fake(["/g/a", "/g/b"], 1_300, win)
    df = logs.insights("fields @timestamp, @message", ["/g/a", "/g/b"], win, session=fake.session(), limit=1_000)
    assert len(df) == 2_600 and df["@message"].is_unique
    a = df.attrs
    assert a["complete"] is True and a["truncated"] is False and a["splits"] >= 1 and a["queries"] > 1
    assert a["statistics"]["recordsMatched"] == 2_600  # summed over the parts kept
    assert len(server.queries) == a["queries"]


def test_insights_aggregate_at_the_limit_is_flagged_not_silent() -> None:
    win = recent_window()
    fake, server = _insights_fake(["/g/a"], 200, win)

    def full_stats(params):
        body = server.start(params)
        q = server.queries[body["queryId"]]
        q["rows"] = [[{"field": "@logStream", "value": f"s{i}"}, {"field": "n", "value": "3"}] for i in range(params["limit"])]
        q["matched"] = 10_000
        return body

    fake.handlers["StartQuery"] = full_stats
    with pytest.warns(IncompleteDataWarning, match="truncated"):
        df = logs.insights("stats count(*) as n by @logStream", "/g/a", win, session=fake.session(), limit=100)
    assert len(df) == 100 and df.attrs["truncated"] is True and df.attrs["complete"] is False
    assert df.attrs["truncated_windows"] and len(server.queries) == 1  # not bisected: halves would not add up


# =============================================================================================
# FilterLogEvents quirks: complete, de-duplicated, never an endless loop
# =============================================================================================


def _quirk_pages(case: str, win: Window) -> tuple[dict[str, list[list[dict[str, Any]]]], Callable | None, int, bool]:
    """(pages by group, token function, distinct events, complete?) for a quirk."""
    g = "/aws/lambda/orders"
    base = win.start_ms + 5_000
    evs = [_event(g, f"s{i % 4}", base + i * 1_013, i) for i in range(120)]
    if case == "empty-pages-with-tokens":
        pages = [[], evs[:40], [], [], evs[40:80], [], evs[80:], []]
        return {g: pages}, None, 120, True
    if case == "only-empty-pages":
        return {g: [[] for _ in range(25)]}, None, 0, True
    if case == "out-of-order":
        shuffled = sorted(evs, key=lambda e: (e["eventId"][-3:], e["logStreamName"]), reverse=True)
        return {g: [shuffled[:50], shuffled[50:]]}, None, 120, True
    if case == "duplicate-ids-across-pages":
        return {g: [evs[:60], evs[40:100], evs[90:] + evs[:5]]}, None, 120, True
    if case == "duplicate-ids-within-a-page":
        return {g: [evs[:30] + evs[:30], evs[30:] + evs[100:]]}, None, 120, True
    if case == "all-quirks-together":
        mixed = list(reversed(evs[:70]))
        return {g: [[], mixed[:35], [], mixed[20:] + evs[60:90], [], list(reversed(evs[85:])) + evs[:3], []]}, None, 120, True
    if case == "repeated-token-immediately":
        return {g: [evs[:50], evs[50:]]}, (lambda grp, i: f"{grp}#0"), 50, False
    if case == "repeated-token-later":
        # tokens #1, #2, then #1 again: a cycle of two
        pages = [evs[:40], evs[40:80], evs[80:]]
        return {g: pages}, (lambda grp, i: f"{grp}#{1 + (i - 1) % 2}"), 120, False
    raise AssertionError(case)


QUIRKS = [
    "empty-pages-with-tokens",
    "only-empty-pages",
    "out-of-order",
    "duplicate-ids-across-pages",
    "duplicate-ids-within-a-page",
    "all-quirks-together",
    "repeated-token-immediately",
    "repeated-token-later",
]


@pytest.mark.parametrize("case", QUIRKS)
def test_filter_log_events_quirks(case: str) -> None:
    win = recent_window()
    pages, token_of, distinct, complete = _quirk_pages(case, win)
    fake = FakeAws()
    server = FilterLogEventsServer(pages, token_of=token_of)
    fake.handlers["FilterLogEvents"] = server
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        # one chain (slices=1): the quirks are those of one nextToken chain; the scripted pages are not
        # spread over the window, so a time slice would walk them all again (auto slicing: test_slices.py)
        df = logs.events(list(pages), win, session=fake.session(), slices=1)
    assert fake.total < 50, "FilterLogEvents was called again and again"  # bounded by calls, not time
    assert len(df) == distinct and df["event_id"].is_unique
    keys = list(zip(df["timestamp"].astype("int64"), df["event_id"].astype(str)))
    assert keys == sorted(keys), "events are not in time order"
    assert df.attrs["duplicates"] == server.rows_served - distinct  # every dropped row counted
    assert df.attrs["empty_pages"] == server.empty_served and df.attrs["pages"] == fake.total
    assert df.attrs["complete"] is complete
    incomplete = [w for w in caught if issubclass(w.category, IncompleteDataWarning)]
    if complete:
        assert not incomplete
    else:
        assert incomplete and any("repeated a nextToken" in i for i in df.attrs["issues"])


def test_a_looping_service_is_stopped_by_the_call_bound_not_by_time(monkeypatch) -> None:
    """The harness itself: a service that pages forever (a fresh token each time) is cut at MAX_CALLS requests."""
    monkeypatch.setattr(fake_aws, "MAX_CALLS", 30)
    fake = FakeAws()
    fake.handlers["FilterLogEvents"] = lambda params: {"events": [], "nextToken": f"t{time.monotonic_ns()}"}
    with pytest.raises(RuntimeError, match="looping"):
        logs.events("/g", recent_window(), session=fake.session(), max_attempts=1)
    assert fake.total == 31
