"""Application Load Balancer samples: incidents 6 and 9 (health-check flapping), 10 (deregistration
delay too short) and a healthy ECS service behind an ALB and Route 53.

Formats exercised: ALB access logs (the 29-field documented form, and the newer form with a
trailing ``conn_trace_id``), Spring Boot text logs and JVM unified GC logs, application JSON
with ``http.status_code`` / ``latency_ms`` (OpenTelemetry-style keys), ``status`` /
``latency_ms``, ``statusCode`` / ``durationMs``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..fetch import metrics as M
from . import _formats as F
from ._apis import _routes, _users
from ._core import (
    ACCOUNT,
    ECS_EVENT_COLUMNS,
    ROUTE53_CHECKER_COLUMNS,
    UA_CLI,
    UA_CONSOLE,
    Builder,
    finish,
    hexs,
    lognormal,
    role_identity,
    uuid4s,
    window,
)
from ._fleet import STATES, Fleet, HealthConfig, Target, access_lines, alb_metrics


def _arns(region: str, lb: str, tg: str) -> tuple[str, str, str]:
    lb_suffix = f"app/{lb}"
    return (
        lb_suffix,
        f"arn:aws:elasticloadbalancing:{region}:{ACCOUNT}:loadbalancer/{lb_suffix}",
        f"arn:aws:elasticloadbalancing:{region}:{ACCOUNT}:targetgroup/{tg}",
    )


def _alb_ingest_delay(b: Builder, t: np.ndarray) -> np.ndarray:
    """ALB writes its access logs to S3 every 5 minutes; a forwarder puts them in CloudWatch Logs."""
    return (np.ceil(t / 300.0) * 300.0 - t) + b.rng.uniform(40, 150, len(t))


def _clients(b: Builder, n: int, ips: np.ndarray, u: np.ndarray) -> list[str]:
    ports = b.rng.integers(1024, 65535, n)
    return [f"{ip}:{p}" for ip, p in zip(ips[u], ports)]


def _tg_settings(b: Builder, tg_arn: str, hc: HealthConfig, *, path: str, dereg: int, target_type: str, port: int = 8080, extra: dict | None = None) -> None:
    values = {
        "TargetType": target_type, "Protocol": "HTTP", "Port": port, "HealthCheckProtocol": "HTTP", "HealthCheckPort": "traffic-port",
        "HealthCheckPath": path, "HealthCheckIntervalSeconds": int(hc.interval), "HealthCheckTimeoutSeconds": int(hc.timeout),
        "HealthyThresholdCount": hc.healthy, "UnhealthyThresholdCount": hc.unhealthy, "Matcher.HttpCode": "200",
        "deregistration_delay.timeout_seconds": dereg, "slow_start.duration_seconds": 0, "stickiness.enabled": False,
        "load_balancing.algorithm.type": "round_robin",
    }
    values.update(extra or {})
    b.settings("AWS::ElasticLoadBalancingV2::TargetGroup", tg_arn, values)


def _lb_settings(b: Builder, lb_arn: str, *, idle: int = 60, access_bucket: str = "") -> None:
    b.settings("AWS::ElasticLoadBalancingV2::LoadBalancer", lb_arn, {
        "Scheme": "internet-facing", "Type": "application", "idle_timeout.timeout_seconds": idle,
        "access_logs.s3.enabled": True, "access_logs.s3.bucket": access_bucket, "routing.http2.enabled": True,
        "routing.http.drop_invalid_header_fields.enabled": True,
    })


def _spikes(b: Builder, every: tuple[float, float], length: tuple[float, float], *, within: list[tuple[float, float]] | None = None) -> list[tuple[float, float]]:
    """Random (start, end) episodes over the segments (or the given spans)."""
    out = []
    for lo, hi in within or [(s.start, s.end) for s in b.segments]:
        t = lo + float(b.rng.uniform(0, every[1]))
        while t < hi:
            out.append((t, t + float(b.rng.uniform(*length))))
            t += float(b.rng.uniform(*every))
    return out


def _in(spans: list[tuple[float, float]], t: np.ndarray) -> np.ndarray:
    t = np.asarray(t, dtype=float)
    m = np.zeros(len(t), dtype=bool)
    for a, z in spans:
        m |= (t >= a) & (t < z)
    return m


# --------------------------------------------------------------------------------------------
# incident 6: health checks too tight for CPU spikes (EC2)
# --------------------------------------------------------------------------------------------

_CATALOG_WEB = [
    {"route": "GET /", "method": "GET", "path": "/", "weight": 14, "ms": 35, "size": 18000},
    {"route": "GET /products/{sku}", "method": "GET", "path": "/products/{sku}", "weight": 38, "ms": 48, "size": 24000},
    {"route": "GET /search", "method": "GET", "path": "/search?q=shoes", "weight": 22, "ms": 95, "size": 31000},
    {"route": "GET /api/recommendations", "method": "GET", "path": "/api/recommendations?sku={sku}", "weight": 16, "ms": 60, "size": 4200},
    {"route": "POST /cart/items", "method": "POST", "path": "/cart/items", "weight": 10, "ms": 40, "size": 900},
]


def health_check_flapping(*, seed: int = 0, scale: float = 1.0) -> Any:
    """Incident 6: interval 5 s / timeout 2 s make short CPU spikes mark healthy EC2 instances unhealthy."""
    w = window("2026-08-05T15:00:00Z", "2026-08-05T16:00:00Z")
    b = Builder("health-check-flapping", seed, scale, w, w.baseline("previous"), region="us-east-1")
    rng = b.rng
    lb_suffix, lb_arn, tg_arn = _arns(b.region, "catalog-web-prod/8d2f1c3b7a6e5d40", "catalog-web-tg/3c9e1a7b5d2f4e60")
    change = b.at("2026-08-05T15:02:14Z")
    old, new = HealthConfig(30, 5, 5, 2), HealthConfig(5, 2, 2, 2)
    ids = [f"i-0{x}" for x in hexs(b.fixed, 4, 16)]
    ips = ["10.0.1.23", "10.0.2.41", "10.0.3.17", "10.0.1.88"]
    azs = ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1a"]
    fleet = Fleet(b, tg_arn, [Target(i, ip, 8080, az, registered=b.t_baseline[0] - 86400) for i, ip, az in zip(ids, ips, azs)])
    # each instance refreshes its catalog cache every 3.5-7 minutes: 100 % CPU for 10-25 s
    spikes = [_spikes(b, (210, 420), (10, 25)) for _ in ids]

    def hc_ms(i: int, times: np.ndarray) -> np.ndarray:
        busy = _in(spikes[i], times)
        return np.where(busy, lognormal(rng, 2900.0, 0.35, len(times)), lognormal(rng, 9.0, 0.3, len(times)))

    fleet.run_health_checks(lambda t: new if t >= change else old, hc_ms)
    fleet.add_health_frame()

    t = b.arrivals(lambda s: 2.0 + 0.2 * np.sin(s / 900.0))
    n = len(t)
    r = _routes(b, _CATALOG_WEB, n)
    users = _users(b, b.count(3000), app="CatalogApp", versions=[("6.1.0", 70), ("6.0.2", 30)], shares=(0.15, 0.1, 0.7, 0.05))
    u = rng.choice(len(users["ua"]), size=n, p=users["activity"])
    tgt = fleet.route(t)
    proc = lognormal(rng, r["median_ms"], 0.5, n) / 1000.0
    busy = np.zeros(n, dtype=bool)
    for i in range(len(ids)):
        m = tgt == i
        busy[m] = _in(spikes[i], t[m])
    healthy_now = fleet.states_at(t) == STATES.index("healthy")
    others_down = (~healthy_now).sum(axis=0) - (~healthy_now[np.clip(tgt, 0, None), np.arange(n)]) > 0
    proc[busy] *= rng.uniform(8, 40, int(busy.sum()))
    proc = np.minimum(proc, 9.5)
    status = np.full(n, 200)
    status[(r["route"] == "GET /products/{sku}") & (rng.random(n) < 0.02)] = 404
    status[rng.random(n) < 0.0008] = 500
    target_status = status.copy()
    # a busy instance whose peers are out of rotation takes their load: its accept queue overflows (RST -> 502)
    rst = busy & others_down & (rng.random(n) < 0.22)
    rst |= rng.random(n) < 0.00015  # the rare keep-alive race
    status[rst] = 502
    target_status[rst] = 0
    target_s = np.where(rst, -1.0, np.round(proc, 3))
    t_end = t + np.maximum(target_s, 0) + 0.002
    sent = np.where(status == 200, np.round(r["size"] * rng.uniform(0.7, 1.3, n)), np.where(status == 502, 272, 520))
    host = "www.catalog.example.com"
    lines = access_lines(
        b, t_start=t, t_end=t_end, lb_suffix=lb_suffix, tg_arn=tg_arn, fleet=fleet, target_idx=tgt,
        client=_clients(b, n, users["ip"], u), elb_status=status, target_status=target_status, target_s=target_s,
        method=r["method"], url=[f"https://{host}:443{p}" for p in r["path"]], user_agent=users["ua"][u],
        received=rng.integers(180, 900, n), sent=sent, domain=host,
        cert_arn=f"arn:aws:acm:{b.region}:{ACCOUNT}:certificate/6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f",
    )
    access_group = "/alb/catalog-web-prod/access"
    b.log(access_group, "catalog-web-prod", t_end, lines, ingest_delay=_alb_ingest_delay(b, t_end))

    # instance logs: Spring Boot text lines, GC lines, slow requests
    app_group = "/ec2/catalog-web/application"
    for i, iid in enumerate(ids):
        sp = np.array(spikes[i]) if spikes[i] else np.zeros((0, 2))
        st, en = sp[:, 0], sp[:, 1]
        pid = int(rng.integers(1200, 4000))
        skus = rng.integers(47000, 49500, len(st))
        lines_t = np.concatenate([st, en, st + (en - st) * 0.6])
        stamp = lambda x: [f"{s_[:10]} {s_[11:23]}" for s_ in F.iso_ms(x)]  # noqa: E731
        msgs = (
            [f"{ts}  INFO {pid} --- [cache-refresh-1] c.e.catalog.CatalogCacheRefresher      : Refreshing catalog cache ({k} SKUs)" for ts, k in zip(stamp(st), skus)]
            + [f"{ts}  INFO {pid} --- [cache-refresh-1] c.e.catalog.CatalogCacheRefresher      : Catalog cache refreshed in {d:.3f} s" for ts, d in zip(stamp(en), en - st)]
            + [f"[{s_[:23]}+0000][info][gc] GC({int(g)}) Pause Young (Normal) (G1 Evacuation Pause) {a}M->{a - int(f)}M(3072M) {p:.3f}ms"
               for s_, g, a, f, p in zip(F.iso_ms(st + (en - st) * 0.6), rng.integers(800, 3000, len(st)), rng.integers(2100, 2900, len(st)),
                                         rng.integers(600, 1200, len(st)), rng.uniform(180, 650, len(st)))]
        )
        slow = np.flatnonzero((tgt == i) & (target_s > 2.5))
        lines_t = np.concatenate([lines_t, t_end[slow]])
        msgs += [f"{ts}  WARN {pid} --- [http-nio-8080-exec-{int(k)}] c.e.catalog.web.SlowRequestFilter       : Slow request {m} {p} took {int(d * 1000)} ms"
                 for ts, k, m, p, d in zip(stamp(t_end[slow]), rng.integers(1, 200, len(slow)), r["method"][slow], r["path"][slow], target_s[slow])]
        b.log(app_group, iid, lines_t, msgs)

    alb_metrics(b, lb_arn, tg_arn, fleet, t_end=t_end, elb_status=status, target_status=target_status, target_s=target_s)
    g = b.grid
    for i, iid in enumerate(ids):
        overlap = np.array([sum(max(0.0, min(z, m + 60) - max(a, m)) for a, z in spikes[i]) for m in g])
        avg = np.clip(27 + rng.normal(0, 2.5, len(g)) + overlap / 60.0 * 72, 1, 100)
        mx = np.where(overlap > 0, np.clip(96 + rng.normal(0, 2, len(g)), 0, 100), np.clip(avg + rng.uniform(2, 8, len(g)), 0, 100))
        b.metric_series(M.ec2_instance(iid, region=b.region), {
            ("CPUUtilization", "Average"): np.round(avg, 2), ("CPUUtilization", "Maximum"): np.round(mx, 2),
            ("StatusCheckFailed", "Maximum"): np.zeros(len(g)), ("StatusCheckFailed_Instance", "Maximum"): np.zeros(len(g)),
            ("StatusCheckFailed_System", "Maximum"): np.zeros(len(g)),
        })

    sre = role_identity(b, "AWSReservedSSO_SRE_2c4e6a8b0d1f3e57", "ravi.patel@catalog.example.com", mfa=True, when=change)
    b.cloudtrail(change, "elasticloadbalancing.amazonaws.com", "ModifyTargetGroup", identity=sre, user_agent=UA_CONSOLE, source_ip="198.51.100.61",
                 request={"targetGroupArn": tg_arn, "healthCheckIntervalSeconds": 5, "healthCheckTimeoutSeconds": 2, "healthyThresholdCount": 2},
                 response={"targetGroups": [{"targetGroupArn": tg_arn, "healthCheckIntervalSeconds": 5, "healthCheckTimeoutSeconds": 2,
                                             "healthyThresholdCount": 2, "unhealthyThresholdCount": 2, "healthCheckPath": "/healthz"}]})
    _tg_settings(b, tg_arn, new, path="/healthz", dereg=300, target_type="instance")
    _lb_settings(b, lb_arn, idle=60, access_bucket="catalog-alb-logs-123456789012")
    for iid in ids:
        b.settings("AWS::EC2::Instance", iid, {"InstanceType": "m6i.large", "Monitoring.State": "enabled"})

    return finish(
        b, finding_id="health-check-flapping", incident=6, title="ALB marks healthy instances unhealthy",
        description="""Intermittent 502s on the catalog site, and instances going in and out of service every few minutes
        although none was sick. At 15:02 the target group's health check was tightened to a 5 s interval and a 2 s
        timeout with thresholds of 2; each instance's cache refresh pegs its CPU for 10-25 s every few minutes, the health
        checks in those seconds time out, two misses mark the instance unhealthy and its load moves to the others, whose
        queues overflow (502). The same CPU spikes were harmless with the previous 30 s / 5 s settings.""",
        parameters={"log_groups": [access_group, app_group], "load_balancer": lb_arn, "target_group_arn": tg_arn,
                    "instance_ids": ids, "region": b.region},
    )


# --------------------------------------------------------------------------------------------
# incident 9: aggressive health checks vs response-time spikes (ECS)
# --------------------------------------------------------------------------------------------

_CHECKOUT_WEB = [
    {"route": "POST /api/checkout", "method": "POST", "path": "/api/checkout", "weight": 18, "ms": 240, "size": 700},
    {"route": "POST /api/payments/authorize", "method": "POST", "path": "/api/payments/authorize", "weight": 14, "ms": 310, "size": 420},
    {"route": "GET /api/cart", "method": "GET", "path": "/api/cart", "weight": 40, "ms": 28, "size": 2100},
    {"route": "GET /api/shipping/options", "method": "GET", "path": "/api/shipping/options", "weight": 28, "ms": 45, "size": 1300},
]


def aggressive_health_checks(*, seed: int = 0, scale: float = 1.0) -> Any:
    """Incident 9: a deep /health check with a 3 s timeout and thresholds of 2 marks tasks unhealthy on every latency spike."""
    w = window("2026-08-19T09:00:00Z", "2026-08-19T10:00:00Z")
    b = Builder("aggressive-health-checks", seed, scale, w, w.baseline("previous"), region="eu-west-1")
    rng = b.rng
    lb_suffix, lb_arn, tg_arn = _arns(b.region, "checkout-prod/5e1d9c8b7a6f4d30", "checkout-api-tg/9b8a7c6d5e4f3a21")
    cluster, service = "prod", "checkout-api"
    hc = HealthConfig(interval=10, timeout=3, healthy=3, unhealthy=2)
    dereg = 30.0
    # the payment provider's latency spikes (20-70 s) during the incident window; a calm baseline
    spikes = _spikes(b, (280, 560), (20, 60), within=[(b.t_window[0] + 300, b.t_window[1] - 120)])
    small = _spikes(b, (300, 600), (10, 25), within=[(b.t_baseline[0], b.t_baseline[1])])

    def provider_ms(times: np.ndarray) -> np.ndarray:
        k = len(times)
        base = lognormal(rng, 180.0, 0.3, k)
        return np.where(_in(spikes, times), lognormal(rng, 4200.0, 0.3, k), np.where(_in(small, times), lognormal(rng, 1400.0, 0.25, k), base))

    def hc_ms(i: int, times: np.ndarray) -> np.ndarray:
        return provider_ms(times) + lognormal(rng, 12.0, 0.3, len(times))  # /health calls the provider and the database

    azs = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]

    def new_task(at: float, slot: int, first: bool) -> Target:
        ip = f"10.1.{1 + slot % 3}.{int(rng.integers(10, 250))}"
        return Target(ip, ip, 8080, azs[slot % 3], registered=at, initially_healthy=first)

    targets = [new_task(b.t_baseline[0] - 7200, k, True) for k in range(6)]
    fleet = Fleet(b, tg_arn, targets)
    task_ids: dict[int, str] = {}
    events: list[dict[str, Any]] = []
    grace = 30.0
    done: set[int] = set()
    i = 0
    while i < len(fleet.targets):
        if i not in done:
            fleet.run_health_checks(lambda _t: hc, hc_ms, only=[i])
            done.add(i)
        tg = fleet.targets[i]
        task_ids.setdefault(i, hexs(rng, 1, 32)[0])
        bad = fleet.first_unhealthy(i, tg.registered + grace)
        if bad is not None and bad < b.t_window[1] - 5:
            # ECS starts a replacement first (maximumPercent 200) and stops the unhealthy task once
            # the replacement passes its health checks (or after three minutes)
            start = bad + float(rng.uniform(50, 90))
            fleet.targets.append(new_task(start, len(fleet.targets) % 6, False))
            k = len(fleet.targets) - 1
            task_ids[k] = hexs(rng, 1, 32)[0]
            fleet.run_health_checks(lambda _t: hc, hc_ms, only=[k])
            done.add(k)
            ready = next((t_ for t_, st, _ in fleet.targets[k].states if st == "healthy"), None)
            stop = min(ready if ready is not None else np.inf, bad + 180.0) + float(rng.uniform(1, 4))
            tg.deregistered, tg.gone = stop, stop + dereg
            fleet.run_health_checks(lambda _t: hc, hc_ms, only=[i])
            events += [
                {"timestamp": bad + float(rng.uniform(2, 6)), "message": f"(service {service}) (task {task_ids[i]}) failed ELB health checks in (target-group {tg_arn})"},
                {"timestamp": start - 40, "message": f"(service {service}) has started 1 tasks: (task {task_ids[k]})."},
                {"timestamp": start, "message": f"(service {service}) registered 1 targets in (target-group {tg_arn})"},
                {"timestamp": stop, "message": f"(service {service}) deregistered 1 targets in (target-group {tg_arn})"},
                {"timestamp": stop + dereg + 1, "message": f"(service {service}) has stopped 1 running tasks: (task {task_ids[i]})."},
            ]
        i += 1
    for seg_end in (b.t_baseline[1], b.t_window[1]):
        events.append({"timestamp": seg_end - 600, "message": f"(service {service}) has reached a steady state."})
    b.health_frame("ecs_events", ECS_EVENT_COLUMNS, [
        {"timestamp": e["timestamp"], "cluster": cluster, "service": service, "message": e["message"]}
        for e in events if b.in_segments(np.array([e["timestamp"]]))[0]])
    fleet.add_health_frame()

    t = b.arrivals(lambda s: 1.15 + 0.15 * np.sin(s / 700.0))
    n = len(t)
    r = _routes(b, _CHECKOUT_WEB, n)
    users = _users(b, b.count(4000), app="ShopCheckout", versions=[("8.4.0", 80), ("8.3.1", 20)], shares=(0.3, 0.25, 0.42, 0.03))
    u = rng.choice(len(users["ua"]), size=n, p=users["activity"])
    tgt = fleet.route(t)
    pay = np.isin(r["route"], ["POST /api/checkout", "POST /api/payments/authorize"])
    proc = lognormal(rng, r["median_ms"], 0.45, n)
    prov = provider_ms(t)
    proc[pay] += prov[pay] - 180.0
    status = np.full(n, 200)
    status[(r["method"] == "POST") & (rng.random(n) < 0.012)] = 422
    status[rng.random(n) < 0.0006] = 500
    timeout = pay & (proc > 8000)  # the app's own 8 s client timeout to the provider
    status[timeout] = 504
    proc[timeout] = 8000 + rng.uniform(2, 40, int(timeout.sum()))
    target_status = status.copy()
    # requests in flight on a task when ECS stops it are cut (502)
    gone = np.array([fleet.targets[k].gone if k >= 0 else np.inf for k in tgt])
    cut = (tgt >= 0) & (t + proc / 1000.0 > gone)
    status[cut] = 502
    target_status[cut] = 0
    target_s = np.where(cut, -1.0, np.round(proc / 1000.0, 3))
    t_end = np.where(cut, gone, t + np.maximum(target_s, 0)) + 0.002
    no_target = tgt < 0
    status[no_target], target_status[no_target], target_s[no_target] = 503, 0, -1.0
    host = "checkout.shop.example.eu"
    lines = access_lines(
        b, t_start=t, t_end=t_end, lb_suffix=lb_suffix, tg_arn=tg_arn, fleet=fleet, target_idx=tgt,
        client=_clients(b, n, users["ip"], u), elb_status=status, target_status=target_status, target_s=target_s,
        method=r["method"], url=[f"https://{host}:443{p}" for p in r["path"]], user_agent=users["ua"][u],
        received=rng.integers(300, 1400, n), sent=np.where(status == 200, np.round(r["size"] * rng.uniform(0.7, 1.3, n)), 190),
        domain=host, cert_arn=f"arn:aws:acm:{b.region}:{ACCOUNT}:certificate/0d9c8b7a-6f5e-4d3c-2b1a-0f9e8d7c6b5a", conn_trace=True,
    )
    access_group = "/alb/checkout-prod/access"
    b.log(access_group, "checkout-prod", t_end, lines, ingest_delay=_alb_ingest_delay(b, t_end))

    # task logs: one JSON line per request, health checks included
    app_group = f"/ecs/{service}"
    ok = tgt >= 0
    hc_t, hc_task, hc_lat = [], [], []
    for k, tg in enumerate(fleet.targets):
        for seg in b.segments:
            lo, hi = max(seg.start, tg.registered), min(seg.end, tg.gone)
            if hi <= lo:
                continue
            tt = np.arange(lo + float(rng.uniform(0, 10)), hi, 10.0)
            hc_t.append(tt)
            hc_task.append(np.full(len(tt), k))
            hc_lat.append(hc_ms(k, tt))
    hc_t_a, hc_task_a, hc_lat_a = np.concatenate(hc_t), np.concatenate(hc_task), np.concatenate(hc_lat)
    hc_status = np.full(len(hc_t_a), 200)  # /health answers 200 - after the ALB has given up waiting
    all_t = np.concatenate([t_end[ok], hc_t_a + hc_lat_a / 1000.0])
    all_task = np.concatenate([tgt[ok], hc_task_a])
    streams = np.array([f"{service}/app/{task_ids[k]}" for k in all_task], dtype=object)
    b.log(app_group, streams, all_t, F.json_lines({
        "ts": F.iso_ms(all_t),
        "level": ["warn" if (x > 2000) else "info" for x in np.concatenate([proc[ok], hc_lat_a])],
        "msg": ["request completed"] * len(all_t),
        "http.method": np.concatenate([r["method"][ok], np.full(len(hc_t_a), "GET", dtype=object)]),
        "http.route": np.concatenate([r["route"][ok], np.full(len(hc_t_a), "GET /health", dtype=object)]),
        "http.status_code": np.concatenate([np.where(target_status[ok] > 0, target_status[ok], 499), hc_status]),
        "latency_ms": np.round(np.concatenate([proc[ok], hc_lat_a]), 1),
        "user_agent.original": np.concatenate([users["ua"][u][ok], np.full(len(hc_t_a), "ELB-HealthChecker/2.0", dtype=object)]),
        "service.version": ["3.18.2"] * len(all_t),
        "payment.provider_ms": np.round(np.concatenate([np.where(pay[ok], prov[ok], np.nan), hc_lat_a - 12.0]), 1),
    }))

    alb_metrics(b, lb_arn, tg_arn, fleet, t_end=t_end, elb_status=status, target_status=target_status, target_s=target_s)
    g = b.grid
    for name, stat, val in (("CPUUtilization", "Average", 31 + rng.normal(0, 3, len(g))), ("CPUUtilization", "Maximum", 44 + rng.normal(0, 4, len(g))),
                            ("MemoryUtilization", "Average", 58 + rng.normal(0, 1.5, len(g)))):
        q = M.MetricQuery(M.make_id("ecs", cluster, service, name, stat), "AWS/ECS", name, {"ClusterName": cluster, "ServiceName": service},
                          stat, label=f"{cluster}/{service} {name} {stat}")
        b.metric(q, g, np.round(np.clip(val, 0, 100), 2))

    ci = role_identity(b, "github-actions-deploy", "GitHubActions", when=b.t_baseline[0])
    b.cloudtrail(b.t_baseline[0] + 1210, "ecs.amazonaws.com", "UpdateService", identity=ci, user_agent=UA_CLI.format(command="ecs.update-service"),
                 source_ip="140.82.115.9", request={"cluster": cluster, "service": service, "taskDefinition": f"{service}:88", "forceNewDeployment": False},
                 response={"service": {"serviceName": service, "desiredCount": 6, "taskDefinition": f"arn:aws:ecs:{b.region}:{ACCOUNT}:task-definition/{service}:88"}})
    _tg_settings(b, tg_arn, hc, path="/health", dereg=int(dereg), target_type="ip")
    _lb_settings(b, lb_arn, idle=60, access_bucket="checkout-alb-logs-123456789012")
    b.settings("AWS::ECS::Service", f"arn:aws:ecs:{b.region}:{ACCOUNT}:service/{cluster}/{service}", {
        "DesiredCount": 6, "HealthCheckGracePeriodSeconds": int(grace), "LaunchType": "FARGATE", "TaskDefinition": f"{service}:88",
        "DeploymentConfiguration.MinimumHealthyPercent": 100, "DeploymentConfiguration.MaximumPercent": 200})

    return finish(
        b, finding_id="health-check-flapping", incident=9, title="aggressive health checks",
        description="""Checkout tasks were marked unhealthy and replaced by ECS again and again, although nothing was wrong
        with them. The target group checks /health every 10 s with a 3 s timeout and marks a task unhealthy after 2 misses;
        /health calls the payment provider, whose latency spikes to 3-6 s for 20-70 s at a time. Every spike fails the
        checks of most tasks at once, ECS stops them, in-flight requests are cut (502) and capacity drops while new tasks
        warm up - thresholds far too tight for transient response-time spikes, on a check that should be shallow.""",
        parameters={"log_groups": [access_group, app_group], "load_balancer": lb_arn, "target_group_arn": tg_arn,
                    "ecs_cluster": cluster, "ecs_service": service, "region": b.region},
    )


# --------------------------------------------------------------------------------------------
# incident 10: deregistration delay shorter than the slowest requests
# --------------------------------------------------------------------------------------------

_REPORTS = [
    {"route": "POST /api/reports/export", "method": "POST", "path": "/api/reports/export", "weight": 30, "ms": 40000, "size": 900},
    {"route": "GET /api/reports/{id}", "method": "GET", "path": "/api/reports/{id}", "weight": 30, "ms": 85, "size": 3800},
    {"route": "GET /api/dashboards", "method": "GET", "path": "/api/dashboards", "weight": 33, "ms": 140, "size": 12000},
    {"route": "GET /api/datasets", "method": "GET", "path": "/api/datasets", "weight": 25, "ms": 60, "size": 5200},
]


def deregistration_delay_too_short(*, seed: int = 0, scale: float = 1.0) -> Any:
    """Incident 10: every blue/green deploy cuts in-flight exports (up to ~75 s) after the 30 s deregistration delay."""
    w = window("2026-10-20T13:00:00Z", "2026-10-20T14:30:00Z")
    b = Builder("deregistration-delay-too-short", seed, scale, w, w.baseline("previous"), region="us-east-2")
    rng = b.rng
    lb_suffix, lb_arn, tg_arn = _arns(b.region, "reports-prod/1f2e3d4c5b6a7980", "reports-api/4a5b6c7d8e9f0a1b")
    dereg = 30.0
    azs = ["us-east-2a", "us-east-2b", "us-east-2c"]

    def instance(at: float, k: int, healthy: bool) -> Target:
        return Target(f"i-0{hexs(rng, 1, 16)[0]}", f"10.2.{1 + k % 3}.{int(rng.integers(10, 250))}", 8000, azs[k % 3],
                      registered=at, initially_healthy=healthy)

    deploys = [b.at("2026-10-20T13:08:05Z"), b.at("2026-10-20T13:41:37Z"), b.at("2026-10-20T14:12:12Z")]
    hc = HealthConfig(15, 5, 2, 3)
    hc_ms = lambda i, times: lognormal(rng, 6.0, 0.3, len(times))  # noqa: E731
    blue = [instance(b.t_baseline[0] - 86400, k, True) for k in range(3)]
    fleet = Fleet(b, tg_arn, list(blue))
    switch_times = []
    for d in deploys:
        # CodeDeploy registers the replacement instances, then deregisters the originals as soon as
        # the replacements pass their health checks
        green = [instance(d + float(rng.uniform(200, 230)), k, False) for k in range(3)]
        fleet.targets += green
        fleet.run_health_checks(lambda _t: hc, hc_ms, only=range(len(fleet.targets) - 3, len(fleet.targets)))
        ready = max(next(t_ for t_, st, _ in g.states if st == "healthy") for g in green)
        switch = ready + float(rng.uniform(2, 9))
        for tg in blue:
            tg.deregistered, tg.gone = switch, switch + dereg
        switch_times.append(switch)
        blue = green
    fleet.run_health_checks(lambda _t: hc, hc_ms, only=range(len(fleet.targets) - 3))
    fleet.add_health_frame()

    t = b.arrivals(lambda s: 1.5 + 0.15 * np.sin(s / 1300.0))
    n = len(t)
    r = _routes(b, _REPORTS, n)
    users = _users(b, b.count(600), app="ReportsDesktop", versions=[("2.14.1", 70), ("2.13.0", 30)], shares=(0.0, 0.0, 0.92, 0.08))
    u = rng.choice(len(users["ua"]), size=n, p=users["activity"])
    tgt = fleet.route(t)
    export = r["route"] == "POST /api/reports/export"
    proc = lognormal(rng, r["median_ms"], np.where(export, 0.4, 0.5), n)
    proc = np.minimum(proc, 88000.0)
    status = np.full(n, 200)
    status[(r["route"] == "GET /api/reports/{id}") & (rng.random(n) < 0.02)] = 404
    status[rng.random(n) < 0.0007] = 500
    target_status = status.copy()
    gone = np.array([fleet.targets[k].gone if k >= 0 else np.inf for k in tgt])
    cut = (tgt >= 0) & (t + proc / 1000.0 > gone)
    status[cut] = 502
    target_status[cut] = 0
    target_s = np.where(cut, -1.0, np.round(proc / 1000.0, 3))
    t_end = np.where(cut, gone + rng.uniform(0.001, 0.01, n), t + np.maximum(target_s, 0) + 0.002)
    host = "reports.analytics.example.com"
    lines = access_lines(
        b, t_start=t, t_end=t_end, lb_suffix=lb_suffix, tg_arn=tg_arn, fleet=fleet, target_idx=tgt,
        client=_clients(b, n, users["ip"], u), elb_status=status, target_status=target_status, target_s=target_s,
        method=r["method"], url=[f"https://{host}:443{p}" for p in r["path"]], user_agent=users["ua"][u],
        received=np.where(export, rng.integers(900, 4000, n), rng.integers(250, 700, n)),
        sent=np.where(status == 200, np.round(r["size"] * rng.uniform(0.7, 1.3, n)), 272), domain=host,
        cert_arn=f"arn:aws:acm:{b.region}:{ACCOUNT}:certificate/3a2b1c0d-9e8f-4a7b-6c5d-4e3f2a1b0c9d",
    )
    access_group = "/alb/reports-prod/access"
    b.log(access_group, "reports-prod", t_end, lines, ingest_delay=_alb_ingest_delay(b, t_end))

    # application logs on the instances (JSON: status, latency_ms): exports, errors, SIGTERM (the ALB logs every request)
    app_group = "/ec2/reports-api/app"
    ok = (tgt >= 0) & (export | (target_status >= 400) | cut)
    iid = np.array([tg.id for tg in fleet.targets], dtype=object)
    jobs = [f"rpt_{x}" for x in hexs(rng, n, 12)]
    lvl = np.where(cut, "warning", np.where(target_status >= 500, "error", "info"))
    msg = np.where(cut, "export aborted: client connection closed", "request finished")
    app_t = np.where(cut, gone + 0.004, t_end - 0.001)
    b.log(app_group, iid[tgt[ok]], app_t[ok], F.json_lines({
        "timestamp": F.iso_ms(app_t[ok]), "level": lvl[ok], "logger": ["reports.http"] * int(ok.sum()), "event": msg[ok],
        "method": r["method"][ok], "path": r["path"][ok], "status": np.where(cut, 499, target_status)[ok],
        "latency_ms": np.round(np.where(cut, (gone - t) * 1000.0, proc)[ok], 1),
        "job_id": np.where(export, np.array(jobs, dtype=object), None)[ok],
    }))
    sig_t, sig_s, sig_m = [], [], []
    for tg in fleet.targets:
        if np.isfinite(tg.deregistered):
            inflight = int(((tgt >= 0) & (iid[np.clip(tgt, 0, None)] == tg.id) & (t < tg.deregistered) & (t + proc / 1000.0 > tg.deregistered)).sum())
            sig_t += [tg.gone + 0.002, tg.gone + 0.5]
            sig_s += [tg.id, tg.id]
            sig_m += F.json_lines({"timestamp": F.iso_ms(np.array([tg.gone + 0.002, tg.gone + 0.5])), "level": ["warning", "info"],
                                   "logger": ["reports.server"] * 2,
                                   "event": [f"SIGTERM received: shutting down with {inflight} requests in flight", "server stopped"]})
    b.log(app_group, sig_s, np.array(sig_t), sig_m)

    alb_metrics(b, lb_arn, tg_arn, fleet, t_end=t_end, elb_status=status, target_status=target_status, target_s=target_s)

    ci = role_identity(b, "jenkins-deployer", "jenkins-reports-api-deploy", when=deploys[0])
    cd = role_identity(b, "CodeDeployServiceRole", "CodeDeploy", invoked_by="codedeploy.amazonaws.com", when=deploys[0])
    old_ids = [tg.id for tg in fleet.targets[:3]]
    for k, (d, sw) in enumerate(zip(deploys, switch_times)):
        dep_id = f"d-{hexs(rng, 1, 9)[0].upper()}"
        greens = [tg.id for tg in fleet.targets[3 * (k + 1): 3 * (k + 2)]]
        b.cloudtrail(d, "codedeploy.amazonaws.com", "CreateDeployment", identity=ci, user_agent=UA_CLI.format(command="deploy.create-deployment"),
                     source_ip="3.140.22.87", request={"applicationName": "reports-api", "deploymentGroupName": "reports-api-prod",
                                                        "revision": {"revisionType": "S3", "s3Location": {"bucket": "reports-artifacts", "key": f"reports-api-1.{40 + k}.0.zip", "bundleType": "zip"}}},
                     response={"deploymentId": dep_id})
        b.cloudtrail(min(tg.registered for tg in fleet.targets[3 * (k + 1): 3 * (k + 2)]) - 1.0, "elasticloadbalancing.amazonaws.com", "RegisterTargets", identity=cd, user_agent="codedeploy.amazonaws.com",
                     source_ip="codedeploy.amazonaws.com", request={"targetGroupArn": tg_arn, "targets": [{"id": x, "port": 8000} for x in greens]})
        b.cloudtrail(sw, "elasticloadbalancing.amazonaws.com", "DeregisterTargets", identity=cd, user_agent="codedeploy.amazonaws.com",
                     source_ip="codedeploy.amazonaws.com", request={"targetGroupArn": tg_arn, "targets": [{"id": x, "port": 8000} for x in old_ids]})
        old_ids = greens
    _tg_settings(b, tg_arn, hc, path="/healthz", dereg=int(dereg), target_type="instance", port=8000)
    _lb_settings(b, lb_arn, idle=120, access_bucket="reports-alb-logs-123456789012")
    b.settings("AWS::CodeDeploy::DeploymentGroup", "reports-api/reports-api-prod", {
        "DeploymentStyle.DeploymentType": "BLUE_GREEN", "DeploymentStyle.DeploymentOption": "WITH_TRAFFIC_CONTROL",
        "BlueGreenDeploymentConfiguration.DeploymentReadyOption.ActionOnTimeout": "CONTINUE_DEPLOYMENT",
        "BlueGreenDeploymentConfiguration.TerminateBlueInstancesOnDeploymentSuccess.Action": "TERMINATE",
        "BlueGreenDeploymentConfiguration.TerminateBlueInstancesOnDeploymentSuccess.TerminationWaitTimeInMinutes": 0,
    })

    return finish(
        b, finding_id="deregistration-delay-too-short", incident=10, title="502s on every blue/green deploy",
        description="""Each of the afternoon's three blue/green deploys of the reports API came with a burst of 502s, about
        5 % of the requests of that minute. CodeDeploy deregisters the original instances once the replacements are
        healthy; the target group's deregistration delay is 30 s, but report exports run for up to 60-80 s, so every
        export still running 30 s after the switch is cut off and the client gets a 502.""",
        parameters={"log_groups": [access_group, app_group], "load_balancer": lb_arn, "target_group_arn": tg_arn, "region": b.region},
    )


# --------------------------------------------------------------------------------------------
# healthy: an ECS service behind an ALB and Route 53, with a rolling deploy and an IaC change
# --------------------------------------------------------------------------------------------

_STOREFRONT = [
    {"route": "GET /", "method": "GET", "path": "/", "weight": 20, "ms": 42, "size": 21000},
    {"route": "GET /p/{sku}", "method": "GET", "path": "/p/{sku}", "weight": 40, "ms": 55, "size": 26000},
    {"route": "GET /api/stock/{sku}", "method": "GET", "path": "/api/stock/{sku}", "weight": 25, "ms": 18, "size": 210},
    {"route": "POST /api/basket", "method": "POST", "path": "/api/basket", "weight": 10, "ms": 70, "size": 640},
    {"route": "GET /api/account/orders", "method": "GET", "path": "/api/account/orders", "weight": 5, "ms": 320, "size": 8800},
]


def healthy_alb_service(*, seed: int = 0, scale: float = 1.0) -> Any:
    """Healthy: an ECS service behind an ALB, a Route 53 health check, a rolling deploy, a CloudFormation SG update."""
    # about 87 requests a minute
    w = window("2026-06-24T10:00:00Z", "2026-06-24T11:00:00Z")
    b = Builder("healthy-alb-service", seed, scale, w, w.baseline("previous"), region="us-east-1")
    rng = b.rng
    lb_suffix, lb_arn, tg_arn = _arns(b.region, "storefront-prod/6c5b4a3d2e1f0987", "storefront-tg/0f1e2d3c4b5a6978")
    cluster, service = "web", "storefront"
    hc = HealthConfig(interval=15, timeout=5, healthy=3, unhealthy=3)
    dereg = 60.0
    azs = ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d"]
    deploy = b.at("2026-06-24T10:18:30Z")
    old_ips = [f"10.4.{k + 1}.{int(rng.integers(10, 250))}" for k in range(4)]
    old = [Target(ip, ip, 8080, azs[k], registered=b.t_baseline[0] - 7200) for k, ip in enumerate(old_ips)]
    new = []
    for k in range(4):
        reg = deploy + 48 + float(rng.uniform(0, 20))
        ip = f"10.4.{k + 1}.{int(rng.integers(10, 250))}"
        new.append(Target(ip, ip, 8080, azs[k], registered=reg, initially_healthy=False))
    fleet = Fleet(b, tg_arn, old + new)
    fleet.run_health_checks(lambda _t: hc, lambda i, times: lognormal(rng, 4.0, 0.3, len(times)))
    for k, tg in enumerate(old):  # ECS drains an old task once a new one is healthy
        ready = next(t for t, s, _ in new[k].states if s == "healthy" and t > deploy)
        tg.deregistered, tg.gone = ready + 1.0, ready + 1.0 + dereg
    fleet.run_health_checks(lambda _t: hc, lambda i, times: lognormal(rng, 4.0, 0.3, len(times)), only=range(4))
    fleet.add_health_frame()

    t = b.arrivals(lambda s: 1.45 + 0.2 * np.sin(s / 600.0))
    n = len(t)
    r = _routes(b, _STOREFRONT, n)
    users = _users(b, b.count(5000), app="Storefront", versions=[("4.2.0", 80), ("4.1.3", 20)], shares=(0.2, 0.15, 0.6, 0.05))
    u = rng.choice(len(users["ua"]), size=n, p=users["activity"])
    tgt = fleet.route(t)
    proc = np.minimum(lognormal(rng, r["median_ms"], 0.55, n), 7800.0)
    status = np.full(n, 200)
    status[(r["route"] == "GET /p/{sku}") & (rng.random(n) < 0.02)] = 404
    status[(r["method"] == "POST") & (rng.random(n) < 0.015)] = 400
    status[rng.random(n) < 0.001] = 500
    target_status = status.copy()
    closed = rng.random(n) < 0.0008  # clients that hung up (460)
    status[closed], target_status[closed] = 460, 0
    race = rng.random(n) < 0.0002  # keep-alive race: the odd 502
    status[race], target_status[race] = 502, 0
    target_s = np.where(closed | race, -1.0, np.round(proc / 1000.0, 3))
    t_end = t + np.where(closed, proc / 1000.0 * 0.5, np.maximum(target_s, 0)) + 0.002
    host = "shop.storefront.example.com"
    lines = access_lines(
        b, t_start=t, t_end=t_end, lb_suffix=lb_suffix, tg_arn=tg_arn, fleet=fleet, target_idx=np.where(closed, tgt, tgt),
        client=_clients(b, n, users["ip"], u), elb_status=status, target_status=target_status, target_s=target_s,
        method=r["method"], url=[f"https://{host}:443{p}" for p in r["path"]], user_agent=users["ua"][u],
        received=rng.integers(200, 1100, n), sent=np.where(status == 200, np.round(r["size"] * rng.uniform(0.7, 1.3, n)), 250),
        domain=host, cert_arn=f"arn:aws:acm:{b.region}:{ACCOUNT}:certificate/9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a",
        rule_priority=np.where(np.char.startswith(r["path"].astype(str), "/api/"), 10, 0).tolist(),
    )
    access_group = "/alb/storefront-prod/access"
    b.log(access_group, "storefront-prod", t_end, lines, ingest_delay=_alb_ingest_delay(b, t_end))
    app_group = f"/ecs/{service}"
    ok = (tgt >= 0) & (target_status > 0)
    task_id = {k: hexs(rng, 1, 32)[0] for k in range(len(fleet.targets))}
    te = t_end[ok] - 0.001
    ver = np.where(tgt[ok] >= 4, "2026.06.24-1", "2026.06.17-3")
    b.log(app_group, [f"{service}/web/{task_id[k]}" for k in tgt[ok]], te, F.json_lines({
        "time": F.iso_ms(te), "level": np.where(target_status[ok] >= 500, "ERROR", np.where(target_status[ok] >= 400, "WARN", "INFO")),
        "msg": ["handled request"] * int(ok.sum()), "route": r["route"][ok], "statusCode": target_status[ok],
        "durationMs": np.round(proc[ok], 1), "requestId": uuid4s(rng, int(ok.sum())), "version": ver,
    }))
    err = np.flatnonzero(ok & (target_status >= 500))
    b.log(app_group, [f"{service}/web/{task_id[k]}" for k in tgt[err]], t_end[err] - 0.0015, [
        "Error: connect ETIMEDOUT 10.4.200.17:6379\n    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1607:16)\n"
        "    at RedisClient.get (/app/node_modules/@redis/client/dist/lib/client/index.js:412:20)\n    at async getStock (/app/src/stock.js:31:15)"
    ] * len(err))

    alb_metrics(b, lb_arn, tg_arn, fleet, t_end=t_end, elb_status=status, target_status=target_status, target_s=target_s)
    g = b.grid
    for name, stat, val in (("CPUUtilization", "Average", 22 + rng.normal(0, 2.5, len(g))), ("CPUUtilization", "Maximum", 35 + rng.normal(0, 4, len(g))),
                            ("MemoryUtilization", "Average", 47 + rng.normal(0, 1, len(g)))):
        q = M.MetricQuery(M.make_id("ecs", cluster, service, name, stat), "AWS/ECS", name, {"ClusterName": cluster, "ServiceName": service},
                          stat, label=f"{cluster}/{service} {name} {stat}")
        b.metric(q, g, np.round(np.clip(val, 0, 100), 2))

    # Route 53 health check of the origin: healthy all along
    hc_id = "7a3c1e5b-9d2f-4b6a-8c0e-1f3a5b7c9d2e"
    b.metric_series(M.route53_health_check(hc_id), {
        ("HealthCheckStatus", "Minimum"): np.ones(len(g)), ("HealthCheckStatus", "Average"): np.ones(len(g)),
        ("HealthCheckPercentageHealthy", "Minimum"): np.full(len(g), 100.0), ("HealthCheckPercentageHealthy", "Average"): np.full(len(g), 100.0),
    })
    b.health_frame("route53_checkers", ROUTE53_CHECKER_COLUMNS, _checker_rows(b, hc_id, lambda _t: True))
    b.settings("AWS::Route53::HealthCheck", hc_id, {"Type": "HTTPS", "FullyQualifiedDomainName": "origin.storefront.example.com", "Port": 443,
                                                    "ResourcePath": "/healthz", "RequestInterval": 30, "FailureThreshold": 3, "MeasureLatency": False})

    # a rolling deploy (ECS) and a CloudFormation update that edits a security group
    ci = role_identity(b, "github-actions-deploy", "GitHubActions", when=deploy)
    b.cloudtrail(deploy, "ecs.amazonaws.com", "UpdateService", identity=ci, user_agent=UA_CLI.format(command="ecs.update-service"), source_ip="140.82.115.88",
                 request={"cluster": cluster, "service": service, "taskDefinition": f"{service}:214"},
                 response={"service": {"serviceName": service, "desiredCount": 4, "taskDefinition": f"arn:aws:ecs:{b.region}:{ACCOUNT}:task-definition/{service}:214"}})
    cfn = role_identity(b, "storefront-cfn-exec", "AWSCloudFormation", invoked_by="cloudformation.amazonaws.com", when=b.t_baseline[0])
    sg = "sg-0c1d2e3f4a5b6c7d8"
    t_cfn = b.at("2026-06-24T09:41:10Z")
    b.cloudtrail(t_cfn - 25, "cloudformation.amazonaws.com", "UpdateStack", identity=role_identity(b, "github-actions-infra", "GitHubActions", when=t_cfn),
                 user_agent=UA_CLI.format(command="cloudformation.deploy"), source_ip="140.82.115.91", request={"stackName": "storefront-network"})
    b.cloudtrail(t_cfn, "ec2.amazonaws.com", "AuthorizeSecurityGroupIngress", identity=cfn, user_agent="cloudformation.amazonaws.com",
                 source_ip="cloudformation.amazonaws.com",
                 request={"groupId": sg, "ipPermissions": {"items": [{"ipProtocol": "tcp", "fromPort": 443, "toPort": 443,
                                                                      "prefixListIds": {"items": [{"prefixListId": "pl-3b927c52", "description": "CloudFront origin-facing"}]}}]}},
                 response={"_return": True})
    b.cloudtrail(t_cfn + 6, "ec2.amazonaws.com", "RevokeSecurityGroupIngress", identity=cfn, user_agent="cloudformation.amazonaws.com",
                 source_ip="cloudformation.amazonaws.com",
                 request={"groupId": sg, "ipPermissions": {"items": [{"ipProtocol": "tcp", "fromPort": 80, "toPort": 80,
                                                                      "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}}]}},
                 response={"_return": True})
    b.settings("AWS::EC2::SecurityGroup", sg, {"GroupName": "storefront-alb", "IpPermissions": [
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": "HTTPS"}],
         "PrefixListIds": [{"PrefixListId": "pl-3b927c52", "Description": "CloudFront origin-facing"}]}]})
    _tg_settings(b, tg_arn, hc, path="/healthz", dereg=int(dereg), target_type="ip")
    _lb_settings(b, lb_arn, idle=60, access_bucket="storefront-alb-logs-123456789012")

    return finish(
        b, finding_id=None, incident=None, title="healthy ECS service behind an ALB and Route 53, with a rolling deploy",
        description="""An ordinary hour of the storefront: about 90 requests a minute through the ALB and a Route 53 health
        check that stays green. A rolling ECS deploy at 10:18 drains the old tasks for 60 s without cutting anything (requests
        take well under a second), and a CloudFormation update edits the load balancer's security group. The usual trickle:
        404s, client hang-ups (460), a Redis timeout or two (500) and the odd 502.""",
        parameters={"log_groups": [access_group, app_group], "load_balancer": lb_arn, "target_group_arn": tg_arn,
                    "health_check_id": hc_id, "security_group_ids": [sg], "ecs_cluster": cluster, "ecs_service": service, "region": b.region},
    )


#: Route 53 health checker addresses (inside the published ROUTE53_HEALTHCHECKS ranges).
CHECKERS = [
    ("us-east-1", "15.177.2.21"), ("us-east-1", "15.177.6.77"), ("us-west-1", "15.177.10.29"), ("us-west-2", "15.177.14.85"),
    ("eu-west-1", "15.177.18.42"), ("eu-west-1", "15.177.22.13"), ("ap-southeast-1", "15.177.26.58"), ("ap-southeast-2", "15.177.30.91"),
    ("ap-northeast-1", "15.177.34.36"), ("ap-northeast-1", "15.177.38.64"), ("sa-east-1", "15.177.42.17"), ("sa-east-1", "15.177.46.102"),
    ("us-west-2", "15.177.50.73"), ("us-east-1", "15.177.54.26"), ("ap-southeast-1", "15.177.58.149"), ("us-west-1", "15.177.62.88"),
]

R53_OK = "Success: HTTP Status Code 200, OK"
R53_TIMEOUT = (
    "Failure: Connection timed out. The endpoint or the internet connection is down, or requests are being blocked by your "
    "firewall. See https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-determining-health-of-endpoints.html"
)


def _checker_rows(b: Builder, hc_id: str, ok: Any, *, every: float = 120.0) -> list[dict[str, Any]]:
    """GetHealthCheckStatus observations polled every ``every`` seconds (each checker's last report)."""
    rows = []
    for seg in b.segments:
        for t in np.arange(seg.start + 30, seg.end, every):
            for region, ip in CHECKERS:
                checked = t - float(b.rng.uniform(0, 30))
                good = bool(ok(checked))
                rows.append({"timestamp": checked, "health_check_id": hc_id, "region": region, "checker_ip": ip, "checked_at": checked,
                             "status": R53_OK if good else R53_TIMEOUT, "healthy": good})
    return rows

