"""Errors: error rate by status class over time, by app version, and whether a skew starts at a change.

* :func:`error_rate` — counts and rates of 2xx/3xx/4xx/5xx per time bin;
* :func:`by_version` — per app version: traffic share vs error share, lift, error rate
  with its Wilson interval, and a two-proportion z-test against the other versions;
* :func:`skew_onset` — when a version's errors began (best single change point) and
  whether they start at the nearest preceding deployment/config change (error rate
  before vs after it).

Detector: :func:`detect_version_skew_errors` — ``version-skew-errors`` (incidents.md #1).

Example
-------
>>> import pandas as pd
>>> req = pd.DataFrame({"app_version": ["2.9.0"] * 6 + ["3.0.1"] * 4,
...                     "status": [403, 403, 403, 200, 403, 403, 200, 200, 200, 201]})
>>> r = by_version(req).set_index("version").loc["2.9.0"]
>>> int(r["errors"]), float(r["error_share"]), float(r["traffic_share"])
(5, 1.0, 0.6)
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ._common import (
    UTC_NS,
    as_utc,
    auto_bin,
    benjamini_hochberg,
    bin_floor,
    fmt_p,
    pct,
    severity_for_share,
    status_class,
    flag,
    to_timedelta,
    two_proportion_z,
    wilson_interval,
)
from ..parse.useragent import version_from_user_agent
from .change_words import blameless_actor, when_text
from ..findings.model import Finding
from .impact import counted
from .onset import preceding_changes
from .related import ChangeSpec, related_changes, sentence, targets_from
from .related import evidence as related_evidence

__all__ = ["error_rate", "by_version", "skew_onset", "error_mask", "version_family", "detect_version_skew_errors",
           "VERSION_SKEW_CHANGES"]

UNKNOWN = "(unknown)"
ErrorSpec = "None | str | int | Iterable[int] | Callable[[pd.DataFrame], pd.Series]"


def error_mask(df: pd.DataFrame, error: Any = None, *, status: str = "status") -> pd.Series:
    """Which rows are errors.

    ``error`` is ``None`` (status >= 400, or a timeout without a status), a status class
    (``"4xx"``, ``"5xx"``), a code (``403``) or codes (``[502, 504]``), or a callable
    taking the frame and returning a boolean mask.

    Example
    -------
    >>> df = pd.DataFrame({"status": [200, 403, 503, None]}, dtype="Int64")
    >>> error_mask(df).tolist(), error_mask(df, "5xx").tolist(), error_mask(df, 403).tolist()
    ([False, True, True, False], [False, False, True, False], [False, True, False, False])
    """
    idx = df.index
    if callable(error):
        return pd.Series(np.asarray(error(df), dtype=bool), index=idx)
    codes = pd.to_numeric(df[status], errors="coerce") if status in df.columns else pd.Series(np.nan, index=idx)
    timed_out = flag(df["timed_out"], idx) if "timed_out" in df.columns else pd.Series(False, index=idx)
    if error is None:
        m = (codes >= 400).fillna(False).astype(bool) | (codes.isna() & timed_out)
    elif isinstance(error, str):
        cls = error.strip().lower()
        if len(cls) != 3 or not cls.endswith("xx") or not cls[0].isdigit():
            raise ValueError(f"error class {error!r} must look like '4xx' or '5xx'")
        m = (status_class(codes) == cls)
        if cls == "5xx":
            m |= codes.isna() & timed_out
    elif isinstance(error, (int, np.integer)):
        m = (codes == int(error)).fillna(False)
    else:
        m = codes.isin([int(c) for c in error]).fillna(False)
    return pd.Series(np.asarray(m, dtype=bool), index=idx)


def _error_label(error: Any) -> str:
    if error is None:
        return "4xx/5xx"
    if callable(error):
        return getattr(error, "__name__", "custom")
    if isinstance(error, (str, int, np.integer)):
        return str(error)
    return "/".join(str(c) for c in error)


def error_rate(
    df: pd.DataFrame | None,
    *,
    by: str | pd.Timedelta | int | None = None,
    status: str = "status",
    time: str = "timestamp",
    groupby: str | Sequence[str] | None = None,
    window: Any = None,
    timeouts_as_5xx: bool = True,
) -> pd.DataFrame:
    """Requests, counts by status class, and rates per time bin.

    Parameters
    ----------
    df:
        One row per request with a ``status`` column (HTTP code).
    by:
        Bin width; ``None`` picks ~60-200 bins over the window or the data's span.
    groupby:
        Extra split columns (``app_version``, ``route``...).
    window:
        Align bins to this window's start and span it.
    timeouts_as_5xx:
        A request without a status but marked ``timed_out`` counts as 5xx (the caller got
        a gateway 504); otherwise it counts as ``other``.

    Returns
    -------
    DataFrame
        ``timestamp``, the group columns, ``requests, n_2xx, n_3xx, n_4xx, n_5xx, n_other,
        rate_2xx, rate_3xx, rate_4xx, rate_5xx, error_rate`` (4xx + 5xx over requests).
        Without ``groupby`` every bin of the range is present (``requests`` 0, rates NaN).

    Example
    -------
    >>> req = pd.DataFrame({"timestamp": pd.to_datetime(["2026-03-01T03:00:05Z"] * 4, utc=True),
    ...                     "status": [200, 200, 503, 404]})
    >>> error_rate(req, by="1min")[["requests", "n_5xx", "error_rate"]].values.tolist()
    [[4.0, 1.0, 0.5]]
    """
    groups = [groupby] if isinstance(groupby, str) else list(groupby or [])
    classes = ["2xx", "3xx", "4xx", "5xx"]
    columns = ["timestamp", *groups, "requests", *[f"n_{c}" for c in classes], "n_other",
               *[f"rate_{c}" for c in classes], "error_rate"]
    empty = pd.DataFrame({c: pd.Series([], dtype=UTC_NS if c == "timestamp" else ("object" if c in groups else "float64")) for c in columns})
    if df is None or df.empty or time not in df.columns or any(g not in df.columns for g in groups):
        return empty
    t = as_utc(df[time])
    keep = t.notna()
    if window is not None:
        keep &= (t >= window.start) & (t < window.end)
    if not keep.any():
        return empty
    sub = df[keep.to_numpy()]
    t = t[keep]
    cls = status_class(sub[status]) if status in sub.columns else pd.Series("(none)", index=sub.index)
    if timeouts_as_5xx and "timed_out" in sub.columns:
        cls = cls.where(~((cls == "(none)") & flag(sub["timed_out"], sub.index)), "5xx")
    cls = cls.where(cls.isin(classes), "other")
    if by is None:
        start, end = (window.start, window.end) if window is not None else (t.min(), t.max())
        width = auto_bin(start, end)
    else:
        width = to_timedelta(by)
    origin = window.start if window is not None else None
    work = pd.DataFrame({"timestamp": bin_floor(t, width, origin), "cls": cls.to_numpy()}, index=sub.index)
    for g in groups:
        work[g] = sub[g]
    counts = pd.crosstab([work[k] for k in ["timestamp", *groups]], work["cls"]) if len(work) else None
    counts = counts.reindex(columns=[*classes, "other"], fill_value=0)
    counts.columns = [f"n_{c}" for c in classes] + ["n_other"]
    if not groups:
        if window is not None:
            last = bin_floor(pd.Series([window.end - pd.Timedelta(1)]), width, origin).iloc[0]
            full = pd.date_range(window.start, last, freq=width)
        else:
            full = pd.date_range(counts.index.min(), counts.index.max(), freq=width)
        counts = counts.reindex(full, fill_value=0)
        counts.index.name = "timestamp"
    out = counts.reset_index()
    n_cols = [f"n_{c}" for c in classes] + ["n_other"]
    out[n_cols] = out[n_cols].astype("float64")
    out["requests"] = out[n_cols].sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        for c in classes:
            out[f"rate_{c}"] = np.where(out["requests"] > 0, out[f"n_{c}"] / out["requests"], np.nan)
        out["error_rate"] = np.where(out["requests"] > 0, (out["n_4xx"] + out["n_5xx"]) / out["requests"], np.nan)
    out["timestamp"] = as_utc(out["timestamp"])
    out = out[columns].sort_values(["timestamp", *groups], kind="stable").reset_index(drop=True)
    out.attrs["bin"] = str(width)
    return out


def by_version(
    requests: pd.DataFrame | None,
    *,
    version: str = "app_version",
    error: Any = None,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Per app version: traffic share against error share, and whether the difference is real.

    Parameters
    ----------
    requests:
        One row per request with ``status`` and a version column.
    version:
        The version column (``app_version``; any categorical column works: ``route``...).
    error:
        What counts as an error (see :func:`error_mask`): default status >= 400.
    alpha:
        False-discovery rate for ``significant`` (Benjamini-Hochberg over the versions).

    Returns
    -------
    DataFrame
        ``version, requests, traffic_share, errors, error_share, error_rate,
        error_rate_low, error_rate_high`` (95 % Wilson interval), ``rest_error_rate``
        (all other versions), ``lift`` (error share / traffic share: 1 = its fair share),
        ``rate_ratio`` (error rate / rest's), ``excess_errors`` (errors beyond the rest's
        rate), ``z, p_value`` (two-sided two-proportion z-test vs the rest), ``q_value,
        significant``. Sorted by excess errors. Missing versions are ``(unknown)``.
        ``attrs`` holds ``error`` (what counted) and ``total_errors``.

    Example
    -------
    >>> req = pd.DataFrame({"app_version": ["1.0"] * 50 + ["2.0"] * 50,
    ...                     "status": [403] * 45 + [200] * 5 + [200] * 49 + [500]})
    >>> out = by_version(req).set_index("version")
    >>> round(float(out.loc["1.0", "lift"]), 2), bool(out.loc["1.0", "significant"])
    (1.96, True)
    """
    columns = ["version", "requests", "traffic_share", "errors", "error_share", "error_rate", "error_rate_low",
               "error_rate_high", "rest_error_rate", "lift", "rate_ratio", "excess_errors", "z", "p_value",
               "q_value", "significant"]
    empty = pd.DataFrame({c: pd.Series([], dtype="object" if c == "version" else ("bool" if c == "significant" else
                                       ("int64" if c in ("requests", "errors") else "float64"))) for c in columns})
    if requests is None or requests.empty or version not in requests.columns:
        return empty
    err = error_mask(requests, error)
    ver = requests[version].astype("object").where(requests[version].notna(), UNKNOWN).astype(str)
    g = pd.DataFrame({"version": ver.to_numpy(), "err": err.to_numpy()}).groupby("version")["err"].agg(["size", "sum"])
    n, e = float(g["size"].sum()), float(g["sum"].sum())
    out = pd.DataFrame({"version": g.index.astype(object), "requests": g["size"].to_numpy(dtype="float64"),
                        "errors": g["sum"].to_numpy(dtype="float64")})
    out["traffic_share"] = out["requests"] / n
    out["error_share"] = out["errors"] / e if e else np.nan
    out["error_rate"] = out["errors"] / out["requests"]
    lo, hi = wilson_interval(out["errors"].to_numpy(), out["requests"].to_numpy())
    out["error_rate_low"], out["error_rate_high"] = lo, hi
    rest_n, rest_e = n - out["requests"], e - out["errors"]
    with np.errstate(divide="ignore", invalid="ignore"):
        out["rest_error_rate"] = np.where(rest_n > 0, rest_e / rest_n, np.nan)
        out["lift"] = out["error_share"] / out["traffic_share"]
        out["rate_ratio"] = np.where(out["rest_error_rate"] > 0, out["error_rate"] / out["rest_error_rate"],
                                     np.where(out["errors"] > 0, np.inf, np.nan))
    out["excess_errors"] = out["errors"] - out["requests"] * np.nan_to_num(out["rest_error_rate"].to_numpy(), nan=0.0)
    z, p = two_proportion_z(out["errors"], out["requests"], rest_e, rest_n)
    out["z"], out["p_value"] = z, p
    out["p_value"] = np.where(rest_n > 0, out["p_value"], np.nan)
    out["q_value"] = benjamini_hochberg(out["p_value"])
    out["significant"] = (out["q_value"] < alpha).fillna(False).astype(bool)
    out = out.sort_values(["excess_errors", "requests"], ascending=False, kind="stable")[columns].reset_index(drop=True)
    out["requests"], out["errors"] = out["requests"].astype("int64"), out["errors"].astype("int64")
    out.attrs.update({"error": _error_label(error), "total_errors": int(e), "requests": int(n)})
    return out


