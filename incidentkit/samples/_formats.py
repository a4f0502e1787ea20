"""Renderers of raw log lines, in the formats AWS services and common libraries write.

Each function takes arrays (one element per line) and returns a list of strings, built with
list comprehensions over numpy arrays (no per-event pandas work). The formats follow the
published records in ``shared/reference/aws-samples`` and the AWS documentation:

* Lambda platform text lines: ``INIT_START``, ``START``, ``END``, ``REPORT`` (TAB-separated,
  trailing TAB, ``Init Duration`` on cold starts, ``Status: timeout``), runtime lines of the
  Python (``[LEVEL]\\t<iso>\\t<request id>\\t...``) and Node.js (``<iso>\\t<request id>\\tLEVEL\\t...``)
  runtimes, ``Task timed out after N.NN seconds``;
* Lambda JSON platform records (``LoggingConfig.LogFormat=JSON``): ``platform.initStart``,
  ``platform.initReport``, ``platform.start``, ``platform.runtimeDone``, ``platform.report``;
* Powertools for AWS Lambda (Python) structured lines;
* API Gateway access logs (custom JSON formats built from ``$context`` variables);
* ALB access log entries (the documented space-separated format, 29 fields, optionally the
  newer trailing ``conn_trace_id``);
* VPC Flow Logs (default version-2 format).
"""

from __future__ import annotations

import json
from typing import Any, Mapping, Sequence

import numpy as np
import orjson

__all__ = [
    "iso_ms",
    "iso_us",
    "clf_time",
    "py_asctime",
    "powertools_time",
    "lambda_start",
    "lambda_end",
    "lambda_init_start",
    "lambda_report",
    "lambda_timeout_line",
    "python_runtime",
    "node_runtime",
    "platform_json",
    "json_lines",
    "alb_lines",
    "flow_lines",
    "fmt",
    "powertools_lines",
]

_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def _dt64(t: np.ndarray, unit: str) -> np.ndarray:
    t = np.asarray(t, dtype=float)
    scale = {"ms": 1e3, "us": 1e6, "s": 1.0}[unit]
    return np.floor(t * scale).astype("int64").astype(f"datetime64[{unit}]")


def iso_ms(t: np.ndarray) -> list[str]:
    """``2026-03-10T02:47:11.123Z`` for epoch seconds ``t``."""
    return [s + "Z" for s in np.datetime_as_string(_dt64(t, "ms"), unit="ms")]


def iso_us(t: np.ndarray) -> list[str]:
    """``2026-03-10T02:47:11.123456Z`` (the ALB access-log time form)."""
    return [s + "Z" for s in np.datetime_as_string(_dt64(t, "us"), unit="us")]


def clf_time(t: np.ndarray) -> list[str]:
    """``10/Mar/2026:02:47:11 +0000`` (API Gateway ``$context.requestTime``)."""
    out = []
    for s in np.datetime_as_string(_dt64(t, "s"), unit="s"):
        out.append(f"{s[8:10]}/{_MONTHS[int(s[5:7]) - 1]}/{s[:4]}:{s[11:19]} +0000")
    return out


def py_asctime(t: np.ndarray) -> list[str]:
    """``2026-06-09 10:41:02,123`` (Python logging ``%(asctime)s``)."""
    return [f"{s[:10]} {s[11:19]},{s[20:23]}" for s in np.datetime_as_string(_dt64(t, "ms"), unit="ms")]


def powertools_time(t: np.ndarray) -> list[str]:
    """``2026-09-15 13:02:11,123+0000`` (Powertools for AWS Lambda (Python) ``timestamp``)."""
    return [a + "+0000" for a in py_asctime(t)]


def fmt(values: np.ndarray, spec: str) -> list[str]:
    """Format each number with a format spec (``".2f"``)."""
    return [format(v, spec) for v in np.asarray(values).tolist()]


# --------------------------------------------------------------------------------------------
# Lambda platform text lines
# --------------------------------------------------------------------------------------------


