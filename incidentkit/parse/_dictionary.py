"""Dictionary-encoded text columns of the parsed frame (``schema.CATEGORY_COLUMNS``).

The parser builds every text field as arrow ``large_string``; the low-cardinality ones
(format, level, route, user agent, ...) are encoded per batch, inside the batch's thread,
so a batch's text buffers are freed before the next batch is read and the frame holds one
small code a row (int8 for up to 127 values) plus each distinct value once. The batches'
dictionaries differ; pandas gets one ``category`` column whose ``str`` categories are the
union of their values, sorted.

Example
-------
>>> import pyarrow as pa
>>> cols = {"level": pa.array(["ERROR", None, "ERROR"], type=pa.large_string())}
>>> encode(cols)
>>> s = to_pandas([cols["level"], encode_array(pa.array(["INFO"], type=pa.large_string()))])
>>> str(s.dtype), s.tolist()
('category', ['ERROR', nan, 'ERROR', 'INFO'])
"""

from __future__ import annotations

from typing import Any, MutableMapping

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .. import schema

__all__ = ["DERIVED", "FIELDS", "encode", "encode_array", "to_pandas"]

#: Parsed fields stored as dictionaries.
FIELDS = frozenset(c for c in schema.PARSED_FIELDS if c in schema.CATEGORY_COLUMNS)
#: The dictionary fields a batch still reads or completes as text after its rows are put in
#: order (``_frame.derive``: function name from the log group, app version from the
#: User-Agent, neither for change records): encoded after that, the others as they are
#: assembled (the User-Agent too: ``derive`` reads its distinct values from the dictionary).
DERIVED = frozenset({"format", "function_name", "app_version"})


def _index_type(size: int) -> pa.DataType:
    return pa.int8() if size < 2**7 else pa.int16() if size < 2**15 else pa.int32()


def encode_array(arr: pa.Array | pa.ChunkedArray) -> Any:
    """``arr`` dictionary-encoded with the narrowest index type (nulls stay null, not a value)."""
    if pa.types.is_dictionary(arr.type):
        return arr
    enc = pc.dictionary_encode(arr, null_encoding="mask")
    size = len(enc.dictionary) if isinstance(enc, pa.Array) else max((len(c.dictionary) for c in enc.chunks), default=0)
    return enc.cast(pa.dictionary(_index_type(size), enc.type.value_type))


def encode(cols: MutableMapping[str, Any]) -> None:
    """Encode, in place, the dictionary fields among ``cols`` (arrow text arrays)."""
    for name in FIELDS.intersection(cols):
        cols[name] = encode_array(cols[name])


def to_pandas(col: pa.ChunkedArray | pa.Array | list[pa.Array]) -> pd.Series:
    """A dictionary (or text) arrow column as a pandas ``category`` Series: ``str`` categories in
    sorted order (as ``astype("category")`` gives them, so ``groupby`` orders groups as on text),
    codes of the narrowest type, built one chunk at a time (no unified copy of the indices).

    The categories are the sorted union of the chunks' dictionaries (UTF-8 byte order is code
    point order, Python's); each chunk's dictionary is mapped onto them with arrow kernels
    (``index_in``, ``take``): this runs after the parser threads, on the caller's thread."""
    chunks = col.chunks if isinstance(col, pa.ChunkedArray) else list(col) if isinstance(col, list) else [col]
    chunks = [c if pa.types.is_dictionary(c.type) else encode_array(c) for c in chunks]
    dicts = [c.dictionary.cast(pa.large_string()) for c in chunks if len(c.dictionary)]
    found = pc.unique(pa.concat_arrays(dicts)) if dicts else pa.array([], type=pa.large_string())
    found = found.take(pc.sort_indices(found))
    categories = pd.Index(found.to_pandas(), dtype="str")
    codes = np.empty(sum(len(c) for c in chunks), dtype=np.dtype(_index_type(len(categories)).to_pandas_dtype()))
    at = 0
    for chunk in chunks:
        n = len(chunk)
        if len(chunk.dictionary):
            mapping = pc.index_in(chunk.dictionary.cast(pa.large_string()), value_set=found).to_numpy().astype(codes.dtype)
            indices = chunk.indices
            raw = np.frombuffer(indices.buffers()[1], dtype=indices.type.to_pandas_dtype())[indices.offset : indices.offset + n]
            out = codes[at : at + n]
            np.take(mapping, raw, out=out, mode="clip")  # a null's slot may hold any index: overwritten below
            if chunk.null_count:
                out[~chunk.is_valid().to_numpy(zero_copy_only=False)] = -1
        else:
            codes[at : at + n] = -1
        at += n
    return pd.Series(pd.Categorical.from_codes(codes, dtype=pd.CategoricalDtype(categories)), copy=False)
