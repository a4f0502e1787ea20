"""Presets for compute: Lambda functions (and the account's concurrency), EC2 instances.

Example
-------
>>> [q.id for q in ec2_instance("i-0abc1234")][:2]
['ec2_i_0abc1234_cpuutilization_maximum', 'ec2_i_0abc1234_cpuutilization_average']
"""

from __future__ import annotations

import re

from ...errors import ParameterError
from ..metric_query import MetricQuery
from .build import _ARN_PARTITION, _build, _id_or_arn, _text

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
    iid, region = _id_or_arn(text, _EC2_ARN, _EC2_ID,
                             f"{text!r} is not an EC2 instance id (i- followed by 8 or 17 hex digits) or instance ARN", region)
    metrics = [
        ("CPUUtilization", "Maximum"),
        ("CPUUtilization", "Average"),
        ("StatusCheckFailed", "Maximum"),
        ("StatusCheckFailed_Instance", "Maximum"),
        ("StatusCheckFailed_System", "Maximum"),
        ("CPUCreditBalance", "Minimum"),
    ]
    return _build("ec2", iid, iid, "AWS/EC2", {"InstanceId": iid}, metrics, region=region, period=period)
