"""The error records the Node.js Lambda runtime writes itself: ``Invoke Error``, ``Uncaught
Exception`` and ``Unhandled Promise Rejection``, each a label then the error as JSON
(``{"errorType", "errorMessage", "stack"}``, on one line or pretty-printed).

Source: the runtime's own output (``aws-lambda-nodejs-runtime-interface-client``, which logs
``<time>\\t<request id>\\tERROR\\tInvoke Error \\t{...}``; before any request the id is
``undefined``), as published in its issues and by users of every Node.js runtime since
``nodejs10.x``. The JSON is read like any JSON record (so ``error_type`` is the
``errorType``, ``error_message`` the ``errorMessage``); the row is a ``lambda_app`` line at
ERROR whose ``record_type`` says which failure it reports.

Example
-------
>>> from incidentkit import parse
>>> df = parse.parse(['2024-03-01T10:00:00.123Z\\t6bc28136-aaaa-4365-b021-0ce6b2e64ab0\\tERROR\\tInvoke Error \\t'
...                   '{"errorType":"TypeError","errorMessage":"x is undefined","stack":["TypeError: x is undefined"]}'])
>>> print(df.at[0, "format"], df.at[0, "record_type"], df.at[0, "level"], df.at[0, "error_type"])
lambda_app invoke_error ERROR TypeError
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .._text import group, regex_struct
from ..arrow import STR, Part, nulls
from ._keys import Field

__all__ = ["FIELDS", "NAME", "RECOGNISE", "ROLE", "WRAPS", "parse"]

NAME = "lambda_app"
ROLE = "function"
#: ``parse`` takes the function that reads the JSON again.
WRAPS = True
_LABELS = {"Invoke Error": "invoke_error", "Uncaught Exception": "uncaught_exception",
           "Unhandled Promise Rejection": "unhandled_rejection"}  # fmt: skip
RECOGNISE = r"^(?:" + "|".join(_LABELS) + r")[ \t]*\{"
FIELDS: tuple[Field, ...] = (
    ("Invoke Error {errorType, errorMessage, stack}", "nodejs10.x (2019-05)"),
    ("Uncaught Exception {errorType, errorMessage, stack}", "nodejs10.x (2019-05)"),
    ("Unhandled Promise Rejection {errorType, errorMessage, reason, promise, stack}", "nodejs10.x (2019-05)"),
)

_LINE = r"(?s)^(?P<label>" + "|".join(_LABELS) + r")[ \t]*(?P<json>\{.*)$"


def parse(arr: pa.Array, idx: np.ndarray, inner: Callable[[pa.Array, np.ndarray], list[Part]]) -> list[Part]:
    """Runtime error records: the JSON read by ``inner``; format, record type and level set here."""
    ex = regex_struct(arr, _LINE)
    label = group(ex, "label")
    record_type = pc.coalesce(*[pc.if_else(pc.equal(label, k), pa.scalar(v, STR), pa.scalar(None, STR)) for k, v in _LABELS.items()])
    out = []
    for p in inner(pc.fill_null(group(ex, "json"), ""), np.arange(len(arr))):
        sel = pa.array(p.idx)
        p.idx = idx[p.idx]
        ok = pc.invert(p.cols["parse_error"]) if "parse_error" in p.cols else pa.array(np.ones(len(p), dtype=bool))
        p.cols["format"] = pc.if_else(ok, pa.scalar(NAME, STR), p.cols.get("format", nulls(len(p), STR)))
        p.cols["record_type"] = pc.if_else(ok, record_type.take(sel), p.cols.get("record_type", nulls(len(p), STR)))
        p.cols["level"] = pc.if_else(ok, pa.scalar("ERROR", STR), p.cols.get("level", nulls(len(p), STR)))
        out.append(p)
    return out
