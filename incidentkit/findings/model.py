"""What a finding is: :class:`Finding`, the ranked :class:`FindingList`, the :class:`Inputs` detectors read.

A :class:`Finding` is what a report leads with: an id from incidents.md (the public
contract), a title, a severity, a one-paragraph summary, the evidence numbers a reader
can check, concrete remediation steps, and the changes that preceded it. The detectors
that find them, and :func:`~incidentkit.findings.registry.detect` that runs them, are in
:mod:`incidentkit.findings.registry`.

Example
-------
>>> f = Finding(id="cold-start-tail", title="Cold starts make the P99", severity="medium",
...             summary="82% of requests above P99 were cold starts.",
...             evidence={"cold_share_of_tail": 0.82}, remediation=["Enable provisioned concurrency"])
>>> f.to_dict()["evidence"]["cold_share_of_tail"]
0.82
"""

from __future__ import annotations

import html
import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Callable, Iterable, Mapping

import pandas as pd

from .._util import views
from .._util.fmt import iso
from .._util.severity import SEVERITIES, Severity, severity_rank
from ..window import Window

__all__ = [
    "Finding",
    "FindingList",
    "Inputs",
    "SEVERITIES",
    "Severity",
    "severity_rank",
]



def _clean_number(value: Any) -> Any:
    """Evidence values are numbers or strings; round floats for reading, NaN becomes None."""
    if isinstance(value, bool):
        return value
    if hasattr(value, "item") and callable(value.item):
        try:
            value = value.item()
        except (ValueError, TypeError):
            value = str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return None
        return round(value, 4) if abs(value) < 1e6 else round(value, 1)
    if isinstance(value, (int, str)) or value is None:
        return value
    if isinstance(value, pd.Timestamp):
        return iso(value)
    if isinstance(value, (list, tuple)):  # a list of records (a generic finding's signatures)
        return [{str(k): _clean_number(v) for k, v in x.items()} if isinstance(x, Mapping) else _clean_number(x) for x in value]
    return str(value)


@dataclass
class Finding:
    """One named cause with its evidence.

    Parameters
    ----------
    id:
        A finding id of incidents.md (``cold-start-tail``...), or an audit check id.
    title:
        One line a tired reader understands.
    severity:
        ``critical``, ``high``, ``medium``, ``low`` or ``info``.
    summary:
        What happened, with the numbers, in two or three sentences.
    evidence:
        The numbers (and short strings) behind the summary, by name.
    remediation:
        Concrete steps: the setting to change and to what, the code pattern to adopt.
    confidence:
        0..1, how strongly the evidence supports this cause; ranks findings.
    related_changes:
        The changes that can explain it (:func:`incidentkit.analyses.related.related_changes`):
        change-timeline rows (timestamp, event_name, actor, resource, ...) with ``api``,
        ``kind``, ``target``, ``lead_s`` and a blameless ``description``, most direct first.
    onset:
        When the signal started (UTC ISO), when known.
    """

    id: str
    title: str
    severity: str
    summary: str
    evidence: dict[str, Any] = field(default_factory=dict)
    remediation: list[str] = field(default_factory=list)
    confidence: float = 0.5
    related_changes: list[dict[str, Any]] = field(default_factory=list)
    onset: str | None = None

    def __post_init__(self) -> None:
        severity_rank(self.severity)
        self.confidence = float(min(1.0, max(0.0, self.confidence)))
        self.evidence = {str(k): _clean_number(v) for k, v in self.evidence.items()}

    def to_dict(self) -> dict[str, Any]:
        """The ``findings.json`` form of this finding."""
        d = asdict(self)
        d["related_changes"] = [{k: _clean_number(v) for k, v in c.items()} for c in self.related_changes]
        return d

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Finding":
        """Inverse of :meth:`to_dict`."""
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})

    def _repr_html_(self) -> str:
        # a card: severity colour, evidence, remediation (drawn by incidentkit.render.display)
        return views.show("finding_html", self, fallback=f"<pre>{html.escape(self._line())}</pre>")

    def __str__(self) -> str:
        return views.show("finding_text", self, fallback=self._line())  # the same card as plain text (terminal)

    def _line(self) -> str:
        return f"[{self.severity}] {self.id}: {self.title}"

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(str(self))


