"""Plots for investigations: each function returns a matplotlib Figure.

The figures are built with the object API (:class:`matplotlib.figure.Figure`, no pyplot
global state), so they are safe to build from threads and never pop up windows; nothing
here calls ``plt.show()``. They display in Jupyter (and in the HTML export) through
their ``_repr_png_``, and save with ``fig.savefig(path)``.

Every time axis is in UTC and says so; the incident window is shaded red, the baseline
window grey with a dashed baseline level, and changes from the timeline are vertical
lines coloured by class and labelled with what changed.

* :func:`timeline` — metric series (a long metrics frame, a Series or a wide frame);
* :func:`latency_bands` — P50/P90/P99 bands from :func:`incidentkit.analyses.latency.percentiles`;
* :func:`version_share` — each app version's share of requests over time, and its error rate;
* :func:`heatmap` — a latency heatmap from :func:`incidentkit.analyses.latency.heatmap`;
* :func:`error_rate` — 4xx/5xx rates from :func:`incidentkit.analyses.errors.error_rate`.

Example
-------
>>> import pandas as pd
>>> s = pd.Series([1.0, 2.0, 9.0], index=pd.date_range("2026-03-01T03:00Z", periods=3, freq="1min"), name="5XXError")
>>> fig = timeline(s)
>>> fig.axes[0].get_xlabel()
'time (UTC)'
"""

from __future__ import annotations

import functools
import io
import re
from typing import Any, Callable, Mapping, Sequence

import matplotlib
import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter, PercentFormatter

from ..analyses import errors as _errors
from ..analyses._common import as_utc, auto_bin, normalize_stat, to_timedelta
from ..fetch.changes import normalize_event_name
from .theme import CHANGE_COLORS

__all__ = ["timeline", "latency_bands", "version_share", "heatmap", "error_rate", "IncidentFigure", "CHANGE_COLORS",
           "PALETTE"]

#: Colours of data series: chosen apart from the change colours (changes are also dashed, with a flag).
PALETTE: tuple[str, ...] = ("#1b9e77", "#7a4988", "#d4a017", "#e7298a", "#2f4f4f", "#a6761d", "#66a61e", "#666666")
_INCIDENT = "#e74c3c"
_BASELINE = "#95a5a6"
_MAX_PANELS = 8
#: A rate is drawn only for bins with at least this many requests: below 10, one request moves the
#: rate by 10 points or more (1 error in 4 requests draws a 25 % spike), which is noise, not signal.
MIN_REQUESTS = 10
#: Coarser bins are never fewer than this over the plotted span (the shape of the incident must stay visible).
_MIN_BINS = 12
_MAX_LABELS = 12


def _text_is_text(plot: Callable[..., IncidentFigure]) -> Callable[..., IncidentFigure]:
    """Build the figure with matplotlib's mathtext off: labels come from the data (app versions,
    resources, metric names), and ``$...$`` in them would be typeset, or fail to parse and break
    the figure. The numbered change markers are marker paths, not text, and are unaffected."""

    @functools.wraps(plot)
    def build(*args: Any, **kwargs: Any) -> IncidentFigure:
        with matplotlib.rc_context({"text.parse_math": False}):
            return plot(*args, **kwargs)

    return build


class IncidentFigure(Figure):
    """A :class:`~matplotlib.figure.Figure` that shows itself as PNG in Jupyter without pyplot."""

    def _repr_png_(self) -> bytes:
        buf = io.BytesIO()
        self.savefig(buf, format="png", dpi=100)
        return buf.getvalue()


# --------------------------------------------------------------------------- shared helpers


def _new(nrows: int = 1, *, height_ratios: Sequence[float] | None = None, width: float = 11.0,
         panel_height: float = 2.8) -> tuple[IncidentFigure, list[Any]]:
    fig = IncidentFigure(figsize=(width, max(3.2, panel_height * (sum(height_ratios) / max(height_ratios) if height_ratios else nrows) + 0.9)),
                         layout="constrained")
    axes = fig.subplots(nrows, 1, sharex=True, squeeze=False,
                        gridspec_kw={"height_ratios": list(height_ratios)} if height_ratios else None)[:, 0]
    return fig, list(axes)


def _naive(times: Any) -> np.ndarray:
    """UTC times as naive datetime64 (matplotlib's dates are then UTC)."""
    s = as_utc(pd.Series(times) if not isinstance(times, pd.Series) else times)
    return s.dt.tz_localize(None).to_numpy()


def _t(value: Any) -> np.datetime64:
    return _naive(pd.Series([value]))[0]


def _bounds(spec: Any) -> tuple[Any, Any] | None:
    if spec is None:
        return None
    if hasattr(spec, "start") and hasattr(spec, "end"):
        return spec.start, spec.end
    if isinstance(spec, tuple) and len(spec) == 2:
        return spec
    return None


def _time_axis(ax: Any, *, label: bool = True) -> None:
    locator = mdates.AutoDateLocator(minticks=4, maxticks=10)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, show_offset=True))
    if label:
        ax.set_xlabel("time (UTC)")
    ax.grid(True, which="major", alpha=0.3)


