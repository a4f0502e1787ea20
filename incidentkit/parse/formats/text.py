"""Text in no known format: ``format="text"`` (not a parse error), the lines no other format
claims. A level word near the start (``[ERROR]``, ``WARN``, ``error:``), out-of-memory
markers and error texts (exception classes, AWS SDK errors) are read.

Example
-------
>>> from incidentkit import parse
>>> df = parse.parse(["WARN pool exhausted: sqlalchemy.exc.TimeoutError: QueuePool limit of size 5 overflow 10 reached"])
>>> print(df.at[0, "format"], df.at[0, "level"], df.at[0, "error_type"])
text WARN sqlalchemy.exc.TimeoutError
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .._text import (
    OOM_RE,
    error_fields_from_text,
    first_line_as_error,
    group,
    regex_struct,
)
from ..arrow import STR, Part, mask_np, normalize_level, scalar_str
from ._keys import Field

__all__ = ["FIELDS", "NAME", "RECOGNISE", "ROLE", "parse"]

NAME = "text"
ROLE = "app"
#: ``None``: takes every line left (tried last).
RECOGNISE = None
FIELDS: tuple[Field, ...] = ()

_LEVEL_WORDS = "TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|ERR|FATAL|CRITICAL|SEVERE"
# a level word among the first four tokens: bracketed (any case), upper-case, or followed
# by a colon ("error: ..."); prose such as "An error occurred" is not a level
_TEXT_LEVEL = (
    r"^(?:[^\s]+\s+){0,3}?(?:\[(?P<a>(?i:" + _LEVEL_WORDS + r"))\]|(?P<b>" + _LEVEL_WORDS + r")(?:[\s:]|$)|(?P<c>(?i:" + _LEVEL_WORDS + r")):)"
)


def parse(arr: pa.Array, idx: np.ndarray) -> list[Part]:
    """Text in no known format (``format="text"``, not a parse error). A level word near
    the start, OOM markers and error texts (exception classes, AWS SDK errors) are read."""
    n = len(arr)
    p = Part(idx)
    p.set("format", scalar_str(NAME, n))
    if n == 0:
        return [p]
    lx = regex_struct(arr, _TEXT_LEVEL)
    lvl = normalize_level(pc.coalesce(group(lx, "a"), group(lx, "b"), group(lx, "c")), n)
    errorish = mask_np(pc.match_substring_regex(arr, r"(?i)error|exception|fault|throttl|exceeded|denied|out of memory|signal: killed"))
    oom = mask_np(pc.match_substring_regex(arr, OOM_RE))
    if errorish.any():
        sel = np.flatnonzero(errorish)
        et, op, em = error_fields_from_text(arr.take(pa.array(sel)))
        back = np.full(n, -1, dtype=np.int64)
        back[sel] = np.arange(len(sel))
        bidx = pa.array(back, mask=back < 0)
        et, op, em = et.take(bidx), op.take(bidx), em.take(bidx)
        et = pc.if_else(pa.array(oom), pc.coalesce(et, pa.scalar("Runtime.OutOfMemory", STR)), et)
        has = pc.or_(et.is_valid(), op.is_valid())
        first_line = group(regex_struct(arr, r"^(?P<l>[^\n]*)"), "l")
        p.set("error_type", et)
        p.set("operation", op)
        p.set("error_message", pc.if_else(has, pc.coalesce(em, first_line), pa.scalar(None, STR)))
        lvl = pc.if_else(pc.and_(pa.array(oom), pc.invert(lvl.is_valid())), pa.scalar("FATAL", STR), lvl)
    p.set("record_type", pc.if_else(pa.array(oom), pa.scalar("oom", STR), pa.scalar(None, STR)))
    p.set("level", lvl)
    first_line_as_error(p, arr, (NAME,))
    return [p]
