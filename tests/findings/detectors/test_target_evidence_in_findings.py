"""Per-request target evidence from a load balancer's access log in the findings that read it:
``deregistration-delay-too-short``, ``health-check-flapping`` and ``cold-start-timeouts``
(:mod:`incidentkit.analyses.targets`).

The logs are real-shaped lines parsed by the kit's own parsers (an ALB's, a Classic ELB's), so
the fields come as the parser gives them (``-`` for no target response, ``0`` for a Classic ELB's
back end that never answered). Without such a log every finding is exactly what it was.
"""

from __future__ import annotations

import json

import pandas as pd
import pyarrow as pa
import pytest

from _helpers.deploys_cases import DAY, TG_ARN, alb_day, delay_settings, deploy_changes, request_rows
from _helpers.healthchecks_cases import SPIKES, T0, fleet, tg_settings
from _helpers.healthchecks_cases import TG_ARN as WEB_TG_ARN
from _helpers.latency_cases import burst_incident
from incidentkit import Investigation
from incidentkit.analyses import targets
from incidentkit.findings import Inputs
from incidentkit.findings.detectors import cold_start_timeouts, deregistration_delay_too_short, health_check_flapping
from incidentkit.parse.batches import parse_batch
from incidentkit.window import Window

OTHER_TG = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/admin/0f0f0f0f0f0f0f0f"
TARGET_KEYS = {"access_log_requests", "edge_5xx", "edge_5xx_without_target_response", "target_5xx", "edge_error_reasons",
               "edge_classifications", "failed_target_count", "failed_targets"}


def alb(t: pd.Timestamp, status: int, target: str, target_status: str, *, reason: str = "-", tg: str = TG_ARN) -> str:
    """One ALB access-log line (the documented field order); ``target_status`` ``-`` when no target answered."""
    when = t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    took = "-1" if target_status == "-" else "0.050"
    return (f'https {when} app/api/50dc6c495c0c9188 203.0.113.9:51234 {target} 0.001 {took} 0.000 {status} {target_status} '
            f'120 480 "GET https://api.example.com:443/v1/report?id=7 HTTP/1.1" "okhttp/4.9" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 '
            f'{tg} "Root=1-58337262-36d228ad5d99923122bbe354" "api.example.com" "-" 1 {when} "forward" "-" "{reason}" '
            f'"{target}" "{target_status}" "-" "-" TID_1a2b')


def elb_classic(t: pd.Timestamp, status: int, backend: str, backend_status: str) -> str:
    """One Classic ELB access-log line: the back end is ``backend``/``backend_status_code`` (``0`` when none answered)."""
    took = "-1" if backend == "-" else "0.050"
    return (f'{t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")} web-lb 192.168.131.39:2817 {backend} 0.001 {took} 0.000 {status} '
            f'{backend_status} 0 57 "GET https://www.example.com:443/ HTTP/1.1" "curl/7.38.0" DHE-RSA-AES128-SHA TLSv1.2')


def parsed(lines: list[str], fmt: str = "alb_access") -> pd.DataFrame:
    return parse_batch(pa.array(lines, type=pa.large_string()), fmt).frame


def dereg_access_log(*, cuts: int = 6, own_errors: int = 3) -> pd.DataFrame:
    """A day of the group's requests: 200s on three targets each minute; after each deregistration (10:02, 14:02, 18:02)
    ``cuts`` 502s of 10.0.1.5 that no target answered; ``own_errors`` 500s the targets sent; 502s of another group."""
    lines = [alb(DAY + pd.Timedelta(minutes=m, seconds=7), 200, f"10.0.1.{1 + m % 3}:8080", "200") for m in range(24 * 60)]
    for h in (10, 14, 18):
        lines += [alb(DAY + pd.Timedelta(hours=h, minutes=2, seconds=40 + i), 502, "10.0.1.5:8080", "-") for i in range(cuts)]
    lines += [alb(DAY + pd.Timedelta(hours=3 + 5 * i, minutes=11), 500, "10.0.1.2:8080", "500") for i in range(own_errors)]
    lines += [alb(DAY + pd.Timedelta(hours=12, minutes=i), 502, "10.9.9.9:80", "-", reason="TargetConnectionError", tg=OTHER_TG)
              for i in range(20)]
    return parsed(lines)


def dereg_inputs(logs: pd.DataFrame | None) -> Inputs:
    return Inputs(metrics=alb_day(), changes=deploy_changes(), settings=delay_settings(), requests=request_rows(), logs=logs)


