"""Shared by the tests that compare a run's findings with ``Investigation.findings()``."""

from __future__ import annotations

import json
from typing import Any

from incidentkit import Investigation
from incidentkit.masking import mask_obj

__all__ = ["reference_findings"]


def reference_findings(sample: str) -> list[dict[str, Any]]:
    """``Investigation.findings()`` of a fresh sample investigation, as findings.json writes it (JSON, masked)."""
    inv = Investigation.sample(sample)
    try:
        return mask_obj(json.loads(json.dumps(inv.findings().to_dicts(), default=str)))
    finally:
        inv.close()
