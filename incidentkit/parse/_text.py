"""Text log formats (private; used by :mod:`incidentkit.parse`).

Lambda platform lines (START/END/REPORT/INIT_*/RESTORE_*/XRAY, runtime exits), the
Lambda runtime prefixes (Python ``[LEVEL]\\t<time>\\t<request id>\\t...``, Node/Java
``<time>\\t<request id>\\t<LEVEL>\\t...``), ``Task timed out`` lines, ``sam logs`` lines,
ALB access logs, VPC flow logs (default format), API Gateway access logs in the CLF and
CSV templates and execution logs, multi-line tracebacks, and plain text.

Every handler takes the messages it was given (an arrow string array) and their input
positions, and returns :class:`~incidentkit.parse.arrow.Part` objects. Handlers are
vectorised with pyarrow compute (RE2 regexes); only tracebacks and REPORT lines in an
unusual field order are read in Python, one line at a time.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .arrow import (
    BOOL,
    F64,
    STR,
    Part,
    as_float,
    as_status,
    as_str,
    mask_np,
    normalize_level,
    nulls,
    num_or_bad,
    scalar_str,
    trace_root,
)

__all__ = [
    "CLASSIFIERS",
    "alb",
    "apigw_csv",
    "apigw_execution",
    "clf",
    "error_fields_from_text",
    "lambda_platform",
    "plain_text",
    "runtime_prefixed",
    "split_sam",
    "timeout_lines",
    "traceback",
    "vpc_flow",
]

UUID = r"[0-9A-Za-z]{8}-[0-9A-Za-z]{4}-[0-9A-Za-z]{4}-[0-9A-Za-z]{4}-[0-9A-Za-z]{12}"
ISO = r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?"

#: (name, RE2 pattern) tried in this order on lines that are not JSON.
CLASSIFIERS: list[tuple[str, str]] = [
    ("sam", r"^\d{4}/\d\d/\d\d/\[[^\]]*\]\S* \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d"),
    (
        "platform",
        r"^(?:(?:START|END|REPORT) RequestId:|(?:INIT_START|INIT_REPORT|INIT_RUNTIME_DONE|RESTORE_START|RESTORE_REPORT|RESTORE_RUNTIME_DONE|EXTENSION|TELEMETRY|LOGS)(?:\s|$)|XRAY TraceId: |RequestId: \S+ Error: )",
    ),
    ("timeout", r"^(?:" + ISO + r"\s+\S+\s+)?(?:Error: )?Task timed out after [0-9.]+ seconds"),
    ("prefix", r"^(?:\[[A-Za-z]+\]\s|" + ISO + r"\s+" + UUID + r"(?:\s|$))"),
    ("alb", r"^(?:http|https|h2|grpcs|ws|wss) \d{4}-\d\d-\d\dT"),
    ("vpc", r"^\d+ (?:\d{12}|unknown|-) (?:eni-[0-9a-f]+|-) "),
    ("clf", r"^\S+ \S+ \S+ \[[^\]]+\] \""),
    ("csv", r"^[0-9a-fA-F.:]+,"),
    ("apigw_exec", r"^(?:\(" + UUID + r"\) |[A-Z][a-z]{2} [A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d UTC \d{4} : )"),
    ("traceback", r"(?s)(?:Traceback \(most recent call last\):|\n\s+at [\w$.<>/\\-]+[(:]|\n\s+at \S+ \()"),
]


def _x(arr: pa.Array, pattern: str) -> pa.StructArray:
    return pc.extract_regex(arr, pattern)


def _f(struct: pa.StructArray, name: str) -> pa.Array:
    """A field of an ``extract_regex`` result, null where the regex did not match."""
    child = pc.struct_field(struct, name)
    child = pc.if_else(struct.is_valid(), child, pa.scalar(None, child.type))
    return as_str(child, len(child))


# --------------------------------------------------------------------------- error text

_ERR_HINT = r"Error|Exception|Exceeded|Fault|Failure|Timeout|Throttled|Denied|error occurred|api error|error_class="
_GENERIC_CLASSES = {"ClientError", "botocore.exceptions.ClientError", "Error", "Exception", "RuntimeError"}
_EXC = r"(?:[A-Za-z_][\w$]*\.)*[A-Z][\w$]*(?:Error|Exception|Exceeded|Fault|Failure|Timeout|Throttled|Denied)[\w$]*"


def error_fields_from_text(texts: pa.Array) -> tuple[pa.Array, pa.Array, pa.Array]:
    """``(error_type, operation, error_message)`` from error texts.

    ``error_type`` is the exception class as written (``sqlalchemy.exc.TimeoutError``,
    ``botocore.errorfactory.ThrottlingException``); when the class is only a generic
    wrapper (``ClientError``) or absent, the AWS error code the text carries
    (``An error occurred (ThrottlingException) when calling the X operation``, Go
    ``api error ThrottlingException:``, Ruby ``error_class=...``). ``operation`` is the
    AWS API operation when the text names one.
    """
    n = len(texts)
    texts = as_str(texts, n)
    cand = mask_np(pc.match_substring_regex(texts, _ERR_HINT))
    if not cand.all():  # only texts that can hold an exception class or an AWS error code
        out = [nulls(n, STR), nulls(n, STR), nulls(n, STR)]
        if cand.any():
            rows = np.flatnonzero(cand)
            got = error_fields_from_text(texts.take(pa.array(rows)))
            spread = np.full(n, -1, dtype=np.int64)
            spread[rows] = np.arange(len(rows))
            take = pa.array(spread, mask=spread < 0)
            out = [g.take(take) for g in got]
        return out[0], out[1], out[2]
    boto = _x(texts, r"An error occurred \((?P<code>[^)\s]+)\) when calling the (?P<op>\w+) operation(?: \(reached max retries: \d+\))?: (?P<msg>[^\n]*)")
    gov2 = _x(texts, r"operation error [^:,]+: (?P<op>\w+),.*?api error (?P<code>\w+): (?P<msg>[^\n]*)")
    ruby = _x(texts, r"error_class=(?P<cls>[\w:]+)(?: error=\"(?P<msg>[^\"]*)\")?")
    lead = _x(texts, r"^(?:\S+ ){0,3}?(?:\[\w+\] )?(?:Caused by: |Error: |Exception: |\w+: )?(?P<cls>" + _EXC + r")(?::[ \t]*(?P<msg>[^\n]*)|[ \t]*$|[ \t]*\n)")
    anyq = _x(texts, r"(?:^|[\s(\[])(?P<cls>(?:[a-z_][\w$]*\.)+[A-Z][\w$]*(?:Error|Exception))(?::[ \t]*(?P<msg>[^\n]*))?")
    code = pc.coalesce(_f(boto, "code"), _f(gov2, "code"))
    cls = pc.coalesce(_f(lead, "cls"), _f(ruby, "cls"), _f(anyq, "cls"))
    generic = pc.is_in(cls, value_set=pa.array(sorted(_GENERIC_CLASSES), type=STR)).fill_null(False)
    etype = pc.if_else(pc.and_(generic, code.is_valid()), code, pc.coalesce(cls, code))
    op = pc.coalesce(_f(boto, "op"), _f(gov2, "op"))
    msg = pc.coalesce(_f(boto, "msg"), _f(gov2, "msg"), _f(ruby, "msg"), _f(lead, "msg"), _f(anyq, "msg"))
    return etype.cast(STR), op.cast(STR), msg.cast(STR)


_OOM_RE = r"(?i)(?:Runtime\.OutOfMemory|signal: killed|JavaScript heap out of memory|java\.lang\.OutOfMemoryError|MemoryError\b)"


# --------------------------------------------------------------------------- Lambda platform

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
    part.set("format", scalar_str("lambda_platform", n))
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
        _mark_errors(part, reason.is_valid(), reason)
    else:
        part.set("parse_error", pa.array(np.zeros(n, dtype=bool)))
    return part


def _mark_errors(part: Part, bad: pa.Array, reason: pa.Array) -> None:
    """Set parse_error/parse_error_reason; null the typed fields of bad rows."""
    bad_np = mask_np(bad)
    part.set("parse_error", pa.array(bad_np))
    if bad_np.any():
        part.set("parse_error_reason", pc.if_else(pa.array(bad_np), reason, pa.scalar(None, STR)))
        keep = pa.array(~bad_np)
        for name, col in list(part.cols.items()):
            if name in ("format", "record_type", "parse_error", "parse_error_reason", "_time_str", "_time_num", "_log_stream"):
                continue
            part.cols[name] = pc.if_else(keep, col, pa.scalar(None, col.type))


def lambda_platform(arr: pa.Array, idx: np.ndarray) -> list[Part]:
    """Lambda platform text lines (START, END, REPORT, INIT_*, RESTORE_*, XRAY, EXTENSION,
    TELEMETRY, ``RequestId: ... Error: Runtime exited ...``)."""
    parts: list[Part] = []
    done = np.zeros(len(arr), dtype=bool)

    def starts(prefix: str) -> np.ndarray:
        return mask_np(pc.starts_with(arr, prefix))

    def subset(mask: np.ndarray) -> tuple[pa.Array, np.ndarray]:
        sel = np.flatnonzero(mask & ~done)
        done[sel] = True
        return arr.take(pa.array(sel)), idx[sel]

    report = starts("REPORT ")
    if report.any():
        parts.append(_report(*subset(report)))
    for kind, pattern in (
        ("START", r"^START RequestId: (?P<rid>[^\s]+)(?:\s+Version: (?P<ver>[^\s]+))?"),
        ("END", r"^END RequestId: (?P<rid>[^\s]+)"),
    ):
        m = starts(kind + " ")
        if m.any():
            sub, sidx = subset(m)
            ex = _x(sub, pattern)
            p = Part(sidx)
            p.set("format", scalar_str("lambda_platform", len(sub)))
            p.set("record_type", scalar_str(kind.lower(), len(sub)))
            p.set("request_id", _f(ex, "rid"))
            _mark_errors(p, pc.invert(ex.is_valid()), scalar_str(f"{kind} line without RequestId", len(sub)))
            parts.append(p)
    xray = starts("XRAY ")
    if xray.any():
        sub, sidx = subset(xray)
        p = Part(sidx)
        p.set("format", scalar_str("lambda_platform", len(sub)))
        p.set("record_type", scalar_str("xray", len(sub)))
        p.set("xray_trace_id", _f(_x(sub, r"TraceId: (?P<v>[^\s]+)"), "v"))
        parts.append(p)
    exit_ = starts("RequestId: ")
    if exit_.any():
        sub, sidx = subset(exit_)
        ex = _x(sub, r"(?s)^RequestId: (?P<rid>[^\s]+) Error: (?P<msg>[^\n]*)")
        etype = _f(_x(sub, r"(?P<t>Runtime\.[A-Za-z]+)"), "t")
        oom = pc.match_substring_regex(sub, _OOM_RE)
        timeout = pc.match_substring(sub, "Task timed out after")
        p = Part(sidx)
        p.set("format", scalar_str("lambda_platform", len(sub)))
        n_sub = len(sub)
        p.set("record_type", pc.if_else(timeout, scalar_str("timeout", n_sub), pc.if_else(oom, scalar_str("oom", n_sub), scalar_str("runtime_exit", n_sub))))
        p.set("request_id", _f(ex, "rid"))
        p.set("level", scalar_str("ERROR", len(sub)))
        p.set("error_message", _f(ex, "msg"))
        p.set(
            "error_type",
            pc.if_else(timeout, pa.scalar("Task timed out", STR), pc.coalesce(etype, pc.if_else(oom, pa.scalar("Runtime.OutOfMemory", STR), pa.scalar("Runtime.ExitError", STR)))),
        )
        p.set("timed_out", timeout)
        parts.append(p)
    rest = ~done
    if rest.any():  # INIT_*, RESTORE_*, EXTENSION, TELEMETRY, LOGS
        sub, sidx = subset(rest)
        n = len(sub)
        w = pc.utf8_lower(pc.fill_null(_f(_x(sub, r"^(?P<w>[A-Z_]+)"), "w"), "platform"))
        init = _f(_x(sub, r"(?:Init|Restore) Duration: (?P<v>[^\s]+) ms"), "v")
        status = pc.utf8_lower(_f(_x(sub, r"Status: (?P<v>[^\s]+)"), "v"))
        etype = _f(_x(sub, r"Error Type: (?P<v>[^\s]+)"), "v")
        v, bad = num_or_bad(init)
        p = Part(sidx)
        p.set("format", scalar_str("lambda_platform", n))
        p.set("record_type", w)
        p.set("init_duration_ms", v)
        is_timeout = pc.equal(status, "timeout").fill_null(False)
        p.set("timed_out", pc.if_else(status.is_valid(), is_timeout, pa.scalar(None, BOOL)))
        p.set("error_type", pc.coalesce(etype, pc.if_else(is_timeout, pa.scalar("Task timed out", STR), pa.scalar(None, STR))))
        _mark_errors(p, bad, scalar_str("platform field 'Init Duration' is not a number", n))
        parts.append(p)
    return parts


def timeout_lines(arr: pa.Array, idx: np.ndarray) -> list[Part]:
    """``Task timed out after N seconds`` (bare, ``Error:`` or ``<time> <request id>`` prefixed)."""
    n = len(arr)
    ex = _x(arr, r"^(?:(?P<ts>" + ISO + r")\s+(?P<rid>[^\s]+)\s+)?(?:Error: )?(?P<msg>Task timed out after (?P<s>[0-9.]+) seconds)")
    p = Part(idx)
    p.set("format", scalar_str("lambda_platform", n))
    p.set("record_type", scalar_str("timeout", n))
    p.set("request_id", _f(ex, "rid"))
    p.set("level", scalar_str("ERROR", n))
    p.set("timed_out", pa.array(np.ones(n, dtype=bool)))
    p.set("error_type", scalar_str("Task timed out", n))
    p.set("error_message", _f(ex, "msg"))
    p.set("_time_str", _f(ex, "ts"))
    return [p]


# --------------------------------------------------------------------------- runtime prefixes

_PREFIX_PY = r"(?s)^\[(?P<lvl>[A-Za-z]+)\]\s+(?:(?P<ts>" + ISO + r")\s+(?P<rid>" + UUID + r")\s+)?(?P<rest>.*)$"
_PREFIX_TS = r"(?s)^(?P<ts>" + ISO + r")\s+(?P<rid>" + UUID + r")(?:\s+(?P<lvl>TRACE|DEBUG|INFO|WARN|WARNING|ERROR|FATAL|CRITICAL)\b)?\s*(?P<rest>.*)$"


def runtime_prefixed(arr: pa.Array, idx: np.ndarray, dispatch: Callable[[pa.Array, np.ndarray], list[Part]]) -> list[Part]:
    """Lines with a Lambda runtime prefix. The remainder is parsed again with ``dispatch``
    (it may be JSON, a traceback, a timeout, or text); the prefix fills request id, level
    and time where the remainder has none. A plain remainder has format ``lambda_app``."""
    n = len(arr)
    py = _x(arr, _PREFIX_PY)
    ts = _x(arr, _PREFIX_TS)
    is_py = py.is_valid()

    def pick(name: str) -> pa.Array:
        return pc.if_else(is_py, _f(py, name), _f(ts, name))

    rest = pc.if_else(is_py, pc.struct_field(py, "rest"), pc.struct_field(ts, "rest")).cast(STR)
    rest = pc.fill_null(rest, "")
    rid, lvl, tstr = pick("rid"), normalize_level(pick("lvl"), n), pick("ts")
    parts = dispatch(rest, np.arange(n))
    out: list[Part] = []
    for p in parts:
        local = p.idx
        p.idx = idx[local]
        sel = pa.array(local)
        fmt = p.cols.get("format")
        p.fill("request_id", rid.take(sel))
        plvl = lvl.take(sel)
        if fmt is not None and "level" in p.cols:  # a text remainder: the runtime's level wins
            is_text = pc.equal(fmt, "text").fill_null(False)
            p.cols["level"] = pc.if_else(pc.and_(is_text, plvl.is_valid()), plvl, p.cols["level"])
        p.fill("level", plvl)
        p.fill("_time_str", tstr.take(sel))
        if fmt is not None:  # plain text after a runtime prefix is an app line
            p.cols["format"] = pc.if_else(pc.equal(fmt, "text").fill_null(False), pa.scalar("lambda_app", STR), fmt)
            rt = p.cols.get("record_type", nulls(len(p), STR))
            p.cols["record_type"] = pc.if_else(pc.equal(fmt, "text").fill_null(False), pc.coalesce(rt, pa.scalar("log", STR)), rt)
            _error_text_for_errors(p, rest.take(sel))
        out.append(p)
    return out


def _error_text_for_errors(p: Part, texts: pa.Array) -> None:
    """ERROR/FATAL text lines without an error message get their first line as one."""
    lvl = p.cols.get("level")
    fmt = p.cols.get("format")
    if lvl is None or fmt is None:
        return
    textual = pc.is_in(fmt, value_set=pa.array(["text", "lambda_app"], type=STR))
    errorish = pc.and_(pc.is_in(lvl, value_set=pa.array(["ERROR", "FATAL"], type=STR)), textual).fill_null(False)
    if not pc.any(errorish).as_py():
        return
    first = _f(_x(texts, r"^(?P<l>[^\n]*)"), "l")
    p.fill("error_message", pc.if_else(errorish, first, pa.scalar(None, STR)))


def split_sam(arr: pa.Array) -> tuple[pa.Array, pa.Array, pa.Array]:
    """``sam logs`` lines: ``(log stream, time, message)``."""
    ex = _x(arr, r"(?s)^(?P<stream>\d{4}/\d\d/\d\d/\[[^\]]*\][^\s]*) (?P<ts>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?) (?P<rest>.*)$")
    rest = pc.fill_null(pc.struct_field(ex, "rest").cast(STR), "")
    return _f(ex, "stream"), _f(ex, "ts"), rest


# --------------------------------------------------------------------------- access logs

_Q = r'"(?P<{}>(?:[^"\\]|\\.)*)"'
_ALB = (
    r"^(?P<type>[^\s]+) (?P<time>[^\s]+) (?P<elb>[^\s]+) (?P<client>[^\s]+) (?P<target>[^\s]+) "
    r"(?P<rpt>[^\s]+) (?P<tpt>[^\s]+) (?P<respt>[^\s]+) (?P<elb_status>[^\s]+) (?P<target_status>[^\s]+) "
    r"(?P<rbytes>[^\s]+) (?P<sbytes>[^\s]+) " + _Q.format("request") + " " + _Q.format("ua") + r" (?P<cipher>[^\s]+) (?P<proto>[^\s]+) "
    r"(?P<tg>[^\s]+) " + _Q.format("trace") + r"(?: " + _Q.format("domain") + " " + _Q.format("cert") + r")?(?: (?P<prio>[^\s]+))?"
    r"(?: (?P<ctime>[^\s]+))?(?: " + _Q.format("actions") + r")?(?: " + _Q.format("redirect") + r")?(?: " + _Q.format("reason") + r")?"
)


def alb(arr: pa.Array, idx: np.ndarray) -> list[Part]:
    """ALB access log entries (the documented space-separated format; trailing fields
    beyond the 29 documented are ignored, as AWS asks). ``latency_ms`` is the sum of the
    three processing times in ms, NaN when any is ``-1`` (request not dispatched)."""
    n = len(arr)
    ex = _x(arr, _ALB)
    ok = ex.is_valid()
    times = [as_float(_f(ex, k), n) for k in ("rpt", "tpt", "respt")]
    total = pc.multiply(pc.add(pc.add(times[0], times[1]), times[2]), 1000.0)
    dispatched = pc.and_(pc.and_(pc.greater_equal(times[0], 0), pc.greater_equal(times[1], 0)), pc.greater_equal(times[2], 0))
    req = _x(_f(ex, "request"), r"^(?P<m>[^\s]+) (?P<url>[^\s]+)(?: (?P<proto>[^\s]+))?$")
    route = pc.replace_substring_regex(_f(req, "url"), r"^[a-zA-Z][a-zA-Z0-9+.-]*://[^/?#]*", "")
    route = pc.replace_substring_regex(route, r"[?#].*$", "")
    route = pc.if_else(pc.equal(route, ""), pa.scalar("/", STR), route)
    client = _x(_f(ex, "client"), r"^\[?(?P<ip>.*?)\]?:(?P<port>\d+)$")
    status, bad_status = num_or_bad(_f(ex, "elb_status"))
    p = Part(idx)
    p.set("format", scalar_str("alb_access", n))
    p.set("record_type", scalar_str("access", n))
    p.set("status", as_status(status, n))
    p.set("latency_ms", pc.if_else(dispatched, total, pa.scalar(None, F64)))
    p.set("user_agent", _f(ex, "ua"))
    p.set("method", _f(req, "m"))
    p.set("route", route)
    p.set("client_ip", pc.coalesce(_f(client, "ip"), _f(ex, "client")))
    p.set("xray_trace_id", trace_root(_f(ex, "trace")))
    p.set("error_type", _f(ex, "reason"))
    p.set("service", _f(ex, "elb"))
    p.set("_time_str", _f(ex, "time"))
    bad = pc.or_(pc.invert(ok), bad_status)
    times_bad = pc.or_(pc.or_(num_or_bad(_f(ex, "rpt"))[1], num_or_bad(_f(ex, "tpt"))[1]), num_or_bad(_f(ex, "respt"))[1])
    reason = pc.if_else(ok, pa.scalar("ALB entry with a non-numeric status or processing time", STR), pa.scalar("ALB entry with missing or malformed fields", STR))
    _mark_errors(p, pc.or_(bad, pc.and_(ok, times_bad)), reason)
    return [p]


def vpc_flow(arr: pa.Array, idx: np.ndarray) -> list[Part]:
    """VPC flow log records in the default (version 2) format. ``record_type`` is the
    action (``accept``/``reject``) or the log status (``nodata``/``skipdata``)."""
    n = len(arr)
    ex = _x(
        arr,
        r"^(?P<ver>\d+) (?P<acct>[^\s]+) (?P<eni>[^\s]+) (?P<src>[^\s]+) (?P<dst>[^\s]+) (?P<sport>[^\s]+) (?P<dport>[^\s]+) "
        r"(?P<proto>[^\s]+) (?P<pkts>[^\s]+) (?P<bytes>[^\s]+) (?P<start>\d+) (?P<end>\d+) (?P<action>[^\s]+) (?P<status>[^\s]+)\s*$",
    )
    p = Part(idx)
    p.set("format", scalar_str("vpc_flow", n))
    action = _f(ex, "action")
    p.set("record_type", pc.utf8_lower(pc.coalesce(action, _f(ex, "status"))))
    p.set("client_ip", _f(ex, "src"))
    p.set("_time_num", pc.multiply(as_float(_f(ex, "start"), n), 1000.0))
    _mark_errors(p, pc.invert(ex.is_valid()), scalar_str("VPC flow record with missing fields", n))
    return [p]


def _access_common(p: Part, ex: pa.StructArray, n: int) -> None:
    route = _f(ex, "route")
    method = _f(ex, "method")
    rk = _x(route, r"^(?P<m>[A-Z]+) (?P<r>/.*)$")  # HTTP API routeKey "GET /pets"
    route = pc.coalesce(_f(rk, "r"), route)
    route = pc.replace_substring_regex(route, r"[?#].*$", "")
    status, _ = num_or_bad(_f(ex, "status"))  # the templates only allow 3 digits or "-"
    p.set("record_type", scalar_str("access", n))
    p.set("status", as_status(status, n))
    p.set("method", method)
    p.set("route", route)
    p.set("client_ip", _f(ex, "ip"))
    p.set("_time_str", _f(ex, "time"))


def clf(arr: pa.Array, idx: np.ndarray) -> list[Part]:
    """Common Log Format access lines: API Gateway's CLF templates (REST: ``... status
    length requestId extendedRequestId``; HTTP: ``... status length requestId``) as
    ``apigw_access``; the same shape without a request id (with an optional combined
    ``"referer" "user agent"`` tail) as ``clf_access``."""
    n = len(arr)
    ex = _x(
        arr,
        r'^(?P<ip>[^\s]+) (?P<caller>[^\s]+) (?P<user>[^\s]+) \[(?P<time>[^\]]+)\] "(?P<method>[^\s"]+) (?P<route>[^"]*?)(?: (?P<proto>[A-Z]+/[0-9.]+))?" '
        r'(?P<status>\d{3}|-) (?P<len>[^\s]+)(?: (?P<rid>[^\s"]+))?(?: (?P<xrid>[^\s"]+))?(?: "(?P<ref>[^"]*)" "(?P<ua>[^"]*)")?\s*$',
    )
    p = Part(idx)
    rid = _f(ex, "rid")
    p.set("format", pc.if_else(rid.is_valid(), pa.scalar("apigw_access", STR), pa.scalar("clf_access", STR)))
    _access_common(p, ex, n)
    p.set("request_id", rid)
    p.set("user_agent", _f(ex, "ua"))
    _mark_errors(p, pc.invert(ex.is_valid()), scalar_str("access log line with missing fields", n))
    return [p]


_CSV_REST = r"^(?P<ip>[^,]*),(?P<caller>[^,]*),(?P<user>[^,]*),(?P<time>[^,]*),(?P<method>[A-Z]+),(?P<route>[^,]*),(?P<proto>[^,]*),(?P<status>\d{3}|-),(?P<len>[^,]*),(?P<rid>[^,]*),(?P<xrid>[^,]*)$"
_CSV_HTTP = r"^(?P<ip>[^,]*),(?P<time>[^,]*),(?P<method>[A-Z]+),(?P<route>[^,]*),(?P<proto>[^,]*),(?P<status>\d{3}|-),(?P<len>[^,]*),(?P<rid>[^,]*)$"


def apigw_csv(arr: pa.Array, idx: np.ndarray) -> list[Part]:
    """API Gateway access logs in the documented CSV templates (REST: 11 fields, HTTP API:
    8 fields). Other comma-separated lines are plain text."""
    rest, http = _x(arr, _CSV_REST), _x(arr, _CSV_HTTP)
    ok_r, ok_h = mask_np(rest.is_valid()), mask_np(http.is_valid())
    parts: list[Part] = []
    for ok, ex in ((ok_r, rest), (ok_h & ~ok_r, http)):
        if ok.any():
            sel = pa.array(np.flatnonzero(ok))
            sub = ex.take(sel)
            p = Part(idx[ok])
            p.set("format", scalar_str("apigw_access", len(p)))
            _access_common(p, sub, len(p))
            p.set("request_id", _f(sub, "rid"))
            parts.append(p)
    other = ~(ok_r | ok_h)
    if other.any():
        parts += plain_text(arr.take(pa.array(np.flatnonzero(other))), idx[other])
    return parts


def apigw_execution(arr: pa.Array, idx: np.ndarray) -> list[Part]:
    """API Gateway REST execution log lines: ``(<request id>) <message>`` in CloudWatch, or
    ``<date> : <message>`` as the console's Test shows. ``Method completed with status:
    N`` gives the status; ``Execution failed due to a timeout error`` marks a timeout. The
    invocation's own request id (``Lambda request id: <id>``, or ``x-amzn-RequestId=<id>``
    in the endpoint's response headers) is the ``integration_request_id``."""
    n = len(arr)
    ex = _x(arr, r"(?s)^(?:\((?P<rid>" + UUID + r")\) |(?P<date>[A-Z][a-z]{2} [A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d UTC \d{4}) : )(?P<msg>.*)$")
    msg = _f(ex, "msg")
    integration = _f(_x(msg, r"(?:Lambda request id: |[Xx]-[Aa]mzn-[Rr]equest[Ii]d=)(?P<i>" + UUID + ")"), "i")
    status = _f(_x(msg, r"^Method completed with status: (?P<s>\d{3})"), "s")
    timeout = pc.match_substring(msg, "Execution failed due to a timeout error").fill_null(False)
    failed = pc.starts_with(msg, "Execution failed").fill_null(False)
    p = Part(idx)
    p.set("format", scalar_str("apigw_execution", n))
    p.set("record_type", pc.if_else(status.is_valid(), pa.scalar("method_completed", STR), pc.if_else(failed, pa.scalar("execution_failed", STR), pa.scalar("execution", STR))))
    p.set("request_id", _f(ex, "rid"))
    p.set("integration_request_id", integration)
    p.set("status", as_status(status, n))
    p.set("timed_out", pc.if_else(timeout, True, pa.scalar(None, BOOL)))
    p.set("error_message", pc.if_else(failed, msg, pa.scalar(None, STR)))
    p.set("level", pc.if_else(failed, pa.scalar("ERROR", STR), pa.scalar(None, STR)))
    p.set("_time_str", _f(ex, "date"))
    return [p]


