"""The frame around the parsers (private; used by :func:`incidentkit.parse.parse`): the input
as events and arrow batches, the parsed columns back into a typed frame, the record's own
time when the event has none, and the parse statistics.

Example
-------
>>> as_events(["a", None])["message"].tolist()
['a', <NA>]
"""

from __future__ import annotations

import logging
import math
import os
import re
import warnings
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .. import schema
from ..errors import IncompleteDataWarning, ParameterError, ParseError
from . import _dictionary, registry
from .arrow import F64, FIELD_TYPES, I64, STR
from .useragent import parse_user_agent

__all__ = ["BATCH", "add_parse_stats", "arrow_text", "as_events", "concat", "derive", "event_columns", "frame_from_columns",
           "function_names", "group_names", "message_batches", "messages", "record_times", "release_unused", "workers_wanted"]

log = logging.getLogger("incidentkit.parse")

_FIELDS = list(schema.PARSED_FIELDS)


def as_events(events: Any) -> pd.DataFrame:
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
    frame = pd.DataFrame({"message": as_text(msgs)})
    return frame


_SURROGATE = re.compile("[\ud800-\udfff]")


def as_text(values: pd.Series) -> pd.Series:
    """``values`` as the ``string`` dtype. Python text may hold lone UTF-16 surrogates
    (``json.loads('"\\ud83d"')``, bytes decoded with ``surrogateescape``) that no UTF-8
    column can store: each becomes U+FFFD, as ``logs.events`` does at fetch time."""
    try:
        return values.astype("string")
    except UnicodeEncodeError:
        repaired = [_SURROGATE.sub("\ufffd", v) if isinstance(v, str) else v for v in values.tolist()]
        return pd.Series(repaired, index=values.index, dtype="object").astype("string")


def messages(frame: pd.DataFrame) -> pa.ChunkedArray:
    """The message column as arrow strings, without copying an arrow-backed column."""
    return arrow_text(frame["message"])


def arrow_text(col: pd.Series) -> pa.ChunkedArray:
    """A text column as arrow ``large_string``, without copying an arrow-backed column."""
    arr = None
    if hasattr(col.array, "__arrow_array__"):
        try:
            arr = pa.array(col.array) if not hasattr(col.array, "_pa_array") else col.array._pa_array
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            arr = None
    if arr is None or not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        arr = pa.array(as_text(col).array)
    if isinstance(arr, pa.Array):
        arr = pa.chunked_array([arr])
    if arr.type != STR:
        arr = arr.cast(STR)
    return arr


#: Rows a parser thread reads at a time. The batches in flight (one per thread, plus one
#: queued) are the parse's scratch memory on top of the frame being built: at 1M events on
#: two threads the peak RSS added is 0.82-0.84x the raw messages with 32,768 (0.94-0.96x
#: with 65,536, for no CPU gain measured; 1.3-1.5x with 131,072 before that; benchmarks/README.md,
#: rows 2c and 2e).
BATCH = 32768


