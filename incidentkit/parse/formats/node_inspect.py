"""A JavaScript object as Node.js prints it: ``console.log({ a: '1', b: 2 })`` writes
``util.inspect`` output (``{ a: '1', b: 2 }``, keys unquoted, strings in single quotes, over
several lines when long), which opens like JSON but is not JSON. It is free text, read like
any text line (``format="text"``, ``lambda_app`` behind a runtime prefix), never a broken
JSON record.

Source: Node.js documentation, ``util.inspect`` and ``console.log`` (the object formatting
every Node.js Lambda runtime uses for its log lines).

Example
-------
>>> from incidentkit import parse
>>> df = parse.parse(["{ a: '1', b: '2' }"])
>>> print(df.at[0, "format"], df.at[0, "record_type"], df.at[0, "parse_error"])
text js_object False
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from ..arrow import Part, scalar_str
from . import text
from ._keys import Field

__all__ = ["FIELDS", "NAME", "RECOGNISE", "ROLE", "parse"]

NAME = text.NAME
ROLE = text.ROLE
#: ``{`` then a key JSON would quote: an identifier, a single-quoted string or a ``[Symbol()]``.
RECOGNISE = r"^\{\s+(?:[A-Za-z_$][\w$]*|'(?:[^'\\]|\\.)*'|\[[^\]\n]+\]):\s"
FIELDS: tuple[Field, ...] = (("util.inspect object: { key: value, ... }", "Node.js 0.x"),)


def parse(arr: pa.Array, idx: np.ndarray) -> list[Part]:
    """Inspected objects -> text rows (level words and error texts read as for any text)."""
    parts = text.parse(arr, idx)
    for p in parts:
        p.fill("record_type", scalar_str("js_object", len(p)))
    return parts
