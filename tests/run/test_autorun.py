"""Alarm-triggered postmortems end to end: an alarm event in, a complete report out (S3 or a folder).

One moto server (HTTP, 127.0.0.1) serves every test: the kernel that executes the
notebook is another process, so in-process ``mock_aws`` could not reach it. Template
runs cost seconds each; the module makes three (two CLI subprocesses, one in-process).
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import boto3
import pandas as pd
import pytest
from moto import mock_aws
from click.testing import CliRunner

from incidentkit.fetch import alarms
from incidentkit.run import autorun, publish, runner
from incidentkit import cli
from incidentkit.errors import AwsError
from _helpers import DATA

EVENTS = DATA / "alarm_events"
FUNCTION = "api-handler"
GROUP = f"/aws/lambda/{FUNCTION}"
ACCOUNT = "123456789012"

pytestmark = pytest.mark.slow


def _iso_ms(ts: pd.Timestamp) -> str:
    """The alarm event's own timestamp format: 2026-03-01T03:10:40.989+0000."""
    return ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}+0000"


def _moved(name: str, t0: pd.Timestamp) -> dict:
    """A recorded event with its transition at ``t0`` (moto drops log events older than 14 days)."""
    event = json.loads((EVENTS / f"{name}.json").read_text())
    event["time"] = t0.strftime("%Y-%m-%dT%H:%M:%SZ")
    event["detail"]["state"]["timestamp"] = _iso_ms(t0)
    event["detail"]["previousState"]["timestamp"] = _iso_ms(t0 - pd.Timedelta(hours=5))
    return event


def _seed(endpoint: str, now: pd.Timestamp) -> None:
    """api-handler's log group (START/REPORT and app JSON lines, errors in the last hour), metrics, a bucket, alarms."""
    logs = boto3.client("logs", region_name="us-east-1", endpoint_url=endpoint)
    logs.create_log_group(logGroupName=GROUP)
    stream = "2026/03/01/[$LATEST]0123456789abcdef0123456789abcdef"
    logs.create_log_stream(logGroupName=GROUP, logStreamName=stream)
    events = []
    t = now - pd.Timedelta(hours=3)
    i = 0
    while t < now - pd.Timedelta(minutes=1):
        ms = int(t.timestamp() * 1000)
        rid = f"{i:08d}-1111-2222-3333-{i:012d}"
        late = t > now - pd.Timedelta(hours=1, minutes=5)
        events.append({"timestamp": ms, "message": f"START RequestId: {rid} Version: $LATEST"})
        events.append({"timestamp": ms + 3, "message": json.dumps(
            {"level": "ERROR" if late and i % 3 == 0 else "INFO", "requestId": rid, "route": "/orders",
             "msg": "upstream timeout calling payments" if late and i % 3 == 0 else "ok"})})
        events.append({"timestamp": ms + 5, "message": f"REPORT RequestId: {rid}\tDuration: {80 + i % 40}.00 ms\t"
                                                       f"Billed Duration: {81 + i % 40} ms\tMemory Size: 512 MB\tMax Memory Used: 88 MB\t"})
        t += pd.Timedelta(seconds=40)
        i += 1
    logs.put_log_events(logGroupName=GROUP, logStreamName=stream, logEvents=events)
    cw = boto3.client("cloudwatch", region_name="us-east-1", endpoint_url=endpoint)
    t = now - pd.Timedelta(hours=3)
    while t < now:
        late = t > now - pd.Timedelta(hours=1, minutes=5)
        cw.put_metric_data(Namespace="AWS/Lambda", MetricData=[
            {"MetricName": name, "Dimensions": [{"Name": "FunctionName", "Value": FUNCTION}],
             "Timestamp": t.to_pydatetime(), "Value": value, "Unit": "Count"}
            for name, value in (("Invocations", 30.0), ("Errors", 10.0 if late else 0.0))])
        t += pd.Timedelta(minutes=5)
    boto3.client("s3", region_name="us-east-1", endpoint_url=endpoint).create_bucket(Bucket="reports")
    # the composite alarm's children (composite_alarm.json): two fired, one did not
    base = {"EvaluationPeriods": 1, "Period": 60, "Threshold": 1.0, "ComparisonOperator": "GreaterThanThreshold",
            "Statistic": "Sum"}
    cw.put_metric_alarm(AlarmName="orders-table-throttles", Namespace="AWS/DynamoDB", MetricName="ThrottledRequests",
                        Dimensions=[{"Name": "TableName", "Value": "orders"}], **base)
    cw.put_metric_alarm(AlarmName="orders-api-errors", Namespace="AWS/Lambda", MetricName="Errors",
                        Dimensions=[{"Name": "FunctionName", "Value": FUNCTION}], **base)
    cw.put_metric_alarm(AlarmName="orders-db-cpu", Namespace="AWS/RDS", MetricName="CPUUtilization",
                        Dimensions=[{"Name": "DBInstanceIdentifier", "Value": "orders-db"}], **base)


