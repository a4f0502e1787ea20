"""incidentkit.fetch.pacing: the run's requests-per-second budgets (token buckets per API action).

No test sleeps: buckets get a fake clock and a ``sleep`` that records. Requests are answered by
a ``before-send`` hook (registered after the pacing hook, as a real send would come after it).
"""

from __future__ import annotations

import threading
import time
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse

from incidentkit.errors import ParameterError
from incidentkit.fetch import aws, pacing
from incidentkit.fetch.pacing import Budget, TokenBucket

from _helpers.fake_aws import error_response, ok_response

REGION = "us-east-1"


class _Clock:
    """A clock that moves only when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []
        self.lock = threading.Lock()

    def __call__(self) -> float:
        with self.lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.slept.append(seconds)
            self.now += seconds


def test_a_bucket_spaces_calls_at_its_rate_and_refills_while_idle():
    clock = _Clock()
    b = TokenBucket(4.0, clock=clock, sleep=clock.sleep)
    waits = [b.acquire() for _ in range(5)]
    assert waits == [0.0, 0.25, 0.25, 0.25, 0.25]  # one token every 1/4 s, never a burst
    clock.now += 10  # idle: the bucket fills up to its burst (1), not beyond
    assert [b.acquire(), b.acquire()] == [0.0, 0.25]
    assert b.acquired == 7 and b.waited_s == pytest.approx(1.25)


def test_a_burst_allows_that_many_calls_at_once_then_the_rate():
    clock = _Clock()
    b = TokenBucket(2.0, burst=3, clock=clock, sleep=clock.sleep)
    assert [b.acquire() for _ in range(5)] == [0.0, 0.0, 0.0, 0.5, 0.5]


def test_threads_queue_for_tokens_one_at_a_time():
    """Concurrent callers are served one at a time, 1/rate apart: 200 tokens take 199/rate of the clock."""
    clock = _Clock()
    b = TokenBucket(5.0, clock=clock, sleep=clock.sleep)
    threads = [threading.Thread(target=lambda: [b.acquire() for _ in range(25)]) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert b.acquired == 200 and len(clock.slept) == 199
    assert clock.now - 100.0 == pytest.approx(199 / 5)


def test_a_late_wake_up_does_not_let_the_next_call_in_early():
    """A sleep that overran (a busy machine) still leaves a full 1/rate before the next call."""
    clock = _Clock()

    def late(seconds: float) -> None:
        clock.sleep(seconds + 0.05)  # woken 50 ms late

    b = TokenBucket(5.0, clock=clock, sleep=late)
    sent = []
    for _ in range(4):
        b.acquire()
        sent.append(clock.now)
    gaps = [b2 - a for a, b2 in zip(sent, sent[1:])]
    assert all(g >= 0.2 - 1e-9 for g in gaps) and gaps == pytest.approx([0.25, 0.25, 0.25])


def test_the_time_a_thread_spends_behind_other_callers_counts_as_waiting():
    """waited_in_this_thread covers the wait for the bucket's lock, not only the caller's own sleep.

    A chain's call time is measured without it; counting only the own sleep made a queue of
    chains look like slow calls, and auto slicing asked for ever more chains.
    """
    gate, queued = threading.Event(), threading.Event()
    b = TokenBucket(10.0, clock=lambda: 0.0, sleep=lambda s: gate.wait())  # the clock stands still: every token waits
    b.acquire()  # the first token: no wait
    first = threading.Thread(target=b.acquire)  # sleeps, holding the bucket, until the gate opens
    first.start()
    seen: dict[str, float] = {}

    def second() -> None:
        before, t0 = pacing.waited_in_this_thread(), time.monotonic()
        queued.set()
        seen["returned"] = b.acquire()  # queues behind the first caller, then takes its own (instant) sleep
        seen["elapsed"] = time.monotonic() - t0
        seen["waited"] = pacing.waited_in_this_thread() - before

    t = threading.Thread(target=second)
    t.start()
    queued.wait()
    time.sleep(0.2)  # the second caller is behind the first for at least this long
    gate.set()
    first.join()
    t.join()
    assert seen["returned"] == pytest.approx(0.1)  # its own sleep: 1/rate (the fake sleep returned at once)
    assert seen["elapsed"] >= 0.2 and seen["waited"] == pytest.approx(seen["elapsed"], abs=0.01)


@pytest.mark.parametrize("rate, burst", [(0, 1), (-1, 1), (float("nan"), 1), (5, 0.5)])
def test_a_bucket_refuses_a_rate_it_cannot_keep(rate, burst):
    with pytest.raises(ParameterError, match="rate > 0"):
        TokenBucket(rate, burst=burst)


def test_budget_defaults_are_aws_documented_quotas_and_env_overrides(monkeypatch):
    monkeypatch.delenv(pacing.ENV, raising=False)
    b = Budget()
    assert b.rate("FilterLogEvents") == 5.0 and b.rate("GetMetricData") == 50.0 and b.rate("LookupEvents") == 2.0
    assert b.rate("DescribeLogGroups") == 0.0 and b.bucket("DescribeLogGroups") is None
    monkeypatch.setenv(pacing.ENV, " FilterLogEvents = 12.5 , LookupEvents=0")
    assert b.rate("FilterLogEvents") == 12.5 and b.bucket("LookupEvents") is None
    assert Budget({"FilterLogEvents": 3}).rate("FilterLogEvents") == 3.0  # the caller's budget wins over the env


@pytest.mark.parametrize("text", ["FilterLogEvents", "FilterLogEvents=fast", "=5", "FilterLogEvents=-1"])
def test_a_bad_env_budget_is_a_one_line_error(monkeypatch, text):
    monkeypatch.setenv(pacing.ENV, text)
    with pytest.raises(ParameterError, match="Action=requests-per-second") as info:
        Budget().rate("FilterLogEvents")
    assert "\n" not in str(info.value)


def test_one_bucket_per_action_for_the_whole_run_until_its_rate_changes():
    b = Budget({"FilterLogEvents": 5})
    first = b.bucket("FilterLogEvents")
    assert b.bucket("FilterLogEvents") is first
    b.set_rate("FilterLogEvents", 10)
    second = b.bucket("FilterLogEvents")
    assert second is not first and second.rate == 10.0
    b.set_rate("FilterLogEvents", 0)
    assert b.bucket("FilterLogEvents") is None
    with pytest.raises(ParameterError):
        b.set_rate("FilterLogEvents", -2)
    with pytest.raises(ParameterError):
        Budget({"FilterLogEvents": "ten"})  # type: ignore[dict-item]


def test_configure_changes_the_shared_budget(monkeypatch):
    monkeypatch.setattr(pacing, "_SHARED", Budget())
    assert pacing.configure(FilterLogEvents=9) is pacing.shared()
    assert pacing.shared().rate("FilterLogEvents") == 9.0


# --- on a client: every attempt (retries included) takes a token; throttles are counted ------------------


class _Server:
    """Answers FilterLogEvents with an empty page; the first ``throttle`` attempts are throttled."""

    def __init__(self, throttle: int = 0) -> None:
        self.throttle, self.attempts = throttle, 0

    def __call__(self, request: Any, **_: Any) -> AWSResponse:
        self.attempts += 1
        if self.attempts <= self.throttle:
            return error_response(request, "logs", "ThrottlingException", "Rate exceeded")
        return ok_response(request, {"events": [], "searchedLogStreams": []})


@pytest.fixture
def no_backoff(monkeypatch):
    from botocore.retries import standard

    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", lambda self, context: 0.0)


def test_every_attempt_takes_a_token_and_throttles_are_counted(no_backoff):
    clock = _Clock()
    budget = Budget({"FilterLogEvents": 2}, clock=clock, sleep=clock.sleep)
    server = _Server(throttle=2)
    client = boto3.client("logs", region_name=REGION)
    pacer, throttles = pacing.attach(client, "FilterLogEvents", budget)
    client.meta.events.register("before-send.logs.FilterLogEvents", server)
    client.filter_log_events(logGroupName="/g")
    client.filter_log_events(logGroupName="/g")
    bucket = pacer.bucket() if pacer is not None else None
    assert server.attempts == 4 and bucket is not None and bucket.acquired == 4  # 2 throttled retries took tokens too
    assert throttles.count == 2
    assert clock.slept == [0.5, 0.5, 0.5]  # 2 requests/s: each attempt after the first waited its turn


def test_attaching_again_replaces_the_pacing_instead_of_waiting_twice(no_backoff):
    clock = _Clock()
    first = Budget({"FilterLogEvents": 1}, clock=clock, sleep=clock.sleep)
    second = Budget({"FilterLogEvents": 4}, clock=clock, sleep=clock.sleep)
    client = boto3.client("logs", region_name=REGION)
    pacing.attach(client, "FilterLogEvents", first)
    pacer, _ = pacing.attach(client, "FilterLogEvents", second)
    client.meta.events.register("before-send.logs.FilterLogEvents", _Server())
    for _ in range(3):
        client.filter_log_events(logGroupName="/g")
    assert first.scopes() == [] and pacer is not None and pacer.bucket().acquired == 3
    assert clock.slept == [0.25, 0.25]


def test_the_kit_s_clients_pace_the_metered_actions_by_the_shared_budget(monkeypatch, no_backoff):
    clock = _Clock()
    monkeypatch.setenv(pacing.ENV, "FilterLogEvents=0")  # as in the test env: the run's own budget below overrides it
    monkeypatch.setattr(pacing, "_SHARED", Budget({"FilterLogEvents": 10, "DescribeLogGroups": 0}, clock=clock, sleep=clock.sleep))
    session = boto3.Session(region_name=REGION)
    made = aws.client("logs", session=session)
    made.meta.events.register("before-send.logs.FilterLogEvents", _Server())
    made.meta.events.register("before-send.logs.DescribeLogGroups", lambda request, **_: ok_response(request, {"logGroups": []}))
    for _ in range(3):
        made.filter_log_events(logGroupName="/g")
        made.describe_log_groups()
    assert pacing.shared().bucket("FilterLogEvents", region=REGION).acquired == 3
    assert clock.slept == pytest.approx([0.1, 0.1])  # DescribeLogGroups is not metered here: it never waited


# --- scopes: AWS meters each account in each Region apart -------------------------------------------------


def _paced_client(region: str, budget: Budget, server: _Server, account: str | None = None) -> Any:
    """A kit client (aws.client) of a session whose credentials carry ``account`` (or none), answered by ``server``."""
    session = boto3.Session(region_name=region, aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="x", aws_account_id=account)
    made = aws.client("logs", session=session)
    pacing.pace_client(made, budget, credentials=session.get_credentials())
    made.meta.events.register("before-send.logs.FilterLogEvents", server)
    return made


def test_two_regions_never_share_a_budget(no_backoff):
    """Calls alternating between two Regions each wait only for their own Region's previous call."""
    clock = _Clock()
    budget = Budget({"FilterLogEvents": 2}, clock=clock, sleep=clock.sleep)
    server = _Server()
    east, west = _paced_client("us-east-1", budget, server), _paced_client("eu-west-1", budget, server)
    for _ in range(3):
        east.filter_log_events(logGroupName="/g")
        west.filter_log_events(logGroupName="/g")
    assert server.attempts == 6
    assert budget.scopes() == [("FilterLogEvents", "eu-west-1", None), ("FilterLogEvents", "us-east-1", None)]
    # one Region's budget alone (2/s) would have spaced the six calls 0.5 s apart: 2.5 s; two Regions take 1 s
    assert clock.now - 100.0 == pytest.approx(1.0)
    assert budget.bucket("FilterLogEvents", region="us-east-1").acquired == 3