def _shade(axes: Sequence[Any], window: Any, baseline: Any) -> list[Any]:
    handles = []
    w = _bounds(window)
    b = _bounds(baseline)
    for i, ax in enumerate(axes):
        if b is not None:
            ax.axvspan(_t(b[0]), _t(b[1]), color=_BASELINE, alpha=0.15, lw=0, zorder=0)
        if w is not None:
            ax.axvspan(_t(w[0]), _t(w[1]), color=_INCIDENT, alpha=0.12, lw=0, zorder=0)
            # Edges on top, so the window still shows over opaque plots (stacked areas, heatmaps).
            for edge in (w[0], w[1]):
                ax.axvline(_t(edge), color=_INCIDENT, lw=1.0, alpha=0.7, zorder=4)
    if w is not None:
        handles.append(Patch(color=_INCIDENT, alpha=0.25, label="incident window"))
    if b is not None:
        handles.append(Patch(color=_BASELINE, alpha=0.35, label="baseline window"))
    return handles


def _class_of(value: Any) -> str:
    text = str(value).upper() if value is not None and not pd.isna(value) else "OTHER"
    for name in CHANGE_COLORS:
        if text == name or (name != "OTHER" and text.startswith(name.split("_")[0])):
            return name
    return "OTHER"


def _short(text: Any, limit: int = 32) -> str:
    t = "" if text is None or (not isinstance(text, str) and pd.isna(text)) else str(text)
    if "/" in t and len(t) > limit:
        t = t.rstrip("/").rsplit("/", 1)[-1]
    if ":" in t and len(t) > limit:
        t = t.rsplit(":", 1)[-1]
    return t if len(t) <= limit else t[: limit - 1] + "…"


#: Legend label of a change-key entry: the handles :func:`_mark_changes` returns for the key carry it.
_KEY = "ik_change_key"


def _change_label(r: Any, cluster: Sequence[Any], same_day: bool) -> str:
    """``02:47:12  UpdateFunctionCode · shop-jwt-authorizer · deployment  (+2 more: PublishVersion, UpdateAlias)``.

    Complete names (CloudTrail's API-version suffix dropped, an ARN shortened to its last
    part), never cut in the middle.
    """
    when = pd.Timestamp(r["timestamp"])
    when = when.tz_convert("UTC") if when.tzinfo else when
    name = normalize_event_name(r.get("event_name")) or "change"
    parts = [name]
    res = _resource_name(r.get("resource"))
    if res and res not in name:
        parts.append(res)
    parts.append(str(r["_cls"]).replace("_", " ").lower())
    label = f"{when:%H:%M:%S}  " if same_day else f"{when:%m-%d %H:%M}  "
    label += " · ".join(parts)
    if "error_code" in r and pd.notna(r.get("error_code")) and str(r.get("error_code")):
        label += f" (failed: {r['error_code']})"
    if len(cluster) > 1:
        others = list(dict.fromkeys(normalize_event_name(o.get("event_name")) or "change" for _, o in cluster[1:]))
        label += f"  (+{len(cluster) - 1} more: {', '.join(others[:4])}{', …' if len(others) > 4 else ''})"
    return label


