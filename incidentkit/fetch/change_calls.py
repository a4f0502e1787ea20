"""The AWS calls of the change timeline: paced, counted, and mapped to the kit's errors.

:class:`_Stats` counts a timeline's calls, retries and issues per source; :func:`_call` makes one
call and maps a botocore error with its context; :func:`_paged` follows a list call's pages;
:class:`_Pacer` keeps calls apart (CloudTrail LookupEvents allows 2 a second per account and
region).

Example
-------
>>> stats = _Stats()
>>> stats.record("cloudtrail", {"ResponseMetadata": {"RetryAttempts": 2}})
>>> stats.api_calls, stats.retries, stats.by_source["cloudtrail"]["api_calls"]
(1, 2, 1)
"""

from __future__ import annotations

import threading
import time
from typing import Any, Callable, Mapping

from . import aws
from ..errors import BadWindowError, ParameterError, from_botocore


class _Pacer:
    """Keeps calls at least ``interval`` seconds apart (CloudTrail LookupEvents: 2 per second)."""

    def __init__(self, interval: float, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep):
        self.interval = interval
        self.clock = clock
        self.sleep = sleep
        self._last: float | None = None
        self._lock = threading.Lock()

    def wait(self) -> None:
        with self._lock:
            if self._last is not None and self.interval > 0:
                gap = self.clock() - self._last
                if gap < self.interval:
                    self.sleep(self.interval - gap)
            self._last = self.clock()


class _Stats:
    def __init__(self) -> None:
        self.api_calls = 0
        self.retries = 0
        self.issues: list[str] = []
        self.truncated = False
        self.complete = True
        self.by_source: dict[str, dict[str, Any]] = {}

    def record(self, source: str, response: Mapping[str, Any]) -> None:
        self.api_calls += 1
        self.retries += aws.retry_attempts(response)
        s = self.by_source.setdefault(source, {"api_calls": 0, "rows": 0})
        s["api_calls"] += 1


def _call(client: Any, op: str, stats: _Stats, source: str, context: Mapping[str, Any], **params: Any) -> dict[str, Any]:
    try:
        response = getattr(client, op)(**params)
    except Exception as exc:  # botocore errors, mapped to the kit's tree
        if isinstance(exc, (ParameterError, BadWindowError)):
            raise
        stats.record(source, getattr(exc, "response", None) or {})  # a call that failed after its retries is a call
        raise from_botocore(exc, service=source, **context) from exc
    stats.record(source, response)
    return response


def _paged(
    client: Any, op: str, stats: _Stats, source: str, context: Mapping[str, Any], params: Mapping[str, Any],
    *, items: str, token: str, request_token: str | None = None,
) -> list[Any]:
    """Every ``items`` entry of a paged list call, following ``token`` (sent back as ``request_token``) until none or a repeat."""
    params = dict(params)
    out: list[Any] = []
    seen: set[str] = set()
    while True:
        resp = _call(client, op, stats, source, context, **params)
        out.extend(resp.get(items) or [])
        next_token = resp.get(token)
        if not next_token or next_token in seen:
            return out
        seen.add(next_token)
        params[request_token or token] = next_token
