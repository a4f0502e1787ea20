"""Small helpers shared by the analyses: time bins, status classes, statistics, metric selection.

Kept small and stable on purpose: every analysis module may import from here.

* :func:`auto_bin` — a round bin width giving ~60-200 bins over a span.
* :func:`as_utc` — a column as ``datetime64[ns, UTC]``.
* :func:`status_class` — ``2xx`` / ``3xx`` / ``4xx`` / ``5xx`` / ``other`` / ``(none)``.
* :func:`flag` — a nullable boolean column as plain ``bool`` (NA is False).
* :func:`norm_sf`, :func:`two_proportion_z`, :func:`wilson_interval`,
  :func:`benjamini_hochberg`, :func:`binom_sf` — the tests the analyses use (no scipy), from
  :mod:`incidentkit.analyses.significance` (re-exported here).
* :func:`normalize_stat`, :func:`select_metric` — pick metric datapoints by
  namespace + metric name + statistic (``p99`` and ``p99.0`` are the same statistic).
* :func:`severity_for_share` — the kit's severity scale for "share of requests failing".
* :func:`empty_table`, :func:`column_or_na`, :func:`to_float`, :func:`first_group`,
  :func:`parse_dims`, :func:`iso_z`, :func:`sentence_case`,
  :func:`change_records`, :func:`load_balancer_level`, :func:`tg_matches`,
  :func:`request_share` — small frame, dimension and text helpers the deploy,
  health-check, saturation and throttling analyses share.

Example
-------
>>> import pandas as pd
>>> auto_bin(pd.Timestamp("2026-03-01T03:00Z"), pd.Timestamp("2026-03-01T04:00Z"))
Timedelta('0 days 00:00:30')
>>> round(two_proportion_z(30, 100, 10, 100)[1], 5)
0.00041
"""

from __future__ import annotations

import json
import math
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .._util.fmt import iso as iso_z
from .._util.fmt import ms as fmt_ms
from .._util.fmt import p_value as fmt_p
from .._util.fmt import percent as pct
from .._util.severity import downgrade
from ._text_columns import as_text, category_texts, codes_as_is, text_codes
from .significance import benjamini_hochberg, binom_sf, norm_sf, two_proportion_z, wilson_interval

__all__ = [
    "metric_period",
    "true_runs",
    "sum_between",
    "values_between",
    "dimension",
    "episode_table",
    "UTC_NS",
    "NICE_BINS",
    "auto_bin",
    "to_timedelta",
    "as_utc",
    "bin_floor",
    "status_class",
    "flag",
    "norm_sf",
    "two_proportion_z",
    "wilson_interval",
    "benjamini_hochberg",
    "normalize_stat",
    "select_metric",
    "severity_for_share",
    "downgrade",
    "pct",
    "fmt_ms",
    "fmt_p",
    "empty_table",
    "column_or_na",
    "to_float",
    "first_group",
    "parse_dims",
    "iso_z",
    "sentence_case",
    "binom_sf",
    "change_records",
    "load_balancer_level",
    "tg_matches",
    "request_share",
    "text_codes",
    "category_texts",
    "codes_as_is",
    "as_text",
    "select_rows",
    "text_test",
    "positions_in",
]

UTC_NS = "datetime64[ns, UTC]"

#: Candidate bin widths, smallest first.
NICE_BINS: tuple[pd.Timedelta, ...] = tuple(
    pd.Timedelta(x)
    for x in (
        "1s", "2s", "5s", "10s", "15s", "30s", "1min", "2min", "5min", "10min", "15min", "30min",
        "1h", "2h", "3h", "6h", "12h", "1D", "2D", "7D",
    )
)


def auto_bin(start: pd.Timestamp, end: pd.Timestamp, *, max_bins: int = 200) -> pd.Timedelta:
    """The smallest round bin width that cuts ``[start, end)`` into at most ``max_bins`` bins.

    Consecutive candidates differ by at most 2.5x, so a span of a few minutes or more
    gets between ``max_bins / 2.5`` (80) and ``max_bins`` (200) bins.

    Example
    -------
    >>> auto_bin(pd.Timestamp("2026-03-01T00:00Z"), pd.Timestamp("2026-03-02T00:00Z"))
    Timedelta('0 days 00:10:00')
    """
    span = pd.Timedelta(end - start)
    if span <= pd.Timedelta(0):
        return NICE_BINS[0]
    for step in NICE_BINS:
        if span / step <= max_bins:
            return step
    return NICE_BINS[-1]


