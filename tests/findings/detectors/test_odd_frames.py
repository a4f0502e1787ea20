"""Every registered detector survives frames of shapes the kit does not produce itself.

Missing columns, NaT, all-NaN values, key/value settings, column-less frames: a detector returns
None or a finding with one of the kit's severities, never raises. Runs over the registry, so a new
detector is covered without editing this file.
"""

from __future__ import annotations

import importlib

import pytest

from _helpers.analysis import ODD_INPUTS, assert_detectors_survive
from incidentkit.findings import DETECTORS


@pytest.mark.parametrize("case", sorted(ODD_INPUTS))
@pytest.mark.parametrize("fid", sorted(DETECTORS))
def test_detectors_survive_odd_frames(fid: str, case: str) -> None:
    assert_detectors_survive((importlib.import_module(DETECTORS[fid]).detect,), ODD_INPUTS[case])
