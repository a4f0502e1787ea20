"""analyses.impact: the tier counted, failed and slow requests and clients, onset, peak and recovery."""

from __future__ import annotations

import doctest
from typing import Any

import numpy as np
import pandas as pd
import pytest

from incidentkit.run import runner
from incidentkit.analyses import impact as im
from incidentkit.errors import ParameterError
from incidentkit.window import Window

W = Window.parse("2026-03-10T02:30:00Z", "2026-03-10T04:00:00Z")
B = W.baseline("previous")


def traffic(window: Window, *, per_min: int = 30, tier: str = "entry", fmt: str = "apigw_access", bad: Any = None,
            latency: float = 50.0, seed: int = 1) -> pd.DataFrame:
    """Requests spread over ``window``; ``bad(minute) -> share failing`` (default none)."""
    rng = np.random.default_rng(seed)
    minutes = int(window.duration / pd.Timedelta(minutes=1))
    rows = []
    for m in range(minutes):
        share = bad(m) if bad else 0.0
        for i in range(per_min):
            t = window.start + pd.Timedelta(minutes=m, seconds=i * 60 / per_min)
            fail = rng.random() < share
            rows.append({"timestamp": t, "status": 503 if fail else 200, "latency_ms": latency * (1 + rng.random()),
                         "client_ip": f"10.0.{m % 7}.{i}", "tier": tier, "tier_format": fmt, "log_group": "/gw/access"})
    df = pd.DataFrame(rows)
    df["status"] = df["status"].astype("Int64")
    return df


def test_the_entry_tier_is_counted_once_and_said() -> None:
    entry = traffic(W)
    invocations = traffic(W, tier="invocation", fmt="lambda_platform").assign(status=pd.array([None] * len(entry), dtype="Int64"))
    imp = im.impact(pd.concat([entry, invocations, invocations], ignore_index=True), window=W)
    assert imp["requests"] == len(entry) and imp["tier"] == "entry" and imp["entry_point"] == "API Gateway access log"
    assert imp["counted"] == f"{len(entry):,} requests at the API Gateway entry point"
    assert imp["other_tiers"] == {"invocation": 2 * len(entry)}


def test_without_an_entry_point_the_outermost_tier_is_counted() -> None:
    inv = traffic(W, tier="invocation", fmt="lambda_platform")
    app = traffic(W, tier="app", fmt="app_json")
    assert im.counting_tier(pd.concat([app, inv])) == "invocation"
    imp = im.impact(pd.concat([app, inv], ignore_index=True), window=W)
    assert imp["unit"] == "invocations" and imp["counted"].endswith("Lambda invocations (no entry-point access log in the evidence)")
    assert im.impact(app, window=W)["entry_point"] == "application logs"


def test_failed_work_without_a_status_is_a_timeout_or_a_logged_error() -> None:
    t = pd.date_range(W.start, periods=6, freq="1min")
    jobs = pd.DataFrame({"timestamp": t, "status": pd.array([None] * 6, dtype="Int64"), "tier": "invocation",
                         "timed_out": [True, False, False, False, False, False],
                         "logged_error": [False, True, True, False, False, False], "latency_ms": 900.0})
    imp = im.impact(jobs, window=W)
    assert imp["failed_requests"] == 3 and imp["failed_rule"].startswith("timed out, or logged an error")
    assert imp["clients"] is None and imp["failed_clients"] is None


