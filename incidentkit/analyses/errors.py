"""Errors: error rate by status class over time, by app version, and whether a skew starts at a change.

* :func:`error_rate` — counts and rates of 2xx/3xx/4xx/5xx per time bin;
* :func:`by_version` — per app version: traffic share vs error share, lift, error rate
  with its Wilson interval, and a two-proportion z-test against the other versions;
* :func:`skew_onset` — when a version's errors began (best single change point) and
  whether they start at the nearest preceding deployment/config change (error rate
  before vs after it).

The finding built on them (``version-skew-errors``) is in :mod:`incidentkit.findings.detectors`.

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

from typing import Any, Sequence

import numpy as np
import pandas as pd

from ._common import (
    UTC_NS,
    as_utc,
    auto_bin,
    benjamini_hochberg,
    bin_floor,
    category_texts,
    codes_as_is,
    status_class,
    flag,
    text_codes,
    to_timedelta,
    two_proportion_z,
    wilson_interval,
)
from .onset import preceding_changes

__all__ = ["error_rate", "by_version", "skew_onset", "error_mask", "version_family", "STATUS_CLASSES", "with_rates"]

UNKNOWN = "(unknown)"
#: The status classes an error-rate frame counts (each as ``n_<class>`` and ``rate_<class>``); the rest is ``n_other``.
STATUS_CLASSES = ("2xx", "3xx", "4xx", "5xx")
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
        k = int(cls[0])  # status_class(codes) == cls, without a label a row: 1xx..5xx are ranges, any other class none
        m = ((codes >= k * 100) & (codes < (k + 1) * 100)).fillna(False).astype(bool) if 1 <= k <= 5 else pd.Series(False, index=idx)
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


def with_rates(out: pd.DataFrame) -> pd.DataFrame:
    """Counts per status class made float64, with ``requests``, ``rate_<class>`` and ``error_rate`` (4xx + 5xx) added.

    ``out`` holds ``n_<class>`` for each of :data:`STATUS_CLASSES` and ``n_other``; it is changed in
    place and returned. Rates are NaN where a bin has no request. The in-memory and the
    out-of-core error rates both finish with it.

    Example
    -------
    >>> with_rates(pd.DataFrame({"n_2xx": [3], "n_3xx": [0], "n_4xx": [0], "n_5xx": [1], "n_other": [0]}))[
    ...     ["requests", "rate_5xx", "error_rate"]].values.tolist()
    [[4.0, 0.25, 0.25]]
    """
    n_cols = [f"n_{c}" for c in STATUS_CLASSES] + ["n_other"]
    out[n_cols] = out[n_cols].astype("float64")
    out["requests"] = out[n_cols].sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        for c in STATUS_CLASSES:
            out[f"rate_{c}"] = np.where(out["requests"] > 0, out[f"n_{c}"] / out["requests"], np.nan)
        out["error_rate"] = np.where(out["requests"] > 0, (out["n_4xx"] + out["n_5xx"]) / out["requests"], np.nan)
    return out


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
    classes = list(STATUS_CLASSES)
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
    out = with_rates(counts.reset_index())
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
    names, size, errors = _counts_by_version(requests[version], err.to_numpy(dtype=bool))
    n, e = float(size.sum()), float(errors.sum())
    out = pd.DataFrame({"version": pd.Index(names, dtype=object), "requests": size.astype("float64"), "errors": errors.astype("float64")})
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


def _counts_by_version(values: pd.Series, err: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per version name (``str`` of the value, :data:`UNKNOWN` when missing), in name order: requests and errors.

    A text, integer or dictionary column is counted by its codes (a name per distinct value, not
    per row); other columns name each row.

    Example
    -------
    >>> names, n, e = _counts_by_version(pd.Series(["2.0", None, "1.0", "2.0"], dtype="category"), np.array([1, 1, 0, 0], bool))
    >>> names.tolist(), n.tolist(), e.tolist()
    (['(unknown)', '1.0', '2.0'], [1, 1, 2], [1, 0, 1])
    """
    dtype = values.dtype
    exact = codes_as_is(dtype) or (isinstance(dtype, pd.CategoricalDtype) and category_texts(dtype) is not None)
    if exact:
        codes, texts = text_codes(values)  # -1: missing
        names = np.append(texts, np.array([UNKNOWN], dtype=object))
        codes = np.where(codes < 0, len(texts), codes)
    else:
        names = values.astype("object").where(values.notna(), UNKNOWN).astype(str).to_numpy(dtype=object)
        codes = np.arange(len(names))
    group, distinct = pd.factorize(names)  # a value whose name is "(unknown)" is counted with the missing ones
    group = np.asarray(group, dtype="int64")[codes]
    size = np.bincount(group, minlength=len(distinct))
    errors = np.bincount(group, weights=err.astype("float64"), minlength=len(distinct)).round().astype("int64")
    keep = size > 0  # a dictionary column's categories no row uses
    distinct, size, errors = np.asarray(distinct, dtype=object)[keep], size[keep], errors[keep]
    order = np.argsort(distinct, kind="stable")  # the groups in name order, as a groupby gives them
    return distinct[order], size[order], errors[order]


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
