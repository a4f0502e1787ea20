"""Times of day: when an EventBridge ``cron(...)`` rule fires, and how far apart two times of day are.

A scheduled job (a nightly report that scans a table) shows as a burst at the same time of
day; the rule that starts it is a ``cron(minutes hours day-of-month month day-of-week year)``
expression, evaluated in UTC. These helpers read the minutes of the day such a rule fires at
and compare times of day across midnight.

Example
-------
>>> sorted(cron_minutes("cron(0/30 6 * * ? *)")), time_of_day_distance(1430, 10)
([360, 390], 20)
"""

from __future__ import annotations

import re

import pandas as pd

__all__ = ["MAX_FIRINGS_A_DAY", "cron_minutes", "schedule_before", "minute_of_day", "time_of_day_distance"]

#: A rule that fires more often than this a day (every 5 minutes) would "match" any burst: it is not read as a schedule.
MAX_FIRINGS_A_DAY = 288


def cron_field(text: str, low: int, high: int) -> set[int] | None:
    """Values of one cron field (``*``, ``5``, ``1,2``, ``0-10``, ``*/15``, ``10-50/10``); None when unreadable."""
    out: set[int] = set()
    for part in text.split(","):
        part = part.strip()
        step = 1
        if "/" in part:
            part, _, st = part.partition("/")
            if not st.isdigit() or int(st) == 0:
                return None
            step = int(st)
        if part in ("*", "?", ""):
            lo, hi = low, high
        elif "-" in part:
            a, _, b = part.partition("-")
            if not (a.isdigit() and b.isdigit()):
                return None
            lo, hi = int(a), int(b)
        elif part.isdigit():
            lo = hi = int(part)
            if step != 1:
                hi = high
        else:
            return None
        out.update(range(lo, hi + 1, step))
    return {v for v in out if low <= v <= high}




def cron_minutes(expr: str) -> set[int] | None:
    """The minutes of the day (UTC) a ``cron(...)`` expression fires at; ``None`` for ``rate(...)``, an unreadable
    expression, or one that fires more than :data:`MAX_FIRINGS_A_DAY` times a day."""
    m = re.match(r"^\s*cron\((.*)\)\s*$", str(expr))
    if not m:
        return None
    fields = m.group(1).split()
    if len(fields) < 2:
        return None
    minutes = cron_field(fields[0], 0, 59)
    hours = cron_field(fields[1], 0, 23)
    if not minutes or not hours or len(minutes) * len(hours) > MAX_FIRINGS_A_DAY:
        return None
    return {h * 60 + mi for h in hours for mi in minutes}


def schedule_before(schedules: list[tuple[str, str, set[int]]], start: pd.Timestamp, *,
                     lead_min: int = 5, lag_min: int = 15) -> str | None:
    """The first schedule firing between ``lead_min`` after and ``lag_min`` before ``start``'s time of day."""
    mod = minute_of_day(start)
    for rid, expr, fires in schedules:
        if any(-lead_min <= ((mod - f) % 1440 if (mod - f) % 1440 <= 720 else (mod - f) % 1440 - 1440) <= lag_min for f in fires):
            name = rid.rsplit("/", 1)[-1] if rid else "rule"
            return f"{name} {expr}"
    return None




def minute_of_day(ts: pd.Timestamp) -> int:
    return ts.hour * 60 + ts.minute


def time_of_day_distance(a: int, b: int) -> int:
    d = abs(a - b) % 1440
    return min(d, 1440 - d)

