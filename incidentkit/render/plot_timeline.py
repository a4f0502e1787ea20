"""The metric timeline plot: one panel per unit, each series on the incident's UTC axis.

:func:`timeline` takes a long metrics frame (:func:`incidentkit.fetch.metrics.get`), a Series
or a wide frame; counts (``Sum``, ``SampleCount``) are put on a regular grid so a missing
datapoint reads as a gap, not as a line drawn across it.

Example
-------
>>> import pandas as pd
>>> s = pd.Series([1.0, 2.0, 9.0], index=pd.date_range("2026-03-01T03:00Z", periods=3, freq="1min"), name="5XXError")
>>> timeline(s).axes[0].get_xlabel()
'time (UTC)'
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from ..analyses._common import as_utc, normalize_stat
from .plot_figure import (
    MAX_PANELS,
    PALETTE,
    IncidentFigure,
    empty_note,
    finish,
    mark_changes,
    naive_utc,
    new_figure,
    shade_windows,
    shorten,
    text_is_text,
    window_bounds,
    xlim_of,
)

__all__ = ["timeline", "COUNT_STATS"]

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
    bounds = window_bounds(window) if not isinstance(window, Mapping) else (window.get("start"), window.get("end"))
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
            return ", ".join(f"{k}={shorten(v, 30)}" for k, v in sorted(d.items()))
    except (ValueError, TypeError):
        pass
    return shorten(text, 40)


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


@text_is_text
def timeline(
    data: pd.DataFrame | pd.Series,
    *,
    window: Any = None,
    baseline: Any = None,
    changes: pd.DataFrame | None = None,
    title: str | None = None,
    max_panels: int = MAX_PANELS,
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
    fig, axes = new_figure(len(panels), panel_height=2.6 if len(panels) > 1 else 3.6)
    all_times = np.concatenate([naive_utc(pd.Series(s.index)) for _, _, lines in panels for _, s in lines] or [np.array([], dtype="datetime64[ns]")])
    xlim = xlim_of(all_times, window, baseline if window_bounds(baseline) else None)
    base_lines = _panels(baseline) if isinstance(baseline, (pd.Series, pd.DataFrame)) else None
    base_drawn = False
    for ax, (ptitle, unit, lines) in zip(axes, panels):
        if not lines:
            empty_note(ax)
        for i, (label, s) in enumerate(lines[:10]):
            period = s.attrs.get("period_s")
            step = np.timedelta64(int(period * 1e9), "ns") if period else None
            x, y = _gapped(naive_utc(pd.Series(s.index)), s.to_numpy(dtype="float64"), step)
            # Dots where points are few or isolated by gaps (a lone point draws no line).
            sparse = len(s) < 40 or len(x) > len(s)
            (ln,) = ax.plot(x, y, lw=1.6, marker="." if sparse else None, ms=4 if sparse else None,
                            color=PALETTE[i % len(PALETTE)], label=label, zorder=2)
            b = window_bounds(baseline)
            if b is not None:
                idx = as_utc(pd.Series(s.index))
                in_b = ((idx >= pd.Timestamp(b[0])) & (idx < pd.Timestamp(b[1]))).to_numpy()
                if in_b.any():
                    ax.axhline(float(np.nanmedian(s.to_numpy(dtype="float64")[in_b])), color=ln.get_color(), ls="--",
                               lw=1.1, alpha=0.9, zorder=1)
                    base_drawn = True
        if base_lines is not None:
            for label, s in [ln for _, _, lines_b in base_lines for ln in lines_b][:5]:
                ax.plot(naive_utc(pd.Series(s.index)), s.to_numpy(dtype="float64"), ls="--", lw=1.1, color="#555555",
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
    handles = shade_windows(axes, window, baseline if window_bounds(baseline) else None)
    if base_drawn:
        handles.append(Line2D([], [], color="#555555", ls="--", lw=1.1, label="baseline median"))
    if xlim is not None:
        axes[0].set_xlim(xlim)
    handles += mark_changes(axes, changes, xlim)
    if title is None:
        title = "Metrics over time" if len(panels) > 1 else (panels[0][0] or "Timeline")
    if dropped:
        title += f"  ({dropped} more metrics not shown)"
    finish(fig, axes, title, handles)
    return fig
