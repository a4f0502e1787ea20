"""Lambda platform lines in the text log format: ``START``/``END``/``REPORT``, ``INIT_START``,
``INIT_REPORT``, ``RESTORE_*``, ``XRAY``, ``EXTENSION``, ``TELEMETRY`` and the runtime's exit
lines (``RequestId: <id> Error: Runtime exited with error: signal: killed``, ``RequestId:
<id> Process exited before completing request``) and failures (``Unknown application error
occurred``, ``module initialization error``).

Source: *AWS Lambda Developer Guide*, "Using CloudWatch Logs with Lambda" (the platform lines
of the text format) and "Lambda execution environment lifecycle". ``REPORT`` lines are read
on the fast path when TAB separated in the documented order (what Lambda writes), else
label by label (space separated, another order, as some tools print them). A ``REPORT``
gives duration, billed duration, memory, init (or SnapStart restore) duration,
``latency_ms`` = duration + init and ``cold_start``; ``Status: timeout`` sets ``timed_out``
and the error type ``Task timed out``. An exit line is an ERROR with the runtime's error type
(``Runtime.ExitError``, ``Runtime.OutOfMemory``).

Example
-------
>>> from incidentkit import parse
>>> df = parse.parse(["REPORT RequestId: r1\tDuration: 198.50 ms\tBilled Duration: 200 ms\tMemory Size: 512 MB"
...                   "\tMax Memory Used: 90 MB\tInit Duration: 524.75 ms"])
>>> print(df.at[0, "record_type"], df.at[0, "cold_start"], df.at[0, "latency_ms"])
report True 723.25
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .._text import OOM_RE, group, mark_errors, regex_struct
from ..arrow import BOOL, F64, STR, Part, mask_np, nulls, num_or_bad, scalar_str
from ._keys import Field

__all__ = ["FIELDS", "NAME", "RECOGNISE", "ROLE", "parse"]

NAME = "lambda_platform"
ROLE = "invocation"
RECOGNISE = (
    r"^(?:(?:START|END|REPORT) RequestId:|(?:INIT_START|INIT_REPORT|INIT_RUNTIME_DONE|RESTORE_START|RESTORE_REPORT"
    r"|RESTORE_RUNTIME_DONE|EXTENSION|TELEMETRY|LOGS)(?:\s|$)|XRAY TraceId: |RequestId: \S+ (?:Error: |Process exited before completing request)"
    r"|Unknown application error occurred|module initialization error)"
)

#: The platform lines' fields, with when each appeared.
FIELDS: tuple[Field, ...] = (
    ("START RequestId, Version", "2014-11 (launch)"),
    ("END RequestId", "2014-11 (launch)"),
    ("REPORT RequestId, Duration, Billed Duration, Memory Size, Max Memory Used", "2014-11 (launch)"),
    ("REPORT XRAY TraceId, SegmentId, Sampled", "2017-04 (X-Ray tracing)"),
    ("REPORT Init Duration", "by 2019-12 (undated)"),
    ("REPORT Restore Duration, Billed Restore Duration", "2022-11 (SnapStart)"),
    ("REPORT Status, Error Type", "undated (2023 or later)"),
    ("INIT_START Runtime Version, Runtime Version ARN", "2023-01 (runtime management controls)"),
    ("INIT_REPORT Init Duration, Phase, Status, Error Type", "undated (2023 or later)"),
    ("RequestId: <id> Error: <message>", "undated (runtime exit)"),
    ("RequestId: <id> Process exited before completing request", "undated (runtime exit, older runtimes)"),
    ("Unknown application error occurred [<error type>]", "undated (runtime failure, custom runtimes)"),
    ("module initialization error[: <message>]", "undated (init failure, older runtimes)"),
)

_REPORT_LABELS = re.compile(
    r"(RequestId|Billed Restore Duration|Restore Duration|Billed Duration|Init Duration|Duration|Memory Size|Max Memory Used|Status|Error Type|XRAY TraceId|SegmentId|Sampled): *([^\t\n ]*)"
)
_REPORT_KEYS = {
    "RequestId": "request_id",
    "Duration": "duration",
    "Billed Duration": "billed",
    "Memory Size": "mem",
    "Max Memory Used": "maxmem",
    "Init Duration": "init",
    "Restore Duration": "restore",
    "Status": "status",
    "Error Type": "error_type",
    "XRAY TraceId": "trace",
}
_REPORT_NUMERIC = {"duration": "Duration", "billed": "Billed Duration", "mem": "Memory Size", "maxmem": "Max Memory Used", "init": "Init Duration", "restore": "Restore Duration"}


def _report_python(texts: list[str]) -> dict[str, pa.Array]:
    cols: dict[str, list[Any]] = {k: [None] * len(texts) for k in _REPORT_KEYS.values()}
    for i, t in enumerate(texts):
        for label, value in _REPORT_LABELS.findall(t or ""):
            key = _REPORT_KEYS.get(label)
            if key is not None and cols[key][i] is None:
                cols[key][i] = value
    return {k: pa.array(v, type=STR) for k, v in cols.items()}


_TAIL = (  # (value key, prefix, slice start, slice stop)
    ("init", "Init Duration: ", 15, -3),
    ("restore", "Restore Duration: ", 18, -3),
    ("status", "Status: ", 8, None),
    ("error_type", "Error Type: ", 12, None),
    ("trace", "XRAY TraceId: ", 14, None),
    ("trace", "\nXRAY TraceId: ", 15, None),
)
_TAIL_IGNORED = ("SegmentId: ", "Sampled: ", "Billed Restore Duration: ")


def _report_tabs(arr: pa.Array) -> tuple[np.ndarray, dict[str, pa.Array]]:
    """Fast path for REPORT lines as Lambda writes them to CloudWatch: TAB-separated
    ``Label: value unit`` fields in the documented order, then optional trailing fields
    in any order (Init/Restore Duration, Status, Error Type, the XRAY line). Returns the
    rows it read (numpy mask) and their values as text; other rows go to
    :func:`_report_python`."""
    n = len(arr)
    toks = pc.split_pattern(arr, "\t")
    flat = toks.values
    offs = np.asarray(toks.offsets)
    starts, lens = offs[:-1].astype(np.int64), np.diff(offs)
    long_enough = lens >= 5
    head = np.where(long_enough, starts, 0)
    got = flat.take(pa.array((head[None, :] + np.arange(5)[:, None]).ravel(), mask=np.tile(~long_enough, 5)))
    t = [got.slice(i * n, n) for i in range(5)]
    ok = mask_np(pc.starts_with(t[0], "REPORT RequestId: "))
    for i, prefix in ((1, "Duration: "), (2, "Billed Duration: "), (3, "Memory Size: "), (4, "Max Memory Used: ")):
        ok &= mask_np(pc.starts_with(t[i], prefix))
    ok &= lens >= 5
    vals = {
        "request_id": pc.utf8_slice_codeunits(t[0], 18),
        "duration": pc.utf8_slice_codeunits(t[1], 10, -3),
        "billed": pc.utf8_slice_codeunits(t[2], 17, -3),
        "mem": pc.utf8_slice_codeunits(t[3], 13, -3),
        "maxmem": pc.utf8_slice_codeunits(t[4], 17, -3),
    }
    # trailing tokens, all rows at once: every one must be known (or empty), else Python reads the line
    extra = np.maximum(lens - 5, 0)
    if extra.sum():
        rows = np.repeat(np.arange(n), extra)
        within = np.arange(int(extra.sum())) - np.repeat(np.cumsum(extra) - extra, extra)
        tail = flat.take(pa.array(np.repeat(starts + 5, extra) + within))
        stripped = pc.utf8_trim(tail, characters="\n")
        known = mask_np(pc.equal(stripped, ""))
        for prefix in _TAIL_IGNORED:
            known |= mask_np(pc.starts_with(tail, prefix))
        for key, prefix, a, b in _TAIL:
            hit = mask_np(pc.starts_with(tail, prefix))
            if not hit.any():
                continue
            known |= hit
            sel = np.flatnonzero(hit)
            sub = tail.take(pa.array(sel))
            value = pc.utf8_slice_codeunits(sub, a, b) if b is not None else pc.utf8_slice_codeunits(sub, a)
            spread = np.full(n, -1, dtype=np.int64)
            spread[rows[sel]] = np.arange(len(sel))
            value = value.take(pa.array(spread, mask=spread < 0))
            vals[key] = pc.coalesce(vals[key], value) if key in vals else value
        unknown_rows = np.unique(rows[~known])
        ok[unknown_rows] = False
    return ok, {k: v.cast(STR) for k, v in vals.items()}


def _report(arr: pa.Array, idx: np.ndarray) -> Part:
    n = len(arr)
    fast, vals = _report_tabs(arr)
    other = ~fast
    if other.any():  # space separated, another order (Init Duration first), ...: Python
        sel = pa.array(np.flatnonzero(other))
        py = _report_python(arr.take(sel).to_pylist())
        back = np.full(n, -1, dtype=np.int64)
        back[other] = np.arange(int(other.sum()))
        bidx = pa.array(back, mask=back < 0)
        om = pa.array(other)
        for k, v in py.items():
            vals[k] = pc.if_else(om, v.take(bidx), vals.get(k, nulls(n, STR)))
    part = Part(idx)
    reasons: list[pa.Array] = []
    nums: dict[str, pa.Array] = {}
    for key, label in _REPORT_NUMERIC.items():
        raw = vals.get(key)
        if raw is None:
            nums[key] = nulls(n, F64)
            continue
        v, bad = num_or_bad(raw)
        nums[key] = v
        if pc.any(bad).as_py():
            reasons.append(pc.if_else(bad, pa.scalar(f"REPORT field '{label}' is not a number", STR), pa.scalar(None, STR)))
    rid = pc.utf8_trim_whitespace(vals["request_id"])
    rid = pc.if_else(pc.equal(rid, ""), pa.scalar(None, STR), rid)
    missing = pc.or_(pc.invert(rid.is_valid()), pc.invert(nums["duration"].is_valid()))
    if pc.any(missing).as_py():
        reasons.append(pc.if_else(missing, pa.scalar("REPORT line without RequestId and Duration", STR), pa.scalar(None, STR)))
    init = pc.coalesce(nums["init"], nums["restore"]) if nums["restore"].null_count < n else nums["init"]
    part.set("format", scalar_str(NAME, n))
    part.set("record_type", scalar_str("report", n))
    part.set("request_id", rid)
    part.set("duration_ms", nums["duration"])
    part.set("billed_duration_ms", nums["billed"])
    part.set("memory_size_mb", nums["mem"])
    part.set("max_memory_used_mb", nums["maxmem"])
    part.set("init_duration_ms", init)
    part.set("latency_ms", pc.add(nums["duration"], pc.coalesce(init, 0.0)))
    part.set("cold_start", init.is_valid())
    if "status" in vals:
        status = pc.utf8_lower(vals["status"])
        timeout = pc.equal(status, "timeout").fill_null(False)
        part.set("timed_out", timeout)
        et = vals.get("error_type", nulls(n, STR))
        part.set("error_type", pc.coalesce(et, pc.if_else(timeout, pa.scalar("Task timed out", STR), pa.scalar(None, STR))))
    else:
        part.set("timed_out", pa.array(np.zeros(n, dtype=bool)))
        if "error_type" in vals:
            part.set("error_type", vals["error_type"])
    if "trace" in vals:
        part.set("xray_trace_id", pc.utf8_trim_whitespace(vals["trace"]))
    if reasons:
        reason = pc.coalesce(*reasons) if len(reasons) > 1 else reasons[0]
        mark_errors(part, reason.is_valid(), reason)
    else:
        part.set("parse_error", pa.array(np.zeros(n, dtype=bool)))
    return part


_START_END = (
    ("START", r"^START RequestId: (?P<rid>[^\s]+)(?:\s+Version: (?P<ver>[^\s]+))?"),
    ("END", r"^END RequestId: (?P<rid>[^\s]+)"),
)


def _start_end(kind: str, pattern: str, sub: pa.Array, sidx: np.ndarray) -> Part:
    ex = regex_struct(sub, pattern)
    p = Part(sidx)
    p.set("format", scalar_str(NAME, len(sub)))
    p.set("record_type", scalar_str(kind.lower(), len(sub)))
    p.set("request_id", group(ex, "rid"))
    mark_errors(p, pc.invert(ex.is_valid()), scalar_str(f"{kind} line without RequestId", len(sub)))
    return p


def _xray(sub: pa.Array, sidx: np.ndarray) -> Part:
    p = Part(sidx)
    p.set("format", scalar_str(NAME, len(sub)))
    p.set("record_type", scalar_str("xray", len(sub)))
    p.set("xray_trace_id", group(regex_struct(sub, r"TraceId: (?P<v>[^\s]+)"), "v"))
    return p


def _runtime_exit(sub: pa.Array, sidx: np.ndarray) -> Part:
    """``RequestId: <id> Error: ...``: the runtime exited (crash, OOM kill, timeout)."""
    n = len(sub)
    ex = regex_struct(sub, r"(?s)^RequestId: (?P<rid>[^\s]+) (?:Error: )?(?P<msg>[^\n]*)")
    etype = group(regex_struct(sub, r"(?P<t>Runtime\.[A-Za-z]+)"), "t")
    oom = pc.match_substring_regex(sub, OOM_RE)
    timeout = pc.match_substring(sub, "Task timed out after")
    p = Part(sidx)
    p.set("format", scalar_str(NAME, n))
    p.set("record_type", pc.if_else(timeout, scalar_str("timeout", n), pc.if_else(oom, scalar_str("oom", n), scalar_str("runtime_exit", n))))
    p.set("request_id", group(ex, "rid"))
    p.set("level", scalar_str("ERROR", n))
    p.set("error_message", group(ex, "msg"))
    exit_type = pc.coalesce(etype, pc.if_else(oom, pa.scalar("Runtime.OutOfMemory", STR), pa.scalar("Runtime.ExitError", STR)))
    p.set("error_type", pc.if_else(timeout, pa.scalar("Task timed out", STR), exit_type))
    p.set("timed_out", timeout)
    return p


#: The runtime failed outside any request's own output (init, or a crash it could not name).
_FAILURES = ("Unknown application error occurred", "module initialization error")


def _runtime_failure(sub: pa.Array, sidx: np.ndarray) -> Part:
    """``Unknown application error occurred`` / ``module initialization error``: an ERROR
    with the error type the runtime printed after it (``Runtime.Unknown``), if any."""
    n = len(sub)
    ex = regex_struct(sub, r"(?s)^(?P<msg>[^\n]*)(?:\n(?P<t>[A-Za-z_][\w.]*)\s*$)?")
    etype = group(regex_struct(sub, r"(?P<t>Runtime\.[A-Za-z]+)"), "t")
    p = Part(sidx)
    p.set("format", scalar_str(NAME, n))
    p.set("record_type", scalar_str("runtime_error", n))
    p.set("level", scalar_str("ERROR", n))
    p.set("error_message", group(ex, "msg"))
    p.set("error_type", pc.coalesce(etype, group(ex, "t")))
    return p


def _lifecycle(sub: pa.Array, sidx: np.ndarray) -> Part:
    """INIT_*, RESTORE_*, EXTENSION, TELEMETRY, LOGS lines: the word as record type."""
    n = len(sub)
    w = pc.utf8_lower(pc.fill_null(group(regex_struct(sub, r"^(?P<w>[A-Z_]+)"), "w"), "platform"))
    init = group(regex_struct(sub, r"(?:Init|Restore) Duration: (?P<v>[^\s]+) ms"), "v")
    status = pc.utf8_lower(group(regex_struct(sub, r"Status: (?P<v>[^\s]+)"), "v"))
    etype = group(regex_struct(sub, r"Error Type: (?P<v>[^\s]+)"), "v")
    v, bad = num_or_bad(init)
    p = Part(sidx)
    p.set("format", scalar_str(NAME, n))
    p.set("record_type", w)
    p.set("init_duration_ms", v)
    is_timeout = pc.equal(status, "timeout").fill_null(False)
    p.set("timed_out", pc.if_else(status.is_valid(), is_timeout, pa.scalar(None, BOOL)))
    p.set("error_type", pc.coalesce(etype, pc.if_else(is_timeout, pa.scalar("Task timed out", STR), pa.scalar(None, STR))))
    mark_errors(p, bad, scalar_str("platform field 'Init Duration' is not a number", n))
    return p


def parse(arr: pa.Array, idx: np.ndarray) -> list[Part]:
    """Platform text lines -> one part per kind of line (REPORT, START, END, XRAY, exits, the rest)."""
    parts: list[Part] = []
    done = np.zeros(len(arr), dtype=bool)

    def take(prefix: str | None) -> tuple[pa.Array, np.ndarray] | None:
        mask = ~done if prefix is None else mask_np(pc.starts_with(arr, prefix)) & ~done
        if not mask.any():
            return None
        sel = np.flatnonzero(mask)
        done[sel] = True
        return (arr if len(sel) == len(arr) else arr.take(pa.array(sel))), idx[sel]

    if got := take("REPORT "):
        parts.append(_report(*got))
    for kind, pattern in _START_END:
        if got := take(kind + " "):
            parts.append(_start_end(kind, pattern, *got))
    if got := take("XRAY "):
        parts.append(_xray(*got))
    if got := take("RequestId: "):
        parts.append(_runtime_exit(*got))
    for failure in _FAILURES:
        if got := take(failure):
            parts.append(_runtime_failure(*got))
    if got := take(None):
        parts.append(_lifecycle(*got))
    return parts
