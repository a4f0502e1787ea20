"""analyses/schedules.py: the minutes of the day a cron rule fires at, and times of day across midnight."""

from __future__ import annotations

import doctest

import pandas as pd

from incidentkit.analyses import schedules as sc


def test_docstring_examples_run() -> None:
    assert doctest.testmod(sc).failed == 0


def test_cron_minutes_reads_lists_ranges_and_steps() -> None:
    assert sc.cron_minutes("cron(15 2,14 * * ? *)") == {2 * 60 + 15, 14 * 60 + 15}
    assert sc.cron_minutes("cron(10-50/20 0 * * ? *)") == {10, 30, 50}
    assert sc.cron_minutes("cron(*/30 23 ? * MON-FRI *)") == {23 * 60, 23 * 60 + 30}


def test_cron_minutes_skips_what_has_no_time_of_day() -> None:
    assert sc.cron_minutes("rate(5 minutes)") is None
    assert sc.cron_minutes("cron(x 2 * * ? *)") is None
    assert sc.cron_minutes("cron(5)") is None
    # every 5 minutes, all day: 288 firings still read; every minute of every hour does not
    assert len(sc.cron_minutes("cron(0/5 * * * ? *)")) == sc.MAX_FIRINGS_A_DAY
    assert sc.cron_minutes("cron(* * * * ? *)") is None


def test_schedule_before_looks_from_lead_after_to_lag_before() -> None:
    rules = [("arn:aws:events:eu-west-1:1:rule/nightly-report", "cron(0 2 * * ? *)", {120})]
    at = pd.Timestamp("2026-03-01T02:10Z")
    assert sc.schedule_before(rules, at) == "nightly-report cron(0 2 * * ? *)"
    assert sc.schedule_before(rules, pd.Timestamp("2026-03-01T01:56Z")) is not None  # fires 4 min after: within lead
    assert sc.schedule_before(rules, pd.Timestamp("2026-03-01T02:30Z")) is None
    assert sc.schedule_before(rules, pd.Timestamp("2026-03-01T01:50Z")) is None


def test_time_of_day_distance_wraps_at_midnight() -> None:
    assert sc.time_of_day_distance(sc.minute_of_day(pd.Timestamp("2026-03-01T23:55Z")), 5) == 10
    assert sc.time_of_day_distance(0, 720) == 720
