"""Turn raw log events into typed columns: :func:`parse`, and one row per request: :func:`requests`.

A CloudWatch log group rarely holds one format: a Lambda group mixes platform lines
(``START``/``END``/``REPORT``), application lines (JSON, Powertools, text behind the
runtime's ``[LEVEL]\\t<time>\\t<request id>`` prefix) and multi-line tracebacks. So the
format is detected **per line**, cheaply: lines are first sorted by their opening bytes
with vectorised string operations, then each class is parsed as a batch (pyarrow's NDJSON
reader for JSON, RE2 regexes for text formats). Every input line gives one output row, in
the input order, with the raw ``message`` kept.

Formats (``format`` column)
---------------------------
Every format is a module of :mod:`incidentkit.parse.formats`, listed once, in the order
lines are tried, by :mod:`incidentkit.parse.registry` (:data:`FORMATS` holds the values the
column can take); each module's docstring gives its source, its documented fields and what
its columns mean. Among them: Lambda platform lines (``lambda_platform``, text;
``lambda_platform_json``), lines behind a Lambda runtime prefix (``lambda_app``, including
the Node.js runtime's own ``Invoke Error`` records; a JSON or traceback remainder takes that
format, with request id, level and time from the prefix), ``powertools``, ``emf``,
``apigw_access`` (JSON, CLF and CSV templates), ``apigw_execution``, ``clf_access``,
``cloudtrail``, ``rust_tracing``, ``app_json`` (any other JSON object, read through
:data:`ALIASES` and ``field_map``), ``traceback``; the logs AWS writes to S3 (also read a
file at a time by :mod:`incidentkit.parse.batches`): ``alb_access``, ``alb_connection``,
``elb_classic_access``, ``nlb_access``, ``cloudfront_access``, ``s3_access``, ``waf``,
``network_firewall``, ``vpc_flow`` (custom fields after their header line); ``text`` is anything
else and **not** an error (a level word and error texts are read; a Node.js object printed
by ``console.log`` is text too); ``json`` a line that opens like JSON but is not (with
``parse_error``).

``parse_error`` is for records that claim a format and fail it (truncated JSON, an ALB
entry with missing fields, a REPORT line whose numbers are garbage); their typed fields
are left empty, ``parse_error_reason`` says why, and they are counted in
``df.attrs["parse_stats"]`` with an :class:`~incidentkit.errors.IncompleteDataWarning`.

Derived values
--------------
* ``latency_ms``: access-log latency (API Gateway ``responseLatency``, ALB request + target
  + response processing times), app latency fields (unit from the name: ``*_ms`` ms,
  ``*_s``/``*_sec``/``*_seconds`` s, no suffix = ms), and for REPORT lines
  ``duration + init duration`` (what the caller waited).
* ``cold_start``: REPORT / ``platform.report`` with an init (or SnapStart restore) duration;
  Powertools' ``cold_start`` key.
* ``app_version``: a version field, else the app version of the User-Agent
  (:func:`incidentkit.parse.useragent.version_from_user_agent`: ``MyApp/2.9.0 (iOS 17)``).
* ``function_name``: from the record, else from a ``/aws/lambda/<name>`` log group.
* ``level``: DEBUG/INFO/WARN/ERROR/FATAL (WARNING->WARN, err->ERROR, CRITICAL->FATAL,
  pino/bunyan 50->ERROR).
* ``timestamp``: the event's own timestamp; when it has none (a list of lines), the
  record's time (ISO, epoch s/ms, CLF ``27/Oct/2023:13:40:57 +0000``, ...). Naive times are UTC.

Example
-------
>>> from incidentkit import parse as parsers
>>> df = parsers.parse([
...     "REPORT RequestId: 6bc28136-xmpl-4365-b021-0ce6b2e64ab0\\tDuration: 198.50 ms\\tBilled Duration: 200 ms"
...     "\\tMemory Size: 512 MB\\tMax Memory Used: 90 MB\\tInit Duration: 524.75 ms",
...     '{"level": "warning", "requestId": "6bc28136-xmpl-4365-b021-0ce6b2e64ab0", "status": 503}',
... ])
>>> print(df.at[0, "format"], df.at[0, "record_type"], df.at[0, "cold_start"], df.at[0, "latency_ms"])
lambda_platform report True 723.25
>>> print(df.at[1, "format"], df.at[1, "level"], df.at[1, "status"])
app_json WARN 503
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from . import _dictionary, registry
from .. import schema
from ..errors import ParameterError
from ._adhoc import extract
from . import _frame
from ._frame import (add_parse_stats, as_events, concat, derive, event_columns, frame_from_columns, group_names, message_batches, messages,
                     release_unused, workers_wanted)
from ._json import ALIASES, extract_all, normalize_field_map, read_json
from ._requests import assemble_requests
from .arrow import BOOL, F64, FIELD_TYPES, I64, STR, Part, assemble, first_bytes, mask_np

__all__ = ["ALIASES", "FORMATS", "extract", "parse", "requests"]

#: Every value the ``format`` column can take, in the registry's order (``json`` only with
#: ``parse_error``: a line that opens like JSON but is not).
FORMATS = (*registry.format_names(), "json")
#: The values JSON formats write.
JSON_FORMATS = registry.json_format_names()

_FIELDS = [f for f in schema.PARSED_FIELDS]
_INTERNAL = ["_time_str", "_time_num", "_log_stream"]


# --------------------------------------------------------------------------- dispatch


def _dispatch(arr: pa.Array, idx: np.ndarray, fm: Any, engine: str, need_time: np.ndarray | None = None) -> list[Part]:
    """Recognise each line's format (:mod:`incidentkit.parse.registry`, in its order) and
    parse each format's lines as a batch.

    ``idx`` are the input positions of ``arr``'s rows; ``need_time`` (aligned with ``arr``)
    marks rows whose event has no timestamp, so the record's own time is wanted."""
    if len(arr) == 0:
        return []
    if need_time is None:
        need_time = np.ones(len(arr), dtype=bool)
    before_json, after_json = registry.text_formats()
    inner = functools.partial(_inner, fm=fm, engine=engine)
    parts, left = _before_json(before_json, arr, idx, inner)
    json_rows, left = _json_lines(arr, left)
    if len(json_rows):
        parts += _json_parts(arr, idx, json_rows, fm, engine, need_time, after_json, inner)
    more, left = _by_pattern(after_json, arr, idx, left, inner)
    parts += more
    if len(left):
        rest = arr if len(left) == len(arr) else arr.take(pa.array(left))
        parts += registry.fallback().parse(rest, idx[left])
    return parts


