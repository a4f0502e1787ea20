"""Samples of causes outside the catalogue, seen through the generic findings (``error-spike``,
``latency-regression``): an out-of-memory kill after a deploy (Python Lambda behind an HTTP
API) and a deploy that shipped a missing configuration key (Java, Log4j2's ECS JSON layout,
on ECS Fargate). :mod:`._services` holds the Node.js and Go ones and a healthy ECS service.

Formats exercised here: HTTP API JSON access logs carrying the integration request id, Lambda
platform text lines with ``RequestId: ... Error: Runtime exited with error: signal: killed``
and ``Runtime.ExitError``, Python runtime lines, Log4j2 ``EcsLayout`` JSON lines (``log.level``,
``error.type``, ``error.stack_trace``, ``event.duration`` in nanoseconds).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..fetch import metrics as M
from . import _formats as F
from ._apis import _apigw_metrics, _lambda_metrics, _merge, _ms_text, _routes, _users
from ._core import ACCOUNT, UA_BOTO3, UA_CLI, Builder, b64ids, finish, hexs, lognormal, role_identity, uuid4s, window
from ._ecs import ecs_parameters, ecs_requests, ecs_service_metrics, rolling_deploy, task_streams
from ._lambda import LambdaFunction, platform_text_lines, simulate

__all__ = ["oom_after_deploy", "missing_config_key"]

_EXPORT_ROUTES = [
    {"route": "POST /v1/export", "method": "POST", "path": "/v1/export", "weight": 14, "ms": 900, "size": 180},
    {"route": "GET /v1/exports/{id}", "method": "GET", "path": "/v1/exports/{id}", "weight": 45, "ms": 35, "size": 900},
    {"route": "GET /v1/jobs", "method": "GET", "path": "/v1/jobs", "weight": 30, "ms": 60, "size": 2400},
    {"route": "DELETE /v1/exports/{id}", "method": "DELETE", "path": "/v1/exports/{id}", "weight": 6, "ms": 45, "size": 60},
    {"route": "GET /v1/health", "method": "GET", "path": "/v1/health", "weight": 5, "ms": 3, "size": 20, "auth": False},
]


def oom_after_deploy(*, seed: int = 0, scale: float = 1.0) -> Any:
    """Version 42 of a Python export function loads whole exports into memory: large ones are OOM-killed."""
    w = window("2026-07-21T14:00:00Z", "2026-07-21T15:00:00Z")
    b = Builder("oom-after-deploy", seed, scale, w, w.baseline("previous"), region="eu-west-1")
    rng = b.rng
    api_id = "p4x8k2m7wd"
    access_group = "/aws/vendedlogs/apigateway/reports-api"
    fn = LambdaFunction("export-fn", memory_mb=512, timeout_s=30, runtime="python:3.12.v38",
                        runtime_arn_hash=hexs(rng, 1, 64)[0], region=b.region, base_memory_mb=118)
    fn_arn = f"arn:aws:lambda:{b.region}:{ACCOUNT}:function:{fn.name}"
    code, publish, alias = b.at("2026-07-21T13:58:41Z"), b.at("2026-07-21T13:59:12Z"), b.at("2026-07-21T14:02:03Z")

    t = b.arrivals(lambda s: 0.55 + 0.06 * np.sin(s / 900.0))
    n = len(t)
    r = _routes(b, _EXPORT_ROUTES, n)
    users = _users(b, b.count(400), app="ReportsConsole", versions=[("5.2.0", 70), ("5.1.3", 30)], shares=(0.1, 0.1, 0.7, 0.1))
    u = rng.choice(len(users["ua"]), size=n, p=users["activity"])
    export = r["route"] == "POST /v1/export"
    rows = np.round(np.exp(rng.normal(11.2, 1.0, n))).astype(int)  # rows an export holds: log-normal, median ~73k
    version = np.where(t >= alias, "42", "41")
    # version 42 builds the whole file in memory: ~2.9 kB a row on top of the runtime
    mem_need = fn.base_memory_mb + np.where(version == "42", rows * 0.0029, 38 + rows * 0.00004)
    oom = export & (mem_need > fn.memory_mb)
    handler = lognormal(rng, r["median_ms"], 0.45, n) + np.where(export, rows * 0.004, 0.0)
    handler[oom] = np.minimum(handler[oom], rng.uniform(900, 4200, int(oom.sum())))  # killed before it finishes

    status = np.full(n, 200)
    status[(r["route"] == "GET /v1/exports/{id}") & (rng.random(n) < 0.03)] = 404
    status[export & (rng.random(n) < 0.012)] = 400
    bug = (r["route"] == "GET /v1/jobs") & (rng.random(n) < 0.004)
    status[bug] = 500
    status[oom] = 500

    parts = []
    for v in ("41", "42"):
        m = version == v
        inv = simulate(b, fn, t[m], handler[m], init_ms=lambda k: rng.uniform(610, 1150, k), version=lambda s, v=v: v,
                       warm_at_start=4 if v == "41" else 0, cold_extra_ms=rng.uniform(40, 160, int(m.sum())))
        parts.append((m, inv))
    latency = np.zeros(n)
    integ = np.full(n, np.nan)
    rid = np.empty(n, dtype=object)
    for m, inv in parts:
        idx = np.flatnonzero(m)
        integ[idx] = np.nan_to_num(inv.init_ms) + inv.duration_ms + rng.uniform(2, 6, len(idx))
        latency[idx] = integ[idx] + rng.uniform(2, 8, len(idx))
        rid[idx] = inv.request_id
        _function_lines(b, fn, inv, oom[idx], status[idx], r["route"][idx], rows[idx])
    t_end = t + latency / 1000.0
    b.log(access_group, f"{api_id}_$default", t_end, F.json_lines({
        "requestId": b64ids(rng, n), "integrationRequestId": list(rid), "ip": users["ip"][u], "requestTime": F.clf_time(t),
        "httpMethod": r["method"], "routeKey": r["route"], "status": [str(s) for s in status], "protocol": ["HTTP/1.1"] * n,
        "responseLength": [str(int(x)) if s == 200 else "35" for x, s in zip(r["size"], status)],
        "integrationLatency": _ms_text(integ), "responseLatency": [str(int(round(x))) for x in latency],
        "integrationErrorMessage": ["The Lambda function returned the following error: Runtime exited with error: signal: killed"
                                    if o else "-" for o in oom],
        "userAgent": users["ua"][u],
    }))
    _apigw_metrics(b, M.api_gateway(api_id, "$default", region=b.region), t_end, status, latency, integ, http=True)
    _lambda_metrics(b, fn, _merge(parts, n, t), errors=oom | bug)
    _oom_changes(b, fn, fn_arn, code, publish, alias)
    return finish(
        b, finding_id="error-spike", incident=None, title="out-of-memory kills after a deploy (Python Lambda)",
        description="""The reports API exports customer data through a Python function behind an HTTP API. Version 42,
        published at 13:59 and put behind the live alias at 14:02, builds each export file in memory instead of
        streaming it: every export above about 136,000 rows now exceeds the function's 512 MB and is killed
        (Runtime exited with error: signal: killed), about a third of POST /v1/export. Nothing else changed; the
        other routes and the usual trickle of 404s, 400s and one old bug are as before.""",
        parameters={"log_groups": [access_group, fn.log_group], "api_id": api_id, "function_name": fn.name, "region": b.region},
    )


def _function_lines(b: Builder, fn: LambdaFunction, inv: Any, oom: np.ndarray, status: np.ndarray, route: np.ndarray,
                    rows: np.ndarray) -> None:
    """Platform lines (REPORT at the memory size and the runtime's exit for a kill) and the app's own lines."""
    rng = b.rng
    ts, ss, ms = platform_text_lines(b, fn, inv)
    killed = {inv.request_id[i] for i in np.flatnonzero(oom)}
    ms = [(m.split("\tMax Memory Used: ")[0] + f"\tMax Memory Used: {fn.memory_mb} MB\t")
          if m.startswith("REPORT") and m[18:54] in killed else m for m in ms]
    b.log(fn.log_group, ss, ts, ms)
    k = np.flatnonzero(oom)
    if len(k):
        b.log(fn.log_group, inv.stream[k], inv.end[k] - 0.0004,
              [f"RequestId: {inv.request_id[i]} Error: Runtime exited with error: signal: killed\nRuntime.ExitError" for i in k])
    start = inv.start + 0.0009
    export = np.flatnonzero(route == "POST /v1/export")
    jobs = [f"exp_{x}" for x in hexs(rng, len(export), 12)]
    b.log(fn.log_group, inv.stream[export], start[export], F.python_runtime(
        start[export], ["INFO"] * len(export), [inv.request_id[i] for i in export],
        [f"export {j}: {int(rows[i]):,} rows from orders_{int(rows[i]) % 7}" for j, i in zip(jobs, export)]))
    bug = np.flatnonzero((status == 500) & ~oom)
    b.log(fn.log_group, inv.stream[bug], inv.end[bug] - 0.0006, [
        f"[ERROR]\t{F.iso_ms(np.array([inv.end[i]]))[0]}\t{inv.request_id[i]}\tKeyError: 'owner_id'\nTraceback (most recent call last):\n"
        f'  File "/var/task/app/jobs.py", line 88, in list_jobs\n    owner = job["owner_id"]\nKeyError: \'owner_id\''
        for i in bug])


def _oom_changes(b: Builder, fn: LambdaFunction, fn_arn: str, code: float, publish: float, alias: float) -> None:
    ci = role_identity(b, "reports-deploy", "github-actions-4471", when=code)
    ua = UA_BOTO3 + " aws-sam-cli/1.121.0"
    b.cloudtrail(code, "lambda.amazonaws.com", "UpdateFunctionCode20150331v2", identity=ci, user_agent=ua, source_ip="20.42.11.8",
                 request={"functionName": fn.name, "s3Bucket": "reports-artifacts-eu-west-1", "s3Key": "export-fn/9b41c2e.zip"})
    b.cloudtrail(publish, "lambda.amazonaws.com", "PublishVersion20150331", identity=ci, user_agent=ua, source_ip="20.42.11.8",
                 request={"functionName": fn.name, "description": "9b41c2e stream-free exports"},
                 response={"version": "42", "functionArn": f"{fn_arn}:42"})
    b.cloudtrail(alias, "lambda.amazonaws.com", "UpdateAlias20150331", identity=ci, user_agent=ua, source_ip="20.42.11.8",
                 request={"functionName": fn.name, "name": "live", "functionVersion": "42"})
    ops = role_identity(b, "AWSReservedSSO_Observability_2b4d6f8a0c1e3a5b", "tom.r@reports.example", when=b.t_baseline[0])
    b.cloudtrail(b.t_baseline[0] + 1311, "monitoring.amazonaws.com", "PutMetricAlarm", identity=ops,
                 user_agent=UA_CLI.format(command="cloudwatch.put-metric-alarm"), source_ip="198.51.100.40",
                 request={"alarmName": "reports-api-5xx", "threshold": 5.0, "evaluationPeriods": 3})
    b.settings("AWS::Lambda::Function", fn_arn, {"Runtime": "python3.12", "MemorySize": fn.memory_mb, "Timeout": int(fn.timeout_s),
                                                 "Version": "42", "Handler": "app.handler.main"})


# --------------------------------------------------------------------------------------------
# a deploy that shipped a missing configuration key (Java, Log4j2 EcsLayout, ECS Fargate)
# --------------------------------------------------------------------------------------------

_BILLING_ROUTES = [
    {"route": "GET /api/invoices/{id}", "method": "GET", "path": "/api/invoices/{id}", "weight": 40, "ms": 28},
    {"route": "GET /api/invoices", "method": "GET", "path": "/api/invoices", "weight": 22, "ms": 75},
    {"route": "POST /api/invoices", "method": "POST", "path": "/api/invoices", "weight": 15, "ms": 95},
    {"route": "POST /api/invoices/{id}/finalize", "method": "POST", "path": "/api/invoices/{id}/finalize", "weight": 11, "ms": 140},
    {"route": "GET /api/customers/{id}", "method": "GET", "path": "/api/customers/{id}", "weight": 12, "ms": 22},
]
_TAX_STACK = (
    "java.lang.IllegalStateException: Missing required configuration key 'billing.tax.endpoint'\n"
    "\tat com.acme.billing.config.RequiredConfig.require(RequiredConfig.java:41)\n"
    "\tat com.acme.billing.tax.TaxClient.<init>(TaxClient.java:57)\n"
    "\tat com.acme.billing.invoice.FinalizeService.finalize(FinalizeService.java:112)\n"
    "\tat com.acme.billing.api.InvoiceController.finalize(InvoiceController.java:88)"
)


def missing_config_key(*, seed: int = 0, scale: float = 1.0) -> Any:
    """Task definition 88 of a Java billing service ships without a configuration key only invoice finalisation reads."""
    w = window("2026-08-04T10:00:00Z", "2026-08-04T11:00:00Z")
    b = Builder("missing-config-key", seed, scale, w, w.baseline("previous"), region="us-east-2")
    rng = b.rng
    cluster, service = "finance", "billing-api"
    group = f"/ecs/{service}"
    deploy = b.at("2026-08-04T10:14:20Z")
    tasks = rolling_deploy(b, service, old=("2.13.4", 4), new=("2.14.0", 4), start=deploy + 70, every=75.0)
    t, r, task, ver = ecs_requests(b, _BILLING_ROUTES, lambda s: 2.2 + 0.3 * np.sin(s / 1300.0), tasks)
    n = len(t)
    proc = lognormal(rng, r["median_ms"], 0.45, n)
    status = np.full(n, 200)
    status[(r["route"] == "GET /api/invoices/{id}") & (rng.random(n) < 0.02)] = 404
    status[(r["method"] == "POST") & (rng.random(n) < 0.015)] = 422
    missing = (r["route"] == "POST /api/invoices/{id}/finalize") & (ver == "2.14.0")
    status[missing] = 500
    proc[missing] = rng.uniform(6, 14, int(missing.sum()))
    flaky = (rng.random(n) < 0.0015) & (status == 200)
    status[flaky] = 503
    t_end = t + proc / 1000.0
    streams = task_streams(tasks, task, service)
    threads = [f"http-nio-8080-exec-{k}" for k in rng.integers(1, 60, n)]
    rid = uuid4s(rng, n)
    b.log(group, streams, t_end, F.json_lines({
        "@timestamp": F.iso_ms(t_end), "ecs.version": ["1.2.0"] * n,
        "log.level": np.where(status >= 500, "ERROR", np.where(status >= 400, "WARN", "INFO")),
        "message": [f"{m} {p} {s} {d:.0f}ms" for m, p, s, d in zip(r["method"], r["path"], status, proc)],
        "process.thread.name": threads, "log.logger": ["com.acme.billing.web.AccessLogFilter"] * n,
        "http.request.id": rid, "http.request.method": r["method"], "url.path": r["path"],
        "http.response.status_code": status, "event.duration": (proc * 1e6).astype(np.int64),
        "service.name": [service] * n, "service.version": ver,
    }))
    _billing_errors(b, group, streams, t_end, rid, threads, missing, flaky)
    ecs_service_metrics(b, cluster, service, t, proc, tasks)
    _billing_changes(b, cluster, service, deploy)
    return finish(
        b, finding_id="error-spike", incident=None, title="a deploy shipped a missing configuration key (Java on ECS)",
        description="""The billing service (Java 21, Spring Boot, Log4j2 ECS layout) rolls out task definition 88 from
        10:15. The new version reads billing.tax.endpoint when an invoice is finalised, but the key was never added to
        the task definition's environment: every POST /api/invoices/{id}/finalize served by a new task fails with
        IllegalStateException, while every other route works. Rolling the deploy back, or adding the key, ends it.""",
        parameters=ecs_parameters(b, cluster, service),
    )


def _billing_errors(b: Builder, group: str, streams: np.ndarray, t_end: np.ndarray, rid: list[str], threads: list[str],
                    missing: np.ndarray, flaky: np.ndarray) -> None:
    """The controller's ERROR lines: the missing key on new tasks, and the usual rare downstream 503."""
    for mask, message, etype, emsg, stack in (
        (missing, "Invoice finalisation failed", "java.lang.IllegalStateException",
         "Missing required configuration key 'billing.tax.endpoint'", _TAX_STACK),
        (flaky, "Customer lookup failed", "org.springframework.web.client.HttpServerErrorException$ServiceUnavailable",
         "503 Service Unavailable: [no body]",
         "org.springframework.web.client.HttpServerErrorException$ServiceUnavailable: 503 Service Unavailable: [no body]\n"
         "\tat com.acme.billing.customer.CustomerClient.fetch(CustomerClient.java:64)"),
    ):
        k = np.flatnonzero(mask)
        if not len(k):
            continue
        tt = t_end[k] - 0.002
        b.log(group, streams[k], tt, F.json_lines({
            "@timestamp": F.iso_ms(tt), "ecs.version": ["1.2.0"] * len(k), "log.level": ["ERROR"] * len(k),
            "message": [message] * len(k), "process.thread.name": [threads[i] for i in k],
            "log.logger": ["com.acme.billing.api.InvoiceController"] * len(k), "http.request.id": [rid[i] for i in k],
            "error.type": [etype] * len(k), "error.message": [emsg] * len(k), "error.stack_trace": [stack] * len(k),
        }))


def _billing_changes(b: Builder, cluster: str, service: str, deploy: float) -> None:
    ci = role_identity(b, "billing-deployer", "codebuild-billing-api-7721", when=deploy)
    ua = "aws-sdk-java/2.25.60 Linux/5.10.219 OpenJDK_64-Bit_Server_VM/17.0.11 Java/17.0.11 exec-env/AWS_ECS_EC2"
    b.cloudtrail(deploy - 35, "ecs.amazonaws.com", "RegisterTaskDefinition", identity=ci, user_agent=ua, source_ip="3.18.44.120",
                 request={"family": service, "cpu": "1024", "memory": "2048", "networkMode": "awsvpc"},
                 response={"taskDefinition": {"family": service, "revision": 88,
                                              "taskDefinitionArn": f"arn:aws:ecs:{b.region}:{ACCOUNT}:task-definition/{service}:88"}})
    b.cloudtrail(deploy, "ecs.amazonaws.com", "UpdateService", identity=ci, user_agent=ua, source_ip="3.18.44.120",
                 request={"cluster": cluster, "service": service, "taskDefinition": f"{service}:88"},
                 response={"service": {"serviceName": service, "desiredCount": 4}})
    b.settings("AWS::ECS::TaskDefinition", f"arn:aws:ecs:{b.region}:{ACCOUNT}:task-definition/{service}:88", {
        "Environment.BILLING_DB_URL": "jdbc:postgresql://billing-db.internal:5432/billing", "Environment.JAVA_OPTS": "-Xmx1536m",
        "Environment.SPRING_PROFILES_ACTIVE": "prod"})
    b.settings("AWS::ECS::Service", f"arn:aws:ecs:{b.region}:{ACCOUNT}:service/{cluster}/{service}", {
        "DesiredCount": 4, "TaskDefinition": f"{service}:88", "DeploymentConfiguration.MinimumHealthyPercent": 100,
        "DeploymentConfiguration.MaximumPercent": 200, "DeploymentCircuitBreaker.Enable": False})
