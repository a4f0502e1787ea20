"""Inconclusive is not "no finding": a run whose logs could not be read exits 3 and says so.

design.md: exit 3 when the primary evidence could not be read — every log source failed
or came back empty through an error — so "no finding" would be a lie. Before, with every
FilterLogEvents throttled away, ``incidentkit run`` exited 0, printed "no finding" (with
INCOMPLETE beside it), and ``api_calls`` / ``retries`` read 0.

Throttling is injected with a botocore ``before-send`` event hook in front of moto (moto
never throttles), in process for the counts, and by a small HTTP front for a real
``incidentkit run`` in a subprocess (its kernel is another process). Each case counts the
HTTP attempts the hook saw, so the reported ``api_calls`` and ``retries`` are checked
against what was actually sent.
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator

import boto3
import botocore.retries.standard
import pandas as pd
import pytest
from botocore.awsrequest import AWSResponse
from click.testing import CliRunner

from incidentkit import cli
from incidentkit.render import report
from incidentkit.evidence import EvidenceBundle
from incidentkit.investigation import Investigation
from _helpers.fake_aws import error_response

REGION = "us-east-1"
GROUPS = ["/aws/lambda/orders", "/ecs/web"]
THROTTLED = {"__type": "ThrottlingException", "message": "Rate exceeded"}


class _Body:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._data

    def read(self, *_: Any) -> bytes:
        return self._data


def _answer(url: str, status: int, body: dict[str, Any]) -> AWSResponse:
    headers = {"content-type": "application/x-amz-json-1.1", "x-amzn-requestid": "test"}
    return AWSResponse(url, status, headers, _Body(json.dumps(body).encode()))


class Throttle:
    """``before-send`` hook: throttles ``ops`` (FilterLogEvents: of ``groups``, after ``ok_pages`` requests)."""

    def __init__(self, groups: set[str] | None = None, ok_pages: int = 0, ops: tuple[str, ...] = ("FilterLogEvents",)) -> None:
        self.groups, self.ok_pages, self.ops = groups, ok_pages, ops
        self.attempts = 0  # FilterLogEvents HTTP requests sent
        self.throttled = 0
        self.by_op: Counter = Counter()
        self._lock = threading.Lock()

    def __call__(self, request: Any, event_name: str = "", **_: Any) -> AWSResponse | None:
        _, service_id, op = event_name.split(".", 2)
        if op not in self.ops:
            return None
        if op != "FilterLogEvents":
            with self._lock:
                self.by_op[op] += 1
            return error_response(request, {"cloudwatch-logs": "logs"}.get(service_id, service_id), "ThrottlingException",
                                   "Rate exceeded")  # fmt: skip
        group = json.loads(request.body or b"{}").get("logGroupName")
        with self._lock:
            self.attempts += 1
            if (self.groups is None or group in self.groups) and self.attempts > self.ok_pages:
                self.throttled += 1
                self.by_op[op] += 1
                return _answer(request.url, 400, THROTTLED)
        return None  # moto answers


@pytest.fixture
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(botocore.retries.standard.ExponentialBackoff, "delay_amount", lambda self, ctx: 0)
    monkeypatch.setenv("INCIDENTKIT_MAX_ATTEMPTS", "3")


def _window() -> tuple[pd.Timestamp, pd.Timestamp]:
    end = pd.Timestamp.now(tz="UTC").floor("min") - pd.Timedelta(minutes=30)
    return end - pd.Timedelta(hours=1), end


def _seed(url: str | None, start: pd.Timestamp, events: int = 30) -> None:
    logs = boto3.client("logs", region_name=REGION, endpoint_url=url)
    for group in GROUPS:
        logs.create_log_group(logGroupName=group)
        logs.create_log_stream(logGroupName=group, logStreamName="s")
        base = int(start.value // 1_000_000) + 60_000
        logs.put_log_events(logGroupName=group, logStreamName="s", logEvents=[
            {"timestamp": base + i * 1000, "message": f"ERROR request {i} failed"} for i in range(events)])  # fmt: skip


@pytest.fixture
def moto_logs(no_backoff: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[pd.Timestamp, pd.Timestamp]]:
    from moto import mock_aws
    from moto.cloudtrail.responses import CloudTrailResponse

    # moto has no LookupEvents (and runs its own hook after ours): an empty change timeline
    monkeypatch.setattr(CloudTrailResponse, "lookup_events", lambda self: json.dumps({"Events": []}), raising=False)
    with mock_aws():
        start, end = _window()
        _seed(None, start)
        yield start, end


def _investigate(hook: Throttle, window: tuple[pd.Timestamp, pd.Timestamp], evidence: Path) -> Investigation:
    session = boto3.Session(region_name=REGION)
    session.events.register_first("before-send", hook)
    inv = Investigation(window[0], window[1], baseline="previous", session=session, region=REGION, evidence=evidence,
                        resources={"log_groups": GROUPS})  # fmt: skip
    with pytest.warns(Warning):
        inv.collect()
    return inv


def test_every_log_fetch_throttled_is_inconclusive_with_true_counts(moto_logs, tmp_path: Path) -> None:
    hook = Throttle()
    inv = _investigate(hook, moto_logs, tmp_path / "ev")
    dq = report.data_quality(inv.bundle)
    assert dq["inconclusive"] and "every log source failed or came back empty through an error" in dq["inconclusive"]
    assert inv.findings().inconclusive == dq["inconclusive"] and "Inconclusive" in inv.findings()._repr_html_()
    assert "ThrottlingException" in dq["inconclusive"]
    logs = [r for r in dq["by_frame"] if r["kind"] == "logs"]
    assert len(logs) == 2 and all(not r["complete"] and r["rows"] == 0 for r in logs)  # incident and baseline
    # 2 windows x 2 groups fetched at once, each call tried 3 times: every call and every retry made is counted,
    # a call the other group had in flight when the first failed included (whether it started is up to timing)
    calls = hook.attempts // 3
    assert hook.attempts == hook.throttled and hook.attempts % 3 == 0 and 2 <= calls <= 4
    assert sum(r["api_calls"] for r in logs) == calls and sum(r["retries"] for r in logs) == hook.attempts - calls
    assert dq["retries"] == hook.attempts - calls


def test_failed_calls_of_every_source_are_counted_with_their_retries(moto_logs, tmp_path: Path) -> None:
    """Logs, metrics and the change timeline all throttled past the budget: each call made is in the evidence."""
    start, end = moto_logs
    hook = Throttle(ops=("FilterLogEvents", "GetMetricData", "LookupEvents"))
    session = boto3.Session(region_name=REGION)
    session.events.register_first("before-send", hook)
    inv = Investigation(start, end, session=session, region=REGION, evidence=tmp_path / "ev",
                        resources={"log_groups": GROUPS[:1], "function_name": "orders"})  # fmt: skip
    with pytest.warns(Warning):
        inv.collect(health=False)
    bundle = EvidenceBundle.open(tmp_path / "ev")
    by_kind = bundle.summary().groupby("kind")[["api_calls", "retries"]].sum()
    attempts = 3  # INCIDENTKIT_MAX_ATTEMPTS
    for kind, op in (("logs", "FilterLogEvents"), ("metrics", "GetMetricData"), ("changes", "LookupEvents")):
        calls = hook.by_op[op] // attempts
        assert calls >= 1, (op, hook.by_op)
        assert by_kind.loc[kind, "retries"] == hook.by_op[op] - calls, (kind, hook.by_op)  # the only retries made
        if kind != "changes":
            assert by_kind.loc[kind, "api_calls"] == calls, (kind, hook.by_op)
    (changes,) = bundle.find("changes")  # the timeline also asked CodeDeploy and Lambda (moto answered)
    assert bundle.entry(changes)["attrs"]["by_source"]["cloudtrail"]["api_calls"] == hook.by_op["LookupEvents"] // attempts


def test_a_call_still_in_flight_when_another_group_fails_is_counted(moto_logs, tmp_path: Path) -> None:
    """Group B's call is on the wire (slow, then throttled) when group A fails: the frame waits for it and counts it."""
    start, end = moto_logs
    b_started = threading.Event()
    attempts: Counter = Counter()

    def hook(request: Any, event_name: str = "", **_: Any) -> AWSResponse | None:
        if not event_name.endswith("FilterLogEvents"):
            return None
        group = json.loads(request.body or b"{}")["logGroupName"]
        attempts[group] += 1
        if group == GROUPS[1]:
            b_started.set()
            time.sleep(0.2)
        else:
            assert b_started.wait(10), "group B never started"
        return _answer(request.url, 400, THROTTLED)

    session = boto3.Session(region_name=REGION)
    session.events.register_first("before-send", hook)
    inv = Investigation(start, end, session=session, region=REGION, evidence=tmp_path / "ev")
    with pytest.raises(Exception, match="throttled"):
        inv.raw_logs(GROUPS)
    (name,) = inv.bundle.find("logs")
    attrs = inv.bundle.entry(name)["attrs"]
    assert attempts == {GROUPS[0]: 3, GROUPS[1]: 3}
    assert attrs["api_calls"] == 2 and attrs["retries"] == 4


