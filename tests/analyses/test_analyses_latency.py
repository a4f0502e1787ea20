"""Latency analyses and the cold-start detectors, on hand-built request frames."""

from __future__ import annotations

import json
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
from incidentkit.findings import Finding, Inputs, detect
from incidentkit.window import Window

T0 = pd.Timestamp("2026-03-01T00:00:00Z")


# --------------------------------------------------------------------------- builders


def _arrivals(rng, start, minutes, rate_per_min):
    """Poisson arrivals over ``minutes`` at a (per-minute) rate function."""
    times = []
    for m in range(minutes):
        k = rng.poisson(rate_per_min(m))
        times.extend(np.sort(rng.uniform(0, 60, k)) + 60 * m)
    return start + pd.to_timedelta(np.array(times), unit="s")


def lambda_requests(
    rng,
    *,
    minutes,
    rate,
    idle_cold_after_s=None,
    busy_cold_rate=0.005,
    init_ms=(200.0, 700.0),
    warm_median=120.0,
    warm_sigma=0.35,
    start=T0,
    function="orders-api",
    error_rate=0.002,
):
    """Requests from a Lambda behind API Gateway.

    A request is a cold start when the previous request came more than
    ``idle_cold_after_s`` earlier (the environment was reclaimed), or at random with
    ``busy_cold_rate`` (scale-out). Latency = warm duration (+ init on a cold start).
    """
    t = _arrivals(rng, start, minutes, rate)
    n = len(t)
    gaps = np.diff(np.r_[-1e9, (t - start).total_seconds().to_numpy()])
    cold = rng.random(n) < busy_cold_rate
    if idle_cold_after_s is not None:
        cold |= gaps > idle_cold_after_s
    init = np.where(cold, rng.uniform(init_ms[0], init_ms[1], n), np.nan)
    duration = rng.lognormal(math.log(warm_median), warm_sigma, n)
    status = np.where(rng.random(n) < error_rate, 500, 200)
    return pd.DataFrame(
        {
            "timestamp": t,
            "request_id": [f"r{i}" for i in range(n)],
            "status": pd.array(status, dtype="Int64"),
            "latency_ms": duration + np.nan_to_num(init),
            "duration_ms": duration,
            "init_duration_ms": init,
            "cold_start": pd.array(cold, dtype="boolean"),
            "timed_out": pd.array(np.zeros(n, dtype=bool), dtype="boolean"),
            "function_name": function,
            "route": rng.choice(["/orders", "/orders/{id}", "/health"], n, p=[0.5, 0.45, 0.05]),
        }
    )


