"""The change timeline: CloudTrail (Stubber, hooks), CodeDeploy / Lambda / ECS (moto), classification."""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile

import boto3
import pandas as pd
import pytest
from botocore.awsrequest import AWSResponse
from botocore.stub import ANY, Stubber
from moto import mock_aws

from incidentkit.fetch import aws, changes
from incidentkit import schema
from incidentkit.errors import (
    AccessDeniedError,
    BadWindowError,
    IncompleteDataWarning,
    ParameterError,
    ThrottledError,
)
from incidentkit.window import Window

# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _no_pacing(monkeypatch):
    """LookupEvents pacing sleeps 0.5 s between pages; tests that check pacing set their own pacer."""
    monkeypatch.setattr(changes, "_lookup_pacer", changes._Pacer(0.0))


def _recent_window(hours: float = 2.0) -> Window:
    end = pd.Timestamp.now(tz="UTC").ceil("s") + pd.Timedelta(seconds=30)
    return Window(end - pd.Timedelta(hours=hours), end)


def _lookup_event(record: dict, *, event_id: str | None = None, read_only: str = "false") -> dict:
    """A LookupEvents ``Events[]`` item as boto3 returns it (EventTime a datetime, CloudTrailEvent a JSON string)."""
    when = pd.Timestamp(record["eventTime"]).to_pydatetime()
    return {
        "EventId": event_id or record.get("eventID") or f"id-{record['eventName']}-{record['eventTime']}",
        "EventName": record["eventName"],
        "ReadOnly": read_only,
        "EventTime": when,
        "EventSource": record.get("eventSource", ""),
        "Username": (record.get("userIdentity") or {}).get("userName", "someone"),
        "Resources": [],
        "CloudTrailEvent": json.dumps(record),
    }


def _stubbed_cloudtrail(monkeypatch) -> Stubber:
    """Make every cloudtrail client changes.timeline creates share one Stubber."""
    real = aws.client
    client = real("cloudtrail", region="us-east-1")
    stubber = Stubber(client)

    def factory(service, **kw):
        assert service == "cloudtrail", f"unexpected service {service}"
        return client

    monkeypatch.setattr(changes.aws, "client", factory)
    return stubber


def _sg_record(minute: int, name: str = "RevokeSecurityGroupIngress", error: str | None = None, **extra) -> dict:
    rec = {
        "eventVersion": "1.09",
        "eventTime": f"2026-03-01T13:{minute:02d}:00Z",
        "eventSource": "ec2.amazonaws.com",
        "eventName": name,
        "awsRegion": "eu-west-1",
        "eventID": f"sg-{minute}-{name}",
        "userAgent": "aws-cli/2.15.30 Python/3.11.8 Linux/6.1 exe/x86_64",
        "readOnly": False,
        "userIdentity": {"type": "AssumedRole", "arn": "arn:aws:sts::111122223333:assumed-role/ops/alice",
                         "sessionContext": {"sessionIssuer": {"type": "Role", "arn": "arn:aws:iam::111122223333:role/ops", "userName": "ops"}}},
        "requestParameters": {"groupId": "sg-0123456789abcdef0", "ipPermissions": {"items": [{"ipProtocol": "tcp", "fromPort": 443, "toPort": 443}]}},
    }
    if error:
        rec["errorCode"] = error
        rec["errorMessage"] = "You are not authorized to perform this operation."
    rec.update(extra)
    return rec


# --------------------------------------------------------------------------------------------
# classification
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, api",
    [
        ("UpdateFunctionCode20150331v2", "UpdateFunctionCode"),
        ("UpdateFunctionConfiguration20150331v2", "UpdateFunctionConfiguration"),
        ("PublishVersion20150331", "PublishVersion"),
        ("GetFunction20150331", "GetFunction"),
        ("PutProvisionedConcurrencyConfig", "PutProvisionedConcurrencyConfig"),
        ("ModifyTargetGroupAttributes", "ModifyTargetGroupAttributes"),
        ("", ""),
        (None, ""),
    ],
)
def test_normalize_event_name_strips_api_version_suffix(raw, api):
    assert changes.normalize_event_name(raw) == api


