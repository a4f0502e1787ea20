"""Above a size the notebooks' whole-frame analyses go through Arrow (issue 17, item 1): the
same frames as in memory, tested at a small size with the threshold lowered."""

from __future__ import annotations

import json
import warnings

import pandas as pd
import pytest

from incidentkit import Investigation
from incidentkit.analyses import compare, errors, impact, latency, outofcore, scale
from incidentkit.errors import ParameterError


@pytest.fixture(scope="module")
def sample() -> tuple[Investigation, pd.DataFrame, pd.DataFrame]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        inv = Investigation.sample("version-skew-errors")
        return inv, inv.requests(), inv.requests(window="baseline")


def test_the_threshold_comes_from_the_argument_then_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    frame = pd.DataFrame({"x": range(10)})
    monkeypatch.delenv(scale.ENV, raising=False)
    assert scale.threshold() == scale.DEFAULT_ROWS and not scale.uses_arrow(frame)
    monkeypatch.setenv(scale.ENV, "9")
    assert scale.threshold() == 9 and scale.uses_arrow(frame) and not scale.uses_arrow(frame, threshold=10)
    monkeypatch.setenv(scale.ENV, "0")
    assert scale.uses_arrow(frame) and not scale.uses_arrow(frame.iloc[:0])
    for bad in ("lots", "-1", "1e6"):
        monkeypatch.setenv(scale.ENV, bad)
        with pytest.raises(ParameterError, match=scale.ENV):
            scale.threshold()
    with pytest.raises(ParameterError, match="threshold"):
        scale.threshold(-5)


def test_error_rate_through_arrow_equals_in_memory(sample) -> None:
    inv, req, _ = sample
    counted = impact.counted(req)
    mem = errors.error_rate(counted, window=inv.window)
    arrow = scale.error_rate(counted, window=inv.window, threshold=0)
    assert arrow.attrs["engine"] == "arrow" and "engine" not in mem.attrs
    pd.testing.assert_frame_equal(arrow, mem)
    assert scale.error_rate(counted, window=inv.window).equals(mem)  # below the default threshold: in memory


def test_percentiles_through_arrow_have_the_same_bins_counts_and_maxima(sample) -> None:
    inv, req, _ = sample
    counted = impact.counted(req)
    mem = latency.percentiles(counted, window=inv.window)
    arrow = scale.percentiles(counted, window=inv.window, threshold=0)
    assert arrow.attrs["approximate"] is True
    assert list(arrow.columns) == list(mem.columns)
    pd.testing.assert_frame_equal(arrow[["timestamp", "count", "max"]], mem[["timestamp", "count", "max"]])
    # each percentile lies between the exact ones at q -/+ the documented rank tolerance, bin by bin
    t = counted["timestamp"]
    width = arrow.attrs["bin"]
    for _, row in arrow[arrow["count"] > 0].iterrows():
        values = counted.loc[(t >= row["timestamp"]) & (t < row["timestamp"] + pd.Timedelta(width)), "latency_ms"].dropna()
        for q, col in ((0.5, "p50"), (0.9, "p90"), (0.99, "p99")):
            lo = values.quantile(max(0.0, q - outofcore.RANK_TOLERANCE), interpolation="lower")
            hi = values.quantile(min(1.0, q + outofcore.RANK_TOLERANCE), interpolation="higher")
            assert lo - 1e-9 <= row[col] <= hi + 1e-9, (row["timestamp"], col)


def test_compare_through_arrow_equals_in_memory(sample) -> None:
    _, req, base = sample
    mem = compare.compare(req, base)
    arrow = scale.compare(req, base, threshold=0)
    assert list(arrow.columns) == list(mem.columns)
    key = ["column", "value"]
    a = arrow.assign(value=arrow["value"].astype(str)).sort_values(key, kind="stable").reset_index(drop=True)
    b = mem.assign(value=mem["value"].astype(str)).sort_values(key, kind="stable").reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)
    assert arrow[["column", "significant", "incident_count"]].values.tolist()[:5] == mem[["column", "significant", "incident_count"]].values.tolist()[:5]
    for k in ("n_incident", "n_baseline", "columns", "excluded"):
        assert arrow.attrs[k] == mem.attrs[k], k
    # a baseline given as a mask of the incident's rows stays in memory
    mask = req["status"].fillna(0) >= 400
    assert scale.compare(req, mask, threshold=0).equals(compare.compare(req, mask))


@pytest.mark.slow
def test_the_triage_notebook_through_arrow_gives_the_same_findings(tmp_path, monkeypatch) -> None:
    from incidentkit.run import runner

    monkeypatch.setenv(scale.ENV, "0")  # every frame through Arrow, in the kernel too (it inherits the environment)
    result = runner.run("triage", {"sample": "version-skew-errors"}, out=tmp_path)
    doc = json.loads(result.findings_json.read_text())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = Investigation.sample("version-skew-errors").findings()
    assert [f["id"] for f in doc["findings"]] == [f.id for f in expected]
    assert [f["title"] for f in doc["findings"]] == [f.title for f in expected]
    html = result.html.read_text()
    assert "Incident against baseline" in html and "Traceback" not in html
