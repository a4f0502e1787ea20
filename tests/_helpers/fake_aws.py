"""FakeAws: a botocore ``before-send`` hook acting as AWS, injecting faults (see tests/fetch/test_faults.py)."""

from __future__ import annotations

import json
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable

import boto3
import pandas as pd
from botocore.awsrequest import AWSResponse
from botocore.exceptions import EndpointConnectionError

from incidentkit.window import Window


REGION = "us-east-1"


#: Requests FakeAws answers before it declares the client stuck in a loop.
MAX_CALLS = 2_000


#: The attempts throttled in every 10 (a deterministic 30 %).
THROTTLED_SLOTS = frozenset({0, 3, 6})


class _Body:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any):
        yield self._data

    def read(self, *_: Any, **__: Any) -> bytes:
        return self._data


def _cbor(obj: dict[str, str]) -> bytes:
    """Minimal CBOR (RFC 8949) for a map of short text: enough for an rpc-v2-cbor error body."""

    def text(s: str) -> bytes:
        raw = s.encode()
        assert len(raw) < 256
        return (bytes([0x60 | len(raw)]) if len(raw) < 24 else bytes([0x78, len(raw)])) + raw

    assert len(obj) < 24
    return bytes([0xA0 | len(obj)]) + b"".join(text(k) + text(v) for k, v in obj.items())


# botocore event names carry the hyphenated service id
_SERVICE_OF = {"cloudwatch-logs": "logs", "cloudtrail": "cloudtrail", "cloudwatch": "cloudwatch"}


def error_response(request: Any, service: str, code: str, message: str, status: int = 400) -> AWSResponse:
    """An AWS error in the protocol the request was made in (JSON 1.0/1.1, or rpc-v2-cbor)."""
    sent = {k.lower(): (v.decode() if isinstance(v, bytes) else v) for k, v in request.headers.items()}
    if "cbor" in sent.get("content-type", "") or sent.get("smithy-protocol") == "rpc-v2-cbor":
        headers = {"content-type": "application/cbor", "smithy-protocol": "rpc-v2-cbor", "x-amzn-requestid": "fake"}
        body = _cbor({"__type": f"com.amazonaws.{service}#{code}", "message": message})
    else:
        headers = {"content-type": sent.get("content-type") or "application/x-amz-json-1.1", "x-amzn-requestid": "fake"}
        body = json.dumps({"__type": code, "message": message}).encode()
    if service == "cloudwatch":  # awsQueryCompatible: the query-protocol code travels in a header
        headers["x-amzn-query-error"] = f"{'Throttling' if code == 'ThrottlingException' else code};Sender"
    return AWSResponse(request.url, status, headers, _Body(body))


def ok_response(request: Any, body: dict[str, Any]) -> AWSResponse:
    """A JSON 1.1 answer (HTTP 200) to ``request``: what a ``before-send`` hook returns as AWS."""
    return _ok(request.url, body)


def _ok(url: str, body: dict[str, Any]) -> AWSResponse:
    headers = {"content-type": "application/x-amz-json-1.1", "x-amzn-requestid": "fake"}
    return AWSResponse(url, 200, headers, _Body(json.dumps(body, default=str).encode()))


@dataclass
class Fault:
    """From the ``at``-th attempt (1-based) of ``op`` on, answer with ``kind`` (``times`` attempts; None: all)."""

    op: str
    at: int
    kind: str  # throttle | connection | expired
    times: int | None = None
    fired: int = 0

    def applies(self, op: str, attempt: int) -> bool:
        return op == self.op and attempt >= self.at and (self.times is None or self.fired < self.times)


@dataclass
class FakeAws:
    """Answers the kit's requests; counts attempts; injects faults.

    ``handlers`` map an operation name to ``f(params) -> dict`` (the JSON response body)
    or raise :class:`AwsFault`; operations without a handler fall through (to moto when
    it is active).
    """

    handlers: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = field(default_factory=dict)
    throttle_ratio: bool = False
    faults: list[Fault] = field(default_factory=list)
    attempts: Counter = field(default_factory=Counter)
    answered: Counter = field(default_factory=Counter)
    throttled: int = 0
    injected: Counter = field(default_factory=Counter)
    total: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def session(self, region: str = REGION) -> boto3.Session:
        s = boto3.Session(region_name=region)
        s.events.register_first("before-send", self)
        return s

    def __call__(self, request: Any, event_name: str = "", **_: Any) -> AWSResponse | None:
        _, service_id, op = event_name.split(".", 2)
        service = _SERVICE_OF.get(service_id, service_id)
        with self._lock:
            self.total += 1
            if self.total > MAX_CALLS:
                raise RuntimeError(f"FakeAws: more than {MAX_CALLS} requests; the client is looping ({op})")
            self.attempts[op] += 1
            attempt = self.attempts[op]
            slot = self.total - 1
            fault = next((f for f in self.faults if f.applies(op, attempt)), None)
            if fault is not None:
                fault.fired += 1
                self.injected[fault.kind] += 1
            elif self.throttle_ratio and slot % 10 in THROTTLED_SLOTS:
                self.throttled += 1
                return error_response(request, service, "ThrottlingException", "Rate exceeded")
        if fault is not None:
            if fault.kind == "throttle":
                with self._lock:
                    self.throttled += 1
                return error_response(request, service, "ThrottlingException", "Rate exceeded")
            if fault.kind == "connection":
                raise EndpointConnectionError(endpoint_url=request.url)
            if fault.kind == "expired":
                return error_response(request, service, "ExpiredTokenException", "The security token included in the request is expired")
            raise AssertionError(fault.kind)
        handler = self.handlers.get(op)
        if handler is None:
            return None  # moto (or nobody) answers
        params = json.loads(request.body or b"{}")
        try:
            body = handler(params)
        except AwsFault as f:
            return error_response(request, service, f.code, f.message, f.status)
        with self._lock:
            self.answered[op] += 1
        return _ok(request.url, body)


class AwsFault(Exception):
    """Raised by a handler: answer with this AWS error."""

    def __init__(self, code: str, message: str = "", status: int = 400) -> None:
        super().__init__(code)
        self.code, self.message, self.status = code, message, status


def recent_window(minutes: int = 60, back: int = 60) -> Window:
    end = pd.Timestamp.now(tz="UTC").floor("min") - pd.Timedelta(minutes=back)
    return Window(end - pd.Timedelta(minutes=minutes), end)