# --------------------------------------------------------------------------- tracebacks, text

_PY_EXC_LINE = re.compile(r"^([A-Za-z_][\w.]*)(?::\s?(.*))?$")
_JAVA_CAUSE = re.compile(r"^Caused by: ([\w$.]+(?:Exception|Error|Throwable)[\w$]*)(?::\s?(.*))?$", re.MULTILINE)
_JAVA_HEAD = re.compile(r"^(?:Exception in thread \"[^\"]*\" )?([\w$.]+(?:Exception|Error|Throwable)[\w$]*)(?::\s?(.*))?$")
_NODE_HEAD = re.compile(r"^(?:Uncaught )?([A-Z][\w$.]*(?:Error|Exception)?)(?:\s*\[[^\]]*\])?:\s?(.*)$")


def _one_traceback(text: str) -> tuple[str | None, str | None, str]:
    """``(error_type, error_message, language)`` of one multi-line exception text."""
    lines = [ln.rstrip() for ln in text.replace("\r\n", "\n").split("\n")]
    if any(ln.startswith("Traceback (most recent call last):") for ln in lines):
        # Python: the exception is the last non-indented line after the last Traceback
        # header that looks like ``module.Class: message``; Lambda puts the traceback
        # after an ``[ERROR] Class: message`` line, so fall back to the first line.
        last_tb = max(i for i, ln in enumerate(lines) if ln.startswith("Traceback (most recent call last):"))
        for ln in reversed(lines[last_tb + 1 :]):
            if ln and not ln[0].isspace():
                m = _PY_EXC_LINE.match(ln)
                if m:
                    return m.group(1), (m.group(2) or None), "python"
        first = _PY_EXC_LINE.match(lines[0].split("]", 1)[-1].strip()) if lines else None
        if first:
            return first.group(1), (first.group(2) or None), "python"
        return None, None, "python"
    causes = _JAVA_CAUSE.findall(text)
    if causes:  # Java: the root cause is the deepest "Caused by:"
        return causes[-1][0], (causes[-1][1] or None), "java"
    for ln in lines:
        s = ln.strip()
        if not s:
            continue
        m = _JAVA_HEAD.match(s)
        if m and "." in m.group(1):
            return m.group(1), (m.group(2) or None), "java"
        m = _NODE_HEAD.match(s)
        if m:
            return m.group(1), (m.group(2) or None), "node"
        break
    return None, None, "unknown"


