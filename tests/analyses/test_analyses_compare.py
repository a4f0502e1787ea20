"""Incident vs baseline comparison (BubbleUp-style), on hand-built frames."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from incidentkit.analyses import compare as cmp


def requests_frame(seed, n, *, az_probs=(0.34, 0.33, 0.33), versions=(("2.9.0", 0.3), ("3.0.2", 0.7)),
                   latency_median=80.0, status_fn=None):
    rng = np.random.default_rng(seed)
    v_names = [v for v, _ in versions]
    v_p = np.array([p for _, p in versions])
    df = pd.DataFrame(
        {
            "timestamp": pd.Timestamp("2026-03-01T03:00Z") + pd.to_timedelta(rng.uniform(0, 3600, n), unit="s"),
            "request_id": [f"{seed}-{i:06d}" for i in range(n)],
            "az": rng.choice(["use1-az1", "use1-az2", "use1-az4"], n, p=list(az_probs)),
            "app_version": rng.choice(v_names, n, p=v_p / v_p.sum()),
            "route": rng.choice(["/orders", "/cart", "/profile"], n),
            "method": rng.choice(["GET", "POST"], n, p=[0.7, 0.3]),
            "cold_start": pd.array(rng.random(n) < 0.01, dtype="boolean"),

            "latency_ms": rng.lognormal(math.log(latency_median), 0.4, n),
            "status": pd.array(np.where(rng.random(n) < 0.01, 500, 200), dtype="Int64"),
        }
    )
    # The old app line ships on iOS only; the new one on Android; some traffic comes from browsers.
    browser = rng.random(n) < 0.2
    df["user_agent"] = np.where(
        browser, "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36",
        np.where(df.app_version == "2.9.0", "ShopApp/2.9.0 (iOS 17.2; iPhone14,2)", "ShopApp/3.0.2 (Android 14; Pixel 8)"))
    if status_fn is not None:
        df["status"] = pd.array(status_fn(df, rng), dtype="Int64")
    return df


def test_compare_finds_the_over_represented_value():
    base = requests_frame(1, 3000)
    inc = requests_frame(2, 3000, az_probs=(0.7, 0.15, 0.15))
    out = cmp.compare(inc, base)
    top = out.iloc[0]
    assert (top["column"], top["value"]) == ("az", "use1-az1")
    assert top["incident_share"] == pytest.approx((inc.az == "use1-az1").mean())
    assert top["baseline_share"] == pytest.approx((base.az == "use1-az1").mean())
    assert top["difference"] == pytest.approx(top["incident_share"] - top["baseline_share"])
    assert top["lift"] == pytest.approx(top["incident_share"] / top["baseline_share"])
    assert top["effect"] == pytest.approx(2 * math.asin(math.sqrt(top["incident_share"]))
                                          - 2 * math.asin(math.sqrt(top["baseline_share"])))
    assert bool(top["significant"]) and top["q_value"] < 1e-6
    others = out[out.column.isin(["route", "method", "app_version"])]
    assert not others["significant"].any(), "columns drawn the same way on both sides are not flagged"


def test_compare_is_calibrated_under_the_null():
    """Same distribution on both sides: BH at 5 % flags something in about 1 run in 20
    (unadjusted p < 0.05 over ~20 values would flag something in most runs)."""
    runs_flagged = 0
    for seed in range(10):
        out = cmp.compare(requests_frame(100 + seed, 2000), requests_frame(200 + seed, 2000))
        runs_flagged += int(out["significant"].any())
    assert runs_flagged <= 2


def test_compare_selection_mask_form_and_derived_columns():
    def status_fn(df, rng):
        bad = (df.app_version == "2.9.0") & (rng.random(len(df)) < 0.9)
        return np.where(bad, 403, 200)

    df = requests_frame(3, 4000, status_fn=status_fn)
    out = cmp.compare(df, df["status"] >= 400)
    assert out.attrs["baseline"] == "rest"
    assert out.attrs["n_incident"] == int((df.status >= 400).sum())
    top = out[out.significant & (out.difference > 0)]
    assert ("app_version", "2.9.0") in set(zip(top.column, top.value))
    assert ("user_agent_family", "ShopApp (iOS)") in set(zip(top.column, top.value))
    assert ("status_class", "4xx") in set(zip(top.column, top.value))
    assert "request_id" in out.attrs["excluded"] and "request_id" not in set(out.column)
    assert "user_agent" not in set(out.column), "the family replaces the raw user agent"
    # A numpy mask and a list mask work the same way.
    mask = (df["status"] >= 400).to_numpy()
    assert cmp.compare(df, mask).equals(out)
    with pytest.raises(ValueError):
        cmp.compare(df, [True, False])
    with pytest.raises(TypeError):
        cmp.compare(df)


def test_compare_pools_rare_values_and_marks_missing():
    inc = pd.DataFrame({"stream": [f"s{i % 40}" for i in range(400)] + [None] * 20})
    base = pd.DataFrame({"stream": [f"s{i % 40}" for i in range(400)]})
    out = cmp.compare(inc, base, columns=["stream"], max_values=10)
    values = set(out["value"])
    assert "(other)" in values and "(missing)" in values
    assert len(values) == 10
    assert out["incident_count"].sum() == 420 and out["baseline_count"].sum() == 400
    missing = out[out.value == "(missing)"].iloc[0]
    assert missing["baseline_count"] == 0 and math.isinf(missing["lift"])


def _counted_as_labels(incident, selection, column, max_values):
    """compare's counts of one column counted the plain way: a label object a row, value_counts of the labels."""
    a, b = incident.loc[selection, column], incident.loc[~selection, column]
    a = a.astype("object").where(a.notna(), cmp.MISSING).map(str)
    b = b.astype("object").where(b.notna(), cmp.MISSING).map(str)
    order = pd.concat([a, b]).value_counts()
    if len(order) > max_values:
        ranked = ([cmp.MISSING] if cmp.MISSING in order.index else []) + [v for v in order.index if v != cmp.MISSING]
        keep = set(ranked[: max_values - 1])
        a, b = a.where(a.isin(keep), cmp.OTHER), b.where(b.isin(keep), cmp.OTHER)
    ca, cb = a.value_counts(), b.value_counts()
    return {v: (int(ca.get(v, 0)), int(cb.get(v, 0))) for v in pd.Index(ca.index).union(pd.Index(cb.index), sort=False)}


