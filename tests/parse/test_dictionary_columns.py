"""The low-cardinality text of the parsed and request frames is dictionary-encoded (issue 17,
item 2): ``category`` columns with ``str`` categories. What a user does with those columns
must keep working: comparisons, ``groupby``, concatenation, masking, the accessor, the
evidence bundle's Parquet round trip and the out-of-core analyses."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from incidentkit import parse as parsers
from incidentkit import schema
from incidentkit.analyses import compare, outofcore
from incidentkit.evidence import EvidenceBundle
from incidentkit.masking import mask_frame
from incidentkit.parse import _dictionary

GROUP = "/aws/lambda/orders-api"


def _lines(n: int, versions: tuple[str, ...] = ("2.8.1", "2.9.0")) -> list[str]:
    """``n`` JSON request lines and a REPORT line after every fourth, several routes, levels and versions."""
    out = []
    for i in range(n):
        rid = f"req-{i:06d}"
        level = ("info", "WARNING", "error")[i % 3]
        route = ("/orders", "/orders/{id}", "/pay")[i % 3]
        out.append(
            f'{{"level": "{level}", "requestId": "{rid}", "status": {200 if i % 5 else 503}, "path": "{route}", '
            f'"method": "{"GET" if i % 2 else "POST"}", "latency_ms": {10 + i % 97}, '
            f'"userAgent": "Shop/{versions[i % len(versions)]} (iOS 17)", "service": "orders"}}'
        )
        if i % 4 == 3:
            out.append(f"REPORT RequestId: {rid}\tDuration: {5 + i % 13}.0 ms\tBilled Duration: 20 ms\tMemory Size: 128 MB"
                       "\tMax Memory Used: 60 MB")  # fmt: skip
    return out


def _events(lines: list[str], start: str = "2026-03-01T03:00:00Z") -> pd.DataFrame:
    t0 = pd.Timestamp(start)
    return pd.DataFrame({
        "timestamp": pd.Series([t0 + pd.Timedelta(seconds=i) for i in range(len(lines))]).astype(schema.UTC_NS),
        "log_group": pd.array([GROUP] * len(lines), dtype="string"),
        "message": pd.array(lines, dtype="string"),
    })  # fmt: skip


@pytest.fixture(scope="module")
def parsed() -> pd.DataFrame:
    return parsers.parse(_events(_lines(400)))


def test_the_contract_columns_are_categories_of_str_and_the_others_are_not(parsed: pd.DataFrame) -> None:
    for column in schema.PARSED_COLUMNS:
        dtype = parsed[column].dtype
        if column in schema.CATEGORY_COLUMNS:
            assert isinstance(dtype, pd.CategoricalDtype), column
            assert parsed[column].cat.categories.dtype == "str", column
        else:
            assert not isinstance(dtype, pd.CategoricalDtype), column
    assert [str(d) for d in schema.empty_frame("parsed").dtypes] == [str(d) for d in parsed[list(schema.PARSED_COLUMNS)].dtypes]
    assert set(parsed["level"].dropna()) == {"INFO", "WARN", "ERROR"}
    assert parsed["function_name"].cat.categories.tolist() == ["orders-api"]


def test_batches_with_different_dictionaries_give_the_same_frame(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every batch encodes its own dictionary; the frame holds their union, each row its own value."""
    events = _events(_lines(60, versions=("1.0.0", "1.1.0", "2.0.0", "3.0.0-beta")))
    whole = parsers.parse(events)
    monkeypatch.setattr("incidentkit.parse._frame.BATCH", 7)  # 9+ batches, most without every version or level
    monkeypatch.setenv("INCIDENTKIT_PARSE_THREADS", "3")
    pieces = parsers.parse(events)
    for column in schema.CATEGORY_COLUMNS:
        if column in whole.columns:
            assert pieces[column].astype("string").equals(whole[column].astype("string")), column
    assert sorted(pieces["app_version"].cat.categories) == ["1.0.0", "1.1.0", "2.0.0", "3.0.0-beta"]


def test_comparisons_membership_and_text_methods_read_like_text(parsed: pd.DataFrame) -> None:
    errors = parsed["level"] == "ERROR"
    assert errors.dtype == bool and errors.sum() == 400 // 3
    assert not (parsed["level"] == "NOT-A-LEVEL").any()
    assert parsed["level"].isin(["ERROR", "WARN"]).sum() == errors.sum() + (parsed["level"] == "WARN").sum()
    assert parsed.loc[parsed["format"] == "lambda_platform", "record_type"].eq("report").all()
    assert parsed["route"].str.startswith("/orders").sum() == (parsed["route"].isin(["/orders", "/orders/{id}"])).sum()
    # a missing value is missing, and compares unequal to any text
    report = parsed["format"] == "lambda_platform"
    assert parsed.loc[report, "level"].isna().all() and not (parsed.loc[report, "level"] == "nan").any()


def test_groupby_on_dictionary_columns_counts_only_what_is_there_without_warnings(parsed: pd.DataFrame) -> None:
    subset = parsed[parsed["route"] == "/pay"]  # the other routes stay categories, unused here
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        by_route = subset.groupby("route").size()
        by_two = subset.groupby(["route", "method"]).size()
        kept = subset.groupby("route", observed=False).size()
    assert by_route.to_dict() == {"/pay": len(subset)}
    assert by_two.sum() == len(subset) and len(by_two) == 2
    assert kept.to_dict() == {"/orders": 0, "/orders/{id}": 0, "/pay": len(subset)}


