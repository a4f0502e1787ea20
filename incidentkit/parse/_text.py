"""What the text log formats share (private; used by :mod:`incidentkit.parse.formats`).

The patterns of a Lambda request id and an ISO time, RE2 extraction over whole arrays
(:func:`regex_struct`, :func:`group`), reading an error type, AWS operation and message out
of an error text (:func:`error_fields_from_text`: exception classes, botocore/Go/Ruby AWS
error codes), and marking rows that claim a format but fail it (:func:`mark_errors`).

Every helper is vectorised with pyarrow compute (RE2 regexes).

Example
-------
>>> import pyarrow as pa
>>> et, op, msg = error_fields_from_text(pa.array(
...     ["An error occurred (ThrottlingException) when calling the Query operation: Rate exceeded"], type=pa.large_string()))
>>> et.to_pylist(), op.to_pylist(), msg.to_pylist()
(['ThrottlingException'], ['Query'], ['Rate exceeded'])
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .arrow import STR, Part, as_str, mask_np, nulls

__all__ = [
    "GENERIC_CLASSES",
    "ISO",
    "OOM_RE",
    "UUID",
    "error_fields_from_text",
    "first_line_as_error",
    "group",
    "mark_errors",
    "regex_struct",
]

UUID = r"[0-9A-Za-z]{8}-[0-9A-Za-z]{4}-[0-9A-Za-z]{4}-[0-9A-Za-z]{4}-[0-9A-Za-z]{12}"
ISO = r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?"

def regex_struct(arr: pa.Array, pattern: str) -> pa.StructArray:
    """``pyarrow.compute.extract_regex``: one struct field per named group, null where no match."""
    return pc.extract_regex(arr, pattern)


def group(struct: pa.StructArray, name: str) -> pa.Array:
    """A group of a :func:`regex_struct` result as text, null where the regex did not match."""
    child = pc.struct_field(struct, name)
    child = pc.if_else(struct.is_valid(), child, pa.scalar(None, child.type))
    return as_str(child, len(child))


# --------------------------------------------------------------------------- error text

_ERR_HINT = r"Error|Exception|Exceeded|Fault|Failure|Timeout|Throttled|Denied|error occurred|api error|error_class="
GENERIC_CLASSES = {"ClientError", "botocore.exceptions.ClientError", "Error", "Exception", "RuntimeError"}
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
    boto = regex_struct(texts, r"An error occurred \((?P<code>[^)\s]+)\) when calling the (?P<op>\w+) operation(?: \(reached max retries: \d+\))?: (?P<msg>[^\n]*)")
    gov2 = regex_struct(texts, r"operation error [^:,]+: (?P<op>\w+),.*?api error (?P<code>\w+): (?P<msg>[^\n]*)")
    ruby = regex_struct(texts, r"error_class=(?P<cls>[\w:]+)(?: error=\"(?P<msg>[^\"]*)\")?")
    lead = regex_struct(texts, r"^(?:\S+ ){0,3}?(?:\[\w+\] )?(?:Caused by: |Error: |Exception: |\w+: )?(?P<cls>" + _EXC + r")(?::[ \t]*(?P<msg>[^\n]*)|[ \t]*$|[ \t]*\n)")
    anyq = regex_struct(texts, r"(?:^|[\s(\[])(?P<cls>(?:[a-z_][\w$]*\.)+[A-Z][\w$]*(?:Error|Exception))(?::[ \t]*(?P<msg>[^\n]*))?")
    code = pc.coalesce(group(boto, "code"), group(gov2, "code"))
    cls = pc.coalesce(group(lead, "cls"), group(ruby, "cls"), group(anyq, "cls"))
    generic = pc.is_in(cls, value_set=pa.array(sorted(GENERIC_CLASSES), type=STR)).fill_null(False)
    etype = pc.if_else(pc.and_(generic, code.is_valid()), code, pc.coalesce(cls, code))
    op = pc.coalesce(group(boto, "op"), group(gov2, "op"))
    msg = pc.coalesce(group(boto, "msg"), group(gov2, "msg"), group(ruby, "msg"), group(lead, "msg"), group(anyq, "msg"))
    return etype.cast(STR), op.cast(STR), msg.cast(STR)


OOM_RE = r"(?i)(?:Runtime\.OutOfMemory|signal: killed|JavaScript heap out of memory|java\.lang\.OutOfMemoryError|MemoryError\b)"


def mark_errors(part: Part, bad: pa.Array, reason: pa.Array) -> None:
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


def first_line_as_error(p: Part, texts: pa.Array, textual_formats: tuple[str, ...]) -> None:
    """ERROR/FATAL text lines without an error message get their first line as one."""
    lvl = p.cols.get("level")
    fmt = p.cols.get("format")
    if lvl is None or fmt is None:
        return
    textual = pc.is_in(fmt, value_set=pa.array(list(textual_formats), type=STR))
    errorish = pc.and_(pc.is_in(lvl, value_set=pa.array(["ERROR", "FATAL"], type=STR)), textual).fill_null(False)
    if not pc.any(errorish).as_py():
        return
    first = group(regex_struct(texts, r"^(?P<l>[^\n]*)"), "l")
    p.fill("error_message", pc.if_else(errorish, first, pa.scalar(None, STR)))

