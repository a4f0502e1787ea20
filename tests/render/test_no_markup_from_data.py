"""Nothing from the data is ever markup: script-bearing payloads in every field that reaches a report.

Two runs of ``incidentkit run``, as a user starts them, each seeded with payloads whose
marker (``xss-<field>``) says where it was planted:

* **offline**: the ``version-skew-errors`` sample's evidence with payloads in the app
  version (an ``appVersion`` field any API client can set), the User-Agent, the route, Lambda
  error messages, and CloudTrail's event name, resource, actor and request parameters —
  so they reach the finding (its title, summary and evidence strings), the tables, the
  change timeline, the plots' keys and the postmortem.
* **live**: a moto server for the logs (payloads in Lambda error lines), a payload in a
  template parameter (``api_name``, a metric dimension), and a CloudTrail
  endpoint that answers LookupEvents with an HTML 500 page carrying a ``<script>`` (as a
  proxy or load balancer in front of AWS can): the data-quality line quotes the error.

``report.html`` is then parsed with :mod:`html.parser`: no ``<script>`` at all (the report
runs none of its own either), no event-handler attribute, no ``javascript:``/``data:``
URL in a link or frame, no frame/object/embed/base/form element, ``<style>`` only in the
page head and no ``<meta http-equiv>`` but the Content-Security-Policy. Each payload's
marker must show as *text* (so the test proves the payload reached the page), except the
AWS error body, which is summarised to its title and must not show at all.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import urllib.request
from dataclasses import dataclass
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator

import boto3
import pandas as pd
import pytest

from incidentkit.render import markup
from incidentkit.errors import from_botocore, summarize
from incidentkit.evidence import EvidenceBundle
from _helpers.user_env import user_env

INCIDENTKIT = str(Path(sys.executable).with_name("incidentkit"))
REGION = "us-east-1"


def payload(field: str) -> str:
    """A script-bearing string for ``field``: an element with an event handler, a script, a javascript: link."""
    return f'<img src="x" onerror="alert(\'xss-{field}\')"><script>alert("xss-{field}")</script><a href="javascript:alert(1)">j</a>'


#: Fields the offline run plants a payload in whose value the triage report shows: each marker must show as text.
#: (The User-Agent, the Lambda error lines and CloudTrail's request parameters are planted too; triage does not
#: show them as such — the live run's errors template shows the error lines — so only "no live markup" holds there.)
OFFLINE_FIELDS = ("version", "route", "resource", "actor", "event")


# --- what report.html holds, read with an HTML parser ---------------------------------------------


@dataclass
class Live:
    """A live (executable) construct found in the page."""

    where: str
    what: str


class _Page(HTMLParser):
    #: Elements that run code, load a document, or rewrite the page's URLs or forms.
    FORBIDDEN = {"script", "iframe", "frame", "object", "embed", "base", "form", "applet", "portal"}
    URL_ATTRS = {"href", "src", "action", "formaction", "xlink:href", "data", "srcdoc", "background", "poster", "lowsrc"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.live: list[Live] = []
        self.text: list[str] = []
        self.in_head = False
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "head":
            self.in_head = True
        if tag in self.FORBIDDEN:
            self.live.append(Live(tag, str(attrs)[:120]))
        if tag == "style" and not self.in_head:
            self.live.append(Live("style outside head", str(attrs)[:120]))
        if tag == "meta" and any(k == "http-equiv" for k, _ in attrs):
            equiv = dict(attrs).get("http-equiv") or ""
            if equiv.lower() != "content-security-policy":
                self.live.append(Live("meta http-equiv", str(attrs)[:120]))
        for name, value in attrs:
            if name.startswith("on"):
                self.live.append(Live(f"<{tag} {name}>", (value or "")[:120]))
            if name in self.URL_ATTRS and value is not None:
                scheme = re.sub(r"[\x00-\x20]", "", value).lower()
                if scheme.startswith(("javascript:", "vbscript:", "data:text/html")) or (
                        scheme.startswith("data:") and tag != "img"):
                    self.live.append(Live(f"<{tag} {name}>", value[:120]))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag == "head":
            self.in_head = False

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def read_page(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    page.close()
    return page


def test_the_page_reader_sees_what_a_browser_would_run() -> None:
    """The parser check itself: it must flag each live construct (a test that cannot fail proves nothing)."""
    for bad in ('<img src=x onerror="alert(1)">', "<script>alert(1)</script>", '<a href=" JaVaScRiPt:alert(1)">x</a>',
                '<iframe src="data:text/html,x"></iframe>', "<body><style>x{}</style></body>", '<svg onload="x()">',
                '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">'):
        assert read_page(bad).live, bad
    ok = read_page('<html><head><meta http-equiv="Content-Security-Policy" content="x"><style>a{}</style></head>'
                   '<body><img src="data:image/png;base64,AAA"><a href="#finding-x">x</a></body></html>')
    assert not ok.live


def assert_no_live_markup(html: str, markers: tuple[str, ...], absent: tuple[str, ...] = ()) -> None:
    page = read_page(html)
    assert not page.live, f"live markup in report.html: {page.live[:5]}"
    text = "".join(page.text)
    missing = [m for m in markers if f"xss-{m}" not in text]
    assert not missing, f"payloads that never reached the page as text (the test would prove nothing): {missing}"
    for m in absent:
        assert f"xss-{m}" not in html, f"xss-{m} reached report.html (it must be summarised away)"


# --- the sanitiser and the escaping, on their own ------------------------------------------------


@pytest.mark.parametrize("field", ["a", "b"])
def test_markdown_escaping_keeps_every_payload_text(field: str) -> None:
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    for piece in (markup.md_text(payload(field)), markup.md_code(payload(field)), markup.md_prose(f"`x` {payload(field)}"),
                  markup.md_text("$\\href{javascript:alert(1)}{x}$ \\(x\\) <javascript:alert(1)> | cell")):
        html = markdown2html_mistune(piece)
        assert not read_page(html).live, (piece, html)
    assert f"xss-{field}" in "".join(read_page(markdown2html_mistune(markup.md_text(payload(field)))).text)


def test_the_sanitiser_removes_what_escaping_missed_and_keeps_the_reports_own_markup() -> None:
    ours = ('<div class="ik-findings" style="border-left:8px solid #c2410c;background-color:#fff"><details open>'
            '<summary>all</summary><table><tbody><tr><td style="text-align:left">x</td></tr></tbody></table></details>'
            '<a href="#finding-cold-start-tail">card</a></div>')
    assert markup.sanitize_html(ours) == ours.replace("<details open>", '<details open="">').replace(
        '">card', '" rel="noopener noreferrer">card')
    hostile = payload("s") + '<div style="background:url(https://e/x);color:red">x</div><form action="https://e"><input></form>'
    cleaned = markup.sanitize_html(hostile)
    assert not read_page(cleaned).live and "url(" not in cleaned and "color:red" in cleaned


def test_an_aws_html_error_page_is_summarised_never_pasted() -> None:
    from botocore.exceptions import ClientError

    page = ("<!DOCTYPE html><html><head><title>502 Bad Gateway</title><script>alert('xss-body')</script></head>"
            "<body><h1>Bad Gateway</h1><img src=x onerror=alert('xss-body')></body></html>")
    err = ClientError({"Error": {"Code": "502", "Message": page}, "ResponseMetadata": {"HTTPStatusCode": 502}}, "LookupEvents")
    text = str(from_botocore(err, service="cloudtrail"))
    assert "502 Bad Gateway" in text and "xss-body" not in text and "<" not in text
    assert summarize("<html><body>\n  <p>Service   Unavailable</p><p>later</p></body></html>") == "Service Unavailable"
    assert len(summarize("x" * 5000)) == 200


# --- end to end ------------------------------------------------------------------------------------


def _run(args: list[str], env: dict[str, str], cwd: Path) -> Path:
    proc = subprocess.run([INCIDENTKIT, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    (folder,) = [p for p in (cwd / "out").iterdir() if p.is_dir()]
    return folder


def _seed_logs(df: pd.DataFrame) -> pd.DataFrame:
    """Payloads into the access log (app version, User-Agent, route) and Lambda error lines."""
    out = df.copy()
    msg = out["message"].astype(str)
    access = msg.str.startswith("{") & msg.str.contains('"routeKey"', regex=False)
    skew = access & msg.str.contains("ShopApp/2.9.0", regex=False)

    def with_fields(line: str, **fields: str) -> str:
        record = json.loads(line)
        record.update(fields)
        return json.dumps(record)

    version = payload("version")
    out.loc[skew, "message"] = msg[skew].map(lambda m: with_fields(m, appVersion=version))
    some = access[access].index[::7]
    out.loc[some, "message"] = msg[some].map(lambda m: with_fields(m, userAgent="Mozilla/5.0 " + payload("useragent"),
                                                                   routeKey="GET /" + payload("route"),
                                                                   path="/" + payload("route")))
    lambda_lines = out.index[msg.str.startswith("START RequestId")][:20]
    out.loc[lambda_lines, "message"] = [f"[ERROR]\t2026-03-10T03:00:00.000Z\tr-{i}\tValueError: bad input {payload('message')}"
                                       for i in range(len(lambda_lines))]
    out.attrs = {k: v for k, v in df.attrs.items() if k != "evidence"}
    return out


def _seed_changes(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy().reset_index(drop=True)
    deploy = out.index[out["event_name"].astype(str).str.startswith("UpdateFunctionCode")][0]
    out.loc[deploy, "actor"] = f"arn:aws:sts::123456789012:assumed-role/{payload('actor')}/GitHubActions"
    out.loc[deploy, "detail"] = json.dumps({"params": {"functionName": payload("request")}})
    extra = out.loc[[deploy]].copy()
    extra["timestamp"] = extra["timestamp"] - pd.Timedelta(minutes=20)
    extra["event_name"] = "PutParameter" + payload("event")
    extra["class"] = "CONFIG_CHANGE"
    extra["resource"] = payload("resource")
    out = pd.concat([out, extra], ignore_index=True).sort_values("timestamp", ignore_index=True)
    out.attrs = {k: v for k, v in df.attrs.items() if k != "evidence"}
    return out


@pytest.fixture(scope="module")
def offline_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from incidentkit.investigation import Investigation

    tmp = tmp_path_factory.mktemp("markup-offline")
    Investigation.sample("version-skew-errors", evidence=tmp / "source")
    bundle = EvidenceBundle.open(tmp / "source")
    for name in bundle.find("logs"):
        bundle.record(name, _seed_logs(bundle.load(name)), kind="logs")
    for name in bundle.find("changes"):
        bundle.record(name, _seed_changes(bundle.load(name)), kind="changes")
    return _run(["run", "triage", "--offline", "--evidence", str(tmp / "source"), "--out", str(tmp / "out")], user_env(tmp), tmp)


@pytest.mark.slow
def test_offline_payloads_in_every_field_stay_text_in_the_report(offline_report: Path) -> None:
    html = (offline_report / "report.html").read_text()
    assert_no_live_markup(html, OFFLINE_FIELDS)
    found = json.loads((offline_report / "findings.json").read_text())
    top = found["findings"][0]
    assert top["id"] == "version-skew-errors"
    assert "xss-version" in json.dumps(top["evidence"]) or "xss-version" in top["title"] + top["summary"], \
        "the payload reached the finding itself (its text or evidence strings)"
    pm = (offline_report / "postmortem.md").read_text()
    assert "xss-version" in pm and "xss-actor" in pm
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    assert not read_page(markdown2html_mistune(pm)).live, "postmortem.md renders without live markup anywhere it is shown"


class _CloudTrailErrorPage(BaseHTTPRequestHandler):
    """LookupEvents answered by an HTML 500 page with a script, as a proxy in front of AWS can."""

    BODY = (b"<!DOCTYPE html><html><head><title>500 Internal Server Error</title>"
            b"<script>alert('xss-awsbody')</script></head><body><h1>Oops</h1>"
            b"<img src=x onerror=alert('xss-awsbody')></body></html>")

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.send_response(500)
        self.send_header("content-type", "text/html")
        self.send_header("content-length", str(len(self.BODY)))
        self.end_headers()
        self.wfile.write(self.BODY)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def live_report(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    from moto.server import ThreadedMotoServer

    tmp = tmp_path_factory.mktemp("markup-live")
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    url = f"http://{host}:{port}"
    # moto's backends live in this process: another module of this worker may have left the log group behind
    urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST"), timeout=10).close()
    trail = ThreadingHTTPServer(("127.0.0.1", 0), _CloudTrailErrorPage)
    threading.Thread(target=trail.serve_forever, daemon=True).start()
    end = pd.Timestamp.now(tz="UTC").floor("min") - pd.Timedelta(minutes=30)
    start = end - pd.Timedelta(hours=1)
    group = "/aws/lambda/checkout"
    try:
        logs = boto3.client("logs", region_name=REGION, endpoint_url=url, aws_access_key_id="x", aws_secret_access_key="y")
        logs.create_log_group(logGroupName=group)
        logs.create_log_stream(logGroupName=group, logStreamName="s")
        t0 = int(start.value // 1_000_000) + 60_000
        events = [{"timestamp": t0 + i * 1000, "message": f"[ERROR]\t2026-03-01T03:00:00.000Z\tr-{i}\t"
                   f"ValueError: bad input {payload('message')}"} for i in range(10)]
        events += [{"timestamp": t0 + 20_000 + i * 500, "message": f"REPORT RequestId: 00000000-0000-4000-8000-{i:012d}\t"
                    f"Duration: {100 + i}.5 ms\tBilled Duration: {101 + i} ms\tMemory Size: 512 MB\tMax Memory Used: 90 MB"}
                   for i in range(40)]
        logs.put_log_events(logGroupName=group, logStreamName="s", logEvents=events)
        env = user_env(tmp, AWS_ENDPOINT_URL=url, AWS_ENDPOINT_URL_CLOUDTRAIL=f"http://127.0.0.1:{trail.server_address[1]}",
                   AWS_MAX_ATTEMPTS="1")
        yield _run(["run", "errors", "--start", start.isoformat(), "--end", end.isoformat(), "-p", f"log_groups={group}",
                    "-p", f"api_name=shop{payload('param')}", "--region", REGION, "--out", str(tmp / "out")], env, tmp)
    finally:
        trail.shutdown()
        moto.stop()


@pytest.mark.slow
def test_an_aws_error_page_and_log_payloads_stay_text_and_the_page_is_summarised(live_report: Path) -> None:
    html = (live_report / "report.html").read_text()
    assert_no_live_markup(html, ("message", "param"), absent=("awsbody",))
    issues = " ".join(json.loads((live_report / "findings.json").read_text())["data_quality"]["issues"])
    assert "500 Internal Server Error" in issues, "the CloudTrail failure is reported, by its title"
    for name in ("findings.json", "postmortem.md", "report.ipynb"):
        assert "xss-awsbody" not in (live_report / name).read_text(), name
