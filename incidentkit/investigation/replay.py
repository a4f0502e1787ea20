"""Every frame of an investigation by name: read from memory or the evidence bundle, else
fetched from AWS and recorded, so a replay asks for, and finds, the same names.

:meth:`Replay._get` is the one place a frame is read or fetched: a frame already read is
kept in memory, one in the bundle is read from it (offline, or when it was complete), and a
failed fetch records what it got (marked incomplete) before the error goes on.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import pandas as pd

from .. import schema
from .._util.fmt import iso as _iso
from ..errors import EvidenceError, IncidentKitError, NoCredentialsError, NotFoundError, ParameterError
from ..evidence import frame_key
from ..fetch import aws
from ..fetch.s3logs.discover import RESOURCE_KEYS as S3_RESOURCE_KEYS
from ..window import Window
from .resources import metric_queries

__all__ = ["Replay"]

_FRAME_KIND = {"logs": "events", "metrics": "metrics", "changes": "changes", "settings": "settings"}


def _concat(frames: Sequence[pd.DataFrame], kind: str) -> pd.DataFrame:
    frames = [f for f in frames if f is not None]
    if not frames:
        return schema.empty_frame(kind)
    if len(frames) == 1:
        return frames[0]
    nonempty = [f for f in frames if len(f)] or frames[:1]
    out = schema.concat(nonempty, ignore_index=True, sort=False)
    if "timestamp" in out.columns:
        out = out.sort_values("timestamp", kind="stable").reset_index(drop=True)
    attrs = dict(frames[0].attrs)
    attrs["complete"] = all(bool(f.attrs.get("complete", True)) for f in frames)
    attrs["truncated"] = any(bool(f.attrs.get("truncated", False)) for f in frames)
    attrs["issues"] = [i for f in frames for i in (f.attrs.get("issues") or [])]
    attrs["api_calls"] = sum(int(f.attrs.get("api_calls") or 0) for f in frames)
    attrs["parts"] = len(frames)
    out.attrs = attrs
    return out


class Replay:
    """Frame names and the fetch/replay core of :class:`~incidentkit.investigation.Investigation`
    (a part of it: ``self`` is the investigation)."""

    # -- keys (a replay asks for the same names) -------------------------------------------

    @staticmethod
    def _logs_key(groups: Sequence[str], pattern: str | None, win: Window, limit: int | None = None) -> str:
        # a limited read is another frame: it must never stand in for the whole window's logs
        extra = {} if limit is None else {"limit": int(limit)}
        return frame_key("logs", log_groups=list(groups), pattern=pattern, start=_iso(win.start), end=_iso(win.end), **extra)

    @staticmethod
    def _metrics_key(ids: Sequence[str], win: Window, period: int | None) -> str:
        return frame_key("metrics", queries=list(ids), start=_iso(win.start), end=_iso(win.end), period=period)

    @staticmethod
    def _history_key(ids: Sequence[str], win: Window) -> str:
        # no period in the name: the period follows the data's age, and a recording replays whenever it is opened
        return frame_key("metrics", queries=list(ids), start=_iso(win.start), end=_iso(win.end), purpose="history")

    def _changes_key(self, win: Window) -> str:
        res = {k: v for k, v in self.resources.items() if k != "log_groups"}
        return frame_key("changes", resources=res, start=_iso(win.start), end=_iso(win.end))

    def _health_key(self, name: str) -> str:
        res = {k: v for k, v in self.resources.items() if k != "log_groups"}
        return frame_key("health", frame=name, resources=res)

    def _s3_key(self, win: Window) -> str | None:
        """The frame name of the window's S3 logs (None when no resource names any)."""
        res = {k: v for k, v in self.resources.items() if k in S3_RESOURCE_KEYS}
        return frame_key("logs", s3=res, start=_iso(win.start), end=_iso(win.end)) if res else None

    def _metric_ids(self, period: int | None = None) -> list[str]:
        if not any(k in self.resources for k in ("function_name", "api_id", "load_balancer", "target_group_arn", "table_name",
                                                  "db_instance", "health_check_id", "instance_ids")):
            return []
        return [q.id for q in metric_queries(self.resources, period=period)]

    def _wants_health(self) -> bool:
        return any(k in self.resources for k in ("function_name", "load_balancer", "target_group_arn", "table_name",
                                                  "db_instance", "health_check_id", "security_group_ids", "api_id"))

    # -- the fetch/replay core ---------------------------------------------------------------

    def _session_obj(self) -> Any:
        if self._session is None and self.profile:
            self._session = aws.profile_session(self.profile)
        return self._session

    def _aws(self) -> dict[str, Any]:
        return {"session": self._session_obj(), "region": self.region, "endpoint_url": self.endpoint_url}

    def _get(self, key: str, kind: str, fetch: Any, *, window: Window | None = None) -> pd.DataFrame:
        """Read ``key`` from memory or the bundle, or fetch it live and record it."""
        if key in self._raw:
            self._use(key)
            return self._raw[key]
        if key in self.bundle:
            entry = self.bundle.entry(key)
            if self.offline or (entry.get("attrs") or {}).get("complete", True):
                df = self.bundle.load(key)
                self._raw[key] = df
                self._use(key)
                return df
        if self.offline:
            raise EvidenceError(
                f"the evidence bundle has no {kind} frame for this request ({key}); it holds: "
                f"{', '.join(self.bundle.names()) or 'nothing'}. Run it once against AWS to record it",
                path=str(self.bundle.path),
            )
        try:
            df = fetch()
        except IncidentKitError as exc:
            partial = getattr(exc, "partial", None)
            if isinstance(partial, pd.DataFrame) and len(partial):
                kept = partial.copy()
                kept.attrs = dict(partial.attrs)
                what = f"fetch failed after {len(kept):,} rows: {exc}"
            elif isinstance(exc, (NoCredentialsError, NotFoundError, ParameterError)):
                raise  # nothing was read and nothing can be: no frame to keep
            elif isinstance(partial, pd.DataFrame):  # empty, but its attrs count the calls and retries made
                kept = partial.copy()
                kept.attrs = dict(partial.attrs)
                what = f"fetch failed: {exc}"
            else:
                # nothing came back: an empty frame, marked incomplete, so the report and a replay
                # say this source is missing instead of silently showing nothing
                kept = schema.empty_frame(_FRAME_KIND[kind]) if kind in _FRAME_KIND else pd.DataFrame()
                kept.attrs = schema.provenance(f"{kind} (failed)", window=window, region=self.region)
                what = f"fetch failed: {exc}"
            kept.attrs["complete"] = False
            kept.attrs["issues"] = list(kept.attrs.get("issues") or []) + [what]
            self.bundle.record(key, kept, kind=kind)
            self._raw[key] = kept
            self._use(key)
            self._note(f"{kind}: {what}")
            raise
        self.bundle.record(key, df, kind=kind)
        self._raw[key] = df
        self._use(key)
        return df

    def _use(self, key: str) -> None:
        """Note that frame ``key`` was read (what :meth:`frames_read` lists; never what the findings read)."""
        self._read.setdefault(key, None)

    def _note(self, issue: str) -> None:
        if issue not in self.issues:
            self.issues.append(issue)
            self.bundle.set_context(issues=self.issues)

    def _bundle_frames(self, kind: str, win: Window | None) -> list[str]:
        """Frames of ``kind`` in the bundle recorded for ``win`` (any window when None)."""
        names = []
        for name in self.bundle.find(kind):
            w = (self.bundle.entry(name).get("attrs") or {}).get("window")
            if win is None or (isinstance(w, Mapping) and w.get("start") == _iso(win.start) and w.get("end") == _iso(win.end)):
                names.append(name)
        return names