def _change_point(n: np.ndarray, e: np.ndarray, min_side: int = 5) -> tuple[int | None, float, float]:
    """Best single split of a binned binomial series (max z of "after > before")."""
    cn, ce = np.cumsum(n), np.cumsum(e)
    tn, te = cn[-1], ce[-1]
    best, best_z, best_p = None, 0.0, 1.0
    for k in range(1, len(n)):
        bn, be = cn[k - 1], ce[k - 1]
        an, ae = tn - bn, te - be
        if bn < min_side or an < min_side:
            continue
        z, p = two_proportion_z(ae, an, be, bn, alternative="greater")
        if z > best_z:
            best, best_z, best_p = k, z, p
    return best, best_z, best_p


def skew_onset(
    requests: pd.DataFrame | None,
    changes: pd.DataFrame | None,
    *,
    version: str | Sequence[str] | None = None,
    version_col: str = "app_version",
    error: Any = None,
    by: str | pd.Timedelta | int | None = None,
    within: str | pd.Timedelta = "2h",
    classes: Sequence[str] = ("DEPLOYMENT", "CONFIG_CHANGE"),
) -> pd.DataFrame:
    """When a version's errors began, and whether they start at a change.

    For each version: its requests are binned; the onset is the best single change
    point of its error rate (the split maximising the z of "rate after > rate before",
    kept when p < 0.001), refined to the first error at or after that bin; without such
    a split the errors were there from the start and the onset is the first error. The nearest change of ``classes``
    at or before the onset (up to one bin after it, within ``within``) is the candidate
    cause; the version's error rate in ``within`` before that change is compared with
    the rate after it (one-sided two-proportion z-test).

    Parameters
    ----------
    requests:
        One row per request (incident and baseline windows together give a "before").
    changes:
        The change timeline (``schema.CHANGE_COLUMNS``).
    version:
        The version(s) to examine; default: those :func:`by_version` finds significantly
        skewed (lift > 1), at most three.
    by:
        Bin width for the change point (default ~60-200 bins over the data).

    Returns
    -------
    DataFrame
        One row per version: ``version, onset, onset_in_data`` (a significant change
        point inside the data), ``change_time, change_event, change_class,
        change_resource, change_actor, lead_s`` (change to onset), ``before_requests,
        before_errors, before_rate, after_requests, after_errors, after_rate, z, p_value,
        starts_at_change`` (after >= 2x before, p < 0.01, >= 5 errors after). A version
        with no change before its onset has NA change fields and ``starts_at_change``
        False; with no requests before the change, the before fields are 0/NaN and
        ``starts_at_change`` False (the data cannot show it).

    Example
    -------
    >>> t = pd.date_range("2026-03-01T02:00Z", periods=120, freq="1min")
    >>> req = pd.DataFrame({"timestamp": t, "app_version": "2.9.0",
    ...                     "status": [200] * 60 + [403] * 60})
    >>> ch = pd.DataFrame({"timestamp": pd.to_datetime(["2026-03-01T02:59:30Z"]), "event_name": ["Deploy api"],
    ...                    "class": ["DEPLOYMENT"]})
    >>> row = skew_onset(req, ch, version="2.9.0", by="1min").iloc[0]
    >>> row["onset"].strftime("%H:%M"), row["change_event"], bool(row["starts_at_change"])
    ('03:00', 'Deploy api', True)
    """
    columns = ["version", "onset", "onset_in_data", "change_time", "change_event", "change_class", "change_resource", "change_actor",
               "lead_s", "before_requests", "before_errors", "before_rate", "after_requests", "after_errors",
               "after_rate", "z", "p_value", "starts_at_change"]
    empty = pd.DataFrame({c: pd.Series([], dtype=UTC_NS if c in ("onset", "change_time") else
                                       ("bool" if c in ("starts_at_change", "onset_in_data") else
                                        ("object" if c.startswith("change_") or c == "version" else "float64")))
                          for c in columns})
    if requests is None or requests.empty or version_col not in requests.columns or "timestamp" not in requests.columns:
        return empty
    if version is None:
        bv = by_version(requests, version=version_col, error=error)
        bv = bv[bv["significant"] & (bv["lift"] > 1)]
        versions = bv["version"].head(3).tolist()
    else:
        versions = [version] if isinstance(version, str) else list(version)
    if not versions:
        return empty
    t_all = as_utc(requests["timestamp"])
    width = to_timedelta(by) if by is not None else auto_bin(t_all.min(), t_all.max())
    back = to_timedelta(within)
    err_all = error_mask(requests, error)
    ver_all = requests[version_col].astype("object").where(requests[version_col].notna(), UNKNOWN).astype(str)
    rows = []
    for v in versions:
        sel = (ver_all == str(v)).to_numpy()
        t, err = t_all[sel], err_all[sel]
        row: dict[str, Any] = {"version": v, "starts_at_change": False}
        rows.append(row)
        if not err.any():
            continue
        bins = t.dt.floor(width)
        per = pd.DataFrame({"b": bins, "e": err}).groupby("b")["e"].agg(["size", "sum"])
        k, _, p_split = _change_point(per["size"].to_numpy(dtype="float64"), per["sum"].to_numpy(dtype="float64"))
        # A split chosen among many must be clearly significant; otherwise the errors were already
        # there when the data starts, and the onset is the first error seen.
        found = k is not None and p_split < 1e-3
        start_bin = per.index[k] if found else per.index[0]
        onset_t = t[err & (t >= start_bin)].min()
        row["onset"] = onset_t
        row["onset_in_data"] = found
        pc = preceding_changes(onset_t, changes, within=back, slack=width, classes=classes)
        if pc.empty:
            continue
        c = pc.iloc[0]
        ct = c["timestamp"]
        row.update({"change_time": ct, "change_event": c["event_name"], "change_class": c["class"],
                    "change_resource": c["resource"], "change_actor": c["actor"], "lead_s": float(c["lead_s"])})
        before = ((t >= ct - back) & (t < ct)).to_numpy()
        after = ((t >= ct) & (t < ct + back)).to_numpy()
        bn, be = int(before.sum()), int(err[before].sum())
        an, ae = int(after.sum()), int(err[after].sum())
        row.update({"before_requests": bn, "before_errors": be, "before_rate": be / bn if bn else np.nan,
                    "after_requests": an, "after_errors": ae, "after_rate": ae / an if an else np.nan})
        if bn and an:
            z, p = two_proportion_z(ae, an, be, bn, alternative="greater")
            row.update({"z": z, "p_value": p})
            row["starts_at_change"] = bool(p < 0.01 and ae >= 5 and ae / an >= 2 * (be / bn))
    out = pd.DataFrame(rows, columns=columns)
    for c in ("onset", "change_time"):
        out[c] = pd.to_datetime(out[c], utc=True).astype(UTC_NS)
    for c in ("lead_s", "before_requests", "before_errors", "before_rate", "after_requests", "after_errors",
              "after_rate", "z", "p_value"):
        out[c] = pd.to_numeric(out[c], errors="coerce").astype("float64")
    out["starts_at_change"] = out["starts_at_change"].fillna(False).astype(bool)
    out["onset_in_data"] = out["onset_in_data"].fillna(False).astype(bool)
    out.attrs["bin"] = str(width)
    return out


