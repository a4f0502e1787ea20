"""Impact: what users saw, each request counted once — the numbers a postmortem quotes.

A request leaves rows at several tiers (:func:`incidentkit.parse.requests`): the entry
point's access log, the function invocations it caused, application lines. Impact counts
**one tier**: the entry tier when an entry point's access log is in the evidence (API
Gateway, ALB, other access logs), else the outermost tier present (Lambda invocations,
then application lines), and it says which (``counted``: "1,511 requests at the API
Gateway entry point").

Rules
-----
* **failed**: the status the client got is 4xx or 5xx; where no status was logged (an
  invocation of a batch job, a queue consumer), the work timed out or logged an error
  (ERROR/FATAL, an exception, a platform error such as ``Runtime.OutOfMemory``).
* **slow**: latency above ``latency_slo_ms`` when given, else above the baseline window's
  P99 at the same tier; neither: slow requests are not counted (``None``) and
  ``slow_rule`` says why.
* **clients**: distinct client IPs (a proxy for users when the logs carry no user id).
* **onset / peak / recovered**: the requests in the window are cut into bins (wide enough
  for about 20 requests each, at least a minute, at most 60 bins a window); a bin is
  *elevated* when its failed-or-slow share is above the reference share (the baseline's,
  else the median bin's) with a binomial p-value below 0.01 divided by the number of bins.
  ``onset`` is the start of the first elevated bin, ``peak`` that of the bin with the most
  failed-or-slow requests above the reference, ``recovered`` the end of the last elevated
  bin when at least 3 later bins carry traffic at half the reference rate or more (no
  traffic is not a recovery: a job that aborted does no work), else ``None``.
  ``duration_s`` runs from the onset to the recovery, or to the end of the window.
* Only requests whose time falls inside the window count ("in the window" means exactly
  that window; ``outside_window`` says how many were left out).

Keys of the result (stable; ``findings.json`` writes them as ``impact``)
------------------------------------------------------------------------
``entry_point``      what was counted: ``"API Gateway access log"``, ``"ALB access log"``,
                     ``"access log"``, ``"Lambda invocations"``, ``"application logs"``
``tier``             ``entry``, ``invocation`` or ``app``; ``unit``: ``requests`` or ``invocations``
``counted``          the sentence: "1,511 requests at the API Gateway entry point"
``sources``          the log groups counted; ``other_tiers``: rows of other tiers left out, by tier
``requests``         requests (or invocations) in the window
``failed_requests``, ``failed_share``, ``failed_5xx``, ``failed_4xx``, ``timed_out``, ``failed_rule``
``slow_requests``, ``slow_share``, ``slow_threshold_ms``, ``slow_rule`` (``slo`` | ``baseline_p99`` | ``none``),
``slow_rule_text``
``clients``, ``failed_clients``, ``slow_clients``   (``None`` when no client IP was logged)
``p50_ms``, ``p99_ms``
``baseline``         ``{"requests", "failed_requests", "failed_share", "p99_ms", "bad_share"}`` at the same tier, or ``None``
``excess_failed``    failed requests above the baseline failure share
``onset``, ``peak``, ``recovered``   ISO-8601 UTC times (``None`` when not found / not recovered)
``peak_share``       failed-or-slow share of the peak bin; ``bin_s`` the bin width; ``reference_share``
``duration_s``, ``ongoing``          (``ongoing``: not recovered inside the window)
``by_version``       ``[{"version", "requests", "failed", "failed_share", "slow", "failed_clients"}]``, most failures first (8)
``outside_window``   requests of the frame outside the window, not counted
``note``             only when there is nothing to count: why

Example
-------
>>> import pandas as pd
>>> t = pd.date_range("2026-03-10T02:30Z", periods=120, freq="30s")
>>> req = pd.DataFrame({"timestamp": t, "status": [503 if 40 <= i < 60 else 200 for i in range(120)],
...                     "latency_ms": 50.0, "client_ip": [f"10.0.0.{i % 9}" for i in range(120)],
...                     "tier": "entry", "tier_format": "alb_access", "log_group": "/alb/web"})
>>> imp = impact(req, window=(t[0], t[0] + pd.Timedelta("1h")), latency_slo_ms=1000)
>>> imp["counted"], imp["failed_requests"], imp["failed_share"], imp["slow_requests"]
('120 requests at the ALB entry point', 20, 0.1667, 0)
>>> imp["onset"], imp["peak"], imp["recovered"], imp["duration_s"]
('2026-03-10T02:50:00Z', '2026-03-10T02:50:00Z', '2026-03-10T03:00:00Z', 600.0)
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np
import pandas as pd

from .._util.fmt import ms as fmt_ms
from ..errors import ParameterError
from ._common import NICE_BINS, as_text, as_utc, binom_sf, flag, iso_z

__all__ = ["IMPACT_KEYS", "counting_tier", "counted", "failed_mask", "slow_threshold", "impact", "describe"]

#: The keys of :func:`impact` that ``findings.json`` promises (design.md).
IMPACT_KEYS = ("entry_point", "requests", "failed_requests", "failed_share", "slow_requests", "clients", "failed_clients",
               "slow_clients", "onset", "peak", "recovered", "duration_s")

_TIERS = ("entry", "invocation", "app")
_ENTRY_NAMES = {"apigw_access": "API Gateway", "apigw_execution": "API Gateway", "alb_access": "ALB", "clf_access": "access log"}
#: Requests a bin should hold on average, so that one failure moves its share by 5 % at most.
REQUESTS_PER_BIN = 20
#: Family-wise significance of "this bin is elevated" over all bins of the window.
ALPHA = 0.01
#: Later bins with traffic needed before a recovery is called (a calm that was observed).
CALM_BINS = 3
#: Traffic after the episode, against the reference rate, for the calm to count as recovery.
TRAFFIC_BACK = 0.5


def _window(window: Any) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    if window is None:
        return None
    if hasattr(window, "start") and hasattr(window, "end"):
        start, end = window.start, window.end
    elif isinstance(window, Mapping):
        start, end = window["start"], window["end"]
    else:
        start, end = window
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    start = start.tz_localize("UTC") if start.tzinfo is None else start.tz_convert("UTC")
    end = end.tz_localize("UTC") if end.tzinfo is None else end.tz_convert("UTC")
    return start, end


def _num(x: Any, digits: int = 4) -> Any:
    if x is None:
        return None
    x = float(x)
    return None if math.isnan(x) or math.isinf(x) else round(x, digits)


def counting_tier(requests: pd.DataFrame | None) -> str | None:
    """The tier impact counts: ``entry`` when present, else the outermost tier present.

    Example
    -------
    >>> counting_tier(pd.DataFrame({"tier": ["invocation", "app", "invocation"]}))
    'invocation'
    """
    if requests is None or len(requests) == 0:
        return None
    if "tier" not in requests.columns:
        return "entry"  # a frame built without tiers: every row is taken as a request the caller made
    present = {str(t) for t in requests["tier"].dropna().unique()}  # the distinct tiers, not one Python str per row
    return next((t for t in _TIERS if t in present), None)


def counted(requests: pd.DataFrame | None, *, tier: str | None = None, window: Any = None) -> pd.DataFrame | None:
    """The requests impact counts: the rows at ``tier`` (default :func:`counting_tier`),
    inside ``window`` when given (``None`` and an empty frame come back as they are).

    Example
    -------
    >>> df = pd.DataFrame({"tier": ["entry", "invocation"], "timestamp": pd.to_datetime(["2026-03-10T02:31Z"] * 2)})
    >>> len(counted(df))
    1
    """
    if requests is None or len(requests) == 0:
        return requests
    tier = tier or counting_tier(requests)
    keep = np.ones(len(requests), dtype=bool)
    if "tier" in requests.columns and tier is not None:
        keep &= (requests["tier"].astype("string") == tier).fillna(False).to_numpy(dtype=bool)
    bounds = _window(window)
    if bounds is not None and "timestamp" in requests.columns:
        t = as_utc(requests["timestamp"])
        keep &= ((t >= bounds[0]) & (t < bounds[1])).fillna(False).to_numpy(dtype=bool)
    return requests.loc[keep]


def failed_mask(requests: pd.DataFrame) -> pd.Series:
    """Which requests failed: status 4xx/5xx; without a status, a timeout or a logged error.

    Example
    -------
    >>> df = pd.DataFrame({"status": pd.array([200, 503, None, None], dtype="Int64"),
    ...                    "timed_out": [False, False, True, False], "logged_error": [True, False, False, True]})
    >>> failed_mask(df).tolist()
    [False, True, True, True]
    """
    idx = requests.index
    status = pd.to_numeric(requests["status"], errors="coerce") if "status" in requests else pd.Series(np.nan, index=idx)
    timed = flag(requests["timed_out"], idx) if "timed_out" in requests else pd.Series(False, index=idx)
    logged = flag(requests["logged_error"], idx) if "logged_error" in requests else pd.Series(False, index=idx)
    out = np.where(status.notna().to_numpy(), (status >= 400).fillna(False).to_numpy(dtype=bool),
                   (timed | logged).to_numpy(dtype=bool))
    return pd.Series(out.astype(bool), index=idx)


def _latency(df: pd.DataFrame) -> pd.Series:
    if "latency_ms" not in df:
        return pd.Series(np.nan, index=df.index, dtype="float64")
    return pd.to_numeric(df["latency_ms"], errors="coerce").astype("float64")


def slow_threshold(baseline: pd.DataFrame | None, latency_slo_ms: float | None = None) -> tuple[float | None, str, str]:
    """``(threshold_ms, rule, text)``: the SLO when given, else the baseline's P99, else none.

    Example
    -------
    >>> slow_threshold(None, 300)
    (300.0, 'slo', 'latency above the latency SLO of 300 ms')
    >>> slow_threshold(None, 2500)[2]  # as the report writes latencies: seconds from one second
    'latency above the latency SLO of 2.5 s'
    >>> slow_threshold(None)[1]
    'none'
    """
    if latency_slo_ms is not None:
        slo = float(latency_slo_ms)
        if not math.isfinite(slo) or slo <= 0:
            raise ParameterError(f"latency_slo_ms must be a positive number of milliseconds, got {latency_slo_ms!r}")
        return slo, "slo", f"latency above the latency SLO of {fmt_ms(slo)}"
    lat = _latency(baseline).dropna() if baseline is not None and len(baseline) else pd.Series([], dtype="float64")
    if len(lat):
        p99 = float(lat.quantile(0.99))
        return p99, "baseline_p99", f"latency above the baseline's P99, {fmt_ms(p99)}"
    return None, "none", "not counted: no latency_slo_ms was given and the baseline window holds no latencies at this tier"


def _bin_width(n: int, start: pd.Timestamp, end: pd.Timestamp) -> pd.Timedelta:
    span = end - start
    want = max(pd.Timedelta(minutes=1), span / 60, span * (REQUESTS_PER_BIN / max(n, 1)))
    return next((b for b in NICE_BINS if b >= want), NICE_BINS[-1])


def _bins(df: pd.DataFrame, bad: pd.Series, start: pd.Timestamp, end: pd.Timestamp, width: pd.Timedelta) -> pd.DataFrame:
    t = as_utc(df["timestamp"])
    pos = ((t - start) // width).to_numpy(dtype="int64")
    n_bins = max(1, int(math.ceil((end - start) / width)))
    n = np.bincount(pos, minlength=n_bins)[:n_bins]
    k = np.bincount(pos, weights=bad.to_numpy(dtype=float), minlength=n_bins)[:n_bins]
    return pd.DataFrame({"start": [start + i * width for i in range(n_bins)], "n": n, "k": k.astype(int)})


def _reference(bins: pd.DataFrame, baseline_bad: tuple[int, int] | None) -> tuple[float, str]:
    """The failed-or-slow share a calm bin shows: the baseline's (smoothed so a clean
    baseline is not a share of exactly 0), else the median bin's."""
    if baseline_bad is not None and baseline_bad[1] > 0:
        k, n = baseline_bad
        return (k + 0.5) / (n + 1), "baseline"
    busy = bins[bins["n"] > 0]
    if busy.empty:
        return 0.0, "none"
    share = float(np.median(busy["k"] / busy["n"]))
    return max(share, 0.5 / (float(busy["n"].median()) + 1)), "median bin of the window"


