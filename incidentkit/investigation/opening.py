"""Opening an investigation: a saved one (:meth:`Opening.open`), the one a template's parameters
describe (:meth:`Opening.from_parameters`) or a bundled sample (:meth:`Opening.sample`), whose
frames are written into the bundle under the names the investigation's own calls ask for."""

from __future__ import annotations

import difflib
import os
import shutil
import tempfile
import weakref
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from .. import samples as _samples
from .. import schema
from ..errors import EvidenceError, ParameterError
from ..evidence import EvidenceBundle
from ..fetch.metric_presets import HISTORY_SPAN_DAYS, history_queries
from ..fetch.s3logs import collect as s3collect
from ..parse import batches
from ..samples._s3alb import ObjectStore
from ..window import TimeLike, Window
from .resources import _clean_resources

__all__ = ["Opening"]


class Opening:
    """The ways to open an :class:`~incidentkit.investigation.Investigation` but its constructor (a part
    of it: ``self`` is the investigation, ``cls`` its class)."""

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, offline: bool = True, **access: Any) -> "Investigation":
        """Reopen a saved investigation (an evidence bundle, or a run folder) — offline by default.

        Example
        -------
        >>> inv = Investigation.open("runs/triage-20260301T031500Z-3f2a1c")     # doctest: +SKIP
        >>> inv.findings().top.id                                              # doctest: +SKIP
        """
        bundle = EvidenceBundle.open(path)
        ctx = bundle.context
        win = ctx.get("window")
        if not win:
            raise EvidenceError(
                f"{bundle.path} holds no investigation window (it was not written by an Investigation); "
                "open it with EvidenceBundle.open instead",
                path=str(bundle.path),
            )
        inv = cls.__new__(cls)
        inv.window = Window.from_dict(win)
        inv.baseline = Window.from_dict(ctx["baseline"]) if ctx.get("baseline") else None
        inv.region = access.get("region", ctx.get("region"))
        inv.profile = access.get("profile")
        inv.endpoint_url = access.get("endpoint_url")
        inv.offline = offline
        inv._session = access.get("session")
        inv._own_tmp = None
        inv.bundle = bundle
        inv.resources = _clean_resources(ctx.get("resources"))
        inv.sample_name = ctx.get("sample")
        inv.issues = list(ctx.get("issues") or [])
        inv._replayed_from = str(bundle.path)
        inv._reset_state()
        return inv

    @classmethod
    def from_parameters(
        cls,
        *,
        sample: str | None = None,
        start: TimeLike | None = None,
        end: TimeLike | None = None,
        baseline_start: TimeLike | None = None,
        baseline_end: TimeLike | None = None,
        baseline: Any = None,
        resources: Mapping[str, Any] | None = None,
        region: str | None = None,
        profile: str | None = None,
        endpoint_url: str | None = None,
        evidence: str | os.PathLike[str] | None = None,
        offline: bool = False,
    ) -> "Investigation":
        """Build the investigation a template's parameters describe.

        * ``sample`` set: open that bundled sample (written into ``evidence`` when given);
        * ``evidence`` holding a recorded investigation and no window: reopen it (``offline``
          as given; the resources it recorded, overridden by those given);
        * otherwise: a live investigation of ``start``/``end`` recording into ``evidence``.

        Example
        -------
        >>> inv = Investigation.from_parameters(sample="cold-start-tail")          # doctest: +SKIP
        """
        given = _clean_resources(resources)
        if sample:
            inv = cls.sample(sample, evidence=evidence)
            inv.resources.update({k: v for k, v in given.items() if k not in inv.resources})
            return inv
        if baseline is None and baseline_start is not None and baseline_end is not None:
            baseline = (baseline_start, baseline_end)
        recorded: dict[str, Any] = {}
        if evidence is not None and (Path(evidence) / "manifest.json").exists():
            recorded = EvidenceBundle.open(evidence).context
        if start is None or end is None:
            if not recorded.get("window"):
                raise ParameterError("give start and end (or sample=NAME, or evidence=<a recorded bundle>)")
            inv = cls.open(evidence, offline=offline, region=region, profile=profile, endpoint_url=endpoint_url)  # type: ignore[arg-type]
            inv.resources.update(given)
            inv._save_context()
            return inv
        same_window = recorded.get("window") == Window.parse(start, end, allow_future=True).to_dict()
        if baseline is None and recorded.get("baseline") and same_window:
            baseline = Window.from_dict(recorded["baseline"])
        merged = _clean_resources(recorded.get("resources"))
        merged.update(given)
        inv = cls(start, end, baseline=baseline, region=region, profile=profile, endpoint_url=endpoint_url,
                  evidence=evidence, offline=offline, resources=merged)
        if same_window:  # the recorded investigation goes on: its source and its issues still hold
            inv.sample_name = recorded.get("sample")
            inv._replayed_from = str(inv.bundle.path)
            inv.issues = list(recorded.get("issues") or [])
            inv._save_context()
        return inv

    @classmethod
    def sample(cls, name: str, *, evidence: str | os.PathLike[str] | None = None) -> "Investigation":
        """Open a bundled sample incident (by sample name or by finding id), offline.

        The sample's frames are written into an evidence bundle (``evidence``, or a private
        temporary folder) under exactly the names the investigation's own calls ask for,
        so every method works on it as on a live incident, and a run made from it replays.

        Example
        -------
        >>> inv = Investigation.sample("version-skew-errors")     # doctest: +SKIP
        >>> inv.logs().shape[0] > 0                                # doctest: +SKIP
        True
        """
        if name in _samples.names():
            smp = _samples.load(name)
        else:
            ids = {str(i) for i in _samples.catalog()["finding_id"].dropna()}
            if name not in ids:
                close = difflib.get_close_matches(str(name), _samples.names() + sorted(ids), n=1)
                hint = f"did you mean {close[0]!r}? " if close else ""
                raise ParameterError(f"no bundled sample or finding id {name!r}; {hint}samples: {', '.join(_samples.names())}")
            smp = _samples.find(name)
        window = smp.window if isinstance(smp.window, Window) else Window.from_dict(dict(smp.window)) if isinstance(smp.window, Mapping) else Window(*smp.window)
        baseline = smp.baseline
        if baseline is not None and not isinstance(baseline, Window):
            baseline = Window.from_dict(dict(baseline)) if isinstance(baseline, Mapping) else Window(*baseline)
        params = dict(smp.parameters)
        region = params.pop("region", None)
        resources = _clean_resources(params)
        if not resources.get("log_groups") and smp.events is not None and len(smp.events):
            resources["log_groups"] = sorted(pd.unique(smp.events["log_group"].astype(str)))
        bundle_path = evidence if evidence is not None else tempfile.mkdtemp(prefix=f"incidentkit-sample-{smp.name}-")
        bundle = EvidenceBundle(bundle_path)
        inv = cls.__new__(cls)
        inv.window, inv.baseline = window, baseline
        inv.region, inv.profile, inv.endpoint_url = region, None, None
        inv.offline = True
        inv._session = None
        inv._own_tmp = str(bundle_path) if evidence is None else None
        if inv._own_tmp:
            _remove_when_gone(inv, inv._own_tmp)
        inv.bundle = bundle
        inv.resources = resources
        inv.sample_name = smp.name
        inv.issues = []
        inv._replayed_from = None
        inv._reset_state()
        inv._write_sample(smp)
        inv._save_context()
        return inv

    def _write_sample(self, smp: Any) -> None:
        def prov(source: str, window: Window, rows: int, **query: Any) -> dict[str, Any]:
            return schema.provenance(
                f"sample:{smp.name}", query={"sample": smp.name, "as": source, **query}, window=window, region=None,
                complete=True, rows=rows,
            )

        events = smp.events if smp.events is not None else schema.empty_frame("events")
        groups = self.resources.get("log_groups") or []
        for role, win in self._log_windows():
            part = events[(events["timestamp"] >= win.start) & (events["timestamp"] < win.end)].reset_index(drop=True)
            part.attrs = prov("logs.events", win, len(part), log_groups=groups)
            self.bundle.record(self._logs_key(groups, None, win), part, kind="logs")
        if getattr(smp, "s3_objects", None):  # logs the sample keeps in S3: read through the S3 reader
            store = ObjectStore(smp.s3_bucket, smp.s3_objects)
            for _, win in self._log_windows():
                key = self._s3_key(win)
                frame = self._record_s3(key, s3collect.collect_store(store, self.resources, win, parser=batches))
                frame.attrs.update(source=f"sample:{smp.name}")
                self.bundle.record(key, frame, kind="logs")
        metrics_df = smp.metrics if getattr(smp, "metrics", None) is not None else schema.empty_frame("metrics")
        qs_ids = self._metric_ids()
        for win in self._metric_windows():
            part = metrics_df[(metrics_df["timestamp"] >= win.start) & (metrics_df["timestamp"] < win.end)].reset_index(drop=True)
            part.attrs = prov("metrics.get", win, len(part), queries=qs_ids)
            self.bundle.record(self._metrics_key(qs_ids, win, None), part, kind="metrics")
        history = getattr(smp, "history", None)
        if history is not None and history_queries(self.resources):
            ids = [q.id for q in history_queries(self.resources)]
            win = Window(self.window.start - pd.Timedelta(days=HISTORY_SPAN_DAYS), self.window.start)
            part = history[(history["timestamp"] >= win.start) & (history["timestamp"] < win.end)].reset_index(drop=True)
            part.attrs = prov("metrics.get", win, len(part), queries=ids, purpose="history")
            self.bundle.record(self._history_key(ids, win), part, kind="metrics")
        changes_df = smp.changes if getattr(smp, "changes", None) is not None else schema.empty_frame("changes")
        kept = 0
        for win in self._change_windows():
            part = changes_df[(changes_df["timestamp"] >= win.start) & (changes_df["timestamp"] < win.end)].reset_index(drop=True)
            kept += len(part)
            part.attrs = prov("changes.timeline", win, len(part))
            self.bundle.record(self._changes_key(win), part, kind="changes")
        if len(changes_df) > kept:
            self.issues.append(f"sample {smp.name}: {len(changes_df) - kept} change(s) outside the windows read not included")
        if self._wants_health():
            settings = smp.settings if getattr(smp, "settings", None) is not None else schema.empty_frame("settings")
            settings = settings.copy()
            settings.attrs = prov("health.snapshot", self.window, len(settings), frame="settings")
            self.bundle.record(self._health_key("settings"), settings, kind="settings")
            for hname, frame in (getattr(smp, "health", None) or {}).items():
                f = frame.copy()
                f.attrs = prov("health.snapshot", self.window, len(f), frame=hname)
                self.bundle.record(self._health_key(hname), f, kind="health")

    def _save_context(self) -> None:
        self.bundle.set_context(
            window=self.window.to_dict(),
            baseline=self.baseline.to_dict() if self.baseline else None,
            context=self.context.to_dict(),
            region=self.region,
            resources=self.resources,
            sample=self.sample_name,
            issues=self.issues,
        )


def _remove_when_gone(inv: object, path: str) -> None:
    """A private temporary bundle (production data) goes with its investigation (``save()`` keeps one)."""
    weakref.finalize(inv, shutil.rmtree, path, True)
