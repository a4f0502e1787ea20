"""Times and windows.

Accepted time forms (every result is a tz-aware UTC :class:`pandas.Timestamp`):

* ISO-8601 with ``Z`` or an offset: ``2026-03-01T03:00:00Z``, ``2026-03-01T05:00+02:00``;
  a naive ISO time means UTC;
* epoch seconds (``1772334000``) or milliseconds (13 digits), as text or number;
* ``now``, and relative offsets from now: ``-2h``, ``-30m``, ``-7d``, ``-90s``, ``-1w``
  (also ``now-2h``).

Example
-------
>>> from incidentkit.window import Window, parse_time
>>> w = Window.parse("2026-03-01T03:00:00Z", "2026-03-01T04:00:00Z")
>>> w.duration
Timedelta('0 days 01:00:00')
>>> w.baseline("previous").end == w.start
True
>>> parse_time("1772334000").isoformat()
'2026-03-01T03:00:00+00:00'
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any, Literal, Mapping, Union

import pandas as pd

from ._util.fmt import iso as _iso
from .errors import BadWindowError

__all__ = ["TimeLike", "Window", "parse_time", "utc_or_nat", "as_window", "now_utc", "ACCEPTED_FORMS"]

TimeLike = Union[str, int, float, dt.datetime, pd.Timestamp]

ACCEPTED_FORMS = (
    "ISO-8601 (2026-03-01T03:00:00Z, with Z or an offset; naive means UTC), epoch seconds, "
    "'now', or a relative offset like -2h, -30m, -7d"
)

_RELATIVE = re.compile(r"^\s*(?:now\s*)?-\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|hr|d|w)\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hr": 3600, "d": 86400, "w": 604800}
_EPOCH = re.compile(r"^\s*\d{9,13}(\.\d+)?\s*$")
# Slack allowed for "in the future" checks: clocks drift and users type end=now.
_FUTURE_SLACK = pd.Timedelta(minutes=5)


def now_utc() -> pd.Timestamp:
    """The current time, tz-aware UTC, to the microsecond."""
    return pd.Timestamp.now(tz="UTC")


def parse_time(value: TimeLike, *, now: pd.Timestamp | None = None, name: str = "time") -> pd.Timestamp:
    """Parse one time into a tz-aware UTC timestamp.

    Parameters
    ----------
    value:
        A time in any accepted form (see the module docstring).
    now:
        The reference for ``now`` and relative offsets (default: the current time).
    name:
        What the value is (``start``, ``end``...), used in the error message.

    Returns
    -------
    pandas.Timestamp
        tz-aware, in UTC.

    Raises
    ------
    BadWindowError
        When the value cannot be understood; the message names it and the accepted forms.

    Example
    -------
    >>> parse_time("2026-03-01T05:00:00+02:00").isoformat()
    '2026-03-01T03:00:00+00:00'
    >>> ref = parse_time("2026-03-01T03:00:00Z")
    >>> parse_time("-2h", now=ref).isoformat()
    '2026-03-01T01:00:00+00:00'
    """
    ref = now if now is not None else now_utc()
    if isinstance(value, bool):
        raise BadWindowError(f"{name}: {value!r} is not a time; use {ACCEPTED_FORMS}")
    if isinstance(value, (int, float)):
        return _from_epoch(float(value), name)
    if isinstance(value, (pd.Timestamp, dt.datetime)):
        ts = pd.Timestamp(value)
        if pd.isna(ts):
            raise BadWindowError(f"{name}: NaT is not a time; use {ACCEPTED_FORMS}")
        return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    if isinstance(value, dt.date):
        return pd.Timestamp(value).tz_localize("UTC")
    if not isinstance(value, str):
        raise BadWindowError(f"{name}: {value!r} is not a time; use {ACCEPTED_FORMS}")
    text = value.strip()
    if not text:
        raise BadWindowError(f"{name}: empty; use {ACCEPTED_FORMS}")
    if text.lower() == "now":
        return ref
    m = _RELATIVE.match(text)
    if m:
        amount = float(m.group(1)) * _UNIT_SECONDS[m.group(2).lower()]
        return ref - pd.Timedelta(seconds=amount)
    if _EPOCH.match(text):
        return _from_epoch(float(text), name)
    try:
        ts = pd.Timestamp(text)
    except (ValueError, TypeError, OverflowError) as exc:
        raise BadWindowError(f"{name}: cannot read {value!r} as a time; use {ACCEPTED_FORMS}") from exc
    if pd.isna(ts):
        raise BadWindowError(f"{name}: cannot read {value!r} as a time; use {ACCEPTED_FORMS}")
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def utc_or_nat(value: Any) -> Any:
    """One timestamp from an AWS response field as tz-aware UTC, or ``NaT`` when it is absent or unreadable.

    The lenient sibling of :func:`parse_time` for fields AWS fills in (``CreationTime``,
    ``StateUpdatedTimestamp``, a CloudTrail record's time): a naive value is taken as UTC, an
    aware one is converted, and ``None``, ``""``, ``NaN`` or text that is no time become ``NaT``
    (the caller's frame shows the gap) instead of an error.

    Example
    -------
    >>> utc_or_nat("2024-03-01T02:00:00+01:00"), utc_or_nat(None), utc_or_nat("soon")
    (Timestamp('2024-03-01 01:00:00+0000', tz='UTC'), NaT, NaT)
    """
    if value is None or (isinstance(value, float) and value != value):
        return pd.NaT
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError):
        return pd.NaT
    if ts is pd.NaT:
        return pd.NaT
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def _from_epoch(seconds: float, name: str) -> pd.Timestamp:
    given = seconds
    if seconds != seconds or seconds in (float("inf"), float("-inf")):
        raise BadWindowError(f"{name}: {seconds!r} is not a time; use {ACCEPTED_FORMS}")
    if seconds > 1e11:  # 13-digit epoch milliseconds
        seconds = seconds / 1000.0
    if seconds < 0 or seconds > 4e9:  # the error names the value as given, not as rescaled
        raise BadWindowError(f"{name}: epoch {given!r} is out of range; use {ACCEPTED_FORMS}")
    return pd.Timestamp(seconds, unit="s", tz="UTC")


@dataclass(frozen=True)
class Window:
    """A half-open time window ``[start, end)`` in UTC.

    Build one with :meth:`parse` (any accepted time form) or directly from
    tz-aware timestamps. Invalid windows raise :class:`BadWindowError`.

    Example
    -------
    >>> w = Window.parse("2026-03-01T03:00Z", "2026-03-01T03:30Z")
    >>> str(w)
    '2026-03-01T03:00:00Z → 2026-03-01T03:30:00Z (30 min)'
    >>> w.baseline("week").start.isoformat()
    '2026-02-22T03:00:00+00:00'
    """

    start: pd.Timestamp
    end: pd.Timestamp

    def __post_init__(self) -> None:
        start = parse_time(self.start, name="start")
        end = parse_time(self.end, name="end")
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "end", end)
        if end <= start:
            raise BadWindowError(
                f"end {end.isoformat()} is not after start {start.isoformat()}; give an end later than the start"
            )

    @classmethod
    def parse(
        cls,
        start: TimeLike,
        end: TimeLike = "now",
        *,
        now: pd.Timestamp | None = None,
        allow_future: bool = False,
    ) -> "Window":
        """Parse a window from two times in any accepted form.

        Parameters
        ----------
        start, end:
            The bounds; ``end`` defaults to ``now``.
        now:
            Reference time for ``now`` and relative offsets.
        allow_future:
            Accept a window that starts in the future (off by default: such a
            window can hold no data and is almost always a typo).
        """
        ref = now if now is not None else now_utc()
        window = cls(parse_time(start, now=ref, name="start"), parse_time(end, now=ref, name="end"))
        if not allow_future and window.start > ref + _FUTURE_SLACK:
            raise BadWindowError(
                f"start {window.start.isoformat()} is in the future (now is {ref.isoformat()}); "
                "check the date, or use a relative time like -2h"
            )
        return window

    @property
    def duration(self) -> pd.Timedelta:
        """``end - start``."""
        return self.end - self.start

    def baseline(self, kind: Literal["previous", "week", "day"] = "previous") -> "Window":
        """A comparison window of the same length.

        ``previous``: the window just before this one; ``day``/``week``: the same
        clock time one day / one week earlier (removes daily/weekly seasonality).
        """
        if kind == "previous":
            shift = self.duration
        elif kind == "week":
            shift = pd.Timedelta(days=7)
        elif kind == "day":
            shift = pd.Timedelta(days=1)
        else:
            raise BadWindowError(f"baseline kind {kind!r} is unknown; use 'previous', 'day' or 'week'")
        return Window(self.start - shift, self.end - shift)

    def contains(self, ts: TimeLike) -> bool:
        """Whether ``ts`` falls in ``[start, end)``."""
        t = parse_time(ts)
        return bool(self.start <= t < self.end)

    def split(self, parts: int) -> list["Window"]:
        """Split into ``parts`` contiguous windows of (nearly) equal length, on whole milliseconds."""
        if parts < 1:
            raise ValueError("parts must be >= 1")
        start_ms, end_ms = self.start_ms, self.end_ms
        edges = [start_ms + (end_ms - start_ms) * i // parts for i in range(parts + 1)]
        out = []
        for a, b in zip(edges, edges[1:]):
            if b > a:
                out.append(Window(pd.Timestamp(a, unit="ms", tz="UTC"), pd.Timestamp(b, unit="ms", tz="UTC")))
        return out

    @property
    def start_ms(self) -> int:
        """Start as epoch milliseconds (what CloudWatch Logs takes)."""
        return int(self.start.value // 1_000_000)

    @property
    def end_ms(self) -> int:
        """End as epoch milliseconds."""
        return int(self.end.value // 1_000_000)

    def to_dict(self) -> dict[str, str]:
        """``{"start": iso, "end": iso}`` with ``Z`` suffixes (the findings.json form)."""
        return {"start": _iso(self.start), "end": _iso(self.end)}

    @classmethod
    def from_dict(cls, data: dict[str, str]) -> "Window":
        """Inverse of :meth:`to_dict`."""
        return cls(parse_time(data["start"], name="start"), parse_time(data["end"], name="end"))

    def __str__(self) -> str:
        minutes = self.duration.total_seconds() / 60
        length = f"{minutes:g} min" if minutes < 120 else f"{minutes / 60:g} h"
        return f"{_iso(self.start)} → {_iso(self.end)} ({length})"



def as_window(window: Any, *, name: str = "window") -> Window:
    """A :class:`Window` from a Window, a ``(start, end)`` pair or a ``{"start", "end"}`` mapping.

    The one coercion every function that takes a ``window`` argument uses, so each accepts
    the same forms and fails the same way.

    Raises
    ------
    BadWindowError
        When ``window`` is none of those forms, or its times cannot be understood.

    Example
    -------
    >>> as_window(("2026-03-01T03:00:00Z", "2026-03-01T04:00:00Z")).to_dict()
    {'start': '2026-03-01T03:00:00Z', 'end': '2026-03-01T04:00:00Z'}
    >>> as_window({"start": 1772334000, "end": "2026-03-01T04:00:00Z"}).duration
    Timedelta('0 days 01:00:00')
    """
    if isinstance(window, Window):
        return window
    if isinstance(window, Mapping) and "start" in window and "end" in window:
        return Window.parse(window["start"], window["end"])
    if isinstance(window, (tuple, list)) and len(window) == 2:
        return Window.parse(window[0], window[1])
    raise BadWindowError(
        f"{name} {window!r} is not a Window, a (start, end) pair or a {{'start', 'end'}} dict; "
        "build one with incidentkit.Window.parse('-2h', 'now')"
    )
