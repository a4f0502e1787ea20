"""localise: rows an entry point wrote are not a request's own lines, whatever the entry point
(the set comes from the formats' ROLE in parse/registry.py, so a new access-log format is
covered without an edit here)."""

from __future__ import annotations

import pandas as pd
import pytest

import numpy as np

from incidentkit.analyses._common import positions_in
from incidentkit.analyses import localise
from incidentkit.analyses.localise import request_dimensions
from incidentkit.parse.registry import format_names

ENTRY_FORMATS = format_names("request") + format_names("access") + format_names("entry")


def test_the_entry_formats_include_the_logs_aws_writes_to_s3():
    assert {"alb_access", "elb_classic_access", "cloudfront_access", "s3_access", "apigw_access", "clf_access"} <= set(ENTRY_FORMATS)


@pytest.mark.parametrize("entry_format", ENTRY_FORMATS)
def test_an_entry_points_row_does_not_hide_the_functions_stream(entry_format):
    req = pd.DataFrame({"tier": ["invocation"], "request_id": ["r1"], "route": ["/orders/812"], "status": [500]})
    logs = pd.DataFrame({"request_id": ["r1", "r1"], "log_stream": ["lb-logs/2026/05/04/x.log.gz", "2026/05/04/[42]9f0e"],
                         "log_group": ["s3://logs/lb/", "/aws/lambda/orders"], "format": [entry_format, "lambda_platform"]})
    got = request_dimensions(req, logs)
    assert got[["log_stream", "function_version"]].values.tolist() == [["2026/05/04/[42]9f0e", "42"]]


def test_two_streams_of_the_function_itself_stay_unknown():
    req = pd.DataFrame({"tier": ["invocation"], "request_id": ["r1"], "route": ["/orders/812"], "status": [500]})
    logs = pd.DataFrame({"request_id": ["r1", "r1"], "log_stream": ["2026/05/04/[41]a", "2026/05/04/[42]b"],
                         "log_group": ["/aws/lambda/orders"] * 2, "format": ["lambda_platform", "app_json"]})
    assert request_dimensions(req, logs)["log_stream"].isna().all()


@pytest.mark.parametrize("dtype", ["string", "object", "string[pyarrow]"])
def test_positions_in_is_get_indexer_with_missing_and_absent_keys_at_minus_one(dtype):
    values = pd.Index(np.array(["r2", "r1", "r3"], dtype=object))
    keys = pd.Series(["r1", None, "zz", "r3", "r1", "r2"], dtype=dtype)
    expected = values.get_indexer(keys.astype(object).where(keys.notna(), None).tolist())
    assert positions_in(keys, values).tolist() == expected.tolist() == [1, -1, -1, 2, 1, 0]
    assert positions_in(keys.iloc[:0], values).tolist() == []
    assert positions_in(keys, values[:0]).tolist() == [-1] * 6


def test_counts_by_text_of_a_text_column_absent_and_repeated_values():
    rows = pd.DataFrame({"client": pd.array(["a", "b", None, "a", "c"], dtype="string"),
                         "n": pd.Categorical(["x", "y", "x", "x", "y"])})
    bad = np.array([True, False, True, False, True])
    n, x = localise._counts_by_text(rows, "client", bad, ["a", "zz", "c", "a"])
    assert n.tolist() == [2, 0, 1, 2] and x.tolist() == [1, 0, 1, 1]
    n, x = localise._counts_by_text(rows, "n", bad, ["y", "x"])
    assert n.tolist() == [2, 3] and x.tolist() == [1, 2]


def test_concentration_of_parts_of_a_coded_frame_is_the_same():
    # the text codes of the whole frame, made once, give what each part's own columns give
    rng = np.random.default_rng(4)
    n = 3000
    clients = np.array([f"10.0.{i}" for i in rng.integers(0, 250, n)], dtype=object)
    clients[clients == "10.0.3"], clients[rng.random(n) < 0.03] = "(other)", None
    rows = pd.DataFrame({"route": pd.array(rng.choice(["/a", "/b", "/c"], n), dtype="string"),
                         "client": pd.array(clients, dtype="string"),
                         "status": pd.array(rng.choice([200, 500], n), dtype="Int64"),
                         "app_version": pd.Categorical(rng.choice(["1.0", "2.0"], n)),
                         "log_stream": pd.Series(rng.choice(np.array(["a", 1, None], dtype=object), n), dtype=object)},
                        index=pd.Index(rng.permutation(n) * 2))
    after = (rng.random(n) < 0.5)
    bad = pd.Series(rng.random(n) < np.where(after & (rows["route"] == "/a").to_numpy(), 0.6, 0.05), index=rows.index)
    known = localise.coded(rows)
    assert sorted(known.codes) == ["app_version", "client", "route", "status"]  # text, integer, text categories
    a, b = rows[after], rows[~after]
    plain = localise.concentration(a, bad[a.index], before=b, bad_before=bad[b.index])
    shared = localise.concentration(a, bad[a.index], before=b, bad_before=bad[b.index], known=known)
    pd.testing.assert_frame_equal(plain, shared)
    assert plain["rose"].any() and (plain["dimension"] == "client").any()
    assert localise.coded(pd.concat([rows, rows])).codes == {}  # a repeated index: nothing coded


def test_request_dimensions_joins_streams_versions_and_signatures_by_request_id():
    req = pd.DataFrame({"tier": ["invocation"] * 5, "request_id": ["r1", "r2", "r3", "r4", None],
                        "route": ["/a"] * 5, "status": [500, 200, 500, 200, 200],
                        "log_stream": ["own-1", "own-2", None, "own-4", "own-5"]})
    logs = pd.DataFrame({
        "request_id": pd.array(["r1", "r1", "r2", "r2", "r3", "r3", "r9"], dtype="string"),
        "log_stream": pd.array(["2026/05/04/[42]a", "2026/05/04/[42]a", "s1", "s2", None, "2026/05/04/[7]b", "x"], dtype="string"),
        "log_group": pd.array([None, "/aws/lambda/f", "/aws/lambda/f", "/aws/lambda/f", "/ecs/app", "/aws/lambda/f", "g"],
                              dtype="string"),
        "format": ["lambda_platform"] * 7,
    })
    templates = pd.Series([None, "Timeout <*>", "Boom"], index=["r3", "r3", "r1"])
    out = request_dimensions(req, logs, templates=templates).set_index("request_id", drop=False)
    # r1: one stream, its first line with a group is a Lambda group; r2: two streams (none kept, its own row's kept);
    # r3: one stream named (the other line has none), its first group is not Lambda; r4: no line: its own values
    assert out["log_stream"].tolist() == ["2026/05/04/[42]a", "own-2", "2026/05/04/[7]b", "own-4", "own-5"]
    assert out["function_version"].iat[0] == "42" and out["function_version"].iloc[1:].isna().all()
    assert out["signature"].iat[0] == "Boom" and out["signature"].iat[2] == "Timeout <*>"
    assert out["signature"].iloc[[1, 3, 4]].isna().all()
