"""JSON log records: Lambda JSON platform events, CloudTrail, EMF, Powertools, API Gateway
access logs and application JSON (private; used by :mod:`incidentkit.parse`).

Engine
------
JSON lines are parsed in chunks with pyarrow's multi-threaded NDJSON reader. A small
sample of each chunk is read with orjson first to learn the JSON type of the *known* keys
(the alias table below) so they can be declared; every other key is inferred by pyarrow
(``unexpected_field_behavior="infer"``), which costs only what is present and means a
known key that the sample missed is still read. Declaring every known key would be
simpler but pyarrow pays for each declared-but-absent field on every row (~1 % each).

A chunk pyarrow refuses (invalid JSON, a key whose type changes between rows, a line
holding a newline) is split in eight and retried; what still fails is read line by line
with orjson (``_python_leaves``), where a line that is not a JSON object becomes a parse
error. Both paths produce the same thing: for each known dotted path an arrow array
("leaves"), and :func:`extract` turns leaves into the output fields. Each JSON line is
parsed once on the arrow path (the sample lines twice).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from ..errors import ParameterError
from ._text import error_fields_from_text
from .arrow import (
    BOOL,
    F64,
    STR,
    as_bool,
    as_float,
    as_status,
    as_str,
    coalesce,
    map_distinct,
    mask_np,
    normalize_level,
    nulls,
    trace_root,
)

__all__ = ["ALIASES", "JSON_FORMATS", "FieldMap", "normalize_field_map", "parse_json", "unit_factor"]

JSON_FORMATS = ("lambda_platform_json", "cloudtrail", "emf", "powertools", "apigw_access", "app_json")

_UNIT = {"ms": 1.0, "s": 1000.0, "us": 1e-3, "ns": 1e-6, "min": 60000.0}


def unit_factor(unit: str) -> float:
    """Multiplier from ``unit`` (ms, s, us, ns, min) to milliseconds."""
    try:
        return _UNIT[unit]
    except KeyError:
        raise ValueError(f"unknown unit {unit!r}; use one of {sorted(_UNIT)}") from None


def _latency_names() -> list[tuple[str, str]]:
    """Latency aliases with their unit, derived from the name: ``*_ms``/``*Ms`` are ms,
    ``*_s``/``*_sec``/``*_seconds``/``*Seconds`` seconds, ``*_us`` µs, ``*_ns`` ns; a name
    without a unit suffix is taken as ms."""
    out: list[tuple[str, str]] = [("responseLatency", "ms")]
    for base in ("latency", "duration", "elapsed", "response_time", "responseTime", "request_time", "took", "time_taken"):
        snake = base if "_" in base or base.islower() else None
        camel = base if snake is None else re.sub(r"_(\w)", lambda m: m.group(1).upper(), base)
        for name in {snake or base, camel}:
            if name is None:
                continue
            out += [(f"{name}_ms", "ms"), (f"{name}Ms", "ms"), (f"{name}_millis", "ms"), (f"{name}Millis", "ms")]
            out += [(name, "ms")]
            out += [(f"{name}_s", "s"), (f"{name}_sec", "s"), (f"{name}_secs", "s"), (f"{name}_seconds", "s")]
            out += [(f"{name}Seconds", "s"), (f"{name}Sec", "s"), (f"{name}_us", "us"), (f"{name}_ns", "ns")]
    out += [
        ("res.responseTime", "ms"),
        ("http.duration_ms", "ms"),
        ("http.response_time_ms", "ms"),
        ("event.duration", "ns"),  # Elastic Common Schema: nanoseconds
        ("integrationLatency", "ms"),
        ("integration.latency", "ms"),
    ]
    seen: set[str] = set()
    uniq = []
    for name, unit in out:
        if name not in seen:
            seen.add(name)
            uniq.append((name, unit))
    return uniq


#: Field -> JSON paths tried in order (dotted paths match nested objects *and* literal
#: dotted keys). ``latency_ms`` entries carry their unit. Format-specific keys (Lambda
#: platform ``record.*``, CloudTrail, EMF) are handled in :func:`extract`.
ALIASES: dict[str, list[Any]] = {
    "request_id": [
        "requestId",
        "function_request_id",
        "awsRequestId",
        "aws_request_id",
        "AWSRequestId",
        "functionRequestId",
        "request_id",
        "requestID",
        "RequestId",
        "req_id",
        "reqId",
        "req.id",
        "x-request-id",
        "x_request_id",
        "http.request.id",  # Elastic Common Schema (Log4j2 EcsLayout, ecs-logging)
        "http.request_id",
        "correlation_id",
        "correlationId",
    ],
    # the id an entry point gave its integration: API Gateway's $context.integration.requestId /
    # $context.awsEndpointRequestId (a Lambda proxy integration's invocation id), under the names
    # access-log formats give them
    "integration_request_id": [
        "integrationRequestId",
        "integration.requestId",
        "integration_request_id",
        "awsEndpointRequestId",
        "aws_endpoint_request_id",
        "lambdaRequestId",
        "lambda_request_id",
        "awsRequestId",
        "aws_request_id",
    ],
    "level": ["level", "severity", "levelname", "log.level", "loglevel", "log_level", "logLevel", "lvl", "levelName", "@l", "@level", "Level"],
    "status": [
        "status",
        "statusCode",
        "status_code",
        "httpStatus",
        "http_status",
        "httpStatusCode",
        "http_status_code",
        "responseStatus",
        "response_status",
        "http.status_code",
        "http.status",
        "http.response.status_code",
        "res.statusCode",
        "res.status",
        "response.status",
        "response.statusCode",
        "response.status_code",
    ],
    "latency_ms": _latency_names(),
    "app_version": [
        "app_version",
        "appVersion",
        "client_version",
        "clientVersion",
        "clientAppVersion",
        "app.version",
        "client.version",
        "x-app-version",
        "x_app_version",
        "service.version",  # Elastic Common Schema
        "version",
    ],
    "user_agent": [
        "userAgent",
        "user_agent",
        "ua",
        "http_user_agent",
        "http.user_agent",
        "user_agent.original",
        "http.request.headers.user-agent",
        "req.headers.user-agent",
        "headers.user-agent",
        "headers.User-Agent",
        "identity.userAgent",
        "requestContext.identity.userAgent",
        "User-Agent",
        "user-agent",
    ],
    "route": [
        "route",
        "resourcePath",
        "routeKey",
        "http.route",
        "resource",
        "path",
        "rawPath",
        "requestPath",
        "request_path",
        "url",
        "uri",
        "request_uri",
        "endpoint",
        "http.path",
        "http.target",
        "http.url",
        "url.path",
        "req.url",
        "request.path",
        "request.url",
    ],
    "method": ["httpMethod", "method", "http_method", "requestMethod", "request_method", "http.method", "http.request.method", "req.method", "request.method", "verb"],
    "client_ip": [
        "ip",
        "sourceIp",
        "source_ip",
        "sourceIP",
        "client_ip",
        "clientIp",
        "clientIP",
        "remote_addr",
        "remoteAddr",
        "remote_ip",
        "remoteIp",
        "http.client_ip",
        "client.ip",
        "client.address",
        "source.ip",
        "req.remoteAddress",
        "identity.sourceIp",
        "requestContext.identity.sourceIp",
    ],
    "function_name": ["function_name", "functionName", "function.name", "faas.name"],
    "service": ["service", "service_name", "serviceName", "service.name"],
    "xray_trace_id": ["xray_trace_id", "xrayTraceId", "AWS-XRAY-TRACE-ID", "X-Amzn-Trace-Id", "traceId", "trace_id", "trace.id"],
    "operation": ["operation", "op", "aws.operation", "db.operation", "rpc.method"],
    "error_type": [
        "errorType",
        "error_type",
        "exception_name",
        "error.type",
        "error.name",
        "error.kind",
        "err.type",
        "err.name",
        "exception.type",
        "exception.class",
        "thrown.name",  # Log4j2 JsonLayout / JsonTemplateLayout
        "exc_type",
        "message.errorType",
        "errorCode",
        "error_code",
        "error.code",
    ],
    "error_message": [
        "errorMessage",
        "error_message",
        "error.message",
        "err.message",
        "exception.message",
        "thrown.message",  # Log4j2 JsonLayout / JsonTemplateLayout
        "message.errorMessage",
        "error",
        "err",
    ],
    "cold_start": ["cold_start", "coldStart", "is_cold_start", "faas.coldstart"],
    "timed_out": [],
    "duration_ms": [],
    "billed_duration_ms": [],
    "init_duration_ms": [],
    "memory_size_mb": [],
    "max_memory_used_mb": [],
    "timestamp": ["timestamp", "time", "@timestamp", "ts", "@t", "datetime", "date", "asctime", "requestTimeEpoch", "requestTime", "eventTime"],
}

#: Keys of the message text (used for error text when no explicit error field exists).
_MESSAGE_KEYS = ["message", "msg", "@m", "@message", "event", "log"]

_PLATFORM_PATHS = [
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
_CLOUDTRAIL_PATHS = ["eventSource", "eventName", "eventType", "errorCode", "errorMessage", "requestID", "sourceIPAddress", "eventVersion"]
_APIGW_MARKERS = [
    "requestTime",
    "requestTimeEpoch",
    "responseLatency",
    "integrationLatency",
    "integration.latency",
    "routeKey",
    "resourcePath",
    "extendedRequestId",
    "responseLength",
    "httpMethod",
]
_POWERTOOLS_MARKERS = ["cold_start", "coldStart", "sampling_rate", "samplingRate", "function_name", "functionName", "xray_trace_id", "function_arn", "functionArn"]
#: Parents whose mere presence matters (EMF's ``_aws`` block).
_PRESENCE = ("_aws",)

#: ``10.0.3.4:51234`` and ``[2001:db8::7]:443``: an address with its port (the port dropped from ``client_ip``).
_IP_PORT = r"^(?:((?:\d{1,3}\.){3}\d{1,3})|\[([0-9A-Fa-f:.]+)\]):\d{1,5}$"

_GENERIC_FIELDS = (
    "request_id",
    "integration_request_id",
    "level",
    "status",
    "latency_ms",
    "app_version",
    "user_agent",
    "route",
    "method",
    "client_ip",
    "function_name",
    "service",
    "xray_trace_id",
    "operation",
    "error_type",
    "error_message",
    "cold_start",
    "timed_out",
    "duration_ms",
    "billed_duration_ms",
    "init_duration_ms",
    "memory_size_mb",
    "max_memory_used_mb",
    "timestamp",
)
_NUMERIC_FIELDS = {"latency_ms", "duration_ms", "billed_duration_ms", "init_duration_ms", "memory_size_mb", "max_memory_used_mb"}


@dataclass(frozen=True)
class FieldMap:
    """A validated ``field_map``: for each output field, ``(path, unit)`` tried first."""

    entries: Mapping[str, tuple[tuple[str, str | None], ...]] = field(default_factory=dict)

    def paths(self) -> list[str]:
        return [p for specs in self.entries.values() for p, _ in specs]


def normalize_field_map(field_map: Mapping[str, Any] | None) -> FieldMap:
    """Check and normalise a user ``field_map``.

    Each value is a dotted path (``"resp.code"``), a ``(path, unit)`` pair for a numeric
    field (``("t", "s")``: the value is in seconds), or a list of those tried in order.
    Keys are output fields (``status``, ``latency_ms``, ``app_version``, ... or
    ``timestamp`` for the record's own time).
    """
    if not field_map:
        return FieldMap({})
    if not isinstance(field_map, Mapping):
        raise ParameterError("field_map must be a mapping {output field: JSON path}", got=type(field_map).__name__)
    out: dict[str, tuple[tuple[str, str | None], ...]] = {}
    for target, spec in field_map.items():
        if target not in _GENERIC_FIELDS:
            raise ParameterError(
                f"field_map key {target!r} is not a field the parser fills; use one of {sorted(_GENERIC_FIELDS)}",
                field=target,
            )
        specs = spec if isinstance(spec, list) else [spec]
        norm: list[tuple[str, str | None]] = []
        for s in specs:
            if isinstance(s, str):
                path, unit = s, None
            elif isinstance(s, tuple) and len(s) == 2 and all(isinstance(x, str) for x in s):
                path, unit = s
            else:
                raise ParameterError(
                    f"field_map[{target!r}] must be a path, a (path, unit) pair or a list of them", got=repr(s)
                )
            if not path or path.startswith(".") or path.endswith("."):
                raise ParameterError(f"field_map[{target!r}]: {path!r} is not a dotted JSON path", field=target)
            if unit is not None:
                if target not in _NUMERIC_FIELDS:
                    raise ParameterError(f"field_map[{target!r}]: a unit only applies to duration fields", unit=unit)
                if unit not in _UNIT:
                    raise ParameterError(f"field_map[{target!r}]: unknown unit {unit!r}; use one of {sorted(_UNIT)}")
            norm.append((path, unit))
        out[target] = tuple(norm)
    return FieldMap(out)


# --------------------------------------------------------------------------- known paths


class _Node:
    """A key of the known-paths tree: ``leaf`` when the path itself is wanted, ``kids``
    for the wanted paths below it."""

    __slots__ = ("kids", "leaf")

    def __init__(self) -> None:
        self.kids: dict[str, _Node] = {}
        self.leaf = False


class _Trie:
    """Known dotted paths as a tree, plus the literal dotted keys (``"http.status_code"``)."""

    def __init__(self, paths: Iterable[str]):
        self.paths = sorted(set(paths))
        self.root = _Node()
        for p in self.paths:
            node = self.root
            for part in p.split("."):
                node = node.kids.setdefault(part, _Node())
            node.leaf = True
            if "." in p:  # the literal key too
                self.root.kids.setdefault(p, _Node()).leaf = True


def _known_paths(fm: FieldMap) -> list[str]:
    paths: list[str] = []
    for specs in ALIASES.values():
        for s in specs:
            paths.append(s[0] if isinstance(s, tuple) else s)
    paths += _MESSAGE_KEYS + _PLATFORM_PATHS + _CLOUDTRAIL_PATHS + _APIGW_MARKERS + _POWERTOOLS_MARKERS
    paths += ["_aws.Timestamp", "exception", "stack", "error.stack"]
    paths += fm.paths()
    return paths


def _jtype(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "num"
    if isinstance(v, str):
        return "str"
    if isinstance(v, dict):
        return "obj"
    return "list"


def _walk(obj: dict, node: _Node, prefix: str, out: dict[str, Any]) -> None:
    """Collect the known leaves of one parsed record: ``out[path] = value``."""
    for k, v in obj.items():
        child = node.kids.get(k)
        if child is None:
            continue
        path = prefix + k
        if child.leaf:
            out[path] = v
        if child.kids and isinstance(v, dict):
            _walk(v, child, path + ".", out)


def _sample_schema(rows: Sequence[str], trie: _Trie) -> pa.Schema | None:
    """Arrow types of the known keys seen in ``rows``; ``None`` when a key changes type."""
    seen: dict[str, set[str]] = {}
    for text in rows:
        try:
            obj = orjson.loads(text)
        except orjson.JSONDecodeError:
            continue
        if not isinstance(obj, dict):
            continue
        _collect_types(obj, trie.root, "", seen)
    types: dict[str, str] = {}
    for path, ts in seen.items():
        ts = ts - {"null"}
        if len(ts) > 1 or "list" in ts:
            return None
        if ts:
            types[path] = ts.pop()
    return _schema_from_types(types, trie.root)


def _collect_types(obj: dict, node: _Node, prefix: str, seen: dict[str, set[str]]) -> None:
    for k, v in obj.items():
        child = node.kids.get(k)
        if child is None:
            continue
        path = prefix + k
        t = _jtype(v)
        if t == "obj" and child.kids:
            seen.setdefault(path, set()).add("obj")
            _collect_types(v, child, path + ".", seen)
        elif child.leaf:
            seen.setdefault(path, set()).add(t)


_ARROW = {"str": pa.string(), "num": pa.float64(), "bool": pa.bool_()}


def _schema_from_types(types: dict[str, str], root: _Node) -> pa.Schema:
    def build(node: _Node, prefix: str) -> list[pa.Field]:
        fields = []
        for k, child in node.kids.items():
            path = prefix + k
            t = types.get(path)
            if t is None:
                continue
            if t == "obj":
                fields.append(pa.field(k, pa.struct(build(child, path + "."))))
            elif t in _ARROW:
                fields.append(pa.field(k, _ARROW[t]))
            # an object where a scalar was expected ("obj" at a leaf-only path) is left to inference
        return fields

    return pa.schema(build(root, ""))


# --------------------------------------------------------------------------- leaves


def _arrow_leaves(table: pa.Table, trie: _Trie) -> tuple[dict[str, pa.Array], dict[str, pa.Array]]:
    """Known leaves (and presence of :data:`_PRESENCE` parents) of an arrow table. An
    object or a list where a scalar is expected gives null (as on the orjson path)."""
    leaves: dict[str, pa.Array] = {}
    present: dict[str, pa.Array] = {}

    def visit(arr: pa.Array, node: _Node, path: str) -> None:
        if pa.types.is_struct(arr.type):
            if path in _PRESENCE:
                present[path] = arr.is_valid()
            flat = arr.flatten()
            for i in range(arr.type.num_fields):
                name = arr.type.field(i).name
                child = node.kids.get(name)
                if child is not None:
                    visit(flat[i], child, f"{path}.{name}")
            return
        if node.leaf and not (pa.types.is_list(arr.type) or pa.types.is_large_list(arr.type) or pa.types.is_map(arr.type)):
            _put(leaves, path, arr)

    for name in table.column_names:
        node = trie.root.kids.get(name)
        if node is None:
            continue
        col = table.column(name)
        arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
        visit(arr, node, name)
    return leaves, present


def _put(leaves: dict[str, pa.Array], path: str, arr: pa.Array) -> None:
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    if pa.types.is_timestamp(arr.type):
        arr = pc.strftime(arr, format="%Y-%m-%dT%H:%M:%S", locale="C").cast(STR)
    if pa.types.is_null(arr.type):
        return
    if path in leaves:  # nested and literal dotted key both present
        a, b = leaves[path], arr
        if a.type != b.type:
            a, b = as_str(a, len(a)), as_str(b, len(b))
        leaves[path] = pc.coalesce(a, b)
    else:
        leaves[path] = arr


_POSITION = re.compile(r":? ?line \d+ column \d+ \(char \d+\)")


def _python_leaves(texts: Sequence[str | None], trie: _Trie) -> tuple[dict[str, pa.Array], dict[str, pa.Array], list[str | None]]:
    """Read lines one by one with orjson: known leaves, presence, and per-line error text."""
    n = len(texts)
    values: dict[str, list[tuple[int, Any]]] = {}
    pres: dict[str, list[int]] = {p: [] for p in _PRESENCE}
    errors: list[str | None] = [None] * n
    for i, text in enumerate(texts):
        if text is None:
            errors[i] = "empty record"
            continue
        try:
            obj = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            errors[i] = "invalid JSON: " + _POSITION.sub("", str(exc).splitlines()[0])[:100]
            continue
        if not isinstance(obj, dict):
            errors[i] = f"JSON value is a {type(obj).__name__}, not an object"
            continue
        for p in _PRESENCE:
            if isinstance(obj.get(p), dict):
                pres[p].append(i)
        found: dict[str, Any] = {}
        _walk(obj, trie.root, "", found)
        for path, v in found.items():
            values.setdefault(path, []).append((i, v))
    leaves: dict[str, pa.Array] = {}
    for path, pairs in values.items():
        arr = _py_array(pairs, n)
        if arr is not None:
            _put(leaves, path, arr)
    present = {}
    for p, rows in pres.items():
        m = np.zeros(n, dtype=bool)
        m[rows] = True
        present[p] = pa.array(m)
    return leaves, present, errors


def _py_array(pairs: list[tuple[int, Any]], n: int) -> pa.Array | None:
    """One leaf column from ``(row, value)`` pairs. Objects and lists (no scalar) are null;
    numbers with text give text (the typed conversions read numbers back from text)."""
    pairs = [(i, v) for i, v in pairs if not isinstance(v, (dict, list))]
    kinds = {_jtype(v) for _, v in pairs} - {"null"}
    if not kinds:
        return None
    out: list[Any] = [None] * n
    if kinds == {"num"}:
        for i, v in pairs:
            out[i] = None if v is None else float(v)
        return pa.array(out, type=F64)
    if kinds == {"bool"}:
        for i, v in pairs:
            out[i] = v
        return pa.array(out, type=BOOL)
    for i, v in pairs:  # text, or mixed types: everything as text
        if v is None:
            continue
        if isinstance(v, str):
            out[i] = v
        elif isinstance(v, bool):
            out[i] = "true" if v else "false"
        elif isinstance(v, int):
            out[i] = str(v)
        else:
            out[i] = repr(v) if not float(v).is_integer() else str(int(v))
    return pa.array(out, type=STR)


# --------------------------------------------------------------------------- chunk reading


@dataclass
class _Chunk:
    leaves: dict[str, pa.Array]
    present: dict[str, pa.Array]
    errors: list[str | None] | None  # per row, only from the orjson path
    n: int


def _concatenated(arr: pa.Array) -> pa.Buffer:
    """The rows' bytes back to back (no copy): pyarrow's reader, given one block, reads a
    stream of objects with or without newlines between them."""
    bufs = arr.buffers()
    dt = np.int64 if pa.types.is_large_string(arr.type) else np.int32
    offs = np.frombuffer(bufs[1], dtype=dt)
    start, end = int(offs[arr.offset]), int(offs[arr.offset + len(arr)])
    return bufs[2][start:end] if bufs[2] is not None else pa.py_buffer(b"")


def _odd_rows(texts: pa.Array) -> np.ndarray:
    """Rows that do not start with ``{`` and end with ``}`` (leading/trailing whitespace,
    empty). Only rows that do can be concatenated safely: a row cut short cannot merge
    with the next one, since after a ``}`` that does not close the record JSON allows only
    ``,``, ``}`` or ``]``, never the ``{`` that opens the next row."""
    n = len(texts)
    bufs = texts.buffers()
    dt = np.int64 if pa.types.is_large_string(texts.type) else np.int32
    offs = np.frombuffer(bufs[1], dtype=dt)[texts.offset : texts.offset + n + 1].astype(np.int64)
    if bufs[2] is None or bufs[2].size == 0:
        return np.ones(n, dtype=bool)
    data = np.frombuffer(bufs[2], dtype=np.uint8)
    starts, ends = offs[:-1], offs[1:]
    empty = ends <= starts
    first = data[np.where(empty, 0, starts)]
    last = data[np.where(empty, 0, ends - 1)]
    odd = empty | (first != 0x7B) | (last != 0x7D)
    if texts.null_count:
        odd |= ~mask_np(texts.is_valid())
    return odd


def _read_arrow(arr: pa.Array, schema: pa.Schema | None) -> pa.Table | None:
    """One pyarrow read of the whole chunk as a single block (the chunks themselves are
    parsed in parallel by the caller), so every column comes back in one piece. ``None``
    when pyarrow refuses it or the row count differs (two objects on one line)."""
    buf = _concatenated(arr)
    block = max(1 << 20, 1 << math.ceil(math.log2(buf.size + 2)))
    try:
        opts = (
            pj.ParseOptions(explicit_schema=schema, unexpected_field_behavior="infer")
            if schema is not None and len(schema)
            else pj.ParseOptions(unexpected_field_behavior="infer")
        )
        table = pj.read_json(pa.BufferReader(buf), read_options=pj.ReadOptions(block_size=block, use_threads=False), parse_options=opts)
    except pa.ArrowException:
        return None
    if table.num_rows != len(arr):
        return None
    return table


def _read_chunks(arr: pa.Array, trie: _Trie, *, engine: str, depth: int = 0, start: int = 0) -> list[tuple[int, _Chunk]]:
    """``(offset, chunk)`` pairs covering ``arr``: arrow when it can, orjson otherwise."""
    n = len(arr)
    if engine == "arrow" and n:
        sample_idx = np.unique(np.concatenate([np.arange(min(n, 32)), np.linspace(0, n - 1, num=min(n, 96)).astype(np.int64)]))
        sample = arr.take(pa.array(sample_idx)).to_pylist()
        schema = _sample_schema(sample, trie)
        if schema is not None:
            table = _read_arrow(arr, schema)
            if table is not None:
                try:
                    leaves, present = _arrow_leaves(table, trie)
                except (pa.ArrowException, ValueError, TypeError):  # exotic nesting pyarrow cannot slice
                    pass
                else:
                    return [(start, _Chunk(leaves, present, None, n))]
        if depth == 0 and n >= 64:
            out: list[tuple[int, _Chunk]] = []
            for sub in np.array_split(np.arange(n), 8):
                out += _read_chunks(arr.slice(int(sub[0]), len(sub)), trie, engine=engine, depth=1, start=start + int(sub[0]))
            return out
    leaves, present, errors = _python_leaves(arr.to_pylist(), trie)
    return [(start, _Chunk(leaves, present, errors, n))]


def parse_json(
    texts: pa.Array, fm: FieldMap, *, engine: str = "arrow", chunk_rows: int = 131_072, need_time: np.ndarray | None = None
) -> list[tuple[np.ndarray, dict[str, pa.Array]]]:
    """Parse JSON object texts. Returns ``(positions in texts, fields)`` pairs; fields are
    output fields (see ``FIELD_TYPES``) incl. ``format``, ``record_type``, ``parse_error``.
    ``need_time`` marks rows whose record time is wanted (the event has none)."""
    trie = _Trie(_known_paths(fm))
    n = len(texts)
    if n == 0:
        return []
    texts = texts.cast(STR) if texts.type != STR else texts
    if need_time is None:
        need_time = np.ones(n, dtype=bool)
    out: list[tuple[np.ndarray, dict[str, pa.Array]]] = []
    # rows that are not exactly "{...}" cannot be concatenated for the arrow reader
    multi = _odd_rows(texts) if engine == "arrow" else np.zeros(n, dtype=bool)
    if multi.any():
        one = np.flatnonzero(~multi)
        many = np.flatnonzero(multi)
        if len(one):
            for pos, fields in parse_json(texts.take(pa.array(one)), fm, engine=engine, chunk_rows=chunk_rows, need_time=need_time[one]):
                out.append((one[pos], fields))
        leaves, present, errors = _python_leaves(texts.take(pa.array(many)).to_pylist(), trie)
        out.append((many, extract(_Chunk(leaves, present, errors, len(many)), fm, need_time[many])))
        return out
    for s in range(0, n, chunk_rows):
        for off, ch in _read_chunks(texts.slice(s, chunk_rows), trie, engine=engine, start=s):
            out.append((np.arange(off, off + ch.n), extract(ch, fm, need_time[off : off + ch.n])))
    return out


# --------------------------------------------------------------------------- extraction


def _leaf(ch: _Chunk, path: str) -> pa.Array | None:
    return ch.leaves.get(path)


def _specs(target: str, fm: FieldMap) -> list[tuple[str, str | None]]:
    base = [(s, None) if isinstance(s, str) else s for s in ALIASES.get(target, [])]
    return list(fm.entries.get(target, ())) + base


def _first_str(ch: _Chunk, paths: Iterable[str], rows: pa.Array | None = None) -> pa.Array:
    arrays = []
    for p in paths:
        a = ch.leaves.get(p)
        if a is not None:
            a = a.take(rows) if rows is not None else a
            arrays.append(as_str(a, len(a)))
    n = len(rows) if rows is not None else ch.n
    return coalesce(arrays, n, STR)


def _present_np(ch: _Chunk, path: str, cache: dict[str, np.ndarray]) -> np.ndarray:
    got = cache.get(path)
    if got is not None:
        return got
    a = ch.leaves.get(path)
    if a is None:
        m = np.zeros(ch.n, dtype=bool)
    elif pa.types.is_string(a.type) or pa.types.is_large_string(a.type):
        m = mask_np(pc.greater(pc.binary_length(a), 0))
    else:
        m = mask_np(a.is_valid())
    cache[path] = m
    return m


def _any_np(ch: _Chunk, paths: Iterable[str], cache: dict[str, np.ndarray]) -> np.ndarray:
    out = np.zeros(ch.n, dtype=bool)
    for p in paths:
        if p in ch.leaves:
            out |= _present_np(ch, p, cache)
    return out


def _generic(ch: _Chunk, fm: FieldMap, need_time: np.ndarray) -> dict[str, pa.Array]:
    n = ch.n
    out: dict[str, pa.Array] = {}
    for target in _GENERIC_FIELDS:
        specs = [(p, u) for p, u in _specs(target, fm) if p in ch.leaves]
        if not specs:
            continue
        if target == "status":
            out[target] = coalesce([as_status(ch.leaves[p], n) for p, _ in specs], n, pa.int64())
        elif target in _NUMERIC_FIELDS:
            vals = []
            for p, u in specs:
                v = as_float(ch.leaves[p], n)
                f = unit_factor(u) if u else 1.0
                vals.append(pc.multiply(v, f) if f != 1.0 else v)
            out[target] = coalesce(vals, n, F64)
        elif target in ("cold_start", "timed_out"):
            out[target] = coalesce([as_bool(ch.leaves[p], n) for p, _ in specs], n, BOOL)
        elif target == "level":
            out[target] = coalesce([normalize_level(ch.leaves[p], n) for p, _ in specs], n, STR)
        elif target == "timestamp":
            if not need_time.any():
                continue
            strs, nums = [], []
            for p, _ in specs:
                a = ch.leaves[p]
                if pa.types.is_floating(a.type) or pa.types.is_integer(a.type):
                    nums.append(a.cast(F64))
                elif pa.types.is_string(a.type) or pa.types.is_large_string(a.type) or pa.types.is_timestamp(a.type):
                    strs.append(as_str(a, n))
            if strs:
                out["_time_str"] = coalesce(strs, n, STR)
            if nums:
                out["_time_num"] = coalesce(nums, n, F64)
        else:
            out[target] = coalesce([as_str(ch.leaves[p], n) for p, _ in specs], n, STR)
    return out


def _format_codes(ch: _Chunk) -> np.ndarray:
    """Index into :data:`JSON_FORMATS` per row, most specific format first."""
    n = ch.n
    cache: dict[str, np.ndarray] = {}
    codes = np.full(n, 5, dtype=np.int8)  # app_json
    typ = ch.leaves.get("type")
    if typ is not None and (pa.types.is_string(typ.type) or pa.types.is_large_string(typ.type)):
        is_platform = mask_np(pc.starts_with(typ, "platform."))
    else:
        is_platform = np.zeros(n, dtype=bool)
    is_ct = _present_np(ch, "eventSource", cache) & _present_np(ch, "eventName", cache) & _present_np(ch, "eventTime", cache)
    emf = ch.present.get("_aws")
    is_emf = mask_np(emf) if emf is not None else np.zeros(n, dtype=bool)
    is_pt = _any_np(ch, ["function_request_id", "functionRequestId"], cache)
    svc = _any_np(ch, ["service", "serviceName"], cache)
    if svc.any():
        is_pt |= svc & _any_np(ch, _POWERTOOLS_MARKERS, cache)
    is_apigw = _any_np(ch, ["requestId", "requestID"], cache)
    if is_apigw.any():
        is_apigw &= _any_np(ch, ["status", "statusCode"], cache)
    if is_apigw.any():
        is_apigw &= _any_np(ch, _APIGW_MARKERS, cache) & ~_any_np(ch, ["level", "severity", "levelname", "message", "msg"], cache)
    for code, m in ((4, is_apigw), (3, is_pt), (2, is_emf), (1, is_ct), (0, is_platform)):
        if m.any():
            codes[m] = code
    return codes


_FORMAT_ARR = pa.array(list(JSON_FORMATS), type=STR)
_RTYPE_ARR = pa.array([None, None, "metric", "log", "access", "log"], type=STR)


def extract(ch: _Chunk, fm: FieldMap, need_time: np.ndarray | None = None) -> dict[str, pa.Array]:
    """Output fields from the known leaves of ``ch`` (see module docstring)."""
    n = ch.n
    if need_time is None:
        need_time = np.ones(n, dtype=bool)
    out = _generic(ch, fm, need_time)

    def F(name: str, typ: pa.DataType) -> pa.Array:
        return out.get(name, nulls(n, typ))

    codes = _format_codes(ch)
    code_arr = pa.array(codes)
    out["format"] = _FORMAT_ARR.take(code_arr)
    rec_type = _RTYPE_ARR.take(code_arr)
    plat_np, ct_np = codes == 0, codes == 1
    special = plat_np | ct_np

    # --- error text for app lines at ERROR/FATAL (or carrying an exception) without an error field
    level = out.get("level")
    exc = [p for p in ("exception", "error.stack", "stack") if p in ch.leaves]
    errorish = np.zeros(n, dtype=bool)
    if level is not None:
        errorish = mask_np(pc.is_in(level, value_set=pa.array(["ERROR", "FATAL"], type=STR)))
    for p in exc:
        errorish |= mask_np(ch.leaves[p].is_valid())
    errorish &= ~special
    if errorish.any():
        rows = np.flatnonzero(errorish)
        sel = pa.array(rows)
        et = out.get("error_type")
        em = out.get("error_message")
        et_sub = et.take(sel) if et is not None else nulls(len(rows), STR)
        em_sub = em.take(sel) if em is not None else nulls(len(rows), STR)
        msg = _first_str(ch, _MESSAGE_KEYS, sel)
        text = pc.coalesce(_first_str(ch, exc, sel), msg) if exc else msg
        need = mask_np(pc.invert(et_sub.is_valid()))
        if need.any():
            tt, top, tm = error_fields_from_text(text.filter(pa.array(need)))
            et_sub = pc.coalesce(et_sub, _scatter(tt, need, len(rows), STR))
            em_sub = pc.coalesce(em_sub, _scatter(tm, need, len(rows), STR))
            if pc.any(top.is_valid()).as_py():
                op_sub = out["operation"].take(sel) if "operation" in out else nulls(len(rows), STR)
                out["operation"] = _scatter_into(out.get("operation"), pc.coalesce(op_sub, _scatter(top, need, len(rows), STR)), rows, n)
        em_sub = pc.coalesce(em_sub, msg)
        out["error_type"] = _scatter_into(et, et_sub, rows, n)
        out["error_message"] = _scatter_into(em, em_sub, rows, n)

    # --- Lambda platform JSON records
    if plat_np.any():
        rec_type = _platform(ch, out, plat_np, rec_type, F)

    # --- CloudTrail records
    if ct_np.any():
        cm = pa.array(ct_np)
        mapping = {
            "request_id": "requestID",
            "operation": "eventName",
            "service": "eventSource",
            "error_type": "errorCode",
            "error_message": "errorMessage",
            "client_ip": "sourceIPAddress",
            "user_agent": "userAgent",
        }
        for name, path in mapping.items():
            out[name] = pc.if_else(cm, as_str(_leaf(ch, path), n), F(name, STR))
        et = as_str(_leaf(ch, "eventType"), n)
        ct_type = pc.utf8_lower(pc.replace_substring_regex(pc.replace_substring_regex(et, r"^Aws", ""), r"([a-z0-9])([A-Z])", r"\1_\2"))
        rec_type = pc.if_else(cm, pc.coalesce(ct_type, pa.scalar("event", STR)), rec_type)
        if need_time.any():
            out["_time_str"] = pc.if_else(cm, as_str(_leaf(ch, "eventTime"), n), F("_time_str", STR))
        for name in ("status", "app_version", "route", "method", "level", "latency_ms", "cold_start", "function_name", "xray_trace_id"):
            if name in out:
                out[name] = pc.if_else(cm, pa.scalar(None, out[name].type), out[name])

    # --- EMF time is epoch ms
    if need_time.any() and (codes == 2).any() and "_aws.Timestamp" in ch.leaves:
        out["_time_num"] = pc.if_else(pa.array(codes == 2), as_float(ch.leaves["_aws.Timestamp"], n), F("_time_num", F64))

    # --- clean-ups, each only when needed
    if "route" in out:
        out["route"], out["method"] = _clean_route(out["route"], F("method", STR))
    if "xray_trace_id" in out:
        out["xray_trace_id"] = trace_root(out["xray_trace_id"])
    if "method" in out:
        out["method"] = map_distinct(out["method"], lambda m: m.upper() if isinstance(m, str) else m)
    if "client_ip" in out:  # a socket address (Go's r.RemoteAddr, "10.0.3.4:51234") names a client, not a connection
        out["client_ip"] = pc.replace_substring_regex(out["client_ip"].cast(STR), _IP_PORT, r"\1\2")

    out["record_type"] = rec_type
    errs = ch.errors
    if errs is not None and any(e is not None for e in errs):
        bad = np.array([e is not None for e in errs])
        out["parse_error"] = pa.array(bad)
        out["parse_error_reason"] = pa.array(errs, type=STR)
        keep = pa.array(~bad)
        for name in list(out):
            if name in ("parse_error", "parse_error_reason"):
                continue
            if name == "format":
                out[name] = pc.if_else(keep, out[name], pa.scalar("json", STR))
            else:
                out[name] = pc.if_else(keep, out[name], pa.scalar(None, out[name].type))
    else:
        out["parse_error"] = pa.array(np.zeros(n, dtype=bool))
    return out


def _platform(ch: _Chunk, out: dict[str, pa.Array], plat_np: np.ndarray, rec_type: pa.Array, F: Any) -> pa.Array:
    n = ch.n
    pm = pa.array(plat_np)
    t = as_str(_leaf(ch, "type"), n)
    snake = pc.utf8_lower(pc.replace_substring_regex(pc.utf8_slice_codeunits(t, 9), r"([a-z0-9])([A-Z])", r"\1_\2"))
    rec_type = pc.if_else(pm, snake, rec_type)
    dur = as_float(_leaf(ch, "record.metrics.durationMs"), n)
    init = as_float(_leaf(ch, "record.metrics.initDurationMs"), n)
    is_report = pc.and_(pm, pc.equal(t, "platform.report")).fill_null(False)
    is_init_report = pc.and_(pm, pc.equal(t, "platform.initReport")).fill_null(False)
    is_runtime_done = pc.and_(pm, pc.equal(t, "platform.runtimeDone")).fill_null(False)
    status_txt = as_str(_leaf(ch, "record.status"), n)
    has_dur = pc.or_(is_report, is_runtime_done)

    def put(name: str, value: pa.Array, mask: pa.Array, typ_: pa.DataType) -> None:
        out[name] = pc.if_else(mask, value, F(name, typ_))

    def present(path: str) -> pa.Array:
        a = _leaf(ch, path)
        return pc.and_(pm, a.is_valid()) if a is not None else pa.array(np.zeros(n, dtype=bool))

    put("request_id", as_str(_leaf(ch, "record.requestId"), n), pm, STR)
    put("duration_ms", dur, has_dur, F64)
    put("billed_duration_ms", as_float(_leaf(ch, "record.metrics.billedDurationMs"), n), is_report, F64)
    put("memory_size_mb", as_float(_leaf(ch, "record.metrics.memorySizeMB"), n), is_report, F64)
    put("max_memory_used_mb", as_float(_leaf(ch, "record.metrics.maxMemoryUsedMB"), n), is_report, F64)
    put("init_duration_ms", pc.if_else(is_init_report, dur, init), pc.or_(is_report, is_init_report), F64)
    put("latency_ms", pc.add(dur, pc.coalesce(init, 0.0)), is_report, F64)
    put("cold_start", init.is_valid(), is_report, BOOL)
    put("timed_out", pc.equal(status_txt, "timeout").fill_null(False), pc.or_(is_report, is_runtime_done), BOOL)
    put("xray_trace_id", as_str(_leaf(ch, "record.tracing.value"), n), present("record.tracing.value"), STR)
    put("function_name", as_str(_leaf(ch, "record.functionName"), n), present("record.functionName"), STR)
    ptype = as_str(_leaf(ch, "record.errorType"), n)
    timeout_type = pc.if_else(pc.equal(status_txt, "timeout").fill_null(False), pa.scalar("Task timed out", STR), pa.scalar(None, STR))
    put("error_type", pc.coalesce(ptype, timeout_type), pm, STR)
    for name in ("status", "app_version", "route", "method", "client_ip", "level", "error_message"):
        if name in out:
            out[name] = pc.if_else(pm, pa.scalar(None, out[name].type), out[name])
    return rec_type


def _scatter(values: pa.Array, mask: np.ndarray, n: int, typ: pa.DataType) -> pa.Array:
    """``values`` (one per true of ``mask``) spread over ``n`` rows, null elsewhere."""
    idx = np.full(n, -1, dtype=np.int64)
    idx[mask] = np.arange(int(mask.sum()))
    return values.cast(typ).take(pa.array(idx, mask=idx < 0))


def _scatter_into(base: pa.Array | None, values: pa.Array, rows: np.ndarray, n: int) -> pa.Array:
    """``base`` with ``rows`` replaced by ``values`` (``base`` None = all null)."""
    m = np.zeros(n, dtype=bool)
    m[rows] = True
    spread = _scatter(values, m, n, STR)
    if base is None:
        return spread
    return pc.if_else(pa.array(m), spread, base)


def _clean_route(route: pa.Array, method: pa.Array) -> tuple[pa.Array, pa.Array]:
    """``GET /pets`` route keys -> method + route; absolute URLs -> path; no query string."""
    if route.null_count == len(route):
        return route, method
    enc = pc.dictionary_encode(route)  # routes repeat: look at each distinct one once
    dirty_values = pc.match_substring_regex(enc.dictionary, r"^[A-Z]+ /|://|[?#]")
    if not pc.any(dirty_values).as_py():
        return route, method
    dirty = mask_np(dirty_values.take(enc.indices))
    rows = np.flatnonzero(dirty)
    sel = pa.array(rows)
    r = route.take(sel)
    m = method.take(sel)
    rk = pc.extract_regex(r, r"^(?P<m>[A-Z]+) (?P<r>/.*)$")
    has = rk.is_valid()
    m = pc.coalesce(m, pc.if_else(has, pc.struct_field(rk, "m"), pa.scalar(None, pa.string())).cast(STR))
    r = pc.if_else(has, pc.struct_field(rk, "r").cast(STR), r)
    r = pc.replace_substring_regex(r, r"^[a-zA-Z][a-zA-Z0-9+.-]*://[^/?#]*", "")
    r = pc.replace_substring_regex(r, r"[?#].*$", "")
    r = pc.if_else(pc.equal(r, ""), pa.scalar("/", STR), r)
    return _scatter_into(route, r, rows, len(route)), _scatter_into(method, m, rows, len(route))
