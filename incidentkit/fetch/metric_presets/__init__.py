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

These functions are re-exported by :mod:`incidentkit.fetch.metrics`.

Example
-------
>>> from incidentkit.fetch import metrics
>>> qs = metrics.lambda_function("api-handler") + metrics.dynamodb_table("orders")
>>> [q.id for q in qs][:3]
['lambda_api_handler_invocations_sum', 'lambda_api_handler_errors_sum', 'lambda_api_handler_throttles_sum']
"""

from __future__ import annotations

import re
from typing import Literal, Mapping, Sequence

from ...errors import ParameterError
from ..metric_query import MetricQuery, canonical_stat, make_id


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

#: Route 53 publishes health-check metrics only in this region.
ROUTE53_METRICS_REGION = "us-east-1"

#: DynamoDB operations whose ThrottledRequests / SystemErrors the table preset fetches.
DYNAMODB_OPERATIONS = (
    "GetItem",
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "Query",
    "Scan",
    "BatchGetItem",
    "BatchWriteItem",
    "TransactWriteItems",
    "TransactGetItems",
)

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


# --- Lambda ---------------------------------------------------------------------------------------

_LAMBDA_ARN = re.compile(rf"^{_ARN_PARTITION}:lambda:([a-z0-9-]+):\d{{12}}:function:([A-Za-z0-9_-]{{1,64}})(?::([A-Za-z0-9_$-]+))?$")
_LAMBDA_NAME = re.compile(r"^(?:\d{12}:function:)?([A-Za-z0-9_-]{1,64})(?::([A-Za-z0-9_$-]+))?$")  # name[:qualifier], partial ARN


def lambda_function(
    name: str,
    *,
    qualifier: str | None = None,
    region: str | None = None,
    period: int | None = None,
) -> list[MetricQuery]:
    """Metrics of one Lambda function (namespace ``AWS/Lambda``).

    ``name`` is a function name, ``name:alias``, or a function ARN (its region is used).
    With a ``qualifier`` (alias or version) the queries use the ``Resource`` dimension
    (``name:qualifier``) and add the provisioned-concurrency utilization.

    ==============================================  ===============================================
    metric (stat)                                   what it tells during an incident
    ==============================================  ===============================================
    Invocations (Sum)                               traffic; a burst here drives new (cold) instances
    Errors (Sum)                                    failed invocations (exceptions, timeouts, OOM)
    Throttles (Sum)                                 invocations refused: reserved/account concurrency hit
    Duration (p50, p90, p99, Maximum)               latency split; p99 far above p50 = a tail (cold
                                                    starts); Maximum at the timeout = timeouts
    ConcurrentExecutions (Maximum)                  instances busy at once, against the concurrency limit
    ProvisionedConcurrencySpilloverInvocations      requests that overflowed provisioned concurrency
    (Sum)                                           onto on-demand (cold) instances
    ProvisionedConcurrencyUtilization (Maximum)     with a qualifier: how full provisioned concurrency was
    ==============================================  ===============================================

    Cold-start *init* time is not a CloudWatch metric: it is in the ``REPORT`` log lines
    (``Init Duration``), see :mod:`incidentkit.parse`.

    Example
    -------
    >>> qs = lambda_function("api-handler")
    >>> [q.label for q in qs if q.metric_name == "Duration"]
    ['api-handler Duration p50', 'api-handler Duration p90', 'api-handler Duration p99', 'api-handler Duration Maximum']
    >>> lambda_function("arn:aws:lambda:eu-west-1:123456789012:function:api:live")[0].dimensions
    {'FunctionName': 'api', 'Resource': 'api:live'}
    """
    text = _text(name, "function name")
    m = _LAMBDA_ARN.match(text)
    if m:
        arn_region, fn, arn_qualifier = m.groups()
        region = region or arn_region
    else:
        m = _LAMBDA_NAME.match(text)
        if not m:
            raise ParameterError(
                f"{text!r} is not a Lambda function name (letters, digits, - and _, up to 64), name:alias, function ARN "
                "or partial ARN (123456789012:function:name)"
            )
        fn, arn_qualifier = m.groups()
    if qualifier and arn_qualifier and qualifier != arn_qualifier:
        raise ParameterError(f"two qualifiers given for {fn}: {arn_qualifier!r} and {qualifier!r}")
    qual = qualifier or arn_qualifier
    dims = {"FunctionName": fn}
    display = fn
    if qual:
        dims["Resource"] = f"{fn}:{qual}"
        display = f"{fn}:{qual}"
    metrics = [
        ("Invocations", "Sum"),
        ("Errors", "Sum"),
        ("Throttles", "Sum"),
        ("Duration", "p50"),
        ("Duration", "p90"),
        ("Duration", "p99"),
        ("Duration", "Maximum"),
        ("ConcurrentExecutions", "Maximum"),
        ("ProvisionedConcurrencySpilloverInvocations", "Sum"),
    ]
    if qual:
        metrics.append(("ProvisionedConcurrencyUtilization", "Maximum"))
    return _build("lambda", display, display, "AWS/Lambda", dims, metrics, region=region, period=period)


def lambda_account(*, region: str | None = None, period: int | None = None) -> list[MetricQuery]:
    """Account-wide Lambda concurrency in a region (no dimensions).

    ===================================  ===========================================================
    metric (stat)                        what it tells during an incident
    ===================================  ===========================================================
    ConcurrentExecutions (Maximum)       all functions together, against the account limit
    UnreservedConcurrentExecutions       concurrency used by functions without reserved concurrency
    (Maximum)
    ClaimedAccountConcurrency (Maximum)  concurrency unavailable for on-demand invocations; at the
                                         account limit every function without a reservation throttles
    Throttles (Sum)                      throttled invocations across the account
    ===================================  ===========================================================

    Example
    -------
    >>> [q.id for q in lambda_account()][:2]
    ['lambda_account_concurrentexecutions_maximum', 'lambda_account_unreservedconcurrentexecutions_maximum']
    """
    metrics = [
        ("ConcurrentExecutions", "Maximum"),
        ("UnreservedConcurrentExecutions", "Maximum"),
        ("ClaimedAccountConcurrency", "Maximum"),
        ("Throttles", "Sum"),
    ]
    return _build("lambda", "account", "account", "AWS/Lambda", {}, metrics, region=region, period=period)


# --- API Gateway ----------------------------------------------------------------------------------

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


# --- Application Load Balancer --------------------------------------------------------------------

_LB_ARN = re.compile(rf"^{_ARN_PARTITION}:elasticloadbalancing:([a-z0-9-]+):\d{{12}}:loadbalancer/((app|net|gwy)/[^/\s]+/[^/\s]+)$")
_LB_SUFFIX = re.compile(r"^(?:loadbalancer/)?((app|net|gwy)/[^/\s]+/[^/\s]+)$")
_TG_ARN = re.compile(rf"^{_ARN_PARTITION}:elasticloadbalancing:([a-z0-9-]+):\d{{12}}:(targetgroup/[^/\s]+/[^/\s]+)$")
_TG_SUFFIX = re.compile(r"^(targetgroup/[^/\s]+/[^/\s]+)$")


def load_balancer_dimension(value: str) -> tuple[str, str | None]:
    """The ``LoadBalancer`` dimension value (``app/name/id``) of an ALB, and its ARN's region.

    Accepts the full ARN, ``loadbalancer/app/name/id`` or ``app/name/id``.

    Example
    -------
    >>> load_balancer_dimension("arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/web/50dc6c495c0c9188")
    ('app/web/50dc6c495c0c9188', 'eu-west-1')
    """
    text = _text(value, "load balancer")
    m = _LB_ARN.match(text)
    suffix, kind, region = (m.group(2), m.group(3), m.group(1)) if m else (None, None, None)
    if not m:
        m2 = _LB_SUFFIX.match(text)
        if not m2 and re.fullmatch(r"[A-Za-z0-9-]{1,32}", text):
            raise ParameterError(
                f"{text!r} is a load balancer's name, and CloudWatch names it with its id too: give the ARN or "
                f"app/{text}/<id> (aws elbv2 describe-load-balancers --names {text} shows both)"
            )
        if not m2:
            raise ParameterError(
                f"{text!r} is not an Application Load Balancer: give its ARN or the app/<name>/<id> suffix "
                "(the LoadBalancer dimension CloudWatch uses)"
            )
        suffix, kind = m2.group(1), m2.group(2)
    if kind != "app":
        raise ParameterError(
            f"{text!r} is a {'Network' if kind == 'net' else 'Gateway'} Load Balancer; its metrics are in "
            f"AWS/{'NetworkELB' if kind == 'net' else 'GatewayELB'}, not AWS/ApplicationELB"
        )
    return suffix, region  # type: ignore[return-value]


def target_group_dimension(value: str) -> tuple[str, str | None]:
    """The ``TargetGroup`` dimension value (``targetgroup/name/id``) and the ARN's region.

    Example
    -------
    >>> target_group_dimension("arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-tg/73e2d6bc24d8a067")
    ('targetgroup/web-tg/73e2d6bc24d8a067', 'us-east-1')
    """
    text = _text(value, "target group")
    m = _TG_ARN.match(text)
    if m:
        return m.group(2), m.group(1)
    m = _TG_SUFFIX.match(text)
    if not m and re.fullmatch(r"[A-Za-z0-9-]{1,32}", text):
        raise ParameterError(
            f"{text!r} is a target group's name, and CloudWatch names it with its id too: give the ARN or "
            f"targetgroup/{text}/<id> (aws elbv2 describe-target-groups --names {text} shows both)"
        )
    if not m:
        raise ParameterError(
            f"{text!r} is not a target group: give its ARN or the targetgroup/<name>/<id> suffix "
            "(the TargetGroup dimension CloudWatch uses)"
        )
    return m.group(1), None


def _lb_display(suffix: str) -> str:
    return suffix.split("/")[1]


def alb(load_balancer: str, *, region: str | None = None, period: int | None = None) -> list[MetricQuery]:
    """Load-balancer-wide metrics of an ALB (namespace ``AWS/ApplicationELB``, dimension ``LoadBalancer``).

    ===================================  ===========================================================
    metric (stat)                        what it tells during an incident
    ===================================  ===========================================================
    RequestCount (Sum)                   traffic through the load balancer
    HTTPCode_ELB_5XX_Count (Sum)         5XX generated by the load balancer itself (not the targets)
    HTTPCode_ELB_502_Count (Sum)         bad gateway: a target closed the connection or sent garbage
                                         -- deploys cutting in-flight requests, unhealthy targets
    HTTPCode_ELB_503_Count (Sum)         no healthy target registered at all
    HTTPCode_ELB_504_Count (Sum)         a target did not answer within the idle timeout
    HTTPCode_Target_5XX_Count (Sum)      5XX returned by the application
    TargetResponseTime (p50, p90, p99)   time targets took to answer; compare with the
                                         deregistration delay and the health-check timeout
    TargetConnectionErrorCount (Sum)     connections to targets that failed (security groups, crashes)
    RejectedConnectionCount (Sum)        connections refused because the load balancer was at its limit
    ===================================  ===========================================================

    Healthy/unhealthy host counts exist only per target group: see :func:`target_group`.

    Example
    -------
    >>> qs = alb("arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/web/50dc6c495c0c9188")
    >>> qs[0].dimensions, qs[0].region
    ({'LoadBalancer': 'app/web/50dc6c495c0c9188'}, 'eu-west-1')
    """
    suffix, arn_region = load_balancer_dimension(load_balancer)
    metrics = [
        ("RequestCount", "Sum"),
        ("HTTPCode_ELB_5XX_Count", "Sum"),
        ("HTTPCode_ELB_502_Count", "Sum"),
        ("HTTPCode_ELB_503_Count", "Sum"),
        ("HTTPCode_ELB_504_Count", "Sum"),
        ("HTTPCode_Target_5XX_Count", "Sum"),
        ("TargetResponseTime", "p50"),
        ("TargetResponseTime", "p90"),
        ("TargetResponseTime", "p99"),
        ("TargetConnectionErrorCount", "Sum"),
        ("RejectedConnectionCount", "Sum"),
    ]
    name = _lb_display(suffix)
    return _build(
        "alb", suffix.split("/", 1)[1], name, "AWS/ApplicationELB", {"LoadBalancer": suffix}, metrics,
        region=region or arn_region, period=period,
    )


def target_group(
    target_group: str, load_balancer: str, *, region: str | None = None, period: int | None = None
) -> list[MetricQuery]:
    """Metrics of one ALB target group (dimensions ``TargetGroup`` + ``LoadBalancer``).

    ===================================  ===========================================================
    metric (stat)                        what it tells during an incident
    ===================================  ===========================================================
    RequestCount (Sum)                   traffic routed to this group
    RequestCountPerTarget (Sum)          load per target (scaling lag, uneven spread)
    HTTPCode_Target_5XX_Count (Sum)      application 5XX from this group
    TargetResponseTime (p50, p99,        response-time spikes; against the health-check timeout they
    Maximum)                             explain false unhealthy marks, against the deregistration
                                         delay the 502s of every deploy
    UnHealthyHostCount (Maximum)         targets failing health checks; rising and falling in a saw
                                         tooth = flapping checks
    HealthyHostCount (Minimum)           the fewest healthy targets in each period; 0 = 503s
    TargetConnectionErrorCount (Sum)     connections to targets that failed
    ===================================  ===========================================================

    Example
    -------
    >>> qs = target_group("targetgroup/web-tg/73e2d6bc24d8a067", "app/web/50dc6c495c0c9188")
    >>> qs[0].dimensions
    {'LoadBalancer': 'app/web/50dc6c495c0c9188', 'TargetGroup': 'targetgroup/web-tg/73e2d6bc24d8a067'}
    """
    tg, tg_region = target_group_dimension(target_group)
    lb, lb_region = load_balancer_dimension(load_balancer)
    if tg_region and lb_region and tg_region != lb_region:
        raise ParameterError(f"target group ({tg_region}) and load balancer ({lb_region}) are in different regions")
    metrics = [
        ("RequestCount", "Sum"),
        ("RequestCountPerTarget", "Sum"),
        ("HTTPCode_Target_5XX_Count", "Sum"),
        ("TargetResponseTime", "p50"),
        ("TargetResponseTime", "p99"),
        ("TargetResponseTime", "Maximum"),
        ("UnHealthyHostCount", "Maximum"),
        ("HealthyHostCount", "Minimum"),
        ("TargetConnectionErrorCount", "Sum"),
    ]
    return _build(
        "tg", tg.split("/", 1)[1], tg.split("/")[1], "AWS/ApplicationELB",
        {"TargetGroup": tg, "LoadBalancer": lb}, metrics, region=region or tg_region or lb_region, period=period,
    )


# --- DynamoDB -------------------------------------------------------------------------------------

_DDB_ARN = re.compile(rf"^{_ARN_PARTITION}:dynamodb:([a-z0-9-]+):\d{{12}}:table/([A-Za-z0-9_.-]{{3,255}})(?:/index/([A-Za-z0-9_.-]{{3,255}}))?$")
_DDB_NAME = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")


def dynamodb_table(
    table: str,
    *,
    index: str | None = None,
    operations: Sequence[str] = DYNAMODB_OPERATIONS,
    region: str | None = None,
    period: int | None = None,
) -> list[MetricQuery]:
    """Metrics of one DynamoDB table (namespace ``AWS/DynamoDB``), or of one of its GSIs.

    ``table`` is a name or a table ARN. ``index`` (a global secondary index) switches the
    capacity and throttle-event metrics to ``TableName`` + ``GlobalSecondaryIndexName``.

    ==========================================  ==================================================
    metric (stat)                               what it tells during an incident
    ==========================================  ==================================================
    ConsumedReadCapacityUnits (Sum)             read units used per period (divide by the period
                                                in seconds for units/s); a spike at the same hour
                                                each day = a scheduled Scan
    ConsumedWriteCapacityUnits (Sum)            write units used per period
    ProvisionedReadCapacityUnits (Average)      provisioned read units/s (no data in on-demand mode)
    ProvisionedWriteCapacityUnits (Average)     provisioned write units/s
    ReadThrottleEvents (Sum)                    read events above capacity (table or GSI)
    WriteThrottleEvents (Sum)                   write events above capacity: "Rate exceeded"
    ThrottledRequests (Sum), per operation      throttled requests by API operation -- Scan vs
                                                GetItem/Query tells a scan burst from hot keys
    SystemErrors (Sum), per operation           HTTP 500s from DynamoDB itself
    UserErrors (Sum)                            HTTP 400s of the *whole account and region* (no
                                                table dimension exists): validation, conditional
                                                and auth errors, not throttling
    ==========================================  ==================================================

    Example
    -------
    >>> qs = dynamodb_table("orders", operations=["Scan"])
    >>> [q.metric_name for q in qs if "Operation" in q.dimensions]
    ['ThrottledRequests', 'SystemErrors']
    """
    text = _text(table, "table name")
    m = _DDB_ARN.match(text)
    if m:
        arn_region, name, arn_index = m.groups()
        region = region or arn_region
        index = index or arn_index
    elif _DDB_NAME.match(text):
        name = text
    else:
        raise ParameterError(f"{text!r} is not a DynamoDB table name (3-255 of A-Z a-z 0-9 _ . -) or table ARN")
    if isinstance(operations, str):
        operations = [operations]
    ops = [_text(op, "DynamoDB operation") for op in operations]
    unknown = [op for op in ops if not re.match(r"^[A-Z][A-Za-z]+$", op)]
    if unknown:
        raise ParameterError(f"operations {unknown} are not DynamoDB API operation names (e.g. GetItem, Scan)")
    capacity_dims = {"TableName": name}
    display = name
    if index:
        capacity_dims["GlobalSecondaryIndexName"] = _text(index, "index name")
        display = f"{name}/{index}"
    out = _build(
        "ddb", display, display, "AWS/DynamoDB", capacity_dims,
        [
            ("ConsumedReadCapacityUnits", "Sum"),
            ("ConsumedWriteCapacityUnits", "Sum"),
            ("ProvisionedReadCapacityUnits", "Average"),
            ("ProvisionedWriteCapacityUnits", "Average"),
            ("ReadThrottleEvents", "Sum"),
            ("WriteThrottleEvents", "Sum"),
        ],
        region=region, period=period,
    )
    for op in ops:
        out += _build(
            "ddb", f"{name}_{op}", f"{name} {op}", "AWS/DynamoDB", {"TableName": name, "Operation": op},
            [("ThrottledRequests", "Sum"), ("SystemErrors", "Sum")], region=region, period=period,
        )
    out += _build("ddb", "account", "account", "AWS/DynamoDB", {}, [("UserErrors", "Sum")], region=region, period=period)
    return out


# --- RDS ------------------------------------------------------------------------------------------

_RDS_ARN = re.compile(rf"^{_ARN_PARTITION}:rds:([a-z0-9-]+):\d{{12}}:db:([A-Za-z][A-Za-z0-9-]{{0,62}})$")
_RDS_ID = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,62}$")


def rds_instance(instance: str, *, region: str | None = None, period: int | None = None) -> list[MetricQuery]:
    """Metrics of one RDS DB instance (namespace ``AWS/RDS``, dimension ``DBInstanceIdentifier``).

    =================================  ==============================================================
    metric (stat)                      what it tells during an incident
    =================================  ==============================================================
    CPUUtilization (Average, Maximum)  a busy database -- or, when low while the app reports pool
                                       exhaustion, that the database is *not* the bottleneck
    DatabaseConnections (Maximum,      open connections; climbing without falling back while
    Average)                           traffic is flat = connections leaking from a pool
    FreeableMemory (Minimum)           memory left; connections cost memory
    ReadLatency (Average, Maximum)     seconds per disk read
    WriteLatency (Average, Maximum)    seconds per disk write
    DiskQueueDepth (Maximum)           I/O waiting for the disk (storage saturation)
    =================================  ==============================================================

    Example
    -------
    >>> rds_instance("orders-db")[0].dimensions
    {'DBInstanceIdentifier': 'orders-db'}
    """
    text = _text(instance, "DB instance identifier")
    m = _RDS_ARN.match(text)
    if m:
        region = region or m.group(1)
        ident = m.group(2)
    elif _RDS_ID.match(text):
        ident = text
    else:
        raise ParameterError(f"{text!r} is not an RDS DB instance identifier (a letter, then letters, digits, -) or ARN")
    metrics = [
        ("CPUUtilization", "Average"),
        ("CPUUtilization", "Maximum"),
        ("DatabaseConnections", "Maximum"),
        ("DatabaseConnections", "Average"),
        ("FreeableMemory", "Minimum"),
        ("ReadLatency", "Average"),
        ("ReadLatency", "Maximum"),
        ("WriteLatency", "Average"),
        ("WriteLatency", "Maximum"),
        ("DiskQueueDepth", "Maximum"),
    ]
    return _build("rds", ident, ident, "AWS/RDS", {"DBInstanceIdentifier": ident}, metrics, region=region, period=period)


# --- Route 53 -------------------------------------------------------------------------------------

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


# --- EC2 ------------------------------------------------------------------------------------------

_EC2_ARN = re.compile(rf"^{_ARN_PARTITION}:ec2:([a-z0-9-]+):\d{{12}}:instance/(i-[0-9a-f]{{8,17}})$")
_EC2_ID = re.compile(r"^i-[0-9a-f]{8,17}$")


def ec2_instance(instance_id: str, *, region: str | None = None, period: int | None = None) -> list[MetricQuery]:
    """Metrics of one EC2 instance (namespace ``AWS/EC2``, dimension ``InstanceId``).

    Basic monitoring publishes every 5 minutes: with a 60 s period such instances show
    one point in five. Detailed monitoring publishes every minute.

    ==================================  =============================================================
    metric (stat)                       what it tells during an incident
    ==================================  =============================================================
    CPUUtilization (Maximum, Average)   short spikes show in Maximum long before the Average; spikes
                                        lining up with failed load-balancer health checks = checks
                                        too tight for transient load
    StatusCheckFailed (Maximum)         1 when either status check failed
    StatusCheckFailed_Instance          the instance itself (OS, memory exhaustion, boot) failed
    (Maximum)
    StatusCheckFailed_System (Maximum)  the AWS host underneath failed
    CPUCreditBalance (Minimum)          burstable (T) instances only: at 0 the CPU is throttled
    ==================================  =============================================================

    Example
    -------
    >>> sorted({q.metric_name for q in ec2_instance("i-0abc123def4567890")})[:2]
    ['CPUCreditBalance', 'CPUUtilization']
    """
    text = _text(instance_id, "instance id")
    m = _EC2_ARN.match(text)
    if m:
        region = region or m.group(1)
        iid = m.group(2)
    elif _EC2_ID.match(text):
        iid = text
    else:
        raise ParameterError(f"{text!r} is not an EC2 instance id (i- followed by 8 or 17 hex digits) or instance ARN")
    metrics = [
        ("CPUUtilization", "Maximum"),
        ("CPUUtilization", "Average"),
        ("StatusCheckFailed", "Maximum"),
        ("StatusCheckFailed_Instance", "Maximum"),
        ("StatusCheckFailed_System", "Maximum"),
        ("CPUCreditBalance", "Minimum"),
    ]
    return _build("ec2", iid, iid, "AWS/EC2", {"InstanceId": iid}, metrics, region=region, period=period)


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