class FindingList(list):
    """A ranked list of :class:`Finding` with the detectors' own troubles attached.

    ``errors`` maps a detector id to the one-line reason it could not run (a bug or an
    input it did not expect): shown in the report, never swallowed. ``inconclusive`` says
    why the primary evidence could not be read (then an empty list rules nothing out).
    """

    def __init__(self, items: Iterable[Finding] = (), *, errors: Mapping[str, str] | None = None,
                 skipped: Mapping[str, str] | None = None, inconclusive: str | None = None) -> None:
        super().__init__(items)
        self.errors: dict[str, str] = dict(errors or {})
        self.skipped: dict[str, str] = dict(skipped or {})
        self.inconclusive = inconclusive

    @property
    def top(self) -> Finding | None:
        """The most likely cause, or None."""
        return self[0] if self else None

    def at_least(self, severity: str) -> "FindingList":
        """Findings of ``severity`` or worse."""
        limit = severity_rank(severity)
        return FindingList([f for f in self if severity_rank(f.severity) <= limit], errors=self.errors,
                           inconclusive=self.inconclusive)

    def to_dicts(self) -> list[dict[str, Any]]:
        """The ``findings`` array of ``findings.json``."""
        return [f.to_dict() for f in self]

    def _repr_html_(self) -> str:
        # ranked table + cards, most likely cause first (drawn by incidentkit.render.display)
        return views.show("findings_html", self, fallback=f"<pre>{html.escape(self._lines())}</pre>")

    def __str__(self) -> str:
        return views.show("findings_text", self, fallback=self._lines())  # the same, as plain text (terminal)

    def _lines(self) -> str:
        return "\n".join(f._line() for f in self) or "no finding"

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text("[...]" if cycle else str(self))

    def to_frame(self) -> pd.DataFrame:
        """One row per finding: rank, id, severity, confidence, title."""
        rows = [
            {"rank": i + 1, "id": f.id, "severity": f.severity, "confidence": f.confidence, "title": f.title}
            for i, f in enumerate(self)
        ]
        return pd.DataFrame(rows, columns=["rank", "id", "severity", "confidence", "title"])


@dataclass
class Inputs:
    """What detectors read. Every frame is optional; a detector skips what it lacks.

    Parameters
    ----------
    window:
        The incident window.
    baseline:
        The comparison window, when there is one.
    logs:
        Parsed log events (``parsers.parse``) of the incident window.
    baseline_logs:
        Parsed log events of the baseline window.
    requests:
        One row per request (``parsers.requests``); derived from ``logs`` when missing.
    baseline_requests:
        The same for the baseline window.
    metrics:
        Long metrics frame (``metrics.get``), may cover baseline and incident.
    metric_history:
        A longer, coarser history before the incident (``metrics.history_window``: a week at
        5 minutes), for questions only days of data answer (a daily job behind a burst).
    changes:
        The change timeline (``changes.timeline``).
    settings:
        Configuration settings (``schema.SETTING_COLUMNS``), e.g. from ``health.snapshot``.
    health:
        Health snapshot frames by name (``summary``, ``targets``, ...).
    resources:
        The resources the investigation names (``function_name``, ``table_name``,
        ``load_balancer``, ``security_group_ids`` ... in any form AWS documents): with what the
        evidence itself names, what a finding's related changes are matched against.
    signatures:
        The error signatures of the window against the baseline window
        (:func:`incidentkit.analyses.signatures.window_signatures`), when the investigation
        collected them; ``error-spike`` mines them from ``logs`` otherwise.
    error_lines:
        The error lines of ``baseline_logs`` and ``logs`` together, baseline first
        (:func:`incidentkit.analyses.signatures.error_lines` of the two frames concatenated), when
        the investigation read them already (it reads each line once, for the signatures and the
        findings); the generic findings read them from the logs otherwise. They must be the lines
        of these very frames.
    """

    window: Window | None = None
    baseline: Window | None = None
    logs: pd.DataFrame | None = None
    baseline_logs: pd.DataFrame | None = None
    requests: pd.DataFrame | None = None
    baseline_requests: pd.DataFrame | None = None
    metrics: pd.DataFrame | None = None
    metric_history: pd.DataFrame | None = None
    changes: pd.DataFrame | None = None
    settings: pd.DataFrame | None = None
    health: dict[str, pd.DataFrame] = field(default_factory=dict)
    resources: dict[str, Any] = field(default_factory=dict)
    signatures: pd.DataFrame | None = None
    error_lines: pd.DataFrame | None = None
    #: What :meth:`shared` computed, by name, with the inputs it was computed from.
    _shared: dict[str, tuple[tuple[Any, ...], Any]] = field(default_factory=dict, init=False, repr=False, compare=False)

    def shared(self, name: str, compute: Callable[["Inputs"], Any]) -> Any:
        """``compute(self)``, computed once per set of inputs and shared by every detector that asks by ``name``.

        An intermediate several detectors build from the same frames (the requests of both
        windows with their dimensions, say) is built by the first that asks. It is kept with the
        frames it was built from and built again when any field was replaced since, so a
        detector reading it sees what a fresh computation would give: findings stay a pure
        function of the evidence. Detectors must not modify what it returns.

        Example
        -------
        >>> ins = Inputs()
        >>> ins.shared("n", lambda i: [1]) is ins.shared("n", lambda i: [2])
        True
        """
        current = tuple(getattr(self, f.name) for f in fields(self) if f.init)
        held = self._shared.get(name)
        if held is not None and len(held[0]) == len(current) and all(a is b for a, b in zip(held[0], current)):
            return held[1]
        value = compute(self)
        self._shared[name] = (current, value)
        return value

    def has(self, *names: str) -> bool:
        """Whether each named input is present and non-empty."""
        for n in names:
            v = getattr(self, n)
            if v is None or (isinstance(v, pd.DataFrame) and v.empty) or (isinstance(v, dict) and not v):
                return False
        return True