def lambda_start(request_ids: Sequence[str], version: str | Sequence[str] = "$LATEST") -> list[str]:
    """``START RequestId: <id> Version: $LATEST``."""
    if isinstance(version, str):
        return [f"START RequestId: {r} Version: {version}" for r in request_ids]
    return [f"START RequestId: {r} Version: {v}" for r, v in zip(request_ids, version)]


def lambda_end(request_ids: Sequence[str]) -> list[str]:
    """``END RequestId: <id>``."""
    return [f"END RequestId: {r}" for r in request_ids]


def lambda_init_start(n: int, runtime: str, runtime_arn: str) -> list[str]:
    """``INIT_START Runtime Version: python:3.12.v38\\tRuntime Version ARN: arn:...``."""
    line = f"INIT_START Runtime Version: {runtime}\tRuntime Version ARN: {runtime_arn}"
    return [line] * n


def lambda_report(
    request_ids: Sequence[str],
    duration_ms: np.ndarray,
    memory_mb: int,
    max_memory_mb: np.ndarray,
    init_ms: np.ndarray,
    *,
    timed_out: np.ndarray | None = None,
    xray: Sequence[str | None] | None = None,
    billed_includes_init: bool = True,
) -> list[str]:
    """``REPORT RequestId: ...\\tDuration: 12.34 ms\\tBilled Duration: 13 ms\\t...``.

    ``init_ms`` is NaN for warm invocations (no ``Init Duration``). Since August 2025 the
    billed duration of on-demand functions includes the init phase. ``xray`` appends the
    ``XRAY TraceId`` line after a newline, inside the same event, as Lambda writes it.
    """
    dur = np.asarray(duration_ms, dtype=float)
    init = np.asarray(init_ms, dtype=float)
    billed = np.ceil(dur + (np.nan_to_num(init) if billed_includes_init else 0)).astype(int)
    out = []
    tos = timed_out if timed_out is not None else np.zeros(len(dur), dtype=bool)
    for i, rid in enumerate(request_ids):
        line = (
            f"REPORT RequestId: {rid}\tDuration: {dur[i]:.2f} ms\tBilled Duration: {billed[i]} ms\t"
            f"Memory Size: {memory_mb} MB\tMax Memory Used: {int(max_memory_mb[i])} MB\t"
        )
        if init[i] == init[i]:
            line += f"Init Duration: {init[i]:.2f} ms\t"
        if tos[i]:
            line += "Status: timeout"
        if xray is not None and xray[i]:
            line += f"\nXRAY TraceId: {xray[i]}\tSegmentId: {xray[i][-16:]}\tSampled: true"
        out.append(line)
    return out


def lambda_timeout_line(t: np.ndarray, request_ids: Sequence[str], timeout_s: float, *, overrun_ms: np.ndarray | None = None) -> list[str]:
    """``2026-04-17T18:03:11.512Z <request id> Task timed out after 30.03 seconds``."""
    over = overrun_ms if overrun_ms is not None else np.full(len(request_ids), 25.0)
    return [
        f"{ts} {rid} Task timed out after {timeout_s + o / 1000:.2f} seconds"
        for ts, rid, o in zip(iso_ms(t), request_ids, np.asarray(over, dtype=float))
    ]


def python_runtime(t: np.ndarray, levels: Sequence[str], request_ids: Sequence[str], messages: Sequence[str]) -> list[str]:
    """Python runtime logging lines: ``[INFO]\\t2026-07-14T01:00:03.412Z\\t<request id>\\tmessage``."""
    return [f"[{lv}]\t{ts}\t{rid}\t{msg}" for lv, ts, rid, msg in zip(levels, iso_ms(t), request_ids, messages)]