def test_two_accounts_in_one_region_never_share_a_budget_and_one_account_s_clients_do(no_backoff):
    clock = _Clock()
    budget = Budget({"FilterLogEvents": 4}, clock=clock, sleep=clock.sleep)
    server = _Server()
    a1 = _paced_client(REGION, budget, server, account="111111111111")
    a1_again = _paced_client(REGION, budget, server, account="111111111111")  # another session, same account
    a2 = _paced_client(REGION, budget, server, account="222222222222")
    for c in (a1, a2, a1_again, a2):
        c.filter_log_events(logGroupName="/g")
    assert budget.scopes() == [("FilterLogEvents", REGION, "111111111111"), ("FilterLogEvents", REGION, "222222222222")]
    assert budget.bucket("FilterLogEvents", region=REGION, account="111111111111").acquired == 2
    # account 1's second call (another session) waited 1/4 s for account 1's first; account 2's second call, made
    # after that wait, found its own bucket full: one budget shared by both would have made it wait 1/4 s more
    assert clock.slept == pytest.approx([0.25])


def test_a_client_that_does_not_know_its_account_shares_the_region_s_budget(no_backoff):
    clock = _Clock()
    budget = Budget({"FilterLogEvents": 5}, clock=clock, sleep=clock.sleep)
    server = _Server()
    c1, c2 = _paced_client(REGION, budget, server), _paced_client(REGION, budget, server)
    c1.filter_log_events(logGroupName="/g")
    c2.filter_log_events(logGroupName="/g")
    assert budget.scopes() == [("FilterLogEvents", REGION, None)] and clock.slept == pytest.approx([0.2])


def test_the_kit_s_client_scopes_the_shared_budget_by_its_session_s_account(monkeypatch, no_backoff):
    """aws.client hands its session's credentials to the pacing: no STS call, the account they carry."""
    clock = _Clock()
    monkeypatch.delenv(pacing.ENV, raising=False)
    monkeypatch.setattr(pacing, "_SHARED", Budget(clock=clock, sleep=clock.sleep))
    session = boto3.Session(region_name="ap-southeast-2", aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="x",
                            aws_account_id="123456789012")  # fmt: skip
    made = aws.client("logs", session=session)
    made.meta.events.register("before-send.logs.FilterLogEvents", _Server())
    made.filter_log_events(logGroupName="/g")
    assert pacing.shared().scopes() == [("FilterLogEvents", "ap-southeast-2", "123456789012")]
