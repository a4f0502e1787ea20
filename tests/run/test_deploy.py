"""The deploy recipe: a valid CloudFormation template whose role is the kit's read-only policy."""

from __future__ import annotations

import json

import pytest
from _helpers import ROOT

TEMPLATE = ROOT / "deploy" / "template.yaml"

cfnlint_api = pytest.importorskip("cfnlint.api")


def _load_template() -> dict:
    from cfnlint.decode import decode_str

    template, matches = decode_str(TEMPLATE.read_text())
    assert not matches
    return template


def test_template_passes_cfn_lint() -> None:
    matches = cfnlint_api.lint_file(TEMPLATE, config=cfnlint_api.ManualArgs(regions=["us-east-1", "eu-west-1"]))
    assert [str(m) for m in matches] == []


def test_role_is_exactly_the_readonly_policy_plus_put_on_prefix() -> None:
    template = _load_template()
    policies = {p["PolicyName"]: p["PolicyDocument"] for p in template["Resources"]["FunctionRole"]["Properties"]["Policies"]}
    shipped = json.loads((ROOT / "incidentkit" / "policy" / "readonly-iam.json").read_text())
    readonly = policies["incidentkit-readonly"]["Statement"][0]
    assert sorted(readonly["Action"]) == sorted(shipped["Statement"][0]["Action"])
    writes = [s for s in policies["incidentkit-publish-reports"]["Statement"] if isinstance(s, dict) and "Action" in s]
    write_actions = {a for s in writes for a in s["Action"]}
    assert write_actions <= {"s3:PutObject", "s3:AbortMultipartUpload", "s3:GetObject", "s3:ListBucket"}
    put = next(s for s in writes if "s3:PutObject" in s["Action"])
    assert "${OutputPrefix}*" in json.dumps(put["Resource"])  # never the whole bucket


def test_rule_matches_alarm_state_changes_into_alarm() -> None:
    rule = _load_template()["Resources"]["AlarmStateRule"]["Properties"]
    pattern = rule["EventPattern"]
    assert pattern["source"] == ["aws.cloudwatch"]
    assert pattern["detail-type"] == ["CloudWatch Alarm State Change"]
    assert pattern["detail"]["state"]["value"] == ["ALARM"]


def test_dockerfile_copies_what_exists() -> None:
    text = (ROOT / "deploy" / "Dockerfile").read_text()
    copied = " ".join(line for line in text.splitlines() if line.startswith("COPY "))
    for path in ("pyproject.toml", "README.md", "incidentkit", "notebooks"):
        assert f" {path}" in copied and (ROOT / path).exists(), path
    assert 'CMD ["incidentkit.run.autorun.handler"]' in text
