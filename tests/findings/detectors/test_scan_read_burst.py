"""The ``scan-read-burst`` detector (:mod:`incidentkit.findings.detectors.scan_read_burst`): when it fires, when it stays silent."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from incidentkit.analyses import throttling as th
from incidentkit.findings import Inputs
from _helpers.throttling_cases import healthy_logs, logs_frame, metric, report_days
from incidentkit.findings.detectors import scan_read_burst


PROGRESS_FORMATS = {
    "python logging": "2026-03-01 02:00:{s:02d},123 INFO report: scanning orders, page {k} (1000 items)",
    "node console JSON": '{{"level":30,"msg":"scanned {k}000 records from orders","segment":0,"totalSegments":1}}',
    "java slf4j": "02:00:{s:02d}.123 [main] INFO  c.a.r.ReportJob - Scan segment 2/4 of table orders: batch {k} done",
    "pagination keys only": '{{"event":"page","n":{k},"LastEvaluatedKey":{{"pk":"o#{k}"}}}}',
}


def sparse_report(with_logs=True):
    """CloudWatch publishes ReadThrottleEvents only for minutes that had throttles; the report is an EventBridge cron."""
    start = pd.Timestamp("2026-03-09T04:30:00Z")
    consumed = np.full(120, 1500.0)
    consumed[90:102] = 24000.0
    m = pd.concat([
        metric("ConsumedReadCapacityUnits", consumed, start=start),
        metric("ProvisionedReadCapacityUnits", [400] * 120, start=start, stat="Average"),
        metric("ReadThrottleEvents", [4, 204, 240, 211, 204, 283, 194, 189, 223, 182, 213, 109],
               start=start + pd.Timedelta(minutes=91)),
    ])
    settings = pd.DataFrame({"resource_type": "AWS::Events::Rule",
                             "resource_id": "arn:aws:events:eu-central-1:1:rule/daily-sales-report",
                             "setting": ["ScheduleExpression", "State"], "value": ["cron(0 6 * * ? *)", "ENABLED"]})
    logs = logs_frame([{"timestamp": start + pd.Timedelta(minutes=90, seconds=s),
                        "message": f"Scan page {s}: Count=1000 ScannedCount=1000 LastEvaluatedKey present"} for s in range(0, 600, 20)])
    return m, settings, (logs if with_logs else None)


def test_detect_scan_read_burst_positive():
    m, logs = report_days()
    f = scan_read_burst.detect(Inputs(metrics=m, logs=logs))
    assert f is not None and f.id == "scan-read-burst"
    assert f.severity == "high"
    assert f.confidence >= 0.8
    e = f.evidence
    assert e["table"] == "orders" and e["time_of_day_utc"] == "02:00"
    assert e["days_with_burst_at_this_time"] == 3
    assert e["share_of_read_throttles"] == 1.0
    assert e["share_of_time"] < 0.02
    assert e["write_throttle_events_in_burst"] == 0
    assert "Query" in f.remediation[0] and "Limit" in f.remediation[1]


def test_single_day_scan_burst_explained_by_scan_lines():
    m, logs = report_days(days=1)
    f = scan_read_burst.detect(Inputs(metrics=m, logs=logs))
    assert f is not None and f.severity == "high"
    assert f.evidence["days_with_burst_at_this_time"] == 1
    assert f.evidence["scan_lines_in_burst"] == 26


@pytest.mark.parametrize("fmt", sorted(PROGRESS_FORMATS))
def test_a_scanning_job_that_logs_its_own_progress_is_recognised(fmt):
    """The job logs its own progress, never a DynamoDB client line (no 'operation', no SDK text)."""
    m, _ = report_days(days=1, scans=False, failing_reads=False)
    t0 = pd.Timestamp("2026-03-01T02:00:00Z")
    rows = [{"timestamp": t0 + pd.Timedelta(seconds=10 * k), "request_id": "rep-1", "log_group": "/aws/lambda/nightly-report",
             "message": PROGRESS_FORMATS[fmt].format(k=k, s=min(59, 10 * k))} for k in range(1, 25)]
    rng = np.random.default_rng(2)
    rows += [{"timestamp": pd.Timestamp("2026-03-01T00:00:00Z") + pd.Timedelta(seconds=float(rng.uniform(0, 86400))),
              "request_id": f"q{k}", "log_group": "/aws/lambda/orders-api",
              "message": "Query orders by customer returned 12 items, ScannedCount=12, LastEvaluatedKey none"} for k in range(300)]
    logs = logs_frame(rows)
    scans = th.scan_operations(logs)
    assert len(scans) == 24 and set(scans["log_group"]) == {"/aws/lambda/nightly-report"}, "a Query's pages are not a Scan"
    f = scan_read_burst.detect(Inputs(metrics=m, logs=logs))
    assert f is not None and f.title.startswith("Scan-shaped read burst") and f.severity == "medium"


def test_unexplained_burst_is_low_and_scattered_throttles_raise_nothing():
    m, _ = report_days(days=1)
    f = scan_read_burst.detect(Inputs(metrics=m))
    assert f is not None and f.severity == "low"
    # healthy: a few read throttles scattered over the day, no scans
    n = 288
    reads = np.zeros(n)
    reads[[20, 90, 150, 230]] = [2, 1, 3, 1]
    healthy = metric("ReadThrottleEvents", reads, start=pd.Timestamp("2026-03-01T00:00Z"), period=300)
    assert scan_read_burst.detect(Inputs(metrics=healthy, logs=healthy_logs())) is None
    # spread throttling (no concentration) is not scan-shaped either
    spread = metric("ReadThrottleEvents", np.where(np.arange(n) % 3 == 0, 60.0, 0.0), start=pd.Timestamp("2026-03-01T00:00Z"), period=300)
    assert scan_read_burst.detect(Inputs(metrics=spread)) is None


def test_scan_detector_edge_cases():
    assert scan_read_burst.detect(Inputs()) is None
    assert scan_read_burst.detect(Inputs(logs=healthy_logs())) is None
    assert th.read_bursts(None).empty
    assert list(th.read_bursts(pd.DataFrame()).columns) == list(th.READ_BURST_COLUMNS)


def test_sparse_throttle_datapoints_use_the_table_span_and_the_cron_schedule():
    m, settings, logs = sparse_report()
    b = th.read_bursts(m, logs, settings=settings)
    assert len(b) == 1
    assert b.loc[0, "time_share"] == pytest.approx(0.1)  # 12 of the 120 minutes the table's metrics cover
    assert b.loc[0, "schedule"] == "daily-sales-report cron(0 6 * * ? *)"
    f = scan_read_burst.detect(Inputs(metrics=m, logs=logs, settings=settings))
    assert f is not None and f.confidence >= 0.85 and f.evidence["schedule"] == "daily-sales-report cron(0 6 * * ? *)"
    m, settings, _ = sparse_report(with_logs=False)
    f = scan_read_burst.detect(Inputs(metrics=m, settings=settings))
    assert f is not None and f.severity == "medium"  # the schedule alone explains it
    other = settings.assign(value=["cron(30 22 * * ? *)", "ENABLED"])
    assert scan_read_burst.detect(Inputs(metrics=m, settings=other)).severity == "low"