# --------------------------------------------------------------------------- detector


def version_family(version: Any, level: int | None) -> Any:
    """``"2.9.1"`` at level 2 → ``"2.9.x"``, level 1 → ``"2.x"``; ``None`` keeps it; NA stays NA.

    Example
    -------
    >>> version_family("2.9.1", 2), version_family("2.9.1", 1), version_family("2.9.1", None)
    ('2.9.x', '2.x', '2.9.1')
    """
    if level is None or version is None or (not isinstance(version, str) and pd.isna(version)):
        return version
    parts = str(version).split(".")
    if len(parts) <= level:
        return str(version)
    return ".".join(parts[:level]) + ".x"


def _with_versions(req: pd.DataFrame | None) -> pd.DataFrame | None:
    """Requests with ``app_version`` filled from a ``Product/1.2.3`` User-Agent where missing."""
    if req is None or req.empty:
        return None
    has = "app_version" in req.columns and req["app_version"].notna().any()
    if "user_agent" not in req.columns:
        return req if has else None
    # the kit's User-Agent rules: HTTP libraries and SDKs (okhttp/4.9.0) carry no app version
    from_ua = req["user_agent"].astype("object").map(lambda ua: version_from_user_agent(ua) if isinstance(ua, str) else None)
    out = req.copy()
    out["app_version"] = (out["app_version"].astype("object").where(out["app_version"].notna(), from_ua.astype("object"))
                          if "app_version" in out.columns else from_ua.astype("object"))
    out["app_version"] = out["app_version"].where(out["app_version"].notna(), None)
    return out if out["app_version"].notna().any() else None


