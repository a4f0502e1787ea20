"""The one-line text naming an error line: what the application said, then ``Type: error message``.

:func:`signature_texts` gives the text :func:`incidentkit.analyses.signatures.error_lines` puts on each
error line (the text whose variable parts are masked and mined into templates): the exception type and
message the parser read, a Node runtime's ``Invoke Error {...}`` read as ``Type: message``, and a JSON
line's own message (``"msg": "quote failed"``) in front when it adds to them; without either, the raw
line's first line.

Example
-------
>>> signature_texts(["TimeoutError"], ["connect ETIMEDOUT"], ['{"msg": "quote failed"}'])
['quote failed: TimeoutError: connect ETIMEDOUT']
"""

from __future__ import annotations

from typing import Any, Sequence

import orjson
import pandas as pd

__all__ = ["MAX_TEXT", "signature_texts"]

#: Characters of a signature text kept: a template is a line, not a stack trace.
MAX_TEXT = 300


def _json_error(text: str) -> str | None:
    """``Invoke Error {"errorType": "Error", "errorMessage": "boom"}`` (a Node runtime line) → ``Error: boom``."""
    brace = text.find("{")
    if brace < 0 or "errorMessage" not in text:
        return None
    try:
        data = orjson.loads(text[brace:])
    except orjson.JSONDecodeError:
        return None
    if not isinstance(data, dict) or "errorMessage" not in data:
        return None
    kind = data.get("errorType")
    return f"{kind}: {data['errorMessage']}" if kind else str(data["errorMessage"])


#: Keys of a JSON line that hold what the application said (pino, zap, bunyan, Log4j2, Powertools, logrus, Serilog).
_MESSAGE_KEYS = ("msg", "message", "@m", "@mt", "event")


def _json_message(raw: str) -> str | None:
    """The message a JSON log line carries (``msg``, ``message`` ...), when it is a string."""
    if not raw.startswith("{"):
        return None
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(data, dict):
        return None
    for key in _MESSAGE_KEYS:
        value = data.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _missing(value: Any) -> bool:
    """None, pd.NA or a float NaN (a dictionary column read as objects gives NaN for a missing value)."""
    return value is None or value is pd.NA or (isinstance(value, float) and value != value)


def _parsed_text(kind: Any, message: Any) -> str | None:
    """``Type: error message`` from what the parser read (the first part of :func:`_signature_text`)."""
    kind = None if _missing(kind) else str(kind).strip() or None
    text = None if _missing(message) else str(message).strip() or None
    if text is not None:
        text = _json_error(text) or text
        if kind and kind not in text:
            text = f"{kind}: {text}"
    elif kind:
        text = kind
    return text


def _finish(text: str | None, said: str | None, raw_text: str) -> str:
    """:func:`_signature_text` from the parsed part, the JSON line's own message and the stripped raw line."""
    if said and text and said not in text and text not in said:
        text = f"{said}: {text}"
    elif said and not text:
        text = said
    if not text:
        text = raw_text
    return text.split("\n", 1)[0].strip()[:MAX_TEXT]


def _signature_text(kind: Any, message: Any, raw: Any) -> str:
    """One line naming the error: what the application said, then ``Type: error message``.

    The parts the parser read (exception type and message) come first in importance; a JSON
    line's own message (``"msg": "quote failed"``) is put before them when it adds to them.
    Without either, the raw line's first line.
    """
    raw_text = "" if _missing(raw) else str(raw).strip()
    said = _json_message(raw_text) if raw_text.startswith("{") else None
    return _finish(_parsed_text(kind, message), said, raw_text)


def signature_texts(kinds: Sequence[Any], messages: Sequence[Any], raws: Sequence[Any]) -> list[str]:
    """:func:`_signature_text` of each line, each part computed once per distinct value.

    The parsed part (type and message) is computed once per distinct pair; the raw line is
    read (a JSON line's own message, with one ``orjson.loads``) only when it holds ``{``, and
    the text is then shared by every line with the same pair and the same own message, so
    100,000 lines naming one exception cost one call of the text composition.

    Example
    -------
    >>> signature_texts(["KeyError", "KeyError"], ["'id'", "'id'"], ["x 1", "x 2"])
    ["KeyError: 'id'", "KeyError: 'id'"]
    """
    parsed: dict[tuple[Any, Any], str | None] = {}
    memo: dict[tuple[Any, Any, Any], str] = {}
    out = []
    for kind, message, raw in zip(kinds, messages, raws):
        # missing values as None (pd.NA in a key would make a hash collision's == ambiguous)
        pair = (None if _missing(kind) else kind, None if _missing(message) else message)
        try:
            text = parsed[pair] if pair in parsed else parsed.setdefault(pair, _parsed_text(kind, message))
        except TypeError:  # an unhashable value in an object column: no sharing for this line
            out.append(_signature_text(kind, message, raw))
            continue
        if not isinstance(raw, str):
            out.append(_signature_text(kind, message, raw))
            continue
        said = None
        if "{" in raw:
            raw_text = raw.strip()
            said = _json_message(raw_text) if raw_text.startswith("{") else None
        if not text and not said:  # the raw line itself is the text: nothing to share
            out.append(_finish(text, said, raw.strip()))
            continue
        key = (*pair, said)
        found = memo.get(key)
        if found is None:
            found = memo[key] = _finish(text, said, "")
        out.append(found)
    return out