def test_slow_is_above_the_slo_or_the_baseline_p99_and_says_which() -> None:
    base = traffic(B, latency=100.0)
    slow_half = traffic(W).assign(latency_ms=lambda d: np.where(np.arange(len(d)) % 2 == 0, 5000.0, 60.0))
    by_slo = im.impact(slow_half, base, window=W, baseline_window=B, latency_slo_ms=1000)
    assert by_slo["slow_rule"] == "slo" and by_slo["slow_requests"] == len(slow_half) // 2
    assert by_slo["slow_clients"] == slow_half.loc[slow_half["latency_ms"] > 1000, "client_ip"].nunique()
    by_base = im.impact(slow_half, base, window=W, baseline_window=B)
    assert by_base["slow_rule"] == "baseline_p99"
    assert by_base["slow_threshold_ms"] == pytest.approx(base["latency_ms"].quantile(0.99), abs=0.1)
    none = im.impact(slow_half, window=W)
    assert none["slow_rule"] == "none" and none["slow_requests"] is None and "latency_slo_ms" in none["slow_rule_text"]
    with pytest.raises(ParameterError):
        im.impact(slow_half, window=W, latency_slo_ms=-5)


def test_only_requests_inside_the_window_are_counted() -> None:
    before = traffic(Window(W.start - pd.Timedelta(minutes=10), W.start))
    imp = im.impact(pd.concat([before, traffic(W)], ignore_index=True), window=W)
    assert imp["requests"] == 90 * 30 and imp["outside_window"] == len(before)


def test_an_outage_that_recovers_has_onset_peak_and_recovery() -> None:
    base = traffic(B)
    bad = traffic(W, bad=lambda m: 0.6 if 20 <= m < 40 else (0.9 if m == 30 else 0.0))
    imp = im.impact(bad, base, window=W, baseline_window=B, latency_slo_ms=1000)
    assert imp["onset"] == "2026-03-10T02:50:00Z"
    assert "2026-03-10T02:50:00Z" <= imp["peak"] < "2026-03-10T03:10:00Z"
    assert imp["recovered"] == "2026-03-10T03:10:00Z" and imp["ongoing"] is False
    assert imp["duration_s"] == 20 * 60


def test_failures_to_the_end_of_the_window_are_not_a_recovery() -> None:
    bad = traffic(W, bad=lambda m: 0.5 if m >= 60 else 0.0)
    imp = im.impact(bad, traffic(B), window=W, baseline_window=B, latency_slo_ms=1000)
    assert imp["onset"] == "2026-03-10T03:30:00Z" and imp["recovered"] is None and imp["ongoing"] is True
    assert imp["duration_s"] == 30 * 60


def test_work_that_stops_is_not_a_recovery() -> None:
    """A batch job failing every invocation and then aborted does no work: no traffic is not a calm."""
    failing = traffic(Window(W.start, W.start + pd.Timedelta(minutes=10)), tier="invocation", fmt="lambda_platform",
                      bad=lambda m: 1.0)
    trickle = traffic(Window(W.start + pd.Timedelta(minutes=30), W.end), per_min=1, tier="invocation", fmt="lambda_platform")
    base = traffic(B, tier="invocation", fmt="lambda_platform")
    imp = im.impact(pd.concat([failing, trickle], ignore_index=True), base, window=W, baseline_window=B, latency_slo_ms=1000)
    assert imp["onset"] == "2026-03-10T02:30:00Z" and imp["recovered"] is None


def test_healthy_traffic_has_no_onset() -> None:
    imp = im.impact(traffic(W, bad=lambda m: 0.01), traffic(B, bad=lambda m: 0.01, seed=2), window=W, baseline_window=B,
                    latency_slo_ms=1000)
    assert imp["onset"] is None and imp["duration_s"] is None and imp["recovered"] is None


def test_nothing_to_count() -> None:
    imp = im.impact(None, window=W)
    assert imp["requests"] == 0 and imp["note"].startswith("no request-level logs")
    assert set(im.IMPACT_KEYS) <= set(imp)


@pytest.mark.parametrize("value", ["-5", "0", "inf"])
def test_a_bad_latency_slo_fails_before_the_run_starts(tmp_path: Any, value: str) -> None:
    with pytest.raises(ParameterError, match="latency_slo_ms"):
        runner.run("triage", {"sample": "cold-start-tail", "latency_slo_ms": value}, out=tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_the_examples_in_the_docstrings_run() -> None:
    result = doctest.testmod(im, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 5 and result.failed == 0