def traceback(arr: pa.Array, idx: np.ndarray) -> list[Part]:
    """Multi-line exceptions (Python tracebacks, Java stack traces with ``Caused by:``,
    Node ``Error: ...\\n    at ...``), one event each. Read in Python, one per line."""
    texts = arr.to_pylist()
    types, msgs, langs = [], [], []
    for t in texts:
        et, em, lang = _one_traceback(t or "")
        types.append(et)
        msgs.append(em)
        langs.append(lang)
    n = len(texts)
    p = Part(idx)
    p.set("format", scalar_str("traceback", n))
    p.set("record_type", pa.array(langs, type=STR))
    p.set("level", scalar_str("ERROR", n))
    etype = pa.array(types, type=STR)
    emsg = pa.array(msgs, type=STR)
    # botocore errors inside: the operation, and the AWS code for a generic ClientError
    _, op, _ = error_fields_from_text(emsg)
    code = _f(_x(emsg, r"An error occurred \((?P<c>[^)\s]+)\)"), "c")
    generic = pc.is_in(etype, value_set=pa.array(sorted(_GENERIC_CLASSES), type=STR)).fill_null(False)
    p.set("error_type", pc.if_else(pc.and_(generic, code.is_valid()), code, etype))
    p.set("error_message", emsg)
    p.set("operation", op)
    return [p]


