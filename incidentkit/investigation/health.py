"""The health and configuration snapshot of an investigation's resources (live: their state
now, recorded so a replay sees what the run saw)."""

from __future__ import annotations

import pandas as pd

from ..errors import EvidenceError
from ..fetch import health as _health

__all__ = ["HealthEvidence"]


class HealthEvidence:
    """The health methods of :class:`~incidentkit.investigation.Investigation` (a part of it: ``self`` is the investigation)."""

    def health(self) -> dict[str, pd.DataFrame]:
        """Health and configuration snapshot of the named resources.

        Returns the frames by name (``summary``, ``settings``, ...). Live, this is the
        state *now* (describe calls), recorded so a replay sees what the run saw.
        """
        res = {k: v for k, v in self.resources.items() if k != "log_groups"}
        names_key = self._health_key("settings")
        if names_key in self._raw or names_key in self.bundle:
            out = {"settings": self._get(names_key, "settings", None)}
            wanted = {self._health_key(n): n for n in self._recorded_health_names()}
            for key, hname in wanted.items():
                out[hname] = self._get(key, "health", None)
            return out
        if self.offline:
            if not self._wants_health():
                return {}
            raise EvidenceError("the evidence bundle has no health snapshot for these resources", path=str(self.bundle.path))
        res = {k: v for k, v in res.items() if k in _health.RESOURCE_KEYS}
        if not res:
            return {}
        snap = _health.snapshot(res, **self._aws())
        out: dict[str, pd.DataFrame] = {}
        settings = getattr(snap, "settings", None)
        if settings is not None:
            self.bundle.record(names_key, settings, kind="settings")
            self._raw[names_key] = settings
            self._use(names_key)
            out["settings"] = settings
        frames = dict(getattr(snap, "frames", {}) or {})
        summary = getattr(snap, "summary", None)
        if isinstance(summary, pd.DataFrame):
            frames.setdefault("summary", summary)
        for hname, frame in frames.items():
            if not isinstance(frame, pd.DataFrame):
                continue
            key = self._health_key(hname)
            self.bundle.record(key, frame, kind="health")
            self._raw[key] = frame
            self._use(key)
            out[hname] = frame
        self.bundle.set_context(health_frames=sorted(out))
        return out

    def _recorded_or_live_health(self) -> dict[str, pd.DataFrame] | None:
        """The health step of :meth:`collect`: a bundle recorded without a health snapshot replays
        without one (said in :attr:`issues`), where :meth:`health` asked directly refuses."""
        if self.offline and self._health_key("settings") not in self.bundle:
            self._note("health: the evidence bundle holds no health snapshot (recorded without one); "
                       "the checks that need it are not run")
            return None
        return self.health()

    def _recorded_health_names(self) -> list[str]:
        names = [n for n in (self.bundle.context.get("health_frames") or []) if n != "settings"]
        if names:
            return names
        # a sample bundle: the frames of kind health whose query names them
        out = []
        for key in self.bundle.find("health"):
            q = (self.bundle.entry(key).get("attrs") or {}).get("query") or {}
            if q.get("frame") and self._health_key(q["frame"]) == key:
                out.append(q["frame"])
        return out
