"""Lambda's timeout line: ``Task timed out after N seconds``, bare, after ``Error:``, or behind
the runtime's ``<time>\\t<request id>`` prefix (older runtimes).

Source: *AWS Lambda Developer Guide*, "Troubleshoot invocation issues in Lambda" (the
timeout message). The row is a ``lambda_platform`` ``timeout`` record at ERROR, with
``timed_out`` set and the error type ``Task timed out``.

Example
-------
>>> from incidentkit import parse
>>> df = parse.parse(["2024-01-01T00:00:03.000Z 6bc28136-aaaa-4365-b021-0ce6b2e64ab0 Task timed out after 3.00 seconds"])
>>> print(df.at[0, "format"], df.at[0, "record_type"], df.at[0, "timed_out"], df.at[0, "request_id"])
lambda_platform timeout True 6bc28136-aaaa-4365-b021-0ce6b2e64ab0
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from .._text import ISO, group, regex_struct
from ..arrow import Part, scalar_str
from ._keys import Field

__all__ = ["FIELDS", "NAME", "RECOGNISE", "ROLE", "parse"]

NAME = "lambda_platform"
ROLE = "invocation"
RECOGNISE = r"^(?:" + ISO + r"\s+\S+\s+)?(?:Error: )?Task timed out after [0-9.]+ seconds"
FIELDS: tuple[Field, ...] = (("Task timed out after N seconds", "2014-11 (launch)"),)

_LINE = r"^(?:(?P<ts>" + ISO + r")\s+(?P<rid>[^\s]+)\s+)?(?:Error: )?(?P<msg>Task timed out after (?P<s>[0-9.]+) seconds)"


def parse(arr: pa.Array, idx: np.ndarray) -> list[Part]:
    """Timeout lines -> one part (ERROR, ``timed_out``, the prefix's request id and time)."""
    n = len(arr)
    ex = regex_struct(arr, _LINE)
    p = Part(idx)
    p.set("format", scalar_str(NAME, n))
    p.set("record_type", scalar_str("timeout", n))
    p.set("request_id", group(ex, "rid"))
    p.set("level", scalar_str("ERROR", n))
    p.set("timed_out", pa.array(np.ones(n, dtype=bool)))
    p.set("error_type", scalar_str("Task timed out", n))
    p.set("error_message", group(ex, "msg"))
    p.set("_time_str", group(ex, "ts"))
    return [p]
