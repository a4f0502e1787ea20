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
==========================  ========================================================================
``lambda_platform``         START / END / REPORT / INIT_START / INIT_REPORT / RESTORE_* / XRAY /
                            EXTENSION lines, ``Task timed out after N seconds``, runtime exits
                            (``RequestId: ... Error: Runtime exited with error: signal: killed``),
                            tab or space separated, also as printed by ``sam logs``
``lambda_platform_json``    ``{"time", "type": "platform.report", "record": {...}}`` (JSON log format)
``lambda_app``              text behind a Lambda runtime prefix (Python ``[ERROR]\\t<time>\\t<id>\\t``,
                            Node/Java ``<time>\\t<id>\\tINFO\\t``); a JSON or traceback remainder
                            takes that format instead, with request id/level/time from the prefix
``powertools``              Powertools for AWS Lambda structured logs (Python, TypeScript, Java)
``emf``                     CloudWatch Embedded Metric Format records (see :mod:`incidentkit.parse.emf`)
``apigw_access``            API Gateway access logs: JSON with ``$context`` fields under any names,
                            the documented CLF and CSV templates
``apigw_execution``         API Gateway execution log lines
``alb_access``              ALB access log entries (:mod:`incidentkit.parse.formats`, as are the
                            next seven, the logs AWS writes to S3)
``alb_connection``          ALB connection log entries
``elb_classic_access``      Classic Load Balancer access log entries
``nlb_access``              Network Load Balancer (TLS) access log entries
``cloudfront_access``       CloudFront standard log records (legacy and v2 W3C/JSON)
``s3_access``               S3 server access log records
``waf``, ``network_firewall``  AWS WAF and Network Firewall records
``clf_access``              other Common/Combined Log Format access lines
``cloudtrail``              CloudTrail records (``eventName`` -> ``operation``, ``errorCode`` ->
                            ``error_type``, ``eventSource`` -> ``service``)
``app_json``                any other JSON object, read through :data:`ALIASES` and ``field_map``
``traceback``               multi-line Python / Java / Node exceptions
``vpc_flow``                VPC flow logs (default format; custom fields after their header line)
``text``                    anything else: **not** an error (a level word and error texts are read)
``json``                    a line that opens like JSON but is not (with ``parse_error``)
==========================  ========================================================================

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
import logging
import math
import os
import re
import warnings
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from . import _dictionary, _text
from .. import schema
from .arrow import BOOL, F64, FIELD_TYPES, I64, STR, Part, assemble, map_distinct, mask_np
from ._json import ALIASES, JSON_FORMATS, normalize_field_map, parse_json
from .formats import S3_FORMATS
from .formats import load as _load_format
from ._requests import assemble_requests
from .useragent import parse_user_agent
from ..errors import IncompleteDataWarning, ParameterError, ParseError

__all__ = ["ALIASES", "FORMATS", "extract", "parse", "requests"]

log = logging.getLogger(__name__)

#: Every value the ``format`` column can take (``json`` only with ``parse_error``).
FORMATS = (
    "lambda_platform",
    "lambda_platform_json",
    "lambda_app",
    "powertools",
    "emf",
    "apigw_access",
    "apigw_execution",
    "alb_access",
    "alb_connection",
    "elb_classic_access",
    "nlb_access",
    "cloudfront_access",
    "s3_access",
    "waf",
    "network_firewall",
    "clf_access",
    "cloudtrail",
    "app_json",
    "traceback",
    "vpc_flow",
    "text",
    "json",
)

_FIELDS = [f for f in schema.PARSED_FIELDS]
_INTERNAL = ["_time_str", "_time_num", "_log_stream"]


# --------------------------------------------------------------------------- dispatch


