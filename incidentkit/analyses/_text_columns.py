"""Text columns as codes: each value's text, computed once per distinct value, not once a row.

A parsed logs frame holds a million rows but few distinct values in most text columns (and
``category`` columns for the low-cardinality ones): the analyses that group, count or label by
a column's text take its codes and the texts of its distinct values from here. Re-exported by
:mod:`incidentkit.analyses._common`.

Example
-------
>>> codes, texts = text_codes(pd.Series(["GET", "PUT", "GET"], dtype="category"))
>>> codes.tolist(), texts.tolist()
([0, 1, 0], ['GET', 'PUT'])
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["text_codes", "category_texts", "as_text", "codes_as_is"]


def codes_as_is(dtype: Any) -> bool:
    """Whether a column of ``dtype`` is factorised as it is (a text or integer column, not ``object``): its
    distinct values' ``str`` are exact texts, so no value needs turning into text before counting.

    Example
    -------
    >>> codes_as_is(pd.StringDtype()), codes_as_is(pd.Int64Dtype()), codes_as_is(np.dtype(object)), codes_as_is(np.dtype(float))
    (True, True, False, False)
    """
    return dtype != object and (pd.api.types.is_string_dtype(dtype) or pd.api.types.is_integer_dtype(dtype))


def text_codes(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Each value as text, factorised: ``codes`` (-1 for a missing value) and ``texts`` (``str`` of each distinct value).

    ``texts[codes]`` is ``values.astype("object").astype(str)`` where a value is present, but
    a text or integer column is factorised as it is and only its distinct values turned into
    text: on a million requests, a handful of ``str`` calls instead of a million. A dictionary
    (``category``) column gives its categories' codes (``texts`` may then hold a category no
    row uses).

    Example
    -------
    >>> codes, texts = text_codes(pd.Series([500, None, 200, 500], dtype="Int64"))
    >>> codes.tolist(), texts.tolist()
    ([0, -1, 1, 0], ['500', '200'])
    """
    dtype = values.dtype
    if isinstance(dtype, pd.CategoricalDtype):  # a dictionary column: its categories are its distinct values
        texts = category_texts(dtype)
        if texts is not None:
            return values.cat.codes.to_numpy().astype("int64"), texts
    exact = codes_as_is(dtype)
    codes, uniques = pd.factorize(values if exact else values.astype("object").astype(str))
    distinct = np.asarray(uniques, dtype=object)
    # a text column's distinct values are their own texts (``str`` of a ``str`` is itself): no call per value
    texts = distinct if exact and pd.api.types.is_string_dtype(dtype) else np.array([str(v) for v in distinct], dtype=object)
    return np.asarray(codes, dtype="int64"), texts


def category_texts(dtype: pd.CategoricalDtype) -> np.ndarray | None:
    """``str`` of each category of a dictionary column, in order; None when two categories read the same.

    Categories that are Python strings already are their own texts (and distinct): returned
    without a call per category, which matters for a column of many distinct values (a
    client address per request) read again for every slice of it.

    Example
    -------
    >>> category_texts(pd.CategoricalDtype([1, "1"])) is None, category_texts(pd.CategoricalDtype(["b", "a"])).tolist()
    (True, ['b', 'a'])
    """
    categories = dtype.categories
    if categories.inferred_type == "string":  # cached on the categories, shared by every slice of the column
        return np.asarray(categories, dtype=object)
    texts = np.array([str(v) for v in np.asarray(categories, dtype=object)], dtype=object)
    return texts if len(set(texts.tolist())) == len(texts) else None


def as_text(values: pd.Series) -> pd.Series:
    """``values.astype("string")``; a dictionary column (``category`` with text categories, the
    parsed and request frames') converted once per category and taken by its codes, not through
    a Python object a row.

    Example
    -------
    >>> as_text(pd.Series(["b", None, "a"], dtype="category")).tolist()
    ['b', <NA>, 'a']
    """
    if not isinstance(values.dtype, pd.CategoricalDtype) or pd.api.types.infer_dtype(values.cat.categories) not in ("string", "empty"):
        return values.astype("string")
    texts = pd.array(np.asarray(values.cat.categories, dtype=object), dtype="string")
    return pd.Series(texts.take(values.cat.codes.to_numpy().astype(np.intp), allow_fill=True), index=values.index, name=values.name)
