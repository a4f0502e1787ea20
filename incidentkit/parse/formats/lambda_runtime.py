"""Application lines behind a Lambda runtime's prefix: Python ``[LEVEL]\\t<time>\\t<request
id>\\t<message>``, Node.js/Java ``<time>\\t<request id>\\t<LEVEL>\\t<message>``.

Source: *AWS Lambda Developer Guide*, "Log and monitor Python/Node.js/Java Lambda functions"
(the text log format). The prefix is an envelope around any content: the message is read
again with every format (``WRAPS``: JSON, a traceback, a timeout line ...), and the prefix
fills request id, level and time where the content has none. A plain-text message is a
``lambda_app`` ``log`` line whose level is the runtime's.

Example
-------
>>> from incidentkit import parse
>>> df = parse.parse(["2024-01-01T00:00:00.000Z\\t6bc28136-aaaa-4365-b021-0ce6b2e64ab0\\tWARN\\tslow downstream"])
>>> print(df.at[0, "format"], df.at[0, "level"], df.at[0, "request_id"])
lambda_app WARN 6bc28136-aaaa-4365-b021-0ce6b2e64ab0
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .._text import ISO, UUID, first_line_as_error, group, regex_struct
from ..arrow import STR, Part, normalize_level, nulls
from ._keys import Field
from .text import NAME as TEXT

__all__ = ["FIELDS", "NAME", "RECOGNISE", "ROLE", "WRAPS", "parse"]

NAME = "lambda_app"
ROLE = "function"
#: ``parse`` takes the function that reads the message again.
WRAPS = True
RECOGNISE = r"^(?:\[[A-Za-z]+\]\s|" + ISO + r"\s+" + UUID + r"(?:\s|$))"
FIELDS: tuple[Field, ...] = (
    ("Python: [LEVEL] time request-id message", "python2.7 (2017)"),
    ("Node.js: time request-id message", "nodejs4.3 (2016)"),
    ("Node.js: time request-id LEVEL message", "nodejs10.x (2019)"),
    ("Java: time request-id LEVEL message (LambdaLogger with log4j2)", "java8 (2017)"),
)

_PREFIX_PY = r"(?s)^\[(?P<lvl>[A-Za-z]+)\]\s+(?:(?P<ts>" + ISO + r")\s+(?P<rid>" + UUID + r")\s+)?(?P<rest>.*)$"
_PREFIX_TS = r"(?s)^(?P<ts>" + ISO + r")\s+(?P<rid>" + UUID + r")(?:\s+(?P<lvl>TRACE|DEBUG|INFO|WARN|WARNING|ERROR|FATAL|CRITICAL)\b)?\s*(?P<rest>.*)$"


def _prefix(arr: pa.Array) -> tuple[pa.Array, pa.Array, pa.Array, pa.Array]:
    """``(request id, level, time, message)`` of each line."""
    py = regex_struct(arr, _PREFIX_PY)
    ts = regex_struct(arr, _PREFIX_TS)
    is_py = py.is_valid()

    def pick(name: str) -> pa.Array:
        return pc.if_else(is_py, group(py, name), group(ts, name))

    rest = pc.if_else(is_py, pc.struct_field(py, "rest"), pc.struct_field(ts, "rest")).cast(STR)
    return pick("rid"), normalize_level(pick("lvl"), len(arr)), pick("ts"), pc.fill_null(rest, "")


def parse(arr: pa.Array, idx: np.ndarray, inner: Callable[[pa.Array, np.ndarray], list[Part]]) -> list[Part]:
    """Prefixed lines: the message read by ``inner``; request id, level and time from the prefix."""
    rid, lvl, tstr, rest = _prefix(arr)
    out: list[Part] = []
    for p in inner(rest, np.arange(len(arr))):
        local = p.idx
        p.idx = idx[local]
        sel = pa.array(local)
        fmt = p.cols.get("format")
        p.fill("request_id", rid.take(sel))
        plvl = lvl.take(sel)
        if fmt is not None and "level" in p.cols:  # a text remainder: the runtime's level wins
            is_text = pc.equal(fmt, TEXT).fill_null(False)
            p.cols["level"] = pc.if_else(pc.and_(is_text, plvl.is_valid()), plvl, p.cols["level"])
        p.fill("level", plvl)
        p.fill("_time_str", tstr.take(sel))
        if fmt is not None:  # plain text after a runtime prefix is an app line
            p.cols["format"] = pc.if_else(pc.equal(fmt, TEXT).fill_null(False), pa.scalar(NAME, STR), fmt)
            rt = p.cols.get("record_type", nulls(len(p), STR))
            p.cols["record_type"] = pc.if_else(pc.equal(fmt, TEXT).fill_null(False), pc.coalesce(rt, pa.scalar("log", STR)), rt)
            first_line_as_error(p, rest.take(sel))
        out.append(p)
    return out
