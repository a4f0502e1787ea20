"""From an alarm (or its EventBridge event) to a window, baseline and template parameters."""

from __future__ import annotations

import copy
import datetime as dt
import json

import boto3
import pandas as pd
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from incidentkit.fetch import alarms, aws
from incidentkit.errors import NotFoundError, ParameterError
from _helpers import DATA

EVENTS = DATA / "alarm_events"
NOW = pd.Timestamp("2026-03-01T06:00:00Z")


def _event(name: str) -> dict:
    return json.loads((EVENTS / f"{name}.json").read_text())


def test_metric_alarm_event_gives_window_baseline_and_function() -> None:
    trigger = alarms.trigger_from_event(_event("metric_alarm"))
    assert trigger.alarm.kind == "metric" and trigger.previous_state == "OK"
    assert trigger.transition_time == pd.Timestamp("2026-03-01T03:10:40.989Z")
    d = alarms.derive(trigger, now=NOW)
    assert d.parameters == {"function_name": "api-handler", "log_groups": ["/aws/lambda/api-handler"]}
    assert "AWS/Lambda Errors FunctionName=api-handler" in d.sources["function_name"]
    # evaluation span 60 s < 30 min minimum lookback, minus 15 min margin
    assert d.window.start == trigger.transition_time - pd.Timedelta(minutes=45)
    assert d.window.end == NOW  # not recovered: up to now
    assert d.baseline.end == d.window.start and d.baseline.duration == d.window.duration
    record = d.to_dict()
    assert record["idempotency_key"] == d.key and record["window"]["start"].endswith("Z")
    assert "api-handler" in d.describe()


def test_recovery_in_history_closes_the_window() -> None:
    trigger = alarms.trigger_from_event(_event("metric_alarm"))
    t0 = trigger.transition_time
    transitions = pd.DataFrame(
        {
            "timestamp": pd.to_datetime([t0 - pd.Timedelta(minutes=10), t0, t0 + pd.Timedelta(minutes=40)], utc=True),
            "old_state": ["ALARM", "OK", "ALARM"],
            "new_state": ["OK", "ALARM", "OK"],
            "summary": ["", "", ""],
        }
    )
    d = alarms.derive(trigger, transitions=transitions, now=NOW)
    assert d.window.start == t0 - pd.Timedelta(minutes=10) - alarms.DEFAULT_MARGIN  # back to the last OK
    assert d.window.end == t0 + pd.Timedelta(minutes=40) + alarms.DEFAULT_MARGIN  # forward to recovery
    assert "recovered to OK" in d.sources["window"]


def test_metric_math_alarm_uses_every_metric() -> None:
    trigger = alarms.trigger_from_event(_event("math_alarm"))
    assert trigger.alarm.kind == "math" and trigger.alarm.expression == "100*(m1/m2)"
    d = alarms.derive(trigger, now=NOW)
    assert d.parameters["load_balancer"] == "app/web/50dc6c495c0c9188"
    assert d.parameters["target_group_arn"] == (
        "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-targets/73e2d6bc24d8a067"
    )


def test_duplicate_delivery_has_one_key_and_different_transitions_differ() -> None:
    a = alarms.trigger_from_event(_event("metric_alarm"))
    b = alarms.trigger_from_event(copy.deepcopy(_event("metric_alarm")))
    assert a.key == b.key
    later = _event("metric_alarm")
    later["detail"]["state"]["timestamp"] = "2026-03-01T05:00:00.000+0000"
    assert alarms.trigger_from_event(later).key != a.key


def test_bad_events_are_one_line_errors() -> None:
    with pytest.raises(ParameterError, match="not a CloudWatch alarm state change"):
        alarms.trigger_from_event({"detail-type": "EC2 Instance State-change Notification", "detail": {}})
    ok = _event("metric_alarm")
    ok["detail"]["state"]["value"] = "OK"
    with pytest.raises(ParameterError, match="not ALARM"):
        alarms.trigger_from_event(ok)
    with pytest.raises(ParameterError):
        alarms.trigger_from_event(["not", "an", "event"])  # type: ignore[arg-type]


def test_unknown_metric_is_a_clear_note() -> None:
    ev = _event("metric_alarm")
    ev["detail"]["configuration"]["metrics"][0]["metricStat"]["metric"] = {
        "namespace": "MyApp", "name": "CheckoutFailures", "dimensions": {"Env": "prod"}
    }
    d = alarms.derive(alarms.trigger_from_event(ev), now=NOW)
    assert d.parameters == {}
    assert any("MyApp/CheckoutFailures is not one the kit maps" in n for n in d.notes)


@pytest.mark.parametrize(
    "namespace, dims, expected",
    [
        ("AWS/DynamoDB", {"TableName": "orders"}, {"table_name": "orders"}),
        ("AWS/RDS", {"DBInstanceIdentifier": "orders-db"}, {"db_instance": "orders-db"}),
        ("AWS/Route53", {"HealthCheckId": "abcdef12-3456"}, {"health_check_id": "abcdef12-3456"}),
        ("AWS/ApiGateway", {"ApiId": "a1b2c3", "Stage": "prod"}, {"api_id": "a1b2c3", "stage": "prod"}),
        ("AWS/ApiGateway", {"ApiName": "orders-api"}, {"api_name": "orders-api"}),
        ("AWS/EC2", {"InstanceId": "i-0abc"}, {"instance_ids": ["i-0abc"]}),
        ("AWS/Lambda", {"FunctionName": "f", "Resource": "f:live"}, {"function_name": "f", "log_groups": ["/aws/lambda/f"]}),
        ("AWS/ECS", {"ClusterName": "c", "ServiceName": "s"}, {"ecs_cluster": "c", "ecs_service": "s"}),
        ("AWS/SQS", {"QueueName": "q"}, {}),
    ],
)
def test_parameters_for_metric(namespace: str, dims: dict, expected: dict) -> None:
    metric = alarms.AlarmMetric(namespace, "X", tuple(sorted(dims.items())))
    assert alarms.parameters_for_metric(metric, region="us-east-1", account="123456789012") == expected


