"""Property tests: any text given as a time either parses to UTC or fails with one clear line."""

from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from incidentkit.errors import BadWindowError
from incidentkit.window import Window, parse_time

REF = pd.Timestamp("2026-03-01T03:00:00Z")


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(max_size=40), st.integers(), st.floats(allow_nan=True, allow_infinity=True)))
def test_parse_time_never_crashes(value) -> None:
    try:
        ts = parse_time(value, now=REF, name="start")
    except BadWindowError as exc:
        text = str(exc)
        assert "\n" not in text and "start" in text
    else:
        assert isinstance(ts, pd.Timestamp) and str(ts.tz) == "UTC"


@settings(max_examples=100, deadline=None)
@given(
    st.datetimes(min_value=pd.Timestamp("2000-01-01").to_pydatetime(), max_value=pd.Timestamp("2026-02-01").to_pydatetime()),
    st.integers(min_value=1, max_value=10 * 86400),
)
def test_iso_roundtrip_and_window_invariants(start, seconds) -> None:
    s = pd.Timestamp(start).tz_localize("UTC")
    e = s + pd.Timedelta(seconds=seconds)
    w = Window.parse(s.isoformat(), e.isoformat(), now=REF)
    assert w.start == s and w.end == e
    b = w.baseline()
    assert b.duration == w.duration and b.end == w.start
    parts = w.split(4)
    assert parts[0].start == w.start.floor("ms") or parts[0].start == w.start
    assert sum((p.duration for p in parts), pd.Timedelta(0)) <= w.duration + pd.Timedelta(milliseconds=1)
