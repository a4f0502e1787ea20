"""The ``throttling-without-backoff`` detector (:mod:`incidentkit.findings.detectors.throttling_without_backoff`): when it fires, when it stays silent."""

from __future__ import annotations

import pandas as pd
from incidentkit import findings, schema
from incidentkit.findings import Inputs
from _helpers.throttling_cases import PTE, T0, backoff_logs, healthy_logs, logs_frame, metric, tight_loop_logs
from incidentkit.findings.detectors import throttling_without_backoff


def batch_metrics():
    return pd.concat(
        [
            metric("ConsumedWriteCapacityUnits", [0, 6000, 6000, 6000, 300], start=T0 - pd.Timedelta(minutes=1)),
            metric("ProvisionedWriteCapacityUnits", [100] * 5, stat="Average", start=T0 - pd.Timedelta(minutes=1)),
            metric("WriteThrottleEvents", [0, 480000, 510000, 90000, 0], start=T0 - pd.Timedelta(minutes=1)),
        ]
    )


def test_detect_throttling_without_backoff_positive():
    f = throttling_without_backoff.detect(Inputs(logs=tight_loop_logs(), metrics=batch_metrics()))
    assert f is not None and f.id == "throttling-without-backoff"
    assert f.severity == "high"
    assert f.confidence >= 0.75
    assert f.evidence["share_gaps_within_50ms"] == 1.0
    assert f.evidence["retried_calls"] == 120
    assert f.evidence["peak_utilisation"] == 1.0
    assert f.evidence["provisioned_units_per_s"] == 100
    assert f.evidence["top_operation"] == "PutItem"
    text = " ".join(f.remediation)
    assert "adaptive" in text and "UnprocessedItems" in text and "PAY_PER_REQUEST" in text
    assert f.onset is not None and f.onset.startswith("2026-03-02T09:00")


def test_detect_throttling_without_backoff_logs_only_still_finds_it():
    f = throttling_without_backoff.detect(Inputs(logs=tight_loop_logs(fmt="text")))
    assert f is not None and f.confidence >= 0.6


def test_healthy_window_raises_nothing():
    healthy_metrics = pd.concat(
        [
            metric("ConsumedWriteCapacityUnits", [1200] * 60),
            metric("ProvisionedWriteCapacityUnits", [100] * 60, stat="Average"),
            metric("WriteThrottleEvents", [0] * 10 + [3] + [0] * 30 + [2] + [0] * 18),
        ]
    )
    inputs = Inputs(logs=healthy_logs(), metrics=healthy_metrics)
    assert throttling_without_backoff.detect(inputs) is None
    inputs.requests = schema.empty_frame("requests")
    got = findings.detect(inputs, only=["throttling-without-backoff", "scan-read-burst"])
    assert not got.errors
    assert not got.at_least("medium")


def test_heavy_throttling_with_proper_backoff_is_not_this_finding():
    inputs = Inputs(logs=backoff_logs(n_calls=200), metrics=batch_metrics())
    assert throttling_without_backoff.detect(inputs) is None


def test_metrics_only_extreme_throttle_ratio_gives_a_weaker_finding():
    f = throttling_without_backoff.detect(Inputs(metrics=batch_metrics()))
    assert f is not None
    assert f.severity == "medium" and f.confidence <= 0.45
    assert f.evidence["peak_throttle_to_capacity"] == 85.0
    mild = pd.concat([metric("ConsumedWriteCapacityUnits", [6000]), metric("ProvisionedWriteCapacityUnits", [100], stat="Average"),
                      metric("WriteThrottleEvents", [900])])
    assert throttling_without_backoff.detect(Inputs(metrics=mild)) is None


def test_no_backoff_detector_edge_cases():
    assert throttling_without_backoff.detect(Inputs()) is None
    assert throttling_without_backoff.detect(Inputs(logs=healthy_logs().iloc[:0])) is None
    only_noise = logs_frame([{"timestamp": T0, "message": "hello"}])
    assert throttling_without_backoff.detect(Inputs(logs=only_noise, metrics=pd.DataFrame())) is None


def test_no_backoff_ranks_first_through_detect():
    got = findings.detect(Inputs(logs=tight_loop_logs(), metrics=batch_metrics(), requests=schema.empty_frame("requests")),
                          only=["throttling-without-backoff", "scan-read-burst"])
    assert got.top is not None and got.top.id == "throttling-without-backoff"


def test_sdk_retries_off_and_the_change_that_raised_concurrency():
    logs = tight_loop_logs(60, fmt="text")
    logs["message"] = logs["message"].str.replace(
        PTE, "An error occurred (ProvisionedThroughputExceededException) when calling the BatchWriteItem operation "
             "(reached max retries: 0): The level of configured provisioned throughput for the table was exceeded.", regex=False)
    changes = schema.conform(pd.DataFrame({
        "timestamp": pd.to_datetime(["2026-03-01T16:42:19Z", "2026-03-02T08:30:00Z"], utc=True),
        "event_name": ["UpdateEventSourceMapping20150331", "PutMetricAlarm"], "class": ["CONFIG_CHANGE", "CONFIG_CHANGE"],
        "actor": ["arn:aws:sts::1:assumed-role/Dev/tom", "arn:aws:iam::1:user/ops"], "resource": ["esm-1", "cpu"],
        "detail": ['{"params":{"scalingConfig":{"maximumConcurrency":100}}}', "{}"]}), "changes")
    f = throttling_without_backoff.detect(Inputs(logs=logs, metrics=batch_metrics(), changes=changes))
    assert f.evidence["sdk_retries_off"] is True and f.evidence["share_lines_sdk_retried"] == 0.0
    assert "switched off" in f.summary and "max_attempts 1" in f.remediation[0]
    assert [c["event_name"] for c in f.related_changes] == ["UpdateEventSourceMapping20150331"]
    # the same spacing with the SDK reporting its own retries (it backed off before giving up) is less certain
    sdk = logs.assign(message=logs["message"].str.replace("max retries: 0", "max retries: 9", regex=False))
    g = throttling_without_backoff.detect(Inputs(logs=sdk, metrics=batch_metrics()))
    assert g.confidence < f.confidence and g.evidence["sdk_retries_off"] is False
