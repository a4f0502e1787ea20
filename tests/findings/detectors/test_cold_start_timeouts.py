"""The ``cold-start-timeouts`` detector (:mod:`incidentkit.findings.detectors.cold_start_timeouts`): when it fires, when it stays silent."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from incidentkit.findings import Inputs, detect
from incidentkit.window import Window
from _helpers.latency_cases import T0, burst_incident, healthy, metric_rows
from incidentkit.findings.detectors import cold_start_timeouts


def test_detect_cold_start_timeouts_burst_incident():
    inc, base, w, b = burst_incident()
    f = cold_start_timeouts.detect(Inputs(window=w, baseline=b, requests=inc, baseline_requests=base))
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
    f = cold_start_timeouts.detect(Inputs(window=w, requests=both))
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
    f = cold_start_timeouts.detect(Inputs(window=w, baseline=b, requests=inc, baseline_requests=base,
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
    f = cold_start_timeouts.detect(Inputs(window=w, metrics=metrics))
    assert f is not None and f.confidence <= 0.6
    assert f.evidence["apigw_5xx"] == 15000 + 2 * 20
    assert f.evidence["apigw_5xx_rate"] == pytest.approx((15000 + 40) / (90000 + 2400 * 20), abs=1e-4)
    assert f.evidence["concurrency_baseline_median"] == 30
    # Healthy metrics: no finding.
    calm = metrics.copy()
    calm.loc[calm.metric_name == "5XXError", "value"] = 2
    calm.loc[calm.metric_name == "IntegrationLatency", "value"] = 800
    assert cold_start_timeouts.detect(Inputs(window=w, metrics=calm)) is None


def test_detect_cold_start_timeouts_healthy_is_none():
    for seed in (1, 2, 3):
        req = healthy(seed=seed)
        w = Window(T0 + pd.Timedelta("60min"), T0 + pd.Timedelta("120min"))
        b = Window(T0, T0 + pd.Timedelta("60min"))
        f = cold_start_timeouts.detect(Inputs(window=w, baseline=b, requests=req, baseline_requests=req))
        assert f is None or f.severity in ("low", "info")
        f = cold_start_timeouts.detect(Inputs(requests=req))
        assert f is None or f.severity in ("low", "info")


def test_detect_cold_start_timeouts_failures_unrelated_to_cold_starts():
    """5 % of requests fail with 502 from a bad dependency, cold or not: not this finding."""
    req = healthy(seed=21)
    rng = np.random.default_rng(21)
    req.loc[rng.random(len(req)) < 0.05, "status"] = 502
    assert cold_start_timeouts.detect(Inputs(requests=req)) is None


def test_detect_cold_start_timeouts_requires_timeouts_not_any_failure_on_cold_starts():
    """A scheduled job whose fresh (cold) invocations fail fast with a throttled dependency (500s)."""
    inc, base, w, b = burst_incident()
    cold = inc.cold_start.astype(bool)
    inc.loc[cold & (inc.status == 504), "latency_ms"] = 900.0
    inc.loc[cold & (inc.status == 504), "status"] = 500
    inc["timed_out"] = False
    assert cold_start_timeouts.detect(Inputs(window=w, requests=inc)) is None


def test_detect_cold_start_timeouts_function_timeout_below_gateway_timeout():
    """Function timeout 10 s: timed-out invocations surface as 502 at ~10 s, not 504 at 29 s."""
    inc, base, w, b = burst_incident()
    hit = inc.status == 504
    inc.loc[hit, "status"] = 502
    inc.loc[hit, "latency_ms"] = 10_010.0
    inc["timed_out"] = False
    settings = pd.DataFrame({"timestamp": [T0], "resource_type": ["lambda:function"], "resource_id": ["checkout"],
                             "setting": ["Timeout"], "value": ["10"]})
    assert cold_start_timeouts.detect(Inputs(window=w, requests=inc)) is None
    f = cold_start_timeouts.detect(Inputs(window=w, requests=inc, settings=settings))
    assert f is not None and f.evidence["timeout_share_of_failures"] > 0.9
    errs = inc.assign(error_type=np.where(hit, "Task timed out after 10.00 seconds", None))
    assert cold_start_timeouts.detect(Inputs(window=w, requests=errs)) is not None


def test_detect_cold_start_timeouts_same_failure_rate_as_baseline():
    inc, base, w, b = burst_incident()
    f = cold_start_timeouts.detect(Inputs(window=w, baseline=w, requests=inc, baseline_requests=inc))
    assert f is None


def test_detect_cold_start_timeouts_edge_cases():
    assert cold_start_timeouts.detect(Inputs()) is None
    assert cold_start_timeouts.detect(Inputs(requests=pd.DataFrame({"foo": [1] * 100}))) is None
    assert cold_start_timeouts.detect(Inputs(metrics=pd.DataFrame())) is None
    inc = burst_incident()[0]
    assert cold_start_timeouts.detect(Inputs(requests=inc.drop(columns=["cold_start", "init_duration_ms"]))) is None


def test_detect_ranks_timeouts_first_on_the_burst_incident():
    inc, base, w, b = burst_incident()
    found = detect(Inputs(window=w, baseline=b, requests=inc, baseline_requests=base),
                   only=["cold-start-tail", "cold-start-timeouts", "version-skew-errors"])
    assert not found.errors, found.errors
    assert found.top.id == "cold-start-timeouts"
