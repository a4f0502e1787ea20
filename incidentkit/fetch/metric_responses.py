"""GetMetricData responses -> the long metrics frame (:data:`~incidentkit.schema.METRIC_COLUMNS`).

:func:`from_responses` turns the pages of one or several GetMetricData calls (botocore's, the
AWS CLI's JSON, a replayed evidence bundle) into the frame :func:`incidentkit.fetch.metrics.get`
returns, with every ``PartialData``/``InternalError``/``Forbidden`` status and every message
kept as an issue. Re-exported by :mod:`incidentkit.fetch.metrics`.

Example
-------
>>> page = {"MetricDataResults": [{"Id": "m1", "Label": "cpu", "StatusCode": "Complete",
...          "Timestamps": ["2026-03-01T03:00:00Z"], "Values": [42.0]}], "Messages": []}
>>> len(from_responses(page, period=60))
1
"""

from __future__ import annotations

import warnings
from collections import OrderedDict
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from .. import schema
from ..errors import IncompleteDataWarning, ParameterError
from .metric_query import MetricQuery, check_period_shape

_INCOMPLETE_STATUSES = {"PartialData", "InternalError", "Forbidden"}
#: What a final incomplete status means, said in the issue.
_STATUS_HINTS = {
    "PartialData": "AWS returned only part of the datapoints and no NextToken to get the rest",
    "InternalError": "CloudWatch had an internal error for this query; re-run",
    "Forbidden": "access to this metric was refused (cross-account or cross-region?)",
}


def _warn_incomplete(issues: list[str], *, stacklevel: int) -> None:
    head = issues[0] if len(issues) == 1 else f"{issues[0]} (+{len(issues) - 1} more in df.attrs['issues'])"
    warnings.warn(f"metrics incomplete: {head}", IncompleteDataWarning, stacklevel=stacklevel)

def _epoch_ns(values: Sequence[Any]) -> np.ndarray:
    """Timestamps from botocore (datetime), JSON (ISO text) or epoch seconds -> int64 ns."""
    if not len(values):
        return np.empty(0, dtype="int64")
    first = values[0]
    if hasattr(first, "timestamp") and not isinstance(first, pd.Timestamp):
        secs = np.fromiter((v.timestamp() for v in values), dtype="float64", count=len(values))
        return (np.round(secs * 1000.0).astype("int64")) * 1_000_000
    if isinstance(first, (int, float, np.integer, np.floating)) and not isinstance(first, bool):
        secs = np.asarray(values, dtype="float64")
        return (np.round(secs * 1000.0).astype("int64")) * 1_000_000
    idx = pd.DatetimeIndex(pd.to_datetime(list(values), utc=True, format="ISO8601"))
    return np.asarray(idx.as_unit("ns").asi8, dtype="int64")


def _is_page(obj: Any) -> bool:
    return isinstance(obj, Mapping) and ("MetricDataResults" in obj or "Messages" in obj or "NextToken" in obj)


