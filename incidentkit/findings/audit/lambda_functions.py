"""Lambda functions: latency-sensitive functions that pay cold starts for want of provisioned concurrency.

Example
-------
>>> s = pd.DataFrame({"resource_type": "lambda_function", "resource_id": "api",
...     "setting": ["ProvisionedConcurrentExecutions"], "value": ["0"]})
>>> [r.severity for r in check_lambda_provisioned_concurrency(s)]
['medium']
"""

from __future__ import annotations

import math
from typing import Any, Iterable

import pandas as pd  # noqa: F401 - the docstring examples use pd

from .inputs import _obs, _Settings
from .results import AuditResult, not_checked

__all__ = ["check_lambda_provisioned_concurrency"]


def check_lambda_provisioned_concurrency(settings: Any, observed: Any = None, latency_sensitive: Iterable[str] | None = None) -> list[AuditResult]:
    """Latency-sensitive functions with ``ProvisionedConcurrentExecutions`` 0.

    Without provisioned concurrency, the first request after an idle period or above the warm
    pool pays the cold start (``Init Duration``): the P99-at-quiet-hours and 504-under-burst
    incidents (7 and 2). ``latency_sensitive`` names the functions on a request path (default:
    every function in the settings). Severity ``high`` when observed cold starts are costly
    (``init_p99_ms`` ≥ 1 s), ``low`` when SnapStart is on, else ``medium``.

    Example
    -------
    >>> s = pd.DataFrame({"resource_type": "lambda_function", "resource_id": "api",
    ...     "setting": ["ProvisionedConcurrentExecutions", "ReservedConcurrentExecutions"], "value": ["0", None]})
    >>> [(r.check_id, r.severity) for r in check_lambda_provisioned_concurrency(s, {"init_p99_ms": 2300})]
    [('lambda-no-provisioned-concurrency', 'high')]
    """
    st = _Settings(settings)
    wanted = set(latency_sensitive) if latency_sensitive is not None else None
    out: list[AuditResult] = []
    for fn in st.resources("lambda_function"):
        if wanted is not None and fn not in wanted:
            continue
        if not st.has("lambda_function", fn, "ProvisionedConcurrentExecutions"):
            out.append(not_checked(fn, "provisioned concurrency was not collected (lambda:ListProvisionedConcurrencyConfigs)"))
            continue
        pce = st.num("lambda_function", fn, "ProvisionedConcurrentExecutions") or 0
        if pce > 0:
            continue
        reserved = st.num("lambda_function", fn, "ReservedConcurrentExecutions")
        snapstart = st.get("lambda_function", fn, "SnapStart.ApplyOn") == "PublishedVersions"
        init_p99 = _obs(observed, fn, "init_p99_ms")
        share = _obs(observed, fn, "cold_start_share")
        peak = _obs(observed, fn, "peak_concurrency")
        evidence: dict[str, Any] = {"provisioned_concurrent_executions": 0}
        if reserved is not None:
            evidence["reserved_concurrent_executions"] = reserved
        if init_p99 is not None:
            evidence["observed_init_p99_ms"] = round(init_p99, 1)
        if share is not None:
            evidence["observed_cold_start_share"] = round(share, 4)
        if peak is not None:
            evidence["observed_peak_concurrency"] = peak
        if snapstart:
            evidence["snapstart"] = "PublishedVersions"
        severity = "low" if snapstart else ("high" if init_p99 is not None and init_p99 >= 1000 else "medium")
        if peak is not None:
            n = math.ceil(peak * 1.1)
            n_text = f"{n} (observed peak concurrency {peak:g} + 10 %)"
        else:
            n = None
            n_text = "the function's steady-state concurrency (p95 of ConcurrentExecutions over a busy hour)"
        if reserved is not None and n is not None and n > reserved:
            n, n_text = int(reserved), f"{int(reserved)} (capped by ReservedConcurrentExecutions)"
        cold = f"; observed cold starts add up to {init_p99:.0f} ms (p99 Init Duration)" if init_p99 is not None else ""
        out.append(AuditResult(
            "lambda-no-provisioned-concurrency", fn, severity,
            f"{fn} has no provisioned concurrency: requests after an idle period or above the warm pool wait for a "
            f"cold start{cold}." + (" SnapStart is on, which shortens but does not remove it." if snapstart else ""),
            evidence,
            [
                f"Publish a version, point an alias (e.g. live) at it, and give the alias provisioned concurrency of {n_text}.",
                f"aws lambda put-provisioned-concurrency-config --function-name {fn} --qualifier live "
                f"--provisioned-concurrent-executions {n if n is not None else 'N'}",
                "Follow daily peaks with Application Auto Scaling: target tracking on "
                "LambdaProvisionedConcurrencyUtilization at 0.7 for the alias.",
            ]))
    return out
