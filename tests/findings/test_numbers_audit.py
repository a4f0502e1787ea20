"""Numbers audit: for every bundled sample, the impact that ``findings.json`` and
``postmortem.md`` state, and headline evidence numbers, recomputed from the evidence Parquet
with plain pandas, ``json``, ``re`` and ``math`` — no incidentkit function reads the data here.

Two samples run through the CLI (``incidentkit run triage``); the others through
``Investigation.sample`` and the writers the runner uses (``report.publish``,
``findings_document``, ``write_json``, ``write_postmortem``). That the two paths give the same
files is checked on the CLI samples.
"""

from __future__ import annotations

import json
import math
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import incidentkit as ik
from incidentkit.render import report
from incidentkit import samples

pytestmark = pytest.mark.slow

CLI_SAMPLES = ("version-skew-errors", "cold-start-tail")
#: Samples whose findings are audited in process too (the CLI runs have theirs; the others are
#: audited for their impact only, which does not depend on the findings).
HEADLINE_SAMPLES = ("cold-start-timeouts", "deregistration-delay-too-short")

# The documented rules (analyses/impact.py module docstring), restated here.
NICE_S = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800]
REQUESTS_PER_BIN, ALPHA, CALM_BINS, TRAFFIC_BACK = 20, 0.01, 3, 0.5


# --------------------------------------------------------------------------- runs, once per module


def _folder_run(name: str, out: Path) -> Path:
    """The in-process run: Investigation.sample and the runner's writers."""
    inv = ik.Investigation.sample(name)
    inv.collect()
    found = inv.findings() if name in HEADLINE_SAMPLES else []
    pub = report.publish(inv, found, impact=inv.impact(), show=False)
    folder = out / name
    folder.mkdir(parents=True)
    doc = report.findings_document(template="triage", published=pub, parameters=inv.parameters, bundle=inv.bundle)
    report.write_postmortem(doc, pub, folder / "postmortem.md")
    report.write_json(doc, folder / "findings.json")
    (folder / "evidence").symlink_to(inv.bundle.path)
    _KEEP.append(inv)  # the bundle is a temporary folder that goes with its investigation
    return folder


