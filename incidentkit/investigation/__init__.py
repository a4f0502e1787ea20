"""One incident under investigation: the window, AWS access and the evidence, in one object.

:class:`Investigation` is what a notebook (or a person in JupyterLab at 3 AM) works
with. Its methods fetch the evidence — :meth:`~Investigation.logs`,
:meth:`~Investigation.metrics`, :meth:`~Investigation.changes`,
:meth:`~Investigation.health` — record every raw frame with its provenance into an
:class:`~incidentkit.evidence.EvidenceBundle`, and :meth:`~Investigation.findings` runs
the detectors on what was fetched.

The same calls replay offline: a frame already in the bundle is read from it (never
fetched twice), and ``offline=True`` makes no AWS call at all. So ``.save(path)`` /
``Investigation.open(path)`` pin an investigation and reopen it anywhere, and
``Investigation.sample("cold-start-tail")`` opens a bundled sample incident.

Windows
-------
``window``
    The incident window ``[start, end)``.
``baseline``
    The comparison window (optional): ``"previous"``, ``"day"``, ``"week"``, a
    :class:`~incidentkit.window.Window` or a ``(start, end)`` pair.
``context``
    What metrics are read over: from the baseline's start to the incident's end when the
    baseline lies just before the incident (the usual case), else the incident window with
    a lead-in of one incident length (and the baseline window on its own).
``change_window``
    What the change timeline is read over: the context, reaching back at least
    :data:`CHANGE_LOOKBACK` (12 h) before the incident — changes that *preceded* the
    incident are the first suspects, and the one behind it can be hours older than the
    first error.

Example
-------
>>> import incidentkit as ik
>>> inv = ik.Investigation.sample("cold-start-tail")            # doctest: +SKIP
>>> inv.findings().top.id                                       # doctest: +SKIP
'cold-start-tail'
>>> inv = ik.Investigation("2026-03-01T03:00Z", "2026-03-01T04:00Z", baseline="previous",
...                        region="eu-west-1")                  # doctest: +SKIP
>>> inv.logs(["/aws/lambda/api"])                                # doctest: +SKIP
>>> inv.save("evidence/")                                        # doctest: +SKIP
"""

from __future__ import annotations

import html
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from .._util import views
from .._util.fmt import iso as _iso
from .._util.fmt import source_text
from ..errors import EvidenceError, ParameterError
from ..evidence import EvidenceBundle, copy_bundle
from ..window import TimeLike, Window
from .changes import ChangeEvidence
from .health import HealthEvidence
from .logs import LogEvidence
from .metrics import MetricEvidence
from .opening import Opening, _remove_when_gone
from .own_evidence import OwnEvidence
from .replay import Replay
from .resources import RESOURCE_PARAMETERS, _clean_resources, check_access, metric_queries
from .windows import CHANGE_LOOKBACK, Windows

__all__ = ["Investigation", "RESOURCE_PARAMETERS", "CHANGE_LOOKBACK", "check_access", "metric_queries", "source_text"]


