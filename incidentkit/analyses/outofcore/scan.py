"""Streaming Parquet through pyarrow: record batches one row group at a time into an Acero hash aggregate.

Example
-------
>>> import pyarrow as pa, pyarrow.compute as pc, pyarrow.dataset as pads
>>> d = pads.dataset(pa.table({"g": ["a", "b", "a"], "v": [1.0, 2.0, 3.0]}))
>>> t = _aggregate(d, {"g": pc.field("g"), "v": pc.field("v")}, None, [("v", "hash_sum", None, "s")], ["g"])
>>> sorted(zip(t.column("g").to_pylist(), t.column("s").to_pylist()))
[('a', 4.0), ('b', 2.0)]
"""

from __future__ import annotations

from typing import Any, Sequence

import pandas as pd

__all__ = ["SCAN_OPTIONS"]


def _pa() -> tuple[Any, Any, Any]:
    import pyarrow as pa
    import pyarrow.acero as ac
    import pyarrow.compute as pc

    return pa, pc, ac


def _and(*exprs: Any) -> Any:
    _, pc, _ = _pa()
    out = None
    for e in exprs:
        if e is None:
            continue
        out = e if out is None else pc.and_kleene(out, e)
    return out


#: How each Parquet row group is scanned: rows a record batch holds and batches read ahead.
SCAN_OPTIONS: dict[str, int] = {"batch_size": 65_536, "batch_readahead": 2}


def _stream(ds_: Any, projection: dict[str, Any], filter: Any) -> Any:
    """A ``RecordBatchReader`` of ``projection`` over the rows ``filter`` keeps, read one Parquet
    row group at a time, only when the consumer asks for more.

    pyarrow's dataset scanner reads ahead without bound when its consumer is slower than the
    disk (observed: the whole file's columns for a Python consumer); going row group by row
    group from a lazy generator bounds memory to about one row group of the columns used.
    Row groups whose statistics exclude ``filter`` (e.g. outside a time window) are skipped.
    """
    pa, _, _ = _pa()
    schema = ds_.scanner(columns=projection).projected_schema

    def batches() -> Any:
        for fragment in ds_.get_fragments(filter=filter):
            parts = fragment.split_by_row_group(filter=filter) if hasattr(fragment, "split_by_row_group") else [fragment]
            for part in parts:
                scanner = part.scanner(schema=ds_.schema, columns=projection, filter=filter, use_threads=True, **SCAN_OPTIONS)
                for batch in scanner.to_batches():
                    if batch.num_rows:
                        yield batch

    return pa.RecordBatchReader.from_batches(schema, batches())


def _aggregate(ds_: Any, projection: dict[str, Any], filter: Any, aggregates: list[Any], keys: Sequence[str]) -> Any:
    """Stream ``ds_`` through a scanner (``filter`` pushed down, ``projection`` computed per batch)
    into an Acero hash aggregate; only the aggregate's state is held."""
    _, _, ac = _pa()
    source = ac.Declaration("record_batch_reader_source", ac.RecordBatchReaderSourceNodeOptions(_stream(ds_, projection, filter)))
    agg = ac.Declaration("aggregate", ac.AggregateNodeOptions(aggregates, keys=list(keys)))
    return ac.Declaration.from_sequence([source, agg]).to_table(use_threads=True)


def _pandas_dtypes(schema: Any, columns: Sequence[str]) -> dict[str, Any]:
    """The pandas dtypes the in-memory analyses would see for ``columns`` (``pd.read_parquet``)."""
    empty = schema.empty_table().select([c for c in columns if c in schema.names])
    try:
        frame = empty.to_pandas()
    except Exception:  # noqa: BLE001 - a metadata mismatch should not block the analysis
        frame = empty.replace_schema_metadata(None).to_pandas()
    return {c: frame[c].dtype for c in frame.columns}


def _cast_groups(frame: pd.DataFrame, dtypes: dict[str, Any], groups: Sequence[str]) -> pd.DataFrame:
    for g in groups:
        if g in dtypes and len(frame):
            try:
                frame[g] = frame[g].astype(dtypes[g])
            except (TypeError, ValueError):
                pass
    return frame
