"""The findings core: the record, ranking, and a failing detector never hides the others."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from incidentkit import findings
from incidentkit.findings import DETECTORS, Finding, FindingList, Inputs, detect

INCIDENT_IDS = {
    "version-skew-errors",
    "cold-start-timeouts",
    "healthcheck-blocked-by-change",
    "connection-pool-leak",
    "throttling-without-backoff",
    "health-check-flapping",
    "cold-start-tail",
    "scan-read-burst",
    "deregistration-delay-too-short",
    "partial-change-no-rollback",
}


#: incidents.md, "Beyond the catalogue": raised when no catalogued cause fits.
GENERIC_IDS = {"error-spike", "latency-regression"}


def test_every_incident_id_has_a_detector() -> None:
    # the ids of incidents.md are the public contract; more findings may join them (the catalogue)
    assert INCIDENT_IDS | GENERIC_IDS <= set(DETECTORS)
    assert findings.registry.GENERIC_FINDINGS == GENERIC_IDS


def test_finding_validates_and_serialises() -> None:
    f = Finding(
        id="cold-start-tail", title="t", severity="high", summary="s",
        evidence={"share": 0.123456789, "nan": math.nan, "n": pd.Series([3]).iloc[0], "when": pd.Timestamp("2026-03-01T03:00Z")},
        confidence=1.7,
    )
    d = f.to_dict()
    assert d["evidence"] == {"share": 0.1235, "nan": None, "n": 3, "when": "2026-03-01T03:00:00Z"}
    assert f.confidence == 1.0
    assert Finding.from_dict(d) == f
    with pytest.raises(ValueError, match="severity"):
        Finding(id="x", title="t", severity="urgent", summary="s")


def _mk(fid: str, severity: str, confidence: float) -> Finding:
    return Finding(id=fid, title=fid, severity=severity, summary="", confidence=confidence)


def test_detect_ranks_dedupes_and_reports_broken_detectors() -> None:
    def strong(_: Inputs):
        return _mk("a", "medium", 0.9)

    def weak(_: Inputs):
        return [_mk("b", "critical", 0.4), _mk("a", "low", 0.2)]

    def broken(_: Inputs):
        raise KeyError("latency_ms")

    result = detect(Inputs(), only=["a", "b", "c"], extra={"a": strong, "b": weak, "c": broken})
    assert [f.id for f in result] == ["a", "b"]
    assert result.top.confidence == 0.9  # the stronger duplicate wins
    assert "c" in result.errors and "latency_ms" in result.errors["c"]
    assert [f.id for f in result.at_least("high")] == ["b"]
    assert list(result.to_frame()["rank"]) == [1, 2]


def test_a_generic_finding_ranks_below_every_catalogued_cause_that_fits() -> None:
    """error-spike / latency-regression say where and when, not why: a catalogued cause of medium or worse
    ranks above them whatever the confidences; a catalogued finding below medium does not."""
    found = {"error-spike": _mk("error-spike", "high", 0.8), "cold-start-tail": _mk("cold-start-tail", "medium", 0.5),
             "scan-read-burst": _mk("scan-read-burst", "low", 0.4), "latency-regression": _mk("latency-regression", "high", 0.3)}
    result = detect(Inputs(), only=list(found), extra={k: (lambda _, f=f: f) for k, f in found.items()})
    assert [f.id for f in result] == ["cold-start-tail", "error-spike", "scan-read-burst", "latency-regression"]


def test_detect_with_no_evidence_finds_nothing_and_runs_registry_safely() -> None:
    result = detect(Inputs())
    assert isinstance(result, FindingList) and len(result) == 0
    # every registered detector either ran or reported its trouble, none was skipped silently
    assert set(result.errors) <= set(findings.DETECTORS)
