"""Parse the lines of one log file (an S3 object) in batches, into the rows of the parsed frame.

The S3 reader (:mod:`incidentkit.fetch.s3logs.reader`) streams an object and hands its lines
here a batch at a time; it does not parse (fetch never imports parse). :func:`parse_batch`
runs the format's parser (:func:`incidentkit.parse.registry.load`: the format is its
entry), keeps the custom field list a header line sets (a VPC flow log's or a CloudFront
v2 file's ``#Fields:``) for the batches after it, drops the header lines, and gives the rows their record time (epoch ms or ISO text,
UTC) and where they came from (``log_group`` = the source's URL, ``log_stream`` = the key).

Columns: :data:`incidentkit.schema.PARSED_COLUMNS` plus each format's own
(:data:`incidentkit.parse.arrow.S3_FIELD_TYPES`: ``target``, ``target_status``,
``error_reason`` ...). An empty batch gives the columns with no rows.

Example
-------
>>> import pyarrow as pa
>>> line = ('http 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 '
...         '10.0.0.1:80 0.000 0.001 0.000 200 200 34 366 "GET http://www.example.com:80/ HTTP/1.1" '
...         '"curl/7.46.0" - - arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 '
...         '"Root=1-58337262-36d228ad5d99923122bbe354" "-" "-" 0 2018-07-02T22:22:48.364000Z "forward" "-" "-" '
...         '"10.0.0.1:80" "200" "-" "-"')
>>> got = parse_batch(pa.array([line]), "alb_access", log_group="s3://logs/alb/", log_stream="k.log.gz")
>>> got.lines, int(got.frame.at[0, "status"]), got.frame.at[0, "target"], str(got.frame.at[0, "timestamp"])
(1, 200, '10.0.0.1:80', '2018-07-02 22:23:00.186641+00:00')
"""

from __future__ import annotations

import functools
import inspect
from types import ModuleType
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .. import schema
from .arrow import BOOL, F64, FIELD_TYPES, I64, STR, S3_FIELD_TYPES, Part, assemble
from .registry import load as load_format

__all__ = ["Batch", "empty", "parse_batch", "record_times"]

#: Columns kept from the parsers' parts (the shared parsed fields, then each format's own).
_KEEP = tuple(schema.PARSED_FIELDS) + tuple(S3_FIELD_TYPES)


class Batch(NamedTuple):
    """One parsed batch: its rows (header lines dropped), how many lines were records, and the
    field list in effect after it (to hand to the next batch of the same object)."""

    frame: pd.DataFrame
    lines: int
    fields: str | None


def record_times(tstr: pa.Array, tnum: np.ndarray) -> pd.Series:
    """The records' own times as UTC: epoch milliseconds, else ISO-8601 text (naive = UTC).

    Example
    -------
    >>> record_times(pa.array(["2018-07-02T22:23:00.186641Z", None], type=STR), np.array([np.nan, 1.5e12])).tolist()
    [Timestamp('2018-07-02 22:23:00.186641+0000', tz='UTC'), Timestamp('2017-07-14 02:40:00+0000', tz='UTC')]
    """
    n = len(tstr)
    out = np.full(n, np.datetime64("NaT", "ns"))  # UTC, naive until the end: no Timestamp objects on the way
    has_num = ~np.isnan(tnum)
    if has_num.any():
        out[has_num] = pd.to_datetime(tnum[has_num], unit="ms").to_numpy()
    todo = ~has_num & np.asarray(tstr.is_valid())
    if todo.any():
        sub = tstr.filter(pa.array(todo))
        try:  # the common case: every record time is ISO with a zone (ALB, Classic ELB)
            got = sub.cast(pa.timestamp("ns", tz="UTC")).cast(pa.timestamp("ns")).to_numpy(zero_copy_only=False)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            got = pd.to_datetime(pd.Series(sub.to_pandas()), utc=True, errors="coerce", format="ISO8601").dt.tz_localize(None).to_numpy()
        out[todo] = got
    return pd.Series(pd.DatetimeIndex(out).tz_localize("UTC"), dtype=schema.UTC_NS)


def _columns(parts: list[Part], n: int) -> dict[str, Any]:
    """The parts as one column each (strings stay Arrow; numbers and flags as pandas arrays)."""
    names = [*_KEEP, "_time_str", "_time_num"]
    cols = assemble(parts, n, names)
    out: dict[str, Any] = {}
    for name in names:
        typ, col = FIELD_TYPES[name], cols[name]
        if typ in (STR, F64):
            out[name] = col
        elif typ == I64:
            out[name] = pd.arrays.IntegerArray(col[0], ~col[1])
        elif name == "parse_error":
            out[name] = col[0] & col[1]
        elif typ == BOOL:
            out[name] = pd.arrays.BooleanArray(col[0], ~col[1])
    return out


@functools.cache
def _takes_fields(fmt: ModuleType) -> bool:
    """Whether a format's parser takes the field list a header line or the resource's
    configuration sets (``parse(arr, idx, *, fields=...)``: VPC Flow Logs, CloudFront)."""
    return "fields" in inspect.signature(fmt.parse).parameters


def _run_parser(log_format: str, lines: pa.Array, fields: str | None) -> tuple[list[Part], str | None]:
    fmt = load_format(log_format)
    idx = np.arange(len(lines))
    parts = fmt.parse(lines, idx, fields=fields) if _takes_fields(fmt) else fmt.parse(lines, idx)
    for p in parts:  # a header line sets the fields of the batches after it
        if len(p) and p.cols["record_type"][0].as_py() == "header":
            last = str(lines[int(p.idx[-1])])
            fields = last[len("#Fields:"):].strip() if last.startswith("#Fields:") else last
    return parts, fields


def parse_batch(lines: pa.Array, log_format: str, *, fields: str | None = None, log_group: str = "",
                log_stream: str = "") -> Batch:
    """Parse ``lines`` (one batch of one object, in order) as ``log_format`` (see the module docstring)."""
    lines = lines.cast(STR) if lines.type != STR else lines
    parts, fields = _run_parser(log_format, lines, fields)
    cols = _columns(parts, len(lines))
    record = ~np.asarray(pc.equal(cols["record_type"], "header").fill_null(False))
    ts = record_times(cols.pop("_time_str"), cols.pop("_time_num"))
    sel = pa.array(np.flatnonzero(record), type=pa.int64())
    n = int(record.sum())
    data: dict[str, Any] = {
        "timestamp": ts[record].reset_index(drop=True),
        "ingestion_time": pd.Series(pd.NaT, index=range(n), dtype=schema.UTC_NS),
        "log_group": pd.Series([log_group] * n, dtype="string"),
        "log_stream": pd.Series([log_stream] * n, dtype="string"),
        "event_id": pd.Series(pd.NA, index=range(n), dtype="string"),
        "message": pd.Series(pd.arrays.ArrowStringArray(lines.take(sel))),
    }
    for name, col in cols.items():
        if isinstance(col, (pa.Array, pa.ChunkedArray)):
            data[name] = pd.Series(pd.arrays.ArrowStringArray(col.take(sel)))
        else:
            data[name] = pd.Series(col[record]).reset_index(drop=True)
    return Batch(pd.DataFrame(data), n, fields)


def empty() -> pd.DataFrame:
    """The parsed frame's columns (the shared ones and every format's own), no rows."""
    out = schema.empty_frame("parsed")
    for name, typ in S3_FIELD_TYPES.items():
        out[name] = pd.Series([], dtype="string" if typ == STR else "Int64" if typ == I64 else "float64")
    return out
