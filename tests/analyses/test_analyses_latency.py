"""Latency analyses and the cold-start detectors, on hand-built request frames."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from incidentkit.analyses import latency
from incidentkit.analyses._common import (
    auto_bin,
    benjamini_hochberg,
    normalize_stat,
    select_metric,
    severity_for_share,
    two_proportion_z,
    wilson_interval,
)
from incidentkit.window import Window
from _helpers.latency_cases import T0, burst_incident, healthy, metric_rows, quiet_hours_incident


# --------------------------------------------------------------------------- builders


# --------------------------------------------------------------------------- shared helpers


def test_auto_bin_gives_60_to_200_bins_for_common_windows():
    for span in ("10min", "1h", "3h", "6h", "24h", "7D"):
        width = auto_bin(T0, T0 + pd.Timedelta(span))
        bins = pd.Timedelta(span) / width
        assert 60 <= bins <= 200, (span, width, bins)


def test_two_proportion_z_matches_hand_computation():
    z, p = two_proportion_z(30, 100, 10, 100)
    # pooled 0.2, se = sqrt(0.2*0.8*(2/100)) = 0.0566, z = 0.2 / 0.0566
    assert z == pytest.approx(0.2 / math.sqrt(0.2 * 0.8 * 0.02))
    assert p == pytest.approx(math.erfc(z / math.sqrt(2)))
    z0, p0 = two_proportion_z(0, 0, 5, 10)
    assert (z0, p0) == (0.0, 1.0)


def test_wilson_interval_contains_rate_and_is_nan_without_trials():
    lo, hi = wilson_interval(np.array([3, 0]), np.array([100, 0]))
    assert lo[0] < 0.03 < hi[0]
    assert math.isnan(lo[1]) and math.isnan(hi[1])


def test_benjamini_hochberg_is_monotone_and_keeps_nan():
    q = benjamini_hochberg([0.001, np.nan, 0.04, 0.03, 0.5])
    assert math.isnan(q[1])
    assert q[0] == pytest.approx(0.004)
    assert q[2] == pytest.approx(0.04 * 4 / 3) and q[3] == pytest.approx(0.04 * 4 / 3)
    assert q[4] == pytest.approx(0.5)


@pytest.mark.parametrize("a,b", [("p99", "p99.0"), ("P99", "p99.00"), ("p99.9", "p99.90"), ("Maximum", "maximum")])
def test_normalize_stat_spellings(a, b):
    assert normalize_stat(a) == normalize_stat(b)


def test_select_metric_by_namespace_name_and_stat_not_query_id():
    times = pd.date_range(T0, periods=3, freq="1min")
    m = pd.concat(
        [
            metric_rows("AWS/Lambda", "Duration", "p99.0", times, [1, 2, 3]),
            metric_rows("AWS/Lambda", "Duration", "Average", times, [9, 9, 9]),
            metric_rows("AWS/ApiGateway", "Duration", "p99", times, [7, 7, 7]),
        ]
    )
    m["query_id"] = "same"
    got = select_metric(m, "aws/lambda", "duration", "P99")
    assert got["value"].tolist() == [1.0, 2.0, 3.0]
    assert select_metric(m, "AWS/Lambda", "Nope", "p99").empty
    assert select_metric(None, "AWS/Lambda", "Duration").empty


def test_severity_for_share_scale_and_short_duration():
    assert severity_for_share(0.30) == "critical"
    assert severity_for_share(0.15) == "high"
    assert severity_for_share(0.02) == "medium"
    assert severity_for_share(0.002) == "low"
    assert severity_for_share(0.0) == "info"
    assert severity_for_share(0.15, duration=pd.Timedelta("3min")) == "medium"


# --------------------------------------------------------------------------- percentiles


def test_percentiles_hand_checked_values_and_empty_bins():
    req = pd.DataFrame(
        {
            "timestamp": pd.to_datetime(["2026-03-01T03:00:01Z", "2026-03-01T03:00:30Z", "2026-03-01T03:00:59Z",
                                         "2026-03-01T03:03:00Z"]),
            "latency_ms": [100.0, 200.0, 1000.0, 50.0],
        }
    )
    out = latency.percentiles(req, by="1min")
    assert list(out.columns) == ["timestamp", "count", "p50", "p90", "p99", "max"]
    assert out["count"].tolist() == [3, 0, 0, 1]
    assert out.loc[0, "p50"] == 200.0
    assert out.loc[0, "p90"] == pytest.approx(np.quantile([100, 200, 1000], 0.9))
    assert out.loc[0, "max"] == 1000.0
    assert math.isnan(out.loc[1, "p99"])
    assert str(out["timestamp"].dtype) == "datetime64[ns, UTC]"
    assert out.attrs["bin"] == "0 days 00:01:00"


def test_percentiles_auto_bin_and_window_alignment():
    rng = np.random.default_rng(0)
    req = healthy(minutes=60)
    w = Window(T0 + pd.Timedelta("10min"), T0 + pd.Timedelta("40min"))
    out = latency.percentiles(req, window=w)
    assert out["timestamp"].iloc[0] == w.start
    assert 60 <= len(out) <= 200
    assert out["count"].sum() == ((req.timestamp >= w.start) & (req.timestamp < w.end)).sum()
    assert rng is not None


def test_percentiles_groupby_custom_quantiles_and_duration_fallback():
    req = pd.DataFrame(
        {
            "timestamp": pd.to_datetime(["2026-03-01T03:00:01Z"] * 4),
            "duration_ms": [100.0, 200.0, 300.0, 400.0],
            "init_duration_ms": [None, None, None, 1000.0],
            "route": ["/a", "/a", "/b", "/b"],
        }
    )
    out = latency.percentiles(req, by="1min", quantiles=(0.5, 0.999), groupby="route")
    assert list(out.columns) == ["timestamp", "route", "count", "p50", "p99.9", "max"]
    b = out.set_index("route").loc["/b"]
    assert b["max"] == 1400.0 and b["p50"] == 850.0


def test_percentiles_empty_and_missing_columns_keep_fixed_columns():
    cols = ["timestamp", "count", "p50", "p90", "p99", "max"]
    assert list(latency.percentiles(None).columns) == cols
    assert list(latency.percentiles(pd.DataFrame({"timestamp": []})).columns) == cols
    assert latency.percentiles(pd.DataFrame({"timestamp": [T0], "other": [1]})).empty
    with pytest.raises(ValueError):
        latency.percentiles(healthy(minutes=5), quantiles=(99,))


# --------------------------------------------------------------------------- tail attribution


def test_tail_attribution_cold_starts_dominate_the_tail():
    req = quiet_hours_incident()
    out = latency.tail_attribution(req, by=["cold_start", "route"])
    cold = out[(out.column == "cold_start") & (out.value == True)].iloc[0]  # noqa: E712
    n = len(req)
    n_tail = out.attrs["n_tail"]
    assert out.attrs["threshold"] == pytest.approx(np.quantile(req.latency_ms, 0.99))
    assert cold["requests"] == req.cold_start.sum()
    assert cold["share"] == pytest.approx(req.cold_start.sum() / n)
    assert cold["tail_share"] == pytest.approx(cold["tail_requests"] / n_tail)
    assert cold["lift"] > 5 and cold["q_value"] < 1e-6
    routes = out[out.column == "route"]
    assert routes["q_value"].min() > 0.01, "routes are drawn independently of latency: no route is significant"


def test_tail_attribution_pools_rare_values_and_marks_missing():
    req = pd.DataFrame({"latency_ms": np.arange(100, dtype=float),
                        "route": [f"/r{i}" for i in range(99)] + [None]})
    out = latency.tail_attribution(req, by="route", max_values=5)
    assert set(out["value"]) <= {"/r0", "/r1", "/r2", "/r3", "(missing)", "(other)"} | {f"/r{i}" for i in range(99)}
    assert len(out) == 5 and "(other)" in set(out["value"])
    assert out["requests"].sum() == 100


def test_tail_attribution_empty_and_unknown_column():
    assert latency.tail_attribution(None).empty
    out = latency.tail_attribution(pd.DataFrame({"latency_ms": [1.0, 2.0]}), by="nope")
    assert out.empty and "lift" in out.columns


def test_percentiles_excluding_cold_starts_overall_and_binned():
    req = quiet_hours_incident()
    out = latency.percentiles_excluding(req).set_index("subset")
    assert out.loc["all", "count"] == len(req)
    assert out.loc["excluding cold_start", "count"] + out.loc["only cold_start", "count"] == len(req)
    assert out.loc["excluding cold_start", "p99"] < 500 < 3000 < out.loc["only cold_start", "p50"]
    binned = latency.percentiles_excluding(req, by="1h")
    assert list(binned.columns[:3]) == ["subset", "timestamp", "count"]
    night = binned[(binned.subset == "all") & (binned.timestamp < T0 + pd.Timedelta("6h"))]
    assert (night["p99"].dropna() > 2000).mean() > 0.8
    share = binned[binned.subset == "only cold_start"]["share"].dropna()
    assert ((share >= 0) & (share <= 1)).all()


def test_percentiles_excluding_other_mask_and_missing_column():
    req = burst_incident()[0]
    out = latency.percentiles_excluding(req, "timed_out").set_index("subset")
    assert out.loc["only timed_out", "p50"] >= 29000
    assert latency.percentiles_excluding(req, "nope").empty


def test_tail_vs_traffic_shows_quiet_hours_signature():
    req = quiet_hours_incident()
    out = latency.tail_vs_traffic(req, buckets=4)
    assert out["bucket"].tolist() == [1, 2, 3, 4]
    assert out["rate_max"].iloc[0] <= out["rate_min"].iloc[-1]
    assert out["cold_start_rate"].iloc[0] > 10 * out["cold_start_rate"].iloc[-1]
    assert out["p99"].iloc[0] > 5 * out["p99"].iloc[-1]
    assert out["requests"].sum() == len(req)


def test_tail_vs_traffic_flat_on_healthy_traffic():
    out = latency.tail_vs_traffic(healthy(), buckets=4)
    assert out["p99"].max() < 3 * out["p99"].min()


def test_heatmap_counts_every_request_once_and_is_complete():
    req = healthy(minutes=30)
    hm = latency.heatmap(req, by="1min")
    assert list(hm.columns) == ["timestamp", "bucket_low", "bucket_high", "count"]
    assert hm["count"].sum() == len(req)
    edges = hm.attrs["edges"]
    assert len(hm) == hm["timestamp"].nunique() * (len(edges) - 1)
    ratios = np.diff(np.log(edges))
    assert np.allclose(ratios, ratios[0]), "log-spaced buckets"
    assert edges[0] <= req.latency_ms.min() and edges[-1] >= req.latency_ms.max()


def test_heatmap_explicit_edges_clip_out_of_range_values():
    req = pd.DataFrame({"timestamp": [T0] * 3, "latency_ms": [1.0, 50.0, 1e6]})
    hm = latency.heatmap(req, by="1min", buckets=[10, 100, 1000])
    assert hm["count"].tolist() == [2, 1]
    assert latency.heatmap(None).empty


def test_cold_starts_from_init_duration_only():
    req = pd.DataFrame({"duration_ms": [100.0, 120.0, 130.0], "init_duration_ms": [None, 900.0, None]})
    cold, known = latency.cold_starts(req)
    assert cold.tolist() == [False, True, False]
    assert known.all()
    cold, known = latency.cold_starts(pd.DataFrame({"latency_ms": [1.0, 2.0]}))
    assert not known.any()


# --------------------------------------------------------------------------- cold-start-tail


# --------------------------------------------------------------------------- cold-start-timeouts


# --------------------------------------------------------------------------- ranking through detect()


@pytest.mark.parametrize("module", ["incidentkit.analyses._common", "incidentkit.analyses.latency"])
def test_docstring_examples(module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