def _resource_name(value: Any) -> str:
    """A resource for a label: an ARN or a path shortened to its last part, at most 60 characters."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    text = str(value)
    if text.startswith("arn:"):
        text = re.split(r"[:/]", text.rstrip("/"))[-1] or text
    return text if len(text) <= 60 else text[:59] + "…"


def _mark_changes(axes: Sequence[Any], changes: pd.DataFrame | None, xlim: tuple[Any, Any] | None) -> list[Any]:
    """Dashed vertical lines per change (all axes) and a numbered marker on the top axes.

    Changes closer than 2.5 % of the axis share one number. Returns the legend handles: one
    key entry per number (time, API name, resource, class; complete, horizontal) and one per
    class of change drawn.
    """
    if changes is None or changes.empty or "timestamp" not in changes.columns:
        return []
    ch = changes.copy()
    ch["_t"] = _naive(ch["timestamp"])
    if xlim is not None:
        lo, hi = xlim
        ch = ch[(ch["_t"] >= lo) & (ch["_t"] <= hi)]
    if ch.empty:
        return []
    ch = ch.sort_values("_t")
    ch["_cls"] = ch["class"].map(_class_of) if "class" in ch.columns else "OTHER"
    for ax in axes:
        for _, r in ch.iterrows():
            ax.axvline(r["_t"], color=CHANGE_COLORS[r["_cls"]], lw=1.5, ls=(0, (5, 2.5)), alpha=0.9, zorder=3)
    top = axes[0]
    x0, x1 = top.get_xlim()
    span = max(x1 - x0, 1e-9)
    clusters: list[list[Any]] = []
    for _, r in ch.iterrows():
        x = mdates.date2num(r["_t"])
        if clusters and (x - clusters[-1][0][0]) / span < 0.025:
            clusters[-1].append((x, r))
        else:
            clusters.append([(x, r)])
    days = {pd.Timestamp(t).date() for t in ch["_t"]}
    keys = []
    for n, cluster in enumerate(clusters[:_MAX_LABELS], 1):
        x, r = cluster[0]
        color = CHANGE_COLORS[r["_cls"]]
        top.annotate(str(n), xy=(x, 1.0), xycoords=("data", "axes fraction"), xytext=(0, -3), textcoords="offset points",
                     ha="center", va="top", fontsize=7.5, fontweight="bold", color="white", zorder=6, annotation_clip=True,
                     bbox={"boxstyle": "circle,pad=0.25", "facecolor": color, "edgecolor": "white", "linewidth": 0.8})
        key = Line2D([], [], ls="none", marker=f"$\\mathbf{{{n}}}$", ms=7 + 2 * len(str(n)), color=color,
                     label=_change_label(r, cluster, len(days) == 1))
        key.set_gid(_KEY)
        keys.append(key)
    if len(clusters) > _MAX_LABELS:
        rest = sum(len(c) for c in clusters[_MAX_LABELS:])
        more = Line2D([], [], ls="none", label=f"{rest} more changes (not numbered): see the change timeline")
        more.set_gid(_KEY)
        keys.append(more)
    classes = [Line2D([], [], color=CHANGE_COLORS[c], lw=1.5, ls=(0, (5, 2.5)), label=c.replace("_", " ").lower())
               for c in CHANGE_COLORS if c in set(ch["_cls"])]
    return classes + keys


def _finish(fig: IncidentFigure, axes: Sequence[Any], title: str, extra_handles: Sequence[Any] = ()) -> None:
    for ax in axes[:-1]:
        ax.set_xlabel("")
    _time_axis(axes[-1])
    for ax in axes[:-1]:
        _time_axis(ax, label=False)
    fig.suptitle(title, fontsize=12, fontweight="bold")
    handles = list(extra_handles)
    keys = [h for h in handles if h.get_gid() == _KEY]
    if keys:
        # One entry per line: the window and class entries, then the numbered changes, complete and horizontal.
        fig.set_figheight(fig.get_figheight() + 0.19 * (len(handles) + 1))
        fig.legend(handles=handles, loc="outside lower left", ncol=1, fontsize=8, frameon=False, handlelength=2.2)
    elif handles:
        fig.legend(handles=handles, loc="outside lower center", ncol=min(6, len(handles)), fontsize=8, frameon=False)


def _xlim_of(times: np.ndarray, window: Any, baseline: Any) -> tuple[Any, Any] | None:
    valid = pd.Series(times).dropna()
    pts = [valid.min().to_datetime64(), valid.max().to_datetime64()] if len(valid) else []
    for spec in (window, baseline):
        b = _bounds(spec)
        if b is not None:
            pts += [_t(b[0]), _t(b[1])]
    if not pts:
        return None
    return min(pts), max(pts)


def _empty_note(ax: Any, text: str = "no data") -> None:
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", fontsize=11, color="#7f8c8d")


# --------------------------------------------------------------------------- timeline


def _panels(data: Any) -> list[tuple[str, str, list[tuple[str, pd.Series]]]]:
    """(title, y label, [(line label, series indexed by UTC time)]) per panel."""
    if isinstance(data, pd.Series):
        s = data.copy()
        s.index = pd.DatetimeIndex(as_utc(pd.Series(s.index)))
        name = str(data.name) if data.name is not None else "value"
        return [(name, name, [(name, s)])]
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"timeline() takes a metrics frame, a Series or a frame, not {type(data).__name__}")
    if {"metric_name", "value", "timestamp"} <= set(data.columns):
        df = data.copy()
        df["timestamp"] = as_utc(df["timestamp"])
        df["_stat"] = df["stat"].map(normalize_stat) if "stat" in df.columns else ""
        ns = df["namespace"] if "namespace" in df.columns else pd.Series("", index=df.index)
        df["_ns"] = ns.astype("object").fillna("")
        df["_dims"] = df["dimensions"].astype("object").fillna("") if "dimensions" in df.columns else ""
        panels = []
        for (nsv, metric, stat), grp in df.groupby(["_ns", "metric_name", "_stat"], sort=False):
            lines = []
            period = grp["period"].dropna().iloc[0] if "period" in grp.columns and grp["period"].notna().any() else None
            for dims, g in grp.groupby("_dims", sort=True):
                s = pd.Series(pd.to_numeric(g["value"], errors="coerce").to_numpy(), index=pd.DatetimeIndex(g["timestamp"])).sort_index()
                if str(stat) in COUNT_STATS and period is not None:
                    s = _counts_on_grid(s, float(period), data.attrs.get("window"))
                if period is not None:
                    s.attrs["period_s"] = float(period)
                lines.append((_dims_label(dims), s))
            unit = _unit(str(metric), str(stat), period)
            title = f"{metric} · {stat}" + (f"  ({nsv})" if nsv else "")
            panels.append((title, unit, lines))
        return panels
    if "timestamp" in data.columns:
        df = data.set_index(pd.DatetimeIndex(as_utc(data["timestamp"])))
        df = df.drop(columns=["timestamp"])
    elif isinstance(data.index, pd.DatetimeIndex):
        df = data.copy()
        df.index = pd.DatetimeIndex(as_utc(pd.Series(df.index)))
    else:
        raise ValueError("timeline(): the frame needs a 'timestamp' column or a DatetimeIndex")
    num = df.select_dtypes("number")
    return [("", "value", [(str(c), num[c]) for c in num.columns])]


#: Statistics whose value counts something (normalised names): a period without a datapoint counted
#: nothing, so it is drawn as 0. CloudWatch publishes no datapoint for a period without samples; a
#: line joining the sparse non-zero points of a count (1, 1, 1 ...) would read as a constant rate.
COUNT_STATS = frozenset({"sum", "samplecount"})


def _counts_on_grid(s: pd.Series, period_s: float, window: Any) -> pd.Series:
    """A count series on every period of the span it was read for, 0 where CloudWatch sent nothing.

    The span is the query window recorded in the frame's ``attrs`` (``window``), else the
    series' own first to last datapoint (nothing is invented outside what was read).
    """
    if period_s <= 0 or s.empty:
        return s
    step = pd.Timedelta(seconds=period_s)
    idx = pd.DatetimeIndex(as_utc(pd.Series(s.index)))
    first, last = idx.min(), idx.max()
    bounds = _bounds(window) if not isinstance(window, Mapping) else (window.get("start"), window.get("end"))
    if bounds is not None and bounds[0] is not None and bounds[1] is not None:
        lo, hi = pd.Timestamp(bounds[0]), pd.Timestamp(bounds[1])
        lo = lo.tz_localize("UTC") if lo.tzinfo is None else lo.tz_convert("UTC")
        hi = hi.tz_localize("UTC") if hi.tzinfo is None else hi.tz_convert("UTC")
        # the grid keeps the datapoints' phase (a period starts where CloudWatch's do)
        first = first - ((first - lo) // step) * step
        last = last + ((hi - step - last) // step) * step if hi - step > last else last
    grid = pd.date_range(first, last, freq=step)
    values = pd.Series(s.to_numpy(dtype="float64"), index=idx)
    values = values.groupby(level=0).sum()
    return values.reindex(grid.union(values.index), fill_value=0.0)


def _gapped(x: np.ndarray, y: np.ndarray, step: np.timedelta64 | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Break a line where datapoints are missing (CloudWatch omits periods without data):
    a NaN is inserted wherever the spacing exceeds 1.5 periods (``step``) or, without a
    known period, twice the usual (median) spacing."""
    if len(x) < 3:
        return x, y
    order = np.argsort(x)
    x, y = x[order], y[order]
    dx = np.diff(x)
    if step is not None:
        gaps = np.flatnonzero(dx > step + step // 2)
        if not len(gaps):
            return x, y
        return np.insert(x, gaps + 1, x[gaps] + step), np.insert(y.astype("float64"), gaps + 1, np.nan)
    typical = np.median(dx)
    if typical <= np.timedelta64(0, "ns"):
        return x, y
    gaps = np.flatnonzero(dx > 2 * typical)
    if not len(gaps):
        return x, y
    xs = np.insert(x, gaps + 1, x[gaps] + typical)
    ys = np.insert(y.astype("float64"), gaps + 1, np.nan)
    return xs, ys


def _dims_label(dims: str) -> str:
    text = str(dims)
    if not text or text in ("{}", "<NA>"):
        return "all"
    try:
        import json

        d = json.loads(text)
        if isinstance(d, dict):
            return ", ".join(f"{k}={_short(v, 30)}" for k, v in sorted(d.items()))
    except (ValueError, TypeError):
        pass
    return _short(text, 40)


def _unit(metric: str, stat: str, period: Any) -> str:
    m = metric.lower()
    per = f" per {int(period)} s" if period is not None and not pd.isna(period) else ""
    if any(k in m for k in ("latency", "duration", "responsetime", "response_time")):
        return f"{stat} (ms)" if "response" not in m else f"{stat} (s)"
    if any(k in m for k in ("utilization", "percent", "cpu")):
        return f"{stat} (%)"
    if stat in ("sum", "samplecount"):
        return f"{stat}{per}"
    return stat


@_text_is_text
def timeline(
    data: pd.DataFrame | pd.Series,
    *,
    window: Any = None,
    baseline: Any = None,
    changes: pd.DataFrame | None = None,
    title: str | None = None,
    max_panels: int = _MAX_PANELS,
) -> IncidentFigure:
    """Metric timelines with the incident window, the baseline and the changes.

    Parameters
    ----------
    data:
        A long metrics frame (``schema.METRIC_COLUMNS``: one panel per namespace + metric
        + statistic, one line per dimension set), a Series with a DatetimeIndex, or a
        frame with a ``timestamp`` column or DatetimeIndex (one line per numeric column).
    window:
        The incident window (a Window or ``(start, end)``), shaded red.
    baseline:
        A Window or ``(start, end)``: shaded grey, with each line's baseline median
        drawn dashed across the plot; or a Series/frame of baseline values (e.g. last
        week's, shifted), drawn dashed.
    changes:
        The change timeline (``schema.CHANGE_COLUMNS``): one labelled vertical line per
        change, coloured by class.
    max_panels:
        At most this many panels (metrics beyond are left out and the title says so).

    Returns
    -------
    IncidentFigure

    Example
    -------
    >>> from incidentkit.window import Window
    >>> s = pd.Series([1.0, 1.0, 30.0, 28.0], name="5XXError",
    ...               index=pd.date_range("2026-03-01T03:00Z", periods=4, freq="1min"))
    >>> fig = timeline(s, window=Window.parse("2026-03-01T03:02Z", "2026-03-01T03:04Z"))
    >>> fig.axes[0].get_ylabel(), len(fig.axes[0].patches)
    ('5XXError', 1)
    """
    panels = _panels(data)
    dropped = max(0, len(panels) - max_panels)
    panels = panels[:max_panels] or [("", "value", [])]
    fig, axes = _new(len(panels), panel_height=2.6 if len(panels) > 1 else 3.6)
    all_times = np.concatenate([_naive(pd.Series(s.index)) for _, _, lines in panels for _, s in lines] or [np.array([], dtype="datetime64[ns]")])
    xlim = _xlim_of(all_times, window, baseline if _bounds(baseline) else None)
    base_lines = _panels(baseline) if isinstance(baseline, (pd.Series, pd.DataFrame)) else None
    base_drawn = False
    for ax, (ptitle, unit, lines) in zip(axes, panels):
        if not lines:
            _empty_note(ax)
        for i, (label, s) in enumerate(lines[:10]):
            period = s.attrs.get("period_s")
            step = np.timedelta64(int(period * 1e9), "ns") if period else None
            x, y = _gapped(_naive(pd.Series(s.index)), s.to_numpy(dtype="float64"), step)
            # Dots where points are few or isolated by gaps (a lone point draws no line).
            sparse = len(s) < 40 or len(x) > len(s)
            (ln,) = ax.plot(x, y, lw=1.6, marker="." if sparse else None, ms=4 if sparse else None,
                            color=PALETTE[i % len(PALETTE)], label=label, zorder=2)
            b = _bounds(baseline)
            if b is not None:
                idx = as_utc(pd.Series(s.index))
                in_b = ((idx >= pd.Timestamp(b[0])) & (idx < pd.Timestamp(b[1]))).to_numpy()
                if in_b.any():
                    ax.axhline(float(np.nanmedian(s.to_numpy(dtype="float64")[in_b])), color=ln.get_color(), ls="--",
                               lw=1.1, alpha=0.9, zorder=1)
                    base_drawn = True
        if base_lines is not None:
            for label, s in [ln for _, _, lines_b in base_lines for ln in lines_b][:5]:
                ax.plot(_naive(pd.Series(s.index)), s.to_numpy(dtype="float64"), ls="--", lw=1.1, color="#555555",
                        label=f"baseline {label}".strip(), zorder=1)
        if len(lines) == 1 and lines[0][0] not in ("all", ptitle):
            ptitle = f"{ptitle}  [{lines[0][0]}]" if ptitle else lines[0][0]
        if len(panels) > 1 or (title is not None and title != ptitle):
            ax.set_title(ptitle, fontsize=10, loc="left")
        ax.set_ylabel(unit)
        if len(lines) > 1 or base_lines is not None:
            # Outside, on the right: a legend inside would hide data and change labels.
            ax.legend(fontsize=7.5, loc="upper left", bbox_to_anchor=(1.0, 1.0), framealpha=0.8)
        if len(lines) > 10:
            ax.text(1.0, 1.02, f"{len(lines) - 10} more series not drawn", transform=ax.transAxes, ha="right",
                    fontsize=7.5, color="#7f8c8d")
    handles = _shade(axes, window, baseline if _bounds(baseline) else None)
    if base_drawn:
        handles.append(Line2D([], [], color="#555555", ls="--", lw=1.1, label="baseline median"))
    if xlim is not None:
        axes[0].set_xlim(xlim)
    handles += _mark_changes(axes, changes, xlim)
    if title is None:
        title = "Metrics over time" if len(panels) > 1 else (panels[0][0] or "Timeline")
    if dropped:
        title += f"  ({dropped} more metrics not shown)"
    _finish(fig, axes, title, handles)
    return fig


# --------------------------------------------------------------------------- latency


@_text_is_text
def latency_bands(
    frame: pd.DataFrame,
    *,
    window: Any = None,
    changes: pd.DataFrame | None = None,
    title: str | None = None,
    unit: str = "ms",
    log: bool | None = None,
    top: int = 6,
) -> IncidentFigure:
    """P50/P90/P99 bands over time, with requests per bin below.

    Parameters
    ----------
    frame:
        :func:`incidentkit.analyses.latency.percentiles` output (``timestamp, count,
        p50, p90, p99, max``). With group columns (``groupby=...``, or the ``subset``
        column of ``percentiles_excluding(..., by=...)``) one P99 line per group is drawn
        instead of bands (the ``top`` largest groups), e.g. P99 with and without cold starts.
    log:
        Log y-axis; default when the P99 reaches more than 20x the lowest P50.

    Returns
    -------
    IncidentFigure
        Two axes: latency (top), requests per bin (bottom).

    Example
    -------
    >>> from incidentkit.analyses.latency import percentiles
    >>> req = pd.DataFrame({"timestamp": pd.date_range("2026-03-01T03:00Z", periods=60, freq="10s"),
    ...                     "latency_ms": [100.0] * 58 + [6000.0, 7000.0]})
    >>> fig = latency_bands(percentiles(req, by="1min"))
    >>> len(fig.axes), fig.axes[0].get_yscale()
    (2, 'log')
    """
    fig, axes = _new(2, height_ratios=[3, 1])
    ax, axc = axes
    if frame is None or frame.empty or not {"timestamp", "count"} <= set(frame.columns):
        _empty_note(ax)
        _finish(fig, axes, title or "Latency percentiles")
        return fig
    qcols = [c for c in frame.columns if isinstance(c, str) and c.startswith("p") and c[1:].replace(".", "").isdigit()]
    groups = [c for c in frame.columns if c not in {"timestamp", "count", "max", "share", *qcols}]
    df = frame.sort_values("timestamp", kind="stable")
    width = _bin_days(df)
    step = np.timedelta64(int(round(width * 86400e9)), "ns")
    x_all = _naive(df["timestamp"])
    colors = {"p50": "#1b9e77", "p90": "#d4a017", "p99": "#8b1a4a"}
    if not groups:
        x = x_all
        for a, b, alpha in zip(qcols, qcols[1:], (0.25, 0.18, 0.12)):
            xe, ya = _stepped(x, df[a], step)
            _, yb = _stepped(x, df[b], step)
            ax.fill_between(xe, ya, yb, step="post", alpha=alpha, color=colors.get(b, "#888888"), lw=0)
        for i, q in enumerate(qcols):
            xe, y = _stepped(x, df[q], step)
            ax.step(xe, y, where="post", lw=2.0 if q == qcols[-1] else 1.4, color=colors.get(q, PALETTE[i % len(PALETTE)]),
                    label=q.upper())
        if "max" in df.columns:
            ax.plot(x + step // 2, df["max"].to_numpy(dtype="float64"), ".", ms=3.5, color="#555555", alpha=0.6, label="max")
        counts = df[["timestamp", "count"]]
        values = df[qcols].to_numpy(dtype="float64") if qcols else np.array([])
        default_title = "Latency percentiles"
    else:
        df = df.copy()
        df["_g"] = df[groups].astype(str).agg(" / ".join, axis=1)
        order = list(df.groupby("_g")["count"].sum().sort_values(ascending=False).index[:top])
        q = "p99" if "p99" in qcols else qcols[-1]
        for i, g in enumerate(order):
            part = df[df["_g"] == g]
            xe, y = _stepped(_naive(part["timestamp"]), part[q], step)
            ax.step(xe, y, where="post", lw=2.0 if i == 0 else 1.6, color=PALETTE[i % len(PALETTE)], label=f"{q.upper()} {g}")
        counts = df[df["_g"] == order[0]][["timestamp", "count"]] if order else df[["timestamp", "count"]]
        values = df[q].to_numpy(dtype="float64")
        default_title = f"{q.upper()} latency by {' / '.join(groups)}"
    axc.bar(_naive(counts["timestamp"]), counts["count"].to_numpy(dtype="float64"), width=width, align="edge",
            color="#8a9597", alpha=0.9)
    pos = values[np.isfinite(values) & (values > 0)] if values.size else values
    if log is None:
        log = bool(pos.size and pos.max() / pos.min() > 20)
    _latency_axis(ax, unit, log)
    axc.set_ylabel(f"requests\nper {_bin_text(df)}")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0), framealpha=0.85)
    xlim = _xlim_of(x_all, window, None)
    if xlim is not None:
        xlim = (xlim[0], max(xlim[1], x_all.max() + step))
        ax.set_xlim(*xlim)
    handles = _shade(axes, window, None)
    handles += _mark_changes(axes, changes, xlim)
    _finish(fig, axes, title or default_title, handles)
    return fig