@pytest.mark.parametrize("dtype", ["string", "str", "Int64", "category"])
def test_compare_counts_as_the_labels_count_with_ties_and_pooling(dtype):
    # many values of equal counts: which are kept and in which order follows value_counts of the labels
    # (first seen first among equal counts); a value reading "(missing)" or "(other)" is counted with those
    rng = np.random.default_rng(11)
    n = 3000
    values = rng.integers(0, 400, n)
    if dtype == "Int64":
        col = pd.array(values, dtype="Int64")
        col[rng.random(n) < 0.05] = pd.NA
    else:
        text = np.array([f"10.0.{v}" for v in values], dtype=object)
        text[values == 7], text[values == 9] = cmp.MISSING, cmp.OTHER
        text[rng.random(n) < 0.05] = None
        col = pd.Series(text, dtype=dtype)
    df = pd.DataFrame({"client": col})
    selection = rng.random(n) < 0.3
    out = cmp.compare(df, selection, columns=["client"], max_values=20)
    got = {r["value"]: (int(r["incident_count"]), int(r["baseline_count"])) for _, r in out.iterrows()}
    expected = _counted_as_labels(df, selection, "client", 20)
    assert got == expected and len(got) == 20
    rows = [{"column": "client", "value": v, "incident_count": x1, "baseline_count": x2} for v, (x1, x2) in expected.items()]
    ranked = cmp.score_counts(rows, int(selection.sum()), int((~selection).sum()), alpha=0.05)  # ties kept in that order
    pd.testing.assert_frame_equal(out, ranked, check_dtype=False)


def test_compare_boolean_columns_and_explicit_missing_column():
    inc = pd.DataFrame({"cold_start": [True] * 30 + [False] * 70})
    base = pd.DataFrame({"cold_start": [True] * 2 + [False] * 98})
    out = cmp.compare(inc, base, columns=["cold_start", "nope"])
    assert out.iloc[0]["value"] is True or out.iloc[0]["value"] == True  # noqa: E712
    assert out.attrs["excluded"] == {"nope": "not in the frames"}