_KEEP: list[Any] = []


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, dict[str, Path]]]:
    out = tmp_path_factory.mktemp("audit")
    got: dict[str, dict[str, Path]] = {}
    for name in CLI_SAMPLES:
        proc = subprocess.run([sys.executable, "-m", "incidentkit.cli", "run", "triage", "-p", f"sample={name}",
                               "--out", str(out / "cli" / name)], capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stderr[-2000:]
        (run,) = [p for p in (out / "cli" / name).iterdir() if p.is_dir()]
        got.setdefault(name, {})["cli"] = run
    for name in samples.names():
        got.setdefault(name, {})["folder"] = _folder_run(name, out / "folder")
    yield got
    _KEEP.clear()


# --------------------------------------------------------------------------- the evidence, read plainly


def _logs(run: Path) -> tuple[dict[str, Any], pd.DataFrame, pd.DataFrame | None]:
    """The run's context and its incident and baseline log events, from the Parquet files."""
    ev = run / "evidence"
    manifest = json.loads((ev / "manifest.json").read_text())
    ctx = manifest["context"]

    def frames(win: dict[str, str] | None) -> pd.DataFrame | None:
        if not win:
            return None
        parts = [pd.read_parquet(ev / e["file"]) for e in manifest["frames"].values()
                 if e["kind"] == "logs" and (e.get("attrs") or {}).get("window") == win]
        return pd.concat(parts, ignore_index=True) if parts else None

    return ctx, frames(ctx["window"]), frames(ctx.get("baseline"))


UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
ALB = re.compile(r"^(?:https?|h2|grpcs|wss?) \d{4}-\d\d-\d\dT\S+Z app/")
EXEC = re.compile(rf"^\(({UUID})\) (.*)$", re.S)


def _json(msg: str) -> dict[str, Any] | None:
    if not msg.lstrip().startswith("{"):
        return None
    try:
        obj = json.loads(msg)
    except ValueError:
        return None
    return obj if isinstance(obj, dict) else None


def _apigw(obj: dict[str, Any] | None) -> bool:
    return bool(obj) and "requestId" in obj and ("responseLatency" in obj or "requestTime" in obj) and "level" not in obj


def entry_requests(logs: pd.DataFrame) -> pd.DataFrame:
    """API Gateway access-log requests (plus execution-log-only ones) and ALB requests."""
    rows, exec_ids = [], {}
    for t, msg in zip(logs["timestamp"], logs["message"]):
        obj = _json(msg)
        if _apigw(obj):
            lat = obj.get("responseLatency")
            rows.append({"t": t, "rid": obj["requestId"], "status": int(obj["status"]), "ip": obj.get("ip") or obj.get("sourceIp"),
                         "latency": float(lat) if lat not in (None, "-", "") else math.nan, "ua": obj.get("userAgent")})
        elif ALB.match(msg):
            f = shlex.split(msg)
            times = [float(x) for x in f[5:8]]
            rows.append({"t": t, "rid": None, "status": None if f[8] == "-" else int(f[8]), "ip": f[3].rsplit(":", 1)[0],
                         "latency": sum(times) * 1000 if min(times) >= 0 else math.nan, "ua": f[13]})
        elif (m := EXEC.match(msg)):
            rid, text = m.groups()
            st = re.match(r"Method completed with status: (\d{3})", text)
            cur = exec_ids.setdefault(rid, {"t": t, "rid": rid, "status": None, "ip": None, "latency": math.nan, "ua": None})
            cur["t"] = min(cur["t"], t)
            if st:
                cur["status"] = int(st.group(1))
    seen = {r["rid"] for r in rows if r["rid"]}
    rows += [r for rid, r in exec_ids.items() if rid not in seen]
    return pd.DataFrame(rows, columns=["t", "rid", "status", "ip", "latency", "ua"])


_PREFIXED = [re.compile(rf"^\[(TRACE|DEBUG|INFO|WARN|WARNING|ERROR|FATAL|CRITICAL)\]\t\S+\t({UUID})\t"),
             re.compile(rf"^\S+Z\t({UUID})\t(TRACE|DEBUG|INFO|WARN|ERROR|FATAL)\t")]
_PLATFORM = re.compile(rf"^(START|END|REPORT) RequestId: ({UUID})")


def invocation_requests(logs: pd.DataFrame) -> pd.DataFrame:
    """One row per Lambda request id: status from app lines, REPORT latency, errors logged."""
    lam = logs[logs["log_group"].astype(str).str.startswith("/aws/lambda/")]
    acc: dict[str, dict[str, Any]] = {}
    for t, msg in zip(lam["timestamp"], lam["message"]):
        rid, level, status, latency, timed = None, None, None, math.nan, False
        obj = _json(msg)
        if obj is not None and str(obj.get("type", "")).startswith("platform."):
            rec = obj.get("record") or {}
            rid = rec.get("requestId")
            if obj["type"] == "platform.report":
                met = rec.get("metrics") or {}
                latency = float(met.get("durationMs", math.nan)) + float(met.get("initDurationMs", 0.0))
                timed = rec.get("status") == "timeout"
                level = "ERROR" if rec.get("status") not in (None, "success", "timeout") else None
        elif obj is not None:
            rid = obj.get("function_request_id") or obj.get("requestId") or obj.get("request_id") or obj.get("AWSRequestId")
            level = str(obj.get("level", "")).upper() or None
            status = obj.get("status", obj.get("statusCode", obj.get("status_code")))
        elif (m := _PLATFORM.match(msg)):
            rid = m.group(2)
            if m.group(1) == "REPORT":
                dur = re.search(r"Duration: ([\d.]+) ms", msg)
                init = re.search(r"Init Duration: ([\d.]+) ms", msg)
                latency = float(dur.group(1)) + (float(init.group(1)) if init else 0.0)
                timed = "Status: timeout" in msg
        elif (m := re.match(rf"^\S+ ({UUID}) Task timed out after", msg)):
            rid, timed = m.group(1), True
        else:
            for pat in _PREFIXED:
                m = pat.match(msg)
                if m:
                    g = m.groups()
                    rid, level = (g[1], g[0]) if pat is _PREFIXED[0] else (g[0], g[1])
                    break
        if not rid:
            continue
        cur = acc.setdefault(rid, {"t": t, "rid": rid, "status": None, "latency": math.nan, "error": False, "timed": False})
        cur["t"] = min(cur["t"], t)
        if status is not None and cur["status"] is None:
            cur["status"] = int(status)
        if not math.isnan(latency) and math.isnan(cur["latency"]):
            cur["latency"] = latency
        cur["error"] |= level in ("ERROR", "FATAL", "CRITICAL")
        cur["timed"] |= timed
    return pd.DataFrame(list(acc.values()), columns=["t", "rid", "status", "latency", "error", "timed"])


def _field(obj: dict[str, Any], path: str) -> Any:
    """A dotted field: a flat key (``http.response.status_code``, ECS) or nested objects (``res.statusCode``, pino)."""
    if path in obj:
        return obj[path]
    cur: Any = obj
    for part in path.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return None
        cur = cur[part]
    return cur


_APP_STATUS = ("status", "statusCode", "status_code", "http.status_code", "res.statusCode", "http.response.status_code")
_APP_LATENCY = (("durationMs", 1.0), ("latency_ms", 1.0), ("duration_ms", 1.0), ("responseTime", 1.0), ("event.duration", 1e-6))
_APP_IP = ("ip", "client_ip", "remote_addr", "client.ip", "req.remoteAddress")
_IP_PORT = re.compile(r"^(?:((?:\d{1,3}\.){3}\d{1,3})|\[([0-9A-Fa-f:.]+)\]):\d{1,5}$")


def app_requests(logs: pd.DataFrame) -> pd.DataFrame:
    """Application JSON lines that describe a request (a status or a latency): pino, zap, ECS, Powertools ...;
    a client address without its port."""
    rows = []
    for t, msg in zip(logs["timestamp"], logs["message"]):
        obj = _json(msg)
        if not obj or "_aws" in obj:
            continue
        status = next((v for k in _APP_STATUS if (v := _field(obj, k)) is not None), None)
        latency = next((float(v) * f for k, f in _APP_LATENCY if (v := _field(obj, k)) is not None), math.nan)
        ip = next((str(v) for k in _APP_IP if (v := _field(obj, k)) is not None), None)
        if ip and (m := _IP_PORT.match(ip)):
            ip = m.group(1) or m.group(2)
        if status is not None or not math.isnan(latency):
            rows.append({"t": t, "status": None if status is None else int(status), "latency": latency, "error": False,
                         "timed": False, "ip": ip})
    return pd.DataFrame(rows, columns=["t", "status", "latency", "error", "timed", "ip"])


def counted(logs: pd.DataFrame | None) -> tuple[str | None, pd.DataFrame]:
    if logs is None or logs.empty:
        return None, pd.DataFrame()
    entry = entry_requests(logs)
    if len(entry):
        return "entry", entry.assign(error=False, timed=False)
    inv = invocation_requests(logs)
    if len(inv):
        return "invocation", inv
    app = app_requests(logs)
    return ("app", app) if len(app) else (None, app)


def failed(df: pd.DataFrame) -> pd.Series:
    status = pd.to_numeric(df["status"], errors="coerce")
    return pd.Series(np.where(status.notna(), status >= 400, df["error"].astype(bool) | df["timed"].astype(bool)), index=df.index)


# --------------------------------------------------------------------------- onset, peak, recovery, restated


def _binom_sf(k: int, n: int, p: float) -> float:
    if k <= 0:
        return 1.0
    if p <= 0:
        return 0.0
    terms = [math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) + i * math.log(p) + (n - i) * math.log1p(-p)
             for i in range(k, n + 1)]
    top = max(terms)
    return min(1.0, math.exp(top) * sum(math.exp(x - top) for x in terms))