def _stepped(x: np.ndarray, y: Any, step: np.timedelta64) -> tuple[np.ndarray, np.ndarray]:
    """Step data extended by one bin so the last bin is drawn to its end."""
    yy = np.asarray(pd.to_numeric(pd.Series(y), errors="coerce"), dtype="float64")
    if len(x) == 0:
        return x, yy
    return np.append(x, x[-1] + step), np.append(yy, yy[-1])


def _fmt_ms(v: float, _pos: Any = None) -> str:
    if v >= 1000:
        return f"{v / 1000:g} s"
    return f"{v:g} ms"


def _latency_axis(ax: Any, unit: str, log: bool) -> None:
    if log:
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_minor_formatter(NullFormatter())
    if unit == "ms":
        ax.yaxis.set_major_formatter(FuncFormatter(_fmt_ms))
        ax.set_ylabel("latency" + (" (log scale)" if log else ""))
    else:
        ax.set_ylabel(f"latency ({unit})" + (", log scale" if log else ""))
    if not log:
        ax.set_ylim(bottom=0)


def _bin_days(df: pd.DataFrame) -> float:
    width = df.attrs.get("bin")
    if width:
        return pd.Timedelta(width) / pd.Timedelta(days=1)
    t = as_utc(df["timestamp"]).drop_duplicates().sort_values()
    if len(t) > 1:
        return float(t.diff().dropna().min() / pd.Timedelta(days=1))
    return 1.0 / 1440


