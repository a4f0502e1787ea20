"""Lines as ``sam logs`` prints them: ``<log stream> <time> <message>``. An envelope, not a
format: the stream and time are kept, the message is read again with every format
(``WRAPS``), so a ``REPORT`` printed by ``sam logs`` is a ``lambda_platform`` row.

Source: AWS SAM CLI, ``sam logs`` output (see ``aws-samples`` in the reference set).

Example
-------
>>> from incidentkit import parse
>>> df = parse.parse(["2024/01/01/[$LATEST]0123456789abcdef0123456789abcdef 2024-01-01T00:00:00.000000 END RequestId: r1"])
>>> print(df.at[0, "format"], df.at[0, "record_type"], df.at[0, "log_stream"])
lambda_platform end 2024/01/01/[$LATEST]0123456789abcdef0123456789abcdef
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .._text import group, regex_struct
from ..arrow import STR, Part
from ._keys import Field

__all__ = ["FIELDS", "NAME", "RECOGNISE", "ROLE", "WRAPS", "parse"]

NAME = "sam_logs"
ROLE = "envelope"
#: ``parse`` takes the function that reads the message again.
WRAPS = True
RECOGNISE = r"^\d{4}/\d\d/\d\d/\[[^\]]*\]\S* \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d"
FIELDS: tuple[Field, ...] = (("log stream", "SAM CLI 0.x"), ("time", "SAM CLI 0.x"), ("message", "SAM CLI 0.x"))

_LINE = r"(?s)^(?P<stream>\d{4}/\d\d/\d\d/\[[^\]]*\][^\s]*) (?P<ts>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?) (?P<rest>.*)$"


def parse(arr: pa.Array, idx: np.ndarray, inner: Callable[[pa.Array, np.ndarray], list[Part]]) -> list[Part]:
    """``sam logs`` lines: the message read by ``inner``, stream and time from the prefix."""
    ex = regex_struct(arr, _LINE)
    rest = pc.fill_null(pc.struct_field(ex, "rest").cast(STR), "")
    stream, ts = group(ex, "stream"), group(ex, "ts")
    out = []
    for p in inner(rest, np.arange(len(arr))):
        sel = pa.array(p.idx)
        p.idx = idx[p.idx]
        p.fill("_log_stream", stream.take(sel))
        p.fill("_time_str", ts.take(sel))
        out.append(p)
    return out
