"""Publishing a run to S3: everything first, the manifest last, nothing outside the prefix."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from incidentkit.fetch import aws
from incidentkit.run import publish
from incidentkit.errors import NotFoundError, ParameterError, ReadOnlyViolation


@pytest.fixture
def run_dir(tmp_path):
    run = tmp_path / "triage-20260301T031000Z-abcd"
    (run / "evidence").mkdir(parents=True)
    (run / "report.html").write_text("<html>ok</html>")
    (run / "findings.json").write_text(json.dumps({"findings": []}))
    (run / "evidence" / "logs-x.parquet").write_bytes(b"PAR1")
    (run / "manifest.json").write_text(json.dumps({"run_id": run.name}))
    return run


@mock_aws
def test_publish_uploads_all_with_manifest_last(run_dir) -> None:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="reports")
    order: list[str] = []
    real_client = aws.client

    def recording_client(*args, **kwargs):
        c = real_client(*args, **kwargs)
        c.meta.events.register("before-parameter-build.s3.PutObject", lambda params, **_: order.append(params["Key"]))
        return c

    aws_client = pytest.MonkeyPatch()
    aws_client.setattr(aws, "client", recording_client)
    try:
        assert not publish.exists("s3://reports/incidents", run_dir.name, region="us-east-1")
        url = publish.upload_run(run_dir, "s3://reports/incidents", sse="AES256", region="us-east-1")
        assert publish.exists("s3://reports/incidents", run_dir.name, region="us-east-1")
    finally:
        aws_client.undo()
    assert url == f"s3://reports/incidents/{run_dir.name}/"
    assert order[-1].endswith("/manifest.json") and len(order) == 4
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket="reports")["Contents"]}
    assert f"incidents/{run_dir.name}/evidence/logs-x.parquet" in keys
    head = s3.head_object(Bucket="reports", Key=f"incidents/{run_dir.name}/report.html")
    assert head["ServerSideEncryption"] == "AES256" and head["ContentType"] == "text/html"
    manifest = json.loads(s3.get_object(Bucket="reports", Key=f"incidents/{run_dir.name}/manifest.json")["Body"].read())
    assert manifest["run_id"] == run_dir.name
    assert {o["key"] for o in manifest["published"]["objects"]} == {"report.html", "findings.json", "evidence/logs-x.parquet"}


@mock_aws
def test_missing_bucket_is_a_clear_error(run_dir) -> None:
    with pytest.raises(NotFoundError, match="NoSuchBucket"):
        publish.upload_run(run_dir, "s3://no-such-bucket/x", region="us-east-1")


def test_bad_urls_and_options(run_dir) -> None:
    for bad in ["reports/x", "s3://", "s3:///x"]:
        with pytest.raises(ParameterError):
            publish.parse_s3_url(bad)
    with pytest.raises(ParameterError, match="--sse"):
        publish.upload_run(run_dir, "s3://reports/x", sse="rot13")
    assert publish.parse_s3_url("s3://b/p") == ("b", "p/")


def test_guard_keeps_writes_inside_the_prefix() -> None:
    s3 = aws.client("s3", region="us-east-1", allow_writes_to="s3://reports/incidents/")
    with pytest.raises(ReadOnlyViolation):
        s3.put_object(Bucket="reports", Key="other/report.html", Body=b"x")


@mock_aws
def test_a_failed_run_never_writes_the_complete_run_marker(tmp_path) -> None:
    """A folder without findings.json (a failed run) is indexed by failed.json, never manifest.json."""
    failed = tmp_path / "triage-20260301T031000Z-abcd.failed"
    (failed / "evidence").mkdir(parents=True)
    (failed / "report.ipynb").write_text("{}")
    (failed / "evidence" / "manifest.json").write_text("{}")
    (failed / "manifest.json").write_text(json.dumps({"run_id": "stale", "complete": True}))  # a stray file is not trusted
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="reports")
    url = publish.upload_run(failed, "s3://reports/incidents", region="us-east-1",
                          error="cell 3 raised ValueError: password=hunter2 rejected\nsecond line")
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket="reports")["Contents"])
    base = f"incidents/{failed.name}/"
    assert url == f"s3://reports/{base}"
    assert keys == sorted(base + k for k in ("evidence/manifest.json", "report.ipynb", "failed.json"))
    marker = json.loads(s3.get_object(Bucket="reports", Key=base + "failed.json")["Body"].read())
    assert marker["complete"] is False and marker["run_id"] == failed.name
    assert marker["error"].startswith("cell 3 raised ValueError") and "hunter2" not in marker["error"] and "\n" not in marker["error"]
    assert {o["key"] for o in marker["published"]["objects"]} == {"report.ipynb", "evidence/manifest.json"}
    assert not publish.exists("s3://reports/incidents", failed.name, region="us-east-1")
    assert not publish.exists("s3://reports/incidents", failed.name.removesuffix(".failed"), region="us-east-1")
