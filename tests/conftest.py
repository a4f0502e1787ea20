"""Shared fixtures: no network, no real credentials, and an audit of every AWS call made."""

from __future__ import annotations

import json
import os
import signal
import threading
from pathlib import Path
from typing import Iterator

import pytest

# Fake credentials for moto/Stubber: tests must never reach a real account.
for _k, _v in {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}.items():
    os.environ[_k] = _v
os.environ.pop("AWS_PROFILE", None)
os.environ.setdefault("INCIDENTKIT_PROGRESS", "0")
os.environ.setdefault("MPLBACKEND", "Agg")
# Calls are not paced at AWS's quotas here (moto never throttles); tests/fetch/test_pacing.py sets its own budgets.
os.environ.setdefault("INCIDENTKIT_RPS", "FilterLogEvents=0,GetMetricData=0,LookupEvents=0")

from incidentkit.fetch import aws  # noqa: E402

#: Real published AWS records (log lines, API responses) and the fields each must parse to. They are
#: reference material, not part of the repository: they live in ``shared/reference/aws-samples``
#: beside the clone (``../shared/reference/aws-samples`` from its root), or where
#: ``INCIDENTKIT_AWS_SAMPLES`` points. Without them the tests that read them are skipped, saying so.
SAMPLES = Path(os.environ.get("INCIDENTKIT_AWS_SAMPLES")
               or Path(__file__).resolve().parents[1].parent / "shared" / "reference" / "aws-samples")
SAMPLES_MISSING = (f"the published AWS records are not in the repository and were not found at {SAMPLES} "
                   "(../shared/reference/aws-samples beside the clone); set INCIDENTKIT_AWS_SAMPLES=DIR to run these tests")

_calls: set[tuple[str, str]] = set()
_calls_lock = threading.Lock()


def _record(service: str, operation: str, params: dict) -> None:
    with _calls_lock:
        _calls.add((service, operation))


aws.add_call_listener(_record)


@pytest.fixture(scope="session")
def recorded_aws_calls() -> set[tuple[str, str]]:
    """Every (service, operation) the guard let through so far in this test session."""
    return _calls


def pytest_sessionfinish(session, exitstatus):
    """Every AWS operation the suite made through the kit must be in the shipped IAM policy."""
    path = os.environ.get("INCIDENTKIT_CALL_LOG")
    if path:
        Path(path).write_text(json.dumps(sorted(_calls)))
    # every statement of the policy: the reads, and the Athena statement (queries and their results)
    allowed = {a for statement in aws.policy_document()["Statement"] for a in statement["Action"]}
    # s3 writes pass the guard only under a configured output prefix; the deploy recipe's
    # role grants them on that prefix alone, outside the read-only policy.
    outside = sorted(
        f"{s}:{o}"
        for s, o in _calls
        if aws.iam_action(s, o) not in allowed and not (s == "s3" and o in aws.S3_WRITE_OPERATIONS)
    )
    if outside:
        session.config.get_terminal_writer().line(
            f"AWS operations made by the kit but missing from readonly-iam.json: {outside}", red=True
        )
        session.exitstatus = 1


@pytest.fixture
def aws_samples() -> Path:
    """The folder of published AWS records; the test is skipped when it is absent."""
    if not SAMPLES.is_dir():
        pytest.skip(SAMPLES_MISSING)
    return SAMPLES


@pytest.fixture
def expected_samples(aws_samples: Path) -> dict:
    """``aws-samples/EXPECTED.json``: the fields each published record must parse to."""
    return json.loads((aws_samples / "EXPECTED.json").read_text())


@pytest.fixture
def process_groups() -> Iterator[list[int]]:
    """Process groups a test starts (``start_new_session=True``), killed by id at its end: an orphaned kernel goes too."""
    groups: list[int] = []
    yield groups
    for pgid in groups:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass
