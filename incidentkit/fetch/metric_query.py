"""What one CloudWatch metric query is: :class:`MetricQuery`, its statistic and its id.

The query model of :mod:`incidentkit.fetch.metrics`, in a module of its own so the presets
(:mod:`incidentkit.fetch.metric_presets`) can build queries without importing the fetcher that
re-exports them. Everything here is re-exported by :mod:`incidentkit.fetch.metrics`.

Example
-------
>>> q = MetricQuery(make_id("Lambda", "api", "Duration", "p99"), "AWS/Lambda", "Duration", {"FunctionName": "api"}, "P99")
>>> q.id, q.stat, q.label
('lambda_api_duration_p99', 'p99', 'api Duration p99')
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

import numpy as np

from ..errors import ParameterError

__all__ = ["MetricQuery", "query", "as_queries", "canonical_stat", "make_id", "check_period_shape", "STANDARD_STATS", "STAT_FORMS", "HIGH_RES_PERIODS"]

#: The sub-minute periods CloudWatch accepts (high-resolution metrics); longer ones are multiples of 60 s.
HIGH_RES_PERIODS = (1, 5, 10, 20, 30)

#: The statistics every metric has (plus their accepted spellings, lower-cased).
STANDARD_STATS = ("Average", "Sum", "Minimum", "Maximum", "SampleCount")
_STAT_ALIASES = {
    "average": "Average",
    "avg": "Average",
    "mean": "Average",
    "sum": "Sum",
    "minimum": "Minimum",
    "min": "Minimum",
    "maximum": "Maximum",
    "max": "Maximum",
    "samplecount": "SampleCount",
    "count": "SampleCount",
    "iqm": "IQM",
}
_NUM = r"\d{1,3}(?:\.\d{1,10})?"
_SHORT_STAT = re.compile(rf"^(p|tm|wm|tc|ts)({_NUM})$", re.IGNORECASE)
_VALUE = r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?"
_RANGE_STAT = re.compile(rf"^(tm|wm|tc|ts|pr)\(\s*({_VALUE}%?)?\s*:\s*({_VALUE}%?)?\s*\)$", re.IGNORECASE)
STAT_FORMS = (
    "Average, Sum, Minimum, Maximum, SampleCount, IQM; percentiles p0..p100 (p99, p99.9); "
    "tm99 / wm99 / tc99 / ts99; TM(10%:90%) or TM(150:1000) (also WM, TC, TS); PR(:300) or PR(100:2000)"
)
_ID_RE = re.compile(r"^[a-z][a-zA-Z0-9_]{0,254}$")
_UNITS = frozenset(
    {
        "Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes",
        "Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count",
        "Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second",
        "Bits/Second", "Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second",
        "Count/Second", "None",
    }
)


def canonical_stat(stat: str) -> str:
    """Check a CloudWatch statistic and return it in its documented spelling.

    Accepted: the standard statistics (``Average``, ``Sum``, ``Minimum``, ``Maximum``,
    ``SampleCount``, case-insensitive, also ``avg``/``min``/``max``/``count``), ``IQM``,
    percentiles ``p0``..``p100`` with up to 10 decimals, the shorthand ``tmNN``, ``wmNN``,
    ``tcNN``, ``tsNN``, and the range forms ``TM(a:b)``, ``WM``, ``TC``, ``TS`` with bounds
    in percent (``TM(10%:90%)``) or absolute values (``TM(150:1000)``), and ``PR(a:b)``
    (absolute values). One bound may be omitted (``TC(:0.5)``, ``PR(:300)``).

    Percentiles and the other extended statistics need raw values: CloudWatch returns no
    data for them when a metric was published as statistic sets or holds negative values.

    Raises
    ------
    ParameterError
        For anything else, naming the accepted forms.

    Example
    -------
    >>> canonical_stat("avg"), canonical_stat("P99.9"), canonical_stat("tm(10%:90%)")
    ('Average', 'p99.9', 'TM(10%:90%)')
    """
    if not isinstance(stat, str) or not stat.strip():
        raise ParameterError(f"statistic {stat!r} is not a statistic; use {STAT_FORMS}")
    text = stat.strip()
    alias = _STAT_ALIASES.get(text.lower())
    if alias:
        return alias
    m = _SHORT_STAT.match(text)
    if m:
        kind, num = m.group(1).lower(), m.group(2)
        if float(num) > 100:
            raise ParameterError(f"statistic {stat!r}: {num} is above 100; use {kind}0 .. {kind}100")
        return f"{kind}{num}"
    m = _RANGE_STAT.match(text)
    if m:
        kind, low, high = m.group(1).upper(), m.group(2), m.group(3)
        if low is None and high is None:
            raise ParameterError(f"statistic {stat!r} has no bounds; give one or two, e.g. {kind}(10%:90%)")
        bounds = [b for b in (low, high) if b is not None]
        percent = [b.endswith("%") for b in bounds]
        if any(percent) and not all(percent):
            raise ParameterError(f"statistic {stat!r} mixes percent and absolute bounds; use one kind")
        if kind == "PR" and any(percent):
            raise ParameterError(f"statistic {stat!r}: PR takes absolute values, e.g. PR(:300) or PR(100:2000)")
        numbers = [float(b.rstrip("%")) for b in bounds]
        if all(percent) and any(not 0 <= n <= 100 for n in numbers):
            raise ParameterError(f"statistic {stat!r}: percent bounds must lie within 0%..100%")
        if len(numbers) == 2 and numbers[0] >= numbers[1]:
            raise ParameterError(f"statistic {stat!r}: the lower bound must be below the upper bound")
        return f"{kind}({low or ''}:{high or ''})"
    raise ParameterError(f"unknown statistic {stat!r}; use {STAT_FORMS}")


def make_id(*parts: Any) -> str:
    """Build a GetMetricData query id from free text.

    The id is lower case, starts with a letter, holds only ``[a-z0-9_]`` and fits the
    255-character limit (long ids are cut and end with a short hash of the full text,
    so two long ids stay distinct).

    Example
    -------
    >>> make_id("Lambda", "api-handler", "Duration", "p99.9")
    'lambda_api_handler_duration_p99_9'
    >>> make_id("5XXError")
    'm_5xxerror'
    """
    raw = "_".join(str(p) for p in parts if p is not None and str(p) != "")
    text = re.sub(r"[^a-z0-9]+", "_", raw.lower()).strip("_")
    if not text:
        text = "m"
    if not text[0].isalpha():
        text = "m_" + text
    if len(text) > 255:
        digest = hashlib.sha1(raw.encode("utf-8")).hexdigest()[:10]
        text = text[: 255 - 11].rstrip("_") + "_" + digest
    return text


def check_period_shape(period: Any, *, what: str = "period") -> int:
    if isinstance(period, bool) or not isinstance(period, (int, np.integer)):
        if isinstance(period, float) and period.is_integer():
            period = int(period)
        else:
            raise ParameterError(f"{what} {period!r} is not a whole number of seconds")
    period = int(period)
    if period <= 0:
        raise ParameterError(f"{what} {period} must be positive (seconds)")
    if period < 60 and period not in HIGH_RES_PERIODS:
        raise ParameterError(
            f"{what} {period} s is not one CloudWatch accepts: use 1, 5, 10, 20 or 30 (high-resolution metrics) "
            "or a multiple of 60"
        )
    if period >= 60 and period % 60:
        raise ParameterError(f"{what} {period} s is not a multiple of 60; CloudWatch only accepts multiples of 60 s")
    return period


@dataclass(frozen=True)
class MetricQuery:
    """One metric to fetch: a ``MetricStat`` query of GetMetricData.

    Parameters
    ----------
    id:
        Unique within a fetch; starts with a lower-case letter, then letters, digits,
        ``_`` (the GetMetricData rule). :func:`make_id` builds one from text.
    namespace, metric_name:
        e.g. ``"AWS/Lambda"``, ``"Duration"``.
    dimensions:
        ``{name: value}``; CloudWatch matches the exact set of dimensions, so a metric
        published with ``{FunctionName, Resource}`` is not found with ``{FunctionName}``.
    stat:
        Any statistic :func:`canonical_stat` accepts (stored canonical).
    period:
        Seconds; ``None`` lets :func:`get` choose or use its own ``period``.
    label:
        Human-readable name (default: dimension values, metric name and statistic).
    unit:
        Only data published with this unit is returned (``None``: all units).
    region:
        Where the metric lives when it is not the fetch's region (Route 53 health-check
        metrics are only in ``us-east-1``).

    Example
    -------
    >>> q = MetricQuery("lat_p99", "AWS/ApiGateway", "Latency", {"ApiName": "shop"}, "P99")
    >>> q.stat, q.label, q.dimensions_json
    ('p99', 'shop Latency p99', '{"ApiName":"shop"}')
    """

    id: str
    namespace: str
    metric_name: str
    dimensions: Mapping[str, str] = field(default_factory=dict)
    stat: str = "Average"
    period: int | None = None
    label: str | None = None
    unit: str | None = None
    region: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not _ID_RE.match(self.id):
            raise ParameterError(
                f"query id {self.id!r} is not valid for GetMetricData: start with a lower-case letter, "
                "then letters, digits or _ (at most 255); build one with metrics.make_id(...)"
            )
        for name in ("namespace", "metric_name"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip() or len(value) > 255:
                raise ParameterError(f"{name} {value!r} must be non-empty text of at most 255 characters", query_id=self.id)
        if self.dimensions is None:
            dims: dict[str, str] = {}
        elif isinstance(self.dimensions, Mapping):
            dims = {}
            for k, v in self.dimensions.items():
                if not isinstance(k, str) or not k or len(k) > 255:
                    raise ParameterError(f"dimension name {k!r} must be non-empty text", query_id=self.id)
                if v is None or isinstance(v, (bool, dict, list, tuple, set)):
                    raise ParameterError(f"dimension {k}={v!r} needs a text value", query_id=self.id)
                sv = str(v)
                if not sv or len(sv) > 1024:
                    raise ParameterError(f"dimension {k} value must be 1..1024 characters", query_id=self.id)
                dims[k] = sv
            dims = dict(sorted(dims.items()))
        else:
            raise ParameterError(f"dimensions must be a mapping {{name: value}}, got {type(self.dimensions).__name__}", query_id=self.id)
        if len(dims) > 30:
            raise ParameterError("a metric has at most 30 dimensions", query_id=self.id)
        object.__setattr__(self, "dimensions", dims)
        object.__setattr__(self, "stat", canonical_stat(self.stat))
        if self.period is not None:
            object.__setattr__(self, "period", check_period_shape(self.period, what=f"period of query {self.id}"))
        if self.unit is not None and self.unit not in _UNITS:
            raise ParameterError(f"unit {self.unit!r} is not a CloudWatch unit; use one of {sorted(_UNITS)}", query_id=self.id)
        if self.label is None or not str(self.label).strip():
            text = " ".join([*dims.values(), self.metric_name, self.stat]) if dims else f"{self.namespace} {self.metric_name} {self.stat}"
            object.__setattr__(self, "label", text[:1024])
        if self.region is not None and (not isinstance(self.region, str) or not self.region):
            raise ParameterError(f"region {self.region!r} must be a region name like us-east-1", query_id=self.id)

    def __hash__(self) -> int:
        return hash((self.id, self.namespace, self.metric_name, self.dimensions_json, self.stat, self.period, self.label, self.unit, self.region))

    @property
    def dimensions_json(self) -> str:
        """The dimensions as canonical JSON (keys sorted, compact): the frame's ``dimensions``."""
        return json.dumps(self.dimensions, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    def to_aws(self, period: int | None = None) -> dict[str, Any]:
        """This query as a GetMetricData ``MetricDataQuery`` (``period`` overrides ``self.period``)."""
        p = period if period is not None else self.period
        if p is None:
            raise ParameterError("the query has no period yet; pass one", query_id=self.id)
        stat: dict[str, Any] = {
            "Metric": {
                "Namespace": self.namespace,
                "MetricName": self.metric_name,
                "Dimensions": [{"Name": k, "Value": v} for k, v in self.dimensions.items()],
            },
            "Period": int(p),
            "Stat": self.stat,
        }
        if self.unit:
            stat["Unit"] = self.unit
        return {"Id": self.id, "MetricStat": stat, "Label": self.label, "ReturnData": True}

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict of the fields (the form stored in ``df.attrs["query"]``)."""
        return {
            "id": self.id,
            "namespace": self.namespace,
            "metric_name": self.metric_name,
            "dimensions": dict(self.dimensions),
            "stat": self.stat,
            "period": self.period,
            "label": self.label,
            "unit": self.unit,
            "region": self.region,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "MetricQuery":
        """Inverse of :meth:`to_dict`; also reads a GetMetricData ``MetricDataQuery`` dict.

        Example
        -------
        >>> q = MetricQuery.from_dict({"Id": "m1", "MetricStat": {"Metric": {"Namespace": "AWS/EC2",
        ...     "MetricName": "CPUUtilization", "Dimensions": [{"Name": "InstanceId", "Value": "i-1"}]},
        ...     "Period": 300, "Stat": "Maximum"}})
        >>> q.period, q.dimensions
        (300, {'InstanceId': 'i-1'})
        """
        if "MetricStat" in data or "Id" in data:
            if "MetricStat" not in data:
                raise ParameterError("only MetricStat queries are supported (no math expressions)", query_id=data.get("Id"))
            ms = data["MetricStat"]
            metric = ms.get("Metric", {})
            return cls(
                id=data["Id"],
                namespace=metric.get("Namespace", ""),
                metric_name=metric.get("MetricName", ""),
                dimensions={d["Name"]: d["Value"] for d in metric.get("Dimensions", [])},
                stat=ms.get("Stat", ""),
                period=ms.get("Period"),
                label=data.get("Label"),
                unit=ms.get("Unit"),
            )
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ParameterError(f"unknown MetricQuery fields {sorted(unknown)}; use {sorted(known)}")
        return cls(**dict(data))


def query(
    namespace: str,
    metric_name: str,
    dimensions: Mapping[str, str] | None = None,
    stat: str = "Average",
    *,
    id: str | None = None,
    label: str | None = None,
    period: int | None = None,
    unit: str | None = None,
    region: str | None = None,
) -> MetricQuery:
    """Build a :class:`MetricQuery`, deriving the id from the metric when none is given.

    The derived id is ``<service>_<metric>_<dimension values>_<stat>`` made safe with
    :func:`make_id`, e.g. ``lambda_duration_api_handler_p99``.

    Example
    -------
    >>> query("AWS/EC2", "CPUUtilization", {"InstanceId": "i-0abc"}, "max").id
    'ec2_cpuutilization_i_0abc_maximum'
    """
    dims = dict(dimensions or {})
    canonical = canonical_stat(stat)
    if id is None:
        service = namespace.split("/", 1)[1] if namespace.startswith("AWS/") else namespace
        id = make_id(service, metric_name, *[dims[k] for k in sorted(dims)], canonical)
    return MetricQuery(
        id=id, namespace=namespace, metric_name=metric_name, dimensions=dims, stat=canonical,
        period=period, label=label, unit=unit, region=region,
    )


def as_queries(queries: MetricQuery | Iterable[MetricQuery] | Iterable[Mapping[str, Any]]) -> list[MetricQuery]:
    """Queries in any form :func:`get` takes (one, a list, ``MetricQuery.to_dict`` dicts) as a list, each id once.

    Example
    -------
    >>> a, b = query("AWS/Lambda", "Invocations", {"FunctionName": "api"}, "Sum"), query("AWS/Lambda", "Errors", {"FunctionName": "api"}, "Sum")
    >>> [q.id for q in as_queries([a, b, a])]
    ['lambda_invocations_api_sum', 'lambda_errors_api_sum']
    """
    if isinstance(queries, (MetricQuery, Mapping)):
        queries = [queries]  # type: ignore[list-item]
    if isinstance(queries, (str, bytes)):
        raise ParameterError("queries must be MetricQuery objects (see metrics.query or the presets), not text")
    out: "OrderedDict[str, MetricQuery]" = OrderedDict()
    for q in queries:
        if isinstance(q, Mapping):
            q = MetricQuery.from_dict(q)
        if not isinstance(q, MetricQuery):
            raise ParameterError(f"queries must be MetricQuery objects, got {type(q).__name__}")
        prev = out.get(q.id)
        if prev is None:
            out[q.id] = q
        elif prev != q:
            raise ParameterError(
                f"two different queries share the id {q.id!r}; give one a distinct id "
                "(dataclasses.replace(q, id=...)) or a preset prefix",
                query_id=q.id,
            )
    return list(out.values())
