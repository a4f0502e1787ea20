"""Samples of causes outside the catalogue on ECS services, and a healthy one: a downstream dependency
timing out for one route (Node.js, pino / pino-http), a slower code path in a new version (Go,
zap), and a healthy Node.js service with a routine rolling deploy and scanners' 404s.

Formats exercised here: pino JSON (numeric levels, ``req``/``res`` objects, ``responseTime``,
``err`` with ``type``/``message``/``stack``), zap's production JSON encoder (``ts`` in epoch
seconds, ``caller``, ``msg``, ``duration_ms`` and ``error`` fields).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _formats as F
from ._apis import _routes, _users
from ._core import ACCOUNT, UA_CLI, Builder, finish, ip_pool, lognormal, role_identity, uuid4s, window
from ._ecs import (Task, assign_tasks, ecs_parameters, ecs_requests, ecs_service_metrics, rolling_deploy, steady_tasks,
                   task_streams)

__all__ = ["dependency_timeout", "slow_code_path", "healthy_ecs_deploy"]

_PINO_LEVEL = {"info": 30, "warn": 40, "error": 50}


def _pino_requests(b: Builder, t_end: np.ndarray, r: dict[str, np.ndarray], status: np.ndarray, latency: np.ndarray,
                   rid: list[str], ua: np.ndarray, hosts: np.ndarray, ver: np.ndarray) -> list[str]:
    """pino-http's "request completed" lines (``customLogLevel``: 4xx warn, 5xx error)."""
    level = np.where(status >= 500, 50, np.where(status >= 400, 40, 30))
    return F.json_lines({
        "level": level, "time": np.floor(t_end * 1000).astype(np.int64), "pid": [1] * len(t_end), "hostname": hosts,
        "req": [{"id": i, "method": m, "url": p, "headers": {"user-agent": a}} for i, m, p, a in zip(rid, r["method"], r["path"], ua)],
        "res": [{"statusCode": int(s)} for s in status], "responseTime": np.round(latency, 1), "appVersion": ver,
        "msg": ["request completed"] * len(t_end),
    })


def _pino_errors(t: np.ndarray, rid: list[str], hosts: np.ndarray, msg: str, etype: str, emsg: list[str], frame: str) -> list[str]:
    return F.json_lines({
        "level": [50] * len(t), "time": np.floor(t * 1000).astype(np.int64), "pid": [1] * len(t), "hostname": hosts, "reqId": rid,
        "err": [{"type": etype, "message": m, "stack": f"{etype}: {m}\n    at {frame}"} for m in emsg], "msg": [msg] * len(t),
    })


def _hostnames(tasks: list[Task], index: np.ndarray) -> np.ndarray:
    """The container hostname of each request's task (Fargate: ``ip-10-0-x-y.<region>.compute.internal``)."""
    names = np.array([f"ip-10-0-{int(x.task_id[:2], 16) % 64}-{int(x.task_id[2:4], 16)}.ec2.internal" for x in tasks], dtype=object)
    return names[index]


# --------------------------------------------------------------------------------------------
# a downstream dependency times out for one route (Node.js, pino)
# --------------------------------------------------------------------------------------------

_QUOTE_ROUTES = [
    {"route": "POST /v2/quotes", "method": "POST", "path": "/v2/quotes", "weight": 22, "ms": 180},
    {"route": "GET /v2/quotes/{id}", "method": "GET", "path": "/v2/quotes/{id}", "weight": 35, "ms": 18},
    {"route": "GET /v2/products/{sku}", "method": "GET", "path": "/v2/products/{sku}", "weight": 33, "ms": 25},
    {"route": "GET /healthz", "method": "GET", "path": "/healthz", "weight": 10, "ms": 2},
]