def _bin_text(df: pd.DataFrame) -> str:
    td = pd.Timedelta(days=_bin_days(df))
    secs = int(td.total_seconds())
    if secs % 3600 == 0:
        return f"{secs // 3600} h" if secs != 3600 else "hour"
    if secs % 60 == 0:
        return f"{secs // 60} min" if secs != 60 else "minute"
    return f"{secs} s"


@_text_is_text
def heatmap(
    frame: pd.DataFrame,
    *,
    window: Any = None,
    changes: pd.DataFrame | None = None,
    title: str | None = None,
    unit: str = "ms",
) -> IncidentFigure:
    """A latency heatmap: time across, log-spaced latency buckets up, request count as colour.

    Parameters
    ----------
    frame:
        :func:`incidentkit.analyses.latency.heatmap` output (``timestamp, bucket_low,
        bucket_high, count``).

    Returns
    -------
    IncidentFigure
        One axes with the heatmap and a colour bar (log scale, empty cells white).

    Example
    -------
    >>> from incidentkit.analyses import latency
    >>> req = pd.DataFrame({"timestamp": pd.date_range("2026-03-01T03:00Z", periods=60, freq="10s"),
    ...                     "latency_ms": [100.0] * 58 + [6000.0, 7000.0]})
    >>> len(heatmap(latency.heatmap(req, by="1min")).axes)   # the heatmap and its colour bar
    2
    """
    fig = IncidentFigure(figsize=(11.0, 4.6), layout="constrained")
    ax = fig.add_subplot(1, 1, 1)
    if frame is None or frame.empty or frame["count"].sum() == 0:
        _empty_note(ax)
        _finish(fig, [ax], title or "Latency heatmap")
        return fig
    grid = frame.pivot_table(index="bucket_low", columns="timestamp", values="count", aggfunc="sum", fill_value=0)
    lows = grid.index.to_numpy(dtype="float64")
    highs = frame.groupby("bucket_low")["bucket_high"].first().reindex(grid.index).to_numpy(dtype="float64")
    y_edges = np.append(lows, highs[-1])
    times = _naive(pd.Series(grid.columns))
    step = np.timedelta64(int(_bin_days(frame) * 86400e9), "ns")
    x_edges = np.append(times, times[-1] + step)
    counts = np.ma.masked_less_equal(grid.to_numpy(dtype="float64"), 0)
    vmax = max(2.0, float(counts.max()))
    mesh = ax.pcolormesh(x_edges, y_edges, counts, cmap="viridis", norm=LogNorm(vmin=1, vmax=vmax), shading="flat")
    _latency_axis(ax, unit, True)
    cb = fig.colorbar(mesh, ax=ax, pad=0.01)
    cb.ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:g}"))
    cb.set_label(f"requests per {_bin_text(frame)} and bucket")
    xlim = (x_edges[0], x_edges[-1])
    ax.set_xlim(*xlim)
    handles = _shade([ax], window, None)
    handles += _mark_changes([ax], changes, xlim)
    _finish(fig, [ax], title or "Latency heatmap", handles)
    return fig


