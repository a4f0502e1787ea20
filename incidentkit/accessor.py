"""The ``df.ik`` pandas accessor: the common investigation moves on any frame the kit returns.

Importing :mod:`incidentkit` registers it. Every method is a thin wrapper over an
analysis of :mod:`incidentkit.analyses` or a plot of :mod:`incidentkit.render.plots` — the same
function a template calls, with the same arguments and the same result — so a notebook
can write ``requests.ik.percentiles("latency_ms", by="1min")`` instead of
``latency.percentiles(requests, "latency_ms", by="1min")``.

Frames it understands:

* one row per request (``Investigation.requests()``, ``parsers.requests``), or any frame
  with the columns an analysis needs (``timestamp``, ``latency_ms``, ``status``...);
* parsed log events (``Investigation.logs()``, ``parsers.parse``): request analyses
  first reduce them to one row per request with :func:`incidentkit.parse.requests`
  (a Lambda request logs START, END, REPORT and application lines: counting each line
  as a request would skew every percentile);
* a long metrics frame (``Investigation.metrics()``) for :meth:`~IncidentAccessor.timeline`
  and :meth:`~IncidentAccessor.onset`;
* the change timeline (``Investigation.changes()``) for
  :meth:`~IncidentAccessor.change_timeline`;
* any frame of log lines (raw events with a ``message`` column, or parsed) for
  :meth:`~IncidentAccessor.signatures`.

Analysis methods return DataFrames; ``plot_*`` methods, :meth:`~IncidentAccessor.timeline`
and :meth:`~IncidentAccessor.heatmap` return a matplotlib figure
(:class:`incidentkit.render.plots.IncidentFigure`, shown inline in Jupyter).

Example
-------
>>> import pandas as pd
>>> import incidentkit  # registers df.ik
>>> req = pd.DataFrame({"timestamp": pd.date_range("2026-03-01T03:00Z", periods=6, freq="20s"),
...                     "latency_ms": [100.0, 120.0, 900.0, 110.0, 95.0, 130.0],
...                     "app_version": ["2.9", "2.9", "3.0", "3.0", "3.0", "2.9"]})
>>> req.ik.percentiles("latency_ms", by="1min")["count"].tolist()
[3, 3]
>>> req.ik.share("app_version")[["app_version", "share"]].to_dict("records")
[{'app_version': '2.9', 'share': 0.5}, {'app_version': '3.0', 'share': 0.5}]
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

from . import parse as parsers
from . import schema
from .analyses import compare as _compare
from .analyses import errors, latency
from .analyses import onset as _onset
from .analyses import signatures as _signatures
from .analyses._common import as_utc, auto_bin, bin_floor, to_timedelta
from .errors import ParameterError
from .render.display import ChangeTimeline
from .window import Window

__all__ = ["IncidentAccessor", "is_parsed_logs"]

_MISSING = "(missing)"
_OTHER = "(other)"


def _plots() -> Any:
    """The plots module, imported when a ``df.ik`` method plots: it loads matplotlib, which a frame that is only
    analysed never needs (``import incidentkit`` registers this accessor and stays free of matplotlib)."""
    from .render import plots

    return plots


def is_parsed_logs(df: pd.DataFrame) -> bool:
    """Whether ``df`` is parsed log events (``parsers.parse``), not one row per request."""
    return {"record_type", "event_id", "message"} <= set(map(str, df.columns))


@pd.api.extensions.register_dataframe_accessor("ik")
class IncidentAccessor:
    """``df.ik``: analyses and plots of :mod:`incidentkit` as methods of a DataFrame.

    Example
    -------
    >>> import incidentkit as ik
    >>> inv = ik.Investigation.sample("cold-start-tail")                       # doctest: +SKIP
    >>> req = inv.requests()                                                    # doctest: +SKIP
    >>> req.ik.percentiles_excluding("cold_start")[["subset", "p50", "p99"]]    # doctest: +SKIP
    >>> req.ik.plot_percentiles(by="5min", exclude="cold_start")                # doctest: +SKIP
    """

    def __init__(self, df: pd.DataFrame) -> None:
        self._df = df

    # -- the frame as requests -------------------------------------------------------------

    def requests(self) -> pd.DataFrame:
        """The frame as one row per request.

        Parsed log events are joined into requests with :func:`incidentkit.parse.requests`;
        any other frame is returned as it is.

        Example
        -------
        >>> inv.logs().ik.requests().shape          # doctest: +SKIP
        (344, 16)
        """
        if is_parsed_logs(self._df):
            return parsers.requests(self._df)
        return self._df

    def _other(self, other: Any, what: str) -> Any:
        """A second frame as requests; a selection must index the frame the analysis sees."""
        if isinstance(other, pd.DataFrame):
            return other.ik.requests()
        if other is not None and is_parsed_logs(self._df):
            raise ParameterError(
                f"{what} is a row selection of parsed log events, but the analysis runs on requests: "
                "select on the requests frame instead, e.g. req = df.ik.requests(); req.ik.compare(req.status >= 500)"
            )
        return other

    # -- latency ------------------------------------------------------------------------------

    def percentiles(
        self,
        value: str = "latency_ms",
        by: str | pd.Timedelta | int | None = None,
        *,
        quantiles: Sequence[float] = (0.5, 0.9, 0.99),
        groupby: str | Sequence[str] | None = None,
        window: Any = None,
        time: str = "timestamp",
    ) -> pd.DataFrame:
        """Count, P50/P90/P99 and max of ``value`` per time bin — :func:`incidentkit.analyses.latency.percentiles`.

        Example
        -------
        >>> req.ik.percentiles("latency_ms", by="1min")                 # doctest: +SKIP
        >>> req.ik.percentiles(by="5min", groupby="cold_start")         # doctest: +SKIP
        """
        return latency.percentiles(self.requests(), value, by=by, quantiles=quantiles, groupby=groupby, time=time,
                                   window=window)

    def percentiles_excluding(
        self,
        mask_col: str = "cold_start",
        *,
        value: str = "latency_ms",
        quantiles: Sequence[float] = (0.5, 0.9, 0.99),
        by: str | pd.Timedelta | int | None = None,
        window: Any = None,
    ) -> pd.DataFrame:
        """Percentiles of all requests, without ``mask_col`` and with it only (P99 with and without
        cold starts) — :func:`incidentkit.analyses.latency.percentiles_excluding`.

        Example
        -------
        >>> req.ik.percentiles_excluding("cold_start").set_index("subset")["p99"]   # doctest: +SKIP
        """
        return latency.percentiles_excluding(self.requests(), mask_col, value=value, quantiles=quantiles, by=by,
                                             window=window)

    def tail(
        self,
        q: float = 0.99,
        by: str | Sequence[str] = ("cold_start",),
        *,
        value: str = "latency_ms",
        max_values: int = 20,
    ) -> pd.DataFrame:
        """Which values the slowest requests carry (tail share vs overall share, lift, z-test) —
        :func:`incidentkit.analyses.latency.tail_attribution`.

        Example
        -------
        >>> req.ik.tail(0.99, by=["cold_start", "route", "app_version"])    # doctest: +SKIP
        """
        return latency.tail_attribution(self.requests(), q=q, by=by, value=value, max_values=max_values)

    def tail_vs_traffic(
        self,
        *,
        by: str | pd.Timedelta | int | None = None,
        buckets: int = 4,
        value: str = "latency_ms",
        q: float = 0.99,
        window: Any = None,
    ) -> pd.DataFrame:
        """P99 and cold-start rate by traffic level (the quiet-hours signature) —
        :func:`incidentkit.analyses.latency.tail_vs_traffic`."""
        return latency.tail_vs_traffic(self.requests(), by=by, buckets=buckets, value=value, q=q, window=window)

    # -- errors, versions, comparisons --------------------------------------------------------

    def error_rate(
        self,
        by: str | pd.Timedelta | int | None = None,
        *,
        status: str = "status",
        groupby: str | Sequence[str] | None = None,
        window: Any = None,
        time: str = "timestamp",
        timeouts_as_5xx: bool = True,
    ) -> pd.DataFrame:
        """Requests, counts by status class and rates per time bin —
        :func:`incidentkit.analyses.errors.error_rate`.

        Example
        -------
        >>> req.ik.error_rate("1min", groupby="app_version")          # doctest: +SKIP
        """
        return errors.error_rate(self.requests(), by=by, status=status, time=time, groupby=groupby, window=window,
                                 timeouts_as_5xx=timeouts_as_5xx)

    def by_version(self, version: str = "app_version", *, error: Any = None, alpha: float = 0.05) -> pd.DataFrame:
        """Per version: traffic share against error share, error rate with its interval, z-test —
        :func:`incidentkit.analyses.errors.by_version`.

        Example
        -------
        >>> req.ik.by_version("app_version")                           # doctest: +SKIP
        """
        return errors.by_version(self.requests(), version=version, error=error, alpha=alpha)

    def compare(
        self,
        baseline: Any = None,
        *,
        columns: Sequence[str] | None = None,
        max_values: int = 20,
        alpha: float = 0.05,
        status: str = "status",
    ) -> pd.DataFrame:
        """Each value's share here against the baseline, ranked by effect ("it's only app 2.x") —
        :func:`incidentkit.analyses.compare.compare`.

        Parameters
        ----------
        baseline:
            The baseline rows (a frame; parsed log events are joined into requests), or a
            boolean selection of this frame's rows (selected vs the rest).

        Example
        -------
        >>> inv.requests().ik.compare(inv.requests(window="baseline"))    # doctest: +SKIP
        >>> req.ik.compare(req["status"] >= 500, columns=["app_version", "route"])   # doctest: +SKIP
        """
        return _compare.compare(self.requests(), self._other(baseline, "baseline"), columns=columns,
                                max_values=max_values, alpha=alpha, status=status)

    def compare_numeric(
        self,
        baseline: Any = None,
        *,
        columns: Sequence[str] | None = None,
        alpha: float = 0.05,
        status: str = "status",
    ) -> pd.DataFrame:
        """Numeric columns compared by distribution (quantiles on both sides, KS test) —
        :func:`incidentkit.analyses.compare.compare_numeric`."""
        return _compare.compare_numeric(self.requests(), self._other(baseline, "baseline"), columns=columns,
                                        alpha=alpha, status=status)

    def share(
        self,
        column: str,
        by: str | pd.Timedelta | int | None = None,
        *,
        top: int = 10,
        window: Any = None,
        time: str = "timestamp",
    ) -> pd.DataFrame:
        """Share of rows per value of ``column`` (e.g. of requests per app version), optionally per time bin.

        Parameters
        ----------
        column:
            The column to count (``app_version``, ``route``, ``status``, ``log_stream``...).
        by:
            A bin width (``"5min"``, a Timedelta, seconds, or ``"auto"`` for ~80-200 bins)
            for the share per bin; ``None`` for one share over the whole frame.
        top:
            Values beyond the ``top`` most frequent are pooled as ``(other)``; missing values
            are ``(missing)`` and never pooled.
        window:
            A Window or ``(start, end)``: only rows inside it, and bins aligned to its start
            and spanning it.

        Returns
        -------
        DataFrame
            Without ``by``: ``<column>, count, share`` sorted by count. With ``by``:
            ``timestamp, <column>, count, share`` with every (bin, value) pair present, so
            a version that vanished shows as 0; ``share`` is NaN in a bin without rows.
            ``attrs``: ``rows`` (how many were counted), ``counted`` (``rows``, ``requests`` or
            ``log lines``), ``bin`` when binned.

        On parsed log events, a request column (``app_version``, ``status``, ``route``...:
        ``schema.REQUEST_COLUMNS``) is counted per request (:meth:`requests`); any other
        column (``level``, ``log_stream``, ``format``...) per log line.

        Example
        -------
        >>> import pandas as pd
        >>> df = pd.DataFrame({"timestamp": pd.to_datetime(["2026-03-01T03:00:10Z", "2026-03-01T03:00:20Z",
        ...                                                 "2026-03-01T03:01:30Z"]),
        ...                    "app_version": ["2.9", "3.0", "3.0"]})
        >>> out = df.ik.share("app_version", by="1min")
        >>> out.pivot(index="timestamp", columns="app_version", values="share").to_numpy().tolist()
        [[0.5, 0.5], [0.0, 1.0]]
        """
        parsed = is_parsed_logs(self._df)
        per_request = parsed and column in schema.REQUEST_COLUMNS
        df = self.requests() if per_request else self._df
        counted = "requests" if per_request else ("log lines" if parsed else "rows")
        if column not in df.columns:
            raise ParameterError(f"no column {column!r} in the frame; columns: {', '.join(map(str, df.columns))}")
        if isinstance(top, bool) or not isinstance(top, (int, np.integer)) or top < 1:
            raise ParameterError(f"top={top!r} must be a positive whole number")
        values = df[column]
        keep = pd.Series(True, index=df.index)
        bounds = None
        if window is not None:
            bounds = window if isinstance(window, Window) else Window.parse(*window, allow_future=True)
        if by is not None or bounds is not None:
            if time not in df.columns:
                raise ParameterError(f"share by time needs a {time!r} column")
            t = as_utc(df[time])
            keep &= t.notna()
            if bounds is not None:
                keep &= (t >= bounds.start) & (t < bounds.end)
        labels = values[keep].astype("object").where(values[keep].notna(), _MISSING)
        labels = labels.map(lambda v: v if isinstance(v, (bool, np.bool_)) else str(v))
        counts = labels.value_counts()
        ranked = [v for v in counts.index if v != _MISSING]
        if len(ranked) > top:
            labels = labels.where(labels.isin(set(ranked[:top])) | (labels == _MISSING), _OTHER)
        n = int(keep.sum())
        if by is None:
            out = labels.value_counts().rename_axis(column).reset_index(name="count")
            out["count"] = out["count"].astype("int64")
            out["share"] = out["count"] / n if n else np.nan
            out = out.iloc[np.lexsort((out[column].astype(str).to_numpy(), -out["count"].to_numpy()))].reset_index(drop=True)
            out.attrs.update({"rows": n, "counted": counted})
            return out
        t = as_utc(df.loc[keep.to_numpy(), time])
        if by == "auto":
            lo, hi = (bounds.start, bounds.end) if bounds is not None else (t.min(), t.max())
            width = auto_bin(lo, hi)
        else:
            width = to_timedelta(by)
        origin = bounds.start if bounds is not None else None
        bins = bin_floor(t, width, origin)
        order = list(labels.value_counts().index)
        columns = ["timestamp", column, "count", "share"]
        if not n:
            out = pd.DataFrame({"timestamp": pd.Series([], dtype="datetime64[ns, UTC]"), column: pd.Series([], dtype="object"),
                                "count": pd.Series([], dtype="int64"), "share": pd.Series([], dtype="float64")})
            out.attrs.update({"rows": 0, "bin": str(width), "counted": counted})
            return out
        grid = pd.crosstab(bins.to_numpy(), labels.to_numpy()).reindex(columns=order, fill_value=0)
        if bounds is not None:
            last = bin_floor(pd.Series([bounds.end - pd.Timedelta(1)]), width, origin).iloc[0]
            full = pd.date_range(bounds.start, last, freq=width)
        else:
            full = pd.date_range(grid.index.min(), grid.index.max(), freq=width)
        grid = grid.reindex(full, fill_value=0)
        total = grid.sum(axis=1)
        share = grid.div(total.where(total > 0), axis=0)
        out = pd.DataFrame(
            {
                "timestamp": np.repeat(full.to_numpy(), len(order)),
                column: np.tile(np.array(order, dtype=object), len(full)),
                "count": grid.to_numpy().reshape(-1).astype("int64"),
                "share": share.to_numpy(dtype="float64").reshape(-1),
            },
            columns=columns,
        )
        out["timestamp"] = as_utc(out["timestamp"])
        out.attrs.update({"rows": n, "bin": str(width), "counted": counted})
        return out

    # -- metrics ------------------------------------------------------------------------------

    def onset(self, **kwargs: Any) -> pd.DataFrame:
        """When each series departed from its baseline — :func:`incidentkit.analyses.onset.onset`
        (keyword arguments as there: ``baseline=``, ``window=``, ``threshold=``, ``series=``...).

        Example
        -------
        >>> inv.metrics().ik.onset(baseline=inv.baseline, window=inv.window)     # doctest: +SKIP
        """
        return _onset.onset(self._df, **kwargs)

    # -- log lines ----------------------------------------------------------------------------

    def _log_lines(self, df: pd.DataFrame | None, what: str) -> pd.DataFrame | None:
        """``df`` as parsed log events: parsed as it is, raw events (or a bare ``message`` column) parsed first."""
        if df is None or is_parsed_logs(df):
            return df
        if "message" not in df.columns:
            raise ParameterError(f"{what} has no 'message' column: give log lines (Investigation.logs(), raw events, "
                                 "or any frame with a 'message' column and, ideally, a 'timestamp')")
        return parsers.parse(df)

    def signatures(self, baseline: pd.DataFrame | None = None, *, onset: Any = None, window: Any = None,
                   baseline_window: Any = None) -> pd.DataFrame:
        """What is new in these log lines: the message templates of their error lines (variable parts
        masked, Drain3), new or grown against ``baseline`` (other log lines) or the part before ``onset``
        — :func:`incidentkit.analyses.signatures.signatures`, rates per request when the lines name them.

        Example
        -------
        >>> inv.logs().ik.signatures(inv.logs(window="baseline")).head()      # doctest: +SKIP
        """
        logs = self._log_lines(self._df, "the frame")
        base = self._log_lines(baseline, "baseline") if isinstance(baseline, pd.DataFrame) else None
        if baseline is not None and base is None:
            raise ParameterError("baseline must be a DataFrame of log lines (or None)")
        return _signatures.window_signatures(
            logs, base, parsers.requests(logs) if len(logs) else None,
            parsers.requests(base) if base is not None and len(base) else None,
            window=window, baseline_window=baseline_window, onset=onset)

    # -- plots --------------------------------------------------------------------------------

    def timeline(
        self,
        *,
        changes: pd.DataFrame | None = None,
        window: Any = None,
        baseline: Any = None,
        title: str | None = None,
        max_panels: int = 8,
    ) -> Any:
        """Metric timelines with the incident window, the baseline and the changes —
        :func:`incidentkit.render.plots.timeline` (a long metrics frame, or a frame with a
        ``timestamp`` column / DatetimeIndex and numeric columns).

        Example
        -------
        >>> inv.metrics().ik.timeline(changes=inv.changes(), window=inv.window, baseline=inv.baseline)   # doctest: +SKIP
        """
        plots = _plots()

        return plots.timeline(self._df, window=window, baseline=baseline, changes=changes, title=title,
                              max_panels=max_panels)

    def plot_percentiles(
        self,
        value: str = "latency_ms",
        by: str | pd.Timedelta | int | None = None,
        *,
        exclude: str | None = None,
        groupby: str | Sequence[str] | None = None,
        quantiles: Sequence[float] = (0.5, 0.9, 0.99),
        window: Any = None,
        changes: pd.DataFrame | None = None,
        title: str | None = None,
        log: bool | None = None,
    ) -> Any:
        """P50/P90/P99 bands over time — :func:`incidentkit.render.plots.latency_bands` of
        :meth:`percentiles`; with ``exclude="cold_start"`` the P99 of all requests, of those
        without cold starts and of cold starts only (:meth:`percentiles_excluding`), one
        line each.

        Example
        -------
        >>> req.ik.plot_percentiles(by="5min", exclude="cold_start", window=inv.window)   # doctest: +SKIP
        """
        plots = _plots()

        if exclude is not None:
            if groupby is not None:
                raise ParameterError("give exclude= or groupby=, not both")
            frame = self.percentiles_excluding(exclude, value=value, quantiles=quantiles, by=by or "auto", window=window)
            default = f"P99 latency with and without {exclude.replace('_', ' ')}s"
        else:
            frame = self.percentiles(value, by, quantiles=quantiles, groupby=groupby, window=window)
            default = None
        return plots.latency_bands(frame, window=window, changes=changes, title=title or default, log=log)

    def heatmap(
        self,
        value: str = "latency_ms",
        by: str | pd.Timedelta | int | None = None,
        *,
        buckets: Sequence[float] | int = 24,
        window: Any = None,
        changes: pd.DataFrame | None = None,
        title: str | None = None,
    ) -> Any:
        """A latency heatmap (time across, log-spaced latency buckets up) — :func:`incidentkit.render.plots.heatmap`
        of :func:`incidentkit.analyses.latency.heatmap` (call that for the counts as a table).

        Example
        -------
        >>> req.ik.heatmap(by="5min", window=inv.window)           # doctest: +SKIP
        """
        plots = _plots()
        frame = latency.heatmap(self.requests(), value, by=by, buckets=buckets, window=window)
        return plots.heatmap(frame, window=window, changes=changes, title=title)

    def plot_error_rate(
        self,
        by: str | pd.Timedelta | int | None = None,
        *,
        window: Any = None,
        changes: pd.DataFrame | None = None,
        title: str | None = None,
    ) -> Any:
        """4xx/5xx rates over time — :func:`incidentkit.render.plots.error_rate` of :meth:`error_rate`."""
        plots = _plots()

        return plots.error_rate(self.error_rate(by, window=window), window=window, changes=changes, title=title)

    def plot_share(
        self,
        column: str = "app_version",
        by: Any = None,
        *,
        top: int = 6,
        error: Any = None,
        window: Any = None,
        changes: pd.DataFrame | None = None,
        title: str | None = None,
    ) -> Any:
        """Each value's share of requests over time and its error rate — :func:`incidentkit.render.plots.version_share`.

        Example
        -------
        >>> req.ik.plot_share("app_version", changes=inv.changes())        # doctest: +SKIP
        """
        plots = _plots()

        return plots.version_share(self.requests(), version=column, by=by, top=top, error=error, window=window,
                                   changes=changes, title=title)

    # -- the change timeline ------------------------------------------------------------------

    def change_timeline(self, *, window: Any = None, limit: int = 50) -> Any:
        """This change-timeline frame as a readable table (HTML in Jupyter, text in a terminal) —
        :class:`incidentkit.render.display.ChangeTimeline`.

        Example
        -------
        >>> inv.changes().ik.change_timeline(window=inv.window)       # doctest: +SKIP
        """
        return ChangeTimeline(self._df, window=window, limit=limit)
