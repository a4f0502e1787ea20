"""The detectors: which finding id each finds, and :func:`detect`, which runs them and ranks the findings.

:func:`detect` runs every detector whose inputs are present and ranks the results:
the most likely cause first (by ``confidence``, then severity). Detectors are pure
functions ``detector(inputs: Inputs) -> Finding | list[Finding] | None`` that live next
to the analyses they use; the registry below names them by import string and imports
them only when :func:`detect` runs. A detector that fails does not hide the others: its
one-line reason is in :attr:`FindingList.errors`.

Example
-------
>>> detect(Inputs()).top is None      # no evidence, no finding
True
>>> "cold-start-tail" in FINDING_IDS
True
"""

from __future__ import annotations

import importlib
import logging
import traceback
from typing import Any, Callable, Iterable, Mapping, Sequence

from .. import parse as parsers
from ..masking import mask_text
from .model import Finding, FindingList, Inputs, severity_rank

__all__ = ["DETECTORS", "FINDING_IDS", "GENERIC_FINDINGS", "Detector", "detect"]

log = logging.getLogger(__name__)

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
    "error-spike": "incidentkit.findings.detectors.error_spike",
    "latency-regression": "incidentkit.findings.detectors.latency_regression",
}
#: The generic findings (incidents.md, "Beyond the catalogue"): a catalogued cause that fits ranks above them.
GENERIC_FINDINGS: frozenset[str] = frozenset({"error-spike", "latency-regression"})
FINDING_IDS: tuple[str, ...] = tuple(DETECTORS)


Detector = Callable[[Inputs], "Finding | Sequence[Finding] | None"]


def _load(target: str) -> Detector:
    """``"module:function"``, or a detector module (``"incidentkit.findings.detectors.error_spike"``) whose ``detect`` runs."""
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name or "detect")


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
        inputs.requests = parsers.requests(inputs.logs)
    if inputs.baseline_requests is None and inputs.baseline_logs is not None and not inputs.baseline_logs.empty:
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