# --------------------------------------------------------------------------- errors and versions


@_text_is_text
def error_rate(
    data: pd.DataFrame,
    *,
    by: Any = None,
    min_requests: int = MIN_REQUESTS,
    window: Any = None,
    changes: pd.DataFrame | None = None,
    title: str | None = None,
) -> IncidentFigure:
    """4xx and 5xx rates over time (%), with requests per bin below.

    Parameters
    ----------
    data:
        :func:`incidentkit.analyses.errors.error_rate` output, or requests (computed
        here with ``by``).
    min_requests:
        Bins are merged until the median bin with traffic holds this many requests (never
        below 12 bins), and a bin that still holds fewer draws no rate: its request bar
        is hatched instead (:data:`MIN_REQUESTS`).

    Returns
    -------
    IncidentFigure
        Two axes: error rates (top), requests per bin (bottom).

    Example
    -------
    >>> req = pd.DataFrame({"timestamp": pd.date_range("2026-03-01T03:00Z", periods=60, freq="10s"),
    ...                     "status": [200] * 50 + [503] * 10})
    >>> fig = error_rate(req, by="1min")
    >>> fig.axes[0].get_ylabel(), fig.axes[1].get_xlabel()
    ('share of requests', 'time (UTC)')
    """
    frame = data if data is not None and "rate_5xx" in data.columns else _errors.error_rate(data, by=by)
    fig, axes = _new(2, height_ratios=[3, 1])
    ax, axc = axes
    if frame.empty:
        _empty_note(ax)
        _finish(fig, axes, title or "Error rate")
        return fig
    frame = _coarsen_rates(frame, min_requests)
    x = _naive(frame["timestamp"])
    width = _bin_days(frame)
    step = np.timedelta64(int(round(width * 86400e9)), "ns")
    requests = frame["requests"].to_numpy(dtype="float64")
    few = requests < min_requests
    for col, color, label in (("rate_5xx", "#8b1a4a", "5xx"), ("rate_4xx", "#d4a017", "4xx")):
        rate = frame[col].to_numpy(dtype="float64").copy()
        rate[few] = np.nan  # a rate from a handful of requests is noise: not drawn
        xe, y = _stepped(x, rate, step)
        ax.step(xe, y, where="post", lw=1.8, color=color, label=f"{label} rate")
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_ylim(bottom=0)
    ax.set_ylabel("share of requests")
    axc.bar(x[~few], requests[~few], width=width, align="edge", color="#8a9597", alpha=0.9)
    extra = []
    if few.any() and (requests[few] > 0).any():
        axc.bar(x[few], requests[few], width=width, align="edge", color="#cbd5e1", hatch="////", edgecolor="#94a3b8", lw=0)
        extra.append(Patch(facecolor="#cbd5e1", hatch="////", edgecolor="#94a3b8",
                           label=f"bins under {min_requests} requests: rate not drawn"))
    axc.set_ylabel(f"requests\nper {_bin_text(frame)}")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0), framealpha=0.85)
    xlim = _xlim_of(x, window, None)
    if xlim is not None:
        ax.set_xlim(xlim[0], xlim[1] + np.timedelta64(int(width * 86400e9), "ns"))
    handles = _shade(axes, window, None) + extra
    handles += _mark_changes(axes, changes, xlim)
    _finish(fig, axes, title or "Error rate by status class", handles)
    return fig