def _episode(bins: pd.DataFrame, ref: float, ref_rate: float, end: pd.Timestamp, width: pd.Timedelta) -> dict[str, Any]:
    """Onset, peak and recovery from per-bin counts against the reference share ``ref`` and
    the reference traffic ``ref_rate`` (requests a bin), see the module docstring."""
    busy = int((bins["n"] > 0).sum())
    alpha = ALPHA / max(busy, 1)
    p = [binom_sf(int(k), int(n), ref) if n > 0 and k > ref * n else 1.0 for k, n in zip(bins["k"], bins["n"])]
    elevated = np.asarray(p) < alpha
    out: dict[str, Any] = {"onset": None, "peak": None, "recovered": None, "peak_share": None, "duration_s": None, "ongoing": None}
    if not elevated.any():
        return out
    excess = (bins["k"] - ref * bins["n"]).where(elevated, -np.inf)
    first, peak, last = int(np.flatnonzero(elevated)[0]), int(excess.to_numpy().argmax()), int(np.flatnonzero(elevated)[-1])
    onset = bins["start"].iat[first]
    out.update(onset=iso_z(onset), peak=iso_z(bins["start"].iat[peak]),
               peak_share=_num(bins["k"].iat[peak] / bins["n"].iat[peak]))
    after = bins.iloc[last + 1:]
    after = after[after["n"] > 0]
    back = len(after) >= CALM_BINS and after["n"].mean() >= TRAFFIC_BACK * ref_rate  # a calm that carries traffic
    recovered = bins["start"].iat[last] + width if back else None
    out["recovered"] = iso_z(recovered) if recovered is not None else None
    out["duration_s"] = _num(((recovered if recovered is not None else end) - onset).total_seconds(), 1)
    out["ongoing"] = recovered is None
    return out


