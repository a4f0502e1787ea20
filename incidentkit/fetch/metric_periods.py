"""CloudWatch periods: which one a window can be read at, given its length and its age.

CloudWatch keeps sub-minute data 3 hours, 1-minute data 15 days, 5-minute data 63 days and
hourly data 455 days (:data:`RETENTION`): :func:`choose_period` picks the finest period a window
can still be read at within a number of points, :func:`validate_period` checks a given one, and
:func:`history_window` places a coarse week of history before an incident's window. Everything
here is re-exported by :mod:`incidentkit.fetch.metrics`.

Example
-------
>>> w = Window.parse("2026-03-01T03:00Z", "2026-03-01T04:00Z")
>>> choose_period(w, now=pd.Timestamp("2026-03-01T05:00Z"))
60
"""

from __future__ import annotations

import math

import pandas as pd

from ..errors import BadWindowError, ParameterError
from ..window import TimeLike, Window, now_utc
from ..window import as_window as _as_window
from .metric_presets import HISTORY_SPAN_DAYS
from .metric_query import check_period_shape

#: CloudWatch retention: data at ``resolution`` seconds (or finer, for 1) is kept ``kept``.
#: A window whose start is older than a tier's ``kept`` can only be read with a period
#: that is a multiple of the next tier's resolution.
RETENTION: tuple[tuple[int, pd.Timedelta], ...] = (
    (1, pd.Timedelta(hours=3)),  # sub-minute (high-resolution) periods
    (60, pd.Timedelta(days=15)),
    (300, pd.Timedelta(days=63)),
    (3600, pd.Timedelta(days=455)),
)
# AWS evaluates the age when the request arrives; keep a margin at tier boundaries.
_AGE_SLACK = pd.Timedelta(minutes=10)
_NICE_PERIODS = (60, 120, 180, 300, 600, 900, 1200, 1800, 3600, 7200, 10800, 21600, 43200, 86400)
_DEFAULT_MAX_POINTS = 1440


def _tier_needed(age_start: pd.Timestamp, now: pd.Timestamp) -> int | None:
    # Start older than 3 h -> multiple of 60; older than 15 d -> 300; older than 63 d -> 3600.
    age = now - age_start + _AGE_SLACK
    if age <= RETENTION[0][1]:
        return 1
    if age <= RETENTION[1][1]:
        return 60
    if age <= RETENTION[2][1]:
        return 300
    if age <= RETENTION[3][1]:
        return 3600
    return None


def _expired(window: Window, now: pd.Timestamp) -> BadWindowError:
    oldest = now - RETENTION[-1][1] + _AGE_SLACK
    days = (now - window.start) / pd.Timedelta(days=1)
    return BadWindowError(
        f"the window starts {days:.0f} days ago; CloudWatch keeps metrics for 455 days, "
        f"so start after {oldest.floor('h').isoformat()}",
        window=str(window),
    )


