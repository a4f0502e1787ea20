"""Onset detection (robust z run-length rule) and the changes that precede an onset."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from incidentkit.analyses import onset as on
from incidentkit.window import Window

T0 = pd.Timestamp("2026-03-01T02:00:00Z")


def noisy(seed, n, level=100.0, sd=5.0, start=T0, freq="1min", name="value"):
    rng = np.random.default_rng(seed)
    return pd.Series(rng.normal(level, sd, n), index=pd.date_range(start, periods=n, freq=freq), name=name)


def metric_frame(series_by_key):
    rows = []
    for (ns, name, stat, dims), s in series_by_key.items():
        rows.append(pd.DataFrame({"timestamp": s.index, "query_id": "q", "label": name, "namespace": ns,
                                  "metric_name": name, "dimensions": json.dumps(dims, sort_keys=True),
                                  "stat": stat, "period": 60, "value": s.to_numpy()}))
    return pd.concat(rows, ignore_index=True)


def test_step_up_onset_level_and_magnitude():
    s = noisy(1, 120)
    s.iloc[70:95] += 60
    out = on.onset(s, baseline=s.index[60])
    row = out.iloc[0]
    assert row["onset"] == s.index[70]
    assert row["end"] == s.index[94]
    assert row["direction"] == "up"
    assert row["baseline_level"] == pytest.approx(np.median(s.iloc[:60]))
    assert row["incident_level"] == pytest.approx(np.median(s.iloc[70:95]))
    mad = np.median(np.abs(s.iloc[:60] - np.median(s.iloc[:60]))) * 1.4826
    assert row["baseline_scale"] == pytest.approx(mad)
    assert row["magnitude"] == pytest.approx((row["incident_level"] - row["baseline_level"]) / mad)
    assert row["points"] == 25 and row["n_baseline"] == 60 and row["n_tested"] == 60


def test_step_down_and_direction_filter():
    s = noisy(2, 90)
    s.iloc[50:] -= 50
    assert on.onset(s, baseline=s.index[40]).iloc[0]["direction"] == "down"
    assert pd.isna(on.onset(s, baseline=s.index[40], direction="up").iloc[0]["onset"])
    with pytest.raises(ValueError):
        on.onset(s, direction="sideways")


def test_isolated_spikes_are_not_an_onset_and_outliers_do_not_move_the_baseline():
    s = noisy(3, 100)
    s.iloc[20] = 10_000  # an outlier in the baseline
    s.iloc[70] = 10_000  # a single spike later
    s.iloc[85] = 10_000
    out = on.onset(s, baseline=s.index[50]).iloc[0]
    assert pd.isna(out["onset"]) and "no run of 3" in out["note"]
    assert out["baseline_level"] == pytest.approx(100, abs=3)
    assert on.onset(s, baseline=s.index[50], min_run=1).iloc[0]["onset"] == s.index[70]


def test_flat_zero_baseline_uses_a_scale_floor():
    s = pd.Series([0.0] * 30 + [0, 4, 5, 6, 5, 0, 0], index=pd.date_range(T0, periods=37, freq="1min"), name="5xx")
    row = on.onset(s, baseline=s.index[30]).iloc[0]
    assert row["onset"] == s.index[31]
    assert row["baseline_level"] == 0 and row["baseline_scale"] == pytest.approx(0.05 * 6)
    assert row["end"] == s.index[34]
    constant = pd.Series([0.0] * 20, index=pd.date_range(T0, periods=20, freq="1min"))
    assert pd.isna(on.onset(constant + 3.0).iloc[0]["onset"])
    assert on.onset(constant).iloc[0]["note"] == "constant series"


def test_min_scale_suppresses_small_departures():
    s = pd.Series([0.001, 0.0012, 0.0011, 0.001, 0.0009, 0.001] * 5 + [0.004] * 6,
                  index=pd.date_range(T0, periods=36, freq="1min"), name="error_rate")
    assert pd.notna(on.onset(s, baseline=s.index[30]).iloc[0]["onset"])
    assert pd.isna(on.onset(s, baseline=s.index[30], min_scale=0.005).iloc[0]["onset"])


def test_default_baseline_is_the_first_third_or_before_the_window():
    s = noisy(4, 90)
    s.iloc[60:] += 40
    assert on.onset(s).iloc[0]["onset"] == s.index[60]
    assert on.onset(s).iloc[0]["n_baseline"] == 30
    w = Window(s.index[45], s.index[89])
    row = on.onset(s, window=w).iloc[0]
    assert row["n_baseline"] == 45 and row["onset"] == s.index[60]
    late = Window(s.index[70], s.index[89])
    assert on.onset(s, window=late).iloc[0]["onset"] == s.index[70]


def test_baseline_forms_window_tuple_and_series():
    s = noisy(5, 80)
    s.iloc[50:] += 40
    by_window = on.onset(s, baseline=Window(s.index[0], s.index[30])).iloc[0]
    by_tuple = on.onset(s, baseline=(s.index[0], s.index[30])).iloc[0]
    assert by_window["onset"] == by_tuple["onset"] == s.index[50]
    last_week = noisy(6, 80)
    by_series = on.onset(s, baseline=last_week).iloc[0]
    assert by_series["n_baseline"] == 80 and by_series["onset"] == s.index[50]


def test_metrics_frame_one_row_per_series_and_stat_spellings_merge():
    a = noisy(7, 60, name="a")
    a.iloc[40:] += 50
    b = noisy(8, 60, level=20, sd=1)
    frame = metric_frame({
        ("AWS/ApiGateway", "5XXError", "Sum", "{}"): a,
        ("AWS/Lambda", "Duration", "p99", "{}"): b.iloc[:30],
    })
    extra = metric_frame({("AWS/Lambda", "Duration", "p99.0", "{}"): b.iloc[30:]})
    out = on.onset(pd.concat([frame, extra]), baseline=a.index[30])
    assert len(out) == 2, "p99 and p99.0 are the same series"
    first = out.iloc[0]
    assert "5XXError" in first["series"] and first["onset"] == a.index[40]
    assert pd.isna(out.iloc[1]["onset"]) and "Duration" in out.iloc[1]["series"]


def test_long_frame_with_series_columns_and_wide_frame():
    s1, s2 = noisy(9, 60), noisy(10, 60)
    s2.iloc[45:] += 30
    long = pd.concat([pd.DataFrame({"timestamp": s.index, "value": s.values, "az": az})
                      for s, az in ((s1, "az1"), (s2, "az2"))])
    out = on.onset(long, series="az", baseline=s1.index[30])
    assert out.iloc[0]["series"] == "az2" and out.iloc[0]["onset"] == s2.index[45]
    wide = pd.DataFrame({"az1": s1.values, "az2": s2.values}, index=s1.index)
    assert on.onset(wide, baseline=s1.index[30]).iloc[0]["series"] == "az2"
    with pytest.raises(TypeError):
        on.onset([1, 2, 3])
    with pytest.raises(ValueError):
        on.onset(pd.DataFrame({"x": [1]}))


def test_too_short_baseline_and_empty_input():
    s = noisy(11, 20)
    row = on.onset(s, baseline=s.index[3]).iloc[0]
    assert pd.isna(row["onset"]) and "baseline has 3 points" in row["note"]
    empty = on.onset(pd.DataFrame(columns=["timestamp", "value"]))
    assert empty.empty and list(empty.columns)[:3] == ["series", "onset", "end"]


def test_robust_scale():
    assert on.robust_scale([1, 1, 1, 1]) == 0.0
    assert on.robust_scale([1, 1, 1, 5]) == pytest.approx(1.2533)
    assert on.robust_scale([1, 1, 1, 1], fallback=0.5) == 0.5


# --------------------------------------------------------------------------- preceding_changes


def changes():
    return pd.DataFrame(
        {
            "timestamp": pd.to_datetime(["2026-03-01T02:58:40Z", "2026-03-01T02:58:10Z", "2026-03-01T02:10:00Z",
                                         "2026-03-01T03:00:30Z", "2026-03-01T00:30:00Z"]),
            "source": ["cloudtrail"] * 5,
            "event_name": ["PutParameter", "AuthorizeSecurityGroupIngress", "CreateDeployment", "UpdateService",
                           "CreateDeployment"],
            "class": ["CONFIG_CHANGE", "SECURITY_CHANGE", "DEPLOYMENT", "DEPLOYMENT", "DEPLOYMENT"],
            "actor": ["a", "b", "c", "d", "e"],
            "resource": ["p", "sg-1", "api", "svc", "api"],
            "error_code": [None] * 5,
            "detail": [None] * 5,
        }
    )


def test_preceding_changes_ranked_by_proximity_then_class():
    out = on.preceding_changes("2026-03-01T03:00:00Z", changes(), within="2h")
    assert out["event_name"].tolist() == ["AuthorizeSecurityGroupIngress", "PutParameter", "CreateDeployment"]
    assert out["rank"].tolist() == [1, 2, 3]
    assert out["lead_s"].tolist() == [110.0, 80.0, 3000.0]


def test_preceding_changes_slack_within_and_classes():
    ch = changes()
    out = on.preceding_changes(pd.Timestamp("2026-03-01T03:00:00Z"), ch, within="30min", slack="1min")
    assert out["event_name"].tolist()[0] == "UpdateService" and out["lead_s"].iloc[0] == -30.0
    assert "CreateDeployment" not in set(out["event_name"])
    only = on.preceding_changes("2026-03-01T03:00:00Z", ch, within="3h", classes=["DEPLOYMENT", "CONFIG"])
    assert set(only["class"]) == {"DEPLOYMENT", "CONFIG_CHANGE"}
    assert len(only) == 3


def test_preceding_changes_empty_and_missing_columns():
    assert on.preceding_changes("2026-03-01T03:00:00Z", None).empty
    assert on.preceding_changes(None, changes()).empty
    assert on.preceding_changes(pd.NaT, changes()).empty
    bare = pd.DataFrame({"timestamp": pd.to_datetime(["2026-03-01T02:59:00Z"]), "event_name": ["X"]})
    out = on.preceding_changes("2026-03-01T03:00:00Z", bare)
    assert out.iloc[0]["event_name"] == "X" and "lead_s" in out.columns


@pytest.mark.parametrize("module", ["incidentkit.analyses.onset"])
def test_docstring_examples(module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
