"""Each categorical value's share in the incident against the baseline, streamed from Parquet: ``analyses.compare.compare`` out of core.

Example
-------
>>> import pandas as pd, tempfile, os
>>> path = os.path.join(tempfile.mkdtemp(), "req.parquet")
>>> pd.DataFrame({"timestamp": pd.date_range("2026-03-01T03:00Z", periods=80, freq="1min"),
...               "app_version": ["2.9"] * 15 + ["3.0"] * 25 + ["2.9"] * 30 + ["3.0"] * 10}).to_parquet(path)
>>> out = compare(path, ("2026-03-01T03:40Z", "2026-03-01T04:20Z"), ("2026-03-01T03:00Z", "2026-03-01T03:40Z"))
>>> out[["value", "incident_count", "baseline_count"]].values.tolist()
[['2.9', 30, 15], ['3.0', 10, 25]]
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

from ...errors import ParameterError
from ..compare import EXCLUDED as _EXCLUDED
from ..compare import empty_lift, score_counts, ua_family
from .scan import _and, _pa, _stream
from .sources import dataset
from .time_bins import _bounds, _in_window

__all__ = ["compare", "MISSING", "OTHER"]

MISSING = "(missing)"
OTHER = "(other)"


def _selection(spec: Any, schema: Any, time: str, what: str) -> Any:
    """A window / ``(start, end)`` pair / expression → a boolean expression (null → false)."""
    pa, pc, _ = _pa()
    if spec is None:
        return None
    if isinstance(spec, pc.Expression):
        return pc.coalesce(spec, pa.scalar(False))
    try:
        start, end = _bounds(spec)
    except (TypeError, ValueError) as exc:
        raise ParameterError(f"{what} must be a Window, a (start, end) pair or a pyarrow.compute expression, got {spec!r}") from exc
    if time not in schema.names:
        raise ParameterError(f"{what} is a window but the evidence has no {time!r} column", column=time)
    return pc.coalesce(_in_window(schema, time, start, end), pa.scalar(False))


def _is_candidate(name: str, typ: Any, status: str) -> bool:
    pa, _, _ = _pa()
    if str(name).lower() in _EXCLUDED:
        return False
    if pa.types.is_timestamp(typ) or pa.types.is_date(typ):
        return False
    text = pa.types.is_string(typ) or pa.types.is_large_string(typ) or pa.types.is_dictionary(typ) or pa.types.is_boolean(typ)
    return text or name == status


def _label(value: Any, is_bool: bool) -> Any:
    if value is None:
        return MISSING
    if is_bool:
        return bool(value)
    return str(value)


_STATUS_CLASS_LABELS = ("1xx", "2xx", "3xx", "4xx", "5xx", "other", "(none)")


def _status_class_index(codes: np.ndarray) -> np.ndarray:
    """``analyses._common.status_class`` as indexes into :data:`_STATUS_CLASS_LABELS` (NaN → ``(none)``)."""
    with np.errstate(invalid="ignore"):
        k = np.floor(codes / 100.0)
        known = (codes >= 100) & (codes < 600)
    return np.where(np.isnan(codes), 6, np.where(known, k - 1, 5)).astype(np.int64)


def _text_as_dictionary(ds_: Any, columns: Sequence[str]) -> Any:
    """The same Parquet files, with these text columns read as dictionaries (as stored): no
    string is materialised, and value counting works on the dictionary indexes."""
    import pyarrow.dataset as pads

    if not columns or not isinstance(ds_, pads.FileSystemDataset) or not isinstance(ds_.format, pads.ParquetFileFormat):
        return ds_
    if getattr(ds_, "partitioning", None) is not None:  # keep the caller's partition columns
        return ds_
    fmt = pads.ParquetFileFormat(read_options=pads.ParquetReadOptions(dictionary_columns=list(columns)))
    return pads.dataset(ds_.files, filesystem=ds_.filesystem, format=fmt)


class _Counter:
    """Per-column label counts for the incident and the baseline, dropped past ``limit`` labels."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.inc: dict[Any, int] = {}
        self.base: dict[Any, int] = {}
        self.overflow = False

    def add(self, labels: Sequence[Any], inc_counts: np.ndarray, base_counts: np.ndarray) -> None:
        if self.overflow:
            return
        for lab, a, b in zip(labels, inc_counts, base_counts):
            if a:
                self.inc[lab] = self.inc.get(lab, 0) + int(a)
            if b:
                self.base[lab] = self.base.get(lab, 0) + int(b)
        distinct = len(set(self.inc) | set(self.base) - {MISSING})
        if distinct > self.limit:
            self.overflow = True
            self.inc, self.base = {}, {}


