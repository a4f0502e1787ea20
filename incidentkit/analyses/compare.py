"""Incident vs baseline (BubbleUp-style): which values are over-represented in the incident.

For every categorical column (app version, route, AZ, log stream, status and status
class, cold start, user-agent family, method, function...), :func:`compare` gives each
value's share of the incident rows against its share of the baseline rows, the
difference, the lift, an effect size (Cohen's h) and a two-proportion z-test corrected
for multiple comparisons (Benjamini-Hochberg). This is how a reader finds "it's only
app 2.x" or "it's only one AZ". :func:`compare_numeric` compares numeric columns by
distribution (P50/P90/P99 on both sides and a Kolmogorov-Smirnov statistic).

Both take either two frames (incident, baseline) or one frame and a boolean selection
(selected rows vs the rest).

Example
-------
>>> import pandas as pd
>>> inc = pd.DataFrame({"app_version": ["2.9"] * 40 + ["3.0"] * 10})
>>> base = pd.DataFrame({"app_version": ["2.9"] * 15 + ["3.0"] * 35})
>>> top = compare(inc, base).iloc[0]
>>> top["column"], top["value"], float(top["incident_share"]), float(top["baseline_share"])
('app_version', '2.9', 0.8, 0.3)
"""

from __future__ import annotations

import math
import re
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ._common import benjamini_hochberg, codes_as_is, status_class, text_codes, two_proportion_z

__all__ = ["compare", "compare_numeric", "ks_2samp", "ua_family", "categorical_columns", "numeric_columns", "empty_lift",
           "score_counts", "joint_codes", "column_counts", "text_labels", "MISSING", "OTHER"]

MISSING = "(missing)"
OTHER = "(other)"

#: Columns never compared: identifiers, free text, raw payloads.
EXCLUDED = frozenset(
    {
        "request_id", "event_id", "xray_trace_id", "trace_id", "message", "raw", "error_message",
        "parse_error_reason", "detail", "ingestion_time", "timestamp", "query_id", "span_id",
        "function_request_id", "correlation_id", "ip", "client_ip", "requestparameters",
    }
)
_NOT_NUMERIC = frozenset({"status", "period", "port", "srcport", "dstport"})

_UA_PRODUCTS = (
    ("Edg/", "Edge"), ("OPR/", "Opera"), ("Chrome/", "Chrome"), ("CriOS/", "Chrome"), ("Firefox/", "Firefox"),
    ("FxiOS/", "Firefox"), ("Safari/", "Safari"), ("curl/", "curl"), ("okhttp/", "okhttp"),
    ("python-requests/", "python-requests"), ("aws-sdk-", "aws-sdk"), ("Boto3/", "boto3"), ("Go-http-client/", "Go"),
    ("PostmanRuntime/", "Postman"), ("ELB-HealthChecker/", "ELB-HealthChecker"), ("Amazon-Route53-Health-Check", "Route53-HealthCheck"),
)
_UA_OS = (("iPhone", "iOS"), ("iPad", "iOS"), ("iOS", "iOS"), ("Android", "Android"), ("Windows", "Windows"),
          ("Mac OS X", "macOS"), ("Macintosh", "macOS"), ("Linux", "Linux"))
_PRODUCT = re.compile(r"^\s*([A-Za-z][\w.\-]*)/")


def ua_family(user_agent: Any) -> str:
    """A user agent's family: browser or client product, plus the OS when it says.

    Example
    -------
    >>> ua_family("MyApp/2.9.0 (iOS 17.2; iPhone14,2)")
    'MyApp (iOS)'
    >>> ua_family("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36")
    'Chrome (Windows)'
    >>> ua_family(None)
    '(missing)'
    """
    if user_agent is None or (isinstance(user_agent, float) and math.isnan(user_agent)) or user_agent is pd.NA:
        return MISSING
    ua = str(user_agent)
    if not ua.strip():
        return MISSING
    product = None
    for token, name in _UA_PRODUCTS:
        if token in ua:
            product = name
            break
    if product is None:
        m = _PRODUCT.match(ua)
        product = m.group(1) if m and m.group(1) != "Mozilla" else ua.split()[0][:40]
    os_name = next((name for token, name in _UA_OS if token in ua), None)
    return f"{product} ({os_name})" if os_name else product


