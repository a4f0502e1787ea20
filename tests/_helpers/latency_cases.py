"""Evidence frames shared by the latency analysis tests and the tests of the detectors built on them."""

from __future__ import annotations

import json
import math
import numpy as np
import pandas as pd
from incidentkit.window import Window


T0 = pd.Timestamp("2026-03-01T00:00:00Z")


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
