"""The Logs Insights query parser: what a query returns (rows, bins, aggregates), its limits, its bounds."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...errors import (
    ParameterError,
)

#: Log groups one StartQuery accepts (``logGroupNames`` / ``logGroupIdentifiers``).
MAX_LOG_GROUPS = 50
#: StartQuery ``limit`` maximum (botocore model ``EventsLimitStartQuery``).
MAX_LIMIT = 100_000
#: Default row limit (AWS's own default).
DEFAULT_LIMIT = 10_000

# --- query shape --------------------------------------------------------------------------------

_BIN_UNITS_MS = {
    "ms": 1, "msec": 1, "msecs": 1, "millisecond": 1, "milliseconds": 1,
    "s": 1_000, "sec": 1_000, "secs": 1_000, "second": 1_000, "seconds": 1_000,
    "m": 60_000, "min": 60_000, "mins": 60_000, "minute": 60_000, "minutes": 60_000,
    "h": 3_600_000, "hr": 3_600_000, "hrs": 3_600_000, "hour": 3_600_000, "hours": 3_600_000,
    "d": 86_400_000, "day": 86_400_000, "days": 86_400_000,
}  # fmt: skip
# Calendar bins (week, month, quarter, year) are not fixed-length or not epoch-aligned: never split.
_BIN_RE = re.compile(r"\bbin\s*\(\s*(\d+(?:\.\d+)?)\s*([A-Za-z]+)\s*\)", re.IGNORECASE)
_NON_SPLITTABLE = {"dedup", "pattern", "diff", "anomaly", "join"}
_ROW_WISE_AFTER_STATS = {"sort", "display", "fields", "filter"}


@dataclass(frozen=True)
class _Shape:
    """What a query returns, as far as completeness checks and splitting are concerned.

    ``kind``: ``raw`` (one row per event: split freely), ``limited`` (raw rows under the
    query's own ``limit N``: never split), ``binned`` (one ``stats ... by bin(X)``: split on
    bin boundaries) or ``aggregate`` (anything else: never split).
    """

    kind: str
    bin_ms: int | None = None
    origin_ms: int = 0  # bins start at origin + k * bin_ms (Logs Insights bin() counts from the epoch)
    user_limit: int | None = None
    sort: tuple[str, bool] | None = None  # (field, descending)
    reason: str = ""


def _sanitize(query: str) -> str:
    """The query with comments removed and string / regex literals blanked (so ``|`` inside them is inert)."""
    out: list[str] = []
    i, n = 0, len(query)
    while i < n:
        ch = query[i]
        if ch in "'\"`":
            j = i + 1
            while j < n and query[j] != ch:
                j += 2 if query[j] == "\\" else 1
            out.append('""')
            i = j + 1
            continue
        if ch == "#":
            j = query.find("\n", i)
            i = n if j < 0 else j
            continue
        if ch == "/":
            before = "".join(out).rstrip()
            seg = before.rsplit("|", 1)[-1].split()
            command = seg[0].lower() if seg else ""
            if command == "parse" or before.endswith(("like", "~", "(", ",", "=", "|")) or before.lower().endswith(" in"):
                j = i + 1
                while j < n and query[j] != "/":
                    j += 2 if query[j] == "\\" else 1
                out.append('""')
                i = j + 1
                continue
        out.append(ch)
        i += 1
    return "".join(out)


def _commands(query: str) -> list[tuple[str, str]]:
    out = []
    for seg in _sanitize(query).split("|"):
        words = seg.strip().split(None, 1)
        if words:
            out.append((words[0].lower(), words[1] if len(words) > 1 else ""))
    return out


def _query_shape(query: str) -> _Shape:
    """Classify a Logs Insights query (see :class:`_Shape`)."""
    cmds = _commands(query)
    names = [c for c, _ in cmds]
    sort = None
    for c, rest in cmds:
        if c == "sort":
            m = re.match(r"\s*(?:by\s+)?([@\w.$\-]+)\s*(asc|desc)?", rest, re.IGNORECASE)
            if m:
                sort = (m.group(1), (m.group(2) or "desc").lower() == "desc")
    user_limit = None
    for c, rest in cmds:
        if c == "limit":
            m = re.match(r"\s*(\d+)", rest)
            if m:
                user_limit = int(m.group(1))
    blocked = [c for c in names if c in _NON_SPLITTABLE]
    stats_at = [i for i, c in enumerate(names) if c == "stats"]
    if blocked:
        return _Shape("aggregate", user_limit=user_limit, sort=sort, reason=f"`{blocked[0]}` results cannot be split by time")
    if stats_at:
        if len(stats_at) > 1:
            return _Shape("aggregate", user_limit=user_limit, sort=sort, reason="several `stats` commands")
        idx = stats_at[0]
        rest = cmds[idx][1]
        by = re.search(r"\bby\b(.*)$", rest, re.IGNORECASE | re.DOTALL)
        m = _BIN_RE.search(by.group(1)) if by else None
        after = names[idx + 1 :]
        if m and all(a in _ROW_WISE_AFTER_STATS for a in after):
            unit = m.group(2).lower()
            ms = float(m.group(1)) * _BIN_UNITS_MS[unit] if unit in _BIN_UNITS_MS else None
            if ms and ms >= 1 and float(ms).is_integer():
                return _Shape("binned", bin_ms=int(ms), user_limit=user_limit, sort=sort)
            return _Shape("aggregate", user_limit=user_limit, sort=sort, reason=f"calendar bin {m.group(0)} cannot be split")
        if m:
            return _Shape("aggregate", user_limit=user_limit, sort=sort, reason="commands after `stats` act on all bins")
        return _Shape("aggregate", user_limit=user_limit, sort=sort, reason="`stats` without a time bin is not additive")
    if user_limit is not None:
        return _Shape("limited", user_limit=user_limit, sort=sort)
    return _Shape("raw", sort=sort)


def _is_full(shape: _Shape, rows: int, matched: Any, limit: int) -> bool:
    """Whether a result may lack rows that exist."""
    if shape.kind == "raw":
        return rows >= limit or (matched is not None and float(matched) > rows)
    if shape.kind == "limited":
        return rows >= limit and (shape.user_limit is None or shape.user_limit > limit)
    return rows >= limit


def _bounded(query: str, start_ms: int, end_ms: int) -> str:
    """Prepend an exact ``[start_ms, end_ms)`` filter (StartQuery itself only takes whole seconds)."""
    return (
        f"filter toMillis(@timestamp) >= {start_ms} and toMillis(@timestamp) < {end_ms}\n| {query.strip()}"
    )


def _check_query(query: str) -> str:
    if not isinstance(query, str) or not query.strip():
        raise ParameterError("query is empty: give a Logs Insights query, e.g. 'fields @timestamp, @message'")
    if len(query) > 9_900:
        raise ParameterError(f"query is {len(query)} characters; Logs Insights takes at most 10,000")
    first = _sanitize(query).strip().split(None, 1)
    if first and first[0].upper() == "SOURCE":
        raise ParameterError("queries with a SOURCE command are not supported: pass the log groups as log_groups instead")
    return query


def _check_limit(limit: int) -> int:
    if isinstance(limit, bool) or not isinstance(limit, (int, np.integer)) or not 1 <= int(limit) <= MAX_LIMIT:
        raise ParameterError(f"limit={limit!r} is out of range: Logs Insights returns 1 to {MAX_LIMIT:,} rows a query")
    return int(limit)