def test_a_source_that_was_read_keeps_the_run_conclusive(moto_logs, tmp_path: Path) -> None:
    """One group throttled, the other read: evidence was read, so the verdict stands (marked incomplete)."""
    start, end = moto_logs
    session = boto3.Session(region_name=REGION)
    hook = Throttle(groups={GROUPS[1]})
    session.events.register_first("before-send", hook)
    inv = Investigation(start, end, session=session, region=REGION, evidence=tmp_path / "ev")
    inv.raw_logs(GROUPS[0])
    with pytest.raises(Exception, match="throttled"):
        inv.raw_logs(GROUPS[1])
    dq = report.data_quality(inv.bundle)
    assert dq["complete"] is False and dq["inconclusive"] is None
    assert dq["retries"] == hook.throttled - 1  # 3 attempts = 1 call + 2 retries


def test_a_fetch_cut_short_after_some_pages_is_incomplete_not_inconclusive(moto_logs, tmp_path: Path, monkeypatch) -> None:
    from incidentkit.fetch.logs import pages

    monkeypatch.setattr(pages, "MAX_PAGE_EVENTS", 10)  # pages of 10: the first page is read, the second throttled
    start, end = moto_logs
    session = boto3.Session(region_name=REGION)
    hook = Throttle(ok_pages=1)
    session.events.register_first("before-send", hook)
    inv = Investigation(start, end, session=session, region=REGION, evidence=tmp_path / "ev")
    with pytest.raises(Exception, match="throttled"):
        inv.raw_logs(GROUPS[0], limit=25)
    (name,) = inv.bundle.find("logs")
    entry = inv.bundle.entry(name)
    assert entry["rows"] > 0 and entry["attrs"]["complete"] is False
    assert entry["attrs"]["api_calls"] == 2 and entry["attrs"]["retries"] == 2
    assert inv.bundle.unread_primary() is None


