"""The queries of one resource, as every preset builds them: ids, labels, checked names.

Used by every preset of :mod:`incidentkit.fetch.metric_presets`; not part of the public API.

Example
-------
>>> [q.id for q in _build("ec2", "i-1", "i-1", "AWS/EC2", {"InstanceId": "i-1"}, [("CPUUtilization", "max")], region=None, period=None)]
['ec2_i_1_cpuutilization_maximum']
"""

from __future__ import annotations

import re
from typing import Mapping, Sequence

from ...errors import ParameterError
from ..metric_query import MetricQuery, canonical_stat, make_id

_ARN_PARTITION = r"arn:aws[a-z-]*"


def _build(
    prefix: str,
    resource: str,
    display: str,
    namespace: str,
    dimensions: Mapping[str, str],
    metrics: Sequence[tuple[str, str]],
    *,
    region: str | None,
    period: int | None,
) -> list[MetricQuery]:
    out = []
    for metric_name, stat in metrics:
        s = canonical_stat(stat)
        out.append(
            MetricQuery(
                id=make_id(prefix, resource, metric_name, s),
                namespace=namespace,
                metric_name=metric_name,
                dimensions=dict(dimensions),
                stat=s,
                period=period,
                label=f"{display} {metric_name} {s}",
                region=region,
            )
        )
    return out


def _text(value: object, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ParameterError(f"{what} must be non-empty text, got {value!r}")
    return value.strip()


def _id_or_arn(text: str, arn: re.Pattern[str], ident: re.Pattern[str], error: str,
               region: str | None) -> tuple[str, str | None]:
    """The resource id ``text`` names, and ``region`` — or, when it is not given, the ARN's Region.

    ``arn`` matches the ARN form (group 1 its Region, group 2 the id); ``ident`` the bare id
    (``region`` is then returned as it is); anything else is a
    :class:`~incidentkit.errors.ParameterError` saying ``error``.

    Example
    -------
    >>> arn = re.compile(r"^arn:aws:ec2:([a-z0-9-]+):\\d{12}:instance/(i-[0-9a-f]+)$")
    >>> _id_or_arn("arn:aws:ec2:eu-west-1:123456789012:instance/i-0abc", arn, re.compile(r"^i-[0-9a-f]+$"), "no", None)
    ('i-0abc', 'eu-west-1')
    """
    m = arn.match(text)
    if m:
        return m.group(2), region or m.group(1)
    if ident.match(text):
        return text, region
    raise ParameterError(error)