@pytest.mark.parametrize(
    "source, name, req, expected",
    [
        ("lambda.amazonaws.com", "UpdateFunctionCode20150331v2", None, "DEPLOYMENT"),
        ("lambda.amazonaws.com", "PublishVersion20150331", None, "DEPLOYMENT"),
        ("lambda.amazonaws.com", "UpdateAlias20150331", None, "DEPLOYMENT"),
        ("lambda.amazonaws.com", "UpdateFunctionConfiguration20150331v2", None, "CONFIG_CHANGE"),
        ("lambda.amazonaws.com", "PutFunctionConcurrency20171031", None, "CONFIG_CHANGE"),
        ("lambda.amazonaws.com", "PutProvisionedConcurrencyConfig", None, "SCALING"),
        ("codedeploy.amazonaws.com", "CreateDeployment", None, "DEPLOYMENT"),
        ("apigateway.amazonaws.com", "CreateDeployment", None, "DEPLOYMENT"),
        ("apigateway.amazonaws.com", "UpdateStage", None, "CONFIG_CHANGE"),
        ("ecs.amazonaws.com", "RegisterTaskDefinition", None, "DEPLOYMENT"),
        ("ecs.amazonaws.com", "UpdateService", {"service": "web", "taskDefinition": "web:7"}, "DEPLOYMENT"),
        ("ecs.amazonaws.com", "UpdateService", {"service": "web", "forceNewDeployment": True}, "DEPLOYMENT"),
        ("ecs.amazonaws.com", "UpdateService", {"service": "web", "desiredCount": 12}, "SCALING"),
        ("ec2.amazonaws.com", "AuthorizeSecurityGroupIngress", None, "SECURITY_CHANGE"),
        ("ec2.amazonaws.com", "RevokeSecurityGroupEgress", None, "SECURITY_CHANGE"),
        ("ec2.amazonaws.com", "ModifySecurityGroupRules", None, "SECURITY_CHANGE"),
        ("ec2.amazonaws.com", "ModifyInstanceAttribute", {"instanceId": "i-1", "groupSet": {"items": []}}, "SECURITY_CHANGE"),
        ("ec2.amazonaws.com", "ModifyInstanceAttribute", {"instanceId": "i-1", "instanceType": {"value": "m5.large"}}, "CONFIG_CHANGE"),
        ("elasticloadbalancing.amazonaws.com", "ModifyTargetGroup", None, "CONFIG_CHANGE"),
        ("elasticloadbalancing.amazonaws.com", "ModifyTargetGroupAttributes", None, "CONFIG_CHANGE"),
        ("dynamodb.amazonaws.com", "UpdateTable", None, "CONFIG_CHANGE"),
        ("rds.amazonaws.com", "ModifyDBInstance", None, "CONFIG_CHANGE"),
        ("application-autoscaling.amazonaws.com", "RegisterScalableTarget", None, "SCALING"),
        ("application-autoscaling.amazonaws.com", "PutScalingPolicy", None, "SCALING"),
        ("autoscaling.amazonaws.com", "SetDesiredCapacity", None, "SCALING"),
        ("autoscaling.amazonaws.com", "UpdateAutoScalingGroup", None, "SCALING"),
        ("iam.amazonaws.com", "AttachRolePolicy", None, "IAM"),
        ("sts.amazonaws.com", "AssumeRole", None, "IAM"),
        ("signin.amazonaws.com", "ConsoleLogin", None, "IAM"),
        ("sqs.amazonaws.com", "SetQueueAttributes", None, "CONFIG_CHANGE"),
        ("ec2.amazonaws.com", "RunInstances", None, "OTHER"),
        ("ec2.amazonaws.com", "DescribeInstances", None, "OTHER"),
        ("", "RegisterScalableTarget", None, "SCALING"),
    ],
)
def test_classify(source, name, req, expected):
    assert changes.classify(source, name, req) == expected


@pytest.mark.parametrize(
    "identity, agent, expected",
    [
        ({"type": "AssumedRole", "invokedBy": "cloudformation.amazonaws.com"}, "cloudformation.amazonaws.com", ("iac", "cloudformation")),
        ({"type": "IAMUser"}, "APN/1.0 HashiCorp/1.0 Terraform/1.7.5 (+https://www.terraform.io) terraform-provider-aws/5.40.0", ("iac", "terraform")),
        ({"type": "AssumedRole", "arn": "arn:aws:sts::1:assumed-role/codepipeline-deploy-role/123",
          "sessionContext": {"sessionIssuer": {"userName": "codepipeline-deploy-role"}}}, "aws-sdk-java/1.12", ("pipeline", "codepipeline")),
        ({"type": "AWSService", "invokedBy": "autoscaling.amazonaws.com"}, "autoscaling.amazonaws.com", ("aws-service", "autoscaling.amazonaws.com")),
        ({"type": "IAMUser"}, "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36", ("console", None)),
        ({"type": "IAMUser"}, "console.amazonaws.com", ("console", None)),
        ({"type": "IAMUser"}, "aws-cli/2.15.30 Python/3.11.8 Linux/6.1", ("cli", "aws-cli")),
        ({"type": "AssumedRole"}, "Boto3/1.34.0 md/Botocore#1.34.0 ua/2.0 os/linux", ("sdk", "boto3")),
        ({"type": "IAMUser"}, "stratus-red-team_1004a4ff", ("other", None)),
    ],
)
def test_changed_by_recognises_iac_pipelines_services_and_people(identity, agent, expected):
    assert changes.changed_by(identity, agent) == expected


