"""incidentkit.window: every accepted time form, and clear errors for the rest."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from incidentkit.errors import BadWindowError, IncidentKitError
from incidentkit.window import Window, as_window, parse_time

REF = pd.Timestamp("2026-03-01T03:00:00Z")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2026-03-01T03:00:00Z", "2026-03-01T03:00:00+00:00"),
        ("2026-03-01T05:00:00+02:00", "2026-03-01T03:00:00+00:00"),
        ("2026-03-01T03:00:00", "2026-03-01T03:00:00+00:00"),  # naive means UTC
        ("2026-03-01 03:00", "2026-03-01T03:00:00+00:00"),
        ("1772334000", "2026-03-01T03:00:00+00:00"),  # epoch seconds
        ("1772334000000", "2026-03-01T03:00:00+00:00"),  # epoch milliseconds
        ("now", "2026-03-01T03:00:00+00:00"),
        ("-2h", "2026-03-01T01:00:00+00:00"),
        ("-30m", "2026-03-01T02:30:00+00:00"),
        ("-7d", "2026-02-22T03:00:00+00:00"),
        ("now-90s", "2026-03-01T02:58:30+00:00"),
        ("-1w", "2026-02-22T03:00:00+00:00"),
    ],
)
def test_parse_time_forms(text: str, expected: str) -> None:
    ts = parse_time(text, now=REF)
    assert ts.tzinfo is not None and str(ts.tz) == "UTC"
    assert ts.isoformat() == expected


def test_parse_time_numbers_and_datetimes() -> None:
    assert parse_time(1772334000).isoformat() == "2026-03-01T03:00:00+00:00"
    naive = dt.datetime(2026, 3, 1, 3, 0)
    assert parse_time(naive).isoformat() == "2026-03-01T03:00:00+00:00"
    aware = dt.datetime(2026, 3, 1, 4, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert parse_time(aware).isoformat() == "2026-03-01T03:00:00+00:00"


@pytest.mark.parametrize("bad", ["yesterday-ish", "", "  ", "2026-13-45T99:00Z", "-2x", True, None, [1]])
def test_parse_time_rejects_with_one_line_naming_value(bad) -> None:
    with pytest.raises(BadWindowError) as info:
        parse_time(bad, name="start")
    msg = str(info.value)
    assert "\n" not in msg
    assert "start" in msg and "ISO-8601" in msg
    assert isinstance(info.value, ValueError) and isinstance(info.value, IncidentKitError)


def test_window_rejects_end_before_start_and_future() -> None:
    with pytest.raises(BadWindowError, match="not after start"):
        Window.parse("2026-03-01T04:00Z", "2026-03-01T03:00Z", now=REF)
    with pytest.raises(BadWindowError, match="not after start"):
        Window.parse("2026-03-01T03:00Z", "2026-03-01T03:00Z", now=REF)
    with pytest.raises(BadWindowError, match="future"):
        Window.parse("2026-03-02T03:00Z", "2026-03-02T04:00Z", now=REF)
    assert Window.parse("2026-03-02T03:00Z", "2026-03-02T04:00Z", now=REF, allow_future=True)


def test_window_baselines_and_split() -> None:
    w = Window.parse("2026-03-01T03:00Z", "2026-03-01T04:00Z", now=REF + pd.Timedelta(days=1))
    prev = w.baseline("previous")
    assert (prev.start, prev.end) == (w.start - pd.Timedelta(hours=1), w.start)
    week = w.baseline("week")
    assert week.start == w.start - pd.Timedelta(days=7) and week.duration == w.duration
    assert w.baseline("day").end == w.end - pd.Timedelta(days=1)
    with pytest.raises(BadWindowError):
        w.baseline("month")  # type: ignore[arg-type]
    parts = w.split(3)
    assert parts[0].start == w.start and parts[-1].end == w.end
    assert all(a.end == b.start for a, b in zip(parts, parts[1:]))
    assert w.start_ms == 1772334000000 and w.end_ms - w.start_ms == 3_600_000
    assert Window.from_dict(w.to_dict()) == w
    assert w.to_dict()["start"].endswith("Z")
    assert w.contains("2026-03-01T03:30Z") and not w.contains("2026-03-01T04:00Z")


def test_as_window_takes_the_same_forms_everywhere_and_fails_one_way() -> None:
    """One coercion for every ``window`` argument (fetch.metrics, fetch.changes, fetch.insights, logs)."""
    from incidentkit.fetch import changes, metrics
    from incidentkit.fetch.insights import layers
    from incidentkit.fetch.logs import pages

    want = Window.parse("2026-03-01T03:00:00Z", "2026-03-01T04:00:00Z")
    for given in (want, ("2026-03-01T03:00:00Z", "2026-03-01T04:00:00Z"), ["2026-03-01T03:00Z", 1772337600],
                  {"start": "2026-03-01T03:00:00Z", "end": "2026-03-01T04:00:00Z"}):
        assert as_window(given) == want
    for bad in ("-2h", {"start": "2026-03-01T03:00:00Z"}, ("a", "b", "c"), None):
        with pytest.raises(BadWindowError) as err:
            as_window(bad)
        assert "\n" not in str(err.value)
    assert metrics._as_window is changes._as_window is layers._as_window is pages._as_window is as_window
