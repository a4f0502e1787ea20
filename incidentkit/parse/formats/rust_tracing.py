"""Rust ``tracing`` JSON lines (``tracing_subscriber::fmt().json()``), as a Rust Lambda function
built on ``lambda_runtime`` writes them: the event's fields under ``fields`` (the message at
``fields.message``), the module path as ``target``, the current span under ``span``.

Source: ``tracing-subscriber``'s ``fmt::format::Json`` documentation, and
``lambda_runtime``'s ``Lambda runtime invoke`` span, whose ``requestId`` and ``xrayTraceId``
fields put each line inside its invocation. The request id and X-Ray trace come from that
span; an ERROR line's error type and AWS operation are read from its message (or its
``fields.error``), as for any app line. Spans only in the ``spans`` list (a subscriber built
``with_current_span(false)``) are not read.

Example
-------
>>> from incidentkit import parse
>>> df = parse.parse(['{"timestamp":"2025-02-11T08:14:03.512204Z","level":"ERROR","fields":{"message":"charge failed",'
...                   '"error":"service error: ThrottlingException: Rate exceeded"},"target":"payments::charge",'
...                   '"span":{"requestId":"3f1d7c2a-5b9e-4c0d-8e21-9a6b7c4d2e10","name":"Lambda runtime invoke"}}'])
>>> print(df.at[0, "format"], df.at[0, "level"], df.at[0, "request_id"], df.at[0, "error_type"])
rust_tracing ERROR 3f1d7c2a-5b9e-4c0d-8e21-9a6b7c4d2e10 ThrottlingException
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .._text import error_fields_from_text
from ..arrow import STR, mask_np, nulls
from ._keys import Field, JsonRows, Keys, first_str, leaf_str

__all__ = ["FIELDS", "NAME", "PATHS", "RECOGNISE", "ROLE", "parse"]

NAME = "rust_tracing"
ROLE = "app"
#: The formatter's own keys: a ``fields`` object beside ``target`` and ``level``.
RECOGNISE = Keys(all_of=("target", "level"), objects=("fields",))

FIELDS: tuple[Field, ...] = (
    ("timestamp", "tracing-subscriber 0.1 (2019-10, JSON formatter)"),
    ("level", "tracing-subscriber 0.1 (2019-10, JSON formatter)"),
    ("fields", "tracing-subscriber 0.1 (2019-10, JSON formatter)"),
    ("target", "tracing-subscriber 0.1 (2019-10, JSON formatter)"),
    ("span", "tracing-subscriber 0.2 (2020, current span with its fields)"),
    ("spans", "tracing-subscriber 0.2 (2020, span list)"),
    ("span.requestId, span.xrayTraceId", "lambda_runtime, 2023 (Lambda runtime invoke span; undated)"),
)
_MESSAGE = ("fields.message", "fields.error", "fields.err")
PATHS = ["target", *_MESSAGE, "span.requestId", "span.xrayTraceId"]


def parse(rows: JsonRows, out: dict[str, pa.Array], mine: np.ndarray, need_time: np.ndarray) -> str:
    """tracing rows: request id and trace from the invocation span, error text from the fields."""
    n = rows.n
    m = pa.array(mine)
    for name, path in (("request_id", "span.requestId"), ("xray_trace_id", "span.xrayTraceId")):
        out[name] = pc.if_else(m, pc.coalesce(leaf_str(rows, path), out.get(name, nulls(n, STR))), out.get(name, nulls(n, STR)))
    level = out.get("level", nulls(n, STR))
    errorish = mine & mask_np(pc.is_in(level, value_set=pa.array(["ERROR", "FATAL"], type=STR)))
    if errorish.any():
        err = pa.array(errorish)
        text = pc.coalesce(leaf_str(rows, "fields.error"), leaf_str(rows, "fields.err"), first_str(rows, _MESSAGE))
        etype, op, emsg = error_fields_from_text(text)
        out["error_type"] = pc.if_else(err, pc.coalesce(out.get("error_type", nulls(n, STR)), etype), out.get("error_type", nulls(n, STR)))
        out["operation"] = pc.if_else(err, pc.coalesce(out.get("operation", nulls(n, STR)), op), out.get("operation", nulls(n, STR)))
        message = pc.coalesce(emsg, leaf_str(rows, "fields.message"))
        out["error_message"] = pc.if_else(err, pc.coalesce(out.get("error_message", nulls(n, STR)), message), out.get("error_message", nulls(n, STR)))
    return "log"