def _clients(df: pd.DataFrame, *masks: pd.Series | None) -> list[int | None]:
    if "client_ip" not in df or not df["client_ip"].notna().any():
        return [None] * (1 + len(masks))
    ips = df["client_ip"].astype("string")
    return [int(ips.nunique(dropna=True))] + [None if m is None else int(ips[m.to_numpy(dtype=bool)].nunique(dropna=True)) for m in masks]


def _by_version(df: pd.DataFrame, failed: pd.Series, slow: pd.Series | None) -> list[dict[str, Any]]:
    if "app_version" not in df or not df["app_version"].notna().any():
        return []
    g = pd.DataFrame({"version": as_text(df["app_version"]).fillna("(unknown)"), "failed": failed.astype(int),
                      "slow": (slow if slow is not None else pd.Series(False, index=df.index)).astype(int)})
    g["client"] = df["client_ip"].astype("string") if "client_ip" in df else pd.NA
    rows = []
    for ver, part in g.groupby("version", sort=False):
        rows.append({"version": str(ver), "requests": int(len(part)), "failed": int(part["failed"].sum()),
                     "failed_share": _num(part["failed"].mean()), "slow": int(part["slow"].sum()) if slow is not None else None,
                     "failed_clients": int(part.loc[part["failed"] == 1, "client"].nunique(dropna=True))})
    rows.sort(key=lambda x: (-x["failed"], -x["requests"], x["version"]))
    return rows[:8]


