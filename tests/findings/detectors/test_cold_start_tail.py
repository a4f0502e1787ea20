"""The ``cold-start-tail`` detector (:mod:`incidentkit.findings.detectors.cold_start_tail`): when it fires, when it stays silent."""

from __future__ import annotations

import json
import numpy as np
import pandas as pd
import pytest
from incidentkit.findings import Finding, Inputs, detect
from incidentkit.window import Window
from _helpers.latency_cases import T0, healthy, lambda_requests, metric_rows, quiet_hours_incident
from incidentkit.findings.detectors import cold_start_tail


def _title_numbers(title):
    """(P99 the title says is the window's, or None) from either title form."""
    import re

    m = re.search(r"the P99 latency \(([\d.]+) (ms|s) vs", title) or re.search(r"window P99 ([\d.]+) (ms|s)", title)
    return None if m is None else float(m.group(1)) * (1000.0 if m.group(2) == "s" else 1.0)


def test_detect_cold_start_tail_quiet_hours_incident():
    req = quiet_hours_incident()
    w = Window(T0, T0 + pd.Timedelta("24h"))
    f = cold_start_tail.detect(Inputs(window=w, requests=req))
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
    f = cold_start_tail.detect(Inputs(window=w, baseline=b, requests=inc, baseline_requests=base))
    assert f is not None and f.evidence["quieter_than_baseline"] is True
    assert f.evidence["traffic_per_min"] == pytest.approx(len(inc) / 360, rel=1e-3)
    assert f.evidence["baseline_traffic_per_min"] == pytest.approx(len(base) / 360, rel=1e-3)
    assert "Against the baseline" in f.summary
    without = cold_start_tail.detect(Inputs(window=w, requests=inc))
    assert without is None or without.confidence < f.confidence


def test_detect_cold_start_tail_sizes_provisioned_concurrency_from_metrics():
    req = quiet_hours_incident()
    times = pd.date_range(T0, periods=24 * 60, freq="1min")
    conc = np.where(times.hour < 6, 1, 9)
    metrics = metric_rows("AWS/Lambda", "ConcurrentExecutions", "Maximum", times, conc, {"FunctionName": "orders-api"})
    f = cold_start_tail.detect(Inputs(requests=req, metrics=metrics))
    assert f.evidence["concurrency_p95"] == 9
    assert "about 9 environments" in f.remediation[0]


def test_detect_cold_start_tail_text_and_json_shapes():
    """Cold starts known only from Init Duration (REPORT text lines), latency only from durations."""
    req = quiet_hours_incident().drop(columns=["cold_start", "latency_ms", "timed_out", "status"])
    f = cold_start_tail.detect(Inputs(requests=req))
    assert f is not None and f.severity == "high"


def test_detect_cold_start_tail_healthy_is_below_medium():
    for seed in (1, 2, 3, 4):
        f = cold_start_tail.detect(Inputs(requests=healthy(seed=seed)))
        assert f is None or f.severity in ("low", "info"), (seed, f and f.summary)
        assert f is None or f.confidence <= 0.35


def test_detect_cold_start_tail_healthy_quiet_service_with_fast_init():
    """A quiet service with many cold starts but a 150-400 ms init: not a medium problem."""
    rng = np.random.default_rng(5)
    req = lambda_requests(rng, minutes=12 * 60, rate=lambda m: 0.5, idle_cold_after_s=300, init_ms=(150.0, 400.0))
    f = cold_start_tail.detect(Inputs(requests=req))
    assert f is None or f.severity == "low"


def test_detect_cold_start_tail_slow_requests_that_are_not_cold():
    """A slow warm path (5 % of requests take 3 s, not cold) is not a cold-start tail."""
    req = healthy(seed=9)
    rng = np.random.default_rng(9)
    slow = rng.random(len(req)) < 0.05
    req.loc[slow, "latency_ms"] += 3000
    assert cold_start_tail.detect(Inputs(requests=req)) is None


def test_detect_cold_start_tail_edge_cases():
    assert cold_start_tail.detect(Inputs()) is None
    assert cold_start_tail.detect(Inputs(requests=pd.DataFrame())) is None
    assert cold_start_tail.detect(Inputs(requests=pd.DataFrame({"latency_ms": [1.0] * 500}))) is None
    small = quiet_hours_incident().head(60)
    assert cold_start_tail.detect(Inputs(requests=small)) is None
    no_cold = quiet_hours_incident().drop(columns=["cold_start", "init_duration_ms"])
    assert cold_start_tail.detect(Inputs(requests=no_cold)) is None


@pytest.mark.parametrize("hours", [24, 6])
def test_a_title_that_says_p99_shows_the_windows_p99(hours):
    req = quiet_hours_incident(night_rate=0.6)
    w = Window(T0, T0 + pd.Timedelta(hours=hours))
    inc = req[req.timestamp < w.end]
    f = cold_start_tail.detect(Inputs(window=w, requests=inc))
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
    f = cold_start_tail.detect(Inputs(window=Window(T0, T0 + pd.Timedelta("1h")), requests=req))
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
    f = cold_start_tail.detect(Inputs(window=w, requests=req, changes=changes))
    assert [c["api"] for c in f.related_changes] == ["DeleteProvisionedConcurrencyConfig"], "another function's deploy is not related"
    assert f.related_changes[0]["target"] == "orders-api:live"
    assert ("Provisioned concurrency on `orders-api:live` was deleted (DeleteProvisionedConcurrencyConfig) at 18:26 UTC "
            "on 2026-02-28 by role finops-cleanup, 5.6 h before the window.") in f.summary
    assert f.remediation[0].startswith("Restore the provisioned concurrency on `orders-api:live` that was deleted")
    assert "20150331" not in f.summary + " ".join(f.remediation)
    assert f.evidence["change"] == "DeleteProvisionedConcurrencyConfig" and f.evidence["change_by"] == "role finops-cleanup"


def test_detect_ranks_tail_first_on_the_quiet_hours_incident():
    found = detect(Inputs(requests=quiet_hours_incident()),
                   only=["cold-start-tail", "cold-start-timeouts", "version-skew-errors"])
    assert not found.errors, found.errors
    assert found.top.id == "cold-start-tail"
    assert [f.id for f in found.at_least("medium")] == ["cold-start-tail"]