def _dispatch(arr: pa.Array, idx: np.ndarray, fm: Any, engine: str, need_time: np.ndarray | None = None) -> list[Part]:
    """Classify lines by their opening bytes and parse each class as a batch.

    ``idx`` are the input positions of ``arr``'s rows; ``need_time`` (aligned with ``arr``)
    marks rows whose event has no timestamp, so the record's own time is wanted."""
    parts: list[Part] = []
    n = len(arr)
    if n == 0:
        return parts
    if need_time is None:
        need_time = np.ones(n, dtype=bool)
    aws_logs = _aws_log_lines(arr)
    for fmt_name, m in aws_logs:
        parts += _load_format(fmt_name).parse(arr.filter(pa.array(m)), idx[m])
    done = np.zeros(n, dtype=bool)
    for _, m in aws_logs:
        done |= m
    is_json = mask_np(pc.starts_with(arr, "{")) & ~done
    rest_pos = np.flatnonzero(~is_json & ~done)
    rest = arr.take(pa.array(rest_pos)) if 0 < len(rest_pos) < n else arr if len(rest_pos) else arr.slice(0, 0)
    if len(rest_pos):
        ws_json = mask_np(pc.match_substring_regex(rest, r"^[ \t\r\n]+\{"))
        if ws_json.any():
            is_json[rest_pos[ws_json]] = True
            rest_pos = rest_pos[~ws_json]
            rest = rest.filter(pa.array(~ws_json))
    if is_json.any():
        jpos = np.flatnonzero(is_json)
        sub = arr if len(jpos) == n else arr.take(pa.array(jpos))
        for pos, cols in parse_json(sub, fm, engine=engine, need_time=need_time[jpos]):
            p = Part(idx[jpos[pos]])
            for name, col in cols.items():
                if name in FIELD_TYPES:
                    p.set(name, col)
            parts.append(p)
    for name, pattern in _text.CLASSIFIERS:
        if not len(rest_pos):
            break
        m = mask_np(pc.match_substring_regex(rest, pattern))
        if not m.any():
            continue
        sub = rest.filter(pa.array(m))
        sidx = idx[rest_pos[m]]
        if name == "sam":
            parts += _sam(sub, sidx, fm, engine)
        elif name == "platform":
            parts += _text.lambda_platform(sub, sidx)
        elif name == "timeout":
            parts += _text.timeout_lines(sub, sidx)
        elif name == "prefix":
            parts += _text.runtime_prefixed(sub, sidx, lambda a, i: _dispatch(a, i, fm, engine))
        elif name == "alb":
            parts += _load_format("alb_access").parse(sub, sidx)
        elif name == "vpc":
            parts += _load_format("vpc_flow").parse(sub, sidx)
        elif name == "clf":
            parts += _text.clf(sub, sidx)
        elif name == "csv":
            parts += _text.apigw_csv(sub, sidx)
        elif name == "apigw_exec":
            parts += _text.apigw_execution(sub, sidx)
        elif name == "traceback":
            parts += _text.traceback(sub, sidx)
        rest_pos = rest_pos[~m]
        rest = rest.filter(pa.array(~m)) if len(rest_pos) else rest.slice(0, 0)
    if len(rest_pos):
        parts += _text.plain_text(rest, idx[rest_pos])
    return parts


#: Formats of the logs AWS writes to S3 recognised here by their opening bytes (ALB access
#: and VPC flow lines keep their place among the text classifiers).
_AWS_LOG_FORMATS = tuple(f for f in S3_FORMATS if f not in ("alb_access", "vpc_flow"))


@functools.lru_cache(maxsize=1)
def _aws_log_any() -> str:
    """One pattern matching any of :data:`_AWS_LOG_FORMATS` (built on first use)."""
    return "|".join(f"(?:{_load_format(f).RECOGNISE})" for f in _AWS_LOG_FORMATS)