def node_runtime(t: np.ndarray, levels: Sequence[str], request_ids: Sequence[str], messages: Sequence[str]) -> list[str]:
    """Node.js runtime console lines: ``2026-03-10T02:47:11.123Z\\t<request id>\\tINFO\\tmessage``."""
    return [f"{ts}\t{rid}\t{lv}\t{msg}" for lv, ts, rid, msg in zip(levels, iso_ms(t), request_ids, messages)]


# --------------------------------------------------------------------------------------------
# JSON lines
# --------------------------------------------------------------------------------------------


def _pylist(values: Sequence[Any]) -> list[Any]:
    """Plain Python values (numpy scalars unwrapped, NaN as None) of a column."""
    if isinstance(values, np.ndarray) and values.dtype != object:
        out = values.tolist()
        if values.dtype.kind == "f":
            out = [None if v != v else v for v in out]
        return out
    return [None if (v is None or (isinstance(v, float) and v != v)) else (v.item() if isinstance(v, np.generic) else v) for v in values]


def json_lines(columns: Mapping[str, Sequence[Any]], *, spaced: bool = False, drop_none: bool = True) -> list[str]:
    """One JSON object per row from equal-length columns, keys in the given order.

    ``None`` (and NaN) values are left out of the row when ``drop_none``; nested dicts are
    kept. ``spaced=True`` writes Python's ``json.dumps`` form (``", "`` and ``": "``), the
    default is compact (what orjson, Powertools and Lambda write).
    """
    keys = list(columns)
    cols = [_pylist(columns[k]) for k in keys]
    if not cols:
        return []
    sparse = drop_none and any(v is None for c in cols for v in c)
    dump = json.dumps if spaced else (lambda o: orjson.dumps(o).decode())
    if not sparse:
        return [dump(dict(zip(keys, vals))) for vals in zip(*cols)]
    return [dump({k: v for k, v in zip(keys, vals) if v is not None}) for vals in zip(*cols)]


def platform_json(t: np.ndarray, kind: str, records: Sequence[Mapping[str, Any]]) -> list[str]:
    """Lambda JSON-format platform records: ``{"time":...,"type":"platform.report","record":{...}}``."""
    return [orjson.dumps({"time": ts, "type": kind, "record": rec}).decode() for ts, rec in zip(iso_ms(t), records)]


# --------------------------------------------------------------------------------------------
# ALB and VPC Flow Logs
# --------------------------------------------------------------------------------------------


def alb_lines(
    *,
    t_end: np.ndarray,
    t_start: np.ndarray,
    lb: str,
    client: Sequence[str],
    target: Sequence[str],
    req_s: np.ndarray,
    target_s: np.ndarray,
    resp_s: np.ndarray,
    elb_status: np.ndarray,
    target_status: Sequence[str],
    received: np.ndarray,
    sent: np.ndarray,
    method: Sequence[str],
    url: Sequence[str],
    user_agent: Sequence[str],
    tg_arn: str,
    trace: Sequence[str],
    domain: str,
    cert_arn: str,
    rule_priority: Sequence[int] | int = 1,
    scheme: str = "https",
    error_reason: Sequence[str] | None = None,
    conn_trace_id: Sequence[str] | None = None,
) -> list[str]:
    """ALB access log entries in the documented order of 29 fields (+ ``conn_trace_id``).

    ``target`` is ``ip:port`` or ``-``; ``target_status`` a code or ``-``; processing
    times in seconds, ``-1`` when the load balancer could not dispatch or the target
    closed the connection before answering.
    """
    ends = iso_us(t_end)
    starts = iso_us(t_start)
    n = len(ends)
    prio = [rule_priority] * n if isinstance(rule_priority, int) else list(rule_priority)
    reasons = list(error_reason) if error_reason is not None else ["-"] * n
    tls = scheme == "https"
    cipher, proto = ("ECDHE-RSA-AES128-GCM-SHA256", "TLSv1.2") if tls else ("-", "-")
    cert = f'"{cert_arn}"' if tls else '"-"'
    dom = f'"{domain}"' if tls else '"-"'
    secs = lambda a: ["-1" if v < 0 else f"{v:.3f}" for v in np.asarray(a, dtype=float).tolist()]  # noqa: E731
    rq, tp, rp = secs(req_s), secs(target_s), secs(resp_s)
    es = np.asarray(elb_status).astype(int).tolist()
    rb = np.asarray(received).astype(int).tolist()
    sb = np.asarray(sent).astype(int).tolist()
    tgt, tst, cl = list(target), list(target_status), list(client)
    me, ur, ua, tr = list(method), list(url), list(user_agent), list(trace)
    tail = list(conn_trace_id) if conn_trace_id is not None else None
    out = []
    for i in range(n):
        line = (
            f"{scheme} {ends[i]} {lb} {cl[i]} {tgt[i]} {rq[i]} {tp[i]} {rp[i]} {es[i]} {tst[i]} {rb[i]} {sb[i]} "
            f'"{me[i]} {ur[i]} HTTP/1.1" "{ua[i]}" {cipher} {proto} {tg_arn} '
            f'"{tr[i]}" {dom} {cert} {prio[i]} {starts[i]} "forward" "-" "{reasons[i]}" '
            f'"{tgt[i]}" "{tst[i]}" "-" "-"'
        )
        if tail is not None:
            line += f" {tail[i]}"
        out.append(line)
    return out