def from_responses(
    responses: Mapping[str, Any] | Iterable[Mapping[str, Any]] | Iterable[Iterable[Mapping[str, Any]]],
    queries: Iterable[MetricQuery] | None = None,
    *,
    period: int | None = None,
    warn: bool = True,
) -> pd.DataFrame:
    """Turn GetMetricData responses into the frame :func:`get` returns.

    Useful on responses obtained elsewhere (the AWS CLI's JSON, a boto3 call of your own,
    a replayed evidence bundle).

    Parameters
    ----------
    responses:
        One response dict; a list of pages of one call (followed with NextToken); or a
        list of calls, each a list of pages. A result's final ``StatusCode`` is the one
        on the last page of its call that mentions it.
    queries:
        The queries asked, to fill namespace/metric/dimensions/stat/period. Results whose
        id is not among them (e.g. metric-math expressions) keep NA there and take
        ``period`` (required then).
    warn:
        Emit :class:`~incidentkit.errors.IncompleteDataWarning` when incomplete.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`~incidentkit.schema.METRIC_COLUMNS`; ``df.attrs`` holds
        ``complete``, ``truncated``, ``issues``, ``statuses`` (final StatusCode counts)
        and ``duplicates_dropped``.

    Example
    -------
    >>> page = {"MetricDataResults": [{"Id": "m1", "Label": "cpu", "StatusCode": "Complete",
    ...          "Timestamps": ["2026-03-01T03:00:00Z"], "Values": [42.0]}], "Messages": []}
    >>> q = MetricQuery("m1", "AWS/EC2", "CPUUtilization", {"InstanceId": "i-1"}, "Maximum", period=60)
    >>> df = from_responses(page, [q])
    >>> df.loc[0, "metric_name"], float(df.loc[0, "value"]), int(df.loc[0, "period"]), str(df.loc[0, "timestamp"])
    ('CPUUtilization', 42.0, 60, '2026-03-01 03:00:00+00:00')
    """
    calls = _calls_of(responses)
    by_id = {q.id: q for q in (queries or [])}
    if period is not None:
        period = check_period_shape(period)
    ts_parts, val_parts, labels, issues, statuses = _read_pages(calls)
    truncated = any(i.startswith("query ") and "StatusCode PartialData" in i for i in issues)

    unknown = [rid for rid in ts_parts if rid not in by_id]
    if unknown and period is None and any(sum(len(a) for a in ts_parts[r]) for r in unknown):
        raise ParameterError(
            f"results {unknown[:5]} are not among the queries given; pass their queries, or period= to keep them"
        )
    df, duplicates = _long_frame(ts_parts, val_parts, labels, by_id, period)
    df.attrs.update(
        {
            "complete": not issues,
            "truncated": truncated,
            "issues": issues,
            "statuses": statuses,
            "duplicates_dropped": duplicates,
        }
    )
    if issues and warn:
        _warn_incomplete(issues, stacklevel=2)
    return df


def _calls_of(
    responses: Mapping[str, Any] | Iterable[Mapping[str, Any]] | Iterable[Iterable[Mapping[str, Any]]],
) -> list[list[Mapping[str, Any]]]:
    """The responses as a list of calls, each a list of pages (one page, the pages of one call, or calls)."""
    if _is_page(responses):
        return [[responses]]  # type: ignore[list-item]
    items = list(responses)  # type: ignore[arg-type]
    if all(_is_page(x) for x in items):
        return [items] if items else []  # type: ignore[list-item]
    calls: list[list[Mapping[str, Any]]] = []
    for item in items:
        pages = [item] if _is_page(item) else list(item)
        if not all(_is_page(p) for p in pages):
            raise ParameterError("responses must be GetMetricData response dicts (with MetricDataResults)")
        calls.append(pages)  # type: ignore[arg-type]
    return calls


def _read_pages(
    calls: list[list[Mapping[str, Any]]],
) -> tuple[dict[str, list[np.ndarray]], dict[str, list[np.ndarray]], dict[str, str], list[str], dict[str, int]]:
    """Each result id's timestamps and values, its label, the issues (messages, final incomplete statuses) and the status counts."""
    ts_parts: dict[str, list[np.ndarray]] = OrderedDict()
    val_parts: dict[str, list[np.ndarray]] = OrderedDict()
    labels: dict[str, str] = {}
    issues: list[str] = []
    statuses: dict[str, int] = {}
    for pages in calls:
        final_status: dict[str, str] = {}
        for page in pages:
            for msg in page.get("Messages") or []:
                issues.append(f"GetMetricData message {msg.get('Code', '?')}: {msg.get('Value', '')}".rstrip(": "))
            for result in page.get("MetricDataResults") or []:
                rid = str(result.get("Id"))
                ts = list(result.get("Timestamps") or [])
                vals = list(result.get("Values") or [])
                if len(ts) != len(vals):
                    issues.append(f"query {rid}: {len(ts)} timestamps but {len(vals)} values; kept {min(len(ts), len(vals))}")
                    n = min(len(ts), len(vals))
                    ts, vals = ts[:n], vals[:n]
                ts_parts.setdefault(rid, []).append(_epoch_ns(ts))
                val_parts.setdefault(rid, []).append(np.asarray(vals, dtype="float64"))
                if result.get("Label") and rid not in labels:
                    labels[rid] = str(result["Label"])
                final_status[rid] = str(result.get("StatusCode") or "Complete")
                for msg in result.get("Messages") or []:
                    issues.append(f"query {rid}: {msg.get('Code', '?')}: {msg.get('Value', '')}".rstrip(": "))
        for rid, status in final_status.items():
            statuses[status] = statuses.get(status, 0) + 1
            if status in _INCOMPLETE_STATUSES:
                issues.append(f"query {rid}: StatusCode {status}: {_STATUS_HINTS[status]}")
    return ts_parts, val_parts, labels, issues, statuses