def _floor(ts: pd.Timestamp, seconds: int) -> pd.Timestamp:
    ns = seconds * 1_000_000_000
    return pd.Timestamp((ts.value // ns) * ns, unit="ns", tz="UTC")


def _ceil(ts: pd.Timestamp, seconds: int) -> pd.Timestamp:
    ns = seconds * 1_000_000_000
    return pd.Timestamp(-((-ts.value) // ns) * ns, unit="ns", tz="UTC")


def _aligned(window: Window, period: int) -> tuple[pd.Timestamp, pd.Timestamp]:
    # Align on whole periods (and at least whole seconds) so time slices never cut a bucket.
    unit = period if period >= 60 else max(period, 1)
    return _floor(window.start, unit), _ceil(window.end, unit)


def choose_period(
    window: Window | tuple[TimeLike, TimeLike],
    *,
    now: pd.Timestamp | None = None,
    max_points: int = _DEFAULT_MAX_POINTS,
) -> int:
    """The period :func:`get` uses when none is given.

    The smallest "round" period (60 s, 2, 3, 5, 10, 15, 20, 30 min, 1, 2, 3, 6, 12 h, 1 d,
    whole days) that (a) CloudWatch still holds for the age of the window's start
    (multiple of 60 s up to 15 days, of 5 min up to 63 days, of 1 h up to 455 days) and
    (b) gives at most ``max_points`` points per series (1,440 by default: one day at
    one-minute resolution).

    Raises
    ------
    BadWindowError
        When the window starts more than 455 days ago (CloudWatch has nothing).

    Example
    -------
    >>> ref = pd.Timestamp("2026-03-02T00:00:00Z")
    >>> w = Window.parse("2026-03-01T03:00Z", "2026-03-01T04:00Z")
    >>> choose_period(w, now=ref)
    60
    >>> choose_period(Window.parse("2026-02-22T00:00Z", "2026-03-01T00:00Z"), now=ref)
    600
    >>> choose_period(Window.parse("2026-01-10T00:00Z", "2026-01-10T06:00Z"), now=ref)
    300
    """
    win = _as_window(window)
    ref = now if now is not None else now_utc()
    if max_points < 1:
        raise ParameterError(f"max_points={max_points} must be at least 1")
    seconds = win.duration.total_seconds()
    candidates = list(_NICE_PERIODS)
    top = _NICE_PERIODS[-1]
    while top * max_points < seconds:
        top += 86400
        candidates.append(top)
    for period in candidates:
        start, end = _aligned(win, period)
        need = _tier_needed(start, ref)
        if need is None:
            raise _expired(win, ref)
        if period % need:
            continue
        if math.ceil((end - start).total_seconds() / period) <= max_points:
            return period
    return candidates[-1]  # pragma: no cover - the loop above always finds one


#: How far back a schedule history reaches: a week shows daily and weekday jobs.
HISTORY_SPAN = pd.Timedelta(days=HISTORY_SPAN_DAYS)
#: Points a history series holds at most: a week at 5 minutes.
HISTORY_MAX_POINTS = 2016


def history_window(
    window: Window | tuple[TimeLike, TimeLike],
    *,
    span: pd.Timedelta = HISTORY_SPAN,
    now: pd.Timestamp | None = None,
) -> tuple[Window, int]:
    """The window and period of a coarse history before ``window``, for questions only days of data answer.

    A burst at 06:00 is a daily job only if 06:00 stands out on the days before; the incident's
    own metrics (a few hours, at 1 minute) cannot show that. The history covers ``span`` before
    the window's start at the finest period CloudWatch still keeps for that age (multiples of
    60 s up to 15 days old, 300 s up to 63 days, 3600 s up to 455 days) with at most
    :data:`HISTORY_MAX_POINTS` points a series (a week at 5 minutes: short enough to see a
    four-minute burst).

    Example
    -------
    >>> w = Window.parse("2026-03-08T06:00Z", "2026-03-08T07:00Z")
    >>> hist, period = history_window(w, now=pd.Timestamp("2026-03-08T08:00Z"))
    >>> str(hist), period
    ('2026-03-01T06:00:00Z → 2026-03-08T06:00:00Z (168 h)', 300)
    >>> history_window(w, now=pd.Timestamp("2026-05-01T00:00Z"))[1]      # older than 15 days: 5-minute data at best
    300
    """
    win = _as_window(window)
    hist = Window(win.start - span, win.start)
    return hist, choose_period(hist, now=now, max_points=HISTORY_MAX_POINTS)


def validate_period(
    period: int,
    window: Window | tuple[TimeLike, TimeLike],
    *,
    now: pd.Timestamp | None = None,
    query_id: str | None = None,
) -> int:
    """Check that CloudWatch can answer ``period`` for ``window``; return it as ``int``.

    AWS rules (MetricStat.Period): 1, 5, 10, 20, 30 (high-resolution metrics) or a
    multiple of 60; and when the start is older than 3 hours a multiple of 60, older than
    15 days a multiple of 300, older than 63 days a multiple of 3600 -- otherwise AWS
    returns *no datapoints*, silently. Nothing is older than 455 days.

    Raises
    ------
    ParameterError
        The period is malformed or too fine for the age of the window (the message
        names the finest period that works).
    BadWindowError
        The window starts more than 455 days ago.

    Example
    -------
    >>> ref = pd.Timestamp("2026-03-21T00:00:00Z")
    >>> validate_period(300, Window.parse("2026-03-01T00:00Z", "2026-03-01T06:00Z"), now=ref)
    300
    >>> validate_period(60, Window.parse("2026-03-01T00:00Z", "2026-03-01T06:00Z"), now=ref)
    Traceback (most recent call last):
    ...
    incidentkit.errors.ParameterError: period 60 s cannot be answered for a window starting 20 days ago: ...
    """
    win = _as_window(window)
    ref = now if now is not None else now_utc()
    p = check_period_shape(period)
    start, _ = _aligned(win, p)
    need = _tier_needed(start, ref)
    if need is None:
        raise _expired(win, ref)
    if p % need:
        age = ref - win.start
        age_text = f"{age / pd.Timedelta(days=1):.0f} days" if age >= pd.Timedelta(days=2) else f"{age / pd.Timedelta(hours=1):.1f} hours"
        tier = {60: "3 hours (sub-minute data)", 300: "15 days (1-minute data)", 3600: "63 days (5-minute data)"}[need]
        raise ParameterError(
            f"period {p} s cannot be answered for a window starting {age_text} ago: CloudWatch keeps only "
            f"{tier}, so use a multiple of {need} s (e.g. {max(need, _round_up(p, need))})",
            query_id=query_id,
            window=str(win),
        )
    return p


def _round_up(value: int, multiple: int) -> int:
    return -(-value // multiple) * multiple
