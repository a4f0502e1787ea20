"""The plots' shared ground: the figure class, colours, and the helpers every plot uses.

:class:`IncidentFigure` shows itself as PNG in Jupyter without pyplot; the helpers put every
time axis in UTC, shade the incident (red) and baseline (grey) windows, and mark changes from
the timeline as numbered vertical lines coloured by class. The plots themselves are in
:mod:`incidentkit.render.plots` (and :mod:`incidentkit.render.plot_timeline`).

Example
-------
>>> fig, axes = new_figure(2)
>>> isinstance(fig, IncidentFigure), len(axes)
(True, 2)
"""

from __future__ import annotations

import functools
import io
import re
from typing import Any, Callable, Sequence

import matplotlib
import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from ..analyses._common import as_utc
from ..fetch.changes import normalize_event_name
from .theme import CHANGE_COLORS

__all__ = ["IncidentFigure", "PALETTE", "INCIDENT_COLOR", "BASELINE_COLOR", "MIN_REQUESTS", "MIN_BINS", "MAX_PANELS", "CHANGE_COLORS", "text_is_text",
           "new_figure", "naive_utc", "window_bounds", "shade_windows", "shorten", "mark_changes", "finish", "xlim_of",
           "empty_note"]


#: Colours of data series: chosen apart from the change colours (changes are also dashed, with a flag).
PALETTE: tuple[str, ...] = ("#1b9e77", "#7a4988", "#d4a017", "#e7298a", "#2f4f4f", "#a6761d", "#66a61e", "#666666")
#: The incident window's shade and edges, and the baseline window's shade.
INCIDENT_COLOR = "#e74c3c"
BASELINE_COLOR = "#95a5a6"
MAX_PANELS = 8
#: A rate is drawn only for bins with at least this many requests: below 10, one request moves the
#: rate by 10 points or more (1 error in 4 requests draws a 25 % spike), which is noise, not signal.
MIN_REQUESTS = 10
#: Coarser bins are never fewer than this over the plotted span (the shape of the incident must stay visible).
MIN_BINS = 12
_MAX_LABELS = 12


def text_is_text(plot: Callable[..., IncidentFigure]) -> Callable[..., IncidentFigure]:
    """Build the figure with matplotlib's mathtext off: labels come from the data (app versions,
    resources, metric names), and ``$...$`` in them would be typeset, or fail to parse and break
    the figure. The numbered change markers are marker paths, not text, and are unaffected."""

    @functools.wraps(plot)
    def build(*args: Any, **kwargs: Any) -> IncidentFigure:
        with matplotlib.rc_context({"text.parse_math": False}):
            return plot(*args, **kwargs)

    return build


class IncidentFigure(Figure):
    """A :class:`~matplotlib.figure.Figure` that shows itself as PNG in Jupyter without pyplot.

    The PNG carries its alternative text (the figure's title) in the output's metadata,
    where the report page puts it as the image's ``alt`` (escaped, masked like every byte).
    """

    def alt_text(self) -> str:
        """What the figure shows, in words: its title, else its panels' titles.

        Example
        -------
        >>> fig, axes = new_figure(1)
        >>> finish(fig, axes, "Error rate per minute")
        >>> fig.alt_text()
        'Plot: Error rate per minute'
        """
        title = self._suptitle.get_text() if self._suptitle is not None else ""
        panels = [ax.get_title() for ax in self.axes if ax.get_title()]
        said = " ".join(title.split()) or "; ".join(" ".join(p.split()) for p in panels)
        return f"Plot: {said}" if said else "Plot"

    def _repr_png_(self) -> tuple[bytes, dict[str, str]]:
        buf = io.BytesIO()
        self.savefig(buf, format="png", dpi=100)
        return buf.getvalue(), {"alt": self.alt_text()}


# --------------------------------------------------------------------------- shared helpers