def to_timedelta(value: Any) -> pd.Timedelta:
    """``"1min"``, ``"30s"``, ``60`` (seconds) or a Timedelta, as a positive Timedelta."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        td = pd.Timedelta(seconds=float(value))
    else:
        td = pd.Timedelta(value)
    if pd.isna(td) or td <= pd.Timedelta(0):
        raise ValueError(f"bin width {value!r} must be a positive duration like '1min' or '30s'")
    return td


def as_utc(values: Any) -> pd.Series:
    """A series of times as ``datetime64[ns, UTC]`` (naive times are taken as UTC)."""
    s = values if isinstance(values, pd.Series) else pd.Series(values)
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        out = s.dt.tz_convert("UTC")
    elif pd.api.types.is_datetime64_any_dtype(s.dtype):
        out = s.dt.tz_localize("UTC")
    elif pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        out = pd.to_datetime(s, unit="ms", utc=True)
    else:
        out = pd.to_datetime(s, utc=True, format="mixed" if len(s) else None)
    return out.astype(UTC_NS)


def bin_floor(times: pd.Series, width: pd.Timedelta, origin: pd.Timestamp | None = None) -> pd.Series:
    """Floor UTC times to bins of ``width`` counted from ``origin`` (default: the epoch)."""
    if origin is None:
        return times.dt.floor(width)
    return origin + ((times - origin) // width) * width


def status_class(status: pd.Series) -> pd.Series:
    """HTTP status codes as their class: ``2xx`` ... ``5xx``, ``other``, or ``(none)`` when missing.

    Example
    -------
    >>> status_class(pd.Series([200, 404, 503, None], dtype="Int64")).tolist()
    ['2xx', '4xx', '5xx', '(none)']
    """
    codes = pd.to_numeric(status, errors="coerce")
    out = pd.Series("other", index=status.index, dtype="object")
    for k in (1, 2, 3, 4, 5):
        out[(codes >= k * 100) & (codes < (k + 1) * 100)] = f"{k}xx"
    out[codes.isna()] = "(none)"
    return out


def select_rows(frame: pd.DataFrame, mask: np.ndarray, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """``frame.loc[mask, columns]``, each column filtered by the boolean ``mask``.

    The same frame (values, dtypes, index), without pandas' row ``take``: on an Arrow text column
    of many chunks (the parsed ``message`` of a million lines) that first concatenates every
    chunk into one copy of the whole column (~0.4 s and 240 MB at 1M events), where a filter
    copies only the rows kept.

    Example
    -------
    >>> df = pd.DataFrame({"a": pd.array(["x", "y", "z"], dtype="string"), "b": [1, 2, 3]})
    >>> select_rows(df, np.array([True, False, True]), ["a"])["a"].tolist()
    ['x', 'z']
    """
    mask = np.asarray(mask, dtype=bool)
    names = list(frame.columns) if columns is None else list(columns)
    index = frame.index[mask]
    return pd.DataFrame({c: pd.Series(frame[c].array[mask], index=index, copy=False) for c in names}, index=index)


def text_test(values: pd.Series, test: Callable[[pd.Series], pd.Series]) -> np.ndarray:
    """``test`` of a column read as text, a ``bool`` a row (missing: False); on a dictionary column
    run once over its distinct values, not over a text copy of every row.

    Example
    -------
    >>> text_test(pd.Series(["error", None, "info"], dtype="category"), lambda s: s.str.upper() == "ERROR").tolist()
    [True, False, False]
    """
    if isinstance(values.dtype, pd.CategoricalDtype):
        distinct = pd.Series(np.asarray(values.cat.categories, dtype=object), dtype="object").astype("string")
        hit = np.append(test(distinct).fillna(False).to_numpy(dtype=bool), False)  # a missing value's code -1: False
        return hit[values.cat.codes.to_numpy()]
    return test(values.astype("string")).fillna(False).to_numpy(dtype=bool)


def _as_arrow_text(values: Any) -> pa.Array:
    """A text column (Arrow-backed or not) as one ``large_string`` Arrow array; missing values null."""
    data = pd.array(values, dtype="string") if not isinstance(values, pd.api.extensions.ExtensionArray) else values
    if not isinstance(data.dtype, pd.StringDtype):
        data = data.astype("string")
    out = pa.array(data)
    out = out.combine_chunks() if isinstance(out, pa.ChunkedArray) else out
    return out.cast(pa.large_string())


def positions_in(keys: Any, values: Any) -> np.ndarray:
    """The position of each of ``keys`` in ``values`` (distinct texts): ``values.get_indexer(keys)``, -1
    for a key absent or missing, both read as text.

    One Arrow hash lookup: on a million request ids, no Python string of either side (pandas' object
    index builds one per id, and a hash table of them, for every lookup).

    Example
    -------
    >>> positions_in(pd.Series(["b", None, "z", "a"], dtype="string"), pd.Index(["a", "b"])).tolist()
    [1, -1, -1, 0]
    """
    keys = keys.array if isinstance(keys, (pd.Series, pd.Index)) else keys
    values = values.array if isinstance(values, (pd.Series, pd.Index)) else values
    if len(keys) == 0:
        return np.zeros(0, dtype="int64")
    if len(values) == 0:
        return np.full(len(keys), -1, dtype="int64")
    at = pc.index_in(_as_arrow_text(keys), value_set=_as_arrow_text(values))
    return np.asarray(at.fill_null(-1).to_numpy(zero_copy_only=False), dtype="int64")


def flag(values: pd.Series | None, index: pd.Index | None = None) -> pd.Series:
    """A (nullable) boolean-ish column as plain ``bool``; NA and missing are False."""
    if values is None:
        return pd.Series(False, index=index, dtype="bool")
    s = values
    if s.dtype == object and pd.api.types.infer_dtype(s, skipna=True) == "boolean":
        s = s.astype("boolean")  # True/False and missing values (a boolean column read as objects): no call per row
    elif s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
        s = s.map(lambda v: str(v).strip().lower() in ("true", "1", "yes", "y", "t") if not _isna(v) else False)
    return s.astype("boolean").fillna(False).astype("bool")


def _isna(v: Any) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def normalize_stat(stat: Any) -> str:
    """A CloudWatch statistic in one spelling: ``p99.0``/``P99`` → ``p99``, ``Average`` → ``average``.

    Example
    -------
    >>> [normalize_stat(s) for s in ("p99.0", "P99", "p99.90", "Maximum", "tm99")]
    ['p99', 'p99', 'p99.9', 'maximum', 'tm99']
    """
    text = str(stat).strip().lower()
    head = text.rstrip("0123456789.")
    tail = text[len(head):]
    if head in ("p", "tm", "wm", "tc", "ts", "pr") and tail:
        try:
            num = float(tail)
        except ValueError:
            return text
        return f"{head}{num:g}"
    return text


def select_metric(
    metrics: pd.DataFrame | None,
    namespace: str | None,
    metric_name: str | Sequence[str],
    stat: str | Sequence[str] | None = None,
    *,
    start: pd.Timestamp | None = None,
    end: pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Datapoints of one metric from a long metrics frame (``schema.METRIC_COLUMNS``).

    Selection is by namespace + metric name (+ statistic), never by ``query_id``;
    names and namespaces match case-insensitively, statistics through :func:`normalize_stat`.
    ``metric_name`` and ``stat`` may list alternatives (``("5XXError", "5xx")``); the
    first statistic present wins.

    Returns
    -------
    DataFrame
        ``timestamp, dimensions, stat, period, value`` sorted by time (empty when absent).
    """
    cols = ["timestamp", "dimensions", "stat", "period", "value"]
    if metrics is None or metrics.empty or not {"metric_name", "value", "timestamp"} <= set(metrics.columns):
        return pd.DataFrame({c: pd.Series([], dtype=UTC_NS if c == "timestamp" else "object") for c in cols})
    names = [metric_name] if isinstance(metric_name, str) else list(metric_name)
    sel = metrics["metric_name"].astype("string").str.lower().isin([n.lower() for n in names]).fillna(False)
    if namespace is not None and "namespace" in metrics.columns:
        sel &= (metrics["namespace"].astype("string").str.lower() == namespace.lower()).fillna(False)
    df = metrics.loc[sel.to_numpy(dtype=bool)]
    if stat is not None and "stat" in df.columns and not df.empty:
        wanted = [stat] if isinstance(stat, str) else list(stat)
        normal = df["stat"].map(normalize_stat)
        for w in wanted:
            hit = normal == normalize_stat(w)
            if hit.any():
                df = df.loc[hit]
                break
        else:
            df = df.iloc[0:0]
    out = pd.DataFrame(
        {
            "timestamp": as_utc(df["timestamp"]).to_numpy() if len(df) else pd.Series([], dtype=UTC_NS),
            "dimensions": df["dimensions"].astype("object").to_numpy() if "dimensions" in df.columns else None,
            "stat": df["stat"].astype("object").to_numpy() if "stat" in df.columns else None,
            "period": df["period"].to_numpy() if "period" in df.columns else None,
            "value": pd.to_numeric(df["value"], errors="coerce").to_numpy(dtype="float64"),
        },
        columns=cols,
    )
    out["timestamp"] = as_utc(out["timestamp"])
    if start is not None:
        out = out[out["timestamp"] >= start]
    if end is not None:
        out = out[out["timestamp"] < end]
    return out.dropna(subset=["value"]).sort_values("timestamp", kind="stable").reset_index(drop=True)