def test_data_events_are_not_config_changes():
    rec = {"eventTime": "2026-03-01T10:00:00Z", "eventSource": "dynamodb.amazonaws.com", "eventName": "PutItem",
           "eventCategory": "Data", "managementEvent": False, "readOnly": False,
           "userIdentity": {"type": "AssumedRole", "arn": "arn:aws:sts::1:assumed-role/app/x"},
           "requestParameters": {"tableName": "orders"}}
    df = changes.parse_cloudtrail_records([rec])
    assert df.loc[0, "class"] == "OTHER"
    assert df.loc[0, "resource"] == "orders"


# --------------------------------------------------------------------------------------------
# parse_cloudtrail_records on the published samples
# --------------------------------------------------------------------------------------------


def test_parse_published_cloudtrail_records_matches_expected(aws_samples, expected_samples):
    lines = (aws_samples / "cloudtrail_records.jsonl").read_text().splitlines()
    expected = expected_samples["cloudtrail_records.jsonl"]["lines"]
    df = changes.parse_cloudtrail_records(lines, write_only=False)
    assert list(df.columns) == list(schema.CHANGE_COLUMNS)
    assert len(df) == len(expected) == len(lines)
    assert str(df["timestamp"].dtype) == "datetime64[ns, UTC]"
    assert df.attrs["parse_stats"]["errors"] == 0
    details = [json.loads(d) for d in df["detail"]]
    for idx, exp in expected.items():
        # find the row: by event id where the record has one, else by time + name
        if exp.get("eventID"):
            pos = next(i for i, d in enumerate(details) if d.get("event_id") == exp["eventID"])
        else:
            pos = next(i for i in range(len(df)) if df.loc[i, "timestamp"] == pd.Timestamp(exp["eventTime"]) and df.loc[i, "event_name"] == exp["eventName"])
        row, det = df.loc[pos], details[pos]
        assert row["timestamp"] == pd.Timestamp(exp["eventTime"]), idx
        assert row["event_name"] == exp["eventName"], idx  # raw name kept, suffix and all
        assert det["event_source"] == exp["eventSource"], idx
        assert det["region"] == exp["awsRegion"], idx
        assert det["user_agent"] == exp["userAgent"], idx
        assert det["identity_type"] == exp["userIdentity.type"], idx
        assert row["actor"] == exp["userIdentity.arn"], idx
        got_error = None if pd.isna(row["error_code"]) else row["error_code"]
        assert got_error == exp["errorCode"], idx
        assert ("error_message" in det) == exp["errorMessage_present"], idx
        if exp.get("errorMessage"):
            assert exp["errorMessage"].startswith(det["error_message"].rstrip("…"))
        if exp.get("sessionIssuer_arn"):
            assert det["session_issuer"] == exp["sessionIssuer_arn"]
    by_name = {n: i for i, n in enumerate(df["event_name"])}
    assert df.loc[by_name["AuthorizeSecurityGroupIngress"], "resource"] == "sg-003dc7f1f1c686164"
    assert df.loc[by_name["AuthorizeSecurityGroupIngress"], "class"] == "SECURITY_CHANGE"
    assert df.loc[by_name["UpdateFunctionCode20150331v2"], "class"] == "DEPLOYMENT"
    assert df.loc[by_name["UpdateFunctionCode20150331v2"], "resource"] == "stratus-red-team-olc-func-vayhjqkdav"
    assert df.loc[by_name["CreateDeployment"], "resource"] == "AppECS-FargateCluster-fargate-alb-http/DgpECS-FargateCluster-fargate-alb-http"
    assert df.loc[by_name["CreateDeploymentGroup"], "resource"] == "ExampleApplication/ExampleDeploymentGroup"
    assert df.loc[by_name["DeleteFunction"], "resource"] == "basic-node-task"
    assert df.loc[by_name["AssumeRole"], "class"] == "IAM"
    assert df["timestamp"].is_monotonic_increasing