def workers_wanted() -> int:
    """Parser threads: ``INCIDENTKIT_PARSE_THREADS`` or the CPUs this process may use."""
    env = os.environ.get("INCIDENTKIT_PARSE_THREADS", "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def release_unused() -> None:
    """Hand the memory arrow's allocator holds free back to the OS, for the calling thread.

    The default pool (mimalloc) keeps a thread's freed pages for reuse by that thread and
    returns them only after a delay, so while two parser threads each work on a batch, each
    keeps its own high-water mark of scratch (the JSON lines' copy, the reader's table) on
    top of the frame being built: measured at 1M events, ~70 MiB of the peak RSS. Called in
    each parser thread between a batch's phases; a call costs a few microseconds."""
    pa.default_memory_pool().release_unused()


def message_batches(msgs: pa.ChunkedArray) -> Any:
    """``(start, array)`` slices of at most :data:`BATCH` rows (copies only to join small chunks)."""
    n = len(msgs)
    for start in range(0, n, BATCH):
        sl = msgs.slice(start, min(BATCH, n - start))
        chunks = [c for c in sl.chunks if len(c)]
        arr = chunks[0] if len(chunks) == 1 else pa.concat_arrays(chunks) if chunks else pa.array([], type=STR)
        if arr.null_count:
            arr = arr.fill_null("")
        yield start, arr


def to_pandas(name: str, col: Any) -> Any:
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


def record_times(tstr: pa.Array, tnum: pa.Array) -> pd.Series:
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



_LAMBDA_GROUP = "/aws/lambda/"


def group_names(log_group: pd.Series) -> pa.ChunkedArray | None:
    """The log groups as arrow text when some row's is ``/aws/lambda/<name>`` (else ``None``:
    no function name to read from them); :func:`derive` reads the names a batch at a time,
    in the parser threads."""
    if not log_group.notna().any():
        return None
    groups = arrow_text(log_group)
    named = pc.and_(pc.starts_with(groups, _LAMBDA_GROUP), pc.greater(pc.binary_length(groups), len(_LAMBDA_GROUP)))
    return groups if pc.any(named).as_py() else None


def function_names(groups: pa.ChunkedArray) -> pa.Array:
    """Function name of each row from its ``/aws/lambda/<name>`` log group (else null), each
    distinct group read once.

    Example
    -------
    >>> function_names(pa.chunked_array([["/aws/lambda/pay", None, "/ecs/web", "/aws/lambda/pay"]])).to_pylist()
    ['pay', None, None, 'pay']
    """
    enc = pc.dictionary_encode(groups.combine_chunks())
    names = [g[len(_LAMBDA_GROUP) :] if g.startswith(_LAMBDA_GROUP) else None for g in enc.dictionary.to_pylist()]
    return pa.array(names, type=STR).take(enc.indices)


def derive(cols: dict[str, Any], groups: pa.ChunkedArray | None) -> None:
    """Per batch: function name from the log group (``groups``: the batch's rows of
    :func:`group_names`), app version from the User-Agent (not for CloudTrail, whose
    userAgent is the caller's SDK), and a plain parse-error mask."""
    values, valid = cols["parse_error"]
    values &= valid  # in place: these may be views of the frame's preallocated columns
    valid.fill(True)
    err = values
    if groups is not None:
        fn = function_names(groups)
        if err.any():
            fn = pc.if_else(pa.array(err), pa.scalar(None, STR), fn)
        current = cols["function_name"]
        cols["function_name"] = fn if current.null_count == len(current) else pc.coalesce(current, fn)
    ua = cols["user_agent"]
    if ua.null_count < len(ua):
        need = pc.and_(ua.is_valid(), pc.invert(cols["app_version"].is_valid()))
        changes = pa.array(registry.format_names("change"), type=STR)  # their userAgent is the caller's SDK
        need = pc.and_(need, pc.invert(pc.is_in(cols["format"], value_set=changes).fill_null(False)))
        if pc.any(need).as_py():  # each distinct User-Agent read once (already encoded when the rows were put in order)
            enc = ua if pa.types.is_dictionary(ua.type) else pc.dictionary_encode(ua)
            versions = pa.array([parse_user_agent(u)[1] for u in enc.dictionary.to_pylist()], type=STR)
            vers = pc.if_else(need, versions.take(enc.indices), pa.scalar(None, STR))
            cur = cols["app_version"]
            cols["app_version"] = vers if cur.null_count == len(cur) else pc.coalesce(cur, vers)


def concat(name: str, pieces: list[Any]) -> Any:
    """Join the batches' columns: strings as one chunked arrow array (no copy)."""
    typ = FIELD_TYPES[name]
    if name in _dictionary.FIELDS and pieces and pa.types.is_dictionary(pieces[0].type):
        return list(pieces)  # index types differ between batches: joined by _dictionary.to_pandas
    if typ == STR:
        return pa.chunked_array(pieces, type=STR)
    if typ == F64:
        return pieces[0] if len(pieces) == 1 else np.concatenate(pieces)
    return (np.concatenate([p[0] for p in pieces]), np.concatenate([p[1] for p in pieces]))


def event_columns(frame: pd.DataFrame) -> dict[str, pd.Series]:
    """The input's event columns, typed, without copying what is already right."""
    n = len(frame)
    out: dict[str, pd.Series] = {}
    for c in schema.EVENT_COLUMNS:
        dtype = schema.DTYPES[c]
        if c in frame.columns:
            s = frame[c].reset_index(drop=True)
            if str(s.dtype) != dtype:
                s = schema.utc(s) if dtype == schema.UTC_NS else as_text(s) if dtype == "string" else s.astype(dtype)
        else:
            s = pd.Series(pd.NaT, index=range(n), dtype=dtype) if dtype == schema.UTC_NS else pd.Series(pd.NA, index=range(n), dtype=dtype)
        out[c] = s
    return out


def frame_from_columns(base: dict[str, pd.Series], cols: dict[str, Any], n: int, attrs: dict[str, Any]) -> pd.DataFrame:
    """The parsed frame: the events' own columns (time from the record where the event had
    none, the ``sam logs`` stream where it had no stream), then every parsed field typed."""
    ts_missing = base["timestamp"].isna().to_numpy()
    data: dict[str, Any] = {}
    ts = base["timestamp"]
    if ts_missing.any() and (cols["_time_str"].null_count < n or (~np.isnan(cols["_time_num"])).any()):
        rows = np.flatnonzero(ts_missing)
        rec = record_times(cols["_time_str"].take(pa.array(rows)).combine_chunks(), pa.array(cols["_time_num"][rows]))
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
        data[name] = to_pandas(name, cols.pop(name))  # each column's batches freed as it is converted
    del cols
    out = pd.DataFrame(data, index=pd.RangeIndex(n), copy=False)
    out.attrs.update(attrs)
    del data
    release_unused()  # hand the batches' scratch memory back
    return out


def add_parse_stats(out: pd.DataFrame, *, strict: bool) -> None:
    """``out.attrs["parse_stats"]``; parse errors listed in ``issues`` with an
    :class:`~incidentkit.errors.IncompleteDataWarning` (a :class:`~incidentkit.errors.ParseError`
    at the first one when ``strict``)."""
    n = len(out)
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
        warnings.warn(text, IncompleteDataWarning, stacklevel=3)