def test_a_complete_empty_log_frame_is_a_read_not_a_failure(tmp_path: Path) -> None:
    from incidentkit.schema import empty_frame, provenance

    bundle = EvidenceBundle(tmp_path / "ev")
    quiet = empty_frame("events")
    quiet.attrs = provenance("logs.events", complete=True, api_calls=1)
    bundle.record("logs-quiet", quiet, kind="logs")
    assert bundle.unread_primary() is None
    assert EvidenceBundle(tmp_path / "none").unread_primary() is None  # no log source asked for


@pytest.mark.slow
def test_replaying_an_inconclusive_bundle_exits_3_and_says_so(moto_logs, tmp_path: Path) -> None:
    _investigate(Throttle(), moto_logs, tmp_path / "ev")
    result = CliRunner().invoke(cli.cli, ["run", "triage", "--offline", "--evidence", str(tmp_path / "ev"),
                                          "--out", str(tmp_path / "out")])  # fmt: skip
    recorded = EvidenceBundle.open(tmp_path / "ev").summary()
    _assert_inconclusive(result.exit_code, result.stdout, result.stderr, expected_retries=int(recorded["retries"].sum()))


def _assert_inconclusive(code: int, stdout: str, stderr: str, *, expected_retries: int) -> None:
    assert code == 3, stderr[-3000:]
    assert "Traceback" not in stderr
    errors = [line for line in stderr.splitlines() if line.startswith("incidentkit: error:")]
    assert len(errors) == 1 and errors[0].startswith("incidentkit: error: inconclusive: every log source failed"), stderr
    lines = stdout.splitlines()
    assert "no finding" not in stdout and any(line.strip().startswith("inconclusive:") for line in lines), stdout
    folder = Path(lines[0])
    doc = json.loads((folder / "findings.json").read_text())
    dq = doc["data_quality"]
    assert dq["inconclusive"] and dq["retries"] == expected_retries and dq["api_calls"] >= 1
    html = (folder / "report.html").read_text()
    assert "Inconclusive: the logs could not be read" in html  # the data-quality verdict
    assert "so no cause is ruled out" in html and "No finding: the evidence shows none" not in html  # the findings


