"""analyses.targets: which targets behind a load balancer failed requests, from its access log."""

from __future__ import annotations

import pandas as pd
import pytest

from incidentkit import Investigation
from incidentkit.analyses import targets
from incidentkit.window import Window

WINDOW = Window.parse("2026-03-01T10:00:00Z", "2026-03-01T11:00:00Z")


def _log(rows: list[tuple], *, fmt: str = "alb_access", target_col: str = "target") -> pd.DataFrame:
    """rows of (minute, status, target, target_status, error_reason)."""
    return pd.DataFrame({
        "timestamp": [WINDOW.start + pd.Timedelta(minutes=m) for m, *_ in rows],
        "format": fmt,
        "parse_error": False,
        "status": pd.array([r[1] for r in rows], dtype="Int64"),
        target_col: pd.array([r[2] for r in rows], dtype="string"),
        "target_status": pd.array([r[3] for r in rows], dtype="Int64"),
        "error_reason": pd.array([r[4] for r in rows], dtype="string"),
    })


@pytest.mark.parametrize("fmt", ["alb_access", "elb_classic_access"])
def test_failed_requests_split_into_no_response_and_target_5xx_per_target(fmt: str) -> None:
    logs = _log([(1, 200, "10.0.0.1:80", 200, None), (2, 502, "10.0.0.1:80", None, "TargetConnectionError"),
                 (3, 504, "10.0.0.2:80", None, "TargetResponseTimeout"), (4, 500, "10.0.0.2:80", 500, None),
                 (5, 503, "-", None, None), (6, 200, "10.0.0.3:80", 200, None)], fmt=fmt)
    table = targets.failed_targets(targets.per_request_rows(logs, WINDOW))
    assert table[["target", "requests", "failed", "no_response", "target_5xx"]].values.tolist() == [
        ["10.0.0.2:80", 2, 2, 1, 1], ["10.0.0.1:80", 2, 1, 1, 0], ["(none)", 1, 1, 1, 0]]  # no target: last
    ev = targets.target_evidence(logs, WINDOW)
    assert (ev["access_log_requests"], ev["edge_5xx"], ev["edge_5xx_without_target_response"], ev["target_5xx"]) == (6, 4, 3, 1)
    assert ev["failed_target_count"] == 2  # "(none)" is not a target
    assert ev["edge_error_reasons"] == "TargetConnectionError: 1, TargetResponseTimeout: 1"
    text = targets.target_sentence(ev)
    assert "6 requests" in text and "4 answered 5XX" in text and "3 with no response" in text and "2 targets" in text


def test_rows_outside_the_window_broken_records_and_other_formats_are_not_counted() -> None:
    logs = _log([(1, 502, "10.0.0.1:80", None, None), (61, 502, "10.0.0.1:80", None, None), (-1, 502, "10.0.0.1:80", None, None),
                 (2, 502, "10.0.0.1:80", None, None)])
    logs.loc[3, "parse_error"] = True
    other = _log([(5, 502, "10.0.0.9:80", None, None)], fmt="apigw_access")
    ev = targets.target_evidence(pd.concat([logs, other], ignore_index=True), WINDOW)
    assert ev["access_log_requests"] == 1 and ev["edge_5xx"] == 1 and "10.0.0.9" not in ev["failed_targets"]


def test_no_access_log_naming_targets_gives_no_evidence() -> None:
    assert targets.target_evidence(None) == {} and targets.target_sentence({}) == ""
    assert targets.target_evidence(_log([(1, 502, "x", None, None)], target_col="backend")) == {}
    assert targets.per_request_rows(_log([(1, 502, "x", None, None)], fmt="clf_access")) is None


def test_a_clean_access_log_says_no_5xx() -> None:
    ev = targets.target_evidence(_log([(1, 200, "10.0.0.1:80", 200, None)]), WINDOW)
    assert ev["edge_5xx"] == 0 and ev["failed_targets"] == ""
    assert targets.target_sentence(ev).endswith("shows no request answered 5XX.")


@pytest.mark.slow
def test_the_s3_sample_names_its_failed_targets_and_the_counts_add_up() -> None:
    inv = Investigation.sample("deregistration-delay-from-s3")
    try:
        logs = inv.s3_logs()
        rows = targets.per_request_rows(logs, inv.window)
        table = targets.failed_targets(rows)
        ev = targets.target_evidence(logs, inv.window)
    finally:
        inv.close()
    assert len(rows) > 1000 and table["failed"].sum() == ev["edge_5xx"] > 0
    assert table["no_response"].sum() == ev["edge_5xx_without_target_response"]
    assert (table["failed"] >= table["no_response"]).all()
    named = table[table["target"] != "(none)"]
    assert named["failed"].is_monotonic_decreasing  # the most failed target first


def test_reasons_say_none_in_the_log_or_not_in_the_format_never_an_empty_text() -> None:
    rows = [(1, 502, "10.0.0.1:80", None, None), (2, 200, "10.0.0.1:80", 200, None)]
    ev = targets.target_evidence(_log(rows), WINDOW)
    assert (ev["edge_error_reasons"], ev["edge_classifications"]) == (targets.NONE_IN_LOG, targets.NOT_IN_FORMAT)
    assert "(" + targets.NONE_IN_LOG not in targets.target_sentence(ev)
    classic = _log(rows, fmt="elb_classic_access").drop(columns="error_reason")
    assert targets.target_evidence(classic, WINDOW)["edge_error_reasons"] == targets.NOT_IN_FORMAT
