"""The suite's own AWS calls are audited against the shipped IAM policy (see conftest)."""

from __future__ import annotations

from incidentkit.fetch import aws


def test_recorded_calls_are_in_policy_and_allowed(recorded_aws_calls) -> None:
    allowed_actions = set(aws.policy_document()["Statement"][0]["Action"])
    for service, op in sorted(recorded_aws_calls):
        if service == "s3" and op in aws.S3_WRITE_OPERATIONS:
            continue  # report publishing: allowed only under a configured prefix (deploy role)
        assert aws.iam_action(service, op) in allowed_actions, f"{service}:{op} not in readonly-iam.json"
        assert op in aws.READ_OPERATIONS[service]