def _versioned_once(req: pd.DataFrame | None) -> tuple[pd.DataFrame | None, str | None]:
    """Requests with versions, each counted once: those of the outermost tier (entry,
    invocation, app) whose rows carry an app version, and that tier."""
    if req is None or req.empty or "tier" not in req.columns:
        return _with_versions(req), None
    for t in ("entry", "invocation", "app"):
        got = _with_versions(counted(req, tier=t))
        if got is not None:
            return got, t
    return None, None


def _combined_requests(inputs: Any, tier: str | None = None) -> pd.DataFrame | None:
    frames = [counted(f, tier=tier) if tier else f for f in (getattr(inputs, "baseline_requests", None), getattr(inputs, "requests", None))
              if f is not None and not f.empty]
    frames = [f for f in frames if f is not None and not f.empty]
    if not frames:
        return None
    if len(frames) == 1:
        return frames[0]
    both = pd.concat(frames, ignore_index=True)
    if "request_id" in both.columns and both["request_id"].notna().any():
        dup = both["request_id"].notna() & both.duplicated(subset=["request_id"], keep="last")
        both = both[~dup.to_numpy()]
    return both


#: The changes that can explain ``version-skew-errors``, most direct first (see :mod:`.related`). Deploys and
#: configuration pushed from elsewhere (AppConfig, SSM parameters, stacks) rarely name the service, so they count
#: unscoped in the two hours before the onset.
VERSION_SKEW_CHANGES = ChangeSpec("version-skew-errors", {
    "code": "new code changed what older clients may send or receive",
    "alias": "an alias moved traffic to a new version",
    "deployment": "a deployment changed what older clients may send or receive",
    "api-auth": "an authorizer change rejects tokens older clients still send",
    "api-config": "an API change altered the contract older clients rely on",
    "function-config": "a configuration change altered validation",
    "config-deployment": "a configuration deployment changed behaviour for some clients",
    "parameter": "a parameter change altered behaviour for some clients",
    "stack-deployment": "a stack update changed the service",
}, unscoped={k: "2h" for k in ("deployment", "config-deployment", "parameter", "stack-deployment", "code", "alias",
                                "api-auth", "api-config", "function-config")})


