"""ALB access logs in their S3 key layout, gzip, for the S3 reader's tests (moto)."""

from __future__ import annotations

import gzip
import random

import pandas as pd

from incidentkit.analyses import errors, latency
from incidentkit.window import Window

ACCOUNT = "123456789012"
REGION = "eu-west-1"
LB_ARN = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/app/web/50dc6c495c0c9188"
LB_ID = "app.web.50dc6c495c0c9188"


def alb_line(t: pd.Timestamp, *, status: int = 200, target: str = "10.0.1.7:8080", latency_s: float = 0.05,
             path: str = "/api/orders", client: str = "203.0.113.9", reason: str = "-") -> str:
    target_status = "-" if target == "-" else str(status)
    tpt = "-1" if target == "-" else f"{latency_s:.3f}"
    return (f'https {t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")} app/web/50dc6c495c0c9188 {client}:51234 {target} 0.001 {tpt} 0.000 '
            f'{status} {target_status} 120 480 "GET https://shop.example.com:443{path}?id=7 HTTP/1.1" "MyApp/2.9.0 (iOS 17)" '
            f'ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/web/73e2d6bc24d8a067 '
            f'"Root=1-58337262-36d228ad5d99923122bbe354" "shop.example.com" "-" 1 {t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")} '
            f'"forward" "-" "{reason}" "{target}" "{target_status}" "-" "-" TID_1a2b')


def alb_key(end: pd.Timestamp, base: str = "alb/", suffix: str = "3e9f", lb_id: str = LB_ID) -> str:
    return (f"{base}AWSLogs/{ACCOUNT}/elasticloadbalancing/{REGION}/{end:%Y/%m/%d}/"
            f"{ACCOUNT}_elasticloadbalancing_{REGION}_{lb_id}_{end:%Y%m%dT%H%M}Z_10.0.0.5_{suffix}.log.gz")


def put_alb_logs(s3, bucket: str, start: pd.Timestamp, end: pd.Timestamp, *, per_minute: int = 20, seed: int = 1,
                 base: str = "alb/", fail_from: pd.Timestamp | None = None, lb_id: str = LB_ID) -> list[str]:
    """Five-minute gzip files from ``start`` to ``end``; returns every line written."""
    rng = random.Random(seed)
    lines_all: list[str] = []
    t = start.floor("5min")
    while t < end:
        lines = []
        for i in range(5 * per_minute):
            ts = t + pd.Timedelta(seconds=rng.uniform(0, 299.9))
            failing = fail_from is not None and ts >= fail_from and rng.random() < 0.4
            lines.append(alb_line(ts, status=502 if failing else 200, target="-" if failing else f"10.0.1.{rng.randint(1, 4)}:8080",
                                  latency_s=rng.lognormvariate(-3, 0.5), reason="TargetConnectionError" if failing else "-",
                                  client=f"203.0.113.{rng.randint(1, 50)}"))
        lines.sort(key=lambda s: s.split(" ")[1])
        s3.put_object(Bucket=bucket, Key=alb_key(t + pd.Timedelta(minutes=5), base, lb_id=lb_id), Body=gzip.compress(("\n".join(lines) + "\n").encode()))
        lines_all += lines
        t += pd.Timedelta(minutes=5)
    return lines_all


def local_frames(parsed: pd.DataFrame, window: Window, dimension: str | None = None) -> dict[str, pd.DataFrame]:
    """The frames Athena's aggregations stand for, from ALB rows read directly (the in-memory
    analyses, ``by="1min"``): what :func:`incidentkit.fetch.s3logs.athena.frames` must agree with."""
    rows = parsed[parsed["format"].eq("alb_access").fillna(False) & ~parsed["parse_error"].astype(bool)]
    groups = dimension if dimension else None
    if dimension == "target":
        rows = rows.assign(target=rows["target"].astype("string").fillna("-"))
    return {"latency": latency.percentiles(rows, by="1min", groupby=groups, window=window),
            "errors": errors.error_rate(rows, by="1min", groupby=groups, window=window, timeouts_as_5xx=False)}