def _aws_log_lines(arr: pa.Array) -> list[tuple[str, np.ndarray]]:
    """``(format, rows)`` of the lines written by a load balancer, CloudFront, S3, WAF or
    Network Firewall: one pass of all their patterns, then each format's own on the hits."""
    hit = mask_np(pc.match_substring_regex(arr, _aws_log_any()))
    if not hit.any():
        return []
    out: list[tuple[str, np.ndarray]] = []
    left = hit.copy()
    for name in _AWS_LOG_FORMATS:
        if not left.any():
            break
        m = left & mask_np(pc.match_substring_regex(arr, _load_format(name).RECOGNISE))
        if m.any():
            out.append((name, m))
            left &= ~m
    return out


def _sam(arr: pa.Array, idx: np.ndarray, fm: Any, engine: str) -> list[Part]:
    stream, ts, rest = _text.split_sam(arr)
    out = []
    for p in _dispatch(rest, np.arange(len(arr)), fm, engine):
        sel = pa.array(p.idx)
        p.idx = idx[p.idx]
        p.fill("_log_stream", stream.take(sel))
        p.fill("_time_str", ts.take(sel))
        out.append(p)
    return out


# --------------------------------------------------------------------------- input / output


def _as_events(events: Any) -> pd.DataFrame:
    if isinstance(events, pd.DataFrame):
        if "message" not in events.columns:
            raise ParameterError("parse() needs a logs frame with a 'message' column", columns=list(events.columns))
        return events
    if isinstance(events, (str, bytes)):
        raise ParameterError("parse() takes a logs frame or a list of messages, not a single string; wrap it in a list")
    if isinstance(events, pd.Series):
        msgs = events
    elif isinstance(events, (list, tuple, np.ndarray, pa.Array, pa.ChunkedArray)) or hasattr(events, "__iter__"):
        msgs = pd.Series(list(events) if not isinstance(events, (list, np.ndarray)) else events, dtype="object")
    else:
        raise ParameterError("parse() takes a logs frame, a Series or a list of messages", got=type(events).__name__)
    msgs = msgs.reset_index(drop=True)
    if not isinstance(msgs.dtype, pd.StringDtype):
        bad = np.fromiter(
            (not (v is None or isinstance(v, str) or (isinstance(v, float) and math.isnan(v)) or v is pd.NA) for v in msgs.tolist()),
            dtype=bool,
            count=len(msgs),
        )
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            raise ParameterError("every message must be a string", got=type(msgs.iat[pos]).__name__, position=pos)
    frame = pd.DataFrame({"message": _as_text(msgs)})
    return frame


_SURROGATE = re.compile("[\ud800-\udfff]")


def _as_text(values: pd.Series) -> pd.Series:
    """``values`` as the ``string`` dtype. Python text may hold lone UTF-16 surrogates
    (``json.loads('"\\ud83d"')``, bytes decoded with ``surrogateescape``) that no UTF-8
    column can store: each becomes U+FFFD, as ``logs.events`` does at fetch time."""
    try:
        return values.astype("string")
    except UnicodeEncodeError:
        repaired = [_SURROGATE.sub("\ufffd", v) if isinstance(v, str) else v for v in values.tolist()]
        return pd.Series(repaired, index=values.index, dtype="object").astype("string")


def _messages(frame: pd.DataFrame) -> pa.ChunkedArray:
    """The message column as arrow strings, without copying an arrow-backed column."""
    col = frame["message"]
    arr = None
    if hasattr(col.array, "__arrow_array__"):
        try:
            arr = pa.array(col.array) if not hasattr(col.array, "_pa_array") else col.array._pa_array
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            arr = None
    if arr is None or not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        arr = pa.array(_as_text(col).array)
    if isinstance(arr, pa.Array):
        arr = pa.chunked_array([arr])
    if arr.type != STR:
        arr = arr.cast(STR)
    return arr


_BATCH = 131072


