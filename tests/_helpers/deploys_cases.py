"""Evidence frames shared by the deploys analysis tests and the tests of the detectors built on them."""

from __future__ import annotations

import json
import numpy as np
import pandas as pd
from incidentkit import schema


DAY = pd.Timestamp("2026-03-05T00:00:00Z")


TG = "targetgroup/api/6d0ecf831eec9f09"


TG_ARN = f"arn:aws:elasticloadbalancing:eu-west-1:123456789012:{TG}"


LB = "app/api/50dc6c495c0c9188"


DEPLOY_HOURS = (10, 14, 18)


def metric(name, values, *, start=DAY, period=60, dims=None, stat="Sum", ns="AWS/ApplicationELB"):
    ts = pd.date_range(start, periods=len(values), freq=f"{period}s")
    return pd.DataFrame({"timestamp": ts, "query_id": "q", "label": name, "namespace": ns, "metric_name": name,
                         "dimensions": json.dumps(dims or {"LoadBalancer": LB}, sort_keys=True, separators=(",", ":")),
                         "stat": stat, "period": period, "value": np.asarray(values, dtype=float)})


def changes_frame(rows):
    df = pd.DataFrame(rows)
    df["timestamp"] = pd.to_datetime(df["timestamp"], utc=True)
    return schema.conform(df, "changes")


def deploy_changes(hours=DEPLOY_HOURS):
    rows = []
    for h in hours:
        t = DAY + pd.Timedelta(hours=h)
        rows += [
            {"timestamp": t, "source": "codedeploy", "event_name": "CreateDeployment", "class": "DEPLOYMENT",
             "actor": "arn:aws:iam::123456789012:role/pipeline", "resource": "api/prod"},
            {"timestamp": t + pd.Timedelta(minutes=2), "source": "cloudtrail", "event_name": "DeregisterTargets",
             "class": "DEPLOYMENT", "actor": "codedeploy.amazonaws.com", "resource": TG_ARN},
        ]
    rows.append({"timestamp": DAY + pd.Timedelta(hours=12), "source": "cloudtrail", "event_name": "PutMetricAlarm",
                 "class": "CONFIG_CHANGE", "actor": "arn:aws:iam::123456789012:user/ops", "resource": "api-5xx"})
    return changes_frame(rows)


def alb_day(*, burst=True, slow=True, seed=0):
    """One day of ALB minutes: ~2000 requests/min, a 502 trickle, and (incident 10) 5 % 502s after each deploy."""
    rng = np.random.default_rng(seed)
    n = 24 * 60
    req = rng.normal(2000, 80, n).round()
    e502 = rng.poisson(0.1, n).astype(float)
    tmax = rng.uniform(2, 6, n)
    if slow:
        tmax[rng.choice(n, 40, replace=False)] = rng.uniform(40, 62, 40)
    if burst:
        for h in DEPLOY_HOURS:
            i = h * 60 + 2
            e502[i: i + 3] += (0.05 * req[i: i + 3]).round()
    tg_dims = {"LoadBalancer": LB, "TargetGroup": TG}
    return pd.concat([
        metric("RequestCount", req),
        metric("HTTPCode_ELB_502_Count", e502),
        metric("HTTPCode_ELB_5XX_Count", e502 + rng.poisson(0.2, n)),
        metric("TargetResponseTime", tmax, dims=tg_dims, stat="Maximum"),
        metric("TargetResponseTime", rng.uniform(0.8, 1.6, n), dims=tg_dims, stat="p99"),
    ], ignore_index=True)


def delay_settings(delay=30):
    return pd.DataFrame({"timestamp": DAY, "resource_type": "target_group", "resource_id": TG_ARN,
                         "setting": ["deregistration_delay.timeout_seconds", "HealthCheckIntervalSeconds"],
                         "value": [str(delay), "30"]})


def request_rows(n=5000, *, slow_share=0.004, seed=1):
    rng = np.random.default_rng(seed)
    lat = rng.lognormal(np.log(300), 0.8, n)
    slow = rng.random(n) < slow_share
    lat[slow] = rng.uniform(35_000, 62_000, slow.sum())
    ts = DAY + pd.to_timedelta(rng.uniform(0, 86400, n), unit="s")
    return pd.DataFrame({"timestamp": ts, "request_id": [f"r{i}" for i in range(n)], "status": 200, "latency_ms": lat})


T = pd.Timestamp("2026-03-06T09:00:00Z")


BOT = "arn:aws:iam::123456789012:user/deploy-bot"


def sg_call(offset_s, name, *, actor=BOT, error=None, resource="sg-0a1b2c3d", by="cli", port=22):
    detail = {"api": name, "changed_by": by, "non_iac": by not in ("iac", "pipeline", "aws-service"),
              "params": {"groupId": resource, "ipPermissions": {"items": [{"ipProtocol": "tcp", "fromPort": port, "toPort": port,
                                                                           "ipRanges": {"items": [{"cidrIp": "203.0.113.0/24"}]}}]}}}
    return {"timestamp": T + pd.Timedelta(seconds=offset_s), "source": "cloudtrail", "event_name": name, "class": "SECURITY_CHANGE",
            "actor": actor, "resource": resource, "error_code": error, "detail": json.dumps(detail)}


def incident11(extra=()):
    rows = [
        sg_call(0, "RevokeSecurityGroupIngress"),
        sg_call(2, "RevokeSecurityGroupIngress", resource="sg-0e9f8a7b"),
        sg_call(5, "AuthorizeSecurityGroupIngress", error="InvalidPermission.Malformed"),
        {"timestamp": T + pd.Timedelta(hours=1), "source": "cloudtrail", "event_name": "UpdateFunctionConfiguration20150331v2",
         "class": "CONFIG_CHANGE", "actor": "arn:aws:iam::123456789012:user/anna", "resource": "billing", "detail": "{}"},
        {"timestamp": T + pd.Timedelta(hours=2), "source": "cloudtrail", "event_name": "PutMetricAlarm", "class": "CONFIG_CHANGE",
         "actor": "arn:aws:iam::123456789012:user/anna", "resource": "cpu", "detail": "{}"},
    ]
    return changes_frame(rows + list(extra))