def dependency_timeout(*, seed: int = 0, scale: float = 1.0) -> Any:
    """A partner's FX-rates API starts timing out: only quote creation calls it, so only POST /v2/quotes fails."""
    w = window("2026-10-06T09:00:00Z", "2026-10-06T10:00:00Z")
    b = Builder("dependency-timeout", seed, scale, w, w.baseline("previous"), region="us-east-1")
    rng = b.rng
    cluster, service = "pricing", "quotes-api"
    group = f"/ecs/{service}"
    tasks = steady_tasks(b, "4.8.2", 3)
    degraded = b.at("2026-10-06T09:17:30Z")
    t = b.arrivals(lambda s: 3.0 + 0.4 * np.sin(s / 1100.0))
    n = len(t)
    r = _routes(b, _QUOTE_ROUTES, n)
    users = _users(b, b.count(700), app="QuoteApp", versions=[("3.2.0", 60), ("3.1.1", 40)], shares=(0.3, 0.3, 0.35, 0.05))
    u = rng.choice(len(users["ua"]), size=n, p=users["activity"])
    ua = users["ua"][u]
    ua[r["route"] == "GET /healthz"] = "ELB-HealthChecker/2.0"
    task = assign_tasks(b, t, tasks)
    latency = lognormal(rng, r["median_ms"], 0.4, n)
    status = np.full(n, 200)
    status[(r["route"] == "GET /v2/quotes/{id}") & (rng.random(n) < 0.025)] = 404
    status[(r["route"] == "POST /v2/quotes") & (rng.random(n) < 0.02)] = 400
    quote = r["route"] == "POST /v2/quotes"
    # the partner degrades: a rising share of its calls never answer within the 3 s client timeout
    p_timeout = np.where(t >= degraded, np.clip(0.35 + (t - degraded) / 7200.0, 0, 0.6), 0.0)
    timed_out = quote & (rng.random(n) < p_timeout)
    latency[timed_out] = 3000.0 + rng.uniform(1, 25, int(timed_out.sum())) + latency[timed_out] * 0.2
    status[timed_out] = 504
    slow_partner = quote & ~timed_out & (t >= degraded)
    latency[slow_partner] += rng.uniform(200, 1800, int(slow_partner.sum()))
    oops = (rng.random(n) < 0.001) & (status == 200)
    status[oops] = 500
    t_end = t + latency / 1000.0
    rid = uuid4s(rng, n)
    hosts = _hostnames(tasks, task)
    streams = task_streams(tasks, task, service)
    ver = np.full(n, "4.8.2", dtype=object)
    b.log(group, streams, t_end, _pino_requests(b, t_end, r, status, latency, rid, ua, hosts, ver))
    k = np.flatnonzero(timed_out)
    b.log(group, streams[k], t_end[k] - 0.001, _pino_errors(
        t_end[k] - 0.001, [rid[i] for i in k], hosts[k], "rates lookup failed", "TimeoutError",
        [f"request to https://api.fxpartner.example/v1/rates?pair=EUR{c} timed out after 3000 ms" for c in
         rng.choice(["USD", "GBP", "CHF", "JPY"], len(k))], "RatesClient.fetch (/app/dist/rates/client.js:48:15)"))
    k = np.flatnonzero(oops)
    b.log(group, streams[k], t_end[k] - 0.001, _pino_errors(
        t_end[k] - 0.001, [rid[i] for i in k], hosts[k], "unhandled error", "TypeError",
        ["Cannot read properties of undefined (reading 'currency')"] * len(k), "toQuote (/app/dist/quotes/map.js:22:31)"))
    ecs_service_metrics(b, cluster, service, t, latency, tasks)
    ops = role_identity(b, "AWSReservedSSO_PlatformOps_5c7e9a1b3d5f7a9c", "dana.w@quotes.example", when=b.t_baseline[0])
    b.cloudtrail(b.t_baseline[0] - 4 * 3600 + 611, "ecs.amazonaws.com", "UpdateService", identity=ops,
                 user_agent=UA_CLI.format(command="ecs.update-service"), source_ip="198.51.100.23",
                 request={"cluster": cluster, "service": service, "desiredCount": 3})
    b.cloudtrail(b.t_baseline[0] + 2410, "monitoring.amazonaws.com", "PutMetricAlarm", identity=ops,
                 user_agent=UA_CLI.format(command="cloudwatch.put-metric-alarm"), source_ip="198.51.100.23",
                 request={"alarmName": "quotes-api-p99", "threshold": 1500.0, "evaluationPeriods": 5})
    b.settings("AWS::ECS::TaskDefinition", f"arn:aws:ecs:{b.region}:{ACCOUNT}:task-definition/{service}:214", {
        "Environment.RATES_URL": "https://api.fxpartner.example/v1/rates", "Environment.RATES_TIMEOUT_MS": "3000",
        "Environment.NODE_ENV": "production", "Cpu": "512", "Memory": "1024"})
    return finish(
        b, finding_id="error-spike", incident=None, title="a downstream dependency times out for one route (Node.js on ECS)",
        description="""The quotes service (Node.js 20, pino-http) creates each quote with a call to a partner's FX-rates API
        under a 3-second timeout. From 09:17 the partner degrades: more and more of those calls time out and POST /v2/quotes
        answers 504, while reading quotes and products, which never call the partner, is untouched. Nothing changed on the
        service itself; the cause is outside the account.""",
        parameters=ecs_parameters(b, cluster, service),
    )


