"""Multi-line exceptions, one event each: Python tracebacks, Java stack traces (the deepest
``Caused by:`` is the root cause), Node.js ``Error: ...\\n    at ...``, Go panics' ``at``
frames. ``record_type`` is the language; the row is at ERROR.

Example
-------
>>> from incidentkit import parse
>>> df = parse.parse(["Traceback (most recent call last):\\n  File \\"app.py\\", line 1, in <module>\\nKeyError: 'id'"])
>>> print(df.at[0, "format"], df.at[0, "record_type"], df.at[0, "error_type"])
traceback python KeyError
"""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .._text import GENERIC_CLASSES, error_fields_from_text, group, regex_struct
from ..arrow import STR, Part, scalar_str
from ._keys import Field

__all__ = ["FIELDS", "NAME", "RECOGNISE", "ROLE", "parse"]

NAME = "traceback"
ROLE = "app"
RECOGNISE = r"(?s)(?:Traceback \(most recent call last\):|\n\s+at [\w$.<>/\\-]+[(:]|\n\s+at \S+ \()"
FIELDS: tuple[Field, ...] = (
    ("Python: Traceback (most recent call last): ... module.Class: message", "Python 2"),
    ("Java: Class: message / at frames / Caused by:", "Java 1.4 (chained exceptions)"),
    ("Node.js: Error: message / at frames", "V8 stack traces"),
)


_PY_EXC_LINE = re.compile(r"^([A-Za-z_][\w.]*)(?::\s?(.*))?$")
_JAVA_CAUSE = re.compile(r"^Caused by: ([\w$.]+(?:Exception|Error|Throwable)[\w$]*)(?::\s?(.*))?$", re.MULTILINE)
_JAVA_HEAD = re.compile(r"^(?:Exception in thread \"[^\"]*\" )?([\w$.]+(?:Exception|Error|Throwable)[\w$]*)(?::\s?(.*))?$")
_NODE_HEAD = re.compile(r"^(?:Uncaught )?([A-Z][\w$.]*(?:Error|Exception)?)(?:\s*\[[^\]]*\])?:\s?(.*)$")


def _one_traceback(text: str) -> tuple[str | None, str | None, str]:
    """``(error_type, error_message, language)`` of one multi-line exception text."""
    lines = [ln.rstrip() for ln in text.replace("\r\n", "\n").split("\n")]
    if any(ln.startswith("Traceback (most recent call last):") for ln in lines):
        # Python: the exception is the last non-indented line after the last Traceback
        # header that looks like ``module.Class: message``; Lambda puts the traceback
        # after an ``[ERROR] Class: message`` line, so fall back to the first line.
        last_tb = max(i for i, ln in enumerate(lines) if ln.startswith("Traceback (most recent call last):"))
        for ln in reversed(lines[last_tb + 1 :]):
            if ln and not ln[0].isspace():
                m = _PY_EXC_LINE.match(ln)
                if m:
                    return m.group(1), (m.group(2) or None), "python"
        first = _PY_EXC_LINE.match(lines[0].split("]", 1)[-1].strip()) if lines else None
        if first:
            return first.group(1), (first.group(2) or None), "python"
        return None, None, "python"
    causes = _JAVA_CAUSE.findall(text)
    if causes:  # Java: the root cause is the deepest "Caused by:"
        return causes[-1][0], (causes[-1][1] or None), "java"
    for ln in lines:
        s = ln.strip()
        if not s:
            continue
        m = _JAVA_HEAD.match(s)
        if m and "." in m.group(1):
            return m.group(1), (m.group(2) or None), "java"
        m = _NODE_HEAD.match(s)
        if m:
            return m.group(1), (m.group(2) or None), "node"
        break
    return None, None, "unknown"


def parse(arr: pa.Array, idx: np.ndarray) -> list[Part]:
    """Multi-line exceptions (Python tracebacks, Java stack traces with ``Caused by:``,
    Node ``Error: ...\\n    at ...``), one event each. Read in Python, one per line."""
    texts = arr.to_pylist()
    types, msgs, langs = [], [], []
    for t in texts:
        et, em, lang = _one_traceback(t or "")
        types.append(et)
        msgs.append(em)
        langs.append(lang)
    n = len(texts)
    p = Part(idx)
    p.set("format", scalar_str(NAME, n))
    p.set("record_type", pa.array(langs, type=STR))
    p.set("level", scalar_str("ERROR", n))
    etype = pa.array(types, type=STR)
    emsg = pa.array(msgs, type=STR)
    # botocore errors inside: the operation, and the AWS code for a generic ClientError
    _, op, _ = error_fields_from_text(emsg)
    code = group(regex_struct(emsg, r"An error occurred \((?P<c>[^)\s]+)\)"), "c")
    generic = pc.is_in(etype, value_set=pa.array(sorted(GENERIC_CLASSES), type=STR)).fill_null(False)
    p.set("error_type", pc.if_else(pc.and_(generic, code.is_valid()), code, etype))
    p.set("error_message", emsg)
    p.set("operation", op)
    return [p]