def _workers() -> int:
    """Parser threads: ``INCIDENTKIT_PARSE_THREADS`` or the CPUs this process may use."""
    env = os.environ.get("INCIDENTKIT_PARSE_THREADS", "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _batches(msgs: pa.ChunkedArray) -> Any:
    """``(start, array)`` slices of at most :data:`_BATCH` rows (copies only to join small chunks)."""
    n = len(msgs)
    for start in range(0, n, _BATCH):
        sl = msgs.slice(start, min(_BATCH, n - start))
        chunks = [c for c in sl.chunks if len(c)]
        arr = chunks[0] if len(chunks) == 1 else pa.concat_arrays(chunks) if chunks else pa.array([], type=STR)
        if arr.null_count:
            arr = arr.fill_null("")
        yield start, arr


def _to_pandas(name: str, col: Any) -> Any:
    typ = FIELD_TYPES[name]
    if name in _dictionary.FIELDS:
        return _dictionary.to_pandas(col).array
    if typ == STR:
        return pd.arrays.ArrowStringArray(col)
    if typ == F64:
        return col
    values, valid = col
    if typ == I64:
        return pd.arrays.IntegerArray(values, ~valid)
    if name == "parse_error":
        return values & valid
    return pd.arrays.BooleanArray(values, ~valid)


def _record_times(tstr: pa.Array, tnum: pa.Array) -> pd.Series:
    """The record's own time as UTC: ISO strings (``,`` decimal separator accepted), epoch
    numbers or digit strings (s, ms or µs by magnitude), CLF and ``date``-style strings."""
    n = len(tstr)
    out = pd.Series(pd.NaT, index=range(n), dtype=schema.UTC_NS)
    num = tnum.to_numpy(zero_copy_only=False)
    s = pd.Series(pd.arrays.ArrowStringArray(tstr))
    digits = s.str.fullmatch(r"\d{9,19}(?:\.\d+)?").fillna(False).to_numpy(dtype=bool)
    if digits.any():
        num = num.copy()
        num[digits & np.isnan(num)] = pd.to_numeric(s[digits], errors="coerce").to_numpy()[np.isnan(num[digits])]
    has_num = ~np.isnan(num)
    if has_num.any():
        v = num[has_num]
        ms = np.where(v > 1e17, v / 1e6, np.where(v > 1e14, v / 1e3, np.where(v > 1e11, v, v * 1e3)))
        ms = np.where(np.abs(ms) < 9.2e12, ms, np.nan)  # beyond datetime64[ns] (years 1677-2262): no time
        out[has_num] = pd.to_datetime(ms, unit="ms", utc=True, errors="coerce").astype(schema.UTC_NS)
    todo = s.notna().to_numpy(dtype=bool) & ~has_num
    if todo.any():
        txt = s[todo].str.replace(r"^(\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d),(\d+)", r"\1.\2", regex=True)
        got = pd.Series(pd.NaT, index=txt.index, dtype=schema.UTC_NS)
        zoned = txt.str.contains(r"(?:Z|[+-]\d\d:?\d\d)$", regex=True).fillna(False).to_numpy(dtype=bool)
        iso = txt.str.match(r"\d{4}-\d\d-\d\d").fillna(False).to_numpy(dtype=bool)
        if (iso & zoned).any():  # zoned and naive parsed apart: a mixed call shifts naive times on pandas 2.2
            got[iso & zoned] = pd.to_datetime(txt[iso & zoned], utc=True, errors="coerce", format="ISO8601").astype(schema.UTC_NS)
        if (iso & ~zoned).any():  # naive ISO times are UTC
            naive = pd.to_datetime(txt[iso & ~zoned], errors="coerce", format="ISO8601")
            got[iso & ~zoned] = naive.dt.tz_localize("UTC").astype(schema.UTC_NS)
        for fmt in ("%d/%b/%Y:%H:%M:%S %z", "%a %b %d %H:%M:%S UTC %Y"):
            miss = got.isna().to_numpy()
            if not miss.any():
                break
            got[miss] = pd.to_datetime(txt[miss], utc=True, errors="coerce", format=fmt).astype(schema.UTC_NS)
        out.loc[got.index] = got
    return out


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
    Lines are parsed in batches of 131,072, in as many threads as the process has CPUs
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
    frame = _as_events(events)
    attrs = dict(frame.attrs)
    n = len(frame)
    base = _event_columns(frame)
    if n == 0:
        out = schema.empty_frame("parsed")
        out.attrs.update(attrs)
        out.attrs["parse_stats"] = {"events": 0, "parsed": 0, "errors": 0, "by_format": {}, "error_reasons": {}}
        return out
    msgs = _messages(frame)
    ts_missing = base["timestamp"].isna().to_numpy()

    groups = _group_names(base["log_group"])
    numeric: dict[str, Any] = {}
    for name in _FIELDS + _INTERNAL:
        typ = FIELD_TYPES[name]
        if typ == F64:
            numeric[name] = np.empty(n)
        elif typ in (I64, BOOL):
            numeric[name] = (np.empty(n, dtype=np.int64 if typ == I64 else bool), np.empty(n, dtype=bool))

    def run(start: int, arr: pa.Array) -> dict[str, Any]:
        """One batch: dispatch, put rows back in order, derive function name and app version."""
        m = len(arr)
        idx = np.arange(m)
        if format == "text":
            parts = _text.plain_text(arr, idx)
        else:
            parts = _dispatch(arr, idx, fm, _engine, ts_missing[start : start + m])
        views = {k: (v[start : start + m] if isinstance(v, np.ndarray) else (v[0][start : start + m], v[1][start : start + m])) for k, v in numeric.items()}
        cols = assemble(parts, m, _FIELDS + _INTERNAL, views)  # numeric columns land in place
        del parts
        _derive(cols, None if groups is None else groups.slice(start, m))
        if format in ("auto", "text"):  # else after _force_format, which needs the text
            _dictionary.encode(cols)
        return {k: v for k, v in cols.items() if k not in numeric}

    batches = _batches(msgs)
    workers = min(_workers(), -(-n // _BATCH))
    results: list[dict[str, Any]] = []
    if workers <= 1:
        results = [run(start, arr) for start, arr in batches]
    else:  # batches in parallel threads: pyarrow's kernels and reader release the GIL
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="incidentkit-parse") as pool:
            pending: list[Any] = []
            for start, arr in batches:
                pending.append(pool.submit(run, start, arr))
                if len(pending) > workers:  # bound the batches in flight (memory)
                    results.append(pending.pop(0).result())
            results += [fut.result() for fut in pending]
    cols = {name: _concat(name, [r.pop(name) for r in results]) for name in _FIELDS + _INTERNAL if name not in numeric}
    cols.update(numeric)
    del results
    if format not in ("auto", "text"):
        cols = _force_format(cols, format, n)
        _dictionary.encode(cols)

    data: dict[str, Any] = {}
    ts = base["timestamp"]
    if ts_missing.any() and (cols["_time_str"].null_count < n or (~np.isnan(cols["_time_num"])).any()):
        rows = np.flatnonzero(ts_missing)
        rec = _record_times(cols["_time_str"].take(pa.array(rows)).combine_chunks(), pa.array(cols["_time_num"][rows]))
        ts = ts.copy()
        ts.iloc[rows] = rec.to_numpy()
    data["timestamp"] = ts
    data["ingestion_time"] = base["ingestion_time"]
    data["log_group"] = base["log_group"]
    stream = base["log_stream"]
    if stream.isna().any() and cols["_log_stream"].null_count < n:
        own = pa.chunked_array([pa.array(stream.array, type=STR, from_pandas=True)])
        stream = pd.Series(pd.arrays.ArrowStringArray(pc.coalesce(own, cols["_log_stream"])), index=stream.index)
    data["log_stream"] = stream
    data["event_id"] = base["event_id"]
    data["message"] = base["message"]
    for name in _FIELDS:
        data[name] = _to_pandas(name, cols.pop(name))  # each column's batches freed as it is converted
    del cols
    out = pd.DataFrame(data, index=pd.RangeIndex(n), copy=False)
    out.attrs.update(attrs)
    del data
    pa.default_memory_pool().release_unused()  # hand the batches' scratch memory back

    errors = out["parse_error"].to_numpy()
    n_err = int(errors.sum())
    by_format = {str(k): int(v) for k, v in out["format"].value_counts(dropna=False).items() if v}
    reasons = {str(k): int(v) for k, v in out.loc[errors, "parse_error_reason"].value_counts().items() if v} if n_err else {}
    out.attrs["parse_stats"] = {"events": n, "parsed": n - n_err, "errors": n_err, "by_format": by_format, "error_reasons": reasons}
    log.debug("parsed %d log lines (%d errors): %s", n, n_err, by_format)
    if n_err:
        first = int(np.flatnonzero(errors)[0])
        text = f"{n_err} of {n} log lines could not be parsed (" + "; ".join(f"{r}: {c}" for r, c in reasons.items()) + ")"
        if strict:
            raise ParseError(
                f"line {first} could not be parsed: {out.at[first, 'parse_error_reason']}",
                line=first,
                text=str(out.at[first, "message"])[:200],
                errors=n_err,
            )
        out.attrs["issues"] = list(out.attrs.get("issues", [])) + [text]
        warnings.warn(text, IncompleteDataWarning, stacklevel=2)
    return out


def _group_names(log_group: pd.Series) -> pa.ChunkedArray | None:
    """Function name of each row from a ``/aws/lambda/<name>`` log group (else null)."""
    if not log_group.notna().any():
        return None
    codes, uniques = pd.factorize(log_group, use_na_sentinel=True)
    names = [u[len("/aws/lambda/") :] if isinstance(u, str) and u.startswith("/aws/lambda/") else None for u in uniques]
    if not any(names):
        return None
    return pa.chunked_array([pa.array(names + [None], type=STR).take(pa.array(np.where(codes < 0, len(names), codes)))])


def _derive(cols: dict[str, Any], function_names: pa.ChunkedArray | None) -> None:
    """Per batch: function name from the log group, app version from the User-Agent (not
    for CloudTrail, whose userAgent is the caller's SDK), and a plain parse-error mask."""
    values, valid = cols["parse_error"]
    values &= valid  # in place: these may be views of the frame's preallocated columns
    valid.fill(True)
    err = values
    if function_names is not None:
        fn = function_names.combine_chunks()
        if err.any():
            fn = pc.if_else(pa.array(err), pa.scalar(None, STR), fn)
        current = cols["function_name"]
        cols["function_name"] = fn if current.null_count == len(current) else pc.coalesce(current, fn)
    ua = cols["user_agent"]
    if ua.null_count < len(ua):
        need = pc.and_(ua.is_valid(), pc.invert(cols["app_version"].is_valid()))
        need = pc.and_(need, pc.invert(pc.equal(cols["format"], "cloudtrail").fill_null(False)))
        if pc.any(need).as_py():
            cand = pc.if_else(need, ua, pa.scalar(None, STR))
            vers = map_distinct(cand, lambda u: parse_user_agent(u)[1] if u is not None else None)
            cur = cols["app_version"]
            cols["app_version"] = vers if cur.null_count == len(cur) else pc.coalesce(cur, vers)


def _concat(name: str, pieces: list[Any]) -> Any:
    """Join the batches' columns: strings as one chunked arrow array (no copy)."""
    typ = FIELD_TYPES[name]
    if name in _dictionary.FIELDS and pieces and pa.types.is_dictionary(pieces[0].type):
        return list(pieces)  # index types differ between batches: joined by _dictionary.to_pandas
    if typ == STR:
        return pa.chunked_array(pieces, type=STR)
    if typ == F64:
        return pieces[0] if len(pieces) == 1 else np.concatenate(pieces)
    return (np.concatenate([p[0] for p in pieces]), np.concatenate([p[1] for p in pieces]))


def _event_columns(frame: pd.DataFrame) -> dict[str, pd.Series]:
    """The input's event columns, typed, without copying what is already right."""
    n = len(frame)
    out: dict[str, pd.Series] = {}
    for c in schema.EVENT_COLUMNS:
        dtype = schema.DTYPES[c]
        if c in frame.columns:
            s = frame[c].reset_index(drop=True)
            if str(s.dtype) != dtype:
                s = schema.utc(s) if dtype == schema.UTC_NS else _as_text(s) if dtype == "string" else s.astype(dtype)
        else:
            s = pd.Series(pd.NaT, index=range(n), dtype=dtype) if dtype == schema.UTC_NS else pd.Series(pd.NA, index=range(n), dtype=dtype)
        out[c] = s
    return out


_FAMILY = {"json": set(JSON_FORMATS) | {"json"}, "apigw_access": {"apigw_access"}, "lambda_platform": {"lambda_platform"}}


def _force_format(cols: dict[str, Any], format: str, n: int) -> dict[str, Any]:
    """Rows of another format become parse errors (``format`` given explicitly)."""
    allowed = _FAMILY.get(format, {format})
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


# --------------------------------------------------------------------------- ad-hoc fields


def extract(parsed_or_events: Any, paths: Sequence[str], *, formats: Sequence[str] | None = None) -> pd.DataFrame:
    """Any JSON fields by dotted path, one row per input row (for questions the fixed
    columns do not answer, e.g. CloudTrail's ``userIdentity.arn``).

    Parameters
    ----------
    parsed_or_events:
        A parsed frame, a logs frame or a list of messages. With a parsed frame only rows
        whose ``format`` is a JSON format (or in ``formats``) are read.
    paths:
        Dotted paths (``"userIdentity.arn"``, ``"requestParameters.groupId"``); a literal
        dotted key is matched too. Objects and lists come back as JSON text.

    Example
    -------
    >>> extract(['{"userIdentity": {"arn": "arn:aws:iam::1:user/a"}}', "plain"], ["userIdentity.arn"])["userIdentity.arn"].tolist()
    ['arn:aws:iam::1:user/a', <NA>]
    """
    import orjson

    frame = _as_events(parsed_or_events) if not isinstance(parsed_or_events, pd.DataFrame) else parsed_or_events
    if "message" not in frame.columns:
        raise ParameterError("extract() needs a 'message' column")
    msgs = frame["message"].astype("string").reset_index(drop=True)
    rows = np.ones(len(msgs), dtype=bool)
    if "format" in frame.columns:
        allowed = set(formats) if formats else set(JSON_FORMATS)
        rows = frame["format"].isin(allowed).to_numpy(dtype=bool)
    out: dict[str, list[Any]] = {p: [None] * len(msgs) for p in paths}
    for i in np.flatnonzero(rows & msgs.notna().to_numpy(dtype=bool)):
        text = msgs.iat[i]
        start = text.find("{")
        if start < 0:
            continue
        try:
            obj = orjson.loads(text[start:])
        except orjson.JSONDecodeError:
            continue
        if not isinstance(obj, dict):
            continue
        for p in paths:
            v = obj.get(p, _MISSING)
            if v is _MISSING:
                v = obj
                for key in p.split("."):
                    v = v.get(key, _MISSING) if isinstance(v, dict) else _MISSING
                    if v is _MISSING:
                        break
            if v is _MISSING or v is None:
                continue
            out[p][i] = v if isinstance(v, str) else orjson.dumps(v).decode() if isinstance(v, (dict, list)) else str(v).lower() if isinstance(v, bool) else str(v)
    return pd.DataFrame({p: pd.array(v, dtype="string") for p, v in out.items()}, index=frame.index)


_MISSING = object()


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