def episode(df: pd.DataFrame, bad: pd.Series, start: pd.Timestamp, end: pd.Timestamp, base: tuple[int, int, float] | None) -> dict[str, Any]:
    span = (end - start).total_seconds()
    want = max(60.0, span / 60, span * REQUESTS_PER_BIN / max(len(df), 1))
    width = next(b for b in NICE_S if b >= want)
    pos = ((df["t"] - start).dt.total_seconds() // width).astype(int)
    n_bins = math.ceil(span / width)
    n = np.bincount(pos, minlength=n_bins)[:n_bins]
    k = np.bincount(pos, weights=bad.astype(float), minlength=n_bins)[:n_bins]
    if base:
        ref = (base[0] + 0.5) / (base[1] + 1)
        ref_rate = base[1] / (base[2] / width)
    else:
        shares = [kk / nn for kk, nn in zip(k, n) if nn]
        ref = max(float(np.median(shares)), 0.5 / (float(np.median([x for x in n if x])) + 1))
        ref_rate = float(n.mean())
    busy = int((n > 0).sum())
    elevated = [nn > 0 and kk > ref * nn and _binom_sf(int(kk), int(nn), ref) < ALPHA / busy for kk, nn in zip(k, n)]
    out = {"bin_s": width, "reference_share": round(ref, 4), "onset": None, "peak": None, "recovered": None, "duration_s": None}
    if not any(elevated):
        return out
    idx = [i for i, e in enumerate(elevated) if e]
    excess = [k[i] - ref * n[i] for i in idx]
    first, last, peak = idx[0], idx[-1], idx[int(np.argmax(excess))]
    iso = lambda i: (start + pd.Timedelta(seconds=i * width)).strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
    after = [x for x in n[last + 1:] if x > 0]
    recovered = last + 1 if len(after) >= CALM_BINS and np.mean(after) >= TRAFFIC_BACK * ref_rate else None
    stop = start + pd.Timedelta(seconds=recovered * width) if recovered is not None else end
    out.update(onset=iso(first), peak=iso(peak), recovered=iso(recovered) if recovered is not None else None,
               duration_s=(stop - (start + pd.Timedelta(seconds=first * width))).total_seconds())
    return out


def expected_impact(run: Path) -> dict[str, Any]:
    ctx, logs, base_logs = _logs(run)
    start, end = pd.Timestamp(ctx["window"]["start"]), pd.Timestamp(ctx["window"]["end"])
    tier, df = counted(logs)
    if tier is None:
        return {"requests": 0}
    df = df[(df["t"] >= start) & (df["t"] < end)].reset_index(drop=True)
    fail = failed(df)
    _, base = counted(base_logs)
    if tier == "entry" and len(base):
        base = base.assign(error=False, timed=False)
    threshold = float(base["latency"].dropna().quantile(0.99)) if len(base) and base["latency"].notna().any() else None
    slow = (df["latency"] > threshold) if threshold is not None else pd.Series(False, index=df.index)
    out: dict[str, Any] = {"tier": tier, "requests": len(df), "failed_requests": int(fail.sum()), "failed_share": round(float(fail.mean()), 4),
                           "slow_requests": int(slow.sum()) if threshold is not None else None}
    if "ip" in df and df["ip"].notna().any():
        out.update(clients=int(df["ip"].nunique()), failed_clients=int(df.loc[fail, "ip"].nunique()),
                   slow_clients=int(df.loc[slow, "ip"].nunique()))
    else:
        out.update(clients=None, failed_clients=None, slow_clients=None)
    base_tuple = None
    if len(base):
        bslow = base["latency"] > threshold if threshold is not None else False
        bspan = (pd.Timestamp(ctx["baseline"]["end"]) - pd.Timestamp(ctx["baseline"]["start"])).total_seconds()
        base_tuple = (int((failed(base) | bslow).sum()), len(base), bspan)
    out.update(episode(df, fail | slow, start, end, base_tuple))
    return out


# --------------------------------------------------------------------------- the audit


def _impact_section(md: str) -> str:
    m = re.search(r"(?ms)^#+ Impact\s*$(.*?)(?=^#+ )", md)
    assert m, "the postmortem has an Impact section"
    return m.group(1)


@pytest.mark.parametrize("name", samples.names())
def test_the_impact_is_what_the_evidence_holds(runs: dict[str, dict[str, Path]], name: str) -> None:
    for how, run in runs[name].items():
        doc = json.loads((run / "findings.json").read_text())
        imp = doc["impact"]
        want = expected_impact(run)
        if not want["requests"]:
            assert imp["requests"] == 0 and imp["note"], how
            continue
        got = {k: imp.get(k) for k in want}
        assert got == want, (how, {k: (got[k], want[k]) for k in want if got[k] != want[k]})
        section = _impact_section((run / "postmortem.md").read_text())
        for key in ("requests", "failed_requests", "slow_requests", "clients", "failed_clients", "slow_clients"):
            if want.get(key) is not None:
                assert re.search(rf"\*\*{want[key]:,}\*\*|\b{want[key]:,}\b", section), (how, key, want[key], section)
        share = f"{100 * want['failed_share']:.1f}"  # one decimal; a whole number may drop its ".0" (28.9%, 0%)
        share_re = re.escape(share[:-2]) + r"(?:\.0)?" if share.endswith(".0") else re.escape(share)
        assert re.search(rf"(?<![\d.]){share_re}%", section), (how, share, section)


@pytest.mark.parametrize("name", CLI_SAMPLES)
def test_the_cli_and_the_in_process_writers_agree(runs: dict[str, dict[str, Path]], name: str) -> None:
    cli, folder = runs[name]["cli"], runs[name]["folder"]
    a, b = json.loads((cli / "findings.json").read_text()), json.loads((folder / "findings.json").read_text())
    assert a["impact"] == b["impact"]
    assert _impact_section((cli / "postmortem.md").read_text()) == _impact_section((folder / "postmortem.md").read_text())


def _top(run: Path) -> dict[str, Any]:
    doc = json.loads((run / "findings.json").read_text())
    return doc["findings"][0]


def test_version_skew_headline(runs: dict[str, dict[str, Path]]) -> None:
    run = runs["version-skew-errors"]["cli"]
    _, logs, _ = _logs(run)
    entry = entry_requests(logs)
    major = entry["ua"].astype(str).str.extract(r"^ShopApp/(\d+)\.\d+\.\d+")[0]
    known = entry[major.notna()]
    four = (known["status"] >= 400) & (known["status"] < 500)
    v2 = major[major.notna()] == "2"
    ev = _top(run)["evidence"]
    assert (ev["version"], ev["requests"], ev["version_requests"]) == ("2.x", len(known), int(v2.sum()))
    assert (ev["errors"], ev["version_errors"]) == (int(four.sum()), int((four & v2).sum()))
    assert ev["traffic_share"] == round(v2.mean(), 4) and ev["error_share"] == round((four & v2).sum() / four.sum(), 4)


def test_cold_start_tail_headline(runs: dict[str, dict[str, Path]]) -> None:
    run = runs["cold-start-tail"]["cli"]
    _, logs, _ = _logs(run)
    entry = entry_requests(logs)
    reports = [json.loads(m) for m in logs["message"] if '"platform.report"' in m]
    ev = _top(run)["evidence"]
    assert ev["requests"] == len(entry) == len(reports)
    assert ev["cold_starts"] == sum("initDurationMs" in (r["record"].get("metrics") or {}) for r in reports)
    assert ev["p99_ms"] == pytest.approx(entry["latency"].quantile(0.99), abs=0.01)


def test_cold_start_timeouts_headline(runs: dict[str, dict[str, Path]]) -> None:
    run = runs["cold-start-timeouts"]["folder"]
    _, logs, _ = _logs(run)
    entry = entry_requests(logs)
    ev = _top(run)["evidence"]
    assert ev["requests"] == len(entry) and ev["failing_requests"] == int((entry["status"] >= 500).sum())


def test_deregistration_delay_headline(runs: dict[str, dict[str, Path]]) -> None:
    run = runs["deregistration-delay-too-short"]["folder"]
    _, logs, _ = _logs(run)
    entry = entry_requests(logs)
    ev = _top(run)["evidence"]
    longer = int((entry["latency"] > ev["deregistration_delay_s"] * 1000).sum())
    assert ev["requests_longer_than_delay"] == longer
    assert ev["share_requests_longer_than_delay"] == round(longer / entry["latency"].notna().sum(), 4)
