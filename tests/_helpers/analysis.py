"""Shared by the analysis tests (deploys, healthchecks, saturation, throttling): odd input frames.

Every detector must survive frames of shapes the kit does not produce itself (missing columns,
NaT, all-NaN values, key/value settings, column-less frames): it returns None or a finding with
a valid severity, never raises.
"""

from __future__ import annotations

from typing import Callable, Iterable

import numpy as np
import pandas as pd

from incidentkit.findings import Inputs

__all__ = ["ODD_T", "ODD_INPUTS", "assert_detectors_survive"]

ODD_T = pd.Timestamp("2026-03-01T00:00Z")
ODD_INPUTS = {
    "logs without a message column": Inputs(logs=pd.DataFrame({"timestamp": [ODD_T], "level": ["ERROR"]})),
    "logs without timestamps": Inputs(logs=pd.DataFrame({"message": ["ThrottlingException: Rate exceeded"]})),
    "logs with NaT": Inputs(logs=pd.DataFrame({"timestamp": [pd.NaT, ODD_T], "message": ["Rate exceeded"] * 2, "request_id": ["a", "a"]})),
    "metrics without dimensions/period": Inputs(metrics=pd.DataFrame({
        "timestamp": pd.date_range(ODD_T, periods=10, freq="1min"), "namespace": "AWS/DynamoDB",
        "metric_name": "ReadThrottleEvents", "stat": "Sum", "value": 50.0})),
    "metrics all NaN": Inputs(metrics=pd.DataFrame({
        "timestamp": pd.date_range(ODD_T, periods=10, freq="1min"), "namespace": "AWS/Route53", "metric_name": "HealthCheckStatus",
        "dimensions": None, "stat": "Minimum", "period": 60, "value": np.nan})),
    "changes with few columns": Inputs(changes=pd.DataFrame({"timestamp": [ODD_T] * 2, "event_name": ["RevokeSecurityGroupIngress",
                                                                                           "AuthorizeSecurityGroupIngress"],
                                                            "error_code": [None, "X"]})),
    "settings as key/value": Inputs(settings=pd.DataFrame({"key": ["deregistration_delay.timeout_seconds"], "value": ["30"]})),
    "health frames of another shape": Inputs(health={"targets": pd.DataFrame({"x": [1]}), "route53_checkers": pd.DataFrame({"status": [None]})}),
    "empty frames without columns": Inputs(logs=pd.DataFrame(), metrics=pd.DataFrame(), changes=pd.DataFrame(),
                                           settings=pd.DataFrame(), requests=pd.DataFrame(), health={"targets": pd.DataFrame()}),
}


def assert_detectors_survive(detectors: Iterable[Callable[[Inputs], object]], inputs: Inputs) -> None:
    """Run each detector on ``inputs``: it returns None or a finding with one of the kit's severities."""
    for detector in detectors:
        result = detector(inputs)
        # a plain module (not rewritten by pytest): the message says which detector failed
        assert result is None or result.severity in ("low", "medium", "high", "critical", "info"), (
            f"{detector.__name__} returned {result!r}"
        )
