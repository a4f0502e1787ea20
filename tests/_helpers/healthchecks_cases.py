"""Evidence frames shared by the healthchecks analysis tests and the tests of the detectors built on them."""

from __future__ import annotations

import json
import numpy as np
import pandas as pd

from incidentkit import schema


T0 = pd.Timestamp("2026-03-03T10:00:00Z")


TG = "targetgroup/web/73e2d6bc24d8a067"


TG_ARN = f"arn:aws:elasticloadbalancing:us-east-1:123456789012:{TG}"


LB = "app/web/50dc6c495c0c9188"


ELB_DIMS = {"LoadBalancer": LB, "TargetGroup": TG}


def metric(name, values, *, start=T0, period=60, dims=None, stat="Sum", ns="AWS/ApplicationELB"):
    ts = pd.date_range(start, periods=len(values), freq=f"{period}s")
    return pd.DataFrame(
        {
            "timestamp": ts,
            "query_id": f"q{abs(hash(name)) % 1000}",
            "label": name,
            "namespace": ns,
            "metric_name": name,
            "dimensions": json.dumps(dims if dims is not None else ELB_DIMS, sort_keys=True, separators=(",", ":")),
            "stat": stat,
            "period": period,
            "value": np.asarray(values, dtype=float),
        }
    )


def tg_settings(interval=5, timeout=2, unhealthy=2, healthy=2, arn=TG_ARN):
    return pd.DataFrame(
        {
            "timestamp": T0,
            "resource_type": "target_group",
            "resource_id": arn,
            "setting": ["HealthCheckIntervalSeconds", "HealthCheckTimeoutSeconds", "UnhealthyThresholdCount",
                        "HealthyThresholdCount", "Port", "deregistration_delay.timeout_seconds"],
            "value": [str(interval), str(timeout), str(unhealthy), str(healthy), "traffic-port", "300"],
        }
    )


def fleet(n=180, *, spikes=(), spike_kind="cpu", unhealthy_at=(), episode_bins=2, e502=40, seed=0, hosts=4):
    """An ALB target group over ``n`` minutes: traffic, CPU, p99 latency, host counts and 502s."""
    rng = np.random.default_rng(seed)
    requests = rng.normal(3000, 120, n).round()
    cpu = rng.normal(25, 3, n).clip(5, 60)
    p99 = rng.normal(0.30, 0.03, n).clip(0.1)
    unhealthy = np.zeros(n)
    elb502 = rng.poisson(0.2, n).astype(float)
    for i in spikes:
        if spike_kind == "cpu":
            cpu[i] = 96.0
            p99[i] = 2.4
        else:
            p99[i] = 6.5
    for i in unhealthy_at:
        unhealthy[i: i + episode_bins] = np.maximum(unhealthy[i: i + episode_bins], 1 + (i % 2))
        elb502[i: i + episode_bins] += e502
    return pd.concat(
        [
            metric("RequestCount", requests),
            metric("CPUUtilization", cpu, dims={"AutoScalingGroupName": "web-asg"}, stat="Maximum", ns="AWS/EC2"),
            metric("TargetResponseTime", p99, stat="p99"),
            metric("UnHealthyHostCount", unhealthy, stat="Maximum"),
            metric("HealthyHostCount", hosts - unhealthy, stat="Minimum"),
            metric("HTTPCode_ELB_502_Count", elb502, dims={"LoadBalancer": LB}),
            metric("HTTPCode_ELB_5XX_Count", elb502 + rng.poisson(0.3, n), dims={"LoadBalancer": LB}),
        ],
        ignore_index=True,
    )


SPIKES = (12, 31, 47, 70, 88, 104, 131, 160)


HC_ID = "f1a2b3c4-0000-4000-8000-123456789abc"


DROP = pd.Timestamp("2026-03-03T14:00:00Z")


def route53_window(*, failing_service=False, drop=True):
    start = DROP - pd.Timedelta(hours=2)
    n = 180
    idx = np.arange(n)
    after = idx >= 120
    status = np.where(after & drop, 0.0, 1.0)
    share = np.where(after & drop, 0.0, 100.0)
    rng = np.random.default_rng(7)
    requests = np.where(after & drop, 150.0, 5000.0) + rng.normal(0, 50, n)
    e5xx = rng.poisson(4, n).astype(float)
    p99 = rng.normal(0.25, 0.02, n)
    if failing_service:
        e5xx[112:125] = 900
        p99[112:125] = 9.0
    r53 = {"HealthCheckId": HC_ID}
    return pd.concat(
        [
            metric("HealthCheckStatus", status, start=start, dims=r53, stat="Minimum", ns="AWS/Route53"),
            metric("HealthCheckPercentageHealthy", share, start=start, dims=r53, stat="Average", ns="AWS/Route53"),
            metric("RequestCount", requests, start=start),
            metric("HTTPCode_ELB_5XX_Count", e5xx, start=start, dims={"LoadBalancer": LB}),
            metric("UnHealthyHostCount", np.zeros(n), start=start, stat="Maximum"),
            metric("TargetResponseTime", p99, start=start, stat="p99"),
        ],
        ignore_index=True,
    )


TIMEOUT = ("Failure: Connection timed out. The endpoint or the internet connection is down, or requests are being "
           "blocked by your firewall. See https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-router-firewall-rules.html")


CHECKERS = pd.DataFrame({"health_check_id": HC_ID,
                         "region": ["us-east-1", "us-west-1", "us-west-2", "eu-west-1", "ap-southeast-1", "ap-southeast-2",
                                    "ap-northeast-1", "sa-east-1"],
                         "checker_ip": [f"15.177.{i}.10" for i in range(8)], "status": [TIMEOUT] * 8, "healthy": [False] * 8})


def change_rows(rows):
    df = pd.DataFrame(rows)
    df["timestamp"] = pd.to_datetime(df["timestamp"], utc=True)
    return schema.conform(df, "changes")
