"""Presets for what stands in front of a service: API Gateway APIs and Route 53 health checks.

Example
-------
>>> route53_health_check("abcdef01-2345-6789-abcd-ef0123456789")[0].region
'us-east-1'
"""

from __future__ import annotations

import re
from typing import Literal

from ...errors import ParameterError
from ..metric_query import MetricQuery
from .build import _ARN_PARTITION, _build, _text

#: Route 53 publishes health-check metrics only in this region.
ROUTE53_METRICS_REGION = "us-east-1"


_API_ID = re.compile(r"^[a-z0-9]{10}$")


def api_gateway(
    api: str,
    stage: str | None = None,
    *,
    kind: Literal["auto", "rest", "http"] = "auto",
    region: str | None = None,
    period: int | None = None,
) -> list[MetricQuery]:
    """Metrics of an API Gateway API (namespace ``AWS/ApiGateway``).

    REST APIs publish per ``ApiName`` (the API's *name*); HTTP APIs per ``ApiId`` (its
    10-character id) and name their error metrics ``4xx``/``5xx`` instead of
    ``4XXError``/``5XXError``. ``kind="auto"`` treats a 10-character lower-case
    alphanumeric value as an HTTP API id and anything else as a REST API name; pass
    ``kind`` when a REST API happens to be named like an id. With ``stage`` the
    ``Stage`` dimension is added.

    =======================================  ===============================================
    metric (stat)                            what it tells during an incident
    =======================================  ===============================================
    Count (Sum)                              requests; the denominator of every error rate
    4XXError / 4xx (Sum)                     client errors: auth changes (403 storm), bad input
    5XXError / 5xx (Sum)                     server errors: integration failures, 504 timeouts
    5XXError / 5xx (Average)                 the 5XX *rate* (errors / requests)
    Latency (p50, p90, p99)                  what callers waited, gateway overhead included
    IntegrationLatency (p50, p99)            the backend alone; Latency - IntegrationLatency
                                             is the gateway; p99 at the 29 s limit = 504s
    =======================================  ===============================================

    Example
    -------
    >>> api_gateway("shop-api", "prod")[0].dimensions
    {'ApiName': 'shop-api', 'Stage': 'prod'}
    >>> sorted({q.metric_name for q in api_gateway("a1b2c3d4e5")})[:3]
    ['4xx', '5xx', 'Count']
    """
    text = _text(api, "API name or id")
    if kind not in ("auto", "rest", "http"):
        raise ParameterError(f"kind={kind!r}: use 'auto', 'rest' or 'http'")
    resolved = kind if kind != "auto" else ("http" if _API_ID.match(text) else "rest")
    if resolved == "http" and not _API_ID.match(text):
        raise ParameterError(f"{text!r} is not an HTTP API id (10 lower-case letters or digits, e.g. a1b2c3d4e5)")
    dims = {"ApiId": text} if resolved == "http" else {"ApiName": text}
    display = text
    if stage is not None:
        dims["Stage"] = _text(stage, "stage")
        display = f"{text}/{dims['Stage']}"
    e4, e5 = ("4xx", "5xx") if resolved == "http" else ("4XXError", "5XXError")
    metrics = [
        ("Count", "Sum"),
        (e4, "Sum"),
        (e5, "Sum"),
        (e5, "Average"),
        ("Latency", "p50"),
        ("Latency", "p90"),
        ("Latency", "p99"),
        ("IntegrationLatency", "p50"),
        ("IntegrationLatency", "p99"),
    ]
    return _build("apigw", display, display, "AWS/ApiGateway", dims, metrics, region=region, period=period)


_HC_ARN = re.compile(rf"^{_ARN_PARTITION}:route53:::healthcheck/([A-Za-z0-9-]{{1,64}})$")
_HC_ID = re.compile(r"^[A-Za-z0-9-]{1,64}$")


def route53_health_check(health_check_id: str, *, period: int | None = None) -> list[MetricQuery]:
    """Metrics of one Route 53 health check (namespace ``AWS/Route53``, dimension ``HealthCheckId``).

    Route 53 publishes these metrics **only in us-east-1**, whatever the region of the
    endpoint checked; the queries carry ``region="us-east-1"`` so :func:`~incidentkit.fetch.metrics.get`
    fetches them from there even when the rest of the fetch is in another region.

    ====================================  ============================================================
    metric (stat)                         what it tells during an incident
    ====================================  ============================================================
    HealthCheckStatus (Minimum)           0 when the check was unhealthy at any time in the period --
                                          the trigger of a DNS failover
    HealthCheckStatus (Average)           share of the period it was healthy (flapping shows here)
    HealthCheckPercentageHealthy          share of Route 53 checkers that saw the endpoint healthy; a
    (Minimum, Average)                    drop to 0 while the service's own metrics stay healthy =
                                          the checkers are blocked (security group, firewall)
    ====================================  ============================================================

    Example
    -------
    >>> qs = route53_health_check("abcdef11-2222-3333-4444-555555fedcba")
    >>> qs[0].region, qs[0].namespace
    ('us-east-1', 'AWS/Route53')
    """
    text = _text(health_check_id, "health check id")
    m = _HC_ARN.match(text)
    hc = m.group(1) if m else text
    if not _HC_ID.match(hc):
        raise ParameterError(f"{text!r} is not a Route 53 health check id (or healthcheck ARN)")
    metrics = [
        ("HealthCheckStatus", "Minimum"),
        ("HealthCheckStatus", "Average"),
        ("HealthCheckPercentageHealthy", "Minimum"),
        ("HealthCheckPercentageHealthy", "Average"),
    ]
    return _build("r53", hc, hc, "AWS/Route53", {"HealthCheckId": hc}, metrics, region=ROUTE53_METRICS_REGION, period=period)
