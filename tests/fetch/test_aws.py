"""The guarded client: retries, endpoints, and the read-only guard (nothing mutating is ever sent)."""

from __future__ import annotations

import json
import re

import botocore.session
import pytest
from botocore.awsrequest import AWSResponse

from incidentkit.fetch import aws
from incidentkit.errors import ParameterError, ReadOnlyViolation
from _helpers import ROOT



class _RawBody:
    def __init__(self, body: bytes = b"") -> None:
        self._body = body

    def stream(self, **_):
        yield self._body


class _Recorder:
    """A `before-send` hook: records every request that would reach the network, answers 200."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    def __call__(self, request, **_):
        self.sent.append(request.url)
        return AWSResponse(request.url, 200, {}, _RawBody(b""))


def test_policy_file_matches_allow_list() -> None:
    shipped = json.loads((ROOT / "incidentkit" / "policy" / "readonly-iam.json").read_text())
    assert shipped == aws.policy_from_operations()
    actions = shipped["Statement"][0]["Action"]
    assert all(re.fullmatch(r"[a-z0-9-]+:[A-Za-z0-9]+", a) or a == "apigateway:GET" for a in actions)
    # least privilege: no wildcard, no write action
    assert not any("*" in a for a in actions)
    assert not any(aws.is_mutating(a.split(":")[1]) for a in actions if a not in ("logs:StopQuery",))


def test_allow_list_operations_exist_in_botocore_and_are_reads() -> None:
    loader = botocore.session.get_session()
    for service, ops in aws.READ_OPERATIONS.items():
        model = loader.get_service_model(service)
        for op in ops:
            assert op in model.operation_names, f"{service}:{op} is not a botocore operation"
            if op != "StopQuery":  # stops the kit's own query only
                assert not aws.is_mutating(op), f"{service}:{op} looks mutating"


@pytest.mark.parametrize("service", sorted(aws.READ_OPERATIONS))
def test_guard_refuses_every_other_operation_before_sending(service: str) -> None:
    """Enumerate botocore's whole service model: only the allow-list may go out."""
    client = aws.client(service, region="us-east-1")
    recorder = _Recorder()
    client.meta.events.register_first("before-send", recorder)
    model = client.meta.service_model
    refused = 0
    for op in model.operation_names:
        if op in aws.READ_OPERATIONS[service]:
            continue
        method = getattr(client, botocore.xform_name(op))
        with pytest.raises(ReadOnlyViolation) as info:
            method()
        assert op in str(info.value)
        refused += 1
    assert recorder.sent == [], "a refused operation reached the network"
    assert refused == len(model.operation_names) - len(aws.READ_OPERATIONS[service])


def test_guard_error_is_one_actionable_line() -> None:
    logs = aws.client("logs", region="us-east-1")
    with pytest.raises(ReadOnlyViolation) as info:
        logs.delete_log_group(logGroupName="/aws/lambda/api")
    text = str(info.value)
    assert "\n" not in text and "logs:DeleteLogGroup" in text and "read-only" in text


def test_s3_writes_only_under_the_configured_prefix() -> None:
    s3 = aws.client("s3", region="us-east-1", allow_writes_to="s3://reports/incidents/")
    recorder = _Recorder()
    s3.meta.events.register_first("before-send", recorder)
    s3.put_object(Bucket="reports", Key="incidents/run-1/report.html", Body=b"x")
    assert len(recorder.sent) == 1
    for bucket, key in [("reports", "other/x"), ("evil", "incidents/x"), ("reports", "incidents/../x")]:
        with pytest.raises(ReadOnlyViolation):
            s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    with pytest.raises(ReadOnlyViolation):
        s3.delete_object(Bucket="reports", Key="incidents/run-1/report.html")
    plain = aws.client("s3", region="us-east-1")
    with pytest.raises(ReadOnlyViolation):
        plain.put_object(Bucket="reports", Key="incidents/x", Body=b"x")
    assert len(recorder.sent) == 1


def test_client_options(monkeypatch: pytest.MonkeyPatch) -> None:
    c = aws.client("logs", region="eu-west-1", endpoint_url="http://127.0.0.1:1", max_attempts=3)
    assert c.meta.region_name == "eu-west-1"
    assert c.meta.endpoint_url == "http://127.0.0.1:1"
    assert c.meta.config.retries["total_max_attempts"] == 3 and c.meta.config.retries["mode"] == "standard"
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:2")
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.delenv("AWS_REGION", raising=False)
    c2 = aws.client("logs")
    assert c2.meta.endpoint_url == "http://127.0.0.1:2" and c2.meta.region_name == aws.DEFAULT_REGION
    monkeypatch.setenv("INCIDENTKIT_MAX_ATTEMPTS", "nope")
    with pytest.raises(ParameterError, match="INCIDENTKIT_MAX_ATTEMPTS"):
        aws.client("logs", region="us-east-1")
    with pytest.raises(ParameterError, match="does not read"):
        aws.client("iam", region="us-east-1")
    with pytest.raises(ParameterError):
        aws.client("logs", region="us-east-1", max_attempts=0)


def test_call_listener_sees_allowed_calls() -> None:
    seen: list[tuple[str, str]] = []
    listener = lambda s, o, p: seen.append((s, o))  # noqa: E731
    aws.add_call_listener(listener)
    try:
        logs = aws.client("logs", region="us-east-1")
        logs.meta.events.register_first("before-send", _Recorder())
        try:
            logs.describe_log_groups()
        except Exception:
            pass  # the fake 200 has no body; only the listener matters here
    finally:
        aws.remove_call_listener(listener)
    assert ("logs", "DescribeLogGroups") in seen


def test_library_makes_clients_only_through_aws_client() -> None:
    offenders = []
    for path in (ROOT / "incidentkit").rglob("*.py"):
        if path.name == "aws.py":
            continue
        text = path.read_text()
        if re.search(r"boto3\.client\(|\.client\(\s*['\"]", text) and "aws.client(" not in text:
            offenders.append(str(path.relative_to(ROOT)))
        if re.search(r"boto3\.client\(|session\.client\(|Session\(\)\.client\(", text):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == [], f"boto3 clients made outside incidentkit.fetch.aws: {offenders}"


def test_retry_attempts_reads_response_metadata_of_responses_and_errors() -> None:
    from botocore.exceptions import ClientError

    assert aws.retry_attempts({"ResponseMetadata": {"RetryAttempts": 3}}) == 3
    err = ClientError({"Error": {"Code": "ThrottlingException"}, "ResponseMetadata": {"RetryAttempts": 7}}, "GetMetricData")
    assert aws.retry_attempts(err.response) == 7
    assert [aws.retry_attempts(r) for r in (None, {}, {"ResponseMetadata": None}, {"ResponseMetadata": {"RetryAttempts": "x"}})] == [0, 0, 0, 0]


def test_an_unknown_profile_is_one_actionable_line(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    from incidentkit.errors import NoCredentialsError

    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    for make in (lambda: aws.profile_session("no-such-profile"), lambda: aws.client("logs", profile="no-such-profile")):
        with pytest.raises(NoCredentialsError) as info:
            make()
        assert "'no-such-profile' is not configured" in str(info.value) and "\n" not in str(info.value)