@pytest.fixture(scope="module")
def server():
    from moto.server import ThreadedMotoServer

    srv = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    srv.start()
    host, port = srv.get_host_and_port()
    url = f"http://{host}:{port}"
    now = pd.Timestamp.now(tz="UTC").floor("s")
    _seed(url, now)
    try:
        yield {"url": url, "t0": now - pd.Timedelta(hours=1) + pd.Timedelta(milliseconds=321)}
    finally:
        srv.stop()


def _env() -> dict[str, str]:
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_DEFAULT_REGION": "us-east-1", "INCIDENTKIT_PROGRESS": "0",
           # moto answers DescribeAlarmHistory with a 500, retried; two attempts keep the suite quick
           "INCIDENTKIT_MAX_ATTEMPTS": "2"}
    for k in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
        env.pop(k, None)
    return env


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "incidentkit.cli", *args], env=_env(), capture_output=True, text=True,
                          timeout=600, check=False)


def _s3(server) -> object:
    return boto3.client("s3", region_name="us-east-1", endpoint_url=server["url"])


def _json(s3, key: str) -> dict:
    return json.loads(s3.get_object(Bucket="reports", Key=key)["Body"].read())


# -- (1)+(2) from a recorded event alone to a report in S3, once --------------------------------------------------


def test_event_alone_publishes_a_complete_report_to_s3_once(server, tmp_path: Path) -> None:
    t0 = server["t0"]
    event = _moved("metric_alarm", t0)
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event))
    before = pd.Timestamp.now(tz="UTC")
    proc = _cli("run", "triage", "--from-event", str(path), "--out", "s3://reports/incidents",
                "--endpoint-url", server["url"], "--sse", "AES256")
    after = pd.Timestamp.now(tz="UTC")
    assert proc.returncode == 0, proc.stderr[-3000:]
    # what was derived, and from what, is printed; moto's missing DescribeAlarmHistory is a note, not a failure
    assert "derived from the alarm" in proc.stderr
    assert f"function_name = {FUNCTION}" in proc.stderr and "AWS/Lambda Errors FunctionName=api-handler" in proc.stderr
    assert "note: alarm history not read" in proc.stderr and "<html" not in proc.stderr.lower()
    assert "Traceback" not in proc.stderr

    key = alarms.idempotency_key(event["resources"][0], t0)
    run_id = autorun.run_id_for("triage", t0, key)
    location = f"s3://reports/incidents/{run_id}/"
    assert proc.stdout.splitlines()[0] == location

    s3 = _s3(server)
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket="reports", Prefix="incidents/")["Contents"]}
    prefix = f"incidents/{run_id}/"
    assert all(k.startswith(prefix) for k in keys)
    for name in ("manifest.json", "report.html", "report.ipynb", "postmortem.md", "findings.json", "evidence/manifest.json"):
        assert prefix + name in keys, (name, sorted(keys))
    assert s3.head_object(Bucket="reports", Key=prefix + "report.html")["ServerSideEncryption"] == "AES256"

    published = _json(s3, prefix + "manifest.json")
    listed = {o["key"] for o in published["published"]["objects"]}
    assert listed == {k[len(prefix):] for k in keys} - {"manifest.json"}
    assert published["run_id"] == run_id and published["context"]["alarm"]["idempotency_key"] == key

    doc = _json(s3, prefix + "findings.json")
    # the window is the derived one: 30 min lookback + 15 min margin before the ALARM, up to the moment of the run
    start = pd.Timestamp(doc["window"]["start"])
    end = pd.Timestamp(doc["window"]["end"])
    assert start == t0 - pd.Timedelta(minutes=45)
    assert before - pd.Timedelta(seconds=1) <= end <= after
    assert pd.Timestamp(doc["baseline"]["end"]) == start and pd.Timestamp(doc["baseline"]["start"]) == start - (end - start)
    assert doc["parameters"]["function_name"] == FUNCTION
    assert doc["parameters"]["log_groups"] == [GROUP]
    assert doc["data_quality"]["api_calls"] > 0

    # the derivation is in the run's evidence manifest
    ctx = _json(s3, prefix + "evidence/manifest.json")["context"]
    assert ctx["alarm"]["alarm_arn"] == event["resources"][0]
    assert ctx["alarm"]["window"] == doc["window"]
    assert ctx["alarm"]["parameters"]["log_groups"] == [GROUP]
    assert any("alarm history not read" in n for n in ctx["alarm_notes"])

    # (2) the same transition delivered again (EventBridge retry: a new envelope id and time) -> one report
    again = copy.deepcopy(event)
    again["id"] = "0b5f5c0e-0000-4000-8000-000000000002"
    again["time"] = (t0 + pd.Timedelta(seconds=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    path.write_text(json.dumps(again))
    dup = _cli("run", "triage", "--from-event", str(path), "--out", "s3://reports/incidents/", "--endpoint-url", server["url"])
    assert dup.returncode == 0, dup.stderr[-3000:]
    assert f"already investigated: {location}" in dup.stderr
    assert dup.stdout.strip() == location
    prefixes = s3.list_objects_v2(Bucket="reports", Prefix="incidents/", Delimiter="/").get("CommonPrefixes", [])
    assert [p["Prefix"] for p in prefixes] == [prefix]
    assert {o["Key"] for o in s3.list_objects_v2(Bucket="reports", Prefix="incidents/")["Contents"]} == keys


# -- (4) an S3 access error: one line, non-zero, before minutes are spent -----------------------------------------


def test_missing_bucket_is_one_line_and_nothing_runs(server, tmp_path: Path) -> None:
    path = tmp_path / "event.json"
    path.write_text(json.dumps(_moved("metric_alarm", server["t0"] - pd.Timedelta(minutes=7))))
    proc = _cli("run", "triage", "--from-event", str(path), "--out", "s3://no-such-bucket/incidents",
                "--endpoint-url", server["url"])
    assert proc.returncode == 1, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("incidentkit: error:")]
    assert len(errors) == 1 and "no-such-bucket" in errors[0] and "NoSuchBucket" in errors[0], proc.stderr
    assert "Traceback" not in proc.stderr and "running template" not in proc.stderr
    assert proc.stdout == ""


# -- (5) an alarm on a metric the kit does not map: a clear note, the given log groups used ----------------------


def test_unknown_metric_notes_and_runs_with_given_parameters(server, tmp_path: Path) -> None:
    t0 = server["t0"] - pd.Timedelta(minutes=3)
    event = _moved("metric_alarm", t0)
    event["detail"]["alarmName"] = "checkout-failures"
    event["resources"] = [f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:checkout-failures"]
    event["detail"]["configuration"]["metrics"][0]["metricStat"]["metric"] = {
        "namespace": "Shop/Checkout", "name": "Failures", "dimensions": {"Service": "checkout", "Env": "prod"}}
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event))
    baseline_end = (t0 - pd.Timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    proc = _cli("run", "triage", "--from-event", str(path), "--out", str(tmp_path / "runs"), "--endpoint-url", server["url"],
                "-p", f"log_groups={GROUP}", "--baseline-start", "-4h", "--baseline-end", baseline_end, "--json")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "metric Shop/Checkout/Failures is not one the kit maps to resources" in proc.stderr
    assert "baseline_end: the command line's" in proc.stderr  # the command line wins, and says so
    doc = json.loads(proc.stdout)
    assert doc["parameters"]["log_groups"] == [GROUP] and "function_name" not in doc["parameters"]
    assert pd.Timestamp(doc["baseline"]["end"]) == pd.Timestamp(baseline_end)
    assert pd.Timestamp(doc["window"]["start"]) == t0.floor("s") + pd.Timedelta(milliseconds=321) - pd.Timedelta(minutes=45)
    run = tmp_path / "runs" / autorun.run_id_for("triage", t0, alarms.idempotency_key(event["resources"][0], t0))
    assert (run / "report.html").is_file() and (run / "findings.json").is_file()
    logs_frames = [f for f in doc["data_quality"]["by_frame"] if f["kind"] == "logs"]
    assert logs_frames and sum(f["rows"] for f in logs_frames) > 0  # the given log group was read


# -- (3)+(6) in-process, a composite alarm, a local folder; the Lambda handler ------------------------------------


def _composite_event(t0: pd.Timestamp) -> dict:
    event = _moved("composite_alarm", t0)
    arn = f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:"
    event["detail"]["configuration"]["alarmRule"] = (
        "ALARM(orders-table-throttles) OR ALARM(orders-api-errors) OR ALARM(orders-db-cpu)")
    fired = [{"arn": arn + name, "state": {"value": "ALARM", "timestamp": _iso_ms(t0 - pd.Timedelta(minutes=1))}}
             for name in ("orders-table-throttles", "orders-api-errors")]
    event["detail"]["state"]["reasonData"] = json.dumps({"triggeringAlarms": fired})
    return event


@pytest.fixture(scope="module")
def composite_run(server, tmp_path_factory):
    out = tmp_path_factory.mktemp("composite") / "runs"
    event = _composite_event(server["t0"] + pd.Timedelta(minutes=2))
    seen: list = []
    mp = pytest.MonkeyPatch()
    mp.setenv("INCIDENTKIT_MAX_ATTEMPTS", "2")  # moto's DescribeAlarmHistory 500, retried
    try:
        done = autorun.run_from_event(event, out=out, endpoint_url=server["url"], on_derived=lambda d, n: seen.append((d, n)))
    finally:
        mp.undo()
    return {"done": done, "out": out, "event": event, "seen": seen}


def test_run_from_event_in_process_composite_children_that_fired(composite_run) -> None:
    done = composite_run["done"]
    assert not done.skipped and done.result is not None
    run = Path(done.location)
    assert run.parent == composite_run["out"] and run.name == done.run_id
    doc = json.loads((run / "findings.json").read_text())
    params = doc["parameters"]
    # the children that fired, described through DescribeAlarms, map to resources; the one that did not is left out
    assert params["table_name"] == "orders" and params["function_name"] == FUNCTION
    assert params["log_groups"] == [GROUP]
    assert "db_instance" not in params
    ctx = json.loads((run / "evidence" / "manifest.json").read_text())["context"]
    assert ctx["alarm"]["alarm_kind"] == "composite" and ctx["alarm"]["alarm"] == "orders-service-health"
    assert "orders-table-throttles" in ctx["alarm"]["sources"]["table_name"] or "TableName=orders" in ctx["alarm"]["sources"]["table_name"]
    assert ctx["alarm"]["window"] == doc["window"]
    # on_derived saw the derivation before the run
    (derivation, notes), = composite_run["seen"]
    assert derivation.key == done.derivation.key and any("alarm history not read" in n for n in notes)


def test_handler_returns_its_summary_and_skips_a_redelivery(composite_run, monkeypatch, server) -> None:
    done = composite_run["done"]
    first = autorun.summary(done)
    assert first["run_id"] == done.run_id and first["location"] == done.location and first["skipped"] is False
    assert first["top_finding"] == (done.result.findings[0].id if done.result.findings else None)
    assert first["alarm"] == "orders-service-health"
    assert first["inconclusive"] == done.result.inconclusive == done.result.result["data_quality"]["inconclusive"]
    json.dumps(first)  # JSON-able, as Lambda returns it

    monkeypatch.setenv("INCIDENTKIT_OUT", str(composite_run["out"]))
    monkeypatch.setenv("AWS_ENDPOINT_URL", server["url"])
    monkeypatch.setenv("INCIDENTKIT_MAX_ATTEMPTS", "2")
    out = autorun.handler(copy.deepcopy(composite_run["event"]), None)
    assert out["skipped"] is True and out["location"] == done.location and out["run_id"] == done.run_id
    assert out["top_finding"] is None and out["inconclusive"] is None  # a skipped delivery ran nothing
    assert sorted(p.name for p in composite_run["out"].iterdir()) == [done.run_id]

    # not an alarm event: the handler raises the kit's one-line error (EventBridge's retry policy applies)
    from incidentkit.errors import ParameterError

    with pytest.raises(ParameterError, match="not a CloudWatch alarm state change"):
        autorun.handler({"detail-type": "EC2 Instance State-change Notification", "detail": {}}, None)


# -- --from-alarm: history unreadable (moto) -> the alarm's current state dates the transition --------------------


def test_from_alarm_degrades_without_history(server, monkeypatch) -> None:
    monkeypatch.setenv("INCIDENTKIT_MAX_ATTEMPTS", "2")
    cw = boto3.client("cloudwatch", region_name="us-east-1", endpoint_url=server["url"])
    cw.set_alarm_state(AlarmName="orders-api-errors", StateValue="ALARM", StateReason="test")
    now = pd.Timestamp.now(tz="UTC")
    d = alarms.from_alarm("orders-api-errors", region="us-east-1", endpoint_url=server["url"], now=now)
    assert any(n.startswith("alarm history not read") for n in d.notes)
    assert abs(d.trigger.transition_time - now) < pd.Timedelta(minutes=1)
    assert d.parameters["function_name"] == FUNCTION
    cw.set_alarm_state(AlarmName="orders-db-cpu", StateValue="OK", StateReason="test")
    with pytest.raises(AwsError):  # no history and not in ALARM now: nothing to date a transition with
        alarms.from_alarm("orders-db-cpu", region="us-east-1", endpoint_url=server["url"], now=now)


# -- usage errors (no template runs) ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args, message",
    [
        (["--from-alarm", "x", "--from-event", "EVENT"], "either --from-alarm or --from-event"),
        (["--from-event", "EVENT", "--offline"], "do not combine with --evidence or --offline"),
        (["--from-event", "EVENT", "-p", "sample=cold-start-tail"], "-p sample=NAME or --from-alarm"),
        (["--from-event", "BAD"], "is not JSON"),
        (["--from-event", "EVENT", "--sse", "rot13"], "incidentkit: error: invalid value for '--sse'"),
    ],
)
def test_usage_errors_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    (tmp_path / "event.json").write_text(json.dumps(_moved("metric_alarm", pd.Timestamp("2026-03-01T03:10:40Z"))))
    (tmp_path / "bad.json").write_text("{not json")
    args = [str(tmp_path / "event.json") if a == "EVENT" else str(tmp_path / "bad.json") if a == "BAD" else a for a in args]
    result = CliRunner().invoke(cli.cli, ["run", "triage", *args, "--out", str(tmp_path / "runs")])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert not (tmp_path / "runs").exists()


