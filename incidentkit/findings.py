"""Findings: causes named with their evidence and remediation, and the detectors that find them.

A :class:`Finding` is what a report leads with: an id from incidents.md (the public
contract), a title, a severity, a one-paragraph summary, the evidence numbers a reader
can check, concrete remediation steps, and the changes that preceded it.

:func:`detect` runs every detector whose inputs are present and ranks the results:
the most likely cause first (by ``confidence``, then severity). Detectors are pure
functions ``detector(inputs: Inputs) -> Finding | list[Finding] | None`` that live next
to the analyses they use; the registry below names them by import string and imports
them only when :func:`detect` runs.

Example
-------
>>> f = Finding(id="cold-start-tail", title="Cold starts make the P99", severity="medium",
...             summary="82% of requests above P99 were cold starts.",
...             evidence={"cold_share_of_tail": 0.82}, remediation=["Enable provisioned concurrency"])
>>> f.to_dict()["evidence"]["cold_share_of_tail"]
0.82
"""

from __future__ import annotations

import importlib
import logging
import math
import traceback
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Iterable, Literal, Mapping, Sequence

import pandas as pd

from .masking import mask_text
from .window import Window

__all__ = [
    "Finding",
    "FindingList",
    "Inputs",
    "SEVERITIES",
    "FINDING_IDS",
    "DETECTORS",
    "GENERIC_FINDINGS",
    "detect",
    "severity_rank",
]

log = logging.getLogger(__name__)

Severity = Literal["critical", "high", "medium", "low", "info"]
SEVERITIES: tuple[str, ...] = ("critical", "high", "medium", "low", "info")

#: The finding ids of incidents.md (public contract) and the detector that finds each.
DETECTORS: dict[str, str] = {
    "version-skew-errors": "incidentkit.analyses.errors:detect_version_skew_errors",
    "cold-start-timeouts": "incidentkit.analyses.latency:detect_cold_start_timeouts",
    "cold-start-tail": "incidentkit.analyses.latency:detect_cold_start_tail",
    "healthcheck-blocked-by-change": "incidentkit.analyses.healthchecks:detect_healthcheck_blocked_by_change",
    "health-check-flapping": "incidentkit.analyses.healthchecks:detect_health_check_flapping",
    "connection-pool-leak": "incidentkit.analyses.saturation:detect_connection_pool_leak",
    "throttling-without-backoff": "incidentkit.analyses.throttling:detect_throttling_without_backoff",
    "scan-read-burst": "incidentkit.analyses.throttling:detect_scan_read_burst",
    "deregistration-delay-too-short": "incidentkit.analyses.deploys:detect_deregistration_delay_too_short",
    "partial-change-no-rollback": "incidentkit.analyses.deploys:detect_partial_change_no_rollback",
    "error-spike": "incidentkit.analyses.generic:detect_error_spike",
    "latency-regression": "incidentkit.analyses.generic:detect_latency_regression",
}
#: The generic findings (incidents.md, "Beyond the catalogue"): a catalogued cause that fits ranks above them.
GENERIC_FINDINGS: frozenset[str] = frozenset({"error-spike", "latency-regression"})
FINDING_IDS: tuple[str, ...] = tuple(DETECTORS)


def severity_rank(severity: str) -> int:
    """0 for critical … 4 for info (lower is more severe)."""
    try:
        return SEVERITIES.index(severity)
    except ValueError:
        raise ValueError(f"severity {severity!r} is not one of {SEVERITIES}") from None


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
        return value.isoformat().replace("+00:00", "Z")
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
        from .display import finding_html  # a card: severity colour, evidence, remediation

        return finding_html(self)

    def __str__(self) -> str:
        from .display import finding_text  # the same card as plain text (terminal)

        return finding_text(self)

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
        from .display import findings_html  # ranked table + cards, most likely cause first (Jupyter)

        return findings_html(self)

    def __str__(self) -> str:
        from .display import findings_text  # the same, as plain text (terminal)

        return findings_text(self)

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

    def has(self, *names: str) -> bool:
        """Whether each named input is present and non-empty."""
        for n in names:
            v = getattr(self, n)
            if v is None or (isinstance(v, pd.DataFrame) and v.empty) or (isinstance(v, dict) and not v):
                return False
        return True


Detector = Callable[[Inputs], "Finding | Sequence[Finding] | None"]


def _load(target: str) -> Detector:
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def _rank_key(f: Finding) -> tuple[float, int, str]:
    return (-f.confidence, severity_rank(f.severity), f.id)


def _ranked(found: Iterable[Finding]) -> list[Finding]:
    """Most likely cause first (:func:`_rank_key`); a generic finding ranks below every catalogued
    finding that fits (medium or worse), the catalogued findings keeping their order."""
    ordered = sorted(found, key=_rank_key)
    generic = [f for f in ordered if f.id in GENERIC_FINDINGS]
    rest = [f for f in ordered if f.id not in GENERIC_FINDINGS]
    fits = [i for i, f in enumerate(rest) if severity_rank(f.severity) <= severity_rank("medium")]
    floor = fits[-1] + 1 if fits else 0
    return rest[:floor] + sorted(generic + rest[floor:], key=_rank_key)


def detect(
    inputs: Inputs | None = None,
    *,
    only: Iterable[str] | None = None,
    extra: Mapping[str, Detector] | None = None,
    **frames: Any,
) -> FindingList:
    """Run every applicable detector and rank the findings, most likely cause first.

    Parameters
    ----------
    inputs:
        An :class:`Inputs`; or pass its fields as keywords (``logs=..., metrics=...``).
    only:
        Run only these finding ids.
    extra:
        More detectors by id (a user's own checks), run alongside the built-in ones.

    Returns
    -------
    FindingList
        Ranked findings; ``.errors`` names detectors that failed and why.

    Example
    -------
    >>> detect(Inputs()).top is None      # no evidence, no finding
    True
    """
    if inputs is None:
        inputs = Inputs(**frames)
    elif frames:
        raise TypeError("pass either an Inputs or keyword frames, not both")
    if inputs.requests is None and inputs.logs is not None and not inputs.logs.empty:
        from . import parsers

        inputs.requests = parsers.requests(inputs.logs)
    if inputs.baseline_requests is None and inputs.baseline_logs is not None and not inputs.baseline_logs.empty:
        from . import parsers

        inputs.baseline_requests = parsers.requests(inputs.baseline_logs)

    wanted = set(only) if only is not None else None
    registry: dict[str, Detector | str] = dict(DETECTORS)
    registry.update(extra or {})
    found: dict[str, Finding] = {}
    errors: dict[str, str] = {}
    for fid, target in registry.items():
        if wanted is not None and fid not in wanted:
            continue
        try:
            detector = _load(target) if isinstance(target, str) else target
            result = detector(inputs)
        except Exception as exc:  # a detector bug must not hide the other findings
            errors[fid] = f"{type(exc).__name__}: {exc}"
            log.warning("detector %s failed: %s", fid, mask_text(f"{exc}\n{traceback.format_exc()}"))  # may quote log text
            continue
        if result is None:
            continue
        for f in [result] if isinstance(result, Finding) else list(result):
            if f.id not in found or _rank_key(f) < _rank_key(found[f.id]):
                found[f.id] = f
    return FindingList(_ranked(found.values()), errors=errors)