def test_parse_cloudtrail_records_write_only_counts_what_it_skips(aws_samples):
    lines = (aws_samples / "cloudtrail_records.jsonl").read_text().splitlines()
    df = changes.parse_cloudtrail_records(lines)
    stats = df.attrs["parse_stats"]
    assert set(df["event_name"]).isdisjoint({"GetFunction", "GetPasswordData", "AssumeRole"})
    assert stats["read_only_skipped"] == 3
    assert stats["records"] == 15 and stats["kept"] == 12
    assert df.attrs["complete"] is True


def test_parse_lookup_events_sample_decodes_cloudtrail_event_and_uses_inner_time(aws_samples, expected_samples):
    doc = json.loads((aws_samples / "cloudtrail_lookup_events_response.json").read_text())
    exp = expected_samples["cloudtrail_lookup_events_response.json"]["document"]["Events[0].CloudTrailEvent.parsed"]
    df = changes.parse_cloudtrail_records(doc["Events"])
    assert len(df) == 1
    row = df.loc[0]
    assert row["timestamp"] == pd.Timestamp(exp["eventTime"])
    assert row["actor"] == exp["userIdentity.arn"]
    assert row["class"] == "IAM"
    det = json.loads(row["detail"])
    assert det["session_issuer"] == exp["userIdentity.sessionContext.sessionIssuer.arn"]
    assert det["event_id"] == exp["eventID"]
    assert det["changed_by"] == "console"


def test_parse_s3_document_bytes_and_bad_lines_are_counted():
    doc = {"Records": [_sg_record(1), _sg_record(2, "AuthorizeSecurityGroupIngress", error="Client.InvalidPermission.Duplicate")]}
    with pytest.warns(IncompleteDataWarning, match="could not be parsed"):
        df = changes.parse_cloudtrail_records([json.dumps(doc).encode(), "{not json", json.dumps({"hello": 1})])
    assert len(df) == 2
    assert df.attrs["parse_stats"]["errors"] == 2
    assert df.attrs["complete"] is False
    assert any("not JSON" in i for i in df.attrs["issues"])
    failed = df[df["error_code"].notna()]
    assert failed["event_name"].tolist() == ["AuthorizeSecurityGroupIngress"]
    det = json.loads(failed["detail"].iloc[0])
    assert det["non_iac"] is True and det["changed_by"] == "cli"


def test_parse_with_window_keeps_only_inside():
    recs = [_sg_record(m) for m in (1, 10, 20)]
    w = Window.parse("2026-03-01T13:05:00Z", "2026-03-01T13:15:00Z", now=pd.Timestamp("2026-03-02", tz="UTC"))
    df = changes.parse_cloudtrail_records(recs, window=w)
    assert df["timestamp"].tolist() == [pd.Timestamp("2026-03-01T13:10:00Z")]
    assert df.attrs["parse_stats"]["outside_window"] == 2


def test_empty_input_gives_typed_empty_frame():
    df = changes.parse_cloudtrail_records([])
    assert list(df.columns) == list(schema.CHANGE_COLUMNS)
    assert str(df["timestamp"].dtype) == "datetime64[ns, UTC]"


# --------------------------------------------------------------------------------------------
# timeline: CloudTrail LookupEvents with Stubber
# --------------------------------------------------------------------------------------------


def _pages(aws_samples) -> list[dict]:
    """Three LookupEvents pages built from the published records (50 + 50 + 8 events)."""
    base = [json.loads(l) for l in (aws_samples / "cloudtrail_records.jsonl").read_text().splitlines()]
    writes = [r for r in base if not changes._is_read_only(r)]
    events = []
    for i in range(107):
        rec = dict(writes[i % len(writes)])
        rec["eventID"] = f"evt-{i:04d}"
        events.append(_lookup_event(rec))
    sample = json.loads((aws_samples / "cloudtrail_lookup_events_response.json").read_text())["Events"][0]
    sample = dict(sample, EventTime=pd.Timestamp(sample["EventTime"]).to_pydatetime())
    events.append(sample)
    pages = [events[0:50], events[50:100], events[100:] + [events[99]]]  # page 3 repeats an event id
    return [
        {"Events": pages[0], "NextToken": "t1"},
        {"Events": pages[1], "NextToken": "t2"},
        {"Events": pages[2]},
    ]


