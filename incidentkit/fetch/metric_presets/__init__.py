"""Metric presets: the CloudWatch queries that explain the incidents of the catalogue.

Each preset returns a list of :class:`~incidentkit.fetch.metrics.MetricQuery` for one resource,
ready for :func:`incidentkit.fetch.metrics.get`; concatenate several presets into one fetch.
Ids are ``<service>_<resource>_<metric>_<stat>`` (lower case, GetMetricData-safe), labels
``<resource> <metric> <stat>``. Every preset takes ``period=`` (pin a period) and
``region=`` (fetch from another region than the session's); presets given an ARN take
the region from it.

Only dimensions CloudWatch actually publishes are used (a metric is found only with its
exact set of dimensions): e.g. ALB ``HTTPCode_ELB_*`` counts exist per load balancer,
healthy/unhealthy host counts only per target group; DynamoDB ``ThrottledRequests`` and
``SystemErrors`` only per table *and operation*.

The presets live by service in :mod:`.compute` (Lambda, EC2), :mod:`.edge` (API Gateway,
Route 53), :mod:`.load_balancing` (ALB, target groups) and :mod:`.databases` (DynamoDB, RDS),
all built by :mod:`.build`; this package re-exports them and holds the schedule history's
queries. They are re-exported again by :mod:`incidentkit.fetch.metrics`.

Example
-------
>>> from incidentkit.fetch import metrics
>>> qs = metrics.lambda_function("api-handler") + metrics.dynamodb_table("orders")
>>> [q.id for q in qs][:3]
['lambda_api_handler_invocations_sum', 'lambda_api_handler_errors_sum', 'lambda_api_handler_throttles_sum']
"""

from __future__ import annotations

from typing import Mapping

from ..metric_query import MetricQuery
from .compute import ec2_instance, lambda_account, lambda_function
from .databases import DYNAMODB_OPERATIONS, dynamodb_table, rds_instance
from .edge import ROUTE53_METRICS_REGION, api_gateway, route53_health_check  # noqa: F401  (the region constant, re-exported)
from .load_balancing import alb, load_balancer_dimension, target_group, target_group_dimension

__all__ = [
    "lambda_function",
    "lambda_account",
    "api_gateway",
    "alb",
    "target_group",
    "dynamodb_table",
    "rds_instance",
    "route53_health_check",
    "ec2_instance",
    "load_balancer_dimension",
    "target_group_dimension",
    "history_queries",
    "HISTORY_SPAN_DAYS",
    "DYNAMODB_OPERATIONS",
]

# --- schedule history -------------------------------------------------------------------------------

#: How far back a schedule history reaches (``metrics.history_window``): a week shows daily and weekday jobs.
HISTORY_SPAN_DAYS = 7
#: Per table, the metrics a schedule question reads over days (``metrics.history_window``).
_TABLE_HISTORY = {"ConsumedReadCapacityUnits", "ReadThrottleEvents"}


def history_queries(resources: Mapping[str, object], *, period: int | None = None) -> list[MetricQuery]:
    """The queries of a schedule history for ``resources``: each table's reads and read throttles (Sum).

    ``resources`` are the template parameters (``table_name`` as a name, a list, a comma-separated
    string or ARNs). Other resources have no schedule question yet: an empty list.

    Example
    -------
    >>> [q.metric_name for q in history_queries({"table_name": "orders"})]
    ['ConsumedReadCapacityUnits', 'ReadThrottleEvents']
    """
    tables = resources.get("table_name")
    names = [t.strip() for t in tables.split(",")] if isinstance(tables, str) else list(tables or [])  # type: ignore[arg-type]
    out: list["MetricQuery"] = []
    for table in names:
        out += [q for q in dynamodb_table(str(table), operations=(), period=period) if q.metric_name in _TABLE_HISTORY]
    return out