# --------------------------------------------------------------------------------------------
# a slower code path in a new version (Go, zap)
# --------------------------------------------------------------------------------------------

_SEARCH_ROUTES = [
    {"route": "GET /v1/search", "method": "GET", "path": "/v1/search", "weight": 38, "ms": 70},
    {"route": "GET /v1/items/{id}", "method": "GET", "path": "/v1/items/{id}", "weight": 40, "ms": 14},
    {"route": "GET /v1/suggest", "method": "GET", "path": "/v1/suggest", "weight": 17, "ms": 9},
    {"route": "POST /v1/events", "method": "POST", "path": "/v1/events", "weight": 5, "ms": 6},
]


def _zap(t: np.ndarray, level: np.ndarray, caller: str | np.ndarray, msg: np.ndarray, fields: dict[str, Any]) -> list[str]:
    """zap's production JSON encoder: ``level``, ``ts`` (epoch seconds), ``caller``, ``msg``, then the fields."""
    n = len(t)
    cols: dict[str, Any] = {"level": level, "ts": np.round(t, 6), "caller": [caller] * n if isinstance(caller, str) else caller,
                            "msg": msg}
    cols.update(fields)
    return F.json_lines(cols)


def slow_code_path(*, seed: int = 0, scale: float = 1.0) -> Any:
    """Version 3.14.0 of a Go search service loads facets one query at a time (N+1): search gets slow, nothing fails."""
    w = window("2026-09-09T16:00:00Z", "2026-09-09T17:00:00Z")
    b = Builder("slow-code-path", seed, scale, w, w.baseline("previous"), region="eu-central-1")
    rng = b.rng
    cluster, service = "catalog", "search-api"
    group = f"/ecs/{service}"
    deploy = b.at("2026-09-09T16:05:40Z")
    tasks = rolling_deploy(b, service, old=("3.13.2", 3), new=("3.14.0", 3), start=deploy + 55, every=60.0)
    t, r, task, ver = ecs_requests(b, _SEARCH_ROUTES, lambda s: 4.0 + 0.5 * np.sin(s / 1500.0), tasks)
    n = len(t)
    latency = lognormal(rng, r["median_ms"], 0.45, n)
    search = r["route"] == "GET /v1/search"
    facets = rng.integers(4, 40, n)
    slow = search & (ver == "3.14.0")
    latency[slow] += facets[slow] * lognormal(rng, 19.0, 0.35, int(slow.sum()))  # one query per facet
    status = np.full(n, 200)
    status[(r["route"] == "GET /v1/items/{id}") & (rng.random(n) < 0.03)] = 404
    status[(r["method"] == "POST") & (rng.random(n) < 0.01)] = 400
    failed = (rng.random(n) < 0.0012) & (status == 200)
    status[failed] = 500
    t_end = t + latency / 1000.0
    rid = uuid4s(rng, n)
    streams = task_streams(tasks, task, service)
    level = np.where(status >= 500, "error", np.where(status >= 400, "warn", "info"))
    b.log(group, streams, t_end, _zap(t_end, level, "httpserver/middleware.go:58", np.full(n, "request", dtype=object), {
        "method": r["method"], "path": r["path"], "status": status, "duration_ms": np.round(latency, 2),
        "request_id": rid, "remote_addr": [f"{ip}:{p}" for ip, p in zip(ip_pool(rng, n, private=True), rng.integers(30000, 60000, n))],
        "version": ver,
    }))
    k = np.flatnonzero(failed)
    b.log(group, streams[k], t_end[k] - 0.0005, _zap(
        t_end[k] - 0.0005, np.full(len(k), "error", dtype=object), "search/handler.go:141",
        np.full(len(k), "search failed", dtype=object),
        {"request_id": [rid[i] for i in k], "error": ["opensearch: 429 Too Many Requests: circuit_breaking_exception"] * len(k),
         "stacktrace": ["main.(*Handler).Search\n\t/src/search/handler.go:141\nnet/http.HandlerFunc.ServeHTTP"] * len(k)}))
    ecs_service_metrics(b, cluster, service, t, latency, tasks)
    ci = role_identity(b, "search-deployer", "github-actions-search-api", when=deploy)
    ua = "aws-sdk-go-v2/1.30.3 os/linux lang/go#1.22.5 md/GOOS#linux md/GOARCH#amd64 api/ecs#1.44.2"
    b.cloudtrail(deploy - 20, "ecs.amazonaws.com", "RegisterTaskDefinition", identity=ci, user_agent=ua, source_ip="140.82.112.5",
                 request={"family": service, "cpu": "1024", "memory": "2048"},
                 response={"taskDefinition": {"family": service, "revision": 61}})
    b.cloudtrail(deploy, "ecs.amazonaws.com", "UpdateService", identity=ci, user_agent=ua, source_ip="140.82.112.5",
                 request={"cluster": cluster, "service": service, "taskDefinition": f"{service}:61"},
                 response={"service": {"serviceName": service, "desiredCount": 3}})
    b.settings("AWS::ECS::TaskDefinition", f"arn:aws:ecs:{b.region}:{ACCOUNT}:task-definition/{service}:61", {
        "Image": f"{ACCOUNT}.dkr.ecr.{b.region}.amazonaws.com/search-api:3.14.0", "Environment.GOMAXPROCS": "2",
        "Environment.OPENSEARCH_URL": "https://search-catalog.internal:443", "Cpu": "1024", "Memory": "2048"})
    return finish(
        b, finding_id="latency-regression", incident=None, title="a slower code path in a new version (Go on ECS)",
        description="""The catalog search service (Go 1.22, zap) rolls out version 3.14.0 from 16:06. The new version loads
        search facets with one query each instead of one batched query, so GET /v1/search takes hundreds of milliseconds
        more, growing with the number of facets, while nothing fails and the other routes keep their speed.""",
        parameters=ecs_parameters(b, cluster, service),
    )