def compare(
    source: Any,
    incident: Any,
    baseline: Any = None,
    *,
    columns: Sequence[str] | None = None,
    max_values: int = 20,
    alpha: float = 0.05,
    status: str = "status",
    time: str = "timestamp",
    filter: Any = None,
    max_cardinality: int = 200,
    names: Sequence[str] | None = None,
    kind: str = "parsed",
) -> pd.DataFrame:
    """Each categorical value's share in the incident against the baseline, streamed from Parquet.

    The frame of :func:`incidentkit.analyses.compare.compare` (same columns, same shares,
    lift, Cohen's h, z-test and Benjamini-Hochberg q-values, same ranking) from one pass
    over the files, holding only the value counts.

    Parameters
    ----------
    source, names, kind:
        The Parquet evidence (see :func:`dataset`).
    incident:
        The incident rows: a :class:`~incidentkit.window.Window` or ``(start, end)`` on
        ``time``, or a ``pyarrow.compute`` expression (e.g. ``pc.field("status") >= 500``).
    baseline:
        The baseline rows, in the same forms; ``None`` compares with the rest of the rows.
    columns, max_values, alpha, status:
        As for :func:`incidentkit.analyses.compare.compare`. Automatic column choice uses
        the same rules (text, boolean and category columns and the status, not
        identifiers; high-cardinality columns left out), and adds the derived
        ``status_class`` and ``user_agent_family``.
    filter:
        A ``pyarrow.compute`` expression applied to both sides first.
    max_cardinality:
        A column is dropped once it shows more distinct values than this (its counts are
        not kept, so identifiers never fill memory).

    Returns
    -------
    pandas.DataFrame
        ``column, value, incident_count, incident_share, baseline_count, baseline_share,
        difference, lift, effect, z, p_value, q_value, significant``; ``attrs``:
        ``n_incident``, ``n_baseline``, ``baseline``, ``columns``, ``excluded``.

    Notes
    -----
    Values tied in frequency at the ``max_values`` cut are kept in label order (the
    in-memory version keeps pandas' ``value_counts`` order there).

    Example
    -------
    >>> top = compare("evidence/parsed-api.parquet", inv.window, inv.baseline).head(5)  # doctest: +SKIP
    """
    pa, pc, _ = _pa()
    empty = empty_lift()
    d = dataset(source, names=names, kind=kind)
    schema = d.schema
    inc_expr = _selection(incident, schema, time, "incident")
    if inc_expr is None:
        raise ParameterError("compare() needs the incident rows: a window or a pyarrow.compute expression")
    base_expr = _selection(baseline, schema, time, "baseline")
    kind_text = "baseline" if baseline is not None else "rest"
    if base_expr is None:
        base_expr = pc.invert(inc_expr)

    derived = _derived_columns(schema, status)
    chosen, excluded = _choose_columns(schema, columns, derived, status)
    read = _columns_read(schema, chosen, status)
    d = _text_as_dictionary(d, [c for c in read if pa.types.is_string(schema.field(c).type) or pa.types.is_large_string(schema.field(c).type)])
    projection = {c: pc.field(c) for c in read}
    projection["_inc"] = inc_expr
    projection["_base"] = base_expr
    row_filter = _and(pc.or_kleene(inc_expr, base_expr), filter)
    reader = _stream(d, projection, row_filter)
    counters, n1, n2 = _count_values(reader, schema, chosen, status, max_cardinality, rest=baseline is None)

    empty.attrs.update({"n_incident": n1, "n_baseline": n2, "baseline": kind_text, "columns": [], "excluded": excluded})
    if n1 == 0 or n2 == 0:
        return empty
    final = _kept_columns(chosen, counters, excluded, explicit=columns is not None, max_cardinality=max_cardinality, n=n1 + n2)
    position = {c: i for i, c in enumerate([*schema.names, *derived])}
    excluded = dict(sorted(excluded.items(), key=lambda kv: position.get(kv[0], len(position))))
    rows = [row for c in final for row in _count_rows(c, counters[c], max_values)]
    if not rows:
        empty.attrs.update({"columns": final, "excluded": excluded})
        return empty
    out = score_counts(rows, n1, n2, alpha=alpha)
    out.attrs.update({"n_incident": n1, "n_baseline": n2, "baseline": kind_text, "columns": final, "excluded": excluded})
    return out