def test_the_batches_dictionaries_join_into_sorted_str_categories_as_astype_gives_them() -> None:
    """Chunks with their own dictionaries (index types, nulls, an empty one, non-ASCII text) give
    the categories and the values ``astype("category")`` gives the same text."""
    pieces = [["b", None, "é", "b"], [None, None], ["Z", "a", "zz", "a", "Ω", "é"], [f"v{i:03d}" for i in range(200)], []]
    chunks = [_dictionary.encode_array(pa.array(p, type=pa.large_string())) for p in pieces]
    assert {c.type.index_type for c in chunks} == {pa.int8(), pa.int16()}
    got = _dictionary.to_pandas(chunks)
    want = pd.Series([v for p in pieces for v in p], dtype="str").astype("category")
    assert got.cat.categories.tolist() == want.cat.categories.tolist()
    assert got.cat.categories.dtype == "str"
    assert got.astype("string").equals(want.astype("string"))
    assert got.cat.codes.dtype == np.int16 and got.isna().sum() == 3


def test_concat_keeps_the_dictionary_type_when_categories_differ() -> None:
    a = parsers.parse(_events(_lines(20, versions=("1.0.0",))))
    b = parsers.parse(_events(_lines(20, versions=("2.0.0",)), start="2026-03-01T04:00:00Z"))
    assert a["app_version"].cat.categories.tolist() != b["app_version"].cat.categories.tolist()
    both = schema.concat([a, b], ignore_index=True)
    assert isinstance(both["app_version"].dtype, pd.CategoricalDtype)
    assert both["app_version"].cat.categories.dtype == "str"
    assert both["app_version"].value_counts().to_dict() == {"1.0.0": 20, "2.0.0": 20}
    assert len(both) == len(a) + len(b)
    plain = pd.concat([a, b], ignore_index=True)  # what pandas alone does: text, same values
    assert plain["app_version"].astype("string").equals(both["app_version"].astype("string"))


def test_the_evidence_bundle_round_trip_keeps_dictionaries_and_equality(tmp_path, parsed: pd.DataFrame) -> None:
    bundle = EvidenceBundle(tmp_path / "ev")
    bundle.record("parsed-orders", parsed, kind="parsed")
    back = EvidenceBundle.open(tmp_path / "ev").load("parsed-orders")
    pd.testing.assert_frame_equal(back[list(parsed.columns)], parsed, check_dtype=True, check_categorical=True)
    # the out-of-core analyses read the same file: dictionary text counted like the in-memory analysis counts it
    t = parsed["timestamp"]
    cut = t.iloc[len(t) // 2]
    incident, baseline = (cut, t.max() + pd.Timedelta(seconds=1)), (t.min(), cut)
    ooc = outofcore.compare(bundle, incident, baseline, columns=["level", "route", "method", "app_version"])
    mem = compare.compare(parsed[t >= cut], parsed[t < cut], columns=["level", "route", "method", "app_version"])
    key = ["column", "value", "incident_count", "baseline_count"]
    assert sorted(map(tuple, ooc[key].astype(str).values)) == sorted(map(tuple, mem[key].astype(str).values))


def test_masking_a_dictionary_column_masks_each_value_once_and_keeps_the_type() -> None:
    secret = "/login?token=" + "a1b2c3d4e5f6" * 3
    other = "/login?token=" + "f6e5d4c3b2a1" * 3
    df = pd.DataFrame({"route": schema.as_category([secret, "/pay", None, other, secret])})
    out = mask_frame(df)
    assert isinstance(out["route"].dtype, pd.CategoricalDtype)
    assert out["route"].cat.categories.dtype == "str"
    assert "a1b2c3d4e5f6" not in " ".join(out["route"].cat.categories)
    values = out["route"].tolist()
    assert values[1] == "/pay" and pd.isna(values[2])
    assert values[0] == values[3] == values[4] != secret  # two secrets masked to one text: one category
    assert len(out["route"].cat.categories) == 2
    assert df["route"].tolist()[0] == secret  # the input is not modified


def test_requests_and_the_accessor_work_on_dictionary_columns(parsed: pd.DataFrame) -> None:
    req = parsers.requests(parsed)
    for column in set(schema.REQUEST_COLUMNS) & set(schema.CATEGORY_COLUMNS):
        assert isinstance(req[column].dtype, pd.CategoricalDtype), column
    assert len(req) == 400
    assert set(req["app_version"].dropna()) == {"2.8.1", "2.9.0"}
    versions = parsed.ik.by_version()
    assert set(versions["version"].astype(str)) == {"2.8.1", "2.9.0"}
    assert versions["requests"].sum() == 400
    shares = parsed.ik.compare(parsed.iloc[: len(parsed) // 2])
    assert len(shares)


def test_as_category_normalises_any_text_to_str_categories() -> None:
    for values in (pd.Series(["a", None, "b"], dtype="string"), pd.Series(["a", None, "b"], dtype=object),
                   pd.Series(["a", None, "b"], dtype="string").astype("category")):  # fmt: skip
        s = schema.as_category(values)
        assert s.cat.categories.dtype == "str" and s.cat.categories.tolist() == ["a", "b"]
        assert s.isna().tolist() == [False, True, False]
    ints = schema.as_category(pd.Series([1, 2, None], dtype="Int64"))
    assert ints.cat.categories.tolist() == ["1", "2"] and ints.isna().tolist() == [False, False, True]
