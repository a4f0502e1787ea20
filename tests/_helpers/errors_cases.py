"""Evidence frames shared by the errors analysis tests and the tests of the detectors built on them."""

from __future__ import annotations

import math
import numpy as np
import pandas as pd


T0 = pd.Timestamp("2026-03-01T02:00:00Z")


DEPLOY = pd.Timestamp("2026-03-01T03:00:20Z")


def access_log_requests(
    seed=1,
    *,
    minutes=120,
    rate=60.0,
    versions=(("2.9.0", 0.2), ("2.9.1", 0.1), ("3.0.0", 0.3), ("3.0.2", 0.4)),
    broken=None,
    broken_status=403,
    broken_from=DEPLOY,
    broken_rate=0.97,
    start=T0,
    version_field="app_version",
):
    """API Gateway access-log requests: a normal trickle of 404s (0.8 %) and 5XX (0.2 %).

    From ``broken_from`` on, requests from the ``broken`` versions fail with ``broken_status``
    at ``broken_rate``.
    """
    rng = np.random.default_rng(seed)
    n = rng.poisson(rate * minutes)
    t = start + pd.to_timedelta(np.sort(rng.uniform(0, minutes * 60, n)), unit="s")
    names = [v for v, _ in versions]
    probs = np.array([p for _, p in versions])
    ver = rng.choice(names, n, p=probs / probs.sum())
    u = rng.random(n)
    status = np.where(u < 0.008, 404, np.where(u < 0.010, 502, 200))
    if broken:
        hit = np.isin(ver, list(broken)) & (t >= broken_from) & (rng.random(n) < broken_rate)
        status = np.where(hit, broken_status, status)
    df = pd.DataFrame(
        {
            "timestamp": t,
            "request_id": [f"{seed}-{i}" for i in range(n)],
            "status": pd.array(status, dtype="Int64"),
            "latency_ms": rng.lognormal(math.log(80), 0.4, n),
            "route": rng.choice(["/v1/orders", "/v1/profile", "/v1/cart"], n),
            "method": rng.choice(["GET", "POST"], n, p=[0.7, 0.3]),
        }
    )
    if version_field == "user_agent":
        df["user_agent"] = [f"ShopApp/{v} (iOS 17.{i % 4}; iPhone)" for i, v in enumerate(ver)]
    else:
        df[version_field] = ver
    return df


def changes_frame(*rows):
    cols = ["timestamp", "source", "event_name", "class", "actor", "resource", "error_code", "detail"]
    data = [dict(zip(cols, r)) for r in rows]
    df = pd.DataFrame(data, columns=cols)
    df["timestamp"] = pd.to_datetime(df["timestamp"], utc=True)
    return df


DEPLOY_CHANGES = changes_frame(
    (DEPLOY, "codedeploy", "CreateDeployment", "DEPLOYMENT", "ci-deployer", "auth-api", None, "jwt validation v2"),
    (DEPLOY - pd.Timedelta("50min"), "cloudtrail", "PutParameter", "CONFIG_CHANGE", "alice", "/auth/feature", None, None),
    (DEPLOY + pd.Timedelta("30min"), "cloudtrail", "UpdateFunctionConfiguration", "CONFIG_CHANGE", "bob", "auth-api", None, None),
)


def split(req, at=pd.Timestamp("2026-03-01T03:00:00Z")):
    return req[req.timestamp >= at].reset_index(drop=True), req[req.timestamp < at].reset_index(drop=True)