def _width_for_groups(t: pd.Series, groups: pd.Series, base: pd.Timedelta) -> pd.Timedelta:
    """The bin width (``base`` x 1, 2, 3, 5, 10 ...) at which a group's bin with traffic typically
    holds :data:`MIN_REQUESTS` requests (median over groups and bins), never below 12 bins."""
    span = t.max() - t.min() + base
    chosen = base
    for factor in (1, 2, 3, 5, 10, 15, 20, 30, 60, 120, 240, 360, 720, 1440):
        width = base * factor
        if factor > 1 and span / width < _MIN_BINS:
            break
        chosen = width
        sizes = pd.DataFrame({"b": t.dt.floor(width).to_numpy(), "g": groups.to_numpy()}).groupby(["b", "g"]).size()
        if sizes.median() >= MIN_REQUESTS:
            break
    return chosen


def _coarsen_rates(frame: pd.DataFrame, min_requests: int) -> pd.DataFrame:
    """Error-rate bins merged (2x, 3x, 5x, 10x ...) until the median bin with traffic has ``min_requests``.

    Needs the counts (``requests`` and ``n_*``) of :func:`incidentkit.analyses.errors.error_rate`;
    rates are recomputed from the summed counts. Stops before the span would hold fewer than
    12 bins. A frame without counts, or already dense enough, is returned as it is.
    """
    counts = [c for c in frame.columns if c.startswith("n_")]
    busy = frame.loc[frame["requests"] > 0, "requests"]
    if not counts or busy.empty or busy.median() >= min_requests:
        return frame
    base = pd.Timedelta(days=_bin_days(frame))
    t = as_utc(frame["timestamp"])
    span = (t.max() - t.min()) + base
    chosen = None
    for factor in (2, 3, 5, 10, 15, 20, 30, 60, 120, 240, 360, 720, 1440):
        width = base * factor
        if span / width < _MIN_BINS:
            break
        slot = ((t - t.min()) // width).to_numpy()
        merged = frame.groupby(slot)["requests"].sum()
        chosen = (width, slot)
        if merged[merged > 0].median() >= min_requests:
            break
    if chosen is None:
        return frame
    width, slot = chosen
    out = frame.groupby(slot)[["requests", *counts]].sum()
    out.insert(0, "timestamp", t.min() + out.index.to_numpy() * width)
    for c in counts:
        out["rate_" + c[2:]] = out[c] / out["requests"].where(out["requests"] > 0)
    if "n_4xx" in out and "n_5xx" in out:
        out["error_rate"] = (out["n_4xx"] + out["n_5xx"]) / out["requests"].where(out["requests"] > 0)
    out = out.reset_index(drop=True)
    out.attrs = {**frame.attrs, "bin": str(width)}
    return out


@_text_is_text
def version_share(
    requests: pd.DataFrame,
    *,
    version: str = "app_version",
    by: Any = None,
    top: int = 6,
    error: Any = None,
    window: Any = None,
    changes: pd.DataFrame | None = None,
    title: str | None = None,
) -> IncidentFigure:
    """Each version's share of requests over time (stacked), and each version's error rate.

    Parameters
    ----------
    requests:
        One row per request with ``timestamp``, ``status`` and the ``version`` column.
    top:
        The ``top`` versions by requests are drawn; the rest are pooled as ``(other)``.
    error:
        What counts as an error (see :func:`incidentkit.analyses.errors.error_mask`).

    Returns
    -------
    IncidentFigure
        Two axes: stacked share (top), error rate per version (bottom).

    Example
    -------
    >>> req = pd.DataFrame({"timestamp": pd.date_range("2026-03-01T03:00Z", periods=60, freq="10s"),
    ...                     "app_version": ["2.9.0", "3.0.1"] * 30, "status": [403, 200] * 30})
    >>> fig = version_share(req, by="1min")
    >>> [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    ['2.9.0', '3.0.1']
    """
    fig, axes = _new(2, height_ratios=[1, 1])
    ax, axe = axes
    if requests is None or requests.empty or version not in requests.columns or "timestamp" not in requests.columns:
        _empty_note(ax)
        _finish(fig, axes, title or f"Share of requests by {version}")
        return fig
    t = as_utc(requests["timestamp"])
    ver = requests[version].astype("object").where(requests[version].notna(), "(unknown)").astype(str)
    keep = ver.value_counts().index[:top]
    ver = ver.where(ver.isin(keep), "(other)")
    width = to_timedelta(by) if by is not None else _width_for_groups(t, ver, auto_bin(t.min(), t.max()))
    err = _errors.error_mask(requests, error)
    work = pd.DataFrame({"b": t.dt.floor(width), "v": ver.to_numpy(), "e": err.to_numpy()})
    counts = work.pivot_table(index="b", columns="v", values="e", aggfunc="size", fill_value=0)
    full = pd.date_range(counts.index.min(), counts.index.max(), freq=width)
    counts = counts.reindex(full, fill_value=0)
    errs = work.pivot_table(index="b", columns="v", values="e", aggfunc="sum", fill_value=0).reindex(full, fill_value=0)
    order = [v for v in list(keep) + ["(other)"] if v in counts.columns]
    total = counts.sum(axis=1).replace(0, np.nan)
    share = counts[order].div(total, axis=0)
    x = _naive(pd.Series(full))
    colors = [PALETTE[i % len(PALETTE)] for i in range(len(order))]
    xe = np.append(x, x[-1] + np.timedelta64(int(width / pd.Timedelta(1, "ns")), "ns"))
    ax.stackplot(xe, [np.append(share[v].fillna(0).to_numpy(), share[v].fillna(0).to_numpy()[-1]) for v in order],
                 labels=order, colors=colors, alpha=0.85, step="post")
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_ylim(0, 1)
    ax.set_ylabel("share of requests")
    ax.set_title(f"share of requests by {version}", fontsize=10, loc="left")
    with np.errstate(divide="ignore", invalid="ignore"):
        # a version's rate in a bin where it sent fewer than MIN_REQUESTS requests is noise: not drawn
        rate = errs[order] / counts[order].where(counts[order] >= MIN_REQUESTS)
    step = np.timedelta64(int(width / pd.Timedelta(1, "ns")), "ns")
    for v, c in zip(order, colors):
        xe, y = _stepped(x, rate[v], step)
        axe.step(xe, y, where="post", color=c, lw=1.8, label=v)
    axe.yaxis.set_major_formatter(PercentFormatter(1.0))
    axe.set_ylim(bottom=0)
    axe.set_ylabel("error rate")
    label = _errors._error_label(error)
    axe.set_title(f"error rate ({label}) per {version}, in bins where it sent {MIN_REQUESTS} requests or more",
                  fontsize=10, loc="left")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0), title=version, title_fontsize=8)
    xlim = (x[0], x[-1] + np.timedelta64(int(width / pd.Timedelta(1, "ns")), "ns"))
    ax.set_xlim(*xlim)
    handles = _shade(axes, window, None)
    handles += _mark_changes(axes, changes, xlim)
    _finish(fig, axes, title or f"Requests and errors by {version}", handles)
    return fig
