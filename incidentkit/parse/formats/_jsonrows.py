"""JSON records read field by field by dotted path (private; WAF and Network Firewall logs).

Example
-------
>>> import pyarrow as pa
>>> vals, bad = read_paths(pa.array(['{"a": {"b": 1}}', "x"], type=pa.large_string()), ["a.b"])
>>> vals["a.b"].to_pylist(), bad.tolist()
(['1', None], [False, True])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import orjson
import pyarrow as pa

from ..arrow import STR, as_str

__all__ = ["read_paths"]

_MISSING = object()


def _get(obj: Any, path: str) -> Any:
    for key in path.split("."):
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def _text(v: Any) -> str | None:
    if v is None or v is _MISSING:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (dict, list)):
        return orjson.dumps(v).decode()
    return str(v)


def read_paths(
    arr: pa.Array, paths: Sequence[str], derived: dict[str, Callable[[dict], Any]] | None = None
) -> tuple[dict[str, pa.Array], np.ndarray]:
    """Text columns for ``paths`` (and ``derived`` values computed from each object), plus
    the rows that are not JSON objects."""
    derived = derived or {}
    cols: dict[str, list[Any]] = {p: [] for p in [*paths, *derived]}
    bad = np.zeros(len(arr), dtype=bool)
    for i, text in enumerate(arr.to_pylist()):
        try:
            obj = orjson.loads(text) if text else None
        except orjson.JSONDecodeError:
            obj = None
        if not isinstance(obj, dict):
            bad[i] = True
            obj = {}
        for p in paths:
            cols[p].append(_text(_get(obj, p)))
        for name, fn in derived.items():
            cols[name].append(_text(fn(obj)))
    return {k: as_str(pa.array(v, type=STR), len(v)) for k, v in cols.items()}, bad