class Investigation(Opening, Windows, Replay, LogEvidence, MetricEvidence, ChangeEvidence, HealthEvidence, OwnEvidence):
    """An incident window, AWS access and an evidence bundle.

    Parameters
    ----------
    start, end:
        The incident window, in any accepted time form (ISO-8601, epoch, ``-2h``, ``now``).
    baseline:
        The comparison window: ``"previous"``, ``"day"``, ``"week"``, a ``Window`` or a
        ``(start, end)`` pair; ``None`` for none.
    region, profile, endpoint_url:
        AWS access (the standard boto3 chain otherwise).
    evidence:
        The evidence bundle folder. Frames already in it are read, not fetched; new ones
        are recorded into it. Default: a new private temporary folder (use :meth:`save`).
    offline:
        Make no AWS call: everything must come from ``evidence``.
    resources:
        Named resources (``log_groups``, ``function_name``, ``table_name`` ... see
        :data:`RESOURCE_PARAMETERS`) used when a method is called without arguments.
    session:
        A ``boto3.Session`` to use instead of ``profile``.

    Example
    -------
    >>> inv = Investigation("2026-03-01T03:00Z", "2026-03-01T04:00Z", baseline="previous")
    >>> str(inv.baseline)
    '2026-03-01T02:00:00Z → 2026-03-01T03:00:00Z (60 min)'
    >>> str(inv.context)
    '2026-03-01T02:00:00Z → 2026-03-01T04:00:00Z (2 h)'
    """

    def __init__(
        self,
        start: TimeLike,
        end: TimeLike,
        *,
        baseline: Any = None,
        region: str | None = None,
        profile: str | None = None,
        endpoint_url: str | None = None,
        evidence: str | os.PathLike[str] | EvidenceBundle | None = None,
        offline: bool = False,
        resources: Mapping[str, Any] | None = None,
        session: Any = None,
    ) -> None:
        self.offline = bool(offline)
        self.window = Window.parse(start, end, allow_future=self.offline)
        self.baseline = self._baseline(baseline)
        self.region = region
        self.profile = profile
        self.endpoint_url = endpoint_url
        self._session = session
        self._own_tmp: str | None = None
        if isinstance(evidence, EvidenceBundle):
            self.bundle = evidence
        elif evidence is not None:
            if offline:
                self.bundle = EvidenceBundle.open(evidence)
            else:
                self.bundle = EvidenceBundle(evidence)
        else:
            if offline:
                raise ParameterError("offline=True needs evidence=<bundle folder> (or use Investigation.open / .sample)")
            self._own_tmp = tempfile.mkdtemp(prefix="incidentkit-evidence-")
            self.bundle = EvidenceBundle(self._own_tmp)
            _remove_when_gone(self, self._own_tmp)
        self.resources: dict[str, Any] = _clean_resources(resources)
        self.sample_name: str | None = None
        self.issues: list[str] = []
        # offline from a folder the caller named: what the findings come from
        self._replayed_from = str(self.bundle.path) if self.offline else None
        self._reset_state()
        self._save_context()

    @property
    def source(self) -> str:
        """Where the evidence comes from (``findings.json``'s ``source``): ``sample:<name>`` for a
        bundled sample (also when replayed), ``evidence:<folder>`` for a recorded bundle replayed,
        ``aws`` for a live investigation.

        Example
        -------
        >>> Investigation.sample("cold-start-tail").source          # doctest: +SKIP
        'sample:cold-start-tail'
        """
        if self.sample_name:
            return f"sample:{self.sample_name}"
        if self._replayed_from:
            return f"evidence:{self._replayed_from}"
        return "aws"

    @property
    def parameters(self) -> dict[str, Any]:
        """What identifies this investigation (window, baseline, resources, sample, region)."""
        out: dict[str, Any] = {"start": _iso(self.window.start), "end": _iso(self.window.end)}
        if self.baseline is not None:
            out["baseline_start"], out["baseline_end"] = _iso(self.baseline.start), _iso(self.baseline.end)
        if self.sample_name:
            out["sample"] = self.sample_name
        if self.region:
            out["region"] = self.region
        out.update(self.resources)
        return out

    def data_quality(self) -> pd.DataFrame:
        """One row per recorded frame: rows, API calls, completeness (the report's appendix)."""
        return self.bundle.summary()

    # -- pinning -----------------------------------------------------------------------------

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Copy the evidence bundle to ``path`` (a new folder) and return it.

        Reopen it anywhere with :meth:`open` — offline, same findings.
        """
        dst = Path(path)
        self._save_context()
        if dst.resolve() == self.bundle.path.resolve():
            return dst
        if dst.exists() and any(dst.iterdir()):
            raise EvidenceError(f"{dst} exists and is not empty; save to a new folder", path=str(dst))
        if dst.exists():
            dst.rmdir()
        copy_bundle(self.bundle.path, dst)
        return dst

    def close(self) -> None:
        """Remove the private temporary bundle now, if this investigation made one (it also goes
        when the investigation is garbage-collected or the interpreter exits)."""
        if self._own_tmp:
            shutil.rmtree(self._own_tmp, ignore_errors=True)
            self._own_tmp = None

    def __enter__(self) -> "Investigation":
        return self

    def __exit__(self, *exc: Any) -> None:
        self._save_context()

    # -- display -----------------------------------------------------------------------------

    def __repr__(self) -> str:
        # window, source, evidence, findings (never fetches), drawn by incidentkit.render.display
        return views.show("investigation_repr", self, fallback=self._line())

    def __str__(self) -> str:
        return views.show("investigation_text", self, fallback=self._line())

    def _repr_html_(self) -> str:
        return views.show("investigation_html", self, fallback=f"<pre>{html.escape(self._line())}</pre>")

    def _line(self) -> str:
        return f"Investigation {_iso(self.window.start)} – {_iso(self.window.end)} ({self.source})"

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(repr(self))