def _derived_columns(schema: Any, status: str) -> list[str]:
    """The columns compare() derives when the evidence lacks them: ``status_class`` and ``user_agent_family``."""
    derived: list[str] = []
    if status in schema.names and "status_class" not in schema.names:
        derived.append("status_class")
    if "user_agent" in schema.names and "user_agent_family" not in schema.names:
        derived.append("user_agent_family")
    return derived


def _choose_columns(schema: Any, columns: Sequence[str] | None, derived: list[str], status: str) -> tuple[list[str], dict[str, str]]:
    """The columns to count (the caller's, or the candidates by the in-memory rules) and those left out, with why."""
    pa, _, _ = _pa()
    if columns is None:
        chosen = [n for n in schema.names if _is_candidate(n, schema.field(n).type, status)] + derived
        excluded: dict[str, str] = {n: "identifier or free text" for n in schema.names if str(n).lower() in _EXCLUDED}
        for n in schema.names:
            if n not in excluded and (pa.types.is_timestamp(schema.field(n).type) or pa.types.is_date(schema.field(n).type)):
                excluded[n] = "time"
    else:
        known = set(schema.names) | set(derived)
        chosen = [c for c in columns if c in known]
        excluded = {c: "not in the frames" for c in columns if c not in known}
    return chosen, excluded


def _columns_read(schema: Any, chosen: list[str], status: str) -> list[str]:
    """The stored columns the chosen ones need (a derived column reads its source), each once."""
    read = [c for c in chosen if c in schema.names]
    if "status_class" in chosen and "status_class" not in schema.names:
        read.append(status)
    if "user_agent_family" in chosen and "user_agent_family" not in schema.names:
        read.append("user_agent")
    return list(dict.fromkeys(read))


def _count_values(reader: Any, schema: Any, chosen: list[str], status: str, max_cardinality: int,
                  *, rest: bool) -> tuple[dict[str, _Counter], int, int]:
    """One pass over the batches: each chosen column's label counts per side, and the rows of each side."""
    pa, _, _ = _pa()
    counters = {c: _Counter(max_cardinality) for c in chosen}
    is_bool = {c: (c in schema.names and pa.types.is_boolean(schema.field(c).type)) for c in chosen}
    ua_cache: dict[Any, str] = {}
    n1 = n2 = 0
    for batch in reader:
        inc = batch.column("_inc").to_numpy(zero_copy_only=False).astype(bool)
        base = batch.column("_base").to_numpy(zero_copy_only=False).astype(bool) & ~inc if rest else \
            batch.column("_base").to_numpy(zero_copy_only=False).astype(bool)  # fmt: skip
        n1 += int(inc.sum())
        n2 += int(base.sum())
        for c in chosen:
            counter = counters[c]
            if counter.overflow:
                continue
            idx, labels = _batch_labels(batch, c, schema, status, is_bool[c], ua_cache)
            k = len(labels)
            counter.add(labels, np.bincount(idx[inc], minlength=k), np.bincount(idx[base], minlength=k))
    return counters, n1, n2