def _entry_point(df: pd.DataFrame, tier: str) -> str:
    if tier == "invocation":
        return "Lambda invocations"
    if tier == "app":
        return "application logs"
    fmts = df["tier_format"].dropna().astype(str).unique() if "tier_format" in df else []
    names = sorted({_ENTRY_NAMES.get(f, "access log") for f in fmts}) or ["access log"]
    return " and ".join(names) + (" access log" if names != ["access log"] else "")


def describe(imp: Mapping[str, Any]) -> str:
    """What an impact counted, as a phrase: "1,511 requests at the API Gateway entry point".

    Example
    -------
    >>> describe({"requests": 716, "tier": "invocation", "entry_point": "Lambda invocations"})
    '716 Lambda invocations (no entry-point access log in the evidence)'
    """
    n = int(imp.get("requests") or 0)
    tier = imp.get("tier")
    if tier == "invocation":
        return f"{n:,} Lambda invocations (no entry-point access log in the evidence)"
    if tier == "app":
        return f"{n:,} requests in the application logs (no entry-point access log in the evidence)"
    where = str(imp.get("entry_point") or "access log").replace(" access log", "")
    return f"{n:,} requests at the {where} entry point"


def impact(requests: pd.DataFrame | None, baseline_requests: pd.DataFrame | None = None, *, window: Any = None,
           baseline_window: Any = None, latency_slo_ms: float | None = None) -> dict[str, Any]:
    """Failed and slow requests and clients, onset, peak, recovery and duration, counted once.

    Parameters
    ----------
    requests, baseline_requests:
        Frames of :func:`incidentkit.parse.requests` for the incident and the baseline.
    window, baseline_window:
        The windows they cover (a Window, a ``{"start", "end"}`` mapping or a pair): only
        requests inside are counted; without ``window`` the frame's span is used.
    latency_slo_ms:
        A latency objective: slow means above it (default: above the baseline's P99).

    Returns
    -------
    dict
        JSON-able; the keys are listed in the module docstring.
    """
    tier = counting_tier(requests)
    if tier is None:
        return {"entry_point": None, "requests": 0, "failed_requests": None, "failed_share": None, "slow_requests": None,
                "clients": None, "failed_clients": None, "slow_clients": None, "onset": None, "peak": None, "recovered": None,
                "duration_s": None, "note": "no request-level logs in the evidence: impact in requests is unknown"}
    assert requests is not None
    bounds = _window(window)
    if bounds is None:
        t = as_utc(requests["timestamp"]).dropna()
        bounds = (t.min(), t.max() + pd.Timedelta(microseconds=1)) if len(t) else (pd.Timestamp(0, tz="UTC"),) * 2
    at_tier = counted(requests, tier=tier)
    df = counted(at_tier, tier=tier, window=bounds)
    base = counted(baseline_requests, tier=tier, window=baseline_window) if baseline_requests is not None else None
    threshold, rule, rule_text = slow_threshold(base if base is not None and len(base) else None, latency_slo_ms)
    failed = failed_mask(df)
    status = pd.to_numeric(df["status"], errors="coerce") if "status" in df else pd.Series(np.nan, index=df.index)
    slow = (_latency(df) > threshold) if threshold is not None else None
    n = int(len(df))
    lat = _latency(df).dropna()
    out: dict[str, Any] = {
        "entry_point": _entry_point(df if len(df) else at_tier, tier), "tier": tier,
        "unit": "invocations" if tier == "invocation" else "requests",
        "sources": sorted(str(x) for x in df["log_group"].dropna().unique()) if "log_group" in df else [],
        "other_tiers": {str(k): int(v) for k, v in requests["tier"].value_counts().items() if k != tier} if "tier" in requests else {},
        "requests": n, "failed_requests": int(failed.sum()), "failed_share": _num(failed.mean()) if n else None,
        "failed_5xx": int((((status >= 500).fillna(False)) | (status.isna() & failed)).sum()),
        "failed_4xx": int(((status >= 400) & (status < 500)).fillna(False).sum()),
        "timed_out": int(flag(df["timed_out"], df.index).sum()) if "timed_out" in df else 0,
        "failed_rule": ("status 4xx or 5xx; where no status was logged, a timeout or a logged error" if status.notna().any()
                        else "timed out, or logged an error (ERROR/FATAL, an exception, a platform error)"),
        "slow_requests": int(slow.sum()) if slow is not None else None,
        "slow_share": _num(slow.mean()) if slow is not None and n else None,
        "slow_threshold_ms": _num(threshold, 1), "slow_rule": rule, "slow_rule_text": rule_text,
        "p50_ms": _num(lat.quantile(0.5), 1) if len(lat) else None, "p99_ms": _num(lat.quantile(0.99), 1) if len(lat) else None,
        "outside_window": int(len(at_tier) - n),
    }
    out["counted"] = describe(out)
    out["clients"], out["failed_clients"], out["slow_clients"] = _clients(df, failed, slow)
    out.update(_baseline_part(base, threshold, out))
    out["by_version"] = _by_version(df, failed, slow)
    bad = failed | (slow if slow is not None else False)
    out.update(_timing(df, bad, bounds, base, baseline_window, threshold))
    return out


