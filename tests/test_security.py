"""Security: secrets never reach a written file, credentials are never written, parameters are data, files are private.

Two full runs of the ``errors`` template (the one that shows error messages), each in a
subprocess started as a user would start it (``incidentkit run``), with fake AWS
credentials in its environment and ``umask 000`` (so the kit's own modes are what is
checked, not the umask's):

* **live**: against a moto server whose log group holds the secret corpus of
  ``tests/test_masking.py`` seeded into Lambda error lines, tracebacks and JSON log
  records (where the secret sits JSON-escaped), and a CloudTrail change carrying a
  connection URL with a password (a small fake CloudTrail endpoint: moto has no
  LookupEvents);
* **offline**: a bundled sample whose log frames were recorded *unmasked* with the same
  corpus added (``EvidenceBundle.record(mask=False)``), replayed with ``--offline
  --evidence``: the kernel holds every secret in clear.

Then every written file (ipynb, html, md, json, the Parquet evidence read column by column
with pyarrow, and every file's raw bytes) is scanned for every secret and for the
credentials of the environment.

Also: the read-only guard's corner cases not covered by ``test_aws.py``, hostile parameter
values (through ``incidentkit run``), and the private modes of run folders and bundles.
"""

from __future__ import annotations

import ast
import json
import os
import re
import stat
import subprocess
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator

import boto3
import nbformat
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from incidentkit.fetch import aws
from incidentkit.errors import ReadOnlyViolation
from incidentkit.evidence import EvidenceBundle
from incidentkit.masking import mask_text
from _helpers.secrets import SECRETS
from _helpers.user_env import CREDENTIALS, INCIDENTKIT, REGION, user_env

GROUP = "/aws/lambda/checkout"


def _shape_name(i: int, text: str) -> str:
    kind = re.search(r"\[masked:([a-z-]+)\]", mask_text(text))
    return f"{i:02d}-{kind.group(1) if kind else 'unmasked'}"


#: Each secret shape of the corpus by name (``<index>-<kind masking gives it>``) -> the secret, which must never be written.
SHAPES = {_shape_name(i, text): secret for i, (text, secret) in enumerate(SECRETS)}

# --- the secret corpus as log lines ---------------------------------------------------------------

#: Markup in log lines, which the HTML report must show as text.
XSS = ['<script>alert("xss-1")</script>', '<img src=x onerror=alert("xss-2")>', '"><svg onload=alert("xss-3")>']


def _corpus_lines(base_ms: int) -> list[dict[str, Any]]:
    """Each secret three ways: a Lambda [ERROR] line, a Python traceback, a JSON record (JSON-escaped)."""
    events = []
    for i, (text, _) in enumerate(SECRETS):
        rid = f"8f507cfc-xmpl-4697-b07a-{i:012d}"
        t = base_ms + i * 1_000
        events += [
            {"timestamp": t, "message": f"[ERROR]\t2026-03-01T03:00:00.000Z\t{rid}\tValueError: login failed: {text}"},
            {"timestamp": t + 1, "message": "Traceback (most recent call last):\n  File \"/var/task/app.py\", line 7, in handler\n"
                                            f"    connect(cfg)\nConnectionError: cannot connect: {text}"},
            {"timestamp": t + 2, "message": json.dumps({"level": "ERROR", "message": "request failed", "error": f"AuthError: {text}",
                                                        "status": 500, "requestId": rid, "latency_ms": 120 + i})},
        ]  # fmt: skip
    for j, payload in enumerate(XSS * 5):  # log text is untrusted: it must stay text in the HTML report
        events.append({"timestamp": base_ms + 25_000 + j, "message": f"[ERROR]\t2026-03-01T03:00:00.000Z\t"
                       f"9f507cfc-xmpl-4697-b07a-{j:012d}\tValueError: bad input {payload}"})  # (the most frequent errors)
    for i in range(60):  # ordinary traffic around them
        events.append({"timestamp": base_ms + 30_000 + i * 500, "message": (
            f"REPORT RequestId: 00000000-0000-4000-8000-{i:012d}\tDuration: {100 + i}.5 ms\tBilled Duration: {101 + i} ms\t"
            "Memory Size: 512 MB\tMax Memory Used: 90 MB")})  # fmt: skip
    return sorted(events, key=lambda e: e["timestamp"])


# --- a CloudTrail endpoint (moto has no LookupEvents) ----------------------------------------------