def _batch_labels(batch: Any, c: str, schema: Any, status: str, is_bool: bool, ua_cache: dict[Any, str]) -> tuple[np.ndarray, list[Any]]:
    """Column ``c`` of one batch as label indexes (missing → the last label) and the labels."""
    pa, pc, _ = _pa()
    if c == "status_class" and c not in schema.names:
        idx = _status_class_index(np.asarray(_status_values(batch.column(status)), dtype="float64"))
        return idx, list(_STATUS_CLASS_LABELS)
    arr = batch.column("user_agent" if c == "user_agent_family" and c not in schema.names else c)
    enc = arr if pa.types.is_dictionary(arr.type) else pc.dictionary_encode(arr)
    values = enc.dictionary.to_pylist()
    idx = enc.indices.fill_null(len(values)).to_numpy(zero_copy_only=False).astype(np.int64)
    if c == "user_agent_family" and c not in schema.names:
        for v in values:
            if v not in ua_cache:
                ua_cache[v] = ua_family(v)
        return idx, [ua_cache[v] for v in values] + [ua_family(None)]
    return idx, [_label(v, is_bool) for v in values] + [MISSING]


def _kept_columns(chosen: list[str], counters: dict[str, _Counter], excluded: dict[str, str], *, explicit: bool,
                  max_cardinality: int, n: int) -> list[str]:
    """The counted columns worth comparing; each one dropped is added to ``excluded`` with why."""
    final: list[str] = []
    for c in chosen:
        counter = counters[c]
        if counter.overflow:
            excluded[c] = f"more than {max_cardinality} distinct values (high cardinality)"
            continue
        if explicit:
            final.append(c)
            continue
        both = {lab: counter.inc.get(lab, 0) + counter.base.get(lab, 0) for lab in set(counter.inc) | set(counter.base)}
        k = len([lab for lab in both if lab != MISSING])
        if k == 0:
            excluded[c] = "always missing"
        elif k > max_cardinality or (k > 20 and k > 0.2 * n):
            excluded[c] = f"{k} distinct values (high cardinality)"
        elif k == 1 and MISSING not in both:
            excluded[c] = "a single value"
        else:
            final.append(c)
    if not explicit and "user_agent_family" in final and "user_agent" in final:
        final.remove("user_agent")
    return final


def _count_rows(c: str, counter: _Counter, max_values: int) -> list[dict[str, Any]]:
    """Column ``c``'s count rows, most frequent first; past ``max_values`` the rarest pooled into ``(other)``."""
    ca, cb = dict(counter.inc), dict(counter.base)
    total: dict[Any, int] = {lab: ca.get(lab, 0) + cb.get(lab, 0) for lab in set(ca) | set(cb)}
    if len(total) > max_values:
        ranked = [MISSING] if MISSING in total else []
        ranked += [lab for lab, _ in sorted(((lab, v) for lab, v in total.items() if lab != MISSING),
                                             key=lambda kv: (-kv[1], str(kv[0])))]  # fmt: skip
        keep = set(ranked[: max_values - 1])
        pooled_a: dict[Any, int] = {}
        pooled_b: dict[Any, int] = {}
        for src, dst in ((ca, pooled_a), (cb, pooled_b)):
            for lab, v in src.items():
                key = lab if lab in keep else OTHER
                dst[key] = dst.get(key, 0) + v
        ca, cb = pooled_a, pooled_b
    order = sorted(ca, key=lambda lab: (-ca[lab], str(lab))) + sorted((lab for lab in cb if lab not in ca), key=lambda lab: (-cb[lab], str(lab)))
    return [{"column": c, "value": v, "incident_count": int(ca.get(v, 0)), "baseline_count": int(cb.get(v, 0))} for v in order]

def _status_values(arr: Any) -> np.ndarray:
    """A status column (numbers or digit text) as float64 with NaN for missing."""
    pa, pc, _ = _pa()
    if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
        text = pc.utf8_trim_whitespace(arr)
        arr = pc.if_else(pc.utf8_is_digit(text), text, pa.scalar(None, arr.type)).cast(pa.float64())
    return arr.cast(pa.float64()).to_numpy(zero_copy_only=False)