def flow_lines(
    *,
    interface: str | Sequence[str],
    src: Sequence[str],
    dst: Sequence[str],
    src_port: np.ndarray,
    dst_port: np.ndarray,
    protocol: int | np.ndarray,
    packets: np.ndarray,
    nbytes: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
    action: Sequence[str],
    account: str,
) -> list[str]:
    """VPC Flow Log records, default format: ``2 <account> <eni> <src> <dst> <sport> <dport> <proto> <packets> <bytes> <start> <end> <action> OK``."""
    n = len(src)
    prot = [protocol] * n if isinstance(protocol, int) else list(protocol)
    eni = [interface] * n if isinstance(interface, str) else list(interface)
    return [
        f"2 {account} {eni[i]} {src[i]} {dst[i]} {int(src_port[i])} {int(dst_port[i])} {prot[i]} "
        f"{int(packets[i])} {int(nbytes[i])} {int(start[i])} {int(end[i])} {action[i]} OK"
        for i in range(n)
    ]


def powertools_lines(
    t: np.ndarray,
    levels: Sequence[str],
    messages: Sequence[str],
    *,
    service: str,
    location: str | Sequence[str],
    cold_start: np.ndarray,
    function_name: str,
    memory_mb: int,
    function_arn: str,
    request_ids: Sequence[str],
    xray: Sequence[str] | None = None,
    extra: Mapping[str, Sequence[Any]] | None = None,
) -> list[str]:
    """Powertools for AWS Lambda (Python) ``Logger`` lines (compact JSON, its key order).

    ``extra`` holds the keys the application appends (``logger.append_keys`` / ``extra=``);
    ``None`` values are left out.
    """
    stamps = powertools_time(t)
    n = len(stamps)
    locs = [location] * n if isinstance(location, str) else list(location)
    extras = {k: list(np.asarray(v, dtype=object)) for k, v in (extra or {}).items()}
    out = []
    for i in range(n):
        row: dict[str, Any] = {
            "level": levels[i],
            "location": locs[i],
            "message": messages[i],
            "timestamp": stamps[i],
            "service": service,
            "cold_start": bool(cold_start[i]),
            "function_name": function_name,
            "function_memory_size": memory_mb,
            "function_arn": function_arn,
            "function_request_id": request_ids[i],
        }
        for k, col in extras.items():
            v = col[i]
            if v is None or (isinstance(v, float) and v != v):
                continue
            row[k] = v.item() if isinstance(v, np.generic) else v
        if xray is not None and xray[i]:
            row["xray_trace_id"] = xray[i]
        out.append(orjson.dumps(row).decode())
    return out