def test_timeline_pages_lookup_events_with_readonly_false(monkeypatch, aws_samples):
    stubber = _stubbed_cloudtrail(monkeypatch)
    w = _recent_window()
    expected = {"LookupAttributes": [{"AttributeKey": "ReadOnly", "AttributeValue": "false"}],
                "StartTime": w.start.to_pydatetime(), "EndTime": w.end.to_pydatetime(), "MaxResults": 50}
    pages = _pages(aws_samples)
    stubber.add_response("lookup_events", pages[0], expected)
    stubber.add_response("lookup_events", pages[1], dict(expected, NextToken="t1"))
    stubber.add_response("lookup_events", pages[2], dict(expected, NextToken="t2"))
    with stubber:
        df = changes.timeline(w, sources=("cloudtrail",))
    stubber.assert_no_pending_responses()
    assert len(df) == 108  # 107 + the CLI sample, the repeated event id counted once
    assert df.attrs["api_calls"] == 3
    assert df.attrs["complete"] is True and df.attrs["truncated"] is False
    assert df.attrs["source"] == "changes.timeline"
    assert set(df["source"]) == {"cloudtrail"}
    assert set(df["class"]) >= {"SECURITY_CHANGE", "DEPLOYMENT", "CONFIG_CHANGE", "IAM"}
    failed = df[df["error_code"].notna()]
    assert {"TrailNotFoundException", "Client.UnauthorizedOperation"} <= set(failed["error_code"])
    console = df[df["event_name"] == "ConsoleLogin"]
    assert console["timestamp"].iloc[0] == pd.Timestamp("2016-01-26T21:42:12Z")  # inner eventTime wins


def test_timeline_caps_events_and_says_so(monkeypatch, aws_samples):
    stubber = _stubbed_cloudtrail(monkeypatch)
    pages = _pages(aws_samples)
    stubber.add_response("lookup_events", pages[0], None)
    stubber.add_response("lookup_events", pages[1], None)
    with stubber, pytest.warns(IncompleteDataWarning, match="max_events=60"):
        df = changes.timeline(_recent_window(), sources=("cloudtrail",), max_events=60)
    assert len(df) == 60
    assert df.attrs["truncated"] is True and df.attrs["complete"] is False
    assert df.attrs["api_calls"] == 2


def test_timeline_cap_equal_to_what_exists_is_not_truncation(monkeypatch, aws_samples):
    stubber = _stubbed_cloudtrail(monkeypatch)
    page = {"Events": _pages(aws_samples)[0]["Events"][:20]}
    stubber.add_response("lookup_events", page, None)
    with stubber:
        df = changes.timeline(_recent_window(), sources=("cloudtrail",), max_events=20)
    assert len(df) == 20 and df.attrs["truncated"] is False and df.attrs["complete"] is True


def test_timeline_drops_and_counts_read_events_from_other_lookup_attributes(monkeypatch):
    stubber = _stubbed_cloudtrail(monkeypatch)
    read = {"eventTime": "2026-03-01T13:00:00Z", "eventSource": "ec2.amazonaws.com", "eventName": "DescribeSecurityGroups",
            "readOnly": True, "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::1:user/a"}}
    page = {"Events": [_lookup_event(read, read_only="true"), _lookup_event(_sg_record(3))]}
    attrs = [{"AttributeKey": "EventSource", "AttributeValue": "ec2.amazonaws.com"}]
    stubber.add_response("lookup_events", page, {"LookupAttributes": attrs, "StartTime": ANY, "EndTime": ANY, "MaxResults": 50})
    with stubber:
        df = changes.timeline(_recent_window(), sources=("cloudtrail",), lookup_attributes=attrs)
    assert df["event_name"].tolist() == ["RevokeSecurityGroupIngress"]
    assert df.attrs["by_source"]["cloudtrail"]["read_only_skipped"] == 1


def test_timeline_paces_lookup_events_two_per_second(monkeypatch, aws_samples):
    stubber = _stubbed_cloudtrail(monkeypatch)
    now = [100.0]
    sleeps: list[float] = []

    def sleep(s):
        sleeps.append(s)
        now[0] += s

    monkeypatch.setattr(changes, "_lookup_pacer", changes._Pacer(0.5, clock=lambda: now[0], sleep=sleep))
    for p in _pages(aws_samples):
        stubber.add_response("lookup_events", p, None)
    with stubber:
        changes.timeline(_recent_window(), sources=("cloudtrail",))
    # three calls at the same fake instant: the 2nd and 3rd each wait the full 0.5 s
    assert sleeps == [pytest.approx(0.5), pytest.approx(0.5)]


def test_pacer_only_sleeps_the_remaining_gap():
    now = [10.0]
    sleeps: list[float] = []
    pacer = changes._Pacer(0.5, clock=lambda: now[0], sleep=lambda s: (sleeps.append(s), now.__setitem__(0, now[0] + s)))
    pacer.wait()
    now[0] += 0.2
    pacer.wait()
    now[0] += 1.0
    pacer.wait()
    assert sleeps == [pytest.approx(0.3)]