_SEVERITY_STEPS = ((0.20, "critical"), (0.05, "high"), (0.01, "medium"))


def severity_for_share(share: float, *, duration: pd.Timedelta | None = None) -> str:
    """The kit's severity for "this share of requests failed (or were badly slow)".

    ``>= 20 %`` critical, ``>= 5 %`` high, ``>= 1 %`` medium, below that low (``info`` at 0).
    A ``duration`` under 5 minutes lowers it one step (never below ``low``).

    Example
    -------
    >>> severity_for_share(0.3), severity_for_share(0.03), severity_for_share(0.3, duration=pd.Timedelta("2min"))
    ('critical', 'medium', 'high')
    """
    if not share or share <= 0 or math.isnan(share):
        return "info"
    sev = "low"
    for limit, name in _SEVERITY_STEPS:
        if share >= limit:
            sev = name
            break
    if duration is not None and duration < pd.Timedelta(minutes=5):
        sev = downgrade(sev)
    return sev


def empty_table(columns: Sequence[str], dtypes: dict[str, str] | None = None) -> pd.DataFrame:
    """An empty frame with ``columns`` (``object`` unless ``dtypes`` names another dtype)."""
    dtypes = dtypes or {}
    return pd.DataFrame({c: pd.Series([], dtype=dtypes.get(c, "object")) for c in columns})