def _start_of(inputs: Any) -> Any:
    w = getattr(inputs, "window", None)
    return w.start if w is not None else None


def _skew_targets(inputs: Any) -> list[Any]:
    """The service's resources: the functions the requests ran on and the ones named, the API, ECS services."""
    resources = getattr(inputs, "resources", None) or {}
    names: list[Any] = []
    for frame in (getattr(inputs, "requests", None), getattr(inputs, "baseline_requests", None)):
        if frame is not None and "function_name" in frame.columns:
            names += [str(x) for x in frame["function_name"].dropna().unique()[:20]]
    targets = targets_from(names, resources.get("function_name"), kind="function")
    targets += targets_from(resources.get("api_id"), resources.get("api_name"), kind="api")
    services = resources.get("ecs_service")
    cluster = resources.get("ecs_cluster")
    for svc in ([services] if isinstance(services, str) else list(services or [])):
        targets += targets_from(f"{cluster}/{svc}" if cluster and "/" not in str(svc) else svc, kind="ecs_service")
    return targets


def _skew_changes(inputs: Any, v: str, level: int | None, cls: str, t_err: pd.Series | None,
                  evidence: dict[str, Any], tier: str | None = None) -> tuple[Any, bool, list[dict[str, Any]]]:
    """The onset of the version's errors, whether they start at a change, and the changes that can explain them.

    The change at the onset counts only when it is one of :data:`VERSION_SKEW_CHANGES` on the service's
    resources (or unscoped): an alarm edited at that minute is a coincidence, not a cause.
    """
    onset_time = t_err.min() if t_err is not None and len(t_err) else None
    changes = getattr(inputs, "changes", None)
    both = _combined_requests(inputs, tier)
    if both is not None:
        both = _with_versions(both)
    if both is not None:
        both = both.assign(_v=both["app_version"].map(lambda x: version_family(x, level)))
    so = (skew_onset(both, changes, version=v, version_col="_v", error=cls)
          if both is not None and "timestamp" in both.columns else None)
    slack = so.attrs.get("bin", "0s") if so is not None else "0s"
    if so is not None and not so.empty and pd.notna(so.iloc[0]["onset"]):
        onset_time = so.iloc[0]["onset"].floor("s")
    related = related_changes(changes, VERSION_SKEW_CHANGES, _skew_targets(inputs), onset=onset_time,
                              window=getattr(inputs, "window", None), slack=slack)
    starts = False
    if so is not None and not so.empty and pd.notna(so.iloc[0]["change_time"]):
        s = so.iloc[0]
        at = [r for r in related if pd.Timestamp(r["timestamp"]) == pd.Timestamp(s["change_time"])
              and r["event_name"] == s["change_event"]]
        if at:  # the change at the onset is one that can explain it: it leads the list
            related = at[:1] + [r for r in related if r is not at[0]]
            starts = bool(s["starts_at_change"])
            evidence.update({"change_to_onset_s": s["lead_s"], "starts_at_change": starts})
            if pd.notna(s["before_rate"]):
                evidence["version_error_rate_before_change"] = s["before_rate"]
            if pd.notna(s["after_rate"]):
                evidence["version_error_rate_after_change"] = s["after_rate"]
    if related:
        evidence.update(related_evidence(related[0]))
    return onset_time, starts, related