def _baseline_part(base: pd.DataFrame | None, threshold: float | None, out: Mapping[str, Any]) -> dict[str, Any]:
    if base is None or not len(base):
        return {"baseline": None, "excess_failed": None}
    bf = failed_mask(base)
    blat = _latency(base).dropna()
    bslow = (_latency(base) > threshold) if threshold is not None else pd.Series(False, index=base.index)
    b = {"requests": int(len(base)), "failed_requests": int(bf.sum()), "failed_share": _num(bf.mean()),
         "p99_ms": _num(blat.quantile(0.99), 1) if len(blat) else None, "bad_share": _num((bf | bslow).mean())}
    excess = out["failed_requests"] - float(bf.mean()) * out["requests"]
    return {"baseline": b, "excess_failed": int(max(0, round(excess)))}


def _timing(df: pd.DataFrame, bad: pd.Series, bounds: tuple[pd.Timestamp, pd.Timestamp], base: pd.DataFrame | None,
            baseline_window: Any, threshold: float | None) -> dict[str, Any]:
    start, end = bounds
    if not len(df) or end <= start:
        return {"onset": None, "peak": None, "recovered": None, "peak_share": None, "duration_s": None, "ongoing": None,
                "bin_s": None, "reference_share": None}
    width = _bin_width(len(df), start, end)
    bins = _bins(df, bad, start, end, width)
    base_bad = None
    ref_rate = None
    if base is not None and len(base):
        bslow = (_latency(base) > threshold) if threshold is not None else pd.Series(False, index=base.index)
        base_bad = (int((failed_mask(base) | bslow).sum()), int(len(base)))
        bw = _window(baseline_window)
        span = (bw[1] - bw[0]) if bw is not None else (end - start)
        ref_rate = len(base) / max(span / width, 1e-9)
    ref, ref_from = _reference(bins, base_bad)
    if ref_rate is None:
        ref_rate = float(bins["n"].mean())
    out = _episode(bins, ref, ref_rate, end, width)
    out.update(bin_s=int(width.total_seconds()), reference_share=_num(ref), reference=ref_from)
    return out