def quiet_hours_incident(seed=7, night_rate=0.25):
    """Incident 7: 24 h; busy days, quiet nights (0.25 req/min) where idle environments are
    reclaimed, so most night requests are cold starts with a 3-7 s (Java) init."""
    rng = np.random.default_rng(seed)

    def rate(m):
        hour = (m // 60) % 24
        return night_rate if hour < 6 else 25.0

    return lambda_requests(rng, minutes=24 * 60, rate=rate, idle_cold_after_s=420, busy_cold_rate=0.001,
                           init_ms=(3000.0, 7000.0))


def healthy(seed=11, minutes=120, rate=30.0):
    """Normal traffic: a realistic trickle of cold starts (0.5 %, 200-700 ms init) and 5XX (0.2 %)."""
    rng = np.random.default_rng(seed)
    return lambda_requests(rng, minutes=minutes, rate=lambda m: rate, busy_cold_rate=0.005)


def burst_incident(seed=3):
    """Incident 2: 60 min at 40 req/min, then a 10-minute burst at 300 req/min where new environments
    start cold (init 20-35 s with VPC + heavy framework): those hit API Gateway's 29 s cap -> 504."""
    rng = np.random.default_rng(seed)
    start = T0 + pd.Timedelta(hours=12)
    burst = (60, 70)

    def rate(m):
        return 300.0 if burst[0] <= m < burst[1] else 40.0

    req = lambda_requests(rng, minutes=90, rate=rate, busy_cold_rate=0.002, start=start, function="checkout")
    m = ((req["timestamp"] - start).dt.total_seconds() // 60).astype(int)
    in_burst = (m >= burst[0]) & (m < burst[1])
    new_env = in_burst & (rng.random(len(req)) < 0.18)
    init = rng.uniform(20000, 35000, len(req))
    req.loc[new_env, "cold_start"] = True
    req.loc[new_env, "init_duration_ms"] = init[new_env]
    total = req["duration_ms"] + req["init_duration_ms"].fillna(0)
    capped = total >= 29000
    req["latency_ms"] = np.minimum(total, 29000.0 + rng.uniform(0, 30, len(req)))
    req.loc[capped, "status"] = 504
    req.loc[capped, "timed_out"] = True
    # Warm requests slow down a little in the burst (downstream contention), but succeed.
    req.loc[in_burst & ~new_env, "latency_ms"] *= 1.5
    window = Window(start + pd.Timedelta(minutes=45), start + pd.Timedelta(minutes=90))
    baseline = Window(start, start + pd.Timedelta(minutes=45))
    t = req["timestamp"]
    inc = req[(t >= window.start) & (t < window.end)].reset_index(drop=True)
    base = req[(t >= baseline.start) & (t < baseline.end)].reset_index(drop=True)
    return inc, base, window, baseline


def metric_rows(namespace, name, stat, times, values, dims=None, period=60):
    return pd.DataFrame(
        {
            "timestamp": times,
            "query_id": f"q_{name.lower()}",
            "label": name,
            "namespace": namespace,
            "metric_name": name,
            "dimensions": json.dumps(dims or {}, sort_keys=True),
            "stat": stat,
            "period": period,
            "value": np.asarray(values, dtype="float64"),
        }
    )


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


def test_detect_cold_start_tail_quiet_hours_incident():
    req = quiet_hours_incident()
    w = Window(T0, T0 + pd.Timedelta("24h"))
    f = latency.detect_cold_start_tail(Inputs(window=w, requests=req))
    assert isinstance(f, Finding) and f.id == "cold-start-tail"
    assert f.severity == "high"
    assert f.evidence["quiet_hours_signature"] is True
    assert f.evidence["slow_bins_explained_by_cold_starts"] >= 0.8 * f.evidence["bins_with_slow_p99"]
    assert f.evidence["warm_p99_ms"] < 500
    assert f.confidence >= 0.7
    assert any("provisioned concurrency" in r.lower() for r in f.remediation)
    assert "orders-api" in " ".join(f.remediation)
    # The evidence numbers are checkable against the frame.
    assert f.evidence["cold_starts"] == int(req.cold_start.sum())
    assert f.evidence["warm_p99_ms"] == pytest.approx(np.quantile(req.latency_ms[~req.cold_start.astype(bool)], 0.99), rel=1e-3)


def test_detect_cold_start_tail_quiet_window_against_a_busy_baseline():
    """The incident window is the quiet night itself; the baseline is busy daytime."""
    req = quiet_hours_incident(night_rate=0.6)
    w = Window(T0, T0 + pd.Timedelta("6h"))
    b = Window(T0 + pd.Timedelta("6h"), T0 + pd.Timedelta("12h"))
    inc = req[req.timestamp < w.end]
    base = req[(req.timestamp >= b.start) & (req.timestamp < b.end)]
    f = latency.detect_cold_start_tail(Inputs(window=w, baseline=b, requests=inc, baseline_requests=base))
    assert f is not None and f.evidence["quieter_than_baseline"] is True
    assert f.evidence["traffic_per_min"] == pytest.approx(len(inc) / 360, rel=1e-3)
    assert f.evidence["baseline_traffic_per_min"] == pytest.approx(len(base) / 360, rel=1e-3)
    assert "Against the baseline" in f.summary
    without = latency.detect_cold_start_tail(Inputs(window=w, requests=inc))
    assert without is None or without.confidence < f.confidence


def test_detect_cold_start_tail_sizes_provisioned_concurrency_from_metrics():
    req = quiet_hours_incident()
    times = pd.date_range(T0, periods=24 * 60, freq="1min")
    conc = np.where(times.hour < 6, 1, 9)
    metrics = metric_rows("AWS/Lambda", "ConcurrentExecutions", "Maximum", times, conc, {"FunctionName": "orders-api"})
    f = latency.detect_cold_start_tail(Inputs(requests=req, metrics=metrics))
    assert f.evidence["concurrency_p95"] == 9
    assert "about 9 environments" in f.remediation[0]


def test_detect_cold_start_tail_text_and_json_shapes():
    """Cold starts known only from Init Duration (REPORT text lines), latency only from durations."""
    req = quiet_hours_incident().drop(columns=["cold_start", "latency_ms", "timed_out", "status"])
    f = latency.detect_cold_start_tail(Inputs(requests=req))
    assert f is not None and f.severity == "high"


def test_detect_cold_start_tail_healthy_is_below_medium():
    for seed in (1, 2, 3, 4):
        f = latency.detect_cold_start_tail(Inputs(requests=healthy(seed=seed)))
        assert f is None or f.severity in ("low", "info"), (seed, f and f.summary)
        assert f is None or f.confidence <= 0.35


def test_detect_cold_start_tail_healthy_quiet_service_with_fast_init():
    """A quiet service with many cold starts but a 150-400 ms init: not a medium problem."""
    rng = np.random.default_rng(5)
    req = lambda_requests(rng, minutes=12 * 60, rate=lambda m: 0.5, idle_cold_after_s=300, init_ms=(150.0, 400.0))
    f = latency.detect_cold_start_tail(Inputs(requests=req))
    assert f is None or f.severity == "low"


def test_detect_cold_start_tail_slow_requests_that_are_not_cold():
    """A slow warm path (5 % of requests take 3 s, not cold) is not a cold-start tail."""
    req = healthy(seed=9)
    rng = np.random.default_rng(9)
    slow = rng.random(len(req)) < 0.05
    req.loc[slow, "latency_ms"] += 3000
    assert latency.detect_cold_start_tail(Inputs(requests=req)) is None


def test_detect_cold_start_tail_edge_cases():
    assert latency.detect_cold_start_tail(Inputs()) is None
    assert latency.detect_cold_start_tail(Inputs(requests=pd.DataFrame())) is None
    assert latency.detect_cold_start_tail(Inputs(requests=pd.DataFrame({"latency_ms": [1.0] * 500}))) is None
    small = quiet_hours_incident().head(60)
    assert latency.detect_cold_start_tail(Inputs(requests=small)) is None
    no_cold = quiet_hours_incident().drop(columns=["cold_start", "init_duration_ms"])
    assert latency.detect_cold_start_tail(Inputs(requests=no_cold)) is None


def _title_numbers(title):
    """(P99 the title says is the window's, or None) from either title form."""
    import re

    m = re.search(r"the P99 latency \(([\d.]+) (ms|s) vs", title) or re.search(r"window P99 ([\d.]+) (ms|s)", title)
    return None if m is None else float(m.group(1)) * (1000.0 if m.group(2) == "s" else 1.0)


@pytest.mark.parametrize("hours", [24, 6])
def test_a_title_that_says_p99_shows_the_windows_p99(hours):
    req = quiet_hours_incident(night_rate=0.6)
    w = Window(T0, T0 + pd.Timedelta(hours=hours))
    inc = req[req.timestamp < w.end]
    f = latency.detect_cold_start_tail(Inputs(window=w, requests=inc))
    window_p99 = float(np.quantile(inc["latency_ms"], 0.99))
    shown = _title_numbers(f.title)
    assert shown is not None and abs(shown - window_p99) <= 0.05 * window_p99, (f.title, window_p99)
    assert f.evidence["p99_ms"] == pytest.approx(window_p99, rel=1e-3)
    if hours == 24:  # day traffic holds the window's P99 down: the night's slow P99 is a per-bin view
        assert f.title.startswith("Cold starts raise the P99 of")
    else:  # the window is the quiet night: its own P99 is the cold starts'
        assert f.title.startswith("Cold starts make the P99 latency")


def test_a_few_slow_bins_are_worded_as_a_per_bin_view():
    """Busy traffic with a few bursts of cold starts: some 30-s bins have a slow P99, the window's P99 does not move."""
    rng = np.random.default_rng(21)
    req = lambda_requests(rng, minutes=60, rate=lambda m: 30.0, busy_cold_rate=0.0, init_ms=(700.0, 900.0))
    for minute in (11, 27, 44):  # a scale-out: four cold starts in one second, three times
        hit = req.index[(req["timestamp"] >= T0 + pd.Timedelta(minutes=minute))][:4]
        req.loc[hit, "cold_start"] = True
        req.loc[hit, "init_duration_ms"] = 800.0
        req.loc[hit, "latency_ms"] = req.loc[hit, "duration_ms"] + 800.0
    f = latency.detect_cold_start_tail(Inputs(window=Window(T0, T0 + pd.Timedelta("1h")), requests=req))
    assert f is not None and f.severity == "low"
    assert f.title.startswith("Cold starts raise the P99 of 3 of 120 30-s bins") and "window P99" in f.title
    assert _title_numbers(f.title) == pytest.approx(f.evidence["p99_ms"], abs=1.0)
    assert f.evidence["share_of_bins_slow"] == pytest.approx(3 / 120), "one bin in 40: a blip, one step lower"
    assert f.evidence["p99_ms"] < f.evidence["slow_bin_p99_median_ms"]
    assert "so its P99 is set by its slowest one or two" in f.summary


@pytest.mark.parametrize("spelling", ["orders-api", "orders-api:live", "arn:aws:lambda:eu-west-1:123456789012:function:orders-api",
                                      "123456789012:function:orders-api:live"])
def test_cold_start_tail_names_the_provisioned_concurrency_that_was_removed(spelling):
    req = quiet_hours_incident()
    w = Window(T0, T0 + pd.Timedelta("24h"))
    detail = json.dumps({"api": "DeleteProvisionedConcurrencyConfig", "event_source": "lambda.amazonaws.com",
                         "params": {"functionName": spelling, "qualifier": "live"} if ":live" not in spelling else {"functionName": spelling}})
    changes = pd.DataFrame({
        "timestamp": pd.to_datetime(["2026-02-28T18:26:41Z", "2026-02-28T18:30:00Z", "2026-02-28T19:00:00Z"]),
        "source": "cloudtrail",
        "event_name": ["DeleteProvisionedConcurrencyConfig", "UpdateFunctionCode20150331v2", "PutMetricAlarm"],
        "class": ["SCALING", "DEPLOYMENT", "CONFIG_CHANGE"],
        "actor": "arn:aws:sts::123456789012:assumed-role/finops-cleanup/session-7",
        "resource": [spelling, "another-function", "orders-api-errors"],
        "error_code": None,
        "detail": [detail, json.dumps({"params": {"functionName": "another-function"}}), "{}"]})
    f = latency.detect_cold_start_tail(Inputs(window=w, requests=req, changes=changes))
    assert [c["api"] for c in f.related_changes] == ["DeleteProvisionedConcurrencyConfig"], "another function's deploy is not related"
    assert f.related_changes[0]["target"] == "orders-api:live"
    assert ("Provisioned concurrency on `orders-api:live` was deleted (DeleteProvisionedConcurrencyConfig) at 18:26 UTC "
            "on 2026-02-28 by role finops-cleanup, 5.6 h before the window.") in f.summary
    assert f.remediation[0].startswith("Restore the provisioned concurrency on `orders-api:live` that was deleted")
    assert "20150331" not in f.summary + " ".join(f.remediation)
    assert f.evidence["change"] == "DeleteProvisionedConcurrencyConfig" and f.evidence["change_by"] == "role finops-cleanup"


# --------------------------------------------------------------------------- cold-start-timeouts


def test_detect_cold_start_timeouts_burst_incident():
    inc, base, w, b = burst_incident()
    f = latency.detect_cold_start_timeouts(Inputs(window=w, baseline=b, requests=inc, baseline_requests=base))
    assert f is not None and f.id == "cold-start-timeouts"
    assert f.severity in ("high", "critical")
    assert f.evidence["cold_start_evidence"] == "request"
    failing = (inc.status >= 500) | inc.timed_out.astype(bool)
    assert f.evidence["cold_start_rate_failing"] == pytest.approx(inc.cold_start[failing].mean(), abs=1e-4)
    assert f.evidence["cold_start_rate_failing"] > 0.9 > 0.1 > f.evidence["cold_start_rate_rest"]
    assert f.evidence["timeout_share_of_failures"] > 0.9
    assert f.evidence["traffic_vs_typical"] > 4
    assert f.evidence["failing_requests"] == int(failing.sum())
    assert f.confidence >= 0.8
    assert any("29 s" in r for r in f.remediation)


def test_detect_cold_start_timeouts_minute_level_when_gateway_rows_lack_cold_flags():
    """API Gateway access rows (status 504, no cold flag) + separate Lambda REPORT rows (cold flags, no status)."""
    inc, base, w, b = burst_incident()
    gw = inc[["timestamp", "status", "latency_ms"]].copy()
    report = inc[["timestamp", "duration_ms", "init_duration_ms"]].copy()
    report["status"] = pd.array([None] * len(report), dtype="Int64")
    # Lambda's own duration is cut by its 30 s timeout and not capped by the gateway: keep durations < cap
    report["duration_ms"] = np.minimum(report["duration_ms"], 2000)
    report["init_duration_ms"] = np.minimum(report["init_duration_ms"], 9000)
    both = pd.concat([gw, report], ignore_index=True)
    f = latency.detect_cold_start_timeouts(Inputs(window=w, requests=both))
    assert f is not None
    assert f.evidence["cold_start_evidence"] == "minute"
    assert f.evidence["cold_start_rate_failing"] > 2 * f.evidence["cold_start_rate_rest"]


def test_detect_cold_start_timeouts_with_concurrency_metrics_and_settings():
    inc, base, w, b = burst_incident()
    times = pd.date_range(b.start, w.end, freq="1min", inclusive="left")
    burst = (times >= w.start + pd.Timedelta("15min")) & (times < w.start + pd.Timedelta("25min"))
    metrics = pd.concat(
        [
            metric_rows("AWS/Lambda", "ConcurrentExecutions", "Maximum", times, np.where(burst, 98, 12), {"FunctionName": "checkout"}),
            metric_rows("AWS/Lambda", "Throttles", "Sum", times, np.where(burst, 40, 0), {"FunctionName": "checkout"}),
            metric_rows("AWS/ApiGateway", "IntegrationLatency", "Maximum", times, np.where(burst, 29000, 900), {"ApiName": "shop"}),
        ]
    )
    settings = pd.DataFrame({"timestamp": [T0] * 2, "resource_type": ["lambda:function"] * 2,
                             "resource_id": ["checkout"] * 2, "setting": ["ReservedConcurrentExecutions", "Timeout"],
                             "value": ["100", "60"]})
    f = latency.detect_cold_start_timeouts(Inputs(window=w, baseline=b, requests=inc, baseline_requests=base,
                                                 metrics=metrics, settings=settings))
    assert f.evidence["concurrency_peak"] == 98 and f.evidence["concurrency_limit"] == 100
    assert f.evidence["lambda_throttles"] == 400
    assert f.evidence["integration_latency_points_at_cap"] == 10
    text = " ".join(f.remediation)
    assert "about 98 environments" in text
    assert "reserved concurrency" in text and "(60 s)" in text


def test_detect_cold_start_timeouts_metrics_only():
    start = T0 + pd.Timedelta("12h")
    w = Window(start + pd.Timedelta("30min"), start + pd.Timedelta("60min"))
    times = pd.date_range(start, periods=60, freq="1min")
    burst = (times >= w.start + pd.Timedelta("5min")) & (times < w.start + pd.Timedelta("15min"))
    dims = {"ApiName": "shop", "Stage": "prod"}
    metrics = pd.concat(
        [
            metric_rows("AWS/ApiGateway", "Count", "Sum", times, np.where(burst, 9000, 2400), dims),
            metric_rows("AWS/ApiGateway", "5XXError", "Sum", times, np.where(burst, 1500, 2), dims),
            metric_rows("AWS/ApiGateway", "IntegrationLatency", "Maximum", times, np.where(burst, 29000, 800), dims),
            metric_rows("AWS/Lambda", "ConcurrentExecutions", "Maximum", times, np.where(burst, 240, 30), {"FunctionName": "checkout"}),
        ]
    )
    f = latency.detect_cold_start_timeouts(Inputs(window=w, metrics=metrics))
    assert f is not None and f.confidence <= 0.6
    assert f.evidence["apigw_5xx"] == 15000 + 2 * 20
    assert f.evidence["apigw_5xx_rate"] == pytest.approx((15000 + 40) / (90000 + 2400 * 20), abs=1e-4)
    assert f.evidence["concurrency_baseline_median"] == 30
    # Healthy metrics: no finding.
    calm = metrics.copy()
    calm.loc[calm.metric_name == "5XXError", "value"] = 2
    calm.loc[calm.metric_name == "IntegrationLatency", "value"] = 800
    assert latency.detect_cold_start_timeouts(Inputs(window=w, metrics=calm)) is None


def test_detect_cold_start_timeouts_healthy_is_none():
    for seed in (1, 2, 3):
        req = healthy(seed=seed)
        w = Window(T0 + pd.Timedelta("60min"), T0 + pd.Timedelta("120min"))
        b = Window(T0, T0 + pd.Timedelta("60min"))
        f = latency.detect_cold_start_timeouts(Inputs(window=w, baseline=b, requests=req, baseline_requests=req))
        assert f is None or f.severity in ("low", "info")
        f = latency.detect_cold_start_timeouts(Inputs(requests=req))
        assert f is None or f.severity in ("low", "info")


def test_detect_cold_start_timeouts_failures_unrelated_to_cold_starts():
    """5 % of requests fail with 502 from a bad dependency, cold or not: not this finding."""
    req = healthy(seed=21)
    rng = np.random.default_rng(21)
    req.loc[rng.random(len(req)) < 0.05, "status"] = 502
    assert latency.detect_cold_start_timeouts(Inputs(requests=req)) is None


def test_detect_cold_start_timeouts_requires_timeouts_not_any_failure_on_cold_starts():
    """A scheduled job whose fresh (cold) invocations fail fast with a throttled dependency (500s)."""
    inc, base, w, b = burst_incident()
    cold = inc.cold_start.astype(bool)
    inc.loc[cold & (inc.status == 504), "latency_ms"] = 900.0
    inc.loc[cold & (inc.status == 504), "status"] = 500
    inc["timed_out"] = False
    assert latency.detect_cold_start_timeouts(Inputs(window=w, requests=inc)) is None


def test_detect_cold_start_timeouts_function_timeout_below_gateway_timeout():
    """Function timeout 10 s: timed-out invocations surface as 502 at ~10 s, not 504 at 29 s."""
    inc, base, w, b = burst_incident()
    hit = inc.status == 504
    inc.loc[hit, "status"] = 502
    inc.loc[hit, "latency_ms"] = 10_010.0
    inc["timed_out"] = False
    settings = pd.DataFrame({"timestamp": [T0], "resource_type": ["lambda:function"], "resource_id": ["checkout"],
                             "setting": ["Timeout"], "value": ["10"]})
    assert latency.detect_cold_start_timeouts(Inputs(window=w, requests=inc)) is None
    f = latency.detect_cold_start_timeouts(Inputs(window=w, requests=inc, settings=settings))
    assert f is not None and f.evidence["timeout_share_of_failures"] > 0.9
    errs = inc.assign(error_type=np.where(hit, "Task timed out after 10.00 seconds", None))
    assert latency.detect_cold_start_timeouts(Inputs(window=w, requests=errs)) is not None


def test_detect_cold_start_timeouts_same_failure_rate_as_baseline():
    inc, base, w, b = burst_incident()
    f = latency.detect_cold_start_timeouts(Inputs(window=w, baseline=w, requests=inc, baseline_requests=inc))
    assert f is None


def test_detect_cold_start_timeouts_edge_cases():
    assert latency.detect_cold_start_timeouts(Inputs()) is None
    assert latency.detect_cold_start_timeouts(Inputs(requests=pd.DataFrame({"foo": [1] * 100}))) is None
    assert latency.detect_cold_start_timeouts(Inputs(metrics=pd.DataFrame())) is None
    inc = burst_incident()[0]
    assert latency.detect_cold_start_timeouts(Inputs(requests=inc.drop(columns=["cold_start", "init_duration_ms"]))) is None


# --------------------------------------------------------------------------- ranking through detect()


def test_detect_ranks_timeouts_first_on_the_burst_incident():
    inc, base, w, b = burst_incident()
    found = detect(Inputs(window=w, baseline=b, requests=inc, baseline_requests=base),
                   only=["cold-start-tail", "cold-start-timeouts", "version-skew-errors"])
    assert not found.errors, found.errors
    assert found.top.id == "cold-start-timeouts"


def test_detect_ranks_tail_first_on_the_quiet_hours_incident():
    found = detect(Inputs(requests=quiet_hours_incident()),
                   only=["cold-start-tail", "cold-start-timeouts", "version-skew-errors"])
    assert not found.errors, found.errors
    assert found.top.id == "cold-start-tail"
    assert [f.id for f in found.at_least("medium")] == ["cold-start-tail"]


@pytest.mark.parametrize("module", ["incidentkit.analyses._common", "incidentkit.analyses.latency"])
def test_docstring_examples(module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
