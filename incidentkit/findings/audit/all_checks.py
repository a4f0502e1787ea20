"""Every check of the audit on one settings frame, worst first.

Example
-------
>>> import pandas as pd
>>> s = pd.DataFrame({"resource_type": "target_group", "resource_id": "tg",
...     "setting": ["deregistration_delay.timeout_seconds"], "value": ["300"]})
>>> [(r.check_id, r.severity) for r in audit_settings(s)]
[('deregistration-delay-too-short', 'info'), ('not-checked', 'info')]
"""

from __future__ import annotations

from typing import Any, Iterable

from .dynamodb import check_dynamodb_autoscaling
from .lambda_functions import check_lambda_provisioned_concurrency
from .results import AuditResult, worst_first
from .route53_access import check_route53_access
from .target_groups import check_deregistration_delay, check_target_group_health_checks

__all__ = ["audit_settings"]


def audit_settings(
    settings: Any,
    *,
    observed: Any = None,
    ip_ranges: Any = None,
    latency_sensitive: Iterable[str] | None = None,
) -> list[AuditResult]:
    """Every check on a settings frame (or a :class:`~incidentkit.fetch.health.HealthSnapshot`), worst first.

    Parameters
    ----------
    settings:
        :data:`~incidentkit.schema.SETTING_COLUMNS` rows (``health.snapshot(...).settings``,
        or a frame read back from an evidence bundle).
    observed:
        What was measured, as a dict of numbers (``p99_ms``, ``p999_ms``, ``max_ms``,
        ``init_p99_ms``, ``cold_start_share``, ``peak_concurrency``, ``read_throttle_events``,
        ``write_throttle_events``...), globally or under a resource id
        (``{"arn:...:targetgroup/web/...": {"p99_ms": 850}}``); or a requests/parsed frame
        with ``latency_ms`` (percentiles are computed).
    ip_ranges:
        Route 53 checker ranges (:func:`load_ip_ranges`); default the shipped copy.
    latency_sensitive:
        Functions on a request path (default: every function in the settings).
    """
    results = (
        check_target_group_health_checks(settings, observed)
        + check_deregistration_delay(settings, observed)
        + check_lambda_provisioned_concurrency(settings, observed, latency_sensitive)
        + check_dynamodb_autoscaling(settings, observed)
        + check_route53_access(settings, ip_ranges)
    )
    return worst_first(results)
