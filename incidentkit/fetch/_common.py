"""Helpers the CloudWatch Logs fetches share: windows in epoch milliseconds, log group lists, the client."""

from __future__ import annotations

from typing import Any, Iterable

import pandas as pd

from .._util.fmt import iso
from ..errors import ParameterError
from ..window import Window
from . import aws


def _group_list(log_groups: str | Iterable[str], *, what: str = "log_groups") -> list[str]:
    """Normalise one name / ARN or a list of them; strip a trailing ``:*`` from ARNs; de-duplicate."""
    if isinstance(log_groups, str):
        items = [log_groups]
    else:
        try:
            items = list(log_groups)
        except TypeError as exc:
            raise ParameterError(f"{what} must be a log group name, an ARN or a list of them, got {log_groups!r}") from exc
    out: list[str] = []
    for item in items:
        if not isinstance(item, str) or not item.strip():
            raise ParameterError(f"{what}: {item!r} is not a log group name or ARN")
        name = item.strip()
        if name.startswith("arn:") and name.endswith(":*"):
            name = name[:-2]
        if name not in out:
            out.append(name)
    if not out:
        raise ParameterError(f"{what} is empty: name at least one log group (e.g. /aws/lambda/my-function)")
    return out


def _group_name(ref: str) -> str:
    """The log group name of a name or an ARN (``arn:aws:logs:r:acct:log-group:NAME``)."""
    if ref.startswith("arn:") and ":log-group:" in ref:
        return ref.split(":log-group:", 1)[1]
    return ref


def _client(client: Any, session: Any, region: str | None, endpoint_url: str | None, max_attempts: int | None) -> Any:
    if client is not None:
        return client
    return aws.client("logs", session=session, region=region, endpoint_url=endpoint_url, max_attempts=max_attempts)


def _iso(ms: int) -> str:
    return str(iso(pd.Timestamp(ms, unit="ms", tz="UTC")))


def _window_text(start_ms: int, end_ms: int) -> str:
    return f"{_iso(start_ms)} → {_iso(end_ms)}"


def _ceil_ms(ts: pd.Timestamp) -> int:
    return -(-int(ts.value) // 1_000_000)


def _window_ms(win: Window) -> tuple[int, int]:
    """``[start, end)`` of a window in whole epoch milliseconds (start rounded up, end rounded up)."""
    return _ceil_ms(win.start), _ceil_ms(win.end)


def _botocore_errors() -> tuple[type[BaseException], ...]:
    from botocore.exceptions import BotoCoreError, ClientError

    return (ClientError, BotoCoreError)

