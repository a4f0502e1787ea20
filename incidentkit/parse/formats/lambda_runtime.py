"""Application lines behind a Lambda runtime's prefix: Python ``[LEVEL]\\t<time>\\t<request
id>\\t<message>``, Node.js/Java ``<time>\\t<request id>\\t<LEVEL>\\t<message>``.

Source: *AWS Lambda Developer Guide*, "Log and monitor Python/Node.js/Java Lambda functions"
(the text log format). The prefix is an envelope around any content: the message is read
again with every format (``WRAPS``: JSON, a traceback, a timeout line ...), and the prefix
fills request id, level and time where the content has none. A plain-text message is a
``lambda_app`` ``log`` line whose level is the runtime's, and so is a stack trace logged
below ERROR (``console.log(new Error())`` prints one at INFO: it did not fail the request).
Node.js writes ``undefined`` as the request id before any request: no request id, the
time and level kept.

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
from .traceback import NAME as TRACEBACK

__all__ = ["FIELDS", "NAME", "RECOGNISE", "ROLE", "WRAPS", "parse"]

NAME = "lambda_app"
ROLE = "function"
#: ``parse`` takes the function that reads the message again.
WRAPS = True
#: ``undefined`` is the request id Node.js writes before any request (module load, init).
_RID = r"(?:" + UUID + r"|undefined)"
RECOGNISE = r"^(?:\[[A-Za-z]+\]\s|" + ISO + r"\s+" + _RID + r"(?:\s|$))"
FIELDS: tuple[Field, ...] = (
    ("Python: [LEVEL] time request-id message", "python2.7 (2017)"),
    ("Node.js: time request-id message", "nodejs4.3 (2016)"),
    ("Node.js: time request-id LEVEL message", "nodejs10.x (2019)"),
    ("Java: time request-id LEVEL message (LambdaLogger with log4j2)", "java8 (2017)"),
)

_PREFIX_PY = r"(?s)^\[(?P<lvl>[A-Za-z]+)\]\s+(?:(?P<ts>" + ISO + r")\s+(?P<rid>" + UUID + r")\s+)?(?P<rest>.*)$"
_PREFIX_TS = r"(?s)^(?P<ts>" + ISO + r")\s+(?P<rid>" + _RID + r")(?:\s+(?P<lvl>TRACE|DEBUG|INFO|WARN|WARNING|ERROR|FATAL|CRITICAL)\b)?\s*(?P<rest>.*)$"


def _prefix(arr: pa.Array) -> tuple[pa.Array, pa.Array, pa.Array, pa.Array]:
    """``(request id, level, time, message)`` of each line."""
    py = regex_struct(arr, _PREFIX_PY)
    ts = regex_struct(arr, _PREFIX_TS)
    is_py = py.is_valid()

    def pick(name: str) -> pa.Array:
        return pc.if_else(is_py, group(py, name), group(ts, name))

    rest = pc.if_else(is_py, pc.struct_field(py, "rest"), pc.struct_field(ts, "rest")).cast(STR)
    rid = pick("rid")
    rid = pc.if_else(pc.equal(rid, "undefined").fill_null(False), pa.scalar(None, STR), rid)  # no request yet
    return rid, normalize_level(pick("lvl"), len(arr)), pick("ts"), pc.fill_null(rest, "")


def _logged_not_raised(p: Part, plvl: pa.Array) -> None:
    """A stack trace the runtime prefix puts below ERROR (``console.log(new Error())`` at
    INFO) is an app line at that level, not an error the request ended in."""
    fmt = p.cols.get("format")
    if fmt is None:
        return
    below_error = pc.and_(plvl.is_valid(), pc.invert(pc.is_in(plvl, value_set=pa.array(["ERROR", "FATAL"], type=STR))))
    demote = pc.and_(pc.equal(fmt, TRACEBACK), below_error).fill_null(False)
    if not pc.any(demote).as_py():
        return
    p.cols["format"] = pc.if_else(demote, pa.scalar(NAME, STR), fmt)
    p.cols["record_type"] = pc.if_else(demote, pa.scalar("log", STR), p.cols["record_type"])
    p.cols["level"] = pc.if_else(demote, plvl, p.cols["level"])
    for name in ("error_type", "error_message", "operation"):
        if name in p.cols:
            p.cols[name] = pc.if_else(demote, pa.scalar(None, p.cols[name].type), p.cols[name])


def parse(arr: pa.Array, idx: np.ndarray, inner: Callable[[pa.Array, np.ndarray], list[Part]]) -> list[Part]:
    """Prefixed lines: the message read by ``inner``; request id, level and time from the prefix."""
    rid, lvl, tstr, rest = _prefix(arr)
    out: list[Part] = []
    for p in inner(rest, np.arange(len(arr))):
        local = p.idx
        p.idx = idx[local]
        sel = pa.array(local)
        p.fill("request_id", rid.take(sel))
        plvl = lvl.take(sel)
        _logged_not_raised(p, plvl)
        fmt = p.cols.get("format")
        if fmt is not None and "level" in p.cols:  # a text remainder: the runtime's level wins
            is_text = pc.equal(fmt, TEXT).fill_null(False)
            p.cols["level"] = pc.if_else(pc.and_(is_text, plvl.is_valid()), plvl, p.cols["level"])
        p.fill("level", plvl)
        p.fill("_time_str", tstr.take(sel))
        if fmt is not None:  # plain text after a runtime prefix is an app line
            p.cols["format"] = pc.if_else(pc.equal(fmt, TEXT).fill_null(False), pa.scalar(NAME, STR), fmt)
            rt = p.cols.get("record_type", nulls(len(p), STR))
            p.cols["record_type"] = pc.if_else(pc.equal(fmt, TEXT).fill_null(False), pc.coalesce(rt, pa.scalar("log", STR)), rt)
            first_line_as_error(p, rest.take(sel), (TEXT, NAME))
        out.append(p)
    return out