def test_timeline_window_older_than_90_days_is_a_clear_error():
    end = pd.Timestamp.now(tz="UTC") - pd.Timedelta(days=120)
    w = Window(end - pd.Timedelta(hours=1), end)
    with pytest.raises(BadWindowError, match="90 days.*parse_cloudtrail_records"):
        changes.timeline(w, sources=("cloudtrail",))


def test_timeline_clips_a_window_that_starts_before_90_days(monkeypatch):
    stubber = _stubbed_cloudtrail(monkeypatch)
    seen: list[dict] = []

    def listener(service, op, params):
        if op == "LookupEvents":
            seen.append(params)

    aws.add_call_listener(listener)
    try:
        stubber.add_response("lookup_events", {"Events": [_lookup_event(_sg_record(5))]}, None)
        now = pd.Timestamp.now(tz="UTC")
        w = Window(now - pd.Timedelta(days=100), now)
        with stubber, pytest.warns(IncompleteDataWarning, match="clipped"):
            df = changes.timeline(w, sources=("cloudtrail",))
    finally:
        aws.remove_call_listener(listener)
    start = pd.Timestamp(seen[0]["StartTime"])
    assert start >= now - pd.Timedelta(days=90) - pd.Timedelta(minutes=1)
    assert df.attrs["complete"] is False
    assert any("clipped" in i for i in df.attrs["issues"])
    assert len(df) == 1


def _throttle_session(fail_times: int, body: dict) -> tuple[boto3.Session, list[int]]:
    """A session whose cloudtrail LookupEvents answers ThrottlingException ``fail_times`` times, then ``body``."""
    session = boto3.Session(region_name="us-east-1")
    calls = [0]

    def before_send(request, **kwargs):
        calls[0] += 1
        if calls[0] <= fail_times:
            raw = json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"}).encode()
            return AWSResponse(request.url, 400, {"x-amzn-requestid": "r", "content-type": "application/x-amz-json-1.1"}, _Raw(raw))
        return AWSResponse(request.url, 200, {"x-amzn-requestid": "r", "content-type": "application/x-amz-json-1.1"}, _Raw(json.dumps(body).encode()))

    session.events.register("before-send.cloudtrail.LookupEvents", before_send)
    return session, calls


class _Raw:
    def __init__(self, data: bytes):
        self._data = data

    def stream(self, **kwargs):
        yield self._data

    def read(self, *a, **k):
        return self._data


def test_timeline_retries_throttling_and_counts_retries():
    event = _lookup_event(_sg_record(7))
    event["EventTime"] = event["EventTime"].timestamp()
    session, calls = _throttle_session(1, {"Events": [event]})
    df = changes.timeline(_recent_window(), sources=("cloudtrail",), session=session)
    assert calls[0] == 2
    assert df.attrs["retries"] == 1
    assert df.attrs["api_calls"] == 1
    assert df["event_name"].tolist() == ["RevokeSecurityGroupIngress"]


def test_timeline_throttled_past_budget_is_a_typed_error(monkeypatch):
    monkeypatch.setenv("INCIDENTKIT_MAX_ATTEMPTS", "2")
    session, calls = _throttle_session(99, {"Events": []})
    with pytest.raises(ThrottledError, match="retry budget"):
        changes.timeline(_recent_window(), sources=("cloudtrail",), session=session)
    assert calls[0] == 2


# --------------------------------------------------------------------------------------------
# timeline: CodeDeploy, Lambda, ECS with moto
# --------------------------------------------------------------------------------------------


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("app.py", "def handler(e, c):\n    return 1\n")
    return buf.getvalue()


@pytest.fixture
def moto_env():
    with mock_aws():
        yield boto3.Session(region_name="us-east-1")