def detect_version_skew_errors(inputs: Any) -> Any:
    """``version-skew-errors``: errors concentrated in one app version, starting at a change (incidents.md #1).

    Evidence needed (requests with ``status`` and ``app_version``; >= 100 requests with a
    known version in the incident window):

    * for the 4xx or the 5xx class (whichever is more skewed), one version holds >= 50 %
      of the errors (>= 10 of them) while carrying at most 90 % of the traffic, with lift
      (error share / traffic share) >= 2 and a Benjamini-Hochberg q < 0.001;
    * its errors are not noise: error rate >= 5 % in that version.

    Versions are tried as they are, then as families (``2.9.x``, ``2.x``): an old app
    line often spans patch versions; the family is kept when it holds clearly more of the
    errors. Without an ``app_version`` value, the version of a ``Product/1.2.3`` User-Agent
    is used.

    A DEPLOYMENT/CONFIG_CHANGE change at the onset of the version's errors (from
    :func:`skew_onset` on the baseline and incident requests together) raises confidence
    and is attached as ``related_changes``. Requests without a version lower confidence
    when they fail more than the other versions (they may hide the same failure).
    Severity: :func:`severity_for_share` of the excess errors (those beyond the other
    versions' rate) over all requests, lowered when they last under 5 minutes.

    Returns
    -------
    Finding or None
    """
    req, tier = _versioned_once(getattr(inputs, "requests", None))
    if req is None or "status" not in req.columns:
        return None
    window = getattr(inputs, "window", None)
    if window is not None and "timestamp" in req.columns:
        t = as_utc(req["timestamp"])
        inside = req[((t >= window.start) & (t < window.end)).to_numpy()]
        req = inside if not inside.empty else req
    known = req["app_version"].notna()
    if int(known.sum()) < 100:
        return None
    # Rows without a status (e.g. Lambda platform lines of an authorizer) are not client requests.
    http = pd.to_numeric(req["status"], errors="coerce").notna()
    unknown_share = float((http & ~known).sum() / http.sum()) if http.any() else 0.0
    best = None
    kn = req[known.to_numpy()].copy()
    # Full versions first, then families (2.9.x, 2.x): an old app line often spans patch versions.
    for level in (None, 2, 1):
        kn["_v"] = kn["app_version"].map(lambda x: version_family(x, level))
        if level is not None and kn["_v"].nunique() == kn["app_version"].nunique():
            continue
        for cls in ("4xx", "5xx"):
            bv = by_version(kn, version="_v", error=cls)
            if bv.empty or bv.attrs.get("total_errors", 0) < 10:
                continue
            cand = bv[(bv["q_value"] < 0.001) & (bv["lift"] >= 2) & (bv["error_share"] >= 0.5)
                      & (bv["traffic_share"] <= 0.9) & (bv["errors"] >= 10) & (bv["error_rate"] >= 0.05)]
            if cand.empty:
                continue
            row = cand.iloc[0]
            better = best is None or row["error_share"] > best[1]["error_share"] + 0.05 or (
                abs(row["error_share"] - best[1]["error_share"]) <= 0.05 and best[3] == level and row["z"] > best[1]["z"])
            if better:
                best = (cls, row, bv, level)
    if best is None:
        return None
    cls, row, bv, level = best
    v = str(row["version"])
    req = req.copy()
    req["_v"] = req["app_version"].map(lambda x: version_family(x, level))
    n_all = int(bv["requests"].sum())
    err_v = error_mask(req, cls) & (req["_v"].astype("object").astype(str) == v)
    codes = pd.to_numeric(req.loc[err_v.to_numpy(), "status"], errors="coerce").value_counts()
    top_code = int(codes.index[0]) if len(codes) else None
    top_code_share = float(codes.iloc[0] / codes.sum()) if len(codes) else None
    # Shares of everything the entry point counted, requests without a version included: the title's
    # "of requests" is every request, not only those whose version is known.
    n_http = int(http.sum()) or n_all
    errors_all = int((error_mask(req, cls) & http).sum()) or int(bv["errors"].sum())
    share_all = float(row["requests"]) / n_http
    error_share_all = float(row["errors"]) / errors_all if errors_all else float(row["error_share"])
    impact = max(0.0, float(row["excess_errors"])) / n_http
    evidence: dict[str, Any] = {
        "version": v,
        "status_class": cls,
        "requests": n_all,
        "version_requests": int(row["requests"]),
        "traffic_share": row["traffic_share"],
        "errors": int(bv["errors"].sum()),
        "version_errors": int(row["errors"]),
        "error_share": row["error_share"],
        "lift": row["lift"],
        "error_rate": row["error_rate"],
        "rest_error_rate": row["rest_error_rate"],
        "p_value": row["p_value"],
        "share_of_requests_failing": impact,
        "all_requests": n_http,
        "share_of_all_requests": share_all,
        "share_of_all_errors": error_share_all,
    }
    if level is not None:
        members = req.loc[(req["_v"].astype("object").astype(str) == v).to_numpy(), "app_version"].value_counts()
        evidence["versions_in_group"] = ", ".join(str(m) for m in members.index[:8])
    if top_code is not None:
        evidence["top_status"], evidence["top_status_share"] = top_code, top_code_share
    unknown_like_version = False
    if unknown_share > 0:
        evidence["requests_without_version"] = unknown_share
        unk = req[(http & ~known).to_numpy()]
        unk_rate = float(error_mask(unk, cls).mean())
        evidence["error_rate_without_version"] = unk_rate
        # Requests without a version could hide the same failure: a concern only when they fail more
        # than the other versions do.
        rest = float(row["rest_error_rate"])
        unknown_like_version = unk_rate > max(2.0 * rest, rest + 0.02)

    t_err = as_utc(req.loc[err_v.to_numpy(), "timestamp"]) if "timestamp" in req.columns else None
    onset_time, starts, related = _skew_changes(inputs, v, level, cls, t_err, evidence, tier)
    duration = None
    if onset_time is not None and pd.notna(onset_time):
        last = t_err.max()
        duration = last - onset_time
        evidence["errors_from"], evidence["errors_until"] = pd.Timestamp(onset_time).floor("s"), last.floor("s")
    severity = severity_for_share(impact, duration=duration)
    confidence = 0.45 + 0.2 * float(row["error_share"]) + 0.1 * min(1.0, math.log10(max(float(row["rate_ratio"]), 1.0)) / 2.0)
    if starts:
        confidence += 0.15
    elif related:
        confidence += 0.05
    if unknown_share > 0.3 and unknown_like_version:
        confidence -= 0.1
    confidence = min(confidence, {"low": 0.35, "info": 0.2}.get(severity, 0.97))

    code_txt = f"{top_code}" if top_code is not None and top_code_share and top_code_share >= 0.8 else cls.upper()
    summary = (
        f"App version {v} sent {pct(share_all, 0)} of all {n_http:,} requests ({pct(row['traffic_share'], 0)} of those "
        f"with a known version) but {pct(error_share_all, 0)} of the "
        f"{cls.upper()} errors: {pct(row['error_rate'])} of its requests failed (mostly {code_txt}) against "
        f"{pct(row['rest_error_rate'])} for the other versions (lift {row['lift']:.1f}, {fmt_p(row['p_value'])}). "
        f"That is {pct(impact)} of all requests failing for one group of clients."
    )
    if related:
        cause = related[0]
        lead = evidence.get("change_to_onset_s")
        if starts and lead is not None:
            gap = f"{abs(lead):.0f} s" if abs(lead) < 90 else f"{abs(lead) / 60:.0f} min"
            summary += (
                f" The errors start at a change: {cause['description']}"
                f" ({gap} {'before' if lead >= 0 else 'after'} the first error); this version's error rate went from "
                f"{pct(evidence.get('version_error_rate_before_change', float('nan')))} before it to "
                f"{pct(evidence.get('version_error_rate_after_change', float('nan')))} after."
            )
        else:
            summary += f" A change that can explain it: {sentence(cause, reference=_start_of(inputs))}"
    remediation = _skew_remediation(v, top_code, cls, row, evidence, related[0] if related else None)
    return Finding(
        id="version-skew-errors",
        title=f"{code_txt} errors concentrated in app version {v} ({pct(share_all, 0)} of requests, {pct(error_share_all, 0)} of {cls.upper()} errors)",
        severity=severity,
        summary=summary,
        evidence=evidence,
        remediation=remediation,
        confidence=confidence,
        related_changes=related,
        onset=None if onset_time is None or pd.isna(onset_time) else pd.Timestamp(onset_time).isoformat().replace("+00:00", "Z"),
    )