# --------------------------------------------------------------------------------------------
# healthy: a routine rolling deploy, scanners' 404s, a steady trickle of errors (Node.js, pino)
# --------------------------------------------------------------------------------------------

_PROFILE_ROUTES = [
    {"route": "GET /v1/profiles/{id}", "method": "GET", "path": "/v1/profiles/{id}", "weight": 55, "ms": 16},
    {"route": "PATCH /v1/profiles/{id}", "method": "PATCH", "path": "/v1/profiles/{id}", "weight": 12, "ms": 40},
    {"route": "GET /v1/profiles/{id}/avatar", "method": "GET", "path": "/v1/profiles/{id}/avatar", "weight": 25, "ms": 30},
    {"route": "POST /v1/sessions", "method": "POST", "path": "/v1/sessions", "weight": 8, "ms": 85},
]
_SCANNER_PATHS = ["/wp-login.php", "/.env", "/admin/config.php", "/.git/config", "/phpmyadmin/index.php", "/api/v1/../../etc/passwd"]


def healthy_ecs_deploy(*, seed: int = 0, scale: float = 1.0) -> Any:
    """Healthy: a Node.js profile service, a routine rolling deploy, scanners probing for admin pages, the usual errors."""
    w = window("2026-10-13T11:00:00Z", "2026-10-13T12:00:00Z")
    b = Builder("healthy-ecs-deploy", seed, scale, w, w.baseline("previous"), region="ap-southeast-2")
    rng = b.rng
    cluster, service = "accounts", "profile-api"
    group = f"/ecs/{service}"
    deploy = b.at("2026-10-13T11:31:50Z")
    tasks = rolling_deploy(b, service, old=("7.2.0", 2), new=("7.3.0", 2), start=deploy + 65, every=70.0)
    t = b.arrivals(lambda s: 2.4 + 0.3 * np.sin(s / 1700.0))
    n = len(t)
    r = _routes(b, _PROFILE_ROUTES, n)
    users = _users(b, b.count(800), app="Profiles", versions=[("2.4.0", 70), ("2.3.1", 30)], shares=(0.35, 0.35, 0.28, 0.02))
    u = rng.choice(len(users["ua"]), size=n, p=users["activity"])
    ua, path = users["ua"][u].copy(), r["path"].copy()
    method = r["method"].copy()
    scan = rng.random(n) < 0.04  # a few scanners walk admin paths all day: steady 404s
    path[scan] = rng.choice(_SCANNER_PATHS, int(scan.sum()))
    method[scan] = "GET"
    ua[scan] = rng.choice(["Mozilla/5.0 zgrab/0.x", "python-requests/2.31.0", "Go-http-client/1.1"], int(scan.sum()))
    task = assign_tasks(b, t, tasks)
    ver = np.array([tasks[k].version for k in task], dtype=object)
    latency = lognormal(rng, r["median_ms"], 0.45, n)
    latency[scan] = rng.uniform(0.4, 2.0, int(scan.sum()))
    # cold starts: each new task's first requests pay for loading modules and opening the Mongo pool
    start_of = np.array([tasks[k].start for k in task])
    cold = np.isfinite(start_of) & (t - start_of < 8.0) & ~scan
    latency[cold] += rng.uniform(300, 1100, int(cold.sum()))
    status = np.full(n, 200)
    status[scan] = 404
    status[(r["route"] == "GET /v1/profiles/{id}") & ~scan & (rng.random(n) < 0.015)] = 404
    status[(r["route"] == "POST /v1/sessions") & ~scan & (rng.random(n) < 0.06)] = 401
    boom = ~scan & (rng.random(n) < 0.002)
    status[boom] = 500
    t_end = t + latency / 1000.0
    rid = uuid4s(rng, n)
    hosts = _hostnames(tasks, task)
    streams = task_streams(tasks, task, service)
    routes = {"route": r["route"], "method": method, "path": path}
    b.log(group, streams, t_end, _pino_requests(b, t_end, routes, status, latency, rid, ua, hosts, np.full(n, "", dtype=object)))
    k = np.flatnonzero(boom)
    b.log(group, streams[k], t_end[k] - 0.001, _pino_errors(
        t_end[k] - 0.001, [rid[i] for i in k], hosts[k], "profile store error", "MongoServerError",
        [f"WriteConflict error: this operation conflicted with another operation (txn {x})" for x in rng.integers(1e6, 9e6, len(k))],
        "ProfileStore.save (/app/dist/store.js:77:11)"))
    # the new version logs a new, rare error: two avatars whose resize failed
    rare = np.flatnonzero((ver == "7.3.0") & (r["route"] == "GET /v1/profiles/{id}/avatar") & (status == 200))[:2]
    b.log(group, streams[rare], t_end[rare] - 0.002, _pino_errors(
        t_end[rare] - 0.002, [rid[i] for i in rare], hosts[rare], "avatar resize failed, serving original", "Error",
        ["Input buffer contains unsupported image format"] * len(rare), "resize (/app/dist/avatar/sharp.js:31:9)"))
    ecs_service_metrics(b, cluster, service, t, latency, tasks)
    ci = role_identity(b, "profile-deployer", "buildkite-profile-api-981", when=deploy)
    ua_ci = UA_CLI.format(command="ecs.update-service")
    b.cloudtrail(deploy, "ecs.amazonaws.com", "UpdateService", identity=ci, user_agent=ua_ci, source_ip="52.64.18.3",
                 request={"cluster": cluster, "service": service, "taskDefinition": f"{service}:132"},
                 response={"service": {"serviceName": service, "desiredCount": 2}})
    iac = role_identity(b, "profile-terraform", "atlantis-plan-apply", when=b.t_baseline[0])
    b.cloudtrail(b.t_baseline[0] + 1207, "application-autoscaling.amazonaws.com", "PutScalingPolicy", identity=iac,
                 user_agent="APN/1.0 HashiCorp/1.0 Terraform/1.8.5 aws-sdk-go-v2/1.30.1", source_ip="52.64.18.9",
                 request={"policyName": "profile-api-cpu", "serviceNamespace": "ecs", "resourceId": f"service/{cluster}/{service}",
                          "scalableDimension": "ecs:service:DesiredCount", "policyType": "TargetTrackingScaling"})
    b.settings("AWS::ECS::TaskDefinition", f"arn:aws:ecs:{b.region}:{ACCOUNT}:task-definition/{service}:132", {
        "Image": f"{ACCOUNT}.dkr.ecr.{b.region}.amazonaws.com/profile-api:7.3.0", "Environment.NODE_ENV": "production",
        "Environment.MONGO_URL": "mongodb+srv://profiles.internal/profiles", "Cpu": "512", "Memory": "1024"})
    return finish(
        b, finding_id=None, incident=None, title="healthy Node.js service on ECS: a routine deploy, scanners' 404s",
        description="""An hour of the profile service (Node.js 20, pino-http) with a routine rolling deploy of 7.3.0 at
        11:32 (each new task's first requests slow while it warms up), scanners probing admin pages (a steady 4 % of
        requests answered 404), expired sessions (401), write conflicts answered 500 at 0.2 %, and one new but rare
        error of the new version. Nothing here is an incident.""",
        parameters=ecs_parameters(b, cluster, service),
    )
