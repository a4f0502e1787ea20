"""Plots: each renders to PNG with Agg and carries what a reader needs (labels, window, changes)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import threading

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PolyCollection, QuadMesh
from matplotlib.colors import to_rgb

from incidentkit.render import plots
from incidentkit.analyses import errors, latency
from incidentkit.window import Window

T0 = pd.Timestamp("2026-03-01T02:00:00Z")
W = Window(pd.Timestamp("2026-03-01T03:00:00Z"), pd.Timestamp("2026-03-01T04:00:00Z"))
B = Window(T0, W.start)


def requests(seed=1, n=2400):
    rng = np.random.default_rng(seed)
    t = T0 + pd.to_timedelta(np.sort(rng.uniform(0, 7200, n)), unit="s")
    ver = rng.choice(["2.9.0", "3.0.1", "3.1.0"], n, p=[0.3, 0.5, 0.2])
    cold = rng.random(n) < 0.02
    lat = rng.lognormal(math.log(120), 0.4, n) + np.where(cold, rng.uniform(2000, 7000, n), 0)
    status = np.where(rng.random(n) < 0.005, 500, 200)
    status = np.where((t >= W.start) & (ver == "2.9.0") & (rng.random(n) < 0.95), 403, status)
    return pd.DataFrame({"timestamp": t, "app_version": ver, "status": pd.array(status, dtype="Int64"),
                         "latency_ms": lat, "cold_start": pd.array(cold, dtype="boolean")})


def changes():
    return pd.DataFrame(
        {
            "timestamp": pd.to_datetime(["2026-03-01T02:58:10Z", "2026-03-01T02:20:00Z", "2026-03-01T03:30:00Z",
                                         "2026-03-01T03:30:40Z", "2026-03-01T09:00:00Z"]),
            "source": ["codedeploy", "cloudtrail", "cloudtrail", "cloudtrail", "cloudtrail"],
            "event_name": ["UpdateFunctionCode", "AuthorizeSecurityGroupIngress", "PutParameter",
                           "UpdateFunctionConfiguration", "OutOfRange"],
            "class": ["DEPLOYMENT", "SECURITY_CHANGE", "CONFIG_CHANGE", "CONFIG_CHANGE", "OTHER"],
            "actor": ["ci", "alice", "bob", "bob", "x"],
            "resource": ["arn:aws:lambda:us-east-1:123456789012:function:api", "sg-0abc", "/api/jwt/issuer", "api", "y"],
            "error_code": [None, "Client.InvalidPermission.Duplicate", None, None, None],
            "detail": [None] * 5,
        }
    )


def metrics():
    rng = np.random.default_rng(3)
    t = pd.date_range(T0, periods=120, freq="1min")
    inc = (t >= W.start) & (t < W.start + pd.Timedelta("20min"))
    rows = []

    def add(ns, name, stat, values, dims):
        rows.append(pd.DataFrame({"timestamp": t, "query_id": f"q{len(rows)}", "label": name, "namespace": ns,
                                  "metric_name": name, "dimensions": json.dumps(dims, sort_keys=True), "stat": stat,
                                  "period": 60, "value": values}))

    add("AWS/ApiGateway", "5XXError", "Sum", rng.poisson(1, 120) + np.where(inc, 30, 0), {"ApiName": "orders"})
    add("AWS/ApiGateway", "IntegrationLatency", "p99", rng.normal(300, 30, 120) + np.where(inc, 28000, 0), {"ApiName": "orders"})
    for fn, base in (("api", 20), ("worker", 5)):
        add("AWS/Lambda", "ConcurrentExecutions", "Maximum", rng.poisson(base, 120) + np.where(inc & (fn == "api"), 60, 0),
            {"FunctionName": fn})
    return pd.concat(rows, ignore_index=True)


def _png(fig, tmp_path, name):
    path = tmp_path / f"{name}.png"
    fig.savefig(path, dpi=60)
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
    return path


def _spans(ax, color):
    rgb = to_rgb(color)
    return [p for p in ax.patches if np.allclose(p.get_facecolor()[:3], rgb, atol=0.02)]


def _vlines(ax, color):
    rgb = to_rgb(color)
    out = []
    for ln in ax.get_lines():
        x = np.asarray(ln.get_xdata(), dtype=object)
        if len(x) == 2 and x[0] == x[1] and np.allclose(to_rgb(ln.get_color()), rgb, atol=0.02):
            out.append(ln)
    return out


def _texts(fig):
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def _legend_labels(fig):
    return [t.get_text() for lg in fig.legends for t in lg.get_texts()]


def test_timeline_metrics_panels_window_baseline_and_changes(tmp_path):
    fig = plots.timeline(metrics(), window=W, baseline=B, changes=changes())
    _png(fig, tmp_path, "timeline")
    assert isinstance(fig, plots.IncidentFigure)
    assert len(fig.axes) == 3, "one panel per namespace + metric + statistic"
    assert fig.axes[-1].get_xlabel() == "time (UTC)"
    assert fig._suptitle.get_text() == "Metrics over time"
    titles = [ax.get_title(loc="left") for ax in fig.axes]
    assert any("5XXError" in t for t in titles) and any("ConcurrentExecutions" in t for t in titles)
    for ax in fig.axes:
        assert len(_spans(ax, plots.INCIDENT_COLOR)) == 1
        assert len(_spans(ax, plots.BASELINE_COLOR)) == 1
        assert len(_vlines(ax, plots.CHANGE_COLORS["DEPLOYMENT"])) == 1
        assert len(_vlines(ax, plots.CHANGE_COLORS["CONFIG_CHANGE"])) == 2
        assert not _vlines(ax, plots.CHANGE_COLORS["OTHER"]), "changes outside the plotted range are left out"
    legend = _legend_labels(fig)
    keys = [t for t in legend if "·" in t]  # the numbered change key, one entry per marker on the plot
    assert sorted(_texts(fig)) == [str(n) for n in range(1, len(keys) + 1)]
    assert any("UpdateFunctionCode · api · deployment" in k for k in keys), "the ARN is shortened to the function name"
    assert any("(failed: " in k for k in keys) and any("+1 more: " in k for k in keys)
    assert {"incident window", "baseline window", "baseline median", "deployment", "security change"} <= set(legend)
    conc = next(ax for ax in fig.axes if "ConcurrentExecutions" in ax.get_title(loc="left"))
    assert {t.get_text() for t in conc.get_legend().get_texts()} == {"FunctionName=api", "FunctionName=worker"}
    flat = [ln for ln in conc.get_lines()
            if ln.get_linestyle() == "--" and len(set(np.asarray(ln.get_ydata(), dtype=float))) == 1]
    assert len(flat) == 2, "a dashed baseline median per line"
    medians = sorted(float(ln.get_ydata()[0]) for ln in flat)
    m = metrics()
    conc_rows = m[(m.metric_name == "ConcurrentExecutions") & (m.timestamp < B.end)]
    expected = sorted(conc_rows.groupby("dimensions")["value"].median())
    assert medians == pytest.approx(expected)


def test_timeline_merges_stat_spellings_and_accepts_series_and_wide_frames(tmp_path):
    m = metrics()
    m.loc[m.index[-30:], "stat"] = "p99.0"
    m2 = m[m.metric_name == "IntegrationLatency"]
    m2.loc[m2.index[:60], "stat"] = "p99"
    fig = plots.timeline(m2)
    assert len(fig.axes) == 1
    s = pd.Series(np.arange(10.0), index=pd.date_range(W.start, periods=10, freq="1min"), name="errors per minute")
    fig = plots.timeline(s, window=W, changes=changes())
    _png(fig, tmp_path, "series")
    assert fig._suptitle.get_text() == "errors per minute"
    wide = pd.DataFrame({"a": np.arange(10.0), "b": np.arange(10.0)[::-1]}, index=s.index)
    fig = plots.timeline(wide, baseline=s.iloc[::-1].reset_index(drop=True).set_axis(s.index))
    assert len(fig.axes[0].get_lines()) == 3
    with pytest.raises(TypeError):
        plots.timeline([1, 2, 3])


def test_timeline_breaks_lines_where_datapoints_are_missing():
    """CloudWatch omits periods without data: the line must not bridge a quiet hour."""
    idx = pd.date_range(W.start, periods=60, freq="1min").delete(range(20, 50))
    s = pd.Series(np.ones(len(idx)), index=idx, name="Count")
    line = plots.timeline(s).axes[0].get_lines()[0]
    y = np.asarray(line.get_ydata(), dtype=float)
    assert np.isnan(y).sum() == 1 and len(y) == len(s) + 1
    assert line.get_marker() == "."
    dense = pd.Series(np.ones(60), index=pd.date_range(W.start, periods=60, freq="1min"), name="Count")
    assert not np.isnan(np.asarray(plots.timeline(dense).axes[0].get_lines()[0].get_ydata(), dtype=float)).any()


def _sparse_metric(stat: str) -> pd.DataFrame:
    """A count CloudWatch only reports where it is non-zero: 1 at three minutes of an hour."""
    t = W.start + pd.to_timedelta([5, 31, 47], unit="min")
    df = pd.DataFrame({"timestamp": t, "query_id": "q0", "label": "5XXError", "namespace": "AWS/ApiGateway",
                       "metric_name": "5XXError", "dimensions": "{}", "stat": stat, "period": 60, "value": [1.0, 1.0, 2.0]})
    df.attrs["window"] = {"start": W.start.isoformat(), "end": W.end.isoformat()}
    return df


@pytest.mark.parametrize("stat", ["Sum", "SampleCount"])
def test_sparse_counts_are_drawn_as_counts_with_zeros_between(stat):
    """A missing period of a count is 0, not a line joining 1, 1, 2 (which reads as a constant 5xx)."""
    line = plots.timeline(_sparse_metric(stat), window=W).axes[0].get_lines()[0]
    y = np.asarray(line.get_ydata(), dtype=float)
    assert len(y) == 60 and not np.isnan(y).any(), "every minute of the window read, one point each"
    assert sorted(y[y > 0]) == [1.0, 1.0, 2.0] and (y == 0).sum() == 57


def test_sparse_non_counts_keep_their_gaps():
    """An average (a rate) over a period without requests is unknown, not 0: the line breaks instead."""
    y = np.asarray(plots.timeline(_sparse_metric("Average"), window=W).axes[0].get_lines()[0].get_ydata(), dtype=float)
    assert np.isnan(y).sum() == 2 and (y[~np.isnan(y)] > 0).all()


def _few_requests_per_bin() -> pd.DataFrame:
    """4 requests every 2 minutes for two hours; one 403 in each of three bins: 25 % in those bins."""
    t = T0 + pd.to_timedelta(np.repeat(np.arange(0, 7200, 120), 4) + np.tile([0, 20, 40, 60], 60), unit="s")
    status = np.full(len(t), 200)
    status[[8, 40, 80]] = 403
    return pd.DataFrame({"timestamp": t, "status": status})


def test_rates_from_a_handful_of_requests_are_not_drawn_as_spikes():
    req = _few_requests_per_bin()
    frame = errors.error_rate(req, by="2min")
    fig = plots.error_rate(frame, window=(T0, W.end))
    rate_lines = [ln for ln in fig.axes[0].get_lines() if ln.get_label() in ("5xx rate", "4xx rate")]
    peak = max(np.nanmax(np.asarray(ln.get_ydata(), dtype=float)) for ln in rate_lines)
    assert peak < 0.25, "bins are merged until a typical bin has 10 requests: no 25 % spike from 1 error in 4"
    assert peak == pytest.approx(1 / 12) and "requests\nper 6 min" == fig.axes[1].get_ylabel()
    # without counts to merge, a bin under 10 requests draws no rate and its bar is hatched
    bare = frame.drop(columns=[c for c in frame.columns if c.startswith("n_")])
    fig = plots.error_rate(bare, window=(T0, W.end))
    ys = [np.asarray(ln.get_ydata(), dtype=float) for ln in fig.axes[0].get_lines() if ln.get_label().endswith("rate")]
    assert all(np.isnan(y).all() for y in ys)
    assert any("rate not drawn" in t for t in _legend_labels(fig))


def test_change_labels_are_complete_horizontal_and_without_the_api_version():
    ch = pd.DataFrame({"timestamp": [W.start + pd.Timedelta("10min")], "source": ["cloudtrail"],
                       "event_name": ["DeleteProvisionedConcurrencyConfig20170331"], "class": ["SCALING"], "actor": ["x"],
                       "resource": ["arn:aws:lambda:eu-west-1:123456789012:function:catalog-search-production"],
                       "error_code": [None], "detail": [None]})
    fig = plots.timeline(_sparse_metric("Sum"), window=W, changes=ch)
    keys = [t for t in _legend_labels(fig) if "·" in t]
    assert keys == ["03:10:00  DeleteProvisionedConcurrencyConfig · catalog-search-production · scaling"]
    assert all(t.get_rotation() == 0 for ax in fig.axes for t in ax.texts)


def test_timeline_caps_panels():
    m = metrics()
    many = pd.concat([m.assign(metric_name=f"M{i}") for i in range(10)])
    fig = plots.timeline(many, max_panels=4)
    assert len(fig.axes) == 4 and "more metrics not shown" in fig._suptitle.get_text()


def test_latency_bands_bands_log_scale_and_counts(tmp_path):
    req = requests()
    frame = latency.percentiles(req, by="1min")
    fig = plots.latency_bands(frame, window=W, changes=changes())
    _png(fig, tmp_path, "bands")
    ax, axc = fig.axes
    assert ax.get_yscale() == "log", "P99 of cold starts is > 20x the P50"
    assert [t.get_text() for t in ax.get_legend().get_texts()][:3] == ["P50", "P90", "P99"]
    assert sum(isinstance(c, PolyCollection) for c in ax.collections) >= 2, "P50-P90 and P90-P99 bands"
    assert len(axc.patches) >= len(frame), "a count bar per bin"
    assert "requests" in axc.get_ylabel() and axc.get_xlabel() == "time (UTC)"
    assert "latency" in ax.get_ylabel()
    assert len(_spans(ax, plots.INCIDENT_COLOR)) == 1
    # Linear when the spread is small.
    calm = frame.assign(p90=frame.p50 * 1.5, p99=frame.p50 * 2, max=frame.p50 * 2)
    assert plots.latency_bands(calm).axes[0].get_yscale() == "linear"


def test_latency_bands_with_and_without_cold_starts(tmp_path):
    frame = latency.percentiles_excluding(requests(), by="5min")
    fig = plots.latency_bands(frame)
    _png(fig, tmp_path, "bands_subset")
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels == ["P99 all", "P99 excluding cold_start", "P99 only cold_start"]
    assert "by subset" in fig._suptitle.get_text()


def test_version_share_stacked_and_error_rate(tmp_path):
    fig = plots.version_share(requests(), window=W, changes=changes())
    _png(fig, tmp_path, "versions")
    ax, axe = fig.axes
    assert sum(isinstance(c, PolyCollection) for c in ax.collections) == 3, "one stacked area per version"
    assert ax.get_ylim() == (0.0, 1.0)
    assert ax.get_legend().get_title().get_text() == "app_version"
    assert "error rate" in axe.get_title(loc="left")
    lines = {ln.get_label() for ln in axe.get_lines() if not ln.get_label().startswith("_")}
    assert lines == {"2.9.0", "3.0.1", "3.1.0"}
    old = [ln for ln in axe.get_lines() if ln.get_label() == "2.9.0"][0]
    assert np.nanmax(old.get_ydata()) > 0.8, "the broken version's error rate is drawn"
    assert len(_spans(axe, plots.INCIDENT_COLOR)) == 1


def test_version_share_pools_versions_beyond_top():
    req = requests()
    req["app_version"] = [f"1.{i % 9}" for i in range(len(req))]
    fig = plots.version_share(req, top=3)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels[-1] == "(other)" and len(labels) == 4


def test_heatmap_mesh_log_axis_and_colorbar(tmp_path):
    hm = latency.heatmap(requests())
    fig = plots.heatmap(hm, window=W, changes=changes())
    _png(fig, tmp_path, "heatmap")
    ax = fig.axes[0]
    assert len(fig.axes) == 2, "heatmap + colour bar"
    assert any(isinstance(c, QuadMesh) for c in ax.collections)
    assert ax.get_yscale() == "log"
    assert "requests per" in fig.axes[1].get_ylabel()
    assert ax.get_xlabel() == "time (UTC)"


def test_error_rate_from_requests_or_frame(tmp_path):
    req = requests()
    fig = plots.error_rate(req, window=W, changes=changes())
    _png(fig, tmp_path, "errors")
    ax, axc = fig.axes
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["5xx rate", "4xx rate"]
    assert ax.get_ylabel() == "share of requests"
    frame = errors.error_rate(req, by="5min")
    fig2 = plots.error_rate(frame)
    assert len(fig2.axes[1].patches) == len(frame)
    four = [ln for ln in fig2.axes[0].get_lines() if ln.get_label() == "4xx rate"][0]
    assert np.nanmax(four.get_ydata()) == pytest.approx(frame["rate_4xx"].max())


@pytest.mark.parametrize("fn,arg", [
    (plots.latency_bands, latency.percentiles(None)),
    (plots.heatmap, latency.heatmap(None)),
    (plots.error_rate, errors.error_rate(None)),
    (plots.version_share, pd.DataFrame()),
    (plots.timeline, pd.DataFrame(columns=["timestamp", "metric_name", "value"])),
])
def test_empty_inputs_draw_a_no_data_figure(fn, arg, tmp_path):
    fig = fn(arg)
    assert "no data" in _texts(fig)
    fig.savefig(tmp_path / "empty.png")


def test_repr_png_for_notebooks_carries_the_title_as_alternative_text():
    fig = plots.error_rate(requests())
    data, metadata = fig._repr_png_()
    assert data[:4] == b"\x89PNG"
    assert metadata == {"alt": "Plot: " + " ".join(fig._suptitle.get_text().split())} and len(metadata["alt"]) > len("Plot: ")


def test_figures_build_concurrently_from_threads():
    req = requests()
    frame = latency.percentiles(req)
    results, failures = [], []

    def work(i):
        try:
            fig = plots.latency_bands(frame, title=f"t{i}") if i % 2 else plots.version_share(req, title=f"t{i}")
            results.append((i, fig._suptitle.get_text(), len(fig._repr_png_()[0])))
        except Exception as exc:  # pragma: no cover - the assertion below reports it
            failures.append(repr(exc))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures
    assert sorted((i, title) for i, title, _ in results) == [(i, f"t{i}") for i in range(6)]


def test_plots_never_import_pyplot():
    code = (
        "import sys, pandas as pd\n"
        "from incidentkit import plots\n"
        "s = pd.Series([1.0, 2.0], index=pd.date_range('2026-03-01', periods=2, freq='1min', tz='UTC'))\n"
        "plots.timeline(s)._repr_png_()\n"
        "print('matplotlib.pyplot' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("module", ["incidentkit.render.plots", "incidentkit.render.plot_figure", "incidentkit.render.plot_timeline"])
def test_docstring_examples(module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


def test_dollar_signs_in_the_data_stay_text_in_every_plot(tmp_path):
    """Labels come from the data: '$...$' must not be typeset as math, nor break the figure."""
    req = requests()
    req["app_version"] = req["app_version"].replace({"2.9.0": r"2.9$\frac{$"})
    ch = changes().assign(resource=r"api$\frac{$x")
    figs = [plots.version_share(req, by="10min", window=W, changes=ch),
            plots.timeline(metrics().assign(metric_name=r"Errors$\frac{$"), window=W, changes=ch),
            plots.error_rate(req, by="5min", window=W, changes=ch)]
    for i, fig in enumerate(figs):
        _png(fig, tmp_path, f"dollar-{i}")  # renders (a mathtext parse error would raise here)
    assert any(r"2.9$\frac{$" in t for t in _legend_labels(figs[0]) + [t.get_text() for t in figs[0].axes[0].get_legend().get_texts()])
