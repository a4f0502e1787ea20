"""CloudWatch Embedded Metric Format (EMF): metrics carried inside log lines.

An EMF record is a JSON log line whose ``_aws.CloudWatchMetrics`` block declares which of
its top-level keys are metrics (name, unit, storage resolution), in which namespace and
with which dimension sets; CloudWatch extracts them into real metrics. Powertools for AWS
Lambda's Metrics utility writes them. :func:`metrics` turns those records back into a
frame shaped like ``metrics.get`` (:data:`incidentkit.schema.METRIC_COLUMNS`, plus a
``unit`` column), so the metrics of an incident can be read from the logs when the metric
itself was not queried, or to check what the application really emitted.

Values
------
EMF carries raw samples, not statistics: by default each sample is one row with
``stat="Value"`` and ``period`` = the declared ``StorageResolution`` (1 or 60 s; 60 when
absent). Pass ``stats=("Sum", "Average", "p99", ...)`` to aggregate the samples per
``period`` the way CloudWatch would (``SampleCount``, ``Sum``, ``Average``, ``Minimum``,
``Maximum``, ``pNN``). A value may be a number or a list of numbers (one row each); a
metric whose value is missing or not a number is skipped and counted in
``df.attrs["issues"]``.

Example
-------
>>> from incidentkit.parse import emf
>>> line = ('{"_aws": {"Timestamp": 1700000000000, "CloudWatchMetrics": [{"Namespace": "shop", '
...         '"Dimensions": [["service"]], "Metrics": [{"Name": "Latency", "Unit": "Milliseconds"}]}]}, '
...         '"service": "cart", "Latency": [12, 30]}')
>>> m = emf.metrics([line])
>>> m[["namespace", "metric_name", "dimensions", "stat", "period", "value", "unit"]].values.tolist()
[['shop', 'Latency', '{"service":"cart"}', 'Value', 60, 12.0, 'Milliseconds'], ['shop', 'Latency', '{"service":"cart"}', 'Value', 60, 30.0, 'Milliseconds']]
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from typing import Any

import orjson
import pandas as pd

from .. import schema
from ..errors import ParameterError

__all__ = ["metrics", "records"]

_PCT = re.compile(r"^p(\d{1,2}(?:\.\d+)?)$")
_STATS = ("SampleCount", "Sum", "Average", "Minimum", "Maximum")


def _messages(data: Any) -> tuple[pd.Series, pd.Series]:
    """EMF candidate messages and their event timestamps."""
    if isinstance(data, pd.DataFrame):
        if "message" not in data.columns:
            raise ParameterError("emf.metrics() needs a frame with a 'message' column", columns=list(data.columns))
        frame = data
        if "format" in frame.columns:
            frame = frame.loc[(frame["format"] == "emf").fillna(False).to_numpy(dtype=bool)]
        msgs = frame["message"].astype("string")
        ts = frame["timestamp"] if "timestamp" in frame.columns else pd.Series(pd.NaT, index=frame.index, dtype=schema.UTC_NS)
    else:
        if isinstance(data, (str, bytes)):
            raise ParameterError("emf.metrics() takes a frame or a list of log lines, not one string")
        msgs = pd.Series(list(data), dtype="string")
        ts = pd.Series(pd.NaT, index=msgs.index, dtype=schema.UTC_NS)
    keep = msgs.str.contains('"_aws"', regex=False).fillna(False).to_numpy(dtype=bool)
    return msgs[keep], ts[keep]


def records(data: Any) -> tuple[list[dict[str, Any]], list[str]]:
    """Raw EMF samples: one dict per (record, directive, dimension set, metric, value),
    and the list of problems met (one line each)."""
    msgs, ts = _messages(data)
    rows: list[dict[str, Any]] = []
    issues: list[str] = []
    skipped = 0
    for text, event_ts in zip(msgs.tolist(), ts.tolist()):
        start = text.find("{")
        try:
            obj = orjson.loads(text[start:]) if start >= 0 else None
        except orjson.JSONDecodeError:
            obj = None
        aws = obj.get("_aws") if isinstance(obj, dict) else None
        if not isinstance(aws, dict) or not isinstance(aws.get("CloudWatchMetrics"), list):
            skipped += 1
            continue
        when = aws.get("Timestamp")
        when = pd.Timestamp(when, unit="ms", tz="UTC") if isinstance(when, (int, float)) and not isinstance(when, bool) else event_ts
        for directive in aws["CloudWatchMetrics"]:
            if not isinstance(directive, dict):
                continue
            ns = directive.get("Namespace")
            dim_sets = directive.get("Dimensions") or [[]]
            for metric in directive.get("Metrics") or []:
                if not isinstance(metric, dict) or not isinstance(metric.get("Name"), str):
                    continue
                name = metric["Name"]
                unit = metric.get("Unit")
                res = metric.get("StorageResolution")
                period = 1 if res == 1 else 60
                raw = obj.get(name)
                values = raw if isinstance(raw, list) else [raw]
                good = [float(v) for v in values if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(float(v))]
                if len(good) != len(values) or not values:
                    issues.append(f"EMF metric {ns}/{name}: value {raw!r} is not a number")
                for dims in dim_sets:
                    if not isinstance(dims, list):
                        continue
                    dvals = {d: obj.get(d) for d in dims if isinstance(d, str)}
                    missing = [d for d, v in dvals.items() if v is None]
                    if missing:
                        issues.append(f"EMF metric {ns}/{name}: dimension {missing[0]!r} has no value")
                        continue
                    dim_json = json.dumps({k: str(v) for k, v in sorted(dvals.items())}, separators=(",", ":"))
                    for v in good:
                        rows.append(
                            {
                                "timestamp": when,
                                "namespace": ns,
                                "metric_name": name,
                                "dimensions": dim_json,
                                "period": period,
                                "value": v,
                                "unit": unit,
                            }
                        )
    if skipped:
        issues.append(f"{skipped} line(s) mention _aws but carry no CloudWatchMetrics directive")
    return rows, issues


def metrics(data: Any, *, stats: Sequence[str] | None = None, period: int | None = None) -> pd.DataFrame:
    """Metrics declared in EMF records, in the shape of ``metrics.get``.

    Parameters
    ----------
    data:
        A parsed frame (rows with ``format == "emf"`` are used), a logs frame, or a list
        of log lines.
    stats:
        ``None`` for the raw samples (``stat="Value"``), or CloudWatch statistics to
        compute per period: ``SampleCount``, ``Sum``, ``Average``, ``Minimum``,
        ``Maximum``, ``pNN``.
    period:
        Aggregation period in seconds (only with ``stats``); default: each metric's
        storage resolution (60 s unless declared high-resolution).

    Returns
    -------
    pandas.DataFrame
        :data:`~incidentkit.schema.METRIC_COLUMNS` + ``unit``; ``query_id`` is
        ``emf:<namespace>/<metric>`` and ``label`` the metric name.
        ``df.attrs["issues"]`` lists skipped values.

    Example
    -------
    >>> line = ('{"_aws": {"Timestamp": 1700000000000, "CloudWatchMetrics": [{"Namespace": "shop", '
    ...         '"Dimensions": [[]], "Metrics": [{"Name": "Orders", "Unit": "Count"}]}]}, "Orders": [1, 2, 3]}')
    >>> metrics([line], stats=["Sum", "SampleCount"])[["stat", "value"]].values.tolist()
    [['SampleCount', 3.0], ['Sum', 6.0]]
    """
    if stats is not None:
        bad = [s for s in stats if s not in _STATS and not _PCT.match(str(s))]
        if bad:
            raise ParameterError(f"unknown statistic {bad[0]!r}; use {list(_STATS)} or pNN", stat=bad[0])
    if period is not None and (not isinstance(period, int) or period <= 0):
        raise ParameterError("period must be a positive number of seconds", period=period)
    rows, issues = records(data)
    if not rows:
        out = schema.empty_frame("metrics")
        out["unit"] = pd.Series([], dtype="string")
        out.attrs.update(schema.provenance("emf.metrics", issues=issues))
        return out
    raw = pd.DataFrame(rows)
    raw["timestamp"] = pd.to_datetime(raw["timestamp"], utc=True).astype(schema.UTC_NS)
    raw["query_id"] = "emf:" + raw["namespace"].fillna("").astype(str) + "/" + raw["metric_name"]
    raw["label"] = raw["metric_name"]
    if stats is None:
        raw["stat"] = "Value"
        out = raw
    else:
        if period is not None:
            raw["period"] = period
        parts = []
        keys = ["query_id", "label", "namespace", "metric_name", "dimensions", "period", "unit"]
        for p, grp in raw.groupby("period", sort=True):
            grp = grp.assign(timestamp=grp["timestamp"].dt.floor(f"{int(p)}s"))
            g = grp.groupby(keys + ["timestamp"], dropna=False, sort=True)["value"]
            for s in stats:
                m = _PCT.match(str(s))
                if m:
                    agg = g.quantile(float(m.group(1)) / 100.0)
                else:
                    agg = {"SampleCount": g.count, "Sum": g.sum, "Average": g.mean, "Minimum": g.min, "Maximum": g.max}[s]()
                parts.append(agg.rename("value").reset_index().assign(stat=s))
        out = pd.concat(parts, ignore_index=True)
        out["value"] = out["value"].astype(float)
    out = schema.conform(out, "metrics", extra=False).assign(unit=pd.array(out["unit"].tolist(), dtype="string"))
    out = out.sort_values(["query_id", "dimensions", "timestamp", "stat"], kind="stable").reset_index(drop=True)
    out.attrs.update(schema.provenance("emf.metrics", issues=sorted(set(issues))))
    return out
