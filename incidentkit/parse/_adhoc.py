"""Any JSON field by dotted path (:func:`extract`), for questions the parsed columns do not answer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import orjson
import pandas as pd

from ..errors import ParameterError
from . import registry
from ._frame import as_events

__all__ = ["extract"]


def extract(parsed_or_events: Any, paths: Sequence[str], *, formats: Sequence[str] | None = None) -> pd.DataFrame:
    """Any JSON fields by dotted path, one row per input row (for questions the fixed
    columns do not answer, e.g. CloudTrail's ``userIdentity.arn``).

    Parameters
    ----------
    parsed_or_events:
        A parsed frame, a logs frame or a list of messages. With a parsed frame only rows
        whose ``format`` is a JSON format (or in ``formats``) are read.
    paths:
        Dotted paths (``"userIdentity.arn"``, ``"requestParameters.groupId"``); a literal
        dotted key is matched too. Objects and lists come back as JSON text.

    Example
    -------
    >>> extract(['{"userIdentity": {"arn": "arn:aws:iam::1:user/a"}}', "plain"], ["userIdentity.arn"])["userIdentity.arn"].tolist()
    ['arn:aws:iam::1:user/a', <NA>]
    """
    frame = as_events(parsed_or_events) if not isinstance(parsed_or_events, pd.DataFrame) else parsed_or_events
    if "message" not in frame.columns:
        raise ParameterError("extract() needs a 'message' column")
    msgs = frame["message"].astype("string").reset_index(drop=True)
    rows = np.ones(len(msgs), dtype=bool)
    if "format" in frame.columns:
        allowed = set(formats) if formats else set(registry.json_format_names())
        rows = frame["format"].isin(allowed).to_numpy(dtype=bool)
    out: dict[str, list[Any]] = {p: [None] * len(msgs) for p in paths}
    for i in np.flatnonzero(rows & msgs.notna().to_numpy(dtype=bool)):
        text = msgs.iat[i]
        start = text.find("{")
        if start < 0:
            continue
        try:
            obj = orjson.loads(text[start:])
        except orjson.JSONDecodeError:
            continue
        if not isinstance(obj, dict):
            continue
        for p in paths:
            v = obj.get(p, _MISSING)
            if v is _MISSING:
                v = obj
                for key in p.split("."):
                    v = v.get(key, _MISSING) if isinstance(v, dict) else _MISSING
                    if v is _MISSING:
                        break
            if v is _MISSING or v is None:
                continue
            out[p][i] = v if isinstance(v, str) else orjson.dumps(v).decode() if isinstance(v, (dict, list)) else str(v).lower() if isinstance(v, bool) else str(v)
    return pd.DataFrame({p: pd.array(v, dtype="string") for p, v in out.items()}, index=frame.index)


_MISSING = object()
