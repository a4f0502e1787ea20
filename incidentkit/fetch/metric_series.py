"""Reading the long metrics frame: one metric as a Series (:func:`series`), all as columns (:func:`wide`).

Both fill missing periods on the fetch's aligned window when asked (CloudWatch returns no row for
a period without data). Re-exported by :mod:`incidentkit.fetch.metrics`.

Example
-------
>>> df = pd.DataFrame({"timestamp": pd.to_datetime(["2026-03-01T03:00Z"], utc=True), "query_id": ["a"],
...     "label": ["A"], "namespace": "N", "metric_name": ["x"], "dimensions": "{}", "stat": "Sum",
...     "period": 60, "value": [1.0]})
>>> series(df, "x").tolist()
[1.0]
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

import pandas as pd

from .. import schema
from ..errors import ParameterError
from .metric_query import canonical_stat

def _select(df: pd.DataFrame, metric_name: str | None, stat: str | None, query_id: str | None, label: str | None) -> pd.DataFrame:
    missing = [c for c in ("timestamp", "query_id", "metric_name", "stat", "value") if c not in df.columns]
    if missing:
        raise ParameterError(f"not a metrics frame: missing columns {missing}")
    mask = pd.Series(True, index=df.index)
    if metric_name is not None:
        mask &= df["metric_name"] == metric_name
    if stat is not None:
        mask &= df["stat"] == canonical_stat(stat)
    if query_id is not None:
        mask &= df["query_id"] == query_id
    if label is not None:
        mask &= df["label"] == label
    return df[mask.fillna(False).astype(bool)]


def _known_queries(df: pd.DataFrame) -> list[dict[str, Any]]:
    q = df.attrs.get("query") if isinstance(df.attrs.get("query"), Mapping) else None
    return list(q.get("queries", [])) if q else []


def _grid(df: pd.DataFrame, periods: Iterable[int], index: pd.DatetimeIndex) -> pd.DatetimeIndex:
    ps = sorted({int(p) for p in periods})
    if len(ps) != 1:
        raise ParameterError(f"cannot fill a regular grid over several periods {ps}; select one period first")
    p = ps[0]
    aligned = (df.attrs.get("query") or {}).get("aligned") if isinstance(df.attrs.get("query"), Mapping) else None
    spans = [a for a in (aligned or []) if a.get("period") == p or (isinstance(a.get("period"), list) and p in a["period"])]
    if spans:
        start = min(pd.Timestamp(a["start"]) for a in spans)
        end = max(pd.Timestamp(a["end"]) for a in spans)
    elif len(index):
        start, end = index.min(), index.max() + pd.Timedelta(seconds=p)
    else:
        return pd.DatetimeIndex([], tz="UTC", name="timestamp")
    grid = pd.date_range(start.tz_convert("UTC"), end.tz_convert("UTC"), freq=pd.Timedelta(seconds=p), inclusive="left", name="timestamp")
    return grid.union(index).astype(schema.UTC_NS)


def series(
    df: pd.DataFrame,
    metric_name: str | None = None,
    stat: str | None = None,
    query_id: str | None = None,
    *,
    label: str | None = None,
    fill: float | None = None,
) -> pd.Series:
    """One metric as a float Series indexed by UTC timestamp.

    The selection must name exactly one query (by ``query_id``, ``label``, or
    ``metric_name`` + ``stat``); an ambiguous one raises :class:`ParameterError` listing the
    candidates instead of mixing series. ``fill`` puts that value on the periods with no
    datapoint (``fill=0`` for counts such as ``Errors``/``Sum``: CloudWatch omits zero
    periods), on the fetch's aligned window.

    Example
    -------
    >>> df = pd.DataFrame({"timestamp": pd.to_datetime(["2026-03-01T03:00Z", "2026-03-01T03:02Z"], utc=True),
    ...     "query_id": "e", "label": "api Errors Sum", "namespace": "AWS/Lambda", "metric_name": "Errors",
    ...     "dimensions": "{}", "stat": "Sum", "period": 60, "value": [1.0, 4.0]})
    >>> series(df, "Errors", fill=0).tolist()
    [1.0, 0.0, 4.0]
    """
    sub = _select(df, metric_name, stat, query_id, label)
    ids = list(dict.fromkeys(sub["query_id"].dropna().tolist()))
    if len(ids) > 1:
        raise ParameterError(
            f"{len(ids)} queries match ({', '.join(map(str, ids[:8]))}{'...' if len(ids) > 8 else ''}); "
            "name one with query_id= or add stat="
        )
    if not ids:
        known = _known_queries(df)
        match = [
            k for k in known
            if (query_id is None or k.get("id") == query_id)
            and (metric_name is None or k.get("metric_name") == metric_name)
            and (stat is None or k.get("stat") == canonical_stat(stat))
            and (label is None or k.get("label") == label)
        ]
        if len(match) > 1:
            raise ParameterError(f"{len(match)} queries match ({', '.join(k['id'] for k in match[:8])}); name one with query_id=")
        if not match:
            wanted = {k: v for k, v in {"metric_name": metric_name, "stat": stat, "query_id": query_id, "label": label}.items() if v is not None}
            raise ParameterError(f"no metric in the frame matches {wanted}; the frame has {sorted(set(df['query_id'].dropna()))[:10]}")
        name = match[0].get("label") or match[0].get("id")
        out = pd.Series([], dtype="float64", index=pd.DatetimeIndex([], tz="UTC", name="timestamp").astype(schema.UTC_NS), name=name)
        if fill is not None and match[0].get("period"):
            grid = _grid(df, [match[0]["period"]], out.index)
            out = out.reindex(grid, fill_value=fill)
        return out
    sub = sub.sort_values("timestamp")
    out = pd.Series(
        sub["value"].to_numpy(dtype="float64"),
        index=pd.DatetimeIndex(sub["timestamp"], name="timestamp").astype(schema.UTC_NS),
        name=str(sub["label"].iloc[0]) if "label" in sub.columns and pd.notna(sub["label"].iloc[0]) else ids[0],
    )
    if fill is not None:
        out = out.reindex(_grid(df, sub["period"].unique(), out.index), fill_value=fill)
    return out


def wide(df: pd.DataFrame, *, columns: str = "query_id", fill: float | None = None) -> pd.DataFrame:
    """One column per query (``columns="query_id"`` or ``"label"``), indexed by UTC timestamp.

    Columns follow the order of the queries in ``df.attrs`` (else of appearance);
    queries that returned no datapoint still get a (NaN) column. ``fill`` fills missing
    periods on the fetch's aligned window (single period only).

    Example
    -------
    >>> df = pd.DataFrame({"timestamp": pd.to_datetime(["2026-03-01T03:00Z"] * 2, utc=True),
    ...     "query_id": ["a", "b"], "label": ["A", "B"], "namespace": "N", "metric_name": ["x", "y"],
    ...     "dimensions": "{}", "stat": "Sum", "period": 60, "value": [1.0, 2.0]})
    >>> wide(df, columns="label").columns.tolist()
    ['A', 'B']
    """
    if columns not in ("query_id", "label"):
        raise ParameterError(f"columns={columns!r}: use 'query_id' or 'label'")
    _select(df, None, None, None, None)
    known = _known_queries(df)
    order_ids = [k["id"] for k in known] or list(dict.fromkeys(df["query_id"].dropna().tolist()))
    for rid in dict.fromkeys(df["query_id"].dropna().tolist()):
        if rid not in order_ids:
            order_ids.append(rid)
    if columns == "label":
        label_of = {k["id"]: k.get("label") or k["id"] for k in known}
        label_of.update(dict(zip(df["query_id"].astype(object), df["label"].astype(object))))
        names = [label_of.get(i, i) for i in order_ids]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ParameterError(f"labels {dup[:5]} name several queries; use columns='query_id'")
        rename = dict(zip(order_ids, names))
    else:
        rename = {i: i for i in order_ids}
    if len(df):
        table = df.pivot(index="timestamp", columns="query_id", values="value")
    else:
        table = pd.DataFrame(index=pd.DatetimeIndex([], tz="UTC", name="timestamp"))
    table = table.reindex(columns=order_ids)
    table.columns = pd.Index([rename[c] for c in order_ids], name=columns)
    table.index = pd.DatetimeIndex(table.index, name="timestamp").astype(schema.UTC_NS)
    table = table.sort_index().astype("float64")
    if fill is not None:
        periods = df["period"].unique() if len(df) else [k.get("period") for k in known if k.get("period")]
        table = table.reindex(_grid(df, periods, table.index)).fillna(fill)
    return table