def test_timeline_codedeploy_deployments_with_moto(moto_env):
    cd = moto_env.client("codedeploy")
    cd.create_application(applicationName="web", computePlatform="Server")
    cd.create_deployment_group(applicationName="web", deploymentGroupName="prod", serviceRoleArn="arn:aws:iam::123456789012:role/cd")
    cd.create_deployment_group(applicationName="web", deploymentGroupName="canary", serviceRoleArn="arn:aws:iam::123456789012:role/cd")
    rev = {"revisionType": "S3", "s3Location": {"bucket": "b", "key": "k.zip", "bundleType": "zip"}}
    ids = [cd.create_deployment(applicationName="web", deploymentGroupName=g, revision=rev)["deploymentId"] for g in ("prod", "canary")]
    w = _recent_window()
    df = changes.timeline(w, resources={"codedeploy_application": "web"}, sources=("codedeploy",), session=moto_env)
    created = df[df["event_name"] == "DeploymentCreated"]
    assert sorted(created["resource"]) == ["web/canary", "web/prod"]
    assert set(created["class"]) == {"DEPLOYMENT"}
    assert {json.loads(d)["deployment_id"] for d in created["detail"]} == set(ids)
    # ListDeploymentGroups + 2 x ListDeployments + 1 x BatchGetDeployments
    assert df.attrs["api_calls"] == 4
    # narrowing to one group
    df2 = changes.timeline(w, resources={"codedeploy_application": "web", "codedeploy_deployment_group": "prod"},
                           sources=("codedeploy",), session=moto_env)
    assert df2[df2["event_name"] == "DeploymentCreated"]["resource"].tolist() == ["web/prod"]


def test_codedeploy_rows_mark_completion_and_failure():
    t0 = dt.datetime(2026, 3, 1, 14, 0, tzinfo=dt.timezone.utc)
    rows = changes._codedeploy_rows({
        "applicationName": "api", "deploymentGroupName": "prod", "deploymentId": "d-1", "status": "Failed",
        "createTime": t0, "completeTime": t0 + dt.timedelta(minutes=7), "creator": "user",
        "errorInformation": {"code": "HEALTH_CONSTRAINTS", "message": "too many unhealthy instances"},
        "computePlatform": "ECS"})
    assert [r["event_name"] for r in rows] == ["DeploymentCreated", "DeploymentFailed"]
    assert rows[1]["error_code"] == "HEALTH_CONSTRAINTS"
    assert pd.Timestamp(rows[1]["timestamp"]) - pd.Timestamp(rows[0]["timestamp"]) == pd.Timedelta(minutes=7)
    in_progress = changes._codedeploy_rows({"applicationName": "api", "deploymentGroupName": "prod", "deploymentId": "d-2",
                                            "status": "InProgress", "createTime": t0})
    assert [r["event_name"] for r in in_progress] == ["DeploymentCreated"]


def test_timeline_lambda_versions_and_aliases_with_moto(moto_env):
    iam = moto_env.client("iam")
    role = iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    lam = moto_env.client("lambda")
    lam.create_function(FunctionName="api", Runtime="python3.12", Role=role, Handler="app.handler", Code={"ZipFile": _zip()})
    v1 = lam.publish_version(FunctionName="api")["Version"]
    lam.create_alias(FunctionName="api", Name="live", FunctionVersion=v1)
    df = changes.timeline(_recent_window(), resources={"function_name": ["api"]}, sources=("lambda",), session=moto_env)
    published = df[df["event_name"] == "VersionPublished"]
    assert len(published) == 1
    det = json.loads(published["detail"].iloc[0])
    assert det["version"] == v1 and det["aliases"] == ["live"]
    assert set(df["class"]) <= {"DEPLOYMENT", "CONFIG_CHANGE"}
    assert (df["source"] == "lambda").all() and (df["resource"] == "api").all()
    # the function named with its alias or as an ARN lists the same versions
    for spelling in ("api:live", f"arn:aws:lambda:us-east-1:123456789012:function:api:{v1}"):
        again = changes.timeline(_recent_window(), resources={"function_name": spelling}, sources=("lambda",), session=moto_env)
        assert again["event_name"].tolist() == df["event_name"].tolist(), spelling


def test_lambda_rows_config_only_change_of_latest_is_config_change():
    w = Window.parse("2026-03-01T00:00:00Z", "2026-03-02T00:00:00Z", now=pd.Timestamp("2026-03-03", tz="UTC"))
    versions = [
        {"Version": "$LATEST", "LastModified": "2026-03-01T12:00:00.000+0000", "CodeSha256": "abc"},
        {"Version": "3", "LastModified": "2026-02-27T12:00:00.000+0000", "CodeSha256": "abc"},
        {"Version": "4", "LastModified": "2026-03-01T09:00:00.000+0000", "CodeSha256": "def", "LastUpdateStatus": "Failed",
         "LastUpdateStatusReasonCode": "EniLimitExceeded"},
    ]
    aliases = [{"Name": "live", "FunctionVersion": "3", "RoutingConfig": {"AdditionalVersionWeights": {"4": 0.1}}}]
    rows = changes._lambda_rows("api", versions, aliases, w)
    by = {json.loads(r["detail"])["version"]: r for r in rows}
    assert set(by) == {"$LATEST", "4"}  # version 3 is outside the window
    assert by["$LATEST"]["class"] == "CONFIG_CHANGE"
    assert by["4"]["error_code"] == "EniLimitExceeded"
    assert json.loads(by["4"]["detail"])["aliases"] == ["live (10% weighted)"]


