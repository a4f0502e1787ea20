"""Configuration audit: the classic settings behind the incidents, flagged before they page you.

Every check is a pure function on a settings frame (:data:`incidentkit.schema.SETTING_COLUMNS`,
as :func:`incidentkit.fetch.health.snapshot` collects it) plus what was *observed* (latency
percentiles, slowest requests, throttle counts): testable without AWS, re-runnable from an
evidence bundle. :func:`run` is the AWS-facing wrapper.

Checks (``check_id`` → related finding id of incidents.md)
----------------------------------------------------------
``tg-health-check-too-tight``        a target is taken out of service after less than
                                     :data:`MIN_SECONDS_TO_UNHEALTHY` seconds of failed checks
                                     (interval × unhealthy threshold) → ``health-check-flapping``
``tg-health-check-timeout-below-p99`` the check's timeout is shorter than the observed p99
                                     response time → ``health-check-flapping``
``deregistration-delay-too-short``   ``deregistration_delay.timeout_seconds`` shorter than the
                                     observed slowest requests (p99.9 / max) → same id
``lambda-no-provisioned-concurrency`` a latency-sensitive function with no provisioned
                                     concurrency → ``cold-start-tail`` / ``cold-start-timeouts``
``dynamodb-no-autoscaling``          a PROVISIONED table or index without autoscaling on read or
                                     write capacity → ``throttling-without-backoff``
``sg-blocks-route53-checkers``       the security groups do not let the Route 53 health
                                     checkers reach the health check's port →
                                     ``healthcheck-blocked-by-change``
``not-checked``                      (info) a check could not run: a setting was not collected

Example
-------
>>> import pandas as pd
>>> from incidentkit.findings import audit
>>> s = pd.DataFrame({"resource_type": "target_group", "resource_id": "tg-web",
...                   "setting": ["HealthCheckIntervalSeconds", "HealthCheckTimeoutSeconds",
...                               "UnhealthyThresholdCount", "HealthyThresholdCount"],
...                   "value": ["5", "2", "2", "2"]})
>>> [r.check_id for r in audit.audit_settings(s, observed={"p99_ms": 2400})]
['tg-health-check-timeout-below-p99', 'tg-health-check-too-tight']
"""

from __future__ import annotations

from ..._util.severity import SEVERITIES
from .all_checks import audit_settings
from .dynamodb import check_dynamodb_autoscaling
from .inputs import observed_from_frame
from .ip_ranges import IpRanges, load_ip_ranges
from .lambda_functions import check_lambda_provisioned_concurrency
from .results import (
    CHECKS,
    AuditResult,
    exit_code,
    format_table,
    not_checked,
    worst_first,
)
from .route53_access import DEFAULT_CHECKER_REGIONS, check_route53_access
from .target_groups import (  # noqa: F401 - the comfortable bound and the recommendation: tests pin them
    COMFORTABLE_SECONDS_TO_UNHEALTHY,
    MIN_SECONDS_TO_UNHEALTHY,
    _recommend_health_check,
    check_deregistration_delay,
    check_target_group_health_checks,
)

__all__ = [
    "AuditResult",
    "IpRanges",
    "not_checked",
    "observed_from_frame",
    "worst_first",
    "audit_settings",
    "check_target_group_health_checks",
    "check_deregistration_delay",
    "check_lambda_provisioned_concurrency",
    "check_dynamodb_autoscaling",
    "check_route53_access",
    "load_ip_ranges",
    "format_table",
    "exit_code",
    "CHECKS",
    "SEVERITIES",
    "MIN_SECONDS_TO_UNHEALTHY",
    "DEFAULT_CHECKER_REGIONS",
]