def _skew_remediation(v: str, top_code: int | None, cls: str, row: pd.Series, evidence: dict[str, Any],
                      cause: dict[str, Any] | None = None) -> list[str]:
    share = pct(row["traffic_share"])
    change = (f" ({cause['api']} on `{cause['target']}` {when_text(cause['timestamp'])} by {blameless_actor(cause['actor'])})"
              if cause is not None else "")
    steps = []
    if top_code in (401, 403):
        steps.append(
            f"Restore the previous token validation path alongside the new one (accept both issuers/audiences/"
            f"signing keys or claim formats) so clients on {v} authenticate again; keep both until {v} falls below "
            f"1 % of traffic (now {share}), then retire the old path."
        )
    else:
        steps.append(
            f"Restore backward compatibility for clients on {v} (the request/response contract they rely on) and keep "
            f"it until {v} falls below 1 % of traffic (now {share})."
        )
    steps.append(f"If compatibility cannot be restored quickly, roll back the change{change} and re-release it with the compatibility path.")
    steps.append(
        "Alarm on the error rate per app version (a metric filter or an EMF dimension on app_version), not only on the "
        "total: one client version failing hides inside a normal-looking total."
    )
    steps.append(
        f"Canary releases with traffic from old client versions, a published minimum supported version, and a "
        f"force-upgrade prompt for {v}."
    )
    return steps
