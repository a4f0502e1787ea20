"""The change timeline of an investigation: deploys, config and security changes over its change window."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..fetch import changes as _changes
from ..window import Window
from .replay import _concat

__all__ = ["ChangeEvidence"]


class ChangeEvidence:
    """The change-timeline methods of :class:`~incidentkit.investigation.Investigation` (a part of it: ``self`` is the investigation)."""

    def changes(self, *, window: Any = "context") -> pd.DataFrame:
        """The change timeline (``schema.CHANGE_COLUMNS``): deploys, config and security changes.

        Read over :attr:`change_window` by default: the context window, reaching back at
        least :data:`CHANGE_LOOKBACK` before the incident — the change behind an incident
        can be hours older than its first error (a nightly job hitting new code) — and
        over the baseline window too when it lies apart (e.g. the same hour a day before).
        """
        wins = self._change_windows() if window == "context" else [self._window(window)]
        frames = [self._changes_in(win) for win in wins]
        return frames[0] if len(frames) == 1 else _concat(frames, "changes")

    def _changes_in(self, win: Window) -> pd.DataFrame:
        key = self._changes_key(win)
        if self.offline and key not in self.bundle and key not in self._raw:
            names = self._bundle_frames("changes", win) or self._bundle_frames("changes", None)
            if names:
                return _concat([self._get(n, "changes", None) for n in names], "changes")

        def fetch() -> pd.DataFrame:
            res = {k: v for k, v in self.resources.items() if k != "log_groups"}
            return _changes.timeline(win, resources=res, **self._aws())

        return self._get(key, "changes", fetch, window=win)
