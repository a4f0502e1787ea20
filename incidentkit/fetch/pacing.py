"""Requests-per-second budgets shared by every fetch of a run: one token bucket per account, Region and API action.

AWS meters most read calls per account and Region, not per client: two log groups fetched at
once, or a window split into slices, draw on the same quota, while the same call in another
Region (or another account) draws on another. So the kit keeps one :class:`TokenBucket` per
(action, Region, account) for the whole process (:func:`shared`), and every HTTP attempt
of a paced action — botocore's retries included — takes a token before it is sent (a
``before-send`` hook registered first on every client :func:`incidentkit.fetch.aws.client`
makes, :func:`pace_client`). Calls are then spaced at the budget instead of bursting into
throttling and backing off; concurrent fetches (groups, time slices) queue for the tokens.

The Region is the client's. The account is the one the credentials carry when they carry it
without a call (botocore's ``account_id``: ``AWS_ACCOUNT_ID``, a profile's
``aws_account_id``, SSO and assumed-role credentials), read at each attempt after botocore
signed it, so it costs nothing (no STS call). Credentials that do not say their account share
the Region's budget with each other (the conservative choice: one account's quota is never
counted twice; two unnamed accounts in one Region only wait longer than they must).

The default budget of an action is AWS's documented default quota for it:

* ``FilterLogEvents``: 5 transactions per second per account and Region — CloudWatch Logs
  quotas, https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/cloudwatch_limits_cwl.html,
  and https://repost.aws/knowledge-center/cloudwatch-logs-throttling ("FilterLogEvents ...
  default quota of 5 transactions per second (TPS) per account/Region");
* ``GetMetricData``: 50 TPS — CloudWatch quotas,
  https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_limits.html;
* ``LookupEvents``: 2 TPS — CloudTrail quotas,
  https://docs.aws.amazon.com/awscloudtrail/latest/userguide/WhatIsCloudTrail-Limits.html.

Actions without a documented default here are not paced (botocore's retries still apply).
An account whose quota was raised (or that shares it with other tools) sets its own budget:
``INCIDENTKIT_RPS="FilterLogEvents=10,GetMetricData=40"`` in the environment, or
:func:`configure` in code (``0`` turns pacing of an action off).

Throttling that still happens (other consumers of the same quota) is retried by botocore with
backoff and jitter, and counted: :class:`Throttles` observes every attempt's answer.

Example
-------
>>> bucket = TokenBucket(rate=5.0)
>>> bucket.acquire()          # the first token is there: no wait
0.0
>>> Budget({"FilterLogEvents": 10}).rate("FilterLogEvents"), DOCUMENTED_RPS["FilterLogEvents"]
(10.0, 5.0)
>>> b = Budget()
>>> b.bucket("FilterLogEvents", region="us-east-1") is b.bucket("FilterLogEvents", region="eu-west-1")
False
"""

from __future__ import annotations

import os
import threading
import time
import weakref
from typing import Any, Callable, Mapping

from ..errors import ParameterError

__all__ = [
    "DOCUMENTED_RPS", "ENV", "TokenBucket", "Budget", "Pacer", "Throttles", "shared", "configure", "attach", "pace_client",
    "waited_in_this_thread",
]  # fmt: skip

#: AWS's documented default quota (requests per second, account and Region) of the actions the
#: kit paces; sources in the module docstring.
DOCUMENTED_RPS: Mapping[str, float] = {"FilterLogEvents": 5.0, "GetMetricData": 50.0, "LookupEvents": 2.0}
#: Environment variable overriding budgets: ``"Action=rps,Action=rps"`` (``0`` = not paced).
ENV = "INCIDENTKIT_RPS"
#: Error codes AWS answers a request over its quota with (botocore's throttling codes).
THROTTLE_CODES = frozenset({
    "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
    "TooManyRequestsException", "ProvisionedThroughputExceededException", "TransactionInProgressException",
    "RequestLimitExceeded", "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled",
    "SlowDown", "PriorRequestNotComplete", "EC2ThrottledException", "RateExceeded",
})  # fmt: skip