def _split(incident: pd.DataFrame, baseline: Any) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    if isinstance(baseline, pd.DataFrame):
        return incident, baseline, "baseline"
    if baseline is None:
        raise TypeError("compare() needs a baseline frame or a boolean selection of the rows")
    mask = np.asarray(baseline.reindex(incident.index) if isinstance(baseline, pd.Series) else baseline)
    if mask.dtype != bool:
        mask = pd.Series(mask).astype("boolean").fillna(False).to_numpy(dtype=bool)
    if len(mask) != len(incident):
        raise ValueError(f"the selection has {len(mask)} values for {len(incident)} rows")
    return incident[mask], incident[~mask], "rest"


def _is_text(s: pd.Series) -> bool:
    return (s.dtype == object or pd.api.types.is_string_dtype(s.dtype) or isinstance(s.dtype, pd.CategoricalDtype)
            or pd.api.types.is_bool_dtype(s.dtype))


def _prepared(df: pd.DataFrame, status: str) -> pd.DataFrame:
    """Add derived categorical columns: status class, user-agent family."""
    out = df.copy()
    if status in out.columns and "status_class" not in out.columns:
        out["status_class"] = status_class(out[status])
    if "user_agent" in out.columns and "user_agent_family" not in out.columns:
        out["user_agent_family"] = out["user_agent"].map(ua_family)
    return out