_LEVEL_WORDS = "TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|ERR|FATAL|CRITICAL|SEVERE"
# a level word among the first four tokens: bracketed (any case), upper-case, or followed
# by a colon ("error: ..."); prose such as "An error occurred" is not a level
_TEXT_LEVEL = (
    r"^(?:[^\s]+\s+){0,3}?(?:\[(?P<a>(?i:" + _LEVEL_WORDS + r"))\]|(?P<b>" + _LEVEL_WORDS + r")(?:[\s:]|$)|(?P<c>(?i:" + _LEVEL_WORDS + r")):)"
)


def plain_text(arr: pa.Array, idx: np.ndarray, *, fmt: str = "text") -> list[Part]:
    """Text in no known format (``format="text"``, not a parse error). A level word near
    the start, OOM markers and error texts (exception classes, AWS SDK errors) are read."""
    n = len(arr)
    p = Part(idx)
    p.set("format", scalar_str(fmt, n))
    if n == 0:
        return [p]
    lx = _x(arr, _TEXT_LEVEL)
    lvl = normalize_level(pc.coalesce(_f(lx, "a"), _f(lx, "b"), _f(lx, "c")), n)
    errorish = mask_np(pc.match_substring_regex(arr, r"(?i)error|exception|fault|throttl|exceeded|denied|out of memory|signal: killed"))
    oom = mask_np(pc.match_substring_regex(arr, _OOM_RE))
    if errorish.any():
        sel = np.flatnonzero(errorish)
        et, op, em = error_fields_from_text(arr.take(pa.array(sel)))
        back = np.full(n, -1, dtype=np.int64)
        back[sel] = np.arange(len(sel))
        bidx = pa.array(back, mask=back < 0)
        et, op, em = et.take(bidx), op.take(bidx), em.take(bidx)
        et = pc.if_else(pa.array(oom), pc.coalesce(et, pa.scalar("Runtime.OutOfMemory", STR)), et)
        has = pc.or_(et.is_valid(), op.is_valid())
        first_line = _f(_x(arr, r"^(?P<l>[^\n]*)"), "l")
        p.set("error_type", et)
        p.set("operation", op)
        p.set("error_message", pc.if_else(has, pc.coalesce(em, first_line), pa.scalar(None, STR)))
        lvl = pc.if_else(pc.and_(pa.array(oom), pc.invert(lvl.is_valid())), pa.scalar("FATAL", STR), lvl)
    p.set("record_type", pc.if_else(pa.array(oom), pa.scalar("oom", STR), pa.scalar(None, STR)))
    p.set("level", lvl)
    _error_text_for_errors(p, arr)
    return [p]
