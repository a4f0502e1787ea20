"""The df.ik accessor: thin wrappers that pass the analyses' and plots' own results through."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

import incidentkit  # noqa: F401  (registers df.ik)
from incidentkit import parse as parsers
from incidentkit.render import plots
from incidentkit.analyses import compare as compare_mod
from incidentkit.analyses import errors as errors_mod
from incidentkit.analyses import latency, onset
from incidentkit.errors import ParameterError

T0 = pd.Timestamp("2026-03-01T03:00:00Z")


def _requests(n: int = 240, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    cold = rng.random(n) < 0.08
    version = rng.choice(["2.9.0", "3.0.1", None], size=n, p=[0.5, 0.4, 0.1])
    status = np.where((version == "2.9.0") & (rng.random(n) < 0.4), 403, 200)
    return pd.DataFrame(
        {
            "timestamp": T0 + pd.to_timedelta(np.sort(rng.uniform(0, 3600, n)), unit="s"),
            "latency_ms": np.where(cold, rng.uniform(3000, 8000, n), rng.gamma(4, 30, n)),
            "cold_start": cold,
            "status": status,
            "app_version": pd.array(version, dtype="string"),
            "route": rng.choice(["/search", "/cart", "/pay"], size=n),
        }
    )


def _parsed_logs(n: int = 6) -> pd.DataFrame:
    """Lambda platform lines + one app JSON line per request: 4 log lines a request."""
    msgs, ts = [], []
    for i in range(n):
        rid = f"req-{i:04d}"
        init = "\tInit Duration: 900.00 ms" if i == 0 else ""
        msgs += [
            f"START RequestId: {rid} Version: $LATEST",
            '{"level":"INFO","requestId":"%s","app_version":"%s","status":%d,"message":"done"}'
            % (rid, "2.9" if i % 2 else "3.0", 500 if i == 3 else 200),
            f"END RequestId: {rid}",
            f"REPORT RequestId: {rid}\tDuration: {100 + i * 10}.00 ms\tBilled Duration: 100 ms\tMemory Size: 128 MB"
            f"\tMax Memory Used: 60 MB{init}",
        ]
        ts += [T0 + pd.Timedelta(seconds=20 * i)] * 4
    events = pd.DataFrame({"timestamp": ts, "ingestion_time": ts, "log_group": "/aws/lambda/api", "log_stream": "s1",
                           "event_id": [str(k) for k in range(len(ts))], "message": msgs})
    return parsers.parse(events)


# -- the wrapped result is passed through, with the arguments ------------------------------------


class Recorder:
    """Stands in for an analysis: records its call and returns a unique frame."""

    def __init__(self) -> None:
        self.calls: list[tuple[tuple, dict]] = []
        self.result = pd.DataFrame({"sentinel": [object()]})

    def __call__(self, *args, **kwargs):
        self.calls.append((args, kwargs))
        return self.result


CASES = [
    # (module, function name, accessor call, expected positional args after the frame, expected keywords subset)
    (latency, "percentiles", lambda a: a.percentiles("duration_ms", "5min", groupby="route"),
     ("duration_ms",), {"by": "5min", "groupby": "route"}),
    (latency, "percentiles_excluding", lambda a: a.percentiles_excluding("timed_out", by="1min"),
     ("timed_out",), {"by": "1min"}),
    (latency, "tail_attribution", lambda a: a.tail(0.95, by=["route"]), (), {"q": 0.95, "by": ["route"]}),
    (latency, "tail_vs_traffic", lambda a: a.tail_vs_traffic(buckets=3), (), {"buckets": 3}),
    (errors_mod, "error_rate", lambda a: a.error_rate("2min", groupby="app_version"), (),
     {"by": "2min", "groupby": "app_version"}),
    (errors_mod, "by_version", lambda a: a.by_version("route", alpha=0.01), (), {"version": "route", "alpha": 0.01}),
    (compare_mod, "compare", lambda a: a.compare(columns=["route"], max_values=5), (None,),
     {"columns": ["route"], "max_values": 5}),
    (compare_mod, "compare_numeric", lambda a: a.compare_numeric(alpha=0.2), (None,), {"alpha": 0.2}),
    (onset, "onset", lambda a: a.onset(threshold=6.0), (), {"threshold": 6.0}),
]


@pytest.mark.parametrize("module, name, call, args, kwargs", CASES, ids=[c[1] for c in CASES])
def test_each_analysis_result_is_passed_through(monkeypatch, module, name, call, args, kwargs):
    rec = Recorder()
    monkeypatch.setattr(module, name, rec)
    df = _requests(30)
    out = call(df.ik)
    assert out is rec.result  # the analysis's own frame, not a copy or a re-computation
    (got_args, got_kwargs), = rec.calls
    assert got_args[0] is df and got_args[1:] == args
    for k, v in kwargs.items():
        assert got_kwargs[k] == v


PLOTS = [
    (latency, "percentiles", "latency_bands", lambda a, w: a.plot_percentiles(by="5min", window=w)),
    (latency, "percentiles_excluding", "latency_bands", lambda a, w: a.plot_percentiles(by="5min", exclude="cold_start", window=w)),
    (latency, "heatmap", "heatmap", lambda a, w: a.heatmap(by="5min", window=w)),
    (errors_mod, "error_rate", "error_rate", lambda a, w: a.plot_error_rate("5min", window=w)),
]


@pytest.mark.parametrize("module, analysis, plot, call", PLOTS, ids=[f"{p[1]}->{p[2]}" for p in PLOTS])
def test_plots_draw_the_analysis_result(monkeypatch, module, analysis, plot, call):
    rec = Recorder()
    monkeypatch.setattr(module, analysis, rec)
    drawn = {}

    def fake_plot(frame, **kw):
        drawn["frame"], drawn["kw"] = frame, kw
        return "figure"

    monkeypatch.setattr(plots, plot, fake_plot)
    window = ("2026-03-01T03:00Z", "2026-03-01T04:00Z")
    assert call(_requests(30).ik, window) == "figure"
    assert drawn["frame"] is rec.result and drawn["kw"]["window"] == window
    assert rec.calls[0][1]["window"] == window


def test_timeline_and_share_plot_pass_the_frame_and_arguments(monkeypatch):
    seen = {}
    monkeypatch.setattr(plots, "timeline", lambda data, **kw: seen.setdefault("timeline", (data, kw)) and "fig-t")
    monkeypatch.setattr(plots, "version_share", lambda data, **kw: seen.setdefault("share", (data, kw)) and "fig-s")
    metrics = pd.DataFrame({"timestamp": pd.date_range(T0, periods=3, freq="1min"), "value": [1.0, 2.0, 3.0]})
    changes = pd.DataFrame({"timestamp": [T0]})
    assert metrics.ik.timeline(changes=changes, title="x") == "fig-t"
    assert seen["timeline"][0] is metrics and seen["timeline"][1]["changes"] is changes
    req = _requests(20)
    assert req.ik.plot_share("route", top=2) == "fig-s"
    assert seen["share"][0] is req and seen["share"][1]["version"] == "route" and seen["share"][1]["top"] == 2


# -- real results equal the analyses' ---------------------------------------------------------------


def test_results_equal_the_direct_calls():
    req = _requests()
    assert_frame_equal(req.ik.percentiles("latency_ms", by="1min"), latency.percentiles(req, "latency_ms", by="1min"))
    assert_frame_equal(req.ik.tail(0.9, by=["cold_start", "route"]), latency.tail_attribution(req, q=0.9, by=["cold_start", "route"]))
    base = _requests(seed=11)
    assert_frame_equal(req.ik.compare(base), compare_mod.compare(req, base))
    sel = req["status"] >= 400
    assert_frame_equal(req.ik.compare(sel, columns=["app_version"]), compare_mod.compare(req, sel, columns=["app_version"]))
    assert_frame_equal(req.ik.error_rate("5min"), errors_mod.error_rate(req, by="5min"))


def test_real_plots_come_back_as_figures():
    req = _requests()
    fig = req.ik.plot_percentiles(by="5min", exclude="cold_start")
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert any("excluding cold_start" in t for t in labels) and any("only cold_start" in t for t in labels)
    assert isinstance(req.ik.heatmap(by="5min"), plots.IncidentFigure)
    assert isinstance(req.ik.plot_error_rate("5min"), plots.IncidentFigure)
    with pytest.raises(ParameterError, match="not both"):
        req.ik.plot_percentiles(exclude="cold_start", groupby="route")


# -- parsed log events are reduced to requests ---------------------------------------------------------


def test_parsed_logs_are_analysed_per_request_not_per_line():
    logs = _parsed_logs(6)
    assert len(logs) == 24
    req = parsers.requests(logs)
    assert_frame_equal(logs.ik.requests(), req)
    out = logs.ik.percentiles_excluding("cold_start")
    assert out.set_index("subset")["count"].to_dict() == {"all": 6, "excluding cold_start": 5, "only cold_start": 1}
    assert_frame_equal(logs.ik.percentiles(by="1min"), latency.percentiles(req, by="1min"))
    assert logs.ik.error_rate("5min")["n_5xx"].sum() == 1


def test_share_on_parsed_logs_counts_requests_for_request_columns_and_lines_otherwise():
    logs = _parsed_logs(6)
    by_version = logs.ik.share("app_version")
    assert by_version.attrs["counted"] == "requests" and by_version["count"].sum() == 6
    assert dict(zip(by_version["app_version"], by_version["share"])) == {"2.9": 0.5, "3.0": 0.5}
    by_type = logs.ik.share("record_type")
    assert by_type.attrs["counted"] == "log lines" and by_type["count"].sum() == 24


def test_a_selection_of_parsed_log_lines_is_refused_with_the_fix():
    logs = _parsed_logs(4)
    with pytest.raises(ParameterError, match="select on the requests frame"):
        logs.ik.compare(logs["status"] >= 500)


def test_a_baseline_of_parsed_logs_is_joined_too():
    inc, base = _parsed_logs(6), _parsed_logs(4)
    assert_frame_equal(inc.ik.compare(base), compare_mod.compare(parsers.requests(inc), parsers.requests(base)))


# -- share --------------------------------------------------------------------------------------------


def test_share_over_the_whole_frame():
    df = pd.DataFrame({"v": ["a"] * 6 + ["b"] * 3 + [None]})
    out = df.ik.share("v")
    assert out.to_dict("list") == {"v": ["a", "b", "(missing)"], "count": [6, 3, 1], "share": [0.6, 0.3, 0.1]}
    assert out.attrs["rows"] == 10 and out.attrs["counted"] == "rows"


def test_share_pools_beyond_top_but_never_the_missing():
    df = pd.DataFrame({"route": ["/a"] * 5 + ["/b"] * 4 + ["/c"] * 2 + ["/d"] + [None] * 3})
    out = df.ik.share("route", top=2).set_index("route")["count"].to_dict()
    assert out == {"/a": 5, "/b": 4, "(other)": 3, "(missing)": 3}


def test_share_per_time_bin_keeps_empty_bins_and_vanished_values():
    t = T0 + pd.to_timedelta([10, 20, 30, 190, 200], unit="s")
    df = pd.DataFrame({"timestamp": t, "v": ["old", "old", "new", "new", "new"]})
    out = df.ik.share("v", by="1min")
    grid = out.pivot(index="timestamp", columns="v", values="share")
    assert len(grid) == 4  # 03:00 .. 03:03, the two empty minutes included
    assert grid.loc[T0, "old"] == pytest.approx(2 / 3) and grid.loc[T0 + pd.Timedelta("3min"), "old"] == 0.0
    assert grid.loc[T0 + pd.Timedelta("1min")].isna().all()  # no rows: no share, not 0
    assert out["count"].sum() == 5 and str(out["timestamp"].dtype) == "datetime64[ns, UTC]"
    assert out.attrs["bin"] == str(pd.Timedelta("1min"))


def test_share_with_a_window_aligns_bins_to_its_start_and_drops_rows_outside():
    t = T0 + pd.to_timedelta([-60, 95, 100, 400, 3700], unit="s")
    df = pd.DataFrame({"timestamp": t, "v": ["x", "x", "y", "y", "x"]})
    out = df.ik.share("v", by="5min", window=(T0 + pd.Timedelta("90s"), T0 + pd.Timedelta("15min")))
    assert out["timestamp"].min() == T0 + pd.Timedelta("90s")
    assert out["timestamp"].nunique() == 3 and out["count"].sum() == 3 and out.attrs["rows"] == 3
    whole = df.ik.share("v", window=(T0, T0 + pd.Timedelta("1h")))
    assert whole.set_index("v")["count"].to_dict() == {"y": 2, "x": 1}


def test_share_auto_bins_and_bad_arguments():
    req = _requests()
    out = req.ik.share("route", by="auto")
    assert out.groupby("timestamp")["count"].sum().sum() == len(req) and 80 <= out["timestamp"].nunique() <= 200
    with pytest.raises(ParameterError, match="no column 'nope'"):
        req.ik.share("nope")
    with pytest.raises(ParameterError, match="top="):
        req.ik.share("route", top=0)
    empty = req.iloc[:0].ik.share("route", by="1min")
    assert list(empty.columns) == ["timestamp", "route", "count", "share"] and empty.empty


def test_change_timeline_view():
    from incidentkit.render.display import ChangeTimeline

    changes = pd.DataFrame({"timestamp": [T0], "source": ["cloudtrail"], "event_name": ["UpdateFunctionCode"],
                            "class": ["DEPLOYMENT"], "actor": ["codedeploy.amazonaws.com"], "resource": ["api"],
                            "error_code": [None], "detail": ["{}"]})
    view = changes.ik.change_timeline(window=(T0, T0 + pd.Timedelta("1h")))
    assert isinstance(view, ChangeTimeline) and view.frame is changes and "at start" in view._repr_html_()


def test_importing_incidentkit_registers_the_accessor():
    code = ("import pandas as pd\nassert not hasattr(pd.DataFrame, 'ik')\nimport incidentkit\n"
            "print(type(pd.DataFrame({'a': [1]}).ik).__name__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "IncidentAccessor"


def test_signatures_of_any_frame_of_log_lines():
    """df.ik.signatures(): raw events, parsed events or a bare message column; new against another frame of lines."""
    t = pd.date_range(T0, periods=6, freq="1min")
    base = pd.DataFrame({"timestamp": t - pd.Timedelta("1h"), "message": [
        '{"level":"error","msg":"cache miss storm","request_id":"b%d"}' % i for i in range(6)]})
    now = pd.DataFrame({"timestamp": t, "message": [
        '{"level":"error","msg":"payment 41%d declined by gateway gw-7","request_id":"r%d"}' % (i, i) for i in range(4)]
        + ['{"level":"info","msg":"ok","request_id":"r9"}', '{"level":"error","msg":"cache miss storm","request_id":"r8"}']})
    sig = now.ik.signatures(base)
    assert sig.loc[0, "template"] == "payment <NUM> declined by gateway gw-<NUM>" and bool(sig.loc[0, "new"])
    assert int(sig.loc[0, "count"]) == 4 and sig.loc[0, "example"].startswith('{"level":"error"')
    steady = sig[sig["template"] == "cache miss storm"].iloc[0]
    assert not bool(steady["new"]) and int(steady["baseline_count"]) == 6
    parsed = parsers.parse(now.assign(ingestion_time=pd.NaT, log_group="/ecs/pay", log_stream="s",
                                      event_id=[str(i) for i in range(6)]))
    assert parsed.ik.signatures(base)["template"].tolist() == sig["template"].tolist()
    with pytest.raises(ParameterError, match="no 'message' column"):
        pd.DataFrame({"x": [1]}).ik.signatures()