def categorical_columns(df: pd.DataFrame, *, max_cardinality: int = 200, status: str = "status") -> tuple[list[str], dict[str, str]]:
    """The columns :func:`compare` picks by itself, and why the others were left out.

    Text, boolean and category columns (and the HTTP status code) with at most
    ``max_cardinality`` distinct values, and either at most 20 of them or fewer than
    one distinct value per five rows: identifiers (request ids, trace ids) and free text
    drop out.

    Example
    -------
    >>> df = pd.DataFrame({"request_id": [f"r{i}" for i in range(100)], "az": ["a", "b"] * 50,
    ...                    "latency_ms": [1.0] * 100})
    >>> chosen, excluded = categorical_columns(df)
    >>> chosen, excluded["request_id"]
    (['az'], 'identifier or free text')
    """
    chosen, excluded = [], {}
    n = len(df)
    for c in df.columns:
        if str(c).lower() in EXCLUDED:
            excluded[c] = "identifier or free text"
            continue
        s = df[c]
        if isinstance(s.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_any_dtype(s.dtype):
            excluded[c] = "time"
            continue
        if not (_is_text(s) or c == status):
            continue
        try:
            k = int(s.nunique(dropna=True))
        except TypeError:
            excluded[c] = "unhashable values"
            continue
        if k == 0:
            excluded[c] = "always missing"
        elif k > max_cardinality or (k > 20 and k > 0.2 * n):
            excluded[c] = f"{k} distinct values (high cardinality)"
        elif k == 1 and s.notna().all():
            excluded[c] = "a single value"
        else:
            chosen.append(c)
    return chosen, excluded


def numeric_columns(df: pd.DataFrame, *, status: str = "status") -> list[str]:
    """The numeric columns :func:`compare_numeric` picks by itself (not ids, codes or flags).

    Example
    -------
    >>> numeric_columns(pd.DataFrame({"status": [200], "latency_ms": [1.0], "cold_start": [True]}))
    ['latency_ms']
    """
    out = []
    for c in df.columns:
        s = df[c]
        if c == status or str(c).lower() in EXCLUDED or str(c).lower() in _NOT_NUMERIC:
            continue
        if pd.api.types.is_bool_dtype(s.dtype) or not pd.api.types.is_numeric_dtype(s.dtype):
            continue
        if s.notna().any():
            out.append(c)
    return out


def _labels(s: pd.Series) -> pd.Series:
    if codes_as_is(s.dtype):
        codes, texts = text_codes(s)  # str of each distinct value, not of each row
        return pd.Series(np.append(texts, np.array([MISSING], dtype=object))[codes], index=s.index, dtype=object)
    if pd.api.types.is_bool_dtype(s.dtype):
        return s.astype("object").where(s.notna(), MISSING)
    if isinstance(s.dtype, pd.CategoricalDtype):  # the label of each category, not of each row; code -1: missing
        labels = [v if isinstance(v, (bool, np.bool_)) else str(v) for v in np.asarray(s.cat.categories, dtype=object)]
        return pd.Series(np.array(labels + [MISSING], dtype=object)[s.cat.codes.to_numpy()], index=s.index, dtype=object)
    return s.astype("object").where(s.notna(), MISSING).map(lambda v: v if isinstance(v, (bool, np.bool_)) else str(v))


def _label_codes(s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_labels` of ``s`` factorised: ``labels[codes]`` is ``_labels(s)``, ``labels`` told apart as
    ``value_counts`` tells them. A text or integer column gives its text codes: no label object a row.

    Example
    -------
    >>> codes, labels = _label_codes(pd.Series(["b", None, "a", "b"], dtype="string"))
    >>> codes.tolist(), labels.tolist()
    ([0, 2, 1, 0], ['b', 'a', '(missing)'])
    """
    if codes_as_is(s.dtype):
        return text_labels(*text_codes(s))
    codes, labels = pd.factorize(_labels(s).to_numpy(dtype=object))
    return np.asarray(codes, dtype="int64"), np.asarray(labels, dtype=object)


def text_labels(codes: np.ndarray, texts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Text codes (:func:`~._common.text_codes`, -1 missing) as :func:`compare` labels them: ``(codes, labels)``,
    a missing value :data:`MISSING` (with a value that reads "(missing)", as the labels count them).

    Example
    -------
    >>> codes, labels = text_labels(np.array([0, -1, 1]), np.array(["a", "b"], dtype=object))
    >>> codes.tolist(), labels.tolist()
    ([0, 2, 1], ['a', 'b', '(missing)'])
    """
    same = np.flatnonzero(texts == MISSING)
    if len(same):
        return np.where(codes < 0, same[0], codes), texts
    return np.where(codes < 0, len(texts), codes), np.append(texts, np.array([MISSING], dtype=object))


def joint_codes(a: pd.Series | None, b: pd.Series | None, n1: int, n2: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The labels of both sides (a side without the column: every row missing) as codes into one array of distinct labels.

    Example
    -------
    >>> a, b, labels = joint_codes(pd.Series(["x", None]), pd.Series(["y", "x"]), 2, 2)
    >>> labels[a].tolist(), labels[b].tolist()
    (['x', '(missing)'], ['y', 'x'])
    """
    ca, la = _label_codes(a) if a is not None else (np.zeros(n1, dtype="int64"), np.array([MISSING], dtype=object))
    cb, lb = _label_codes(b) if b is not None else (np.zeros(n2, dtype="int64"), np.array([MISSING], dtype=object))
    joint, labels = pd.factorize(np.concatenate([la, lb]))
    joint = np.asarray(joint, dtype="int64")
    return joint[: len(la)][ca], joint[len(la):][cb], np.asarray(labels, dtype=object)


def _code_of(labels: np.ndarray, label: str) -> int:
    """The position of ``label`` in ``labels`` (distinct), -1 when absent."""
    at = np.flatnonzero(labels == label)
    return int(at[0]) if len(at) else -1


def column_counts(c: str, a: np.ndarray, b: np.ndarray, labels: np.ndarray, max_values: int) -> list[dict[str, Any]]:
    """Per label of column ``c``: its incident and baseline counts (``a``, ``b``: codes into ``labels``, distinct),
    values beyond the ``max_values`` most frequent pooled as ``(other)``, missing never pooled: the rows
    :func:`score_counts` reads, as :func:`compare` counts them, each with the ``code`` of its label.

    Counted on the codes, in the order ``value_counts`` of the labels themselves gives (first seen first among
    equal counts), so the pooling and the rows' order are those of counting the labels.

    Example
    -------
    >>> labels = np.array(["a", "b", "c"], dtype=object)
    >>> [(r["value"], r["incident_count"], r["baseline_count"]) for r in column_counts("k", np.array([0, 0, 1]), np.array([2]), labels, 2)]
    [('a', 2, 0), ('(other)', 1, 1)]
    """
    order = pd.Series(np.concatenate([a, b])).value_counts()
    if len(order) > max_values:
        missing = _code_of(labels, MISSING)
        # Missing values are never pooled away: they are a finding of their own.
        seen = order.index.to_numpy(dtype="int64")
        ranked = np.concatenate([seen[seen == missing], seen[seen != missing]])
        keep = ranked[: max_values - 1]
        other = _code_of(labels, OTHER)
        if other < 0:
            labels, other = np.append(labels, np.array([OTHER], dtype=object)), len(labels)
        a, b = np.where(np.isin(a, keep), a, other), np.where(np.isin(b, keep), b, other)
    ca, cb = pd.Series(a).value_counts(), pd.Series(b).value_counts()
    code = dict(zip(labels[ca.index.to_numpy()].tolist(), ca.index.tolist())) | dict(
        zip(labels[cb.index.to_numpy()].tolist(), cb.index.tolist()))
    ca = pd.Series(ca.to_numpy(), index=pd.Index(labels[ca.index.to_numpy()], dtype=object))
    cb = pd.Series(cb.to_numpy(), index=pd.Index(labels[cb.index.to_numpy()], dtype=object))
    return [{"column": c, "value": v, "incident_count": int(ca.get(v, 0)), "baseline_count": int(cb.get(v, 0)),
             "code": code[v]} for v in pd.Index(ca.index).union(pd.Index(cb.index), sort=False)]


_LIFT_COLUMNS = ("column", "value", "incident_count", "incident_share", "baseline_count", "baseline_share",
                 "difference", "lift", "effect", "z", "p_value", "q_value", "significant")


def empty_lift() -> pd.DataFrame:
    """The empty result of :func:`compare` (and of ``outofcore.compare``), columns typed."""
    return pd.DataFrame({c: pd.Series([], dtype="object" if c in ("column", "value") else
                                      ("bool" if c == "significant" else ("int64" if c.endswith("_count") else "float64")))
                         for c in _LIFT_COLUMNS})


def score_counts(rows: list[dict[str, Any]], n1: int, n2: int, *, alpha: float) -> pd.DataFrame:
    """Counts per (column, value) in ``n1`` incident and ``n2`` baseline rows → :func:`compare`'s ranked frame.

    Shares, difference, lift, Cohen's h (``effect``), the two-proportion z-test and
    Benjamini-Hochberg q-values; significant values first, then by ``|h|``. Shared with
    ``outofcore.compare`` so both give the same statistics for the same counts.
    """
    out = pd.DataFrame(rows)
    out["incident_share"] = out["incident_count"] / n1
    out["baseline_share"] = out["baseline_count"] / n2
    out["difference"] = out["incident_share"] - out["baseline_share"]
    with np.errstate(divide="ignore", invalid="ignore"):
        out["lift"] = np.where(out["baseline_share"] > 0, out["incident_share"] / out["baseline_share"], np.inf)
    out["effect"] = 2 * np.arcsin(np.sqrt(out["incident_share"])) - 2 * np.arcsin(np.sqrt(out["baseline_share"]))
    z, p = two_proportion_z(out["incident_count"], n1, out["baseline_count"], n2)
    out["z"], out["p_value"] = z, p
    out["q_value"] = benjamini_hochberg(out["p_value"])
    out["significant"] = (out["q_value"] < alpha).astype(bool)
    # |h| is symmetric for the two values of a binary column: over-represented values first on ties.
    out["_abs"] = out["effect"].abs().round(9)
    out = out.sort_values(["significant", "_abs", "effect", "incident_count"], ascending=[False, False, False, False],
                          kind="stable")
    return out[list(_LIFT_COLUMNS)].reset_index(drop=True)


def compare(
    incident: pd.DataFrame | None,
    baseline: pd.DataFrame | pd.Series | np.ndarray | Sequence[bool] | None = None,
    *,
    columns: Sequence[str] | None = None,
    max_values: int = 20,
    alpha: float = 0.05,
    status: str = "status",
) -> pd.DataFrame:
    """Each categorical value's share in the incident against the baseline, ranked by effect size.

    Parameters
    ----------
    incident:
        The incident rows (e.g. requests of the incident window); or all rows when
        ``baseline`` is a selection.
    baseline:
        The baseline rows (a frame), or a boolean selection of ``incident``'s rows
        (selected rows vs the rest, e.g. ``requests.status >= 500``).
    columns:
        Columns to compare; default: :func:`categorical_columns` (plus the derived
        ``status_class`` and ``user_agent_family``).
    max_values:
        Per column, values beyond the ``max_values`` most frequent (both sides together)
        are pooled as ``(other)``; missing values are ``(missing)``, never pooled.
    alpha:
        False-discovery rate for ``significant`` (Benjamini-Hochberg over every row).

    Returns
    -------
    DataFrame
        ``column, value, incident_count, incident_share, baseline_count, baseline_share,
        difference`` (incident share - baseline share), ``lift`` (share ratio; inf when
        absent from the baseline), ``effect`` (Cohen's h = 2 asin sqrt(p1) - 2 asin sqrt(p2):
        0.2 small, 0.5 medium, 0.8 large), ``z, p_value, q_value, significant``. Ranked:
        significant first, then by absolute effect (over-represented values first on
        ties). ``attrs``: ``n_incident``,
        ``n_baseline``, ``baseline`` (``baseline`` or ``rest``), ``columns``, ``excluded``
        (column → reason).

    Example
    -------
    >>> df = pd.DataFrame({"az": ["a"] * 50 + ["b"] * 50, "status": [503] * 30 + [200] * 20 + [200] * 49 + [503]})
    >>> out = compare(df, df["status"] >= 500, columns=["az"])
    >>> r = out.iloc[0]
    >>> r["value"], int(r["incident_count"]), int(r["baseline_count"])
    ('a', 30, 20)
    """
    empty = empty_lift()
    if incident is None:
        return empty
    inc, base, kind = _split(incident, baseline)
    empty.attrs.update({"n_incident": len(inc), "n_baseline": len(base), "baseline": kind, "columns": [], "excluded": {}})
    if inc.empty or base.empty:
        return empty
    inc, base = _prepared(inc, status), _prepared(base, status)
    both = pd.concat([inc, base], ignore_index=True, sort=False)
    if columns is None:
        chosen, excluded = categorical_columns(both, status=status)
        if "user_agent_family" in chosen and "user_agent" in chosen:
            chosen.remove("user_agent")
    else:
        missing = [c for c in columns if c not in both.columns]
        chosen = [c for c in columns if c in both.columns]
        excluded = {c: "not in the frames" for c in missing}
    n1, n2 = len(inc), len(base)
    rows = []
    for c in chosen:
        a, b, labels = joint_codes(inc[c] if c in inc.columns else None, base[c] if c in base.columns else None, n1, n2)
        rows += column_counts(c, a, b, labels, max_values)
    if not rows:
        empty.attrs.update({"columns": chosen, "excluded": excluded})
        return empty
    out = score_counts(rows, n1, n2, alpha=alpha)
    out.attrs.update({"n_incident": n1, "n_baseline": n2, "baseline": kind, "columns": chosen, "excluded": excluded})
    return out


def ks_2samp(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray) -> tuple[float, float]:
    """Two-sample Kolmogorov-Smirnov statistic and its asymptotic p-value (numpy only).

    Example
    -------
    >>> d, p = ks_2samp(list(range(100)), [x + 50 for x in range(100)])
    >>> round(d, 2), p < 1e-6
    (0.5, True)
    """
    x = np.sort(np.asarray(a, dtype="float64")[~np.isnan(np.asarray(a, dtype="float64"))])
    y = np.sort(np.asarray(b, dtype="float64")[~np.isnan(np.asarray(b, dtype="float64"))])
    n1, n2 = len(x), len(y)
    if n1 == 0 or n2 == 0:
        return float("nan"), float("nan")
    grid = np.concatenate([x, y])
    cdf1 = np.searchsorted(x, grid, side="right") / n1
    cdf2 = np.searchsorted(y, grid, side="right") / n2
    d = float(np.max(np.abs(cdf1 - cdf2)))
    en = math.sqrt(n1 * n2 / (n1 + n2))
    lam = (en + 0.12 + 0.11 / en) * d
    if lam < 1e-3:
        return d, 1.0
    k = np.arange(1, 101)
    p = float(2.0 * np.sum((-1.0) ** (k - 1) * np.exp(-2.0 * (k ** 2) * lam * lam)))
    return d, float(min(1.0, max(0.0, p)))


def compare_numeric(
    incident: pd.DataFrame | None,
    baseline: pd.DataFrame | pd.Series | np.ndarray | Sequence[bool] | None = None,
    *,
    columns: Sequence[str] | None = None,
    alpha: float = 0.05,
    status: str = "status",
) -> pd.DataFrame:
    """Numeric columns compared by distribution: quantiles on both sides and a KS test.

    Parameters
    ----------
    incident, baseline:
        As :func:`compare` (two frames, or a frame and a boolean selection).
    columns:
        Numeric columns; default :func:`numeric_columns` (``latency_ms``, ``duration_ms``,
        ``init_duration_ms``, memory...).

    Returns
    -------
    DataFrame
        ``column, incident_n, baseline_n, incident_p50, incident_p90, incident_p99,
        baseline_p50, baseline_p90, baseline_p99, p50_ratio, p99_ratio, ks`` (the largest
        gap between the two CDFs, 0..1), ``p_value, q_value, significant``; sorted by ``ks``.

    Example
    -------
    >>> inc = pd.DataFrame({"latency_ms": [100.0] * 80 + [5000.0] * 20})
    >>> base = pd.DataFrame({"latency_ms": [100.0] * 99 + [400.0]})
    >>> r = compare_numeric(inc, base).iloc[0]
    >>> float(r["incident_p99"]), round(float(r["baseline_p99"]), 1), round(float(r["ks"]), 2)
    (5000.0, 103.0, 0.2)
    """
    cols_out = ["column", "incident_n", "baseline_n", "incident_p50", "incident_p90", "incident_p99",
                "baseline_p50", "baseline_p90", "baseline_p99", "p50_ratio", "p99_ratio", "ks", "p_value",
                "q_value", "significant"]
    empty = pd.DataFrame({c: pd.Series([], dtype="object" if c == "column" else
                                       ("bool" if c == "significant" else ("int64" if c.endswith("_n") else "float64")))
                          for c in cols_out})
    if incident is None:
        return empty
    inc, base, _ = _split(incident, baseline)
    if inc.empty or base.empty:
        return empty
    if columns is None:
        cols = [c for c in numeric_columns(inc, status=status) if c in base.columns]
    else:
        cols = [c for c in columns if c in inc.columns and c in base.columns]
    rows = []
    for c in cols:
        a = pd.to_numeric(inc[c], errors="coerce").dropna().to_numpy(dtype="float64")
        b = pd.to_numeric(base[c], errors="coerce").dropna().to_numpy(dtype="float64")
        if len(a) == 0 or len(b) == 0:
            continue
        qa, qb = np.quantile(a, [0.5, 0.9, 0.99]), np.quantile(b, [0.5, 0.9, 0.99])
        d, p = ks_2samp(a, b)
        rows.append({"column": c, "incident_n": len(a), "baseline_n": len(b),
                     "incident_p50": qa[0], "incident_p90": qa[1], "incident_p99": qa[2],
                     "baseline_p50": qb[0], "baseline_p90": qb[1], "baseline_p99": qb[2],
                     "p50_ratio": qa[0] / qb[0] if qb[0] else np.nan,
                     "p99_ratio": qa[2] / qb[2] if qb[2] else np.nan, "ks": d, "p_value": p})
    if not rows:
        return empty
    out = pd.DataFrame(rows)
    out["q_value"] = benjamini_hochberg(out["p_value"])
    out["significant"] = (out["q_value"] < alpha).astype(bool)
    return out.sort_values("ks", ascending=False, kind="stable")[cols_out].reset_index(drop=True)