@mock_aws
def test_a_failed_run_to_s3_uploads_its_partial_notebook(tmp_path) -> None:
    """With an s3:// --out, a failing cell still leaves the partially executed notebook where the team looks."""
    from _helpers.tiny_template import WINDOW, make_template

    from incidentkit.run import autorun
    from incidentkit.errors import NotebookError

    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="reports")
    tpl = make_template(tmp_path)
    with pytest.raises(NotebookError) as info:
        autorun.run_to(tpl, {**WINDOW, "fail": "true"}, out="s3://reports/incidents", run_id="tiny-run", region="us-east-1")
    assert info.value.context["notebook"] == "s3://reports/incidents/tiny-run.failed/report.ipynb"
    s3 = boto3.client("s3", region_name="us-east-1")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="reports")["Contents"]]
    assert "incidents/tiny-run.failed/report.ipynb" in keys and "incidents/tiny-run.failed/failed.json" in keys
    # never a complete-looking run: no complete-run marker anywhere, under the run id or the failed folder
    assert not any(k.startswith("incidents/tiny-run/") or k.endswith("/manifest.json") and "/evidence/" not in k for k in keys)
    marker = json.loads(s3.get_object(Bucket="reports", Key="incidents/tiny-run.failed/failed.json")["Body"].read())
    assert marker["complete"] is False and "raised" in marker["error"] and "\n" not in marker["error"]
    assert {o["key"] for o in marker["published"]["objects"]} == {k[len("incidents/tiny-run.failed/"):] for k in keys} - {"failed.json"}
    assert not publish.exists("s3://reports/incidents", "tiny-run.failed", region="us-east-1")
