"""The investigation's own evidence and the findings: what is read for them, once, and kept.

The one place of the contract (see :class:`OwnEvidence`): the collect steps own the evidence,
the findings are a pure function of it, and both are forgotten when the window or the
resources change.

The state of an investigation, all set by :meth:`OwnEvidence._reset_state`:

``_raw``
    Every frame read so far by its name (:meth:`~incidentkit.investigation.replay.Replay._get`:
    one read or fetch per name).
``_parsed``
    Parsed logs and their requests by frame name (``logs``, ``requests``).
``_read``
    The names read, in order (:attr:`frames_read`); never what the findings read.
``_evidence``, ``_evidence_of``, ``_findings``
    The investigation's own evidence by collect step, the definition it was read for, and
    the findings computed from it.
"""

from __future__ import annotations

import json
import warnings
from typing import Any

import pandas as pd

from ..analyses.signatures import error_line_candidates, error_lines_of, window_signatures
from ..errors import AwsError, EvidenceError, IncompleteDataWarning, NoCredentialsError, NotFoundError, ParameterError
from ..findings.model import Inputs
from ..findings.registry import detect
from .replay import _concat

__all__ = ["OwnEvidence"]


class OwnEvidence:
    """What the findings read, and the findings, of :class:`~incidentkit.investigation.Investigation`
    (a part of it: ``self`` is the investigation)."""

    # The findings are a function of the investigation's own evidence alone: the logs of its
    # log groups in the incident and the baseline windows, the metrics of its resources over
    # the context, the change timeline and the health snapshot. Each is read once (the first
    # call that needs it: collect, inputs or findings) and kept in ``_evidence``; a frame fetched
    # for another purpose (``logs("/other")``, ``metrics("dynamodb_table", "t")``, a pattern, a
    # window of one's own) is recorded in the bundle but never becomes an input, so what a
    # person looks at first can never change what the investigation concludes.

    def _reset_state(self) -> None:
        """Start with nothing read and nothing concluded (frames already in the bundle stay there)."""
        self._raw: dict[str, pd.DataFrame] = {}
        self._parsed: dict[str, pd.DataFrame] = {}
        self._read: dict[str, None] = {}
        self._evidence: dict[str, Any] = {}
        self._evidence_of: str | None = None
        self._findings: Any = None

    def _definition(self) -> str:
        """What the evidence is read for: the windows and the resources (as one comparable text)."""
        return json.dumps({"window": self.window.to_dict(), "baseline": self.baseline.to_dict() if self.baseline else None,
                           "resources": self.resources}, sort_keys=True, default=str)

    def _own_evidence(self) -> dict[str, Any]:
        """The evidence read so far for the current definition; forgotten when the definition changed."""
        definition = self._definition()
        if definition != self._evidence_of:
            self._evidence, self._findings, self._evidence_of = {}, None, definition
        return self._evidence

    def _own_logs(self, which: str) -> tuple[str, pd.DataFrame] | None:
        """``(key, parsed)`` of the investigation's logs in ``which`` window; None when there are none to read."""
        key, raw = self._logs_frame(None, pattern=None, window=which, limit=None)
        s3 = self._s3_logs_frame(self._window(which), held=key.split("+"))
        if s3 is not None:
            key, raw = (s3[0], s3[1]) if key == "empty" else (f"{key}+{s3[0]}", _concat([raw, s3[1]], "events"))
        return None if key == "empty" else (key, self._parsed_logs(key, raw))

    def _own_error_lines(self) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame] | None:
        """The error lines (:func:`~incidentkit.analyses.signatures.error_lines`) of the logs just collected: of the
        window, of the baseline window, and of both together (baseline first: what the generic findings read),
        each line read once; None without logs."""
        logs, base = self._evidence.get("logs"), self._evidence.get("baseline logs")
        if not logs:
            return None
        inc, before = error_line_candidates(logs[1]), error_line_candidates(base[1] if base else None)
        return error_lines_of(inc), error_lines_of(before), error_lines_of(before, inc)

    def _own_signatures(self) -> pd.DataFrame | None:
        """The error signatures of the logs just collected (see :meth:`signatures`); None without logs."""
        logs, base = self._evidence.get("logs"), self._evidence.get("baseline logs")
        if not logs:
            return None
        lines = self._evidence.get("error lines")
        return window_signatures(
            logs[1], base[1] if base else None,
            self._requests_of(*logs) if len(logs[1]) else None,
            self._requests_of(*base) if base and len(base[1]) else None,
            window=self.window, baseline_window=self.baseline if base else None, lines=lines[:2] if lines else None)

    def signatures(self) -> pd.DataFrame:
        """What is new in the logs: the message templates of the error lines of the incident window,
        new ones first, then those that grew against the baseline window (with a masked example line).

        A collect step like the logs (see :meth:`collect`): computed once from the investigation's
        own logs, kept with its evidence, and what the ``error-spike`` finding reads — so the
        findings stay a pure function of the evidence. Columns:
        :data:`incidentkit.analyses.signatures.SIGNATURE_COLUMNS`.

        Example
        -------
        >>> Investigation.sample("oom-after-deploy").signatures()[["template", "new"]].head(1)  # doctest: +SKIP
        """
        evidence = self._own_evidence()
        if "signatures" not in evidence:
            self.collect(metrics=False, changes=False, health=False)
        found = evidence.get("signatures")
        return found if found is not None else window_signatures(None, None)

    def _own_metrics(self) -> pd.DataFrame | None:
        """The metrics of the investigation's resources; None when it names none (and the bundle holds none)."""
        if not self._metric_ids() and not (self.offline and self._bundle_frames("metrics", None)):
            return None
        return self.metrics()

    def _evidence_steps(self, *, logs: bool, metrics: bool, changes: bool, health: bool) -> list[tuple[str, Any, bool]]:
        """``(name, read, replayable)``: a replayable read keeps what a failed fetch returned."""
        steps: list[tuple[str, Any, bool]] = []
        if logs:
            steps.append(("logs", lambda: self._own_logs("incident"), True))
            if self.baseline is not None:
                steps.append(("baseline logs", lambda: self._own_logs("baseline"), True))
            steps.append(("error lines", self._own_error_lines, False))
            steps.append(("signatures", self._own_signatures, False))
        if metrics:
            steps.append(("metrics", self._own_metrics, True))
            steps.append(("metric history", self.metric_history, True))
        if changes:
            steps.append(("changes", self.changes, True))
        if health and self._wants_health():
            steps.append(("health", self._recorded_or_live_health, False))
        return steps

    def _read_step(self, what: str, read: Any, replayable: bool) -> Any:
        try:
            return read()
        except (NoCredentialsError, NotFoundError, EvidenceError, ParameterError):
            raise
        except AwsError as exc:
            self._note(f"{what} could not be read: {exc}")
            warnings.warn(f"{what} could not be read: {exc}", IncompleteDataWarning, stacklevel=4)
        except ImportError as exc:  # a data-layer module missing from this install
            self._note(f"{what}: not available ({exc})")
            return None
        if not replayable:
            return None
        try:  # the failed fetch kept its frame (the rows read, or empty and marked incomplete): read that
            return read()
        except AwsError:
            return None

    def collect(self, *, logs: bool = True, metrics: bool = True, changes: bool = True, health: bool = True) -> "Investigation":
        """Fetch (or replay) everything the resources allow: logs of the incident and the
        baseline, metrics, the change timeline and the health snapshot.

        Each is read once: calling it again (or :meth:`findings`, which collects what is
        missing) reads nothing new. A source that cannot be read (access denied, a throttled
        API) is reported in :attr:`issues` and the data-quality appendix, and the others
        still come; missing credentials or a missing log group stop the investigation.
        """
        evidence = self._own_evidence()
        for what, read, replayable in self._evidence_steps(logs=logs, metrics=metrics, changes=changes, health=health):
            if what not in evidence:
                evidence[what] = self._read_step(what, read, replayable)
        return self

    def inputs(self) -> Any:
        """What the detectors read (:class:`incidentkit.findings.Inputs`): the investigation's own
        evidence (see :meth:`collect`), whatever else was fetched or looked at before."""
        self.collect()
        ev = self._evidence
        logs, baseline_logs = ev.get("logs"), ev.get("baseline logs")
        health = dict(ev.get("health") or {})
        settings = health.pop("settings", None)
        return Inputs(
            window=self.window,
            baseline=self.baseline,
            logs=logs[1] if logs else None,
            baseline_logs=baseline_logs[1] if baseline_logs else None,
            requests=self._requests_of(*logs) if logs and len(logs[1]) else None,
            baseline_requests=self._requests_of(*baseline_logs) if baseline_logs and len(baseline_logs[1]) else None,
            metrics=ev.get("metrics"),
            metric_history=ev.get("metric history"),
            changes=ev.get("changes"),
            settings=settings,
            health=health,
            resources={k: v for k, v in self.resources.items() if k != "log_groups"},
            signatures=ev.get("signatures"),
            error_lines=ev["error lines"][2] if ev.get("error lines") else None,
        )

    def findings(self, **kwargs: Any) -> Any:
        """Run every applicable detector on the investigation's evidence; most likely cause first.

        A pure function of the evidence: the same result whatever was called before
        (:meth:`logs`, :meth:`requests`, an ad-hoc :meth:`metrics` ...). What is not read yet
        is collected first (:meth:`collect`); the result is kept until the window or the
        resources change. Keyword arguments go to :func:`incidentkit.findings.detect`
        (``only=``, ``extra=``).

        Example
        -------
        >>> inv = Investigation.sample("cold-start-tail")                  # doctest: +SKIP
        >>> _ = inv.requests(); inv.findings() == Investigation.sample("cold-start-tail").findings()  # doctest: +SKIP
        True
        """
        self._own_evidence()
        if self._findings is not None and not kwargs:
            return self._findings
        result = detect(self.inputs(), **kwargs)
        result.inconclusive = self.bundle.unread_primary()
        if not kwargs:
            self._findings = result
        return result

    @property
    def computed_findings(self) -> Any:
        """The findings of the last :meth:`findings` call (a FindingList), or None before one: never runs a detector."""
        return self._findings

    @property
    def frames_read(self) -> list[str]:
        """The evidence frames read so far (by any call), in the order first read."""
        return list(self._read)
