"""Findings: causes named with their evidence and remediation (:mod:`.model`), and the
detectors that find them (:mod:`.registry`).

Example
-------
>>> from incidentkit.findings import Finding, detect
>>> detect(logs=None).top is None
True
"""

from .model import SEVERITIES, Finding, FindingList, Inputs, Severity, severity_rank
from .registry import DETECTORS, FINDING_IDS, Detector, detect

__all__ = ["Finding", "FindingList", "Inputs", "SEVERITIES", "FINDING_IDS", "DETECTORS", "detect", "severity_rank",
           "Detector", "Severity"]
