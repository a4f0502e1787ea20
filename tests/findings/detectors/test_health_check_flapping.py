"""The ``health-check-flapping`` detector (:mod:`incidentkit.findings.detectors.health_check_flapping`): when it fires, when it stays silent."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from incidentkit import findings, schema
from incidentkit.analyses import healthchecks as hc
from incidentkit.findings import Inputs
from incidentkit.window import Window
from _helpers.healthchecks_cases import change_rows, SPIKES, T0, TG_ARN, fleet, metric, tg_settings
from incidentkit.findings.detectors import health_check_flapping


def per_instance_fleet(*, marks_on_spiking_instance=True, seed=11):
    """Four instances, each with its own CPU spikes every ~7 minutes; target health marks an instance
    unhealthy in its spike minute (or, as a control, marks a different instance)."""
    rng = np.random.default_rng(seed)
    n, ids = 120, ["i-0a", "i-0b", "i-0c", "i-0d"]
    parts, obs, unhealthy = [], [], np.zeros(n)
    for k, iid in enumerate(ids):
        cpu = rng.normal(22, 2, n)
        spikes = np.arange(3 + k, n, 7)
        cpu[spikes] = 98.0
        parts.append(metric("CPUUtilization", cpu, dims={"InstanceId": iid}, stat="Maximum", ns="AWS/EC2"))
        for i in spikes[::2]:
            target = iid if marks_on_spiking_instance else ids[(k + 2) % 4]
            t = T0 + pd.Timedelta(minutes=int(i), seconds=20)
            obs += [{"timestamp": t, "target_group_arn": TG_ARN, "target_id": target, "state": "unhealthy",
                     "reason": "Target.Timeout", "description": "Request timed out"},
                    {"timestamp": t + pd.Timedelta(seconds=50), "target_group_arn": TG_ARN, "target_id": target,
                     "state": "healthy", "reason": None, "description": None}]
            unhealthy[i] += 1
    m = pd.concat(parts + [metric("UnHealthyHostCount", unhealthy, stat="Maximum"),
                           metric("RequestCount", np.full(n, 3000.0))], ignore_index=True)
    health = {"target_health": pd.DataFrame(obs)}
    change = change_rows([{"timestamp": T0 - pd.Timedelta(minutes=3), "event_name": "ModifyTargetGroup", "class": "CONFIG_CHANGE",
                           "actor": "arn:aws:iam::123456789012:user/sre", "resource": TG_ARN}])
    return m, health, change


def test_detect_flapping_incident6_cpu_spikes_tight_settings():
    m = fleet(spikes=SPIKES, unhealthy_at=SPIKES)
    targets = pd.DataFrame({"target_group_arn": TG_ARN, "target_id": ["i-1", "i-2", "i-3", "i-4"],
                            "state": ["unhealthy", "healthy", "healthy", "healthy"],
                            "reason": ["Target.Timeout", None, None, None]})
    inputs = Inputs(metrics=m, settings=tg_settings(), health={"targets": targets},
                    window=Window.parse(T0, T0 + pd.Timedelta(hours=3)))
    f = health_check_flapping.detect(inputs)
    assert f is not None and f.id == "health-check-flapping"
    assert f.severity in ("medium", "high")
    assert f.confidence >= 0.8
    e = f.evidence
    assert e["unhealthy_episodes"] == 8 and e["share_short_episodes"] == 1.0
    assert e["episodes_with_spike"] == 1.0 and e["chance_of_spike"] < 0.5
    assert e["HealthCheckIntervalSeconds"] == 5 and e["HealthCheckTimeoutSeconds"] == 2
    assert e["elb_502_in_episodes"] >= 640 and e["target_timeout_reasons"] == 1
    text = " ".join(f.remediation)
    assert "HealthCheckIntervalSeconds 30" in text and "UnhealthyThresholdCount 3" in text
    assert "HealthCheckTimeoutSeconds 5" in text and TG_ARN in text


def test_detect_flapping_incident9_latency_spikes_against_timeout():
    m = fleet(spikes=SPIKES, spike_kind="latency", unhealthy_at=SPIKES, episode_bins=1, e502=15)
    f = health_check_flapping.detect(Inputs(metrics=m, settings=tg_settings(10, 5, 2, 2)))
    assert f is not None
    assert f.confidence >= 0.75
    assert f.evidence["response_p99_peak_s"] == pytest.approx(6.5)
    assert "HealthCheckTimeoutSeconds 10" in f.remediation[0]  # 2 x 6.5 s capped at 10 s


def test_healthy_health_checks_raise_nothing():
    m = fleet(spikes=(50,))  # one CPU blip, nobody marked unhealthy, a trickle of 502s
    inputs = Inputs(metrics=m, settings=tg_settings(30, 5, 3, 5), requests=schema.empty_frame("requests"))
    assert health_check_flapping.detect(inputs) is None
    got = findings.detect(inputs, only=["health-check-flapping", "healthcheck-blocked-by-change"])
    assert not got.errors and not got.at_least("medium")


def test_a_dead_host_is_not_flapping():
    n = 180
    m = fleet(n)
    m = m[m["metric_name"] != "UnHealthyHostCount"]
    unhealthy = np.zeros(n)
    unhealthy[40:150] = 1
    m = pd.concat([m, metric("UnHealthyHostCount", unhealthy, stat="Maximum")])
    assert health_check_flapping.detect(Inputs(metrics=m, settings=tg_settings())) is None


def test_flapping_without_settings_or_spikes_is_low():
    m = fleet(unhealthy_at=SPIKES, e502=0)
    f = health_check_flapping.detect(Inputs(metrics=m))
    assert f is not None and f.severity == "low" and f.confidence < 0.5


def test_flapping_edge_cases():
    assert health_check_flapping.detect(Inputs()) is None
    assert health_check_flapping.detect(Inputs(metrics=fleet(unhealthy_at=(10, 50)))) is None  # two blips only


def test_flapping_durations_carry_their_resolution():
    m, health, change = per_instance_fleet()
    f = health_check_flapping.detect(Inputs(metrics=m, settings=tg_settings(), health=health))
    assert f.evidence["episode_resolution_s"] == 60 and f.evidence["median_unhealthy_spell_s"] == 50
    assert "1-minute UnHealthyHostCount datapoints" in f.summary and "median of 50 s" in f.summary
    without = health_check_flapping.detect(Inputs(metrics=m, settings=tg_settings()))
    assert f"the median episode lasted at most {without.evidence['median_episode_s'] / 60:.0f} min (1-minute datapoints" in without.summary
    assert "median_unhealthy_spell_s" not in without.evidence
    # a spike over one 1-minute datapoint proves nothing about its length: the 30 s floor judges the check
    assert "is shorter than 30 s" in without.summary and without.evidence["check_tolerance_floor_s"] == 30


def test_target_transitions_and_per_target_spike_alignment():
    m, health, change = per_instance_fleet()
    marks = hc.target_transitions(health)
    assert list(marks.columns) == list(hc.TRANSITION_COLUMNS)
    assert len(marks) == len(health["target_health"]) // 2
    spikes = hc.transient_spikes(m, "cpu")
    assert set(spikes["resource"]) == {"i-0a", "i-0b", "i-0c", "i-0d"}  # each instance against its own baseline
    f = health_check_flapping.detect(Inputs(metrics=m, settings=tg_settings(), health=health, changes=change))
    assert f is not None
    assert f.evidence["spike_alignment"] == "per target"
    assert f.evidence["episodes_with_spike"] == 1.0 and f.evidence["chance_of_spike"] < 0.4
    assert [c["event_name"] for c in f.related_changes] == ["ModifyTargetGroup"]
    assert "The health check of `web` was changed (ModifyTargetGroup) at 09:57 UTC by an IAM user" in f.summary
    # control: the same marks pinned on instances that were not spiking at the time
    m2, health2, _ = per_instance_fleet(marks_on_spiking_instance=False)
    g = health_check_flapping.detect(Inputs(metrics=m2, settings=tg_settings(), health=health2))
    assert g.evidence["episodes_with_spike"] < 0.2 and g.confidence < f.confidence
