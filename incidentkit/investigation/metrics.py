"""The CloudWatch metrics of an investigation: its resources' presets over the context window,
any query asked for, and a week of coarse history for schedule questions."""

from __future__ import annotations

from typing import Any

import pandas as pd

from .. import schema
from ..errors import ParameterError
from ..fetch import metrics as _metrics
from ..fetch.metric_presets import history_queries
from ..window import Window
from .replay import _concat
from .resources import metric_queries

__all__ = ["MetricEvidence"]


class MetricEvidence:
    """The metric methods of :class:`~incidentkit.investigation.Investigation` (a part of it: ``self`` is the investigation)."""

    def metrics(
        self,
        queries: Any = None,
        resource: str | None = None,
        *,
        window: Any = "context",
        period: int | None = None,
    ) -> pd.DataFrame:
        """CloudWatch metrics as a long frame (``schema.METRIC_COLUMNS``).

        Parameters
        ----------
        queries:
            ``None``: every preset that applies to the investigation's resources;
            a preset name (``"lambda_function"``, ``"dynamodb_table"`` ...) with ``resource``;
            or a list of :class:`~incidentkit.fetch.metrics.MetricQuery`.
        resource:
            The resource a preset name is for.
        window:
            ``"context"`` (default: baseline through incident), ``"incident"``, ``"baseline"``
            or a Window.
        period:
            Seconds (default: chosen from the window's length and age).

        Example
        -------
        >>> inv.metrics("dynamodb_table", "orders")          # doctest: +SKIP
        """
        if queries is None and resource is None:
            qs = metric_queries(self.resources, period=period) if self._metric_ids(period) else []
        elif isinstance(queries, str):
            preset = getattr(_metrics, queries, None)
            if preset is None or queries.startswith("_") or not callable(preset):
                raise ParameterError(f"no metric preset {queries!r}; use lambda_function, api_gateway, alb, target_group, "
                                     "dynamodb_table, rds_instance, route53_health_check or ec2_instance")
            if resource is None:
                raise ParameterError(f"metric preset {queries} needs the resource it is for, e.g. inv.metrics({queries!r}, 'name')")
            qs = list(preset(resource, period=period))
        else:
            qs = _metrics.as_queries(queries)
        if not qs:
            if self.offline and queries is None:
                names = self._bundle_frames("metrics", None)
                if names:
                    return _concat([self._get(n, "metrics", None) for n in names], "metrics")
            return schema.empty_frame("metrics")
        ids = [q.id for q in qs]
        wins = self._metric_windows() if window == "context" else [self._window(window)]
        frames = []
        for win in wins:
            key = self._metrics_key(ids, win, period)

            def fetch(win: Window = win) -> pd.DataFrame:
                return _metrics.get(qs, win, period=period, **self._aws())

            frames.append(self._get(key, "metrics", fetch, window=win))
        return frames[0] if len(frames) == 1 else _concat(frames, "metrics")

    def metric_history(self) -> pd.DataFrame | None:
        """A week of coarse metrics before the incident, for schedule questions (a daily job behind a burst).

        The queries are :func:`incidentkit.fetch.metric_presets.history_queries` of the resources; the
        window and period come from :func:`incidentkit.fetch.metrics.history_window` (a period CloudWatch
        still keeps for that age). Recorded in the evidence bundle like any frame; None when no
        resource has a schedule question, or when an offline bundle was recorded without it.
        """
        qs = history_queries(self.resources)
        if not qs:
            return None
        win, period = _metrics.history_window(self.window)
        key = self._history_key([q.id for q in qs], win)
        if self.offline and key not in self.bundle:
            return None
        return self._get(key, "metrics", lambda: _metrics.get(qs, win, period=period, **self._aws()), window=win)
