"""Helpers shared by the S3 log formats (private): field regexes, ``ip:port``, request lines.

:func:`extract` and :func:`field` are :func:`incidentkit.parse._text.regex_struct` and
:func:`~incidentkit.parse._text.group` (a group is null where the line did not match, the
group did not take part, or AWS wrote its placeholder ``-`` or ``""``).

Every helper works on whole ``pyarrow`` arrays (RE2 through ``pyarrow.compute``).

Example
-------
>>> import pyarrow as pa
>>> rx = fields_regex([("a", BARE), ("b", QUOTED)], optional_from=1)
>>> ex = extract(pa.array(['x "y z"', "x"], type=STR), rx)
>>> field(ex, "b").to_pylist()
['y z', None]
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import unquote

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..arrow import F64, I64, STR, Part, as_float, as_status, as_str, map_distinct, mask_np, num_or_bad, scalar_str
from .._text import group as field
from .._text import mark_errors as _mark_errors
from .._text import regex_struct as extract
from ._keys import Field

__all__ = [
    "BARE",
    "QUOTED",
    "Field",
    "extract",
    "field",
    "fields_regex",
    "split_fields",
    "integer",
    "ip_port",
    "mark_errors",
    "new_part",
    "request_line",
    "seconds_to_ms",
    "status_or_bad",
    "url_decode",
]

BARE = r"[^ ]*"
QUOTED = r'"(?:[^"\\]|\\.)*"'

def fields_regex(spec: Sequence[tuple[str, str]], *, optional_from: int | None = None, sep: str = " ") -> str:
    """An anchored RE2 pattern with one named group per field, separated by ``sep``.

    Quoted fields capture the text between the quotes. Fields from ``optional_from`` on may
    be missing at the end of a line (older log versions); anything after the last known
    field is ignored (AWS: "ignore any fields at the end of the log entry that you were not
    expecting")."""
    parts: list[str] = []
    for i, (name, kind) in enumerate(spec):
        group = f'"(?P<{name}>(?:[^"\\\\]|\\\\.)*)"' if kind == QUOTED else f"(?P<{name}>{kind})"
        piece = group if i == 0 else re_escape(sep) + group
        if optional_from is not None and i >= optional_from:
            piece = f"(?:{piece}"
        parts.append(piece)
    tail = ")?" * (len(spec) - optional_from) if optional_from is not None else ""
    return "^" + "".join(parts) + tail + f"(?:{re_escape(sep)}.*)?$"


def split_fields(arr: pa.Array, spec: Sequence[tuple[str, str]], pattern: str, *, optional_from: int | None = None) -> pa.StructArray:
    """What :func:`extract` with ``pattern`` (``fields_regex(spec, optional_from=...)``) gives, by splitting.

    One regex with a group per field makes RE2 track every group through every line: slow on
    many fields. Here the bytes are read once with numpy instead: a space is a separator when an
    even number of ``"`` precede it on its line; the fields are the text between separators (a
    quoted one without its quotes), cut from the lines' own buffer. A line takes this way when
    its fields have the kinds of ``spec`` (:data:`QUOTED` ones ``"..."`` with no other quote, the
    :data:`BARE` ones none) and it holds at least the required ones; the others (a backslash
    that may escape a quote, a malformed line) go through the regex, so every line gets exactly
    the regex's fields (a field a line does not hold is ``""``, as RE2 gives it).

    Example
    -------
    >>> spec = [("a", BARE), ("b", QUOTED), ("c", BARE)]
    >>> rx = fields_regex(spec, optional_from=1)
    >>> lines = pa.array(['x "y z" w', 'x', 'x "y" "z"', None, 'x "y" w more'], type=STR)
    >>> split_fields(lines, spec, rx, optional_from=1).to_pylist() == extract(lines, rx).to_pylist()
    True
    """
    arr = arr.cast(STR) if arr.type != STR else arr
    if any(kind not in (BARE, QUOTED) for _, kind in spec):
        raise ValueError("split_fields reads BARE and QUOTED fields only")
    n, width = len(arr), len(spec)
    names = [name for name, _ in spec]
    bounds = _field_bounds(arr, np.array([kind == QUOTED for _, kind in spec]), width if optional_from is None else optional_from)
    if bounds is None:
        return extract(arr, pattern)
    starts, ends, ok = bounds
    rows = np.flatnonzero(ok)
    # the fields of the split lines as one text array over the lines' own bytes: its pieces alternate field, gap
    cuts = np.empty(2 * starts.size + 1, dtype=np.int64)
    cuts[0:-1:2], cuts[1::2] = starts.ravel(), ends.ravel()
    cuts[-1] = cuts[-2] if starts.size else 0
    pieces = pa.LargeStringArray.from_buffers(len(cuts) - 1, pa.py_buffer(cuts), arr.buffers()[2])
    at = np.zeros((width, n), dtype=np.int64)  # field by field, line by line: each field a slice of one take
    at[:, rows] = 2 * (np.arange(rows.size)[None, :] * width + np.arange(width)[:, None])
    taken = pieces.take(pa.array(at.ravel(), mask=np.tile(~ok, width)))
    cols = [taken.slice(k * n, n) for k in range(width)]
    if rows.size == n:
        return pa.StructArray.from_arrays(cols, names=names)
    other = np.flatnonzero(~ok)
    slow = extract(arr.take(pa.array(other)), pattern)
    mask = pa.array(~ok)
    cols = [pc.replace_with_mask(c, mask, pc.struct_field(slow, name)) for c, name in zip(cols, names)]
    valid = ok.copy()
    valid[other] = mask_np(slow.is_valid())
    return pa.StructArray.from_arrays(cols, names=names, mask=pa.array(~valid))


def _field_bounds(arr: pa.Array, quoted: np.ndarray, required: int) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Byte ``(starts, ends)`` of the fields (rows: the lines that can be split, columns: the fields; a quoted field
    without its quotes, one the line does not hold empty) and which lines can be split; None when there are no bytes."""
    n, width = len(arr), len(quoted)
    if n == 0 or arr.buffers()[2] is None:
        return None
    offs = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset: arr.offset + n + 1]
    data = np.frombuffer(arr.buffers()[2], dtype=np.uint8)
    lo, hi = int(offs[0]), int(offs[-1])
    body = data[lo:hi]
    marks = np.flatnonzero((body == ord('"')) | (body == ord(" ")))  # the bytes that matter: quotes and spaces
    is_quote = body[marks] == ord('"')
    q = marks[is_quote] + lo
    line_start, line_end = offs[:-1], offs[1:]
    q_before = np.searchsorted(q, offs)  # quotes before each line start (and the end)
    # parity of the quotes before each mark on its line: a running count (mod 256 is enough), evened at each line's
    # first mark by adding the previous lines' count there
    toggles = is_quote.astype(np.uint8)
    first_mark = np.searchsorted(marks, line_start - lo)
    odd_before = (np.diff(q_before[:-1], prepend=0) % 2).astype(np.uint8)
    inside = first_mark < marks.size
    np.add.at(toggles, first_mark[inside], odd_before[inside])
    outside = (np.cumsum(toggles, dtype=np.uint8) & 1) == 0
    seps = marks[~is_quote & outside] + lo
    first = np.searchsorted(seps, line_start)
    nsep = np.searchsorted(seps, line_end) - first
    nfields = np.minimum(nsep + 1, width)
    ok = (nfields >= required) & (line_end > line_start)
    if arr.null_count:
        ok &= mask_np(arr.is_valid())
    is_backslash = body == ord("\\")
    if is_backslash.any():  # a backslash may escape a quote: the regex reads those lines
        ok[np.searchsorted(offs, np.flatnonzero(is_backslash) + lo, side="right") - 1] = False
    rows = np.flatnonzero(ok)
    k = np.arange(width)[None, :]
    present = k < nfields[rows, None]
    at_sep = k < nsep[rows, None]
    after = np.where(at_sep, first[rows, None] + k, 0)
    ends = np.where(at_sep, seps[after] if seps.size else 0, line_end[rows, None])
    starts = np.empty_like(ends)
    starts[:, 0] = line_start[rows]
    starts[:, 1:] = np.minimum(ends[:, :-1] + 1, line_end[rows, None])
    ends = np.where(present, ends, starts)  # a field the line does not hold: empty, at its end
    # the kinds: each quoted field "..." (its two quotes at its ends) and no other quote among the fields read
    long_enough = ends - starts >= 2
    opens = (data[np.minimum(starts, len(data) - 1)] == ord('"')) & (data[np.maximum(ends - 1, 0)] == ord('"')) & long_enough
    quotes_held = np.searchsorted(q, ends[:, -1]) - q_before[rows]
    want = (present & quoted[None, :]).sum(axis=1)
    ok[rows] = ((opens | ~quoted[None, :] | ~present).all(axis=1)) & (quotes_held == 2 * want)
    keep = ok[rows]
    starts, ends, strip = starts[keep], ends[keep], (present & quoted[None, :])[keep]
    return starts + strip, ends - strip, ok


def re_escape(text: str) -> str:
    return "\\t" if text == "\t" else "".join("\\" + c if c in r".^$*+?()[]{}|\\" else c for c in text)


def integer(arr: pa.Array) -> pa.Array:
    """Whole numbers from text (null when absent or not a whole number)."""
    v = as_float(arr, len(arr))
    return pc.if_else(pc.equal(pc.floor(v), v), v, pa.scalar(None, F64)).cast(I64)


def seconds_to_ms(arr: pa.Array, *, negative_is_absent: bool = True) -> pa.Array:
    """Seconds as text to milliseconds (``-1``, which load balancers write for "never
    happened", becomes null)."""
    v = as_float(arr, len(arr))
    if negative_is_absent:
        v = pc.if_else(pc.less(v, 0), pa.scalar(None, F64), v)
    return pc.round(pc.multiply(v, 1000.0), 6)  # microsecond precision, without float noise


def ip_port(arr: pa.Array) -> tuple[pa.Array, pa.Array]:
    """``(ip, port)`` of ``ip:port`` text (IPv6 with or without brackets); ``-`` -> nulls."""
    ex = extract(arr, r"^\[?(?P<ip>.*?)\]?:(?P<port>\d+)$")
    return field(ex, "ip"), integer(field(ex, "port"))


def request_line(arr: pa.Array, *, with_host: bool = True) -> tuple[pa.Array, pa.Array, pa.Array | None]:
    """``(method, route, host)`` of an HTTP request line ``METHOD URL PROTOCOL``.

    The URL may hold spaces (a client sent them raw: the load balancer logs them as they
    came): the method is the first word, the protocol the last when it looks like
    ``HTTP/x``, the URL everything between. ``route`` is the URL's path without scheme,
    host, query or fragment; ``-`` as the method (a request the load balancer could not
    read) gives no method. ``host`` is None unless ``with_host``.

    Example
    -------
    >>> m, r, h = request_line(pa.array(["GET https://a.example:443/x/y?q=1 HTTP/1.1", "GET /a b HTTP/2.0", "-"], type=STR))
    >>> m.to_pylist(), r.to_pylist(), h.to_pylist()
    (['GET', 'GET', None], ['/x/y', '/a b', None], ['a.example', None, None])
    """
    arr = arr.cast(STR) if arr.type != STR else arr
    # what ^(?P<m>[^ ]+) (?P<url>.*?)(?: (?P<proto>[A-Za-z]+/[0-9.]+))?$ reads, by two splits (the regex is slow)
    first, rest, two = _split_once(arr)
    matched = two & ~mask_np(pc.starts_with(arr, " ").fill_null(True))
    before, last, two_back = _split_once(pc.coalesce(rest, pa.scalar("", STR)), reverse=True)
    proto = two_back & mask_np(pc.match_substring_regex(last, r"^[A-Za-z]+/[0-9.]+$").fill_null(False))
    method = as_str(pc.if_else(pa.array(matched), first, pa.scalar(None, STR)), len(arr))
    url = pc.if_else(pa.array(matched), pc.if_else(pa.array(proto), before, rest), pa.scalar(None, STR))
    url = pc.utf8_trim_whitespace(pc.coalesce(as_str(url, len(arr)), pa.scalar("", STR)))
    parts = extract(url, r"^(?:[a-zA-Z][a-zA-Z0-9+.-]*://(?P<host>[^/?#]*))?(?P<path>[^?#]*)")
    host = pc.replace_substring_regex(field(parts, "host"), r":\d+-?$", "") if with_host else None
    route = field(parts, "path")
    route = pc.if_else(pc.and_(route.is_valid(), pc.invert(pc.starts_with(route, "/"))), pa.scalar(None, STR), route)
    has_url = pc.greater(pc.utf8_length(url), 0)
    route = pc.if_else(pc.and_(has_url, pc.invert(route.is_valid())), pa.scalar("/", STR), route)
    route = pc.if_else(has_url, route, pa.scalar(None, STR))
    return method, route, host


def _split_once(arr: pa.Array, *, reverse: bool = False) -> tuple[pa.Array, pa.Array, np.ndarray]:
    """Each text split at its first (``reverse``: last) space: the two sides as they are (the second null where there is
    no space) and where there was one."""
    toks = pc.split_pattern(arr, " ", max_splits=1, reverse=reverse)
    flat = toks.values
    offs = np.asarray(toks.offsets)
    starts, counts = offs[:-1].astype(np.int64), np.diff(offs).astype(np.int64)
    two = counts == 2
    one = flat.take(pa.array(starts, mask=counts < 1)) if len(flat) else pa.nulls(len(arr), STR)
    other = flat.take(pa.array(np.where(two, starts + 1, 0), mask=~two)) if len(flat) else pa.nulls(len(arr), STR)
    return one, other, two


def url_decode(arr: pa.Array) -> pa.Array:
    """Undo the ``%20``-style escaping CloudFront applies to text fields (distinct values only)."""
    if arr.null_count == len(arr) or not pc.any(pc.match_substring(arr, "%")).as_py():
        return arr
    return map_distinct(arr, lambda v: unquote(v) if v is not None else None)


def new_part(idx: np.ndarray, name: str, record_type: str | pa.Array) -> Part:
    """A part with ``format`` and ``record_type`` set."""
    n = len(idx)
    p = Part(idx)
    p.set("format", scalar_str(name, n))
    p.set("record_type", scalar_str(record_type, n) if isinstance(record_type, str) else record_type)
    return p


def mark_errors(p: Part, bad: pa.Array | np.ndarray, reason: str | pa.Array) -> None:
    """Rows that claim the format but fail it: ``parse_error`` with ``reason`` (text, or one
    per row), typed fields nulled."""
    bad_arr = pa.array(bad) if isinstance(bad, np.ndarray) else bad.fill_null(True)
    _mark_errors(p, bad_arr, scalar_str(reason, len(p)) if isinstance(reason, str) else reason)


def status_or_bad(arr: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """An HTTP status column and the rows whose text is present but not a status."""
    v, bad = num_or_bad(arr)
    return as_status(v, len(arr)), mask_np(bad)


def split_columns(arr: pa.Array, sep: str, width: int) -> tuple[list[pa.Array], np.ndarray]:
    """The first ``width`` ``sep``-separated columns of every line (null where a line is
    shorter) and each line's number of columns."""
    n = len(arr)
    toks = pc.split_pattern(arr, sep)
    flat = toks.values
    offs = np.asarray(toks.offsets)
    starts, counts = offs[:-1].astype(np.int64), np.diff(offs).astype(np.int64)
    cols = []
    for i in range(width):
        present = counts > i
        take = pa.array(np.where(present, starts + i, 0), mask=~present)
        col = flat.take(take) if len(flat) else pa.nulls(n, STR)
        cols.append(as_str(col.cast(STR), n))
    return cols, counts


def header_segments(is_header: np.ndarray) -> list[tuple[int, int, int]]:
    """``(header_row, start, stop)`` for the data rows after each header row (``-1``: rows
    before the first header)."""
    heads = np.flatnonzero(is_header)
    bounds = [-1, *heads.tolist(), len(is_header)]
    out = []
    for h, nxt in zip(bounds[:-1], bounds[1:]):
        if nxt - h > 1:
            out.append((h, h + 1, nxt))
    return out