def test_compare_empty_inputs_keep_columns():
    cols = ["column", "value", "incident_count", "incident_share", "baseline_count", "baseline_share", "difference",
            "lift", "effect", "z", "p_value", "q_value", "significant"]
    assert list(cmp.compare(None).columns) == cols
    assert list(cmp.compare(pd.DataFrame(), pd.DataFrame()).columns) == cols
    assert cmp.compare(requests_frame(1, 10), pd.DataFrame(columns=["az"])).empty


def test_categorical_columns_reasons():
    df = requests_frame(5, 500)
    df["constant"] = "x"
    chosen, excluded = cmp.categorical_columns(df)
    assert {"az", "app_version", "route", "method", "cold_start", "status"} <= set(chosen)
    assert excluded["request_id"].startswith("identifier")
    assert excluded["timestamp"] == "identifier or free text" or excluded["timestamp"] == "time"
    assert excluded["constant"] == "a single value"
    assert "latency_ms" not in chosen


@pytest.mark.parametrize(
    "ua,family",
    [
        ("ShopApp/2.9.0 (iOS 17.2; iPhone14,2)", "ShopApp (iOS)"),
        ("okhttp/4.12.0", "okhttp"),
        ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_2) AppleWebKit/605.1.15 Version/17.2 Safari/605.1.15", "Safari (macOS)"),
        ("Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0", "Firefox (Linux)"),
        ("aws-sdk-java/2.21.0 Linux/5.10", "aws-sdk (Linux)"),
        ("ELB-HealthChecker/2.0", "ELB-HealthChecker"),
        ("", "(missing)"),
    ],
)
def test_ua_family(ua, family):
    assert cmp.ua_family(ua) == family


def test_ks_2samp_statistic_and_p_value():
    d, p = cmp.ks_2samp([1, 2, 3, 4], [1, 2, 3, 4])
    assert d == 0 and p == 1.0
    d, _ = cmp.ks_2samp([1, 2, 3, 4], [3, 4, 5, 6])
    assert d == pytest.approx(0.5)
    rng = np.random.default_rng(0)
    d, p = cmp.ks_2samp(rng.normal(0, 1, 500), rng.normal(0, 1, 500))
    assert p > 0.01
    d, p = cmp.ks_2samp(rng.normal(0, 1, 500), rng.normal(0.5, 1, 500))
    assert p < 1e-4
    # At the textbook 5 % critical value D = 1.358 * sqrt((n + m) / (n m)) the p-value is ~0.05.
    a = np.arange(500, dtype=float)
    shift = int(round(1.358 * math.sqrt(2 / 500) * 500))
    d, p = cmp.ks_2samp(a, a + shift)
    assert d == pytest.approx(shift / 500)
    assert 0.03 < p < 0.07
    assert all(math.isnan(x) for x in cmp.ks_2samp([], [1.0]))


def test_compare_numeric_quantiles_and_ranking():
    base = requests_frame(7, 2000)
    inc = requests_frame(8, 2000, latency_median=240.0)
    inc["memory_mb"] = 512.0
    base["memory_mb"] = 512.0
    out = cmp.compare_numeric(inc, base)
    assert out.iloc[0]["column"] == "latency_ms"
    row = out.iloc[0]
    assert row["incident_p50"] == pytest.approx(np.quantile(inc.latency_ms, 0.5))
    assert row["baseline_p99"] == pytest.approx(np.quantile(base.latency_ms, 0.99))
    assert row["p50_ratio"] == pytest.approx(row["incident_p50"] / row["baseline_p50"])
    assert bool(row["significant"])
    mem = out.set_index("column").loc["memory_mb"]
    assert mem["ks"] == 0 and not bool(mem["significant"])
    assert "status" not in set(out["column"])


def test_compare_numeric_selection_and_empty():
    df = requests_frame(9, 1000)
    out = cmp.compare_numeric(df, df["cold_start"].fillna(False), columns=["latency_ms", "nope"])
    assert out["column"].tolist() == ["latency_ms"]
    assert out.iloc[0]["incident_n"] == int(df.cold_start.sum())
    assert cmp.compare_numeric(None).empty
    assert "ks" in cmp.compare_numeric(pd.DataFrame(), pd.DataFrame()).columns


@pytest.mark.parametrize("module", ["incidentkit.analyses.compare"])
def test_docstring_examples(module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