def _cloudtrail_server(event_time: pd.Timestamp) -> ThreadingHTTPServer:
    record = {
        "eventVersion": "1.08", "eventTime": event_time.strftime("%Y-%m-%dT%H:%M:%SZ"), "eventSource": "lambda.amazonaws.com",
        "eventName": "UpdateFunctionConfiguration20150331v2", "awsRegion": REGION, "eventID": "evt-secret-1", "readOnly": False,
        "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::123456789012:user/deployer", "accessKeyId": "AKIAIOSFODNN7EXAMPLE"},
        "requestParameters": {"functionName": "checkout", "environment": {"variables": {
            "DATABASE_URL": "postgresql://app:Sup3rS3cret@db.internal:5432/orders"}}},
    }  # fmt: skip
    body = json.dumps({"Events": [{"EventId": "evt-secret-1", "EventName": record["eventName"], "ReadOnly": "false",
                                   "EventTime": event_time.timestamp(), "EventSource": record["eventSource"],
                                   "CloudTrailEvent": json.dumps(record)}]}).encode()  # fmt: skip

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            self.rfile.read(int(self.headers.get("content-length", 0)))
            target = self.headers.get("x-amz-target", "")
            out = body if target.endswith("LookupEvents") else b'{"__type": "UnknownOperationException"}'
            self.send_response(200 if target.endswith("LookupEvents") else 400)
            self.send_header("content-type", "application/x-amz-json-1.1")
            self.send_header("content-length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


# --- running incidentkit as a user would -----------------------------------------------------------


def _run_cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([INCIDENTKIT, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=600,
                          preexec_fn=lambda: os.umask(0))  # fmt: skip


@dataclass
class Run:
    name: str
    out: Path
    proc: subprocess.CompletedProcess
    folder: Path = field(init=False)

    def __post_init__(self) -> None:
        assert self.proc.returncode == 0, f"{self.name} run failed:\n{self.proc.stderr[-3000:]}"
        (self.folder,) = [p for p in self.out.iterdir() if p.is_dir()]

    def files(self) -> list[Path]:
        return sorted(p for p in self.out.rglob("*") if p.is_file())


@pytest.fixture(scope="module")
def live_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    from moto.server import ThreadedMotoServer

    tmp = tmp_path_factory.mktemp("live")
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    url = f"http://{host}:{port}"
    end = pd.Timestamp.now(tz="UTC").floor("min") - pd.Timedelta(minutes=30)
    start = end - pd.Timedelta(hours=1)
    cloudtrail = _cloudtrail_server(start + pd.Timedelta(minutes=5))
    try:
        seed = boto3.client("logs", region_name=REGION, endpoint_url=url, aws_access_key_id="x", aws_secret_access_key="y")
        seed.create_log_group(logGroupName=GROUP)
        seed.create_log_stream(logGroupName=GROUP, logStreamName="2026/03/01/[$LATEST]abc")
        seed.put_log_events(logGroupName=GROUP, logStreamName="2026/03/01/[$LATEST]abc",
                            logEvents=_corpus_lines(int(start.value // 1_000_000) + 60_000))
        env = user_env(tmp, AWS_ENDPOINT_URL=url, AWS_ENDPOINT_URL_CLOUDTRAIL=f"http://127.0.0.1:{cloudtrail.server_address[1]}")
        proc = _run_cli(["run", "errors", "--start", start.isoformat(), "--end", end.isoformat(), "-p", f"log_groups={GROUP}",
                         "--region", REGION, "--out", str(tmp / "out")], env, tmp)  # fmt: skip
        yield Run("live", tmp / "out", proc)
    finally:
        cloudtrail.shutdown()
        moto.stop()


def _raw_bundle(path: Path) -> None:
    """A sample's bundle whose log frames hold the corpus in clear (recorded with mask=False)."""
    from incidentkit.investigation import Investigation

    Investigation.sample("version-skew-errors", evidence=path)
    bundle = EvidenceBundle.open(path)
    lines = [e["message"] for e in _corpus_lines(0)]
    for name in bundle.find("logs"):
        df = bundle.load(name)
        attrs = {k: v for k, v in df.attrs.items() if k != "evidence"}
        extra = df.iloc[[i % len(df) for i in range(len(lines))]].copy()
        extra["message"] = pd.Series(lines, index=extra.index, dtype=df["message"].dtype)
        extra["event_id"] = pd.Series([f"secret-{name}-{i}" for i in range(len(lines))], index=extra.index, dtype=df["event_id"].dtype)
        out = pd.concat([df, extra], ignore_index=True).sort_values("timestamp", kind="stable", ignore_index=True)
        out.attrs = attrs
        bundle.record(name, out, kind="logs", mask=False)
    raw = b"".join((path / bundle.entry(n)["file"]).read_bytes() for n in bundle.find("logs"))
    table_text = " ".join(" ".join(map(str, pq.read_table(path / bundle.entry(n)["file"]).column("message").to_pylist()))
                          for n in bundle.find("logs"))  # fmt: skip
    assert all(secret in table_text for secret in SHAPES.values()), "the source bundle must hold the secrets in clear"
    assert raw


@pytest.fixture(scope="module")
def offline_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    tmp = tmp_path_factory.mktemp("offline")
    _raw_bundle(tmp / "source")
    proc = _run_cli(["run", "errors", "--offline", "--evidence", str(tmp / "source"), "--out", str(tmp / "out")], user_env(tmp), tmp)
    return Run("offline", tmp / "out", proc)


# --- scanning ---------------------------------------------------------------------------------------


def _texts(path: Path) -> list[str]:
    """What a file says: its raw bytes (as text), and for Parquet every string column and the metadata."""
    raw = path.read_bytes()
    out = [raw.decode("utf-8", errors="replace"), raw.decode("latin-1")]
    if path.suffix == ".parquet":
        table = pq.read_table(path)
        for name in table.column_names:
            typ = table.schema.field(name).type
            if pa.types.is_string(typ) or pa.types.is_large_string(typ) or pa.types.is_string_view(typ):
                out.append("\n".join(v for v in table.column(name).to_pylist() if v is not None))
        meta = table.schema.metadata or {}
        out.append(" ".join(v.decode("utf-8", "replace") for v in meta.values()))
    return out


def _leaks(path: Path, needles: dict[str, str]) -> list[str]:
    texts = _texts(path)
    return sorted(name for name, needle in needles.items() if any(needle in t for t in texts))


def _kind(run: Run, path: Path) -> str:
    rel = path.relative_to(run.folder)
    return "evidence-parquet" if path.suffix == ".parquet" else str(rel)


@pytest.fixture(scope="module", params=["live", "offline"])
def run(request: pytest.FixtureRequest) -> Run:
    return request.getfixturevalue(f"{request.param}_run")


FILE_KINDS = ["report.ipynb", "report.html", "postmortem.md", "findings.json", "evidence/manifest.json", "evidence-parquet"]


@pytest.mark.slow
@pytest.mark.parametrize("kind", FILE_KINDS)
def test_no_secret_shape_in_any_written_file(run: Run, kind: str) -> None:
    files = [f for f in run.files() if _kind(run, f) == kind]
    assert files, f"the {run.name} run wrote no {kind}"
    for f in files:
        leaked = set(_leaks(f, SHAPES))
        assert not leaked, f"{run.name} run: {f.relative_to(run.out)} holds {sorted(leaked)}"


@pytest.mark.slow
def test_every_file_of_both_runs_was_scanned_and_the_report_shows_masks(live_run: Run, offline_run: Run) -> None:
    for r in (live_run, offline_run):
        names = {f.name for f in r.files()}
        assert {"report.ipynb", "report.html", "postmortem.md", "findings.json", "manifest.json"} <= names
        assert any(f.suffix == ".parquet" for f in r.files())
        assert not any(f.name.startswith(".") for f in r.files()), "no temporary file left behind"
        html = (r.folder / "report.html").read_text()
        assert html.count("[masked:") >= 5, f"{r.name}: the secrets were shown (masked) in the report"
    # the scan is meaningful: the live evidence holds the corpus lines, masked
    msgs = " ".join(
        " ".join(v for v in pq.read_table(f).column("message").to_pylist() if v)
        for f in live_run.files() if f.suffix == ".parquet" and "message" in pq.read_schema(f).names
    )
    assert msgs.count("login failed") == len(SECRETS) and msgs.count("[masked:") >= len(SECRETS)


@pytest.mark.slow
def test_markup_in_log_lines_stays_text_in_the_html_report(live_run: Run) -> None:
    html = (live_run.folder / "report.html").read_text()
    assert "xss-1" in html and "xss-2" in html, "the payloads must be shown (escaped), or this test proves nothing"
    for payload in XSS:
        assert payload not in html, f"{payload!r} reached report.html unescaped"


@pytest.mark.slow
def test_the_environment_credentials_are_written_nowhere(run: Run) -> None:
    creds = {k: v for k, v in CREDENTIALS.items()}
    for f in run.files():
        assert not _leaks(f, creds), f"{f.relative_to(run.out)} holds a credential of the environment"
    for stream in (run.proc.stdout, run.proc.stderr):
        assert not any(v in stream for v in creds.values())


@pytest.mark.slow
def test_run_folders_and_files_are_private_even_with_umask_000(run: Run) -> None:
    assert stat.S_IMODE(run.out.stat().st_mode) == 0o700
    for p in [run.folder, *run.folder.rglob("*")]:
        mode = stat.S_IMODE(p.stat().st_mode)
        assert mode == (0o700 if p.is_dir() else 0o600), f"{p.relative_to(run.out)} is {oct(mode)}"


# --- evidence bundles and investigations made in-process --------------------------------------------


@pytest.fixture
def open_umask() -> Iterator[None]:
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def test_evidence_bundle_is_private_whatever_the_umask(tmp_path: Path, open_umask: None) -> None:
    bundle = EvidenceBundle(tmp_path / "a" / "evidence")
    bundle.record("logs-x", pd.DataFrame({"message": ["password=hunter22", "ok"]}))
    with bundle.writer("logs-big", kind="logs") as w:
        w.write(pd.DataFrame({"message": ["Bearer abcdefgh12345678"]}))
    bundle.set_context(note="token=abcdef123456")
    assert stat.S_IMODE(bundle.path.stat().st_mode) == 0o700
    files = list(bundle.path.iterdir())
    assert {f.name for f in files} == {"manifest.json", "logs-x.parquet", "logs-big.parquet"}
    for f in files:
        assert stat.S_IMODE(f.stat().st_mode) == 0o600, f
        assert not _leaks(f, {"pw": "hunter22", "bearer": "abcdefgh12345678", "ctx": "abcdef123456"}), f


def test_an_investigation_without_evidence_folder_keeps_it_private(open_umask: None) -> None:
    from incidentkit.investigation import Investigation

    inv = Investigation("2026-03-01T03:00Z", "2026-03-01T04:00Z", region=REGION)
    try:
        assert stat.S_IMODE(inv.bundle.path.stat().st_mode) == 0o700
        assert stat.S_IMODE((inv.bundle.path / "manifest.json").stat().st_mode) == 0o600
    finally:
        inv.close()


# --- the read-only guard: corners test_aws.py does not cover ----------------------------------------


class _Empty:
    def stream(self, **_: Any) -> Iterator[bytes]:
        yield b""


class _Recorder:
    """A ``before-send`` hook: records what would reach the network and answers an empty 200."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    def __call__(self, request: Any, **_: Any) -> Any:
        from botocore.awsrequest import AWSResponse

        self.sent.append(request.url)
        return AWSResponse(request.url, 200, {}, _Empty())


GUARD_CASES = {
    "presigned-delete-object": ("s3", lambda c: c.generate_presigned_url("delete_object", Params={"Bucket": "b", "Key": "k"})),
    "presigned-put-object": ("s3", lambda c: c.generate_presigned_url("put_object", Params={"Bucket": "b", "Key": "k"})),
    "put-outside-prefix-lookalike": ("s3-prefix", lambda c: c.put_object(Bucket="reports", Key="incidents-evil/x", Body=b"x")),
    "put-lookalike-prefix-given-without-slash": ("s3-prefix-noslash",
                                                 lambda c: c.put_object(Bucket="reports", Key="incidents-evil/x", Body=b"x")),
    "put-other-bucket-same-key": ("s3-prefix", lambda c: c.put_object(Bucket="reports-evil", Key="incidents/x", Body=b"x")),
    "put-dotdot-key": ("s3-prefix", lambda c: c.put_object(Bucket="reports", Key="incidents/../secrets/x", Body=b"x")),
    "copy-object-into-prefix": ("s3-prefix", lambda c: c.copy_object(Bucket="reports", Key="incidents/x", CopySource="other/y")),
    "delete-under-prefix": ("s3-prefix", lambda c: c.delete_object(Bucket="reports", Key="incidents/x")),
    "put-acl-under-prefix": ("s3-prefix", lambda c: c.put_object_acl(Bucket="reports", Key="incidents/x", ACL="public-read")),
    # the one allowed write, under the prefix, but making the report public or someone else's
    "put-object-acl-public-read": ("s3-prefix", lambda c: c.put_object(Bucket="reports", Key="incidents/x", Body=b"x",
                                                                       ACL="public-read")),
    "put-object-grant-read": ("s3-prefix", lambda c: c.put_object(Bucket="reports", Key="incidents/x", Body=b"x",
                                                                  GrantRead='uri="http://acs.amazonaws.com/groups/global/AllUsers"')),
    "put-object-grant-full-control": ("s3-prefix", lambda c: c.put_object(Bucket="reports", Key="incidents/x", Body=b"x",
                                                                          GrantFullControl="id=0123456789abcdef")),
    "put-object-grant-read-acp": ("s3-prefix", lambda c: c.put_object(Bucket="reports", Key="incidents/x", Body=b"x",
                                                                      GrantReadACP="id=0123456789abcdef")),
    "put-object-grant-write-acp": ("s3-prefix", lambda c: c.put_object(Bucket="reports", Key="incidents/x", Body=b"x",
                                                                       GrantWriteACP="id=0123456789abcdef")),
    "multipart-acl-public-read": ("s3-prefix", lambda c: c.create_multipart_upload(Bucket="reports", Key="incidents/x",
                                                                                   ACL="public-read")),
    "put-object-website-redirect": ("s3-prefix", lambda c: c.put_object(Bucket="reports", Key="incidents/x", Body=b"x",
                                                                        WebsiteRedirectLocation="https://evil.example/")),
    "put-object-lock": ("s3-prefix", lambda c: c.put_object(Bucket="reports", Key="incidents/x", Body=b"x",
                                                            ObjectLockMode="COMPLIANCE",
                                                            ObjectLockRetainUntilDate="2099-01-01T00:00:00Z")),
    "put-object-tagging": ("s3-prefix", lambda c: c.put_object(Bucket="reports", Key="incidents/x", Body=b"x", Tagging="a=b")),
    # StopQuery is allowed only for the kit's own queries
    "stop-query-the-kit-did-not-start": ("logs", lambda c: c.stop_query(queryId="12ab3456-12ab-123a-789e-1234567890ab")),
    "logs-put-retention": ("logs", lambda c: c.put_retention_policy(logGroupName="/x", retentionInDays=1)),
    "cloudwatch-put-metric": ("cloudwatch", lambda c: c.put_metric_data(Namespace="x", MetricData=[{"MetricName": "m", "Value": 1}])),
    "ec2-revoke-ingress": ("ec2", lambda c: c.revoke_security_group_ingress(GroupId="sg-1", IpPermissions=[])),
    "lambda-invoke": ("lambda", lambda c: c.invoke(FunctionName="checkout")),
}


@pytest.mark.parametrize("case", list(GUARD_CASES))
def test_guard_refuses_before_anything_is_sent(case: str) -> None:
    service, call = GUARD_CASES[case]
    if service.startswith("s3-prefix"):
        prefix = "s3://reports/incidents" + ("" if service.endswith("noslash") else "/")
        client = aws.client("s3", region=REGION, allow_writes_to=prefix)
    else:
        client = aws.client(service, region=REGION)
    recorder = _Recorder()
    client.meta.events.register_first("before-send", recorder)
    with pytest.raises(ReadOnlyViolation) as info:
        call(client)
    assert "\n" not in str(info.value) and "refused" in str(info.value)
    assert recorder.sent == []


@pytest.mark.parametrize("prefix", ["s3://reports/incidents/", "s3://reports/incidents"], ids=["slash", "no-slash"])
def test_the_one_allowed_write_goes_out_and_only_under_the_prefix(prefix: str) -> None:
    client = aws.client("s3", region=REGION, allow_writes_to=prefix)
    recorder = _Recorder()
    client.meta.events.register_first("before-send", recorder)
    client.put_object(Bucket="reports", Key="incidents/run-1/report.html", Body=b"<html>")
    assert len(recorder.sent) == 1 and recorder.sent[0].endswith("/incidents/run-1/report.html")


def test_the_allowed_write_keeps_its_content_and_encryption_parameters() -> None:
    client = aws.client("s3", region=REGION, allow_writes_to="s3://reports/incidents/")
    recorder = _Recorder()
    client.meta.events.register_first("before-send", recorder)
    client.put_object(Bucket="reports", Key="incidents/run-1/report.html", Body=b"<html>", ContentType="text/html",
                      ServerSideEncryption="aws:kms", SSEKMSKeyId="alias/reports", ExpectedBucketOwner="123456789012",
                      ChecksumAlgorithm="SHA256", Metadata={"run": "run-1"}, IfNoneMatch="*")  # fmt: skip
    assert len(recorder.sent) == 1


class _InsightsAnswers:
    """``before-send``: answers StartQuery with a new query id and StopQuery with success; records what went out."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, request: Any, event_name: str = "", **_: Any) -> Any:
        from botocore.awsrequest import AWSResponse

        op = event_name.rsplit(".", 1)[-1]
        params = json.loads(request.body or b"{}")
        self.sent.append((op, params))
        body = {"queryId": f"kit-query-{len(self.sent)}"} if op == "StartQuery" else {"success": True}

        class Body:
            def stream(self, **_: Any) -> Iterator[bytes]:
                yield json.dumps(body).encode()

        return AWSResponse(request.url, 200, {"content-type": "application/x-amz-json-1.1"}, Body())


def test_stop_query_goes_out_only_for_a_query_the_kit_started() -> None:
    answers = _InsightsAnswers()
    starter, stopper = aws.client("logs", region=REGION), aws.client("logs", region=REGION)  # e.g. start_query, then wait_query
    for c in (starter, stopper):
        c.meta.events.register_first("before-send", answers)
    qid = starter.start_query(logGroupName="/aws/lambda/api", startTime=0, endTime=60, queryString="fields @message")["queryId"]
    assert stopper.stop_query(queryId=qid)["success"] is True
    with pytest.raises(ReadOnlyViolation, match="stops only the queries it started"):
        stopper.stop_query(queryId="kit-query-999")
    assert [op for op, _ in answers.sent] == ["StartQuery", "StopQuery"]
    assert answers.sent[1][1] == {"queryId": qid}


def test_shipped_policy_grants_no_write_and_no_wildcard() -> None:
    actions = aws.policy_document()["Statement"][0]["Action"]
    assert all("*" not in a for a in actions)
    writes = [a for a in actions if aws.is_mutating(a.split(":", 1)[1]) and a != "logs:StopQuery"]
    assert writes == []
    assert "s3:PutObject" not in actions  # granted only by the deploy recipe, on the output prefix
    assert aws.policy_document()["Statement"][0]["Resource"] == "*"  # reads are account-wide by nature


# --- parameters are data ----------------------------------------------------------------------------


def _hostile(marker: Path) -> dict[str, str]:
    m = str(marker)
    return {
        "p_import": f'__import__("os").system("touch {m}")',
        "p_breakout": f'x"); __import__("os").system("touch {m}") #',
        "p_triple": "a'''b\"\"\"c\\\\d\\n{e}\\",
        "p_newlines": "line1\nline2\r\n\ttabbed\n# comment\nimport os; os.system('touch " + m + "')",
        "p_shell": f"$(touch {m}) `touch {m}` ${{HOME}} %s {{0}} {{{{ jinja }}}}",
        "p_unicode": "ünïcödé ✓ 🚨 \u2028 \u2029 \x0b\x0c",
        "p_long": "A" * 200_000 + f'"); __import__("os").system("touch {m}")',
    }


def _params_template(path: Path, names: list[str]) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    lines = [f'{n} = ""  # a text parameter' for n in names]
    lines += ['items: list = []  # a list', 'start: "time" = None  # start', 'end: "time" = None  # end',
              "region = None", "profile = None", "endpoint_url = None", "evidence = None", "offline = False"]  # fmt: skip
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Parameters\n\nEcho the parameters."),
        nbformat.v4.new_code_cell("\n".join(lines), metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(
            "import json, pathlib\n"
            f"pathlib.Path('echo.json').write_text(json.dumps({{n: globals()[n] for n in {names!r} + ['items']}}))\n"
            "from incidentkit import report\n_ = report.publish(findings=[])"
        ),
    ]
    file = path / "params.ipynb"
    nbformat.write(nb, str(file))
    return file


@pytest.mark.slow
def test_hostile_parameter_values_reach_the_notebook_as_plain_data(tmp_path: Path) -> None:
    from incidentkit.cli import cli

    marker = tmp_path / "pwned"
    values = _hostile(marker)
    tpl = _params_template(tmp_path, list(values))
    argv = ["run", str(tpl), "--start", "2026-03-01T03:00Z", "--end", "2026-03-01T04:00Z", "--out", str(tmp_path / "out")]
    for name, value in values.items():
        argv += ["-p", f"{name}={value}"]
    argv += ["-p", "items=" + json.dumps(list(values.values())[:4])]
    result = CliRunner().invoke(cli, argv, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    folder = Path(result.stdout.splitlines()[0])
    nb = nbformat.read(str(folder / "report.ipynb"), as_version=4)
    (injected,) = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    tree = ast.parse(injected.source)
    seen = {}
    for node in tree.body:  # only `name = <literal>` lines: no call, no import, no expression
        assert isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name), ast.dump(node)
        seen[node.targets[0].id] = ast.literal_eval(node.value)
    assert not [n for n in ast.walk(tree) if isinstance(n, (ast.Call, ast.Import, ast.ImportFrom, ast.Attribute))]
    # the notebook saw exactly the values given (the saved notebook is masked; the echo is not written by the kit)
    echoed = json.loads((folder / "echo.json").read_text())  # written by the template in its run folder
    for name, value in values.items():
        assert echoed[name] == value, name
        assert seen[name] == value, name
    assert echoed["items"] == [v.strip() for v in list(values.values())[:4]]
    assert not marker.exists() and not Path("/tmp/pwned").exists(), "a parameter was executed"


@pytest.mark.parametrize(
    "name",
    ['__import__("os").system("touch PWNED")', "a; import os", "x=1\ny", "1abc", "_private", "print"],
    ids=["call", "statement", "newline", "digit-first", "underscore", "builtin"],
)
def test_parameter_names_must_be_the_templates_own(name: str, tmp_path: Path) -> None:
    from incidentkit.cli import cli

    result = CliRunner().invoke(cli, ["run", "triage", "-p", f"{name}=1", "--out", str(tmp_path / "out")], catch_exceptions=False)
    assert result.exit_code == 2 and "has no parameter" in result.stderr and "Traceback" not in result.output
    assert not (tmp_path / "out").exists() and not Path("PWNED").exists()


# --- SECURITY.md stays true ---------------------------------------------------------------------------


def test_every_test_security_md_cites_exists_and_its_numbers_hold() -> None:
    """Each claim of SECURITY.md names the test that proves it: the names and counts must stay true."""
    import botocore
    import botocore.session

    root = Path(__file__).resolve().parents[1]
    text = (root / "SECURITY.md").read_text(encoding="utf-8")
    qualified = re.findall(r"`(tests/[\w/]+\.py)::(test_\w+)`", text)
    bare = set(re.findall(r"`(test_\w+)`", text))
    assert len(qualified) >= 20 and bare
    for file, name in qualified:
        assert f"def {name}(" in (root / file).read_text(encoding="utf-8"), f"{file}::{name} is cited but does not exist"
    every = "".join(p.read_text(encoding="utf-8") for p in (root / "tests").rglob("test_*.py"))
    assert [n for n in sorted(bare) if f"def {n}(" not in every] == []
    services, allowed, others, version = re.search(
        r"(\d+) services, (\d+) allowed read operations; the other ([\d,]+)\s+operations in botocore ([\d.]+)'s models",
        text).groups()
    models = botocore.session.get_session()
    refused = sum(len(set(models.get_service_model(s).operation_names) - ops) for s, ops in aws.READ_OPERATIONS.items())
    assert (int(services), int(allowed)) == (len(aws.READ_OPERATIONS), sum(len(o) for o in aws.READ_OPERATIONS.values()))
    # the refused count is botocore's: exact for the release SECURITY.md names; AWS only adds operations,
    # so a newer botocore (a fresh install) refuses at least as many, an older one at most as many
    installed = tuple(int(x) for x in botocore.__version__.split(".")[:3])
    named = tuple(int(x) for x in version.split(".")[:3])
    documented = int(others.replace(",", ""))
    if installed == named:
        assert refused == documented
    else:
        assert (refused >= documented) if installed > named else (0 < refused <= documented), (botocore.__version__, refused)
    actions = int(re.search(r"(\d+) IAM actions", text).group(1))
    assert actions == len(aws.policy_document()["Statement"][0]["Action"])