class TokenBucket:
    """A thread-safe token bucket: ``rate`` tokens a second, at most ``burst`` saved up.

    Callers are served one at a time: :meth:`acquire` holds the bucket's lock while it waits,
    and counts the tokens again when it wakes, so a sleep that overran (a busy machine wakes
    threads late) never lets the next call in early. With ``burst=1`` (the default) two calls
    are never closer than ``1/rate``: a service's bucket of the same rate, even one with no
    burst at all, does not throttle them.

    Example
    -------
    >>> now = [0.0]
    >>> b = TokenBucket(rate=4.0, clock=lambda: now[0], sleep=lambda s: now.__setitem__(0, now[0] + s))
    >>> b.acquire(), b.acquire(), b.acquire(), now[0]
    (0.0, 0.25, 0.25, 0.5)
    """

    def __init__(
        self,
        rate: float,
        *,
        burst: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not rate > 0 or not burst >= 1:
            raise ParameterError(f"a token bucket needs rate > 0 and burst >= 1 (got rate={rate!r}, burst={burst!r})")
        self.rate = float(rate)
        self.burst = float(burst)
        self.clock = clock
        self.sleep = sleep
        self._tokens = self.burst
        self._last: float | None = None
        self._lock = threading.Lock()
        #: Tokens handed out, and seconds callers waited for them (for provenance and benchmarks).
        self.acquired = 0
        self.waited_s = 0.0

    def _refill(self) -> None:
        now = self.clock()
        if self._last is not None:
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
        self._last = now

    def acquire(self) -> float:
        """Take one token, waiting for it if need be; returns the seconds this caller slept for it.

        The time spent here in all — the sleep, and the wait for callers served first — is
        added to :func:`waited_in_this_thread`.
        """
        entered = time.monotonic()
        with self._lock:
            self._refill()
            wait = 0.0 if self._tokens >= 1.0 else (1.0 - self._tokens) / self.rate
            if wait > 0:
                self.sleep(wait)
                self._refill()
                self._tokens = max(self._tokens, 1.0)  # the clock may not have moved (a test's): the wait earned it
            self._tokens -= 1.0
            self.acquired += 1
            self.waited_s += wait
        _WAITED.seconds = getattr(_WAITED, "seconds", 0.0) + (time.monotonic() - entered)
        return wait


_WAITED = threading.local()


def waited_in_this_thread() -> float:
    """Seconds this thread has spent taking tokens, in all (subtract two readings to time a call without its wait).

    Real (monotonic) seconds in :meth:`TokenBucket.acquire`: the sleep for a token and the
    wait while other callers are served first (the bucket serves one at a time, so with many
    callers most of the wait is that). A call's time without it is the call's own latency.

    Example
    -------
    >>> before = waited_in_this_thread()
    >>> _ = TokenBucket(rate=1.0).acquire()   # a token is there: next to no time
    >>> waited_in_this_thread() - before < 0.05
    True
    """
    return float(getattr(_WAITED, "seconds", 0.0))


def _parse_env(text: str | None) -> dict[str, float]:
    """``"FilterLogEvents=10, GetMetricData=40"`` → ``{"FilterLogEvents": 10.0, ...}``."""
    out: dict[str, float] = {}
    for item in (text or "").split(","):
        if not item.strip():
            continue
        name, sep, value = item.partition("=")
        try:
            rps = float(value)
        except ValueError:
            rps = -1.0
        if not sep or not name.strip() or rps < 0:
            raise ParameterError(f"{ENV}={text!r}: write Action=requests-per-second pairs, e.g. FilterLogEvents=10")
        out[name.strip()] = rps
    return out


def _check_rate(action: str, rps: Any) -> None:
    if isinstance(rps, bool) or not isinstance(rps, (int, float)) or not rps >= 0:
        raise ParameterError(f"requests per second for {action} must be a number >= 0 (0: not paced), got {rps!r}")


#: What a bucket meters: (API action, Region, account); None where the client does not know it.
Scope = tuple[str, str | None, str | None]


class Budget:
    """The token buckets of a run, one per (API action, Region, account), made on first use.

    ``rates`` override :data:`DOCUMENTED_RPS` and the :data:`ENV` variable (read when a
    bucket is first made). A rate of 0 means the action is not paced. The rate is the
    quota of one account in one Region, so each (Region, account) gets its own bucket at it.

    Example
    -------
    >>> b = Budget({"FilterLogEvents": 20})
    >>> b.rate("FilterLogEvents"), b.rate("GetMetricData"), b.bucket("DescribeLogGroups") is None
    (20.0, 50.0, True)
    >>> b.bucket("FilterLogEvents", region="us-east-1", account="111122223333").rate
    20.0
    """

    def __init__(
        self,
        rates: Mapping[str, float] | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        for action, rps in (rates or {}).items():
            _check_rate(action, rps)
        self._overrides = {k: float(v) for k, v in (rates or {}).items()}
        self._clock, self._sleep = clock, sleep  # handed to every bucket (tests inject a fake clock)
        self._buckets: dict[Scope, TokenBucket] = {}
        self._lock = threading.Lock()

    def rate(self, action: str) -> float:
        """The requests per second the run allows ``action`` (0: not paced)."""
        if action in self._overrides:
            return self._overrides[action]
        env = _parse_env(os.environ.get(ENV))
        return float(env.get(action, DOCUMENTED_RPS.get(action, 0.0)))

    def bucket(self, action: str, *, region: str | None = None, account: str | None = None) -> TokenBucket | None:
        """The run's bucket for ``action`` in ``region`` and ``account`` (the same object for every caller), or None if not paced.

        A new bucket is made only when the action's rate changed (``INCIDENTKIT_RPS`` edited
        mid-run, :meth:`set_rate`); otherwise every caller of the same scope gets the same one.
        """
        rps = self.rate(action)
        key: Scope = (action, region or None, account or None)
        with self._lock:
            current = self._buckets.get(key)
            if rps <= 0:
                self._buckets.pop(key, None)
                return None
            if current is None or current.rate != rps:
                current = self._buckets[key] = TokenBucket(rps, clock=self._clock, sleep=self._sleep)
            return current

    def scopes(self) -> list[Scope]:
        """The (action, Region, account) scopes a bucket was made for so far (for provenance and tests)."""
        with self._lock:
            return sorted(self._buckets, key=lambda k: tuple(x or "" for x in k))

    def overridden(self) -> list[str]:
        """Actions given a budget by this object or by :data:`ENV` (beyond :data:`DOCUMENTED_RPS`)."""
        return sorted(set(self._overrides) | set(_parse_env(os.environ.get(ENV))))

    def set_rate(self, action: str, rps: float) -> None:
        """Change the budget of ``action`` for the rest of the run (``0``: stop pacing it)."""
        _check_rate(action, rps)
        with self._lock:
            self._overrides[action] = float(rps)


_SHARED = Budget()


def shared() -> Budget:
    """The budget every fetch of this process draws on (AWS meters the account, not the client)."""
    return _SHARED


def configure(**rates: float) -> Budget:
    """Set the run's budgets, e.g. ``configure(FilterLogEvents=10)`` after a quota increase.

    Example
    -------
    >>> configure() is shared()       # no change given: the run's budget, as it is
    True
    """
    for action, rps in rates.items():
        _SHARED.set_rate(action, rps)
    return _SHARED


class Throttles:
    """Counts the attempts AWS answered with a throttling error (botocore retried them).

    Registered on a client's ``needs-retry`` event by :func:`attach`; it only observes.
    """

    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()

    def __call__(self, response: Any = None, **_: Any) -> None:
        parsed = response[1] if isinstance(response, tuple) and len(response) > 1 else None
        code = ((parsed or {}).get("Error") or {}).get("Code")
        if code in THROTTLE_CODES:
            with self._lock:
                self.count += 1


class Pacer:
    """The ``before-send`` hook that makes each attempt of one action on one client wait for its token.

    The bucket is looked up at each attempt, by the action, the client's Region and the
    account its credentials carry (read after botocore signed the attempt, so never a
    refresh nor a call), and made on first use.

    Example
    -------
    >>> p = Pacer(Budget({"FilterLogEvents": 4}), "FilterLogEvents", region="eu-west-1")
    >>> p.rate, p.bucket() is Budget().bucket("FilterLogEvents", region="eu-west-1")
    (4.0, False)
    """

    def __init__(self, budget: Budget, action: str, *, region: str | None = None, credentials: Any = None) -> None:
        self.budget, self.action, self.region, self.credentials = budget, action, region, credentials

    @property
    def rate(self) -> float:
        """The budget of the action (requests per second in one account and Region; 0: not paced)."""
        return self.budget.rate(self.action)

    @property
    def account(self) -> str | None:
        """The account the credentials say they belong to, or None when they do not say."""
        try:
            return getattr(self.credentials, "account_id", None) or None
        except Exception:  # noqa: BLE001 - a credential provider's failure is the call's to report, not the pacer's
            return None

    def bucket(self) -> TokenBucket | None:
        """The bucket of this action in this client's Region and account (None: not paced)."""
        return self.budget.bucket(self.action, region=self.region, account=self.account)

    def __call__(self, **_: Any) -> None:
        bucket = self.bucket()
        if bucket is not None:
            bucket.acquire()  # returns None: the request goes on to be sent


#: The credentials each paced client signs with (given by :func:`pace_client`), for :func:`attach`.
_CREDENTIALS: "weakref.WeakKeyDictionary[Any, Any]" = weakref.WeakKeyDictionary()


def attach(client: Any, action: str, budget: Budget | None = None) -> tuple[Pacer | None, Throttles]:
    """Pace every attempt of ``action`` on ``client`` by ``budget``'s bucket of its scope, and count its throttles.

    Returns the pacer (None when the action is not paced) and a new throttle counter for
    this caller. One pacing hook per action and client: attaching again replaces it (a
    fetch given its own ``budget`` does not wait twice). The hook is registered *first* on
    ``before-send``, so it runs before any other hook that answers the request (a test
    server, a stub).

    Example
    -------
    >>> from incidentkit.fetch import aws
    >>> c = aws.client("logs", region="us-east-1")
    >>> pacer, throttles = attach(c, "FilterLogEvents", Budget({"FilterLogEvents": 5}))
    >>> pacer.rate, pacer.region, throttles.count
    (5.0, 'us-east-1', 0)
    """
    pacer = _pace(client, action, budget)
    service = client.meta.service_model.service_id.hyphenize()
    throttles = Throttles()
    client.meta.events.register(f"needs-retry.{service}.{action}", throttles, unique_id=f"incidentkit-throttles-{id(throttles)}")
    return pacer, throttles


def _pace(client: Any, action: str, budget: Budget | None) -> Pacer | None:
    """(Re)place the one pacing hook of ``action`` on ``client``; the pacer, or None if not paced."""
    pacer = Pacer(budget or _SHARED, action, region=client.meta.region_name, credentials=_CREDENTIALS.get(client))
    service = client.meta.service_model.service_id.hyphenize()
    pace_id = f"incidentkit-pace-{service}-{action}"
    client.meta.events.unregister(f"before-send.{service}.{action}", unique_id=pace_id)
    if pacer.rate <= 0:
        return None
    client.meta.events.register_first(f"before-send.{service}.{action}", pacer, unique_id=pace_id)
    return pacer


def pace_client(client: Any, budget: Budget | None = None, *, credentials: Any = None) -> None:
    """Pace every action of ``client`` that has a budget (:data:`DOCUMENTED_RPS` or the overrides).

    :func:`incidentkit.fetch.aws.client` calls it on every client it makes, so all fetches of
    a run draw on the same buckets. ``credentials``: the botocore credentials the client
    signs with (its session's), whose ``account_id`` scopes the buckets when they carry one.

    Example
    -------
    >>> from incidentkit.fetch import aws
    >>> pace_client(aws.client("cloudwatch", region="us-east-1"))    # aws.client already did
    """
    if credentials is not None:
        _CREDENTIALS[client] = credentials
    ops = set(client.meta.service_model.operation_names)
    for action in sorted(ops & (set(DOCUMENTED_RPS) | set((budget or _SHARED).overridden()))):
        _pace(client, action, budget)
