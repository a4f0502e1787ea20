"""The detectors: which finding id each finds, and :func:`detect`, which runs them and ranks the findings.

:data:`DETECTORS` maps each finding id to the module of its detector,
``incidentkit.findings.detectors.<id with underscores>`` (its ``detect``): one entry per
``## `<id>``` section of the catalogue, ``findings/catalogue.md``, in the catalogue's order.
The catalogue is the one list of finding ids; :data:`FINDING_IDS` is read from it once, at
import, so tests, the README check, the samples and the report all see the same ids, and
adding a finding is its detector, its catalogue entry and its test (the catalogue's
"Adding a finding").

:func:`detect` runs every detector (importing each module only then) and ranks the results:
the most likely cause first (by ``confidence``, then severity), a generic finding
(:data:`GENERIC_FINDINGS`, the catalogue's ``Generic`` entries) below every catalogued cause that
fits. A detector is a pure function
``detect(inputs: Inputs) -> Finding | list[Finding] | None``. A detector that fails does not
hide the others: its one-line reason is in :attr:`FindingList.errors`.

Example
-------
>>> detect(Inputs()).top is None      # no evidence, no finding
True
>>> "cold-start-tail" in FINDING_IDS
True
"""

from __future__ import annotations

import importlib
import importlib.resources
import logging
import re
import traceback
from typing import Any, Callable, Iterable, Mapping, Sequence

from .. import parse as parsers
from ..masking import mask_text
from .model import Finding, FindingList, Inputs, severity_rank

__all__ = ["DETECTORS", "FINDING_IDS", "GENERIC_FINDINGS", "Detector", "detect"]

log = logging.getLogger(__name__)

#: The heading of a catalogue entry, ``## `finding-id` ``, and the first word of the entry's first line
#: (``Incident: 1 · Sample: ...`` for a cause of the incident catalogue, ``Generic · ...`` for a generic finding).
_ENTRY = re.compile(r"^## `([a-z0-9]+(?:-[a-z0-9]+)*)`[ \t]*$\n+(\w*)", re.MULTILINE)


def _catalogue_text() -> str:
    return importlib.resources.files(__package__).joinpath("catalogue.md").read_text(encoding="utf-8")


def catalogue_ids(text: str | None = None) -> tuple[str, ...]:
    r"""The finding ids of the catalogue (``findings/catalogue.md``), in its order.

    Example
    -------
    >>> catalogue_ids("# Catalogue\n## `cold-start-tail`\ntext\n## Adding a finding\n")
    ('cold-start-tail',)
    """
    return tuple(fid for fid, _ in _ENTRY.findall(_catalogue_text() if text is None else text))


def generic_ids(text: str | None = None) -> frozenset[str]:
    r"""The ids of the catalogue's generic findings: the entries whose first line opens with ``Generic``.

    Example
    -------
    >>> sorted(generic_ids("## `cold-start-tail`\nIncident: 7\n## `error-spike`\nGeneric · Samples: x\n"))
    ['error-spike']
    """
    return frozenset(fid for fid, first in _ENTRY.findall(_catalogue_text() if text is None else text) if first == "Generic")


#: Finding id -> the module of the detector that finds it (its ``detect``), in the catalogue's order.
DETECTORS: dict[str, str] = {fid: f"{__package__}.detectors.{fid.replace('-', '_')}" for fid in catalogue_ids()}
#: The generic findings (incidents.md, "Beyond the catalogue"): a catalogued cause that fits ranks above them.
GENERIC_FINDINGS: frozenset[str] = generic_ids()
#: The finding ids, in the catalogue's order (the public contract of ``findings.json``).
FINDING_IDS: tuple[str, ...] = tuple(DETECTORS)


Detector = Callable[[Inputs], "Finding | Sequence[Finding] | None"]


def _load(target: str) -> Detector:
    """The ``detect`` of a detector module (``"pkg.module"``), or a ``"pkg.module:function"``."""
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
