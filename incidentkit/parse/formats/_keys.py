"""What the JSON log formats share (private): the rows they read, how a format recognises
its records by their keys, and the column helpers their ``parse`` steps use.

A JSON line is read once, whatever its format (:mod:`incidentkit.parse._json`): the reader
keeps, for every *known* dotted path, one arrow array over the chunk's rows (a "leaf").
A JSON format then says which of those rows are its own (:class:`Keys`, its ``RECOGNISE``)
and fills its columns for them (its ``parse(rows, out, mine)``), on whole arrays.

Example
-------
>>> import pyarrow as pa
>>> rows = JsonRows({"eventSource": pa.array(["ec2.amazonaws.com", ""]), "eventName": pa.array(["RunInstances", "x"])},
...                 {}, None, 2)
>>> Keys(all_of=("eventSource", "eventName")).match(rows, {}).tolist()
[True, False]
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..arrow import STR, as_str, coalesce, mask_np

__all__ = ["Field", "JsonRows", "Keys", "first_str", "leaf_str", "recognise_paths", "recognised", "scatter", "scatter_into"]

#: ``(name, since)``: a documented field and the version (or date) it appeared in.
Field = tuple[str, str]


@dataclass
class JsonRows:
    """The known leaves of a chunk of JSON records.

    ``leaves`` maps a dotted path to an array over the rows (null where absent); ``present``
    says, for the top-level objects a format asks about (``_aws``), which rows hold one;
    ``errors`` is the per-row reason a line is not a JSON object (only from the line-by-line
    reader, else ``None``); ``n`` the number of rows."""

    leaves: dict[str, pa.Array]
    present: dict[str, pa.Array]
    errors: list[str | None] | None
    n: int

    def leaf(self, path: str) -> pa.Array | None:
        """The leaf at ``path`` (``None`` when no row has it)."""
        return self.leaves.get(path)

    def has(self, path: str, cache: dict[str, np.ndarray]) -> np.ndarray:
        """Rows where ``path`` holds a value (a non-empty one, for text)."""
        got = cache.get(path)
        if got is not None:
            return got
        a = self.leaves.get(path)
        if a is None:
            m = np.zeros(self.n, dtype=bool)
        elif pa.types.is_string(a.type) or pa.types.is_large_string(a.type):
            m = mask_np(pc.greater(pc.binary_length(a), 0))
        else:
            m = mask_np(a.is_valid())
        cache[path] = m
        return m

    def has_any(self, paths: Iterable[str], cache: dict[str, np.ndarray]) -> np.ndarray:
        """Rows where at least one of ``paths`` holds a value."""
        out = np.zeros(self.n, dtype=bool)
        for p in paths:
            if p in self.leaves:
                out |= self.has(p, cache)
        return out


@dataclass(frozen=True)
class Keys:
    """How a JSON format recognises its records: by the keys they hold.

    A row matches when every path of ``all_of`` has a value, at least one path of each
    group in ``any_of`` does, none of ``none_of`` does, each top-level key of ``objects``
    holds a JSON object, and (``prefix``) the text at a path starts with a given string.
    Several :class:`Keys` in a format's ``RECOGNISE`` (a tuple) are alternatives.

    Example
    -------
    >>> Keys(any_of=(("requestId", "requestID"),), none_of=("level",)).paths()
    ['level', 'requestID', 'requestId']
    """

    all_of: tuple[str, ...] = ()
    any_of: tuple[tuple[str, ...], ...] = ()
    none_of: tuple[str, ...] = ()
    objects: tuple[str, ...] = ()
    prefix: tuple[str, str] | None = None

    def paths(self) -> list[str]:
        """The leaf paths the reader must keep for :meth:`match`."""
        out = set(self.all_of) | set(self.none_of) | {p for group in self.any_of for p in group}
        if self.prefix is not None:
            out.add(self.prefix[0])
        return sorted(out)

    def match(self, rows: JsonRows, cache: dict[str, np.ndarray]) -> np.ndarray:
        """Rows this format owns."""
        m = np.ones(rows.n, dtype=bool)
        for p in self.all_of:
            m &= rows.has(p, cache)
        for group in self.any_of:
            if not m.any():
                return m
            m &= rows.has_any(group, cache)
        if self.none_of and m.any():
            m &= ~rows.has_any(self.none_of, cache)
        for obj in self.objects:
            seen = rows.present.get(obj)
            m &= mask_np(seen) if seen is not None else False
        if self.prefix is not None:
            a = rows.leaf(self.prefix[0])
            if a is not None and (pa.types.is_string(a.type) or pa.types.is_large_string(a.type)):
                m &= mask_np(pc.starts_with(a, self.prefix[1]))
            else:
                m &= False
        return m


def recognised(recognise: Keys | tuple[Keys, ...], rows: JsonRows, cache: dict[str, np.ndarray]) -> np.ndarray:
    """Rows matched by ``recognise`` (one :class:`Keys`, or any of several)."""
    if isinstance(recognise, Keys):
        return recognise.match(rows, cache)
    out = np.zeros(rows.n, dtype=bool)
    for keys in recognise:
        out |= keys.match(rows, cache)
    return out


def recognise_paths(recognise: Keys | tuple[Keys, ...]) -> tuple[list[str], list[str]]:
    """``(leaf paths, top-level objects)`` that ``recognise`` reads."""
    alts = (recognise,) if isinstance(recognise, Keys) else recognise
    return [p for k in alts for p in k.paths()], [o for k in alts for o in k.objects]


def leaf_str(rows: JsonRows, path: str) -> pa.Array:
    """The leaf at ``path`` as text (all null when absent)."""
    return as_str(rows.leaf(path), rows.n)


def first_str(rows: JsonRows, paths: Iterable[str], take: pa.Array | None = None) -> pa.Array:
    """The first of ``paths`` that has a value, as text (only the rows ``take`` when given)."""
    arrays = []
    for p in paths:
        a = rows.leaves.get(p)
        if a is not None:
            a = a.take(take) if take is not None else a
            arrays.append(as_str(a, len(a)))
    n = len(take) if take is not None else rows.n
    return coalesce(arrays, n, STR)


def scatter(values: pa.Array, mask: np.ndarray, n: int, typ: pa.DataType) -> pa.Array:
    """``values`` (one per true of ``mask``) spread over ``n`` rows, null elsewhere."""
    idx = np.full(n, -1, dtype=np.int64)
    idx[mask] = np.arange(int(mask.sum()))
    return values.cast(typ).take(pa.array(idx, mask=idx < 0))


def scatter_into(base: pa.Array | None, values: pa.Array, rows: np.ndarray, n: int) -> pa.Array:
    """``base`` with ``rows`` replaced by ``values`` (``base`` None = all null)."""
    m = np.zeros(n, dtype=bool)
    m[rows] = True
    spread = scatter(values, m, n, STR)
    if base is None:
        return spread
    return pc.if_else(pa.array(m), spread, base)
