"""Lambda capacity and failures: concurrency against its limits, gateway failure metrics, failing requests.

The numbers the cold-start findings read, each a pure function of frames (``window``,
``baseline``, ``metrics`` and ``settings`` are read from an :class:`~incidentkit.findings.model.Inputs`-like
object by attribute):

* :func:`in_window` — the rows of a frame inside a window;
* :func:`setting_value` — the largest numeric value of a setting by its alias names
  (:data:`SETTING_ALIASES`: reserved, account, provisioned concurrency; timeouts);
* :func:`metric_total`, :func:`metric_window`, :func:`metric_baseline` — one metric summed over a span;
* :func:`concurrency` — observed Lambda concurrency (``ConcurrentExecutions`` Maximum, else Little's
  law on request durations), its limit and utilisation, throttles, provisioned concurrency;
* :func:`function_name`, :func:`span_minutes` — the function most requests ran on, the minutes covered;
* :func:`failing` — which requests failed, and which by a timeout (5XX, ``timed_out``, 504, the
  gateway's 29 s cap or the function's timeout);
* :func:`gateway_metrics` — API Gateway and Lambda failure metrics of the window and the baseline.

Example
-------
>>> import pandas as pd
>>> req = pd.DataFrame({"status": [200, 504, None], "latency_ms": [120.0, 29_000.0, 28_900.0]})
>>> fail, by_timeout, _ = failing(req)
>>> fail.tolist(), by_timeout.tolist()
([False, True, True], [False, True, True])
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

from ._common import as_utc, flag, select_metric
from .latency import APIGW_INTEGRATION_TIMEOUT_MS, CAP_FRACTION
from .request_timing import request_latency

__all__ = ["SETTING_ALIASES", "in_window", "setting_value", "metric_total", "metric_window", "metric_baseline",
           "concurrency", "function_name", "span_minutes", "failing", "gateway_metrics"]


def in_window(df: pd.DataFrame | None, window: Any) -> pd.DataFrame | None:
    """Rows of ``df`` inside ``window`` (all rows when there is no window or no timestamp)."""
    if df is None or df.empty:
        return None
    if window is None or "timestamp" not in df.columns:
        return df
    t = as_utc(df["timestamp"])
    inside = df[((t >= window.start) & (t < window.end)).to_numpy()]
    return inside if not inside.empty else None


#: Setting names (lower case) by kind, as AWS APIs, CloudFormation and the kit's snapshots spell them.
SETTING_ALIASES = {
    "reserved": ("reservedconcurrentexecutions", "reserved_concurrency", "reservedconcurrency",
                 "reserved_concurrent_executions"),
    "account": ("accountlimit.concurrentexecutions", "concurrentexecutions", "account_concurrency_limit",
                "concurrent_executions_limit", "concurrency_limit"),
    "provisioned": ("provisionedconcurrentexecutions", "allocatedprovisionedconcurrentexecutions",
                    "requestedprovisionedconcurrentexecutions", "provisioned_concurrency"),
    "timeout": ("timeout", "timeout_s", "timeoutseconds", "timeout_seconds", "function_timeout"),
    "integration_timeout": ("timeoutinmillis", "integration_timeout_ms", "integrationtimeout"),
}


def setting_value(settings: pd.DataFrame | None, kind: str) -> tuple[float | None, str | None]:
    """The largest numeric value of a setting (by its alias names) and the resource it is on."""
    if settings is None or settings.empty or not {"setting", "value"} <= set(settings.columns):
        return None, None
    names = settings["setting"].astype("string").str.strip().str.lower()
    hit = settings[names.isin(SETTING_ALIASES[kind]).fillna(False).to_numpy()]
    if hit.empty:
        return None, None
    vals = pd.to_numeric(hit["value"], errors="coerce")
    if vals.notna().sum() == 0:
        return None, None
    i = vals.idxmax()
    res = hit.loc[i, "resource_id"] if "resource_id" in hit.columns else None
    return float(vals.loc[i]), (None if res is None or pd.isna(res) else str(res))


def metric_total(
    metrics: pd.DataFrame | None, namespace: str, names: Sequence[str], stat: Sequence[str],
    start: pd.Timestamp | None, end: pd.Timestamp | None, how: str = "sum", dims: Any = None,
) -> tuple[float | None, Any]:
    """Sum (or max) of one metric in ``[start, end)``, over the dimension set with the largest total."""
    m = select_metric(metrics, namespace, names, stat, start=start, end=end)
    if m.empty:
        return None, None
    m["dimensions"] = m["dimensions"].astype("object").where(m["dimensions"].notna(), "")
    if dims is not None and (m["dimensions"] == dims).any():
        m = m[m["dimensions"] == dims]
    per = m.groupby("dimensions")["value"].agg(how)
    best = per.idxmax()
    return float(per.loc[best]), best


def metric_window(inputs: Any) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    w = getattr(inputs, "window", None)
    return (w.start, w.end) if w is not None else (None, None)


def metric_baseline(inputs: Any) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    b = getattr(inputs, "baseline", None)
    if b is not None:
        return b.start, b.end
    w = getattr(inputs, "window", None)
    if w is not None:
        return None, w.start
    return None, None


def concurrency(inputs: Any, req: pd.DataFrame | None) -> dict[str, Any]:
    """Observed Lambda concurrency (metric ConcurrentExecutions Maximum, else Little's law) and limits."""
    start, end = metric_window(inputs)
    out: dict[str, Any] = {}
    m = select_metric(inputs.metrics, "AWS/Lambda", ("ConcurrentExecutions",), ("Maximum", "Average"), start=start, end=end)
    if not m.empty:
        by_dims = m.groupby(m["dimensions"].astype("object").where(m["dimensions"].notna(), ""))["value"]
        peaks = by_dims.max()
        dims = peaks.idxmax()
        vals = m.loc[m["dimensions"].astype("object").where(m["dimensions"].notna(), "") == dims, "value"]
        out["concurrency_peak"] = float(vals.max())
        out["concurrency_p95"] = float(np.quantile(vals.to_numpy(), 0.95))
        out["concurrency_source"] = "ConcurrentExecutions Maximum"
        bstart, bend = metric_baseline(inputs)
        base = select_metric(inputs.metrics, "AWS/Lambda", ("ConcurrentExecutions",), ("Maximum", "Average"), start=bstart, end=bend)
        if not base.empty:
            out["concurrency_baseline_median"] = float(base["value"].median())
    elif req is not None and "timestamp" in req.columns:
        lat = request_latency(req)
        t = as_utc(req["timestamp"])
        ok = lat.notna() & t.notna()
        if ok.any():
            busy = lat[ok].groupby(t[ok].dt.floor("1min")).sum() / 60_000.0
            out["concurrency_peak"] = float(busy.max())
            out["concurrency_p95"] = float(np.quantile(busy.to_numpy(), 0.95))
            out["concurrency_source"] = "estimated from request durations (Little's law, per minute)"
    reserved, res_fn = setting_value(inputs.settings, "reserved")
    account, _ = setting_value(inputs.settings, "account")
    if reserved is not None:
        out["concurrency_limit"], out["concurrency_limit_source"] = reserved, f"reserved concurrency of {res_fn or 'the function'}"
    elif account is not None:
        out["concurrency_limit"], out["concurrency_limit_source"] = account, "account concurrency limit"
    if "concurrency_limit" in out and out.get("concurrency_peak") is not None and out["concurrency_limit"] > 0:
        out["concurrency_utilisation"] = out["concurrency_peak"] / out["concurrency_limit"]
    throttles, _ = metric_total(inputs.metrics, "AWS/Lambda", ("Throttles",), ("Sum",), start, end)
    if throttles is not None:
        out["lambda_throttles"] = throttles
    prov, _ = setting_value(inputs.settings, "provisioned")
    if prov is not None:
        out["provisioned_concurrency"] = prov
    return out


def function_name(req: pd.DataFrame | None, mask: pd.Series | None = None) -> str | None:
    """The function most of the (masked) requests ran on, when one dominates (>= 80 %)."""
    if req is None or "function_name" not in req.columns:
        return None
    names = req["function_name"] if mask is None else req.loc[mask.to_numpy(), "function_name"]
    counts = names.dropna().value_counts()
    if counts.empty or counts.iloc[0] < 0.8 * counts.sum():
        return None
    return str(counts.index[0])


def span_minutes(times: pd.Series, window: Any) -> float | None:
    """Minutes covered: the window's length, else the data's span."""
    if window is not None:
        return window.duration / pd.Timedelta(minutes=1)
    t = as_utc(times).dropna()
    if len(t) < 2:
        return None
    return (t.max() - t.min()) / pd.Timedelta(minutes=1) or None


def failing(req: pd.DataFrame, timeout_s: float | None = None) -> tuple[pd.Series, pd.Series, pd.Series]:
    """(failing, failing by timeout, latency) per request.

    Failing: 5XX, timed out, or (without a status) at API Gateway's 29 s cap. A timeout:
    ``timed_out``, a 504, an ``error_type`` saying "timed out", a latency at the gateway
    cap, or a latency at the function timeout (``timeout_s``) when it is known.
    """
    idx = req.index
    status = pd.to_numeric(req["status"], errors="coerce") if "status" in req.columns else pd.Series(np.nan, index=idx)
    timed_out = flag(req["timed_out"], idx) if "timed_out" in req.columns else pd.Series(False, index=idx)
    if "error_type" in req.columns:
        timed_out = timed_out | req["error_type"].astype("string").str.contains(r"timed? ?out", case=False, regex=True).fillna(False).astype(bool)
    lat = request_latency(req)
    at_cap = (lat >= CAP_FRACTION * APIGW_INTEGRATION_TIMEOUT_MS).fillna(False).astype(bool)
    if timeout_s:
        at_cap = at_cap | (lat >= CAP_FRACTION * timeout_s * 1000.0).fillna(False).astype(bool)
    fail = (status >= 500).fillna(False).astype(bool) | timed_out | (status.isna() & at_cap)
    timeout_like = timed_out | at_cap | status.isin([504]).fillna(False).astype(bool)
    return fail, timeout_like & fail, lat


def gateway_metrics(inputs: Any) -> dict[str, Any]:
    """API Gateway / Lambda failure metrics in the window (and the baseline), as evidence."""
    out: dict[str, Any] = {}
    if getattr(inputs, "metrics", None) is None or inputs.metrics.empty:
        return out
    start, end = metric_window(inputs)
    count, dims = metric_total(inputs.metrics, "AWS/ApiGateway", ("Count",), ("Sum", "SampleCount"), start, end)
    errs, _ = metric_total(inputs.metrics, "AWS/ApiGateway", ("5XXError", "5xx", "5XX"), ("Sum",), start, end, dims=dims)
    if count and errs is not None:
        out["apigw_requests"], out["apigw_5xx"], out["apigw_5xx_rate"] = count, errs, errs / count
        bstart, bend = metric_baseline(inputs)
        bcount, _ = metric_total(inputs.metrics, "AWS/ApiGateway", ("Count",), ("Sum", "SampleCount"), bstart, bend, dims=dims)
        berrs, _ = metric_total(inputs.metrics, "AWS/ApiGateway", ("5XXError", "5xx", "5XX"), ("Sum",), bstart, bend, dims=dims)
        if bcount and berrs is not None:
            out["baseline_apigw_requests"], out["baseline_apigw_5xx"] = bcount, berrs
    il = select_metric(inputs.metrics, "AWS/ApiGateway", ("IntegrationLatency",), ("Maximum",), start=start, end=end)
    if not il.empty:
        cap = CAP_FRACTION * APIGW_INTEGRATION_TIMEOUT_MS
        out["integration_latency_max_ms"] = float(il["value"].max())
        out["integration_latency_points_at_cap"] = int((il["value"] >= cap).sum())
    inv, ldims = metric_total(inputs.metrics, "AWS/Lambda", ("Invocations",), ("Sum",), start, end)
    lerr, _ = metric_total(inputs.metrics, "AWS/Lambda", ("Errors",), ("Sum",), start, end, dims=ldims)
    if inv and lerr is not None:
        out["lambda_invocations"], out["lambda_errors"], out["lambda_error_rate"] = inv, lerr, lerr / inv
    dmax, _ = metric_total(inputs.metrics, "AWS/Lambda", ("Duration",), ("Maximum",), start, end, how="max")
    if dmax is not None:
        out["lambda_duration_max_ms"] = dmax
    return out