def test_timeline_ecs_service_deployments_with_moto(moto_env):
    ecs = moto_env.client("ecs")
    ecs.create_cluster(clusterName="prod")
    ecs.register_task_definition(family="web", containerDefinitions=[{"name": "web", "image": "nginx", "memory": 128}])
    ecs.create_service(cluster="prod", serviceName="web", taskDefinition="web", desiredCount=0)
    df = changes.timeline(_recent_window(), resources={"ecs_cluster": "prod", "ecs_service": "web"}, sources=("ecs",), session=moto_env)
    started = df[df["event_name"] == "ServiceDeploymentStarted"]
    assert started["resource"].tolist() == ["prod/web"]
    assert "task_definition" in json.loads(started["detail"].iloc[0])
    # desiredCount 0 -> moto says COMPLETED
    assert "ServiceDeploymentCompleted" in set(df["event_name"])


def test_ecs_failed_rollout_is_an_error_row():
    w = Window.parse("2026-03-01T00:00:00Z", "2026-03-02T00:00:00Z", now=pd.Timestamp("2026-03-03", tz="UTC"))
    svc = {"serviceName": "web", "deployments": [{"id": "ecs-svc/1", "status": "PRIMARY", "rolloutState": "FAILED",
           "rolloutStateReason": "ECS deployment circuit breaker: tasks failed to start.",
           "createdAt": dt.datetime(2026, 3, 1, 10, tzinfo=dt.timezone.utc), "updatedAt": dt.datetime(2026, 3, 1, 10, 20, tzinfo=dt.timezone.utc)}]}
    rows = changes._ecs_rows("prod", svc, w)
    assert [r["event_name"] for r in rows] == ["ServiceDeploymentStarted", "ServiceDeploymentFailed"]
    assert rows[1]["error_code"] == "RolloutFailed"


def test_timeline_access_denied_for_one_source_keeps_the_others(moto_env, monkeypatch):
    iam = moto_env.client("iam")
    role = iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    moto_env.client("lambda").create_function(FunctionName="api", Runtime="python3.12", Role=role, Handler="app.handler",
                                             Code={"ZipFile": _zip()})

    def deny(request, **kwargs):
        body = json.dumps({"__type": "AccessDeniedException", "message": "not authorized to perform: codedeploy:ListDeployments"})
        return AWSResponse(request.url, 400, {"content-type": "application/x-amz-json-1.1"}, _Raw(body.encode()))

    moto_env.events.register("before-send.codedeploy", deny)
    with pytest.warns(IncompleteDataWarning, match="codedeploy: not collected"):
        df = changes.timeline(_recent_window(), resources={"function_name": "api"}, sources=("codedeploy", "lambda"), session=moto_env)
    assert df.attrs["complete"] is False
    assert any(i.startswith("codedeploy: not collected: access denied") for i in df.attrs["issues"])
    assert set(df["source"]) == {"lambda"}


def test_timeline_every_source_failing_raises(moto_env):
    def deny(request, **kwargs):
        body = json.dumps({"__type": "AccessDeniedException", "message": "denied"})
        return AWSResponse(request.url, 400, {"content-type": "application/x-amz-json-1.1"}, _Raw(body.encode()))

    moto_env.events.register("before-send.codedeploy", deny)
    with pytest.raises(AccessDeniedError):
        changes.timeline(_recent_window(), sources=("codedeploy",), session=moto_env)


def test_timeline_rejects_bad_arguments():
    with pytest.raises(ParameterError, match="unknown change source"):
        changes.timeline(_recent_window(), sources=("git",))
    with pytest.raises(ParameterError, match="max_events"):
        changes.timeline(_recent_window(), sources=("lambda",), max_events=0)
    with pytest.raises(ParameterError, match="exactly one ecs_cluster"):
        changes.timeline(_recent_window(), resources={"ecs_service": "web"}, sources=("ecs",))


def test_timeline_accepts_a_start_end_pair_and_no_resources_means_no_lambda_calls(moto_env):
    end = pd.Timestamp.now(tz="UTC")
    df = changes.timeline((end - pd.Timedelta(hours=1), end), sources=("lambda", "ecs"), session=moto_env)
    assert df.empty and df.attrs["api_calls"] == 0 and list(df.columns) == list(schema.CHANGE_COLUMNS)
