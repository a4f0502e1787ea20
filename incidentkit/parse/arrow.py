"""Arrow helpers shared by the parsers (private).

Everything here works on whole ``pyarrow`` arrays: no Python loop over rows, except over
*distinct* values (levels, User-Agents) which are few.

A parser handler returns a :class:`Part`: the input positions it handled and, for each
output field it knows, an array of the same length. :func:`assemble` puts the parts back
in input order.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "BOOL",
    "F64",
    "FIELD_TYPES",
    "I64",
    "S3_FIELD_TYPES",
    "STR",
    "Part",
    "as_bool",
    "as_float",
    "as_status",
    "as_str",
    "assemble",
    "coalesce",
    "first_bytes",
    "map_distinct",
    "mask_np",
    "normalize_level",
    "nulls",
    "num_or_bad",
    "scalar_str",
    "trace_root",
    "where",
]

STR = pa.large_string()
F64 = pa.float64()
I64 = pa.int64()
BOOL = pa.bool_()

#: Arrow type of every field a handler may fill. Underscored fields are internal: the
#: record's own time (``_time_str`` text, ``_time_num`` epoch number, ``_time_unit``) used
#: when the event has no timestamp, and ``_log_stream`` (``sam logs`` prefix).
FIELD_TYPES: dict[str, pa.DataType] = {
    "format": STR,
    "record_type": STR,
    "parse_error": BOOL,
    "parse_error_reason": STR,
    "request_id": STR,
    "integration_request_id": STR,
    "level": STR,
    "status": I64,
    "latency_ms": F64,
    "duration_ms": F64,
    "billed_duration_ms": F64,
    "init_duration_ms": F64,
    "memory_size_mb": F64,
    "max_memory_used_mb": F64,
    "cold_start": BOOL,
    "timed_out": BOOL,
    "app_version": STR,
    "user_agent": STR,
    "route": STR,
    "method": STR,
    "client_ip": STR,
    "function_name": STR,
    "service": STR,
    "xray_trace_id": STR,
    "operation": STR,
    "error_type": STR,
    "error_message": STR,
    "_time_str": STR,
    "_time_num": F64,
    "_log_stream": STR,
}

#: Fields of the logs AWS writes to S3 (load balancers, CloudFront, S3, VPC Flow Logs, WAF,
#: Network Firewall; :mod:`incidentkit.parse.formats`). A handler may fill them; the S3 reader
#: keeps them beside :data:`FIELD_TYPES`' columns, ``parsers.parse`` leaves them out.
S3_FIELD_TYPES: dict[str, pa.DataType] = {
    "target": STR,  # ip:port that answered (ALB target, Classic backend, NLB target)
    "target_status": I64,  # the target's own HTTP status (null when it never answered)
    "target_latency_ms": F64,  # time spent by the target / origin (ALB target_processing_time ...)
    "error_reason": STR,  # why the service failed the request (ALB error_reason, TLS verify status ...)
    "classification": STR,  # ALB desync classification: Acceptable / Ambiguous / Severe
    "classification_reason": STR,
    "target_group": STR,
    "targets_tried": STR,  # ALB target:port_list
    "target_status_list": STR,
    "action": STR,  # ALB actions_executed, flow ACCEPT/REJECT, WAF/firewall action
    "rule": STR,  # rule that decided (ALB rule priority, WAF rule id, firewall signature)
    "conn_trace_id": STR,
    "protocol": STR,  # request type (http/h2/ws...) or IP protocol (tcp/udp/icmp ...)
    "tls_protocol": STR,
    "tls_cipher": STR,
    "domain": STR,  # host / SNI / domain name
    "bytes_received": I64,
    "bytes_sent": I64,
    "connection_ms": F64,  # NLB connection time
    "handshake_ms": F64,  # TLS handshake time
    "result_type": STR,  # CloudFront edge result type
    "location": STR,  # CloudFront edge location, availability zone
    "dst_ip": STR,
    "src_port": I64,
    "dst_port": I64,
    "packets": I64,
    "bytes": I64,
    "interface_id": STR,
    "vpc_id": STR,
    "subnet_id": STR,
    "instance_id": STR,
    "tcp_flags": I64,
    "flow_direction": STR,
    "country": STR,
}
FIELD_TYPES.update(S3_FIELD_TYPES)


@dataclass
class Part:
    """Rows handled by one parser: ``idx`` (input positions) and typed field arrays."""

    idx: np.ndarray
    cols: dict[str, pa.Array] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.idx)

    def set(self, name: str, values: Any) -> None:
        """Set a field, casting to its declared type; a scalar is broadcast."""
        typ = FIELD_TYPES[name]
        n = len(self.idx)
        if not isinstance(values, (pa.Array, pa.ChunkedArray)):
            values = pa.array([values] * n, type=typ) if values is not None else nulls(n, typ)
        if isinstance(values, pa.ChunkedArray):
            values = values.combine_chunks()
        if values.type != typ:
            values = values.cast(typ)
        if len(values) != n:  # pragma: no cover - programming error
            raise AssertionError(f"field {name}: {len(values)} values for {n} rows")
        self.cols[name] = values

    def fill(self, name: str, values: Any) -> None:
        """Set a field only where it is still null."""
        if name not in self.cols:
            self.set(name, values)
            return
        typ = FIELD_TYPES[name]
        if not isinstance(values, pa.Array):
            values = pa.scalar(values, type=typ)
        elif values.type != typ:
            values = values.cast(typ)
        self.cols[name] = pc.coalesce(self.cols[name], values)

    def subset(self, mask: np.ndarray) -> Part:
        """The rows where ``mask`` is true (numpy bool)."""
        sel = pa.array(np.flatnonzero(mask))
        return Part(self.idx[mask], {k: v.take(sel) for k, v in self.cols.items()})


_NULL_BUFFERS: dict[int, tuple[pa.Buffer, pa.Buffer]] = {}


def nulls(n: int, typ: pa.DataType) -> pa.Array:
    """``n`` nulls of ``typ``. All-null large-string columns share one zeroed offsets
    buffer and one validity bitmap (arrays are immutable), so a frame with many empty
    text columns does not pay ``8 * n`` bytes for each."""
    if typ == STR and n >= 4096:
        bufs = _NULL_BUFFERS.get(n)
        if bufs is None:
            _NULL_BUFFERS.clear()  # keep only the latest size
            bufs = (pa.py_buffer(bytes((n + 7) // 8)), pa.py_buffer(bytes(8 * (n + 1))))
            _NULL_BUFFERS[n] = bufs
        return pa.Array.from_buffers(STR, n, [bufs[0], bufs[1], pa.py_buffer(b"")], null_count=n)
    return pa.nulls(n, type=typ)


def mask_np(arr: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A boolean arrow array as numpy (null -> False)."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return np.asarray(arr.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)


def first_bytes(arr: pa.Array) -> np.ndarray:
    """Each row's first byte (``uint8``; 0 for an empty or null row), read from the offsets
    without a kernel or a copy: one gather over the rows.

    Example
    -------
    >>> first_bytes(pa.array(["{a", "", None, " x"], type=STR)).tolist()
    [123, 0, 0, 32]
    """
    n = len(arr)
    bufs = arr.buffers()
    if n == 0 or bufs[2] is None or bufs[2].size == 0:
        return np.zeros(n, dtype=np.uint8)
    offs = np.frombuffer(bufs[1], dtype=np.int64 if pa.types.is_large_string(arr.type) else np.int32)[arr.offset : arr.offset + n + 1]
    data = np.frombuffer(bufs[2], dtype=np.uint8)
    starts = offs[:-1]
    out = data[np.minimum(starts, data.size - 1)]
    out[offs[1:] <= starts] = 0
    if arr.null_count:
        out[~mask_np(arr.is_valid())] = 0
    return out


def where(mask: pa.Array, a: pa.Array, b: pa.Array) -> pa.Array:
    """``a`` where ``mask`` is true, else ``b`` (null mask -> ``b``)."""
    return pc.if_else(mask.fill_null(False), a, b)


def scalar_str(value: str, n: int) -> pa.Array:
    """A constant string column (cheap: dictionary-free repeat)."""
    return pa.array([value], type=STR).take(pa.array(np.zeros(n, dtype=np.int64)))


_NUM_RE = r"^[ \t]*[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?[ \t]*$"


def num_or_bad(arr: pa.Array) -> tuple[pa.Array, pa.Array]:
    """Parse numbers from text: ``(float64 values, bad)`` where ``bad`` marks text that is
    present (not null, not empty, not ``-``) but is not a number."""
    n = len(arr)
    if pa.types.is_floating(arr.type) or pa.types.is_integer(arr.type):
        return arr.cast(F64), _false(n)
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        return nulls(n, F64), _false(n)
    try:  # the common case: every present value is a plain number
        values = arr.cast(F64)
        if not pc.any(pc.or_(pc.is_nan(values), pc.is_inf(values))).as_py():
            return values, _false(n)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    ok = pc.match_substring_regex(arr, _NUM_RE)
    clean = pc.if_else(ok, pc.utf8_trim_whitespace(arr), pa.scalar(None, arr.type))
    values = clean.cast(F64)
    absent = pc.or_(pc.is_null(arr), pc.is_in(pc.utf8_trim_whitespace(arr), value_set=pa.array(["", "-"], type=arr.type)))
    bad = pc.and_(pc.invert(ok.fill_null(False)), pc.invert(absent))
    return values, bad.fill_null(False)


def _false(n: int) -> pa.Array:
    return pa.array(np.zeros(n, dtype=bool))


def as_float(arr: pa.Array | None, n: int) -> pa.Array:
    """Any leaf column as float64 (text parsed, bool/unknown -> null)."""
    if arr is None:
        return nulls(n, F64)
    if pa.types.is_floating(arr.type):
        return arr
    if pa.types.is_integer(arr.type):
        return arr.cast(F64)
    if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
        return num_or_bad(arr)[0]
    return nulls(n, F64)


def as_status(arr: pa.Array | None, n: int) -> pa.Array:
    """An HTTP status column as int64; non-integers and values outside 0..999 -> null."""
    v = as_float(arr, n)
    ok = pc.and_(pc.and_(pc.greater_equal(v, 0), pc.less(v, 1000)), pc.equal(pc.floor(v), v))
    return pc.if_else(ok, v, pa.scalar(None, F64)).cast(I64)


def as_str(arr: pa.Array | None, n: int) -> pa.Array:
    """Any leaf column as text: integral numbers without ``.0``, bools as true/false.
    Empty text and ``-`` (the access-log placeholder) become null."""
    if arr is None:
        return nulls(n, STR)
    t = arr.type
    if pa.types.is_null(t):
        return nulls(n, STR)
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        out = arr if pa.types.is_large_string(t) else arr.cast(STR)
        if out.null_count == len(out):
            return out
        shortest = pc.min(pc.binary_length(out)).as_py()
        if shortest is not None and shortest <= 1:  # only then can "" or "-" be there
            empty = pc.is_in(out, value_set=pa.array(["", "-"], type=STR))
            if pc.any(empty).as_py():
                out = pc.if_else(empty, pa.scalar(None, STR), out)
        return out
    if pa.types.is_floating(t):
        integral = pc.equal(pc.floor(arr), arr)
        small = pc.less(pc.abs(arr), 2**53)
        as_int = pc.if_else(pc.and_(integral, small), arr, pa.scalar(None, F64)).cast(I64).cast(STR)
        return pc.coalesce(as_int, arr.cast(STR))
    if pa.types.is_integer(t):
        return arr.cast(STR)
    if pa.types.is_boolean(t):
        return pc.if_else(arr, pa.scalar("true", STR), pa.scalar("false", STR))
    if pa.types.is_timestamp(t):
        return arr.cast(STR)
    return nulls(n, STR)


def map_distinct(arr: pa.Array, fn: Any, typ: pa.DataType = STR) -> pa.Array:
    """Apply a Python function to the *distinct* values of ``arr`` and map back.

    Returns ``arr`` itself when ``fn`` changes nothing (no copy)."""
    if len(arr) == 0 or arr.null_count == len(arr):
        return arr if arr.type == typ else nulls(len(arr), typ)
    enc = pc.dictionary_encode(arr)
    uniq = enc.dictionary.to_pylist()
    mapped = [fn(u) for u in uniq]
    if typ == arr.type and mapped == uniq:
        return arr
    return pa.array(mapped, type=typ).take(enc.indices)


_TRUE = pa.array(["true", "1", "yes", "y", "t"], type=STR)
_FALSE = pa.array(["false", "0", "no", "n", "f"], type=STR)


def as_bool(arr: pa.Array | None, n: int) -> pa.Array:
    """Any leaf column as bool: true/false, 1/0, yes/no (text case-insensitive)."""
    if arr is None:
        return nulls(n, BOOL)
    t = arr.type
    if pa.types.is_boolean(t):
        return arr
    if pa.types.is_floating(t) or pa.types.is_integer(t):
        return pc.if_else(pc.equal(arr, 1), True, pc.if_else(pc.equal(arr, 0), False, pa.scalar(None, BOOL)))
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        low = pc.utf8_lower(pc.utf8_trim_whitespace(arr.cast(STR)))
        return pc.if_else(
            pc.is_in(low, value_set=_TRUE), True, pc.if_else(pc.is_in(low, value_set=_FALSE), False, pa.scalar(None, BOOL))
        )
    return nulls(n, BOOL)


def coalesce(arrays: Sequence[pa.Array | None], n: int, typ: pa.DataType) -> pa.Array:
    """First non-null value across ``arrays`` (``None`` entries skipped)."""
    present = [a for a in arrays if a is not None]
    if not present:
        return nulls(n, typ)
    if len(present) == 1:
        return present[0]
    return pc.coalesce(*present)


_LEVELS = {
    "TRACE": "DEBUG",
    "DEBUG": "DEBUG",
    "DBG": "DEBUG",
    "FINE": "DEBUG",
    "FINER": "DEBUG",
    "FINEST": "DEBUG",
    "VERBOSE": "DEBUG",
    "D": "DEBUG",
    "INFO": "INFO",
    "INFORMATION": "INFO",
    "INF": "INFO",
    "NOTICE": "INFO",
    "CONFIG": "INFO",
    "I": "INFO",
    "WARN": "WARN",
    "WARNING": "WARN",
    "WRN": "WARN",
    "W": "WARN",
    "ERROR": "ERROR",
    "ERR": "ERROR",
    "SEVERE": "ERROR",
    "E": "ERROR",
    "FATAL": "FATAL",
    "CRITICAL": "FATAL",
    "CRIT": "FATAL",
    "ALERT": "FATAL",
    "EMERG": "FATAL",
    "EMERGENCY": "FATAL",
    "PANIC": "FATAL",
    "F": "FATAL",
    "A": "FATAL",
}


def _level_of(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, (int, float)):  # pino / bunyan numeric levels
        v = float(value)
        if math.isnan(v):
            return None
        return "DEBUG" if v <= 20 else "INFO" if v <= 30 else "WARN" if v <= 40 else "ERROR" if v <= 50 else "FATAL"
    text = str(value).strip().upper()
    if not text:
        return None
    if text.isdigit():
        return _level_of(int(text))
    return _LEVELS.get(text, text)


def normalize_level(arr: pa.Array | None, n: int) -> pa.Array:
    """Levels to DEBUG/INFO/WARN/ERROR/FATAL (WARNING->WARN, err->ERROR, CRITICAL->FATAL,
    pino 50->ERROR). Unknown words are kept upper-cased. Works on distinct values only."""
    if arr is None or pa.types.is_null(arr.type) or pa.types.is_boolean(arr.type):
        return nulls(n, STR)
    if pa.types.is_string(arr.type):
        arr = arr.cast(STR)
    return map_distinct(arr, _level_of, STR)


def trace_root(arr: pa.Array) -> pa.Array:
    """X-Ray trace ids to the bare ``1-xxxxxxxx-yyyy`` form (``Root=...;Parent=...`` -> root)."""
    if arr.null_count == len(arr):
        return arr
    has = pc.match_substring(arr, "Root=")
    if not pc.any(has).as_py():
        return arr
    bare = pc.and_(pc.starts_with(arr, "Root="), pc.invert(pc.match_substring(arr, ";")))
    if pc.all(pc.or_kleene(pc.invert(has), pc.and_(bare, pc.equal(pc.count_substring(arr, "Root="), 1)))).as_py():
        root = pc.utf8_slice_codeunits(arr, 5)  # each is "Root=<id>" (a load balancer's field): no regex needed
        root = pc.if_else(pc.greater(pc.utf8_length(root), 0), root, arr)
    else:
        root = pc.replace_substring_regex(arr, r"^.*Root=([^;]+).*$", r"\1")
    return pc.if_else(has, root, arr)


def assemble(parts: Iterable[Part], n: int, names: Iterable[str], dest: Mapping[str, Any] | None = None,
             encode: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Put the parts' fields back in input order, one column of length ``n`` per name:
    strings as arrow arrays (one ``take``), floats as numpy arrays (NaN for null), ints and
    bools as ``(values, valid)`` numpy pairs. ``dest`` may hold preallocated numpy views
    (length ``n``) for the numeric fields, written in place. ``encode`` maps a text field to
    the function that dictionary-encodes it: its rows are encoded before they are put in
    order (the ``take`` then moves small codes, and no reordered copy of the text exists)."""
    encode = encode or {}
    dest = dest or {}
    parts = [p for p in parts if len(p)]
    names = list(names)
    out: dict[str, Any] = {}
    if parts:
        order = np.concatenate([p.idx for p in parts])
        if len(order) != n:  # pragma: no cover - programming error
            raise AssertionError("parser parts do not cover every input row exactly once")
        identity = bool(np.array_equal(order, np.arange(n)))
        take = None
        if not identity:
            inv = np.empty(n, dtype=np.int64)
            inv[order] = np.arange(n, dtype=np.int64)
            take = pa.array(inv)
    for name in names:
        typ = FIELD_TYPES[name]
        present = [(p, p.cols.pop(name)) for p in parts if name in p.cols]  # freed as we go
        if typ == F64:
            col = dest[name] if name in dest else np.empty(n)
            col.fill(np.nan)
            for p, a in present:
                col[p.idx] = a.to_numpy(zero_copy_only=False)
            out[name] = col
        elif typ in (I64, BOOL):
            values, valid = dest[name] if name in dest else (np.empty(n, dtype=np.int64 if typ == I64 else bool), np.empty(n, dtype=bool))
            values.fill(0)
            valid.fill(False)
            for p, a in present:
                valid[p.idx] = mask_np(a.is_valid())
                values[p.idx] = a.fill_null(0 if typ == I64 else False).to_numpy(zero_copy_only=False)
            out[name] = (values, valid)
        elif not present:
            out[name] = nulls(n, typ)
        else:
            got = {id(p): a for p, a in present}
            arrays = [got.get(id(p)) if id(p) in got else nulls(len(p), typ) for p in parts]
            del present, got
            col = arrays[0] if len(arrays) == 1 else pa.concat_arrays(arrays)
            del arrays
            if name in encode:
                col = encode[name](col)
            out[name] = col if take is None else col.take(take)
            del col
    return out


def as_mapping_types(cols: Mapping[str, pa.Array]) -> dict[str, str]:  # pragma: no cover - debugging aid
    return {k: str(v.type) for k, v in cols.items()}
