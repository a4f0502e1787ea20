"""Findings: causes named with their evidence and remediation (:mod:`.model`), and the
detectors that find them.

Example
-------
>>> from incidentkit.findings import Finding, detect
>>> detect(logs=None).top is None
True
"""

from .model import (
    DETECTORS,
    FINDING_IDS,
    SEVERITIES,
    Detector,
    Finding,
    FindingList,
    Inputs,
    Severity,
    detect,
    severity_rank,
)

__all__ = ["Finding", "FindingList", "Inputs", "SEVERITIES", "FINDING_IDS", "DETECTORS", "detect", "severity_rank",
           "Detector", "Severity"]