@mock_aws
def test_composite_alarm_uses_only_the_children_that_fired() -> None:
    cw = boto3.client("cloudwatch", region_name="us-east-1")
    cw.put_metric_alarm(
        AlarmName="orders-table-throttles", Namespace="AWS/DynamoDB", MetricName="WriteThrottleEvents",
        Dimensions=[{"Name": "TableName", "Value": "orders"}], Statistic="Sum", Period=60,
        EvaluationPeriods=5, Threshold=10, ComparisonOperator="GreaterThanThreshold",
    )
    cw.put_metric_alarm(
        AlarmName="orders-api-latency", Namespace="AWS/Lambda", MetricName="Duration",
        Dimensions=[{"Name": "FunctionName", "Value": "orders-api"}], ExtendedStatistic="p99", Period=60,
        EvaluationPeriods=3, Threshold=3000, ComparisonOperator="GreaterThanThreshold",
    )
    trigger = alarms.trigger_from_event(_event("composite_alarm"))
    assert trigger.alarm.kind == "composite"
    assert trigger.triggering_children == ["arn:aws:cloudwatch:us-east-1:123456789012:alarm:orders-table-throttles"]
    alarms.resolve_children(trigger, region="us-east-1")
    d = alarms.derive(trigger, now=NOW)
    assert d.parameters == {"table_name": "orders"}  # the latency child did not fire
    # the child's evaluation span (5 x 60 s) is inside the 30 min minimum lookback
    assert d.window.start == trigger.transition_time - pd.Timedelta(minutes=45)


def _history_item(ts: str, old: str, new: str) -> dict:
    return {
        "AlarmName": "api-handler-errors",
        "AlarmType": "MetricAlarm",
        "Timestamp": dt.datetime.fromisoformat(ts.replace("Z", "+00:00")),
        "HistoryItemType": "StateUpdate",
        "HistorySummary": f"Alarm updated from {old} to {new}",
        "HistoryData": json.dumps({"version": "1.0", "oldState": {"stateValue": old}, "newState": {"stateValue": new}}),
    }


def _stubbed_cloudwatch(monkeypatch, responses: list[tuple[str, dict]]):
    client = aws.client("cloudwatch", region="us-east-1")
    stub = Stubber(client)
    for op, resp in responses:
        stub.add_response(op, resp)
    stub.activate()
    monkeypatch.setattr(aws, "client", lambda *a, **k: client)
    return stub


ALARM_ITEM = {
    "AlarmName": "api-handler-errors",
    "AlarmArn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:api-handler-errors",
    "StateValue": "OK",
    "StateUpdatedTimestamp": dt.datetime(2026, 3, 1, 4, 0, tzinfo=dt.timezone.utc),
    "MetricName": "Errors",
    "Namespace": "AWS/Lambda",
    "Statistic": "Sum",
    "Dimensions": [{"Name": "FunctionName", "Value": "api-handler"}],
    "Period": 60,
    "EvaluationPeriods": 3,
}


def test_from_alarm_reads_history_with_stubber(monkeypatch) -> None:
    stub = _stubbed_cloudwatch(
        monkeypatch,
        [
            ("describe_alarms", {"MetricAlarms": [ALARM_ITEM], "CompositeAlarms": []}),
            (
                "describe_alarm_history",
                {
                    "AlarmHistoryItems": [
                        _history_item("2026-03-01T04:00:00Z", "ALARM", "OK"),
                        _history_item("2026-03-01T03:10:00Z", "OK", "ALARM"),
                        _history_item("2026-02-27T09:00:00Z", "INSUFFICIENT_DATA", "OK"),
                    ]
                },
            ),
        ],
    )
    d = alarms.from_alarm("arn:aws:cloudwatch:us-east-1:123456789012:alarm:api-handler-errors", now=NOW)
    stub.assert_no_pending_responses()
    assert d.trigger.transition_time == pd.Timestamp("2026-03-01T03:10:00Z")
    assert d.window.end == pd.Timestamp("2026-03-01T04:15:00Z")
    assert d.window.start == pd.Timestamp("2026-03-01T02:25:00Z")
    assert d.parameters["function_name"] == "api-handler"


def test_alarm_with_no_history_and_not_in_alarm_is_a_clear_error(monkeypatch) -> None:
    _stubbed_cloudwatch(
        monkeypatch,
        [("describe_alarms", {"MetricAlarms": [ALARM_ITEM], "CompositeAlarms": []}),
         ("describe_alarm_history", {"AlarmHistoryItems": []})],
    )
    with pytest.raises(NotFoundError, match="has not been in ALARM in the last 14 days"):
        alarms.from_alarm("api-handler-errors", now=NOW)


def test_unknown_alarm(monkeypatch) -> None:
    _stubbed_cloudwatch(monkeypatch, [("describe_alarms", {"MetricAlarms": [], "CompositeAlarms": []})])
    with pytest.raises(NotFoundError, match="no CloudWatch alarm named 'nope'"):
        alarms.from_alarm("nope", now=NOW)
