"""incidentkit.analyses.outofcore: the in-memory analyses' frames, computed from Parquet by streaming.

Every test builds one frame, writes it as Parquet (several files or an evidence bundle
written in chunks), and compares the out-of-core result with the in-memory analysis on
the same rows: error rates and incident-vs-baseline shares must be equal; percentiles
must have the same bins, counts and maxima, and each percentile must lie within
``RANK_TOLERANCE`` (in rank) of the exact one.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.compute as pc
import pyarrow.dataset as pads
import pytest

from incidentkit.analyses import outofcore
from incidentkit.analyses import compare as mem_compare
from incidentkit.analyses import errors as mem_errors
from incidentkit.analyses import latency as mem_latency
from incidentkit.errors import EvidenceError, ParameterError
from incidentkit.evidence import EvidenceBundle
from incidentkit.window import Window

T0 = pd.Timestamp("2026-03-01T03:00:00Z")
WIN = Window(T0, T0 + pd.Timedelta(hours=1))
INCIDENT = Window(T0 + pd.Timedelta(minutes=40), T0 + pd.Timedelta(hours=1))
BASELINE = Window(T0, T0 + pd.Timedelta(minutes=40))


def _requests(n: int = 24_000, seed: int = 7) -> pd.DataFrame:
    """A parsed-frame-like table: app rows with latency/status, REPORT-like rows with duration
    (+ init on cold starts) and no latency, rows outside the window, missing values."""
    rng = np.random.default_rng(seed)
    ts = T0 - pd.Timedelta(minutes=5) + pd.to_timedelta(np.sort(rng.integers(0, 70 * 60_000, n)), unit="ms")
    incident = ts >= INCIDENT.start
    report = rng.random(n) < 0.2
    version = rng.choice(["2.8.1", "2.9.0", "3.0.0", "3.0.1"], n)
    status = rng.choice([200] * 14 + [201, 204, 301, 404, 500, 503, 101, 299], n).astype("float64")
    status[incident & (version == "2.9.0") & (rng.random(n) < 0.5)] = 403
    status[report] = np.nan
    status[rng.random(n) < 0.01] = np.nan
    latency = rng.lognormal(4.5, 0.9, n) * np.where(status >= 500, 4.0, 1.0)
    latency[report] = np.nan
    latency[rng.random(n) < 0.02] = np.nan
    cold = np.where(report, rng.random(n) < np.where(incident, 0.2, 0.05), False)
    duration = np.where(report, rng.lognormal(4.2, 0.8, n), np.nan)
    init = np.where(report & cold, rng.uniform(200, 900, n), np.nan)
    timed_out = pd.array(np.where(rng.random(n) < 0.005, True, False), dtype="boolean")
    timed_out[np.flatnonzero(report)[:30]] = True
    routes = rng.choice([f"/r{i:02d}" for i in range(30)], n, p=np.linspace(2, 0.2, 30) / np.linspace(2, 0.2, 30).sum())
    df = pd.DataFrame(
        {
            "timestamp": ts.astype("datetime64[ns, UTC]"),
            "request_id": pd.array([f"req-{i:07d}" for i in range(n)], dtype="string"),
            "format": pd.array(np.where(report, "lambda_platform", "app_json"), dtype="string"),
            "status": pd.array(status, dtype="Int64"),
            "latency_ms": latency,
            "duration_ms": duration,
            "init_duration_ms": init,
            "cold_start": pd.array(np.where(report, cold, None), dtype="boolean"),
            "timed_out": timed_out,
            "app_version": pd.array(np.where(rng.random(n) < 0.03, None, version), dtype="string"),
            "route": pd.array(routes, dtype="string"),
            "user_agent": pd.array([f"MyApp/{v} (iOS 17.{k}; iPhone14,2)" for v, k in zip(version, rng.integers(0, 3, n))], dtype="string"),
            "region": pd.array(["eu-west-1"] * n, dtype="string"),
            "note": pd.array([None] * n, dtype="string"),
        }
    )
    df.loc[rng.choice(n, 40, replace=False), "timestamp"] = pd.NaT
    return df


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return _requests()


@pytest.fixture(scope="module")
def files(frame, tmp_path_factory) -> list[str]:
    """The frame as three Parquet files (a multi-file dataset)."""
    folder = tmp_path_factory.mktemp("ooc")
    out = []
    for k, part in enumerate(np.array_split(np.arange(len(frame)), 3)):
        path = folder / f"part-{k}.parquet"
        frame.iloc[part].to_parquet(path, index=False, row_group_size=2_000)
        out.append(str(path))
    return out


@pytest.fixture(scope="module")
def bundle(frame, tmp_path_factory) -> EvidenceBundle:
    """The frame streamed into an evidence bundle in chunks (EvidenceBundle.writer)."""
    b = EvidenceBundle(tmp_path_factory.mktemp("bundle") / "evidence")
    with b.writer("parsed-api", kind="parsed") as w:
        for lo in range(0, len(frame), 5_000):
            w.write(frame.iloc[lo : lo + 5_000], mask=False)
    return b


def _rank_ok(values: np.ndarray, got: float, q: float) -> bool:
    """``got`` lies within RANK_TOLERANCE (plus one order statistic) of the exact ``q`` rank."""
    s = np.sort(values)
    n = len(s)
    lo = np.searchsorted(s, got, side="left") / n
    hi = np.searchsorted(s, got, side="right") / n
    tol = outofcore.RANK_TOLERANCE + 1.0 / n
    return lo - tol <= q <= hi + tol


def _assert_percentiles_match(mem: pd.DataFrame, ooc: pd.DataFrame, raw: pd.DataFrame, keys: list[str], width: str, qs=(0.5, 0.9, 0.99)):
    assert list(ooc.columns) == list(mem.columns)
    assert dict(ooc.dtypes) == dict(mem.dtypes)
    assert ooc.attrs["bin"] == mem.attrs["bin"] and ooc.attrs["approximate"] is True
    pd.testing.assert_frame_equal(ooc[[*keys, "count", "max"]], mem[[*keys, "count", "max"]])
    values = mem_latency.request_latency(raw)
    bins = raw["timestamp"]
    checked = 0
    for row in ooc.itertuples(index=False):
        rec = row._asdict()
        if rec["count"] == 0:
            assert all(np.isnan(rec[mem_latency._qname(q)]) for q in qs)
            continue
        sel = (bins >= rec["timestamp"]) & (bins < rec["timestamp"] + pd.Timedelta(width)) & values.notna()
        for g in keys[1:]:
            sel &= raw[g].isna() if pd.isna(rec[g]) else (raw[g] == rec[g]).fillna(False)
        vals = values[sel].to_numpy()
        assert len(vals) == rec["count"]
        for q in qs:
            assert _rank_ok(vals, rec[mem_latency._qname(q)], q), (rec, q)
        checked += 1
    assert checked > 10


def test_percentiles_match_in_memory_over_a_window(frame, files):
    mem = mem_latency.percentiles(frame, by="1min", window=WIN)
    ooc = outofcore.percentiles(files, by="1min", window=WIN)
    assert len(ooc) == 60 and ooc["timestamp"].iloc[0] == WIN.start
    inside = frame[(frame["timestamp"] >= WIN.start) & (frame["timestamp"] < WIN.end)]
    _assert_percentiles_match(mem, ooc, inside, ["timestamp"], "1min")
    # REPORT rows count through duration + init (they have no latency_ms)
    assert ooc["count"].sum() == mem_latency.request_latency(inside).notna().sum() > inside["latency_ms"].notna().sum()


def test_percentiles_by_groups_keep_missing_groups_and_dtypes(frame, bundle):
    mem = mem_latency.percentiles(frame, by="10min", groupby=["cold_start", "format"], window=WIN)
    ooc = outofcore.percentiles(bundle, by="10min", groupby=["cold_start", "format"], window=WIN)
    assert ooc["cold_start"].isna().any()  # app rows: cold start unknown, a group of its own
    inside = frame[(frame["timestamp"] >= WIN.start) & (frame["timestamp"] < WIN.end)]
    _assert_percentiles_match(mem, ooc, inside, ["timestamp", "cold_start", "format"], "10min")


def test_percentiles_auto_bin_and_observed_range_without_window(frame, files):
    mem = mem_latency.percentiles(frame, value="duration_ms", quantiles=(0.5, 0.999))
    ooc = outofcore.percentiles(files, value="duration_ms", quantiles=(0.5, 0.999))
    assert list(ooc.columns) == ["timestamp", "count", "p50", "p99.9", "max"]
    assert ooc.attrs["bin"] == mem.attrs["bin"] == str(pd.Timedelta("30s"))
    pd.testing.assert_frame_equal(ooc[["timestamp", "count", "max"]], mem[["timestamp", "count", "max"]])


def test_percentiles_filter_expression_equals_filtering_the_frame(frame, files):
    app = frame[frame["format"] == "app_json"]
    mem = mem_latency.percentiles(app, by="5min", window=WIN)
    ooc = outofcore.percentiles(files, by="5min", window=WIN, filter=pc.field("format") == "app_json")
    inside = app[(app["timestamp"] >= WIN.start) & (app["timestamp"] < WIN.end)]
    _assert_percentiles_match(mem, ooc, inside, ["timestamp"], "5min")
    assert ooc.attrs["rows"] == ooc["count"].sum()


def test_percentiles_empty_and_missing_columns_keep_the_fixed_columns(files):
    later = Window(T0 + pd.Timedelta(days=1), T0 + pd.Timedelta(days=1, minutes=3))
    out = outofcore.percentiles(files, by="1min", window=later)
    assert out["count"].tolist() == [0, 0, 0] and out["p99"].isna().all()
    assert list(out.columns) == ["timestamp", "count", "p50", "p90", "p99", "max"]
    none = outofcore.percentiles(files, value="no_such_column")
    assert none.empty and list(none.columns) == ["timestamp", "count", "p50", "p90", "p99", "max"]
    assert str(none["count"].dtype) == "int64" and str(none["timestamp"].dtype) == "datetime64[ns, UTC]"
    assert outofcore.percentiles(files, groupby="nope").empty
    with pytest.raises(ParameterError, match="between 0 and 1"):
        outofcore.percentiles(files, quantiles=(50,))


def test_error_rate_equals_in_memory(frame, files):
    mem = mem_errors.error_rate(frame, by="1min", window=WIN)
    ooc = outofcore.error_rate(files, by="1min", window=WIN)
    assert ooc.attrs["approximate"] is False
    pd.testing.assert_frame_equal(ooc, mem, check_like=False)
    # 1xx and 2xx-out-of-range codes are "other"; a timed-out row without status is a 5xx
    assert mem["n_other"].sum() > 0
    no_status_timeouts = frame["status"].isna() & frame["timed_out"].fillna(False) & frame["timestamp"].between(WIN.start, WIN.end, inclusive="left")
    assert no_status_timeouts.sum() > 0
    without = outofcore.error_rate(files, by="1min", window=WIN, timeouts_as_5xx=False)
    assert without["n_5xx"].sum() == ooc["n_5xx"].sum() - no_status_timeouts.sum()


def test_error_rate_groups_and_filter_and_auto_bin(frame, bundle):
    req = frame[frame["status"].notna()]
    mem = mem_errors.error_rate(req, groupby="app_version")
    ooc = outofcore.error_rate(bundle, groupby="app_version", filter=pc.field("status").is_valid())
    pd.testing.assert_frame_equal(ooc, mem)
    assert ooc.attrs["bin"] == mem.attrs["bin"]
    skew = ooc[ooc["app_version"] == "2.9.0"]
    assert skew.loc[skew["timestamp"] >= INCIDENT.start, "n_4xx"].sum() > skew.loc[skew["timestamp"] < INCIDENT.start, "n_4xx"].sum()


def test_error_rate_time_as_epoch_ms_and_status_as_text(tmp_path):
    df = pd.DataFrame(
        {"timestamp": [T0.value // 10**6 + k * 20_000 for k in range(6)], "status": ["200", "503", " 404", "abc", None, "200"]}
    )
    df.to_parquet(tmp_path / "t.parquet")
    out = outofcore.error_rate(tmp_path / "t.parquet", by="1min")
    assert out["requests"].tolist() == [3.0, 3.0]
    assert out["n_5xx"].tolist() == [1.0, 0.0] and out["n_4xx"].tolist() == [1.0, 0.0]
    assert out["n_other"].tolist() == [0.0, 2.0] and out["n_2xx"].tolist() == [1.0, 1.0]
    pd.testing.assert_frame_equal(out, mem_errors.error_rate(df, by="1min"))
    pd.DataFrame({"timestamp": ["2026"], "status": [200]}).to_parquet(tmp_path / "bad.parquet")
    with pytest.raises(ParameterError, match="timestamp column"):
        outofcore.error_rate(tmp_path / "bad.parquet")


def _mem_compare(frame: pd.DataFrame, inc: Window, base: Window | None, **kw) -> pd.DataFrame:
    t = frame["timestamp"]
    a = frame[(t >= inc.start) & (t < inc.end)]
    if base is None:
        b = frame[~((t >= inc.start) & (t < inc.end)).fillna(False)]
    else:
        b = frame[(t >= base.start) & (t < base.end)]
    return mem_compare.compare(a, b, **kw)


def _assert_compare_equal(ooc: pd.DataFrame, mem: pd.DataFrame) -> None:
    assert list(ooc.columns) == list(mem.columns)
    key = ["column", "value"]
    a = ooc.assign(value=ooc["value"].astype(str)).sort_values(key, kind="stable").reset_index(drop=True)
    b = mem.assign(value=mem["value"].astype(str)).sort_values(key, kind="stable").reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b, check_dtype=True)
    # same ranking up to ties
    rank_keys = ["significant", "effect", "incident_count"]
    assert ooc[rank_keys].round(12).values.tolist() == mem[rank_keys].round(12).values.tolist()
    for k in ("n_incident", "n_baseline", "baseline", "columns", "excluded"):
        assert ooc.attrs[k] == mem.attrs[k], k


def test_compare_windows_equals_in_memory(frame, files):
    mem = _mem_compare(frame, INCIDENT, BASELINE)
    ooc = outofcore.compare(files, INCIDENT, BASELINE)
    _assert_compare_equal(ooc, mem)
    top = ooc.iloc[0]
    assert top["significant"] and top["incident_share"] > top["baseline_share"]
    assert ("status", "403") in set(zip(ooc["column"], ooc["value"]))
    assert ooc.attrs["excluded"]["request_id"] == "identifier or free text"
    assert ooc.attrs["excluded"]["user_agent_family"] == "a single value" and "user_agent" in ooc.attrs["columns"]
    assert ooc.attrs["excluded"]["region"] == "a single value" and ooc.attrs["excluded"]["note"] == "always missing"
    # cold_start stays a boolean label, missing values are their own row
    labels = set(ooc.loc[ooc["column"] == "cold_start", "value"])
    assert labels == {True, False, "(missing)"}
    # 30 routes: the least frequent are pooled as (other)
    assert "(other)" in set(ooc.loc[ooc["column"] == "route", "value"])


def test_compare_over_an_in_memory_dataset_equals_the_files(frame, files):
    import pyarrow as pa

    table = pads.dataset(pa.Table.from_pandas(frame, preserve_index=False))
    _assert_compare_equal(outofcore.compare(table, INCIDENT, BASELINE), outofcore.compare(files, INCIDENT, BASELINE))
    got = outofcore.percentiles(table, by="5min", window=WIN)
    pd.testing.assert_frame_equal(got[["timestamp", "count", "max"]], outofcore.percentiles(files, by="5min", window=WIN)[["timestamp", "count", "max"]])


def test_compare_expression_selection_against_the_rest(frame, bundle):
    t = frame["timestamp"]
    sel = (frame["status"] >= 500).fillna(False)
    mem = mem_compare.compare(frame, sel.to_numpy(), columns=["app_version", "route", "cold_start", "status_class"])
    ooc = outofcore.compare(bundle, pc.field("status") >= 500, columns=["app_version", "route", "cold_start", "status_class", "nope"])
    assert ooc.attrs["excluded"] == {"nope": "not in the frames"}
    mem.attrs["excluded"] = {"nope": "not in the frames"}
    assert ooc.attrs["baseline"] == mem.attrs["baseline"] == "rest"
    _assert_compare_equal(ooc, mem)
    assert len(t) == ooc.attrs["n_incident"] + ooc.attrs["n_baseline"]


def test_compare_drops_high_cardinality_columns_without_keeping_their_values(frame, files):
    out = outofcore.compare(files, INCIDENT, BASELINE, max_cardinality=25)
    assert out.attrs["excluded"]["route"] == "more than 25 distinct values (high cardinality)"
    assert "route" not in set(out["column"])
    counter = outofcore._Counter(limit=3)
    counter.add(["a", "b", "c", "d"], np.array([1, 1, 1, 1]), np.array([0, 0, 0, 0]))
    assert counter.overflow and counter.inc == {} and counter.base == {}


def test_compare_needs_both_sides(files):
    later = Window(T0 + pd.Timedelta(days=1), T0 + pd.Timedelta(days=2))
    out = outofcore.compare(files, later, BASELINE)
    assert out.empty and out.attrs["n_incident"] == 0 and out.attrs["n_baseline"] > 0
    assert list(out.columns)[:3] == ["column", "value", "incident_count"]
    with pytest.raises(ParameterError, match="incident"):
        outofcore.compare(files, None)
    with pytest.raises(ParameterError, match="Window"):
        outofcore.compare(files, "yesterday")


def test_dataset_sources_and_evidence_checks(files, bundle, tmp_path):
    assert outofcore.dataset(files).count_rows() == outofcore.dataset(bundle).count_rows()
    d = pads.dataset(files)
    assert outofcore.dataset(d) is d
    with pytest.raises(EvidenceError, match="no 'metrics' frames"):
        outofcore.dataset(bundle, kind="metrics")
    with pytest.raises(EvidenceError, match="no Parquet"):
        outofcore.dataset(tmp_path / "missing.parquet")
    with pytest.raises(ParameterError, match="source must be"):
        outofcore.dataset(42)
    # a changed file is refused, as EvidenceBundle.load refuses it
    copy = EvidenceBundle(tmp_path / "ev")
    with copy.writer("parsed-a", kind="parsed") as w:
        w.write(pd.DataFrame({"timestamp": [T0], "latency_ms": [1.0]}), mask=False)
    file = copy.path / copy.entry("parsed-a")["file"]
    pd.DataFrame({"timestamp": [T0], "latency_ms": [9.0]}).to_parquet(file)
    with pytest.raises(EvidenceError, match="sha256"):
        outofcore.percentiles(copy)
    assert outofcore.dataset(copy, verify=False).count_rows() == 1


def test_public_names():
    assert set(outofcore.__all__) == {"dataset", "percentiles", "error_rate", "compare", "TDIGEST_DELTA", "RANK_TOLERANCE"}
