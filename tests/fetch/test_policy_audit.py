"""The suite's own AWS calls are audited against the shipped IAM policy (see conftest)."""

from __future__ import annotations

from incidentkit.fetch import aws


def _actions(sid: str) -> set[str]:
    return next(set(s["Action"]) for s in aws.policy_document()["Statement"] if s["Sid"] == sid)


def test_recorded_calls_are_in_policy_and_allowed(recorded_aws_calls) -> None:
    readonly, athena = _actions("IncidentKitReadOnly"), _actions("IncidentKitAthenaQueries")
    for service, op in sorted(recorded_aws_calls):
        if service == "s3" and op in aws.S3_WRITE_OPERATIONS:
            continue  # report publishing: allowed only under a configured prefix (deploy role)
        if service == "athena":
            # the Athena exception: its own statement, and only the three query calls
            assert op in aws.ATHENA_OPERATIONS and aws.iam_action(service, op) in athena, f"athena:{op}"
            continue
        assert aws.iam_action(service, op) in readonly, f"{service}:{op} not in readonly-iam.json"
        assert op in aws.READ_OPERATIONS[service]


def test_the_athena_statement_holds_only_the_query_calls_and_what_athena_reads_in_glue() -> None:
    expected = {aws.iam_action("athena", op) for op in aws.ATHENA_OPERATIONS} | set(aws.ATHENA_CATALOG_ACTIONS)
    assert _actions("IncidentKitAthenaQueries") == expected