def column_or_na(df: pd.DataFrame | None, name: str, dtype: str = "string") -> pd.Series:
    """``df[name]``, or an all-NA series of ``dtype`` when the column is absent (empty when ``df`` is None)."""
    if df is None:
        return pd.Series([], dtype=dtype)
    if name in df.columns:
        return df[name]
    return pd.Series(pd.NA, index=df.index, dtype=dtype)


def to_float(values: pd.Series) -> pd.Series:
    """Numbers as ``float64``; what does not parse is NaN."""
    return pd.to_numeric(values, errors="coerce").astype("float64")


def first_group(found: pd.DataFrame) -> pd.Series:
    """The first non-missing group of each row of a ``str.extract`` result."""
    out = found.iloc[:, 0]
    for c in found.columns[1:]:
        out = out.fillna(found[c])
    return out


def parse_dims(text: Any) -> dict[str, str]:
    """Metric dimensions (a JSON object text or a dict) as ``{name: value}``; ``{}`` when missing or unreadable.

    Example
    -------
    >>> parse_dims('{"TableName": "orders"}'), parse_dims({"InstanceId": "i-1"}), parse_dims(None)
    ({'TableName': 'orders'}, {'InstanceId': 'i-1'}, {})
    """
    if isinstance(text, dict):
        return {str(k): str(v) for k, v in text.items()}
    if text is None or text is pd.NA or (isinstance(text, float) and math.isnan(text)):
        return {}
    try:
        data = json.loads(str(text))
    except (ValueError, TypeError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def sentence_case(text: str) -> str:
    """The first letter upper-cased, the rest untouched."""
    return text[:1].upper() + text[1:]


def change_records(rows: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of a changes frame as evidence records (the usual change columns present; NA/NaN as None)."""
    keep = [c for c in ("timestamp", "source", "event_name", "class", "actor", "resource", "error_code", "detail") if c in rows.columns]
    return [{k: (None if (v is pd.NA or (isinstance(v, float) and math.isnan(v))) else v) for k, v in r.items()}
            for r in rows[keep].to_dict("records")]


def load_balancer_level(df: pd.DataFrame) -> pd.DataFrame:
    """Keep one level of a load-balancer metric so nothing is counted twice.

    CloudWatch publishes the same requests per load balancer, per target group and per
    Availability Zone; prefer the load-balancer totals, then per target group, then the AZs.
    """
    if df.empty:
        return df
    keys = df["dimensions"].map(lambda d: frozenset(parse_dims(d)))
    for level in (lambda k: "TargetGroup" not in k and "AvailabilityZone" not in k,
                  lambda k: "AvailabilityZone" not in k):
        sel = keys.map(level).to_numpy(dtype=bool)
        if sel.any():
            return df.loc[sel]
    return df


def tg_matches(resource_id: str, tg_dim: str) -> bool:
    """A target group ARN (``arn:...:targetgroup/web/abc``) against the CloudWatch dimension (``targetgroup/web/abc``).

    An empty side, or ``(all)`` (the analyses' label for "no target group"), matches everything.
    """
    if not resource_id or not tg_dim or tg_dim == "(all)":
        return True
    r, d = resource_id.lower(), tg_dim.lower()
    if r == d or r.endswith(d) or d.endswith(r):
        return True
    name_r = r.split("targetgroup/", 1)[-1].split("/")[0]
    name_d = d.split("targetgroup/", 1)[-1].split("/")[0]
    return bool(name_r) and name_r == name_d


def request_share(requests: pd.DataFrame | None, request_ids: pd.Series) -> float:
    """Share of the distinct request ids of ``requests`` that are among ``request_ids``.

    NaN when it cannot be known: no requests, or none of ``request_ids`` is set (error lines
    that carry no request id cannot be linked to requests; that is not a share of 0).
    """
    if requests is None or requests.empty or "request_id" not in requests.columns:
        return float("nan")
    if not request_ids.notna().any():
        return float("nan")
    total = requests["request_id"].dropna().nunique()
    if not total:
        return float("nan")
    hit = set(request_ids.dropna().astype(str)) & set(requests["request_id"].dropna().astype(str))
    return len(hit) / total


def metric_period(df: pd.DataFrame, default: float = 60.0) -> pd.Timedelta:
    """The period of metric datapoints (their median ``period``, else ``default`` seconds)."""
    p = pd.to_numeric(df["period"], errors="coerce").dropna() if "period" in df.columns else pd.Series([], dtype=float)
    return pd.Timedelta(seconds=float(p.median()) if len(p) else default)


def true_runs(times: pd.Series, flags: np.ndarray, period: pd.Timedelta) -> list[tuple[int, int]]:
    """Index ranges ``(first, last)`` of consecutive True bins (a missing bin breaks a run)."""
    runs: list[tuple[int, int]] = []
    start = None
    prev_t = None
    for i, (t, f) in enumerate(zip(times, flags)):
        if f and start is not None and prev_t is not None and t - prev_t <= period * 1.5:
            prev_t = t
            continue
        if start is not None:
            runs.append((start, i - 1))
            start = None
        if f:
            start = i
            prev_t = t
    if start is not None:
        runs.append((start, len(flags) - 1))
    return runs


def sum_between(df: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> float:
    """The sum of ``value`` over ``[start, end)``."""
    if df.empty:
        return 0.0
    sel = (df["timestamp"] >= start) & (df["timestamp"] < end)
    return float(df.loc[sel, "value"].sum())


def values_between(df: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> pd.Series:
    """The ``value`` of the rows in ``[start, end)`` (an empty float series when ``df`` is empty).

    Example
    -------
    >>> ts = pd.date_range("2026-03-01T10:00Z", periods=4, freq="1min")
    >>> values_between(pd.DataFrame({"timestamp": ts, "value": [1.0, 2.0, 3.0, 4.0]}), ts[1], ts[3]).tolist()
    [2.0, 3.0]
    """
    if df.empty:
        return pd.Series([], dtype=float)
    return df[(df["timestamp"] >= start) & (df["timestamp"] < end)]["value"]


def dimension(df: pd.DataFrame, name: str, default: str | None = "(all)") -> pd.Series:
    """Each row's metric dimension ``name`` (from its ``dimensions``), ``default`` where it has none.

    Example
    -------
    >>> dimension(pd.DataFrame({"dimensions": ['{"LoadBalancer": "app/web/1"}', "{}"]}), "LoadBalancer").tolist()
    ['app/web/1', '(all)']
    """
    return df["dimensions"].map(lambda d: parse_dims(d).get(name, default))


def episode_table(rows: list[dict[str, Any]], columns: Sequence[str], dtypes: dict[str, str]) -> pd.DataFrame:
    """Episodes (``start``, ``end``, ``ongoing`` and ``columns``) as a frame in time order; typed and empty without rows.

    Example
    -------
    >>> t = pd.Timestamp("2026-03-01T10:00Z")
    >>> episode_table([{"start": t, "end": t + pd.Timedelta("1min"), "ongoing": False}], ["start", "end", "ongoing"],
    ...               {"start": UTC_NS, "end": UTC_NS, "ongoing": "bool"}).dtypes.astype(str).tolist()
    ['datetime64[ns, UTC]', 'datetime64[ns, UTC]', 'bool']
    """
    if not rows:
        return empty_table(columns, dtypes)
    out = pd.DataFrame(rows, columns=list(columns))
    out["start"] = as_utc(out["start"])
    out["end"] = as_utc(out["end"])
    out["ongoing"] = out["ongoing"].astype(bool)
    return out.sort_values("start", kind="stable", ignore_index=True)