def _inner(arr: pa.Array, idx: np.ndarray, *, fm: Any, engine: str) -> list[Part]:
    """What an envelope format (``WRAPS``) reads its content with: every format again."""
    return _dispatch(arr, idx, fm, engine)


def _json_lines(arr: pa.Array, left: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(JSON rows, other rows)`` among ``left``: lines opening with ``{`` (after whitespace)."""
    if not len(left):
        return left, left
    first = first_bytes(arr)[left]
    is_json = first == ord("{")
    spaced = np.flatnonzero(np.isin(first, np.frombuffer(b" \t\r\n", dtype=np.uint8)))  # only these can open with whitespace
    if len(spaced):
        is_json[spaced[mask_np(pc.match_substring_regex(arr.take(pa.array(left[spaced])), r"^[ \t\r\n]+\{"))]] = True
    return left[is_json], left[~is_json]


def _json_parts(arr: pa.Array, idx: np.ndarray, rows: np.ndarray, fm: Any, engine: str, need_time: np.ndarray,
                after_json: tuple[Any, ...], inner: Any) -> list[Part]:
    """The JSON lines at ``rows``, read once for every JSON format. A line that opens like
    JSON but is not goes to the first pattern format that recognises it (a Node.js object
    printed by ``console.log``), else it stays a JSON parse error."""
    # the copy of the JSON lines lives only while they are read (read_json keeps nothing of it)
    read = read_json(arr if len(rows) == len(arr) else arr.take(pa.array(rows)), fm, engine=engine)
    release_unused()  # the copy and the reader's scratch go back to the OS (see _frame.release_unused)
    parts = []
    for pos, cols in extract_all(read, fm, need_time[rows]):
        keep = np.ones(len(pos), dtype=bool)
        bad = mask_np(cols["parse_error"])
        if bad.any():
            claimed, left = _by_pattern(after_json, arr, idx, rows[pos[bad]], inner)
            parts += claimed
            keep[np.flatnonzero(bad)[~np.isin(rows[pos[bad]], left)]] = False
        p = Part(idx[rows[pos[keep]]])
        sel = None if keep.all() else pa.array(np.flatnonzero(keep))
        for name, col in cols.items():
            if name in FIELD_TYPES:
                p.set(name, col if sel is None else col.take(sel))
        parts.append(p)
    return parts


@functools.lru_cache(maxsize=4)
def _one_pattern(formats: tuple[Any, ...]) -> str:
    """One RE2 pattern matching a line of any of ``formats``."""
    return "|".join(f"(?:{fmt.RECOGNISE})" for fmt in formats)


def _before_json(formats: tuple[Any, ...], arr: pa.Array, idx: np.ndarray, inner: Any) -> tuple[list[Part], np.ndarray]:
    """:func:`_by_pattern` for the formats tried before the JSON formats: they see every line
    and few lines are theirs, so one pass of one pattern of them all finds the candidates
    and each format's own pattern runs on those only."""
    rows = np.arange(len(arr))
    if not formats:
        return [], rows
    hit = mask_np(pc.match_substring_regex(arr, _one_pattern(formats)))
    if not hit.any():
        return [], rows
    parts, missed = _by_pattern(formats, arr, idx, rows[hit], inner)
    hit[missed] = False
    return parts, rows[~hit]


def _by_pattern(formats: tuple[Any, ...], arr: pa.Array, idx: np.ndarray, left: np.ndarray, inner: Any) -> tuple[list[Part], np.ndarray]:
    """Try ``formats``' patterns in order on the rows ``left``; each format parses the rows it
    recognised. Returns the parts and the rows still left."""
    parts: list[Part] = []
    if not formats or not len(left):
        return parts, left
    rest = arr if len(left) == len(arr) else arr.take(pa.array(left))
    for fmt in formats:
        if not len(left):
            break
        m = mask_np(pc.match_substring_regex(rest, fmt.RECOGNISE))
        if not m.any():
            continue
        sub, sidx = (rest if m.all() else rest.filter(pa.array(m))), idx[left[m]]
        parts += fmt.parse(sub, sidx, inner) if getattr(fmt, "WRAPS", False) else fmt.parse(sub, sidx)
        left = left[~m]
        rest = rest.filter(pa.array(~m)) if len(left) else rest.slice(0, 0)
    return parts, left


def parse(
    events: Any,
    format: str = "auto",
    *,
    field_map: Mapping[str, Any] | None = None,
    strict: bool = False,
    _engine: str = "arrow",
) -> pd.DataFrame:
    """Parse log events into typed columns (:data:`incidentkit.schema.PARSED_COLUMNS`).

    Parameters
    ----------
    events:
        A logs frame (:data:`~incidentkit.schema.EVENT_COLUMNS`, e.g. from
        ``logs.events``), or a list / Series of message strings.
    format:
        ``"auto"`` (per-line detection, the normal case), or one of :data:`FORMATS`
        (or ``"json"`` for any JSON format): lines of another format are then parse
        errors; ``"text"`` reads nothing beyond levels and error texts.
    field_map:
        For JSON records, where to find fields under non-standard names, tried before
        the built-in :data:`ALIASES`: ``{"status": "resp.code"}`` (dotted paths reach
        into nested objects), ``{"latency_ms": ("t", "s")}`` (a unit: ms, s, us, ns,
        min), ``{"app_version": ["meta.ver", "v"]}`` (tried in order). Keys are output
        fields, or ``timestamp`` for the record's own time.
    strict:
        Raise :class:`~incidentkit.errors.ParseError` at the first line that fails
        instead of marking it.

    Notes
    -----
    Lines are parsed in batches of 32,768, in as many threads as the process has CPUs
    (``INCIDENTKIT_PARSE_THREADS=1`` for one). The result does not depend on the number.

    Returns
    -------
    pandas.DataFrame
        One row per input line, same order, columns
        :data:`~incidentkit.schema.PARSED_COLUMNS`. ``df.attrs`` keeps the input's
        provenance and adds ``parse_stats = {"events", "parsed", "errors", "by_format",
        "error_reasons"}``; parse errors are also listed in ``df.attrs["issues"]``.

    Example
    -------
    >>> df = parse(['[ERROR]\\t2024-05-01T10:00:00.000Z\\t8f507cfc-xmpl-4697-b07a-ac58fc914c95\\tboom'])
    >>> df.loc[0, ["format", "level", "request_id"]].tolist()
    ['lambda_app', 'ERROR', '8f507cfc-xmpl-4697-b07a-ac58fc914c95']
    """
    if _engine not in ("arrow", "python"):
        raise ParameterError("_engine must be 'arrow' or 'python'", got=_engine)
    if format != "auto" and format not in FORMATS:
        raise ParameterError(f"unknown log format {format!r}; use 'auto' or one of {list(FORMATS)}", format=format)
    fm = normalize_field_map(field_map)
    frame = as_events(events)
    attrs = dict(frame.attrs)
    n = len(frame)
    base = event_columns(frame)
    if n == 0:
        out = schema.empty_frame("parsed")
        out.attrs.update(attrs)
        out.attrs["parse_stats"] = {"events": 0, "parsed": 0, "errors": 0, "by_format": {}, "error_reasons": {}}
        return out
    msgs = messages(frame)
    ts_missing = base["timestamp"].isna().to_numpy()

    cols = _parse_columns(msgs, n, ts_missing, group_names(base["log_group"]), format, fm, _engine)
    if format not in ("auto", registry.fallback().NAME):
        cols = _force_format(cols, format, n)
        _dictionary.encode(cols)

    out = frame_from_columns(base, cols, n, attrs)
    add_parse_stats(out, strict=strict)
    return out


def _parse_columns(msgs: pa.ChunkedArray, n: int, ts_missing: np.ndarray, groups: pa.ChunkedArray | None, format: str,
                   fm: Any, engine: str) -> dict[str, Any]:
    """Every parsed column of the ``n`` messages: batches of :data:`~incidentkit.parse._frame.BATCH`
    rows, in parallel threads (pyarrow's kernels and reader release the GIL); numeric
    columns are written in place into arrays allocated once."""
    # the record's own time is only read where an event has no timestamp: no columns for it otherwise
    names = _FIELDS + (_INTERNAL if ts_missing.any() else [c for c in _INTERNAL if not c.startswith("_time_")])
    numeric: dict[str, Any] = {}
    for name in names:
        typ = FIELD_TYPES[name]
        if typ == F64:
            numeric[name] = np.empty(n)
        elif typ in (I64, BOOL):
            numeric[name] = (np.empty(n, dtype=np.int64 if typ == I64 else bool), np.empty(n, dtype=bool))

    # dictionary fields encoded as they are assembled, but those derive() completes and the
    # text a given format needs (_force_format) are encoded after
    early = dict.fromkeys(_dictionary.FIELDS - _dictionary.DERIVED, _dictionary.encode_array) if format in ("auto", registry.fallback().NAME) else {}

    def run(start: int, arr: pa.Array) -> dict[str, Any]:
        """One batch: dispatch, put rows back in order, derive function name and app version."""
        m = len(arr)
        idx = np.arange(m)
        if format == registry.fallback().NAME:
            parts = registry.fallback().parse(arr, idx)
        else:
            parts = _dispatch(arr, idx, fm, engine, ts_missing[start : start + m])
        views = {k: (v[start : start + m] if isinstance(v, np.ndarray) else (v[0][start : start + m], v[1][start : start + m])) for k, v in numeric.items()}
        release_unused()
        cols = assemble(parts, m, names, views, early)  # numeric columns land in place
        del parts
        derive(cols, None if groups is None else groups.slice(start, m))
        if format in ("auto", registry.fallback().NAME):  # else after _force_format, which needs the text
            _dictionary.encode(cols)
        kept = {k: v for k, v in cols.items() if k not in numeric}
        del cols
        release_unused()
        return kept

    workers = min(workers_wanted(), -(-n // _frame.BATCH))
    results: list[dict[str, Any]] = []
    if workers <= 1:
        results = [run(start, arr) for start, arr in message_batches(msgs)]
    else:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="incidentkit-parse") as pool:
            pending: list[Any] = []
            for start, arr in message_batches(msgs):
                pending.append(pool.submit(run, start, arr))
                if len(pending) > workers:  # bound the batches in flight (memory)
                    results.append(pending.pop(0).result())
            results += [fut.result() for fut in pending]
    cols = {name: concat(name, [r.pop(name) for r in results]) for name in names if name not in numeric}
    cols.update(numeric)
    return cols


def _force_format(cols: dict[str, Any], format: str, n: int) -> dict[str, Any]:
    """Rows of another format become parse errors (``format`` given explicitly)."""
    allowed = set(JSON_FORMATS) | {"json"} if format == "json" else {format}
    fmt = cols["format"]
    err = cols["parse_error"][0]
    wrong = ~mask_np(pc.is_in(fmt, value_set=pa.array(sorted(allowed), type=STR))) & ~err
    if not wrong.any():
        return cols
    w = pa.array(wrong)
    reason = pc.binary_join_element_wise(pa.scalar(f"not a {format} record (looks like ", STR), fmt, pa.scalar(")", STR), pa.scalar("", STR))
    for name in list(cols):
        if name in ("format", "_time_str", "_time_num", "_log_stream"):
            continue
        col = cols[name]
        if name == "parse_error":
            cols[name] = (err | wrong, col[1])
        elif name == "parse_error_reason":
            cols[name] = pc.if_else(w, reason, col)
        elif isinstance(col, np.ndarray):
            col = col.copy()
            col[wrong] = np.nan
            cols[name] = col
        elif isinstance(col, tuple):
            cols[name] = (col[0], col[1] & ~wrong)
        else:
            cols[name] = pc.if_else(w, pa.scalar(None, col.type), col)
    return cols


# --------------------------------------------------------------------------- requests


def requests(parsed: pd.DataFrame) -> pd.DataFrame:
    """One row per request (:data:`~incidentkit.schema.REQUEST_COLUMNS`), each at its tier.

    ``tier`` says where the request was seen: ``entry`` (API Gateway / ALB / other access
    logs), ``invocation`` (a Lambda invocation) or ``app`` (application lines elsewhere);
    ``tier_format`` the format that puts it there. Count requests at one tier — the entry
    tier when present (:mod:`incidentkit.analyses.impact` does): an API behind API Gateway
    with a Lambda authorizer leaves an access-log row *and* two invocations per request.

    Rows sharing a ``request_id`` are one request (across log groups: an access log and
    the function's lines join when they log the same id), unless that id completes more
    than once in one source (a per-process counter such as pino-http's ``req.id``): then
    it is scoped to its log stream. An entry request also joins the invocation its
    ``integration_request_id`` names, and the one other request sharing its X-Ray trace
    (see :mod:`incidentkit.parse._requests`). Precedence, per field:

    * ``status``, ``app_version``, ``user_agent``, ``route``, ``method``, ``client_ip``:
      the access-log row (what the client saw), else the first app row that has it;
    * ``latency_ms``: access log, else REPORT (duration + init), else the app's own figure;
    * ``duration_ms``, ``init_duration_ms``: the REPORT / ``platform.report`` row;
    * ``cold_start``: the REPORT row when there is one (provisioned concurrency inits
      before the request, so Powertools' flag alone would overstate the caller's wait),
      else any app row's ``cold_start``;
    * ``timed_out``: true if any row says so (REPORT ``Status: timeout``, ``Task timed out``);
    * ``error_type``: the last app/traceback error of the request, else the platform's
      (``Task timed out``, ``Runtime.OutOfMemory``), else the access log's;
    * ``logged_error``: any row at ERROR/FATAL, a traceback, or a platform error;
    * ``timestamp``: the earliest row; ``log_group``/``function_name``: the REPORT row's,
      else the first row's.

    Rows without a request id stand alone when they describe a request: access-log
    entries, and app rows with a status or a latency. CloudTrail, VPC flow, EMF rows and
    parse errors are not requests. ``df.attrs["request_stats"]`` counts joined and
    stand-alone requests, links, ids found unique per process only, and requests by tier;
    ``df.attrs["issues"]`` says which log groups' ids were scoped by stream.

    Example
    -------
    >>> p = parse(["REPORT RequestId: r1\\tDuration: 10.0 ms\\tBilled Duration: 10 ms\\tMemory Size: 128 MB"
    ...            "\\tMax Memory Used: 60 MB\\tInit Duration: 90.0 ms",
    ...            '{"requestId": "r1", "level": "info", "status": 502, "route": "/pay"}'])
    >>> requests(p)[["request_id", "tier", "status", "latency_ms", "cold_start", "route"]].to_dict("records")
    [{'request_id': 'r1', 'tier': 'invocation', 'status': 502, 'latency_ms': 100.0, 'cold_start': True, 'route': '/pay'}]
    """
    if not isinstance(parsed, pd.DataFrame) or "format" not in parsed.columns:
        raise ParameterError("requests() takes the frame parsers.parse returned")
    return assemble_requests(parsed)
