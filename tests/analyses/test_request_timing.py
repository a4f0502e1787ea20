"""analyses/request_timing.py: what a request waited and whether it started cold, whatever columns its source gives."""

from __future__ import annotations

import doctest

import pandas as pd

from incidentkit.analyses import latency
from incidentkit.analyses import request_timing as rt


def test_docstring_examples_run() -> None:
    assert doctest.testmod(rt).failed == 0


def test_latency_prefers_the_logged_latency_and_adds_init_to_a_lambda_duration() -> None:
    df = pd.DataFrame({"latency_ms": [50.0, None, None], "duration_ms": [40.0, 200.0, None],
                       "init_duration_ms": [900.0, None, None]})
    assert rt.request_latency(df).tolist()[:2] == [50.0, 200.0]
    assert pd.isna(rt.request_latency(df).iloc[2])
    assert rt.request_latency(df, value="duration_ms").tolist()[:2] == [40.0, 200.0]  # another column is read as is


def test_cold_start_flag_wins_and_rows_without_anything_are_unknown() -> None:
    df = pd.DataFrame({"cold_start": pd.array([False, None, None], dtype="boolean"), "init_duration_ms": [None, 310.0, None]})
    cold, known = rt.cold_starts(df)
    assert cold.tolist() == [False, True, False] and known.tolist() == [True, True, False]
    assert latency.cold_starts is rt.cold_starts and latency.request_latency is rt.request_latency  # old path kept
