"""The collection machinery of a health snapshot: one :class:`_Collector` making the calls and recording rows, settings and issues."""

from __future__ import annotations

import json
from typing import Any, Callable, Mapping

import pandas as pd

from ..._util.fmt import iso as _iso
from ...errors import (
    AccessDeniedError,
    AwsError,
    EndpointError,
    IncidentKitError,
    NoCredentialsError,
    NoRegionError,
    NotFoundError,
    from_botocore,
)
from .. import aws
from .frames import FRAME_COLUMNS


class _Collector:
    def __init__(self, kw: Mapping[str, Any], collected_at: pd.Timestamp) -> None:
        self.kw = dict(kw)
        self.collected_at = collected_at
        self.clients: dict[str, Any] = {}
        self.stats: dict[str, dict[str, int]] = {}
        self.summary: list[dict[str, Any]] = []
        self.rows: dict[str, list[dict[str, Any]]] = {name: [] for name in FRAME_COLUMNS}
        self.settings: list[dict[str, Any]] = []
        self.issues: list[str] = []
        self.group_issues: dict[str, list[str]] = {}
        self.alarm_targets: list[tuple[str, str, dict[str, str]]] = []
        self.account_settings: Mapping[str, Any] | None = None
        self.region: str | None = None

    def client(self, service: str) -> Any:
        if service not in self.clients:
            made = aws.client(service, **self.kw)
            self.clients[service] = made
            self.region = self.region or made.meta.region_name
        return self.clients[service]

    def call(self, service: str, op: str, **params: Any) -> dict[str, Any]:
        group = {"apigatewayv2": "apigateway", "application-autoscaling": "dynamodb"}.get(service, service)
        st = self.stats.setdefault(group, {"api_calls": 0, "retries": 0})
        try:
            resp = getattr(self.client(service), op)(**params)
        except IncidentKitError:
            raise
        except NotImplementedError as exc:  # an emulator (moto in-process) without this operation
            st["api_calls"] += 1
            raise AwsError(f"the endpoint does not implement {_op_name(op)}", service=service,
                           operation=_op_name(op)) from exc
        except Exception as exc:
            st["api_calls"] += 1
            err = from_botocore(exc, service=service)
            err.context.setdefault("operation", _op_name(op))
            raise err from exc
        st["api_calls"] += 1
        st["retries"] += aws.retry_attempts(resp)
        return resp

    def pages(self, service: str, op: str, items: str, token_in: str, token_out: str, **params: Any) -> list[Any]:
        """Follow a pagination token, never looping on a repeated token."""
        out: list[Any] = []
        seen: set[str] = set()
        while True:
            resp = self.call(service, op, **params)
            out.extend(resp.get(items) or [])
            token = resp.get(token_out)
            if not token or token in seen:
                return out
            seen.add(token)
            params[token_in] = token

    # -- recording ---------------------------------------------------------------------------

    def add_summary(self, rtype: str, rid: str, state: str, reason: str = "", key_number: str = "", details: str = "") -> None:
        self.summary.append({"resource_type": rtype, "resource_id": rid, "state": state, "reason": reason,
                             "key_number": key_number, "details": details})

    def add_row(self, frame: str, **row: Any) -> None:
        self.rows[frame].append(row)

    def add_setting(self, rtype: str, rid: str, setting: str, value: Any) -> None:
        self.settings.append({"timestamp": self.collected_at, "resource_type": rtype, "resource_id": rid,
                              "setting": setting, "value": _setting_text(value)})

    def add_issue(self, group: str, text: str) -> None:
        self.issues.append(text)
        self.group_issues.setdefault(group, []).append(text)

    def guarded(self, rtype: str, rid: str, group: str, fn: Callable[[], None]) -> None:
        """Run one resource's collection; a denied or failed call becomes a row, not a failure."""
        try:
            fn()
        except (NoCredentialsError, NoRegionError, EndpointError):
            raise
        except AccessDeniedError as exc:
            reason = f"AccessDenied: {_denied_text(exc)}"
            self.add_summary(rtype, rid, "not_collected", reason)
            self.add_issue(group, f"{rtype} {rid}: not collected: {reason}")
        except NotFoundError as exc:
            self.add_summary(rtype, rid, "unhealthy", f"NotFound: {_error_text(exc)} (deleted, or a wrong name?)")
            self.add_issue(group, f"{rtype} {rid}: not found")
        except AwsError as exc:
            reason = f"{_error_code(exc)}: {_error_text(exc)}"
            self.add_summary(rtype, rid, "not_collected", reason)
            self.add_issue(group, f"{rtype} {rid}: not collected: {reason}")

    def partial(self, group: str, what: str, fn: Callable[[], Any], notes: list[str]) -> Any:
        """Run an optional sub-collection; a failure is noted on the resource, not raised."""
        try:
            return fn()
        except (NoCredentialsError, NoRegionError, EndpointError):
            raise
        except AwsError as exc:
            code = "AccessDenied" if isinstance(exc, AccessDeniedError) else _error_code(exc)
            note = f"{what} not collected ({code})"
            notes.append(note)
            self.add_issue(group, f"{what}: not collected: {code}: {_error_text(exc)}")
            return None


def _op_name(method: str) -> str:
    return "".join(p.capitalize() for p in method.split("_"))


def _error_code(exc: AwsError) -> str:
    cause = exc.__cause__
    if isinstance(cause, NotImplementedError):
        return "NotImplemented"
    resp = getattr(cause, "response", None)
    if isinstance(resp, Mapping):
        code = (resp.get("Error") or {}).get("Code")
        if code:
            return str(code)
    return type(exc).__name__.replace("Error", "") or "AwsError"


def _error_text(exc: AwsError) -> str:
    cause = exc.__cause__
    resp = getattr(cause, "response", None)
    msg = (resp.get("Error") or {}).get("Message") if isinstance(resp, Mapping) else None
    return str(msg or exc.message)[:240]


def _denied_text(exc: AwsError) -> str:
    op = exc.context.get("operation")
    service = exc.context.get("service")
    action = aws.iam_action(str(service), str(op)) if service and op else None
    msg = _error_text(exc)
    return f"{action}: {msg}" if action else msg


def _setting_text(value: Any) -> Any:
    if value is None or value is pd.NA:
        return pd.NA
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, default=str, sort_keys=True, separators=(",", ":"))
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, pd.Timestamp) or hasattr(value, "isoformat"):
        return _iso(value)
    return str(value)


