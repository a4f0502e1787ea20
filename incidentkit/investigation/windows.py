"""The windows of an investigation: the incident, the baseline, the context metrics are read
over and the change window (see :mod:`incidentkit.investigation`)."""

from __future__ import annotations

from typing import Any, Mapping

import pandas as pd

from ..errors import ParameterError
from ..window import Window

__all__ = ["CHANGE_LOOKBACK", "Windows"]

#: How far before the incident the change timeline reaches, at least.
CHANGE_LOOKBACK = pd.Timedelta(hours=12)


class Windows:
    """The windows of :class:`~incidentkit.investigation.Investigation` (a part of it: ``self`` is the investigation)."""

    def _baseline(self, baseline: Any) -> Window | None:
        if baseline is None or baseline is False:
            return None
        if isinstance(baseline, Window):
            return baseline
        if isinstance(baseline, str):
            return self.window.baseline(baseline)  # type: ignore[arg-type]
        if isinstance(baseline, Mapping):
            return Window.from_dict(dict(baseline))
        if isinstance(baseline, (tuple, list)) and len(baseline) == 2:
            return Window.parse(baseline[0], baseline[1], allow_future=getattr(self, "offline", False))
        raise ParameterError(f"baseline {baseline!r} is not understood; use 'previous', 'day', 'week', a Window or (start, end)")

    @property
    def context(self) -> Window:
        """The window metrics and changes are read over (see the module docstring)."""
        w, b = self.window, self.baseline
        if b is not None and b.start < w.start and b.end <= w.end and w.start - b.end <= w.duration:
            return Window(b.start, w.end)
        return Window(w.start - w.duration, w.end)

    @property
    def change_window(self) -> Window:
        """What the change timeline is read over: the context window, reaching back at least
        :data:`CHANGE_LOOKBACK` before the incident starts."""
        ctx = self.context
        return Window(min(ctx.start, self.window.start - CHANGE_LOOKBACK), ctx.end)

    def _window(self, which: Any) -> Window:
        if isinstance(which, Window):
            return which
        if which in (None, "incident"):
            return self.window
        if which == "baseline":
            if self.baseline is None:
                raise ParameterError("this investigation has no baseline window; pass baseline= when creating it")
            return self.baseline
        if which == "context":
            return self.context
        if isinstance(which, (tuple, list)) and len(which) == 2:
            return Window.parse(which[0], which[1])
        raise ParameterError(f"window {which!r} is not understood; use 'incident', 'baseline', 'context' or a Window")

    def _log_windows(self) -> list[tuple[str, Window]]:
        out = [("incident", self.window)]
        if self.baseline is not None:
            out.append(("baseline", self.baseline))
        return out

    def _metric_windows(self) -> list[Window]:
        ctx = self.context
        out = [ctx]
        if self.baseline is not None and not (ctx.start <= self.baseline.start and self.baseline.end <= ctx.end):
            out.append(self.baseline)
        return out

    def _change_windows(self) -> list[Window]:
        cw, b = self.change_window, self.baseline
        if b is not None and not (cw.start <= b.start and b.end <= cw.end):
            return [cw, b]  # the same change on a baseline day that went well is worth seeing
        return [cw]