def new_figure(nrows: int = 1, *, height_ratios: Sequence[float] | None = None, width: float = 11.0,
         panel_height: float = 2.8) -> tuple[IncidentFigure, list[Any]]:
    fig = IncidentFigure(figsize=(width, max(3.2, panel_height * (sum(height_ratios) / max(height_ratios) if height_ratios else nrows) + 0.9)),
                         layout="constrained")
    axes = fig.subplots(nrows, 1, sharex=True, squeeze=False,
                        gridspec_kw={"height_ratios": list(height_ratios)} if height_ratios else None)[:, 0]
    return fig, list(axes)


def naive_utc(times: Any) -> np.ndarray:
    """UTC times as naive datetime64 (matplotlib's dates are then UTC)."""
    s = as_utc(pd.Series(times) if not isinstance(times, pd.Series) else times)
    return s.dt.tz_localize(None).to_numpy()


def _t(value: Any) -> np.datetime64:
    return naive_utc(pd.Series([value]))[0]


def window_bounds(spec: Any) -> tuple[Any, Any] | None:
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


def shade_windows(axes: Sequence[Any], window: Any, baseline: Any) -> list[Any]:
    handles = []
    w = window_bounds(window)
    b = window_bounds(baseline)
    for i, ax in enumerate(axes):
        if b is not None:
            ax.axvspan(_t(b[0]), _t(b[1]), color=BASELINE_COLOR, alpha=0.15, lw=0, zorder=0)
        if w is not None:
            ax.axvspan(_t(w[0]), _t(w[1]), color=INCIDENT_COLOR, alpha=0.12, lw=0, zorder=0)
            # Edges on top, so the window still shows over opaque plots (stacked areas, heatmaps).
            for edge in (w[0], w[1]):
                ax.axvline(_t(edge), color=INCIDENT_COLOR, lw=1.0, alpha=0.7, zorder=4)
    if w is not None:
        handles.append(Patch(color=INCIDENT_COLOR, alpha=0.25, label="incident window"))
    if b is not None:
        handles.append(Patch(color=BASELINE_COLOR, alpha=0.35, label="baseline window"))
    return handles


def _class_of(value: Any) -> str:
    text = str(value).upper() if value is not None and not pd.isna(value) else "OTHER"
    for name in CHANGE_COLORS:
        if text == name or (name != "OTHER" and text.startswith(name.split("_")[0])):
            return name
    return "OTHER"


def shorten(text: Any, limit: int = 32) -> str:
    t = "" if text is None or (not isinstance(text, str) and pd.isna(text)) else str(text)
    if "/" in t and len(t) > limit:
        t = t.rstrip("/").rsplit("/", 1)[-1]
    if ":" in t and len(t) > limit:
        t = t.rsplit(":", 1)[-1]
    return t if len(t) <= limit else t[: limit - 1] + "…"


#: Legend label of a change-key entry: the handles :func:`mark_changes` returns for the key carry it.
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


def mark_changes(axes: Sequence[Any], changes: pd.DataFrame | None, xlim: tuple[Any, Any] | None) -> list[Any]:
    """Dashed vertical lines per change (all axes) and a numbered marker on the top axes.

    Changes closer than 2.5 % of the axis share one number. Returns the legend handles: one
    key entry per number (time, API name, resource, class; complete, horizontal) and one per
    class of change drawn.
    """
    if changes is None or changes.empty or "timestamp" not in changes.columns:
        return []
    ch = changes.copy()
    ch["_t"] = naive_utc(ch["timestamp"])
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


def finish(fig: IncidentFigure, axes: Sequence[Any], title: str, extra_handles: Sequence[Any] = ()) -> None:
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


def xlim_of(times: np.ndarray, window: Any, baseline: Any) -> tuple[Any, Any] | None:
    valid = pd.Series(times).dropna()
    pts = [valid.min().to_datetime64(), valid.max().to_datetime64()] if len(valid) else []
    for spec in (window, baseline):
        b = window_bounds(spec)
        if b is not None:
            pts += [_t(b[0]), _t(b[1])]
    if not pts:
        return None
    return min(pts), max(pts)


def empty_note(ax: Any, text: str = "no data") -> None:
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", fontsize=11, color="#7f8c8d")
