"""Lambda platform events in the JSON log format (``LoggingConfig.LogFormat = JSON``, and the
Telemetry API): ``{"time": ..., "type": "platform.report", "record": {...}}``.

Source: *AWS Lambda Developer Guide*, "Telemetry API ``Event`` schema reference" (the same
objects the function's log group receives in the JSON log format). ``record_type`` is the
event type in snake case (``report``, ``init_start``, ``runtime_done`` ...). A ``report``
gives duration, billed duration, memory, init (or restore) duration, ``latency_ms`` =
duration + init (what the caller waited) and ``cold_start``; ``runtimeDone`` the duration
and status; ``initReport`` the init duration. ``status: timeout`` sets ``timed_out`` and,
without an ``errorType``, the error type ``Task timed out``.

Example
-------
>>> from incidentkit import parse
>>> df = parse.parse(['{"time": "2024-01-01T00:00:00.000Z", "type": "platform.report", "record": {"requestId": "r1",'
...                   ' "status": "timeout", "metrics": {"durationMs": 3000.0, "billedDurationMs": 3000,'
...                   ' "memorySizeMB": 128, "maxMemoryUsedMB": 60}}}'])
>>> print(df.at[0, "record_type"], df.at[0, "request_id"], df.at[0, "timed_out"], df.at[0, "error_type"])
report r1 True Task timed out
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..arrow import BOOL, F64, STR, as_float, as_str, nulls
from ._keys import Field, JsonRows, Keys, leaf_str

__all__ = ["FIELDS", "NAME", "PATHS", "RECOGNISE", "ROLE", "parse"]

NAME = "lambda_platform_json"
ROLE = "invocation"
RECOGNISE = Keys(prefix=("type", "platform."))

#: The record fields read, with when they appeared (Telemetry API schema versions).
FIELDS: tuple[Field, ...] = (
    ("time", "2020-11 (Logs API platform events)"),
    ("type", "2020-11 (Logs API)"),
    ("record.requestId", "2020-11 (Logs API)"),
    ("record.status", "2020-11 (Logs API)"),
    ("record.errorType", "2020-11 (Logs API)"),
    ("record.metrics.durationMs", "2020-11 (Logs API)"),
    ("record.metrics.billedDurationMs", "2020-11 (Logs API)"),
    ("record.metrics.memorySizeMB", "2020-11 (Logs API)"),
    ("record.metrics.maxMemoryUsedMB", "2020-11 (Logs API)"),
    ("record.metrics.initDurationMs", "2020-11 (Logs API)"),
    ("record.metrics.restoreDurationMs", "2022-11 (SnapStart)"),
    ("record.tracing.value", "2022-12 (Telemetry API schema 2022-12-13)"),
    ("record.functionName", "2023-11 (JSON log format in CloudWatch)"),
)
PATHS = [
    "type",
    "record.requestId",
    "record.status",
    "record.errorType",
    "record.metrics.durationMs",
    "record.metrics.billedDurationMs",
    "record.metrics.memorySizeMB",
    "record.metrics.maxMemoryUsedMB",
    "record.metrics.initDurationMs",
    "record.metrics.restoreDurationMs",
    "record.tracing.value",
    "record.functionName",
]
#: Fields a platform record never carries, whatever app-like keys the aliases found.
_NOT_PLATFORM = ("status", "app_version", "route", "method", "client_ip", "level", "error_message")


def _setter(out: dict[str, pa.Array], n: int) -> Callable[[str, pa.Array, pa.Array, pa.DataType], None]:
    def put(name: str, value: pa.Array, mask: pa.Array, typ: pa.DataType) -> None:
        out[name] = pc.if_else(mask, value, out.get(name, nulls(n, typ)))

    return put


def parse(rows: JsonRows, out: dict[str, pa.Array], mine: np.ndarray, need_time: np.ndarray) -> pa.Array:
    """Platform records: their ``record`` fields override what the aliases found."""
    n = rows.n
    pm = pa.array(mine)
    t = leaf_str(rows, "type")
    snake = pc.utf8_lower(pc.replace_substring_regex(pc.utf8_slice_codeunits(t, 9), r"([a-z0-9])([A-Z])", r"\1_\2"))
    dur = as_float(rows.leaf("record.metrics.durationMs"), n)
    init = as_float(rows.leaf("record.metrics.initDurationMs"), n)
    is_report = pc.and_(pm, pc.equal(t, "platform.report")).fill_null(False)
    is_init_report = pc.and_(pm, pc.equal(t, "platform.initReport")).fill_null(False)
    is_runtime_done = pc.and_(pm, pc.equal(t, "platform.runtimeDone")).fill_null(False)
    status_txt = leaf_str(rows, "record.status")
    has_dur = pc.or_(is_report, is_runtime_done)
    put = _setter(out, n)

    def present(path: str) -> pa.Array:
        a = rows.leaf(path)
        return pc.and_(pm, a.is_valid()) if a is not None else pa.array(np.zeros(n, dtype=bool))

    put("request_id", leaf_str(rows, "record.requestId"), pm, STR)
    put("duration_ms", dur, has_dur, F64)
    put("billed_duration_ms", as_float(rows.leaf("record.metrics.billedDurationMs"), n), is_report, F64)
    put("memory_size_mb", as_float(rows.leaf("record.metrics.memorySizeMB"), n), is_report, F64)
    put("max_memory_used_mb", as_float(rows.leaf("record.metrics.maxMemoryUsedMB"), n), is_report, F64)
    put("init_duration_ms", pc.if_else(is_init_report, dur, init), pc.or_(is_report, is_init_report), F64)
    put("latency_ms", pc.add(dur, pc.coalesce(init, 0.0)), is_report, F64)
    put("cold_start", init.is_valid(), is_report, BOOL)
    put("timed_out", pc.equal(status_txt, "timeout").fill_null(False), pc.or_(is_report, is_runtime_done), BOOL)
    put("xray_trace_id", as_str(rows.leaf("record.tracing.value"), n), present("record.tracing.value"), STR)
    put("function_name", as_str(rows.leaf("record.functionName"), n), present("record.functionName"), STR)
    ptype = leaf_str(rows, "record.errorType")
    timeout_type = pc.if_else(pc.equal(status_txt, "timeout").fill_null(False), pa.scalar("Task timed out", STR), pa.scalar(None, STR))
    put("error_type", pc.coalesce(ptype, timeout_type), pm, STR)
    for name in _NOT_PLATFORM:
        if name in out:
            out[name] = pc.if_else(pm, pa.scalar(None, out[name].type), out[name])
    return snake
