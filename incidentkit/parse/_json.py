"""The JSON reader (private; used by :mod:`incidentkit.parse`): JSON log records to the
parsed columns, for every JSON format of :mod:`incidentkit.parse.registry` at once.

Each line is read once, whatever its format: the reader keeps the *known* dotted paths
(the aliases of :mod:`~incidentkit.parse.formats.app_json`, the ``PATHS`` and recognised
keys of every JSON format, the user's ``field_map``), the aliases fill the generic columns,
each row goes to the first JSON format whose ``RECOGNISE`` matches its keys, and that
format's ``parse`` fills the rest.

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

import functools
import math
import re
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from . import registry
from .arrow import BOOL, F64, STR, as_bool, as_float, as_status, as_str, coalesce, map_distinct, mask_np, normalize_level, trace_root
from .formats._keys import JsonRows, recognise_paths, recognised, scatter_into
from .fieldmap import GENERIC_FIELDS, NUMERIC_FIELDS, FieldMap, normalize_field_map, unit_factor
from .formats.app_json import ALIASES, EXCEPTION_KEYS, MESSAGE_KEYS

__all__ = ["ALIASES", "FieldMap", "extract_all", "normalize_field_map", "parse_json", "read_json", "unit_factor"]

# --------------------------------------------------------------------------- known paths


class _Node:
    """A key of the known-paths tree: ``leaf`` when the path itself is wanted, ``kids``
    for the wanted paths below it."""

    __slots__ = ("kids", "leaf")

    def __init__(self) -> None:
        self.kids: dict[str, _Node] = {}
        self.leaf = False


class _Trie:
    """Known dotted paths as a tree, plus the literal dotted keys (``"http.status_code"``);
    ``objects`` are the top-level keys whose mere presence as an object matters (EMF's ``_aws``)."""

    def __init__(self, paths: Iterable[str], objects: Iterable[str] = ()):
        self.paths = sorted(set(paths))
        self.objects = tuple(sorted(set(objects)))
        self.root = _Node()
        for p in self.paths:
            node = self.root
            for part in p.split("."):
                node = node.kids.setdefault(part, _Node())
            node.leaf = True
            if "." in p:  # the literal key too
                self.root.kids.setdefault(p, _Node()).leaf = True


def _known_trie(fm: FieldMap) -> _Trie:
    """The paths to keep: the aliases, the message and exception keys, what every JSON format
    reads or recognises, and the user's ``field_map``. Built once per field map and set of
    JSON formats (every batch of a parse reads with the same one; it is only read after)."""
    aliases = tuple(spec[0] if isinstance(spec, tuple) else spec for specs in ALIASES.values() for spec in specs)
    return _trie_for(aliases + tuple(MESSAGE_KEYS) + tuple(EXCEPTION_KEYS) + tuple(fm.paths()), registry.json_formats())


@functools.lru_cache(maxsize=16)
def _trie_for(wanted: tuple[str, ...], formats: tuple[Any, ...]) -> _Trie:
    """The trie of ``wanted`` paths and of what ``formats`` read or recognise (the key is what
    :func:`_known_trie` read from the alias table and the field map, so a changed table is seen)."""
    paths = list(wanted)
    objects: list[str] = []
    for fmt in formats:
        keys, objs = recognise_paths(fmt.RECOGNISE)
        paths += list(fmt.PATHS) + keys
        objects += objs
    return _Trie(paths, objects)


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
    """Known leaves (and presence of the trie's ``objects``) of an arrow table. An
    object or a list where a scalar is expected gives null (as on the orjson path)."""
    leaves: dict[str, pa.Array] = {}
    present: dict[str, pa.Array] = {}
    for name in table.column_names:
        node = trie.root.kids.get(name)
        if node is None:
            continue
        col = table.column(name)
        if isinstance(col, pa.ChunkedArray):  # one block read: one chunk, taken as is (combine_chunks copies it)
            col = col.chunk(0) if col.num_chunks == 1 else col.combine_chunks()
        _visit(col, node, name, trie, leaves, present)
    return leaves, present


def _visit(arr: pa.Array, node: _Node, path: str, trie: _Trie, leaves: dict[str, pa.Array], present: dict[str, pa.Array]) -> None:
    """:func:`_arrow_leaves` for one column and what is nested in it. A module function, not a
    closure: a recursive closure is a reference cycle, which kept each batch's leaves (and the
    reader's buffers under them) alive until the garbage collector's next pass."""
    if pa.types.is_struct(arr.type):
        if path in trie.objects:
            present[path] = arr.is_valid()
        flat = arr.flatten()
        for i in range(arr.type.num_fields):
            name = arr.type.field(i).name
            child = node.kids.get(name)
            if child is not None:
                _visit(flat[i], child, f"{path}.{name}", trie, leaves, present)
        return
    if node.leaf and not (pa.types.is_list(arr.type) or pa.types.is_large_list(arr.type) or pa.types.is_map(arr.type)):
        _put(leaves, path, arr)


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
    pres: dict[str, list[int]] = {p: [] for p in trie.objects}
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
        for p in trie.objects:
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


def _read_chunks(arr: pa.Array, trie: _Trie, *, engine: str, depth: int = 0, start: int = 0) -> list[tuple[int, JsonRows]]:
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
                    return [(start, JsonRows(leaves, present, None, n))]
        if depth == 0 and n >= 64:
            out: list[tuple[int, JsonRows]] = []
            for sub in np.array_split(np.arange(n), 8):
                out += _read_chunks(arr.slice(int(sub[0]), len(sub)), trie, engine=engine, depth=1, start=start + int(sub[0]))
            return out
    leaves, present, errors = _python_leaves(arr.to_pylist(), trie)
    return [(start, JsonRows(leaves, present, errors, n))]


def read_json(texts: pa.Array, fm: FieldMap, *, engine: str = "arrow", chunk_rows: int = 131_072) -> list[tuple[np.ndarray, JsonRows]]:
    """Read JSON object texts: ``(positions in texts, known leaves)`` pairs, the first phase of
    :func:`parse_json`. Nothing returned refers to ``texts``' buffers, so a caller that passes
    a temporary copy of its lines frees that copy before the leaves are turned into fields."""
    trie = _known_trie(fm)
    n = len(texts)
    if n == 0:
        return []
    texts = texts.cast(STR) if texts.type != STR else texts
    # rows that are not exactly "{...}" cannot be concatenated for the arrow reader
    multi = _odd_rows(texts) if engine == "arrow" else np.zeros(n, dtype=bool)
    if multi.any():
        one, many = np.flatnonzero(~multi), np.flatnonzero(multi)
        out = [(one[pos], rows) for pos, rows in read_json(texts.take(pa.array(one)), fm, engine=engine, chunk_rows=chunk_rows)] if len(one) else []
        leaves, present, errors = _python_leaves(texts.take(pa.array(many)).to_pylist(), trie)
        return out + [(many, JsonRows(leaves, present, errors, len(many)))]
    return [
        (np.arange(off, off + rows.n), rows)
        for s in range(0, n, chunk_rows)
        for off, rows in _read_chunks(texts.slice(s, chunk_rows), trie, engine=engine, start=s)
    ]


def parse_json(
    texts: pa.Array, fm: FieldMap, *, engine: str = "arrow", chunk_rows: int = 131_072, need_time: np.ndarray | None = None
) -> list[tuple[np.ndarray, dict[str, pa.Array]]]:
    """Parse JSON object texts. Returns ``(positions in texts, fields)`` pairs; fields are
    output fields (see ``FIELD_TYPES``) incl. ``format``, ``record_type``, ``parse_error``.
    ``need_time`` marks rows whose record time is wanted (the event has none)."""
    if need_time is None:
        need_time = np.ones(len(texts), dtype=bool)
    return extract_all(read_json(texts, fm, engine=engine, chunk_rows=chunk_rows), fm, need_time)


def extract_all(read: list[tuple[np.ndarray, JsonRows]], fm: FieldMap, need_time: np.ndarray) -> list[tuple[np.ndarray, dict[str, pa.Array]]]:
    """:func:`extract` of each ``(positions, leaves)`` pair of :func:`read_json`, emptying
    ``read`` as it goes (each chunk's leaves are freed once its fields exist)."""
    out: list[tuple[np.ndarray, dict[str, pa.Array]]] = []
    read.reverse()
    while read:
        pos, rows = read.pop()
        out.append((pos, extract(rows, fm, need_time[pos])))
        del rows
    return out


# --------------------------------------------------------------------------- extraction


def _specs(target: str, fm: FieldMap) -> list[tuple[str, str | None]]:
    base = [(s, None) if isinstance(s, str) else s for s in ALIASES.get(target, [])]
    return list(fm.entries.get(target, ())) + base


def _generic(ch: JsonRows, fm: FieldMap, need_time: np.ndarray) -> dict[str, pa.Array]:
    n = ch.n
    out: dict[str, pa.Array] = {}
    for target in GENERIC_FIELDS:
        specs = [(p, u) for p, u in _specs(target, fm) if p in ch.leaves]
        if not specs:
            continue
        if target == "status":
            out[target] = coalesce([as_status(ch.leaves[p], n) for p, _ in specs], n, pa.int64())
        elif target in NUMERIC_FIELDS:
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


def _format_codes(rows: JsonRows, formats: tuple[Any, ...]) -> np.ndarray:
    """Index into ``formats`` per row: the first whose ``RECOGNISE`` matches (the last, which
    takes any object, otherwise)."""
    cache: dict[str, np.ndarray] = {}
    codes = np.full(rows.n, len(formats) - 1, dtype=np.int8)
    for code in range(len(formats) - 2, -1, -1):  # most specific last: it wins
        m = recognised(formats[code].RECOGNISE, rows, cache)
        if m.any():
            codes[m] = code
    return codes


def extract(rows: JsonRows, fm: FieldMap, need_time: np.ndarray | None = None) -> dict[str, pa.Array]:
    """Output fields from the known leaves of ``rows``: the aliases for every row, then each
    row's format (see the module docstring), then clean-ups and parse errors."""
    n = rows.n
    if need_time is None:
        need_time = np.ones(n, dtype=bool)
    out = _generic(rows, fm, need_time)
    formats = registry.json_formats()
    codes = _format_codes(rows, formats)
    out["format"] = pa.array([m.NAME for m in formats], type=STR).take(pa.array(codes))
    rec_type = pa.nulls(n, STR)
    for code, fmt in enumerate(formats):
        mine = codes == code
        if mine.any():
            got = fmt.parse(rows, out, mine, need_time)
            rec_type = pc.if_else(pa.array(mine), pa.scalar(got, STR) if isinstance(got, str) else got, rec_type)
    _clean_up(out, n)
    out["record_type"] = rec_type
    _mark_json_errors(out, rows.errors, n)
    return out


#: ``10.0.3.4:51234`` and ``[2001:db8::7]:443``: an address with its port (the port dropped from ``client_ip``).
_IP_PORT = r"^(?:((?:\d{1,3}\.){3}\d{1,3})|\[([0-9A-Fa-f:.]+)\]):\d{1,5}$"


def _clean_up(out: dict[str, pa.Array], n: int) -> None:
    """Routes (route keys split, URLs to paths, no query), X-Ray roots, upper-case methods,
    client addresses without their port."""
    if "route" in out:
        out["route"], out["method"] = _clean_route(out["route"], out.get("method", pa.nulls(n, STR)))
    if "xray_trace_id" in out:
        out["xray_trace_id"] = trace_root(out["xray_trace_id"])
    if "method" in out:
        out["method"] = map_distinct(out["method"], lambda m: m.upper() if isinstance(m, str) else m)
    if "client_ip" in out:  # a socket address (Go's r.RemoteAddr, "10.0.3.4:51234") names a client, not a connection
        out["client_ip"] = _without_port(out["client_ip"].cast(STR))


def _without_port(ip: pa.Array) -> pa.Array:
    """``ip`` with the port of each ``address:port`` dropped; only the rows holding a ``:`` (a
    substring search, cheaper than the pattern) can have one, and only they meet the pattern."""
    rows = np.flatnonzero(mask_np(pc.match_substring(ip, ":")))
    if not len(rows):
        return ip
    return scatter_into(ip, pc.replace_substring_regex(ip.take(pa.array(rows)), _IP_PORT, r"\1\2"), rows, len(ip))


def _mark_json_errors(out: dict[str, pa.Array], errors: list[str | None] | None, n: int) -> None:
    """Lines that are not JSON objects: ``format="json"``, the reason, every field null."""
    if errors is None or all(e is None for e in errors):
        out["parse_error"] = pa.array(np.zeros(n, dtype=bool))
        return
    bad = np.array([e is not None for e in errors])
    keep = pa.array(~bad)
    for name in list(out):
        out[name] = pc.if_else(keep, out[name], pa.scalar("json" if name == "format" else None, out[name].type))
    out["parse_error"] = pa.array(bad)
    out["parse_error_reason"] = pa.array(errors, type=STR)


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
    return scatter_into(route, r, rows, len(route)), scatter_into(method, m, rows, len(route))