# --- the run: incidentkit run against a moto server whose FilterLogEvents is throttled --------------------


def _front(moto_url: str) -> tuple[ThreadingHTTPServer, dict[str, int]]:
    """An HTTP front for CloudWatch Logs and CloudTrail: throttles FilterLogEvents, forwards the rest to moto."""
    host, port = moto_url.split("//")[1].split(":")
    seen = {"throttled": 0}

    class Front(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            target = self.headers.get("x-amz-target", "")
            if target.endswith(("FilterLogEvents", "LookupEvents")):
                throttle = target.endswith("FilterLogEvents")
                seen["throttled"] += throttle
                self._reply(400 if throttle else 200, json.dumps(THROTTLED if throttle else {"Events": []}).encode(),
                            [("content-type", "application/x-amz-json-1.1")])  # fmt: skip
                return
            conn = http.client.HTTPConnection(host, int(port), timeout=30)
            conn.request("POST", self.path, body, dict(self.headers.items()))
            resp = conn.getresponse()
            keep = [(k, v) for k, v in resp.getheaders() if k.lower() not in ("content-length", "transfer-encoding", "connection")]
            self._reply(resp.status, resp.read(), keep)

        def _reply(self, status: int, data: bytes, headers: list[tuple[str, str]]) -> None:
            self.send_response(status)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Front)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, seen


@pytest.mark.slow
def test_incidentkit_run_with_every_log_fetch_throttled_exits_3(tmp_path: Path) -> None:
    from moto.server import ThreadedMotoServer

    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    url = f"http://{host}:{port}"
    front, seen = _front(url)
    try:
        start, end = _window()
        _seed(url, start)
        front_url = f"http://127.0.0.1:{front.server_address[1]}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT")}
        env.update(AWS_ENDPOINT_URL=url, AWS_ENDPOINT_URL_CLOUDWATCH_LOGS=front_url, AWS_ENDPOINT_URL_CLOUDTRAIL=front_url,
                   INCIDENTKIT_MAX_ATTEMPTS="2", INCIDENTKIT_PROGRESS="0", AWS_DEFAULT_REGION=REGION)  # fmt: skip
        proc = subprocess.run(
            [str(Path(sys.executable).with_name("incidentkit")), "run", "triage", "--start", start.isoformat(), "--end",
             end.isoformat(), "-p", f"log_groups={GROUPS[0]}", "--out", str(tmp_path / "out")],
            env=env, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
    finally:
        front.shutdown()
        moto.stop()
    assert seen["throttled"] >= 2
    _assert_inconclusive(proc.returncode, proc.stdout, proc.stderr, expected_retries=seen["throttled"] // 2)
