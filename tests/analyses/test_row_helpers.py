"""The row helpers the 1M-event paths use give exactly what the plain pandas expressions give.

``select_rows`` (an Arrow filter instead of pandas' take), ``text_test`` and ``text_codes`` on
dictionary columns (their categories instead of a text copy of every row) and
``signature_texts`` (one composition per distinct text instead of one per line) are speed
changes only: each is checked here against the expression it replaces.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from pandas.testing import assert_frame_equal

from incidentkit.analyses._common import flag, select_rows, text_codes, text_test
from incidentkit.analyses._error_text import _signature_text, signature_texts


def _frame(n: int = 200) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    chunks = [pa.array([f"line {i} " + "x" * int(rng.integers(0, 40)) if i % 11 else None for i in range(k, k + 50)],
                       pa.large_string()) for k in range(0, n, 50)]
    return pd.DataFrame({
        "message": pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array(chunks)), dtype="string"),
        "level": pd.Series(rng.choice(["ERROR", "info", None], n), dtype="category"),
        "status": pd.array(rng.choice([200, 500, None], n), dtype="Int64"),
        "t": pd.date_range("2026-03-01", periods=n, freq="s", tz="UTC"),
    }, index=pd.RangeIndex(100, 100 + n))


def test_select_rows_is_loc_on_a_chunked_arrow_frame() -> None:
    df = _frame()
    mask = (np.arange(len(df)) % 3 == 0)
    assert_frame_equal(select_rows(df, mask), df.loc[mask], check_exact=True)
    assert_frame_equal(select_rows(df, mask, ["t", "message"]), df.loc[mask, ["t", "message"]], check_exact=True)
    assert select_rows(df, np.zeros(len(df), dtype=bool)).empty


def test_text_test_on_categories_is_the_test_on_the_text() -> None:
    df = _frame()
    as_text = df["level"].astype("string").str.upper().isin(["ERROR"]).fillna(False).to_numpy(dtype=bool)
    got = text_test(df["level"], lambda s: s.str.upper().isin(["ERROR"]))
    assert got.dtype == bool and (got == as_text).all() and got.any()
    plain = text_test(df["level"].astype("string"), lambda s: s == "info")
    assert (plain == (df["level"].astype("string") == "info").fillna(False).to_numpy(dtype=bool)).all()


@pytest.mark.parametrize("values", [
    pd.Series(["b", None, "a", "b"], dtype="category"),
    pd.Series(pd.Categorical(["x", "y"], categories=["y", "x", "unused"])),
])
def test_text_codes_of_a_dictionary_column(values: pd.Series) -> None:
    codes, texts = text_codes(values)
    present = values.notna().to_numpy()
    assert (codes[~present] == -1).all()
    assert texts[codes[present]].tolist() == values[present].astype(str).tolist()


def test_flag_of_a_boolean_column_read_as_objects() -> None:
    s = pd.Series([True, None, False, pd.NA, np.nan, np.True_], dtype=object)
    assert flag(s).tolist() == [True, False, False, False, False, True]
    assert flag(pd.Series(["yes", True, "0"], dtype=object)).tolist() == [True, True, False]


def test_signature_texts_are_the_per_line_texts() -> None:
    kinds = ["KeyError", None, None, "", "TimeoutError", None, np.nan, "Error", "KeyError"]
    messages = ["'id'", None, "boom", "", "connect ETIMEDOUT", 'Invoke Error {"errorType": "E", "errorMessage": "m"}',
                None, "quote failed: details", "'id'"]
    raws = ['{"msg": "quote failed", "n": 1}', "plain line\nsecond", '{"message": "boom"}', "  {not json",
            '{"msg": "call failed", "id": 7}', "x", '{"event": "  said  "}', '{"msg": "quote failed"}',
            '{"msg": "another message"}']
    expected = [_signature_text(k, m, r) for k, m, r in zip(kinds, messages, raws)]
    assert signature_texts(kinds, messages, raws) == expected
    assert signature_texts(kinds * 3, messages * 3, raws * 3) == expected * 3
    assert expected[0] == "quote failed: KeyError: 'id'" and expected[1] == "plain line"
    assert expected[-1] == "another message: KeyError: 'id'"  # same type and message, another JSON message