def _long_frame(
    ts_parts: Mapping[str, list[np.ndarray]],
    val_parts: Mapping[str, list[np.ndarray]],
    labels: Mapping[str, str],
    by_id: Mapping[str, MetricQuery],
    period: int | None,
) -> tuple[pd.DataFrame, int]:
    """The long frame of the datapoints read, sorted by (query_id, timestamp), and how many repeated ones were dropped."""
    # One metadata row per query id, numbered in query_id order: sorting rows by
    # (metadata number, timestamp) is then sorting by (query_id, timestamp).
    present = sorted(rid for rid in ts_parts if sum(len(a) for a in ts_parts[rid]))
    metas: list[tuple[Any, ...]] = []
    ts_chunks: list[np.ndarray] = []
    val_chunks: list[np.ndarray] = []
    idx_chunks: list[np.ndarray] = []
    for number, rid in enumerate(present):
        q = by_id.get(rid)
        if q is not None:
            metas.append((rid, q.label, q.namespace, q.metric_name, q.dimensions_json, q.stat, int(q.period or period or 0)))
        else:
            metas.append((rid, labels.get(rid, rid), None, None, None, None, int(period or 0)))
        for t, v in zip(ts_parts[rid], val_parts[rid]):
            ts_chunks.append(t)
            val_chunks.append(v)
            idx_chunks.append(np.full(len(t), number, dtype="int64"))
    if not metas:
        return schema.empty_frame("metrics"), 0
    ts_all = np.concatenate(ts_chunks)
    val_all = np.concatenate(val_chunks)
    idx_all = np.concatenate(idx_chunks)
    order = np.lexsort((ts_all, idx_all))  # stable: later pages/slices stay later
    ts_all, val_all, idx_all = ts_all[order], val_all[order], idx_all[order]
    duplicates = 0
    if len(ts_all) > 1:
        # the same (query, timestamp) twice (repeated page): keep the last one
        keep = np.ones(len(ts_all), dtype=bool)
        keep[:-1] = (idx_all[:-1] != idx_all[1:]) | (ts_all[:-1] != ts_all[1:])
        duplicates = int((~keep).sum())
        if duplicates:
            ts_all, val_all, idx_all = ts_all[keep], val_all[keep], idx_all[keep]
    data: dict[str, Any] = {"timestamp": pd.to_datetime(ts_all, unit="ns", utc=True).astype(schema.UTC_NS)}
    columns = list(zip(*metas))
    for pos, name in enumerate(("query_id", "label", "namespace", "metric_name", "dimensions", "stat")):
        small = pd.array(list(columns[pos]), dtype="string")
        data[name] = small.take(idx_all)
    data["period"] = np.asarray(columns[6], dtype="int64")[idx_all]
    data["value"] = val_all
    return pd.DataFrame(data, columns=list(schema.METRIC_COLUMNS)), duplicates