def as_json(finding) -> str:
    return json.dumps(finding.to_dict(), default=str, sort_keys=True)


def test_deregistration_names_the_cut_requests_and_their_target_from_the_access_log():
    f = deregistration_delay_too_short.detect(dereg_inputs(dereg_access_log()))
    e = f.evidence
    # only the group's requests: the other group's 20 connection errors are not this group's
    assert (e["access_log_requests"], e["edge_5xx"], e["edge_5xx_without_target_response"], e["target_5xx"]) == (1461, 21, 18, 3)
    assert e["failed_targets"].startswith("10.0.1.5:8080 18 of 18 (18 without response, 0 target 5XX)")
    assert "10.9.9.9" not in e["failed_targets"] and e["edge_error_reasons"] == "none in the log" and e["failed_target_count"] == 2
    assert f.summary.endswith("The load balancer's access log (1,461 requests) shows 21 answered 5XX: 18 with no response from "
                              "any target, 3 a 5XX from the target itself; 2 targets failed requests (listed in failed_targets).")
    m = deregistration_delay_too_short.measure(dereg_inputs(dereg_access_log()))
    assert m.cuts_shown and any("no response from a target" in r for r in deregistration_delay_too_short.judge(m).reasons)


def test_deregistration_access_log_of_the_targets_own_errors_adds_no_confidence():
    """Most 5XX sent by the targets themselves: the log shows the application failing, not requests cut."""
    m = deregistration_delay_too_short.measure(dereg_inputs(dereg_access_log(cuts=1, own_errors=10)))
    assert m.targets["edge_5xx"] == 13 and m.targets["edge_5xx_without_target_response"] == 3
    assert not m.cuts_shown and not any("no response" in r for r in deregistration_delay_too_short.judge(m).reasons)
    few = deregistration_delay_too_short.measure(dereg_inputs(dereg_access_log(cuts=1, own_errors=0)))
    assert few.targets["edge_5xx"] == 3 and not few.cuts_shown  # three requests are no majority to speak of


@pytest.mark.parametrize("logs", [None, "other formats only", "another group only"])
def test_without_the_groups_access_log_the_findings_are_unchanged(logs):
    app = pd.DataFrame({"timestamp": [DAY + pd.Timedelta(hours=10)], "format": "app_json", "parse_error": False,
                        "status": pd.array([502], dtype="Int64"), "message": "upstream reset"})
    frames = {None: None, "other formats only": app,
              "another group only": parsed([alb(DAY + pd.Timedelta(hours=10, minutes=3), 502, "10.9.9.9:80", "-", tg=OTHER_TG)])}
    without = deregistration_delay_too_short.detect(dereg_inputs(None))
    f = deregistration_delay_too_short.detect(dereg_inputs(frames[logs]))
    assert as_json(f) == as_json(without) and not TARGET_KEYS & set(f.evidence) and "access log" not in f.summary
    w = Window.parse(T0, T0 + pd.Timedelta(hours=3))
    flap = dict(metrics=fleet(spikes=SPIKES, unhealthy_at=SPIKES), settings=tg_settings(), window=w)
    assert as_json(health_check_flapping.detect(Inputs(**flap, logs=frames[logs]))) == as_json(health_check_flapping.detect(Inputs(**flap)))
    inc, base, w, b = burst_incident()
    cold = dict(window=w, baseline=b, requests=inc, baseline_requests=base)
    assert as_json(cold_start_timeouts.detect(Inputs(**cold, logs=frames[logs]))) == as_json(cold_start_timeouts.detect(Inputs(**cold)))


def test_flapping_reads_a_classic_elb_log_whose_back_end_never_answered():
    """Another shape: a Classic ELB names the back end ``backend`` and writes ``0`` for its status when none answered
    (no target group in its log: the whole log is the pool's)."""
    lines = [elb_classic(T0 + pd.Timedelta(minutes=m, seconds=5), 200, f"10.0.0.{1 + m % 4}:80", "200") for m in range(180)]
    lines += [elb_classic(T0 + pd.Timedelta(minutes=s, seconds=30), 504, "10.0.0.3:80", "-") for s in SPIKES]
    lines += [elb_classic(T0 + pd.Timedelta(minutes=s, seconds=40), 503, "-", "0") for s in SPIKES[:3]]
    logs = parsed(lines, "elb_classic_access")
    assert logs["target_status"].isna().sum() == len(SPIKES) and (logs["target_status"] == 0).sum() == 3
    f = health_check_flapping.detect(Inputs(metrics=fleet(spikes=SPIKES, unhealthy_at=SPIKES), settings=tg_settings(),
                                            window=Window.parse(T0, T0 + pd.Timedelta(hours=3)), logs=logs))
    e = f.evidence
    assert (e["edge_5xx"], e["edge_5xx_without_target_response"], e["target_5xx"]) == (11, 11, 0)
    assert e["failed_targets"] == "10.0.0.3:80 8 of 53 (8 without response, 0 target 5XX); (none) 3 of 3 (3 without response, 0 target 5XX)"
    assert "11 answered 5XX: 11 with no response from any target" in f.summary
    assert f.summary.index("Healthy targets") < f.summary.index("The load balancer's access log")


