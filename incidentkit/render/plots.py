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

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.colors import LogNorm
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter, PercentFormatter

from ..analyses import errors as _errors
from ..analyses._common import as_utc, auto_bin, to_timedelta
from .theme import CHANGE_COLORS
from .plot_figure import (
    BASELINE_COLOR,
    INCIDENT_COLOR,
    MIN_BINS,
    MIN_REQUESTS,
    PALETTE,
    IncidentFigure,
    empty_note,
    finish,
    mark_changes,
    naive_utc,
    new_figure,
    shade_windows,
    text_is_text,
    xlim_of,
)
from .plot_timeline import timeline

__all__ = ["timeline", "latency_bands", "version_share", "heatmap", "error_rate", "IncidentFigure", "CHANGE_COLORS", "INCIDENT_COLOR", "BASELINE_COLOR",
           "PALETTE"]

# --------------------------------------------------------------------------- latency


@text_is_text
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
    fig, axes = new_figure(2, height_ratios=[3, 1])
    ax, axc = axes
    if frame is None or frame.empty or not {"timestamp", "count"} <= set(frame.columns):
        empty_note(ax)
        finish(fig, axes, title or "Latency percentiles")
        return fig
    qcols = [c for c in frame.columns if isinstance(c, str) and c.startswith("p") and c[1:].replace(".", "").isdigit()]
    groups = [c for c in frame.columns if c not in {"timestamp", "count", "max", "share", *qcols}]
    df = frame.sort_values("timestamp", kind="stable")
    width = _bin_days(df)
    step = np.timedelta64(int(round(width * 86400e9)), "ns")
    x_all = naive_utc(df["timestamp"])
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
            xe, y = _stepped(naive_utc(part["timestamp"]), part[q], step)
            ax.step(xe, y, where="post", lw=2.0 if i == 0 else 1.6, color=PALETTE[i % len(PALETTE)], label=f"{q.upper()} {g}")
        counts = df[df["_g"] == order[0]][["timestamp", "count"]] if order else df[["timestamp", "count"]]
        values = df[q].to_numpy(dtype="float64")
        default_title = f"{q.upper()} latency by {' / '.join(groups)}"
    axc.bar(naive_utc(counts["timestamp"]), counts["count"].to_numpy(dtype="float64"), width=width, align="edge",
            color="#8a9597", alpha=0.9)
    pos = values[np.isfinite(values) & (values > 0)] if values.size else values
    if log is None:
        log = bool(pos.size and pos.max() / pos.min() > 20)
    _latency_axis(ax, unit, log)
    axc.set_ylabel(f"requests\nper {_bin_text(df)}")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0), framealpha=0.85)
    xlim = xlim_of(x_all, window, None)
    if xlim is not None:
        xlim = (xlim[0], max(xlim[1], x_all.max() + step))
        ax.set_xlim(*xlim)
    handles = shade_windows(axes, window, None)
    handles += mark_changes(axes, changes, xlim)
    finish(fig, axes, title or default_title, handles)
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


@text_is_text
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
        empty_note(ax)
        finish(fig, [ax], title or "Latency heatmap")
        return fig
    grid = frame.pivot_table(index="bucket_low", columns="timestamp", values="count", aggfunc="sum", fill_value=0)
    lows = grid.index.to_numpy(dtype="float64")
    highs = frame.groupby("bucket_low")["bucket_high"].first().reindex(grid.index).to_numpy(dtype="float64")
    y_edges = np.append(lows, highs[-1])
    times = naive_utc(pd.Series(grid.columns))
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
    handles = shade_windows([ax], window, None)
    handles += mark_changes([ax], changes, xlim)
    finish(fig, [ax], title or "Latency heatmap", handles)
    return fig


# --------------------------------------------------------------------------- errors and versions


@text_is_text
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
    fig, axes = new_figure(2, height_ratios=[3, 1])
    ax, axc = axes
    if frame.empty:
        empty_note(ax)
        finish(fig, axes, title or "Error rate")
        return fig
    frame = _coarsen_rates(frame, min_requests)
    x = naive_utc(frame["timestamp"])
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
    xlim = xlim_of(x, window, None)
    if xlim is not None:
        ax.set_xlim(xlim[0], xlim[1] + np.timedelta64(int(width * 86400e9), "ns"))
    handles = shade_windows(axes, window, None) + extra
    handles += mark_changes(axes, changes, xlim)
    finish(fig, axes, title or "Error rate by status class", handles)
    return fig


def _width_for_groups(t: pd.Series, groups: pd.Series, base: pd.Timedelta) -> pd.Timedelta:
    """The bin width (``base`` x 1, 2, 3, 5, 10 ...) at which a group's bin with traffic typically
    holds :data:`MIN_REQUESTS` requests (median over groups and bins), never below 12 bins."""
    span = t.max() - t.min() + base
    chosen = base
    for factor in (1, 2, 3, 5, 10, 15, 20, 30, 60, 120, 240, 360, 720, 1440):
        width = base * factor
        if factor > 1 and span / width < MIN_BINS:
            break
        chosen = width
        # naive datetime64 bins: a tz-aware column's to_numpy() is one Timestamp object a row (0.3 s at 200k)
        bins = t.dt.floor(width).dt.tz_convert(None).to_numpy()
        sizes = pd.DataFrame({"b": bins, "g": groups.to_numpy()}).groupby(["b", "g"]).size()
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
        if span / width < MIN_BINS:
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


@text_is_text
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
    fig, axes = new_figure(2, height_ratios=[1, 1])
    ax, axe = axes
    if requests is None or requests.empty or version not in requests.columns or "timestamp" not in requests.columns:
        empty_note(ax)
        finish(fig, axes, title or f"Share of requests by {version}")
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
    x = naive_utc(pd.Series(full))
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
    handles = shade_windows(axes, window, None)
    handles += mark_changes(axes, changes, xlim)
    finish(fig, axes, title or f"Requests and errors by {version}", handles)
    return fig
