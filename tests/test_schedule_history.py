"""A daily job behind a read burst is judged from a week of history, fetched, recorded and replayed.

The incident's own metrics (two hours at 1 minute) cannot show that 06:00 is special; a week
of 5-minute reads can. The burst here throttles reads for four minutes, the job logs nothing
the kit reads, and no schedule rule is in the settings: only the history explains it.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from incidentkit import Investigation, schema
from incidentkit.fetch import changes, health, metrics
from incidentkit.analyses import throttling as th
from incidentkit.findings import Inputs
from incidentkit.fetch.metric_presets import history_queries

DAY = pd.Timestamp.now(tz="UTC").floor("D") - pd.Timedelta(days=1)
WINDOW = (DAY + pd.Timedelta("5h30min"), DAY + pd.Timedelta("6h30min"))
DIMS = json.dumps({"TableName": "orders"}, separators=(",", ":"))


def frame(name, times, values, period):
    return pd.DataFrame({"timestamp": times, "query_id": name.lower(), "label": name, "namespace": "AWS/DynamoDB",
                         "metric_name": name, "dimensions": DIMS, "stat": "Sum", "period": period,
                         "value": np.asarray(values, dtype=float)})


def incident_metrics(start, end):
    t = pd.date_range(start, end, freq="1min", inclusive="left")
    reads = np.full(len(t), 6000.0)
    burst = (t >= DAY + pd.Timedelta("6h1min")) & (t < DAY + pd.Timedelta("6h5min"))
    reads[burst] = 24000.0
    throttles = t[burst]
    return pd.concat([frame("ConsumedReadCapacityUnits", t, reads, 60),
                      frame("ProvisionedReadCapacityUnits", t, np.full(len(t), 100.0), 60).assign(stat="Average"),
                      frame("ReadThrottleEvents", throttles, np.full(len(throttles), 300.0), 60)], ignore_index=True)


def week_history(start, end, *, daily=True, seed=0):
    rng = np.random.default_rng(seed)
    t = pd.date_range(start, end, freq="5min", inclusive="left")
    reads = rng.normal(30000, 1500, len(t))
    if daily:  # the report's Scan at 06:00 every day
        reads[(t.hour == 6) & (t.minute < 5)] = 110000.0
    return frame("ConsumedReadCapacityUnits", t, reads, 300)


@pytest.fixture
def fake_get(monkeypatch):
    calls = []

    def get(queries, window, *, period=None, **kwargs):
        calls.append((window, period, [q.metric_name for q in queries]))
        df = week_history(window.start, window.end) if period == 300 else incident_metrics(window.start, window.end)
        df.attrs = schema.provenance("metrics.get", window=window, api_calls=1)
        return df

    def no_changes(window, **kwargs):
        df = schema.empty_frame("changes")
        df.attrs = schema.provenance("changes.timeline", window=window, api_calls=1)
        return df

    def no_health(resources, **kwargs):  # findings() reads the whole evidence: never a live describe call here
        return SimpleNamespace(settings=None, frames={}, summary=None)

    monkeypatch.setattr(metrics, "get", get)
    monkeypatch.setattr(changes, "timeline", no_changes)
    monkeypatch.setattr(health, "snapshot", no_health)
    return calls


def test_history_window_fits_cloudwatch_retention():
    win, period = metrics.history_window(WINDOW, now=DAY + pd.Timedelta(days=1))
    assert win.end == WINDOW[0] and win.duration == pd.Timedelta(days=7) and period == 300
    _, old = metrics.history_window(WINDOW, now=DAY + pd.Timedelta(days=100))
    assert old == 3600, "5-minute data is gone after 63 days"
    assert [q.metric_name for q in history_queries({"table_name": "orders,events"})] == [
        "ConsumedReadCapacityUnits", "ReadThrottleEvents"] * 2
    assert history_queries({"function_name": "api"}) == []


def test_a_four_minute_burst_is_a_daily_job_only_with_the_history(fake_get, tmp_path: Path):
    inv = Investigation(*WINDOW, baseline="previous", evidence=tmp_path / "ev", resources={"table_name": "orders"})
    inv.collect(logs=False, health=False)
    periods = sorted(p for _, p, _ in fake_get if p)
    assert periods == [300], "one history fetch, at 5 minutes"
    f = inv.findings().top
    assert f is not None and f.id == "scan-read-burst"
    assert f.severity == "medium" and f.evidence["history_days"] == 7 and f.evidence["days_with_burst_at_this_time"] == 8
    assert f.evidence["schedule_p_value"] < 1e-6
    assert "on 7 of the 7 days before" in f.summary
    # recorded in the evidence bundle, and replayed offline to the same finding
    hist = [n for n in inv.bundle.find("metrics") if (inv.bundle.entry(n).get("attrs") or {}).get("window", {}).get("start")
            == inv.metric_history().attrs["window"]["start"]]
    assert len(hist) == 1
    off = Investigation.open(tmp_path / "ev")
    g = off.collect(logs=False, health=False).findings().top
    assert (g.id, g.severity, g.evidence["history_days"]) == (f.id, f.severity, 7)
    # without the history the same burst is unexplained
    bare = th.detect_scan_read_burst(Inputs(window=inv.window, metrics=inv.metrics()))
    assert bare.severity == "low" and bare.title.startswith("Concentrated read-throttle burst")


def test_reads_that_peak_at_random_times_are_not_a_schedule():
    rng = np.random.default_rng(4)
    start = DAY - pd.Timedelta(days=7)
    t = pd.date_range(start, DAY, freq="5min", inclusive="left")
    reads = rng.normal(30000, 1500, len(t))
    for d in range(7):  # one peak a day, at a different hour each day
        at = start + pd.Timedelta(days=d, hours=int(rng.integers(0, 24)), minutes=30)
        reads[t == at] = 110000.0
    r = th.schedule_recurrence(frame("ConsumedReadCapacityUnits", t, reads, 300), "orders", DAY + pd.Timedelta("6h1min"))
    assert r["history_days"] == 7 and r["days_at_this_time"] <= 1 and r["p_value"] > 0.05
    assert th.schedule_recurrence(None, "orders", DAY)["history_days"] == 0