def test_flapping_keeps_the_access_log_of_its_own_target_group():
    w = Window.parse(T0, T0 + pd.Timedelta(hours=3))
    lines = [alb(T0 + pd.Timedelta(minutes=s, seconds=30), 502, "10.0.0.3:80", "-", reason="TargetConnectionError", tg=WEB_TG_ARN)
             for s in SPIKES]
    lines += [alb(T0 + pd.Timedelta(minutes=s, seconds=31), 500, "10.8.8.8:80", "500", tg=OTHER_TG) for s in SPIKES]
    f = health_check_flapping.detect(Inputs(metrics=fleet(spikes=SPIKES, unhealthy_at=SPIKES), settings=tg_settings(), window=w,
                                            logs=parsed(lines)))
    assert (f.evidence["edge_5xx"], f.evidence["target_5xx"], f.evidence["edge_error_reasons"]) == (8, 0, "TargetConnectionError: 8")
    assert "(TargetConnectionError: 8)" in f.summary


def test_cold_start_timeouts_behind_an_alb_show_the_load_balancers_error_reason():
    """A function behind an ALB: the log names no target (``-``) and the load balancer's reason for each 502."""
    inc, base, w, b = burst_incident()
    fails = inc[(inc["status"] >= 500).fillna(False)]
    lines = [alb(t, 502, "-", "-", reason="LambdaUnhandled") for t in fails["timestamp"]]
    lines += [alb(t, 200, "-", "200") for t in inc.loc[~inc.index.isin(fails.index), "timestamp"]]
    f = cold_start_timeouts.detect(Inputs(window=w, baseline=b, requests=inc, baseline_requests=base, logs=parsed(lines)))
    e = f.evidence
    assert e["edge_5xx"] == e["edge_5xx_without_target_response"] == len(fails) and e["failed_target_count"] == 0
    assert e["edge_error_reasons"] == f"LambdaUnhandled: {len(fails)}"
    assert f"with no response from any target (LambdaUnhandled: {len(fails)})" in f.summary and "targets failed" not in f.summary


def test_string_fields_with_dashes_count_the_same():
    """A frame from another reader (Athena's strings, a CSV export): ``-`` and ``0`` for no target response."""
    t = pd.date_range("2026-03-01T10:00Z", periods=4, freq="1min")
    logs = pd.DataFrame({"timestamp": t, "format": "alb_access", "parse_error": False, "status": ["200", "502", "504", "500"],
                         "target": ["10.0.0.1:80", "10.0.0.1:80", "-", "10.0.0.2:80"], "target_status": ["200", "-", "0", "500"],
                         "error_reason": ["-", "TargetConnectionError", "-", "-"]})
    ev = targets.target_evidence(logs)
    assert (ev["edge_5xx"], ev["edge_5xx_without_target_response"], ev["target_5xx"]) == (3, 2, 1)
    assert ev["edge_error_reasons"] == "TargetConnectionError: 1"


@pytest.mark.slow
def test_the_s3_sample_finding_names_its_failed_targets():
    inv = Investigation.sample("deregistration-delay-from-s3")
    try:
        f = next(f for f in inv.findings() if f.id == "deregistration-delay-too-short")
        table = targets.failed_targets(targets.per_request_rows(inv.s3_logs(), inv.window))
    finally:
        inv.close()
    named = table[table["target"] != targets.NO_TARGET]
    assert f.evidence["failed_target_count"] == len(named) > 0
    assert f.evidence["failed_targets"].startswith(f"{named.iloc[0]['target']} {named.iloc[0]['failed']} of ")
    assert f.evidence["edge_5xx_without_target_response"] > f.evidence["edge_5xx"] / 2  # cut, not answered
    assert "The load balancer's access log" in f.summary
