"""CloudWatch Logs Insights as typed DataFrames: bounded waits, typed end states, no silent truncation.

Layers, each usable alone (like awswrangler's, but every wait has a time limit and backoff,
and every end state is typed):

* :func:`start_query` — StartQuery, returns the query id;
* :func:`wait_query` — polls GetQueryResults with exponential backoff until ``Complete``;
  ``Failed`` / ``Cancelled`` / ``Unknown`` raise :class:`~incidentkit.errors.QueryFailedError`,
  ``Timeout`` or our own time limit raise :class:`~incidentkit.errors.QueryTimeoutError`
  (after a StopQuery: a query we gave up on should not keep scanning, and billing);
* :func:`collect` — reads every result page (``nextToken``) into a typed frame;
* :func:`results_frame` — GetQueryResults ``results`` → DataFrame (numbers numeric,
  ``@timestamp`` and ``bin(...)`` UTC datetimes, ``@ptr`` dropped by default).

:func:`insights` puts them together with the limits AWS documents (botocore's model for
``logs``: StartQuery ``limit`` 1..100,000, GetQueryResults pages of at most 10,000 rows with
a ``nextToken`` that expires after an hour, 50 log groups a query, 60 min query timeout):

* more than 50 log groups are queried in batches of 50;
* each query is bounded to its window to the millisecond (StartQuery takes whole seconds,
  both ends inclusive, so the kit prepends ``filter toMillis(@timestamp) >= a and
  toMillis(@timestamp) < b``): parts of a split window never overlap or leave gaps;
* a raw-row query whose result reaches the limit (rows == limit, or
  ``statistics.recordsMatched`` > rows) is re-queried on sub-windows until every part is
  complete — split in proportion to ``recordsMatched`` (at least halves) so the whole window
  is scanned about twice, not once per bisection level;
* a ``stats ... by bin(X)`` query that reaches the limit is split on bin boundaries (each bin
  only depends on the events inside it, so the parts concatenate exactly);
* any other aggregate (``stats`` without a time bin, several ``stats``, ``dedup``,
  ``pattern``, ``diff``, ``anomaly``, ``join``) cannot be split — halves of a percentile or
  of a distinct count do not add up — so reaching the limit flags it as truncated instead;
* what could not be completed (depth, window or query budget reached) is listed in
  ``df.attrs["truncated_windows"]``, ``truncated=True`` and an
  :class:`~incidentkit.errors.IncompleteDataWarning` is emitted. Nothing is returned as whole
  when it is not.

Server-side analyses for windows too big to pull (:func:`insights_latency_split`,
:func:`insights_error_rates`) return the same frame shapes as the local analyses.

Example
-------
>>> from incidentkit.fetch import insights as ins
>>> df = ins.insights(                                              # doctest: +SKIP
...     'fields @timestamp, @message | filter @message like /ERROR/',
...     ["/aws/lambda/api"], ("2026-03-01T03:00Z", "2026-03-01T04:00Z"))
>>> df.attrs["complete"], df.attrs["queries"]                       # doctest: +SKIP
(True, 1)
"""

from __future__ import annotations

from .frames import results_frame
from .layers import collect, start_query, wait_query
from .patterns import PATTERN_COLUMNS, error_pattern_query, insights_error_patterns
from .query_shape import DEFAULT_LIMIT, MAX_LIMIT, MAX_LOG_GROUPS
from .scheduler import insights
from .server_side import (
    ERROR_RATE_COLUMNS,
    LATENCY_COLUMNS,
    error_rate_query,
    insights_error_rates,
    insights_latency_split,
    latency_query,
)

__all__ = [
    "insights",
    "start_query",
    "wait_query",
    "collect",
    "results_frame",
    "insights_latency_split",
    "insights_error_rates",
    "insights_error_patterns",
    "latency_query",
    "error_pattern_query",
    "PATTERN_COLUMNS",
    "error_rate_query",
    "LATENCY_COLUMNS",
    "ERROR_RATE_COLUMNS",
    "MAX_LOG_GROUPS",
    "MAX_LIMIT",
    "DEFAULT_LIMIT",
]
