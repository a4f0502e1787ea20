"""Database samples: incident 4 (a connection pool that leaks after exceptions) and a healthy app
whose pool grows and shrinks with load.

The pool is simulated per ECS task: connections in use at any time are the requests being
served plus, in the incident, the connections a failing code path never returns. Once a
task's in-use count reaches ``pool_size + max_overflow``, every request that needs the database
waits ``pool_timeout`` seconds and fails - while the database itself is idle.

Formats exercised: Python ``logging`` JSON (python-json-logger keys: ``asctime``,
``levelname``, ``name``, ``message``), plain-text multi-line Python tracebacks (SQLAlchemy
``QueuePool limit of size 10 overflow 10 reached ...`` and ``QueryCanceled``), CloudWatch
Embedded Metric Format records, Logstash-encoder JSON (Java) and HikariCP pool-stats lines.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..fetch import metrics as M
from . import _formats as F
from ._apis import _routes
from ._core import (
    ACCOUNT,
    UA_CLI,
    Builder,
    finish,
    hexs,
    lognormal,
    per_minute,
    role_identity,
    uuid4s,
    window,
)

_QUEUEPOOL = (
    "sqlalchemy.exc.TimeoutError: QueuePool limit of size {size} overflow {overflow} reached, connection timed out, "
    "timeout {timeout:.2f} (Background on this error at: https://sqlalche.me/e/20/3o7r)"
)


def _emf(t: np.ndarray, ns: str, service: str, task: list[str], values: dict[str, np.ndarray], units: dict[str, str]) -> list[str]:
    """CloudWatch Embedded Metric Format records (one per row), dimension set [["Service"]]."""
    ms = (np.asarray(t) * 1000).astype("int64").tolist()
    metrics = [{"Name": k, "Unit": units.get(k, "Count")} for k in values]
    cols = {k: np.asarray(v).tolist() for k, v in values.items()}
    out = []
    for i, stamp in enumerate(ms):
        rec: dict[str, Any] = {"_aws": {"Timestamp": stamp, "CloudWatchMetrics": [{"Namespace": ns, "Dimensions": [["Service"]], "Metrics": metrics}]},
                               "Service": service, "TaskId": task[i]}
        for k, c in cols.items():
            rec[k] = c[i]
        out.append(F.json_lines({k: [v] for k, v in rec.items()})[0])
    return out


# --------------------------------------------------------------------------------------------
# incident 4: connections not returned after exceptions
# --------------------------------------------------------------------------------------------

_BILLING = [
    {"route": "GET /api/invoices/{id}", "method": "GET", "path": "/api/invoices/{id}", "weight": 45, "ms": 32, "size": 2100},
    {"route": "GET /api/accounts/{id}/balance", "method": "GET", "path": "/api/accounts/{id}/balance", "weight": 30, "ms": 18, "size": 300},
    {"route": "POST /api/payments", "method": "POST", "path": "/api/payments", "weight": 15, "ms": 75, "size": 500},
    {"route": "POST /api/invoices/export", "method": "POST", "path": "/api/invoices/export", "weight": 5, "ms": 900, "size": 48000},
    {"route": "GET /health", "method": "GET", "path": "/health", "weight": 6, "ms": 2, "size": 15},
]


def connection_pool_leak(*, seed: int = 0, scale: float = 1.0) -> Any:
    """Incident 4: v2.14.0 leaks a pooled connection on every failed export; pools exhaust while RDS idles."""
    w = window("2026-06-09T09:00:00Z", "2026-06-09T12:00:00Z")
    b = Builder("connection-pool-leak", seed, scale, w, w.baseline("week"), region="eu-west-1")
    rng = b.rng
    cluster, service, db = "prod", "billing-api", "billing-db"
    size, overflow, timeout = 10, 10, 30.0
    cap = size + overflow
    deploy = b.at("2026-06-09T09:10:24Z")
    tasks_old = hexs(rng, 3, 32)
    tasks_new = hexs(rng, 3, 32)

    t = b.arrivals(lambda s: 0.72 + 0.1 * np.sin(s / 2100.0))
    n = len(t)
    r = _routes(b, _BILLING, n)
    slot = rng.integers(0, 3, n)
    new_ver = t >= deploy + 40 + slot * 25  # the rolling deploy replaces the tasks one by one
    task = np.where(new_ver, np.array(tasks_new, dtype=object)[slot], np.array(tasks_old, dtype=object)[slot])
    version = np.where(new_ver, "2.14.0", "2.13.4")
    uses_db = r["route"] != "GET /health"
    proc = lognormal(rng, r["median_ms"], 0.45, n)
    export = r["route"] == "POST /api/invoices/export"
    # exports of big accounts hit the 15 s statement_timeout (both versions); 2.14.0 forgets to return the connection
    stmt_timeout = export & (rng.random(n) < 0.28)
    proc[stmt_timeout] = 15000 + rng.uniform(3, 40, int(stmt_timeout.sum()))
    leaks = stmt_timeout & new_ver

    # walk each task's requests in time order: in-use = leaked + currently serving
    status = np.full(n, 200)
    status[(r["route"] == "GET /api/invoices/{id}") & (rng.random(n) < 0.015)] = 404
    status[(r["method"] == "POST") & (rng.random(n) < 0.01)] = 422
    status[stmt_timeout] = 500
    pool_fail = np.zeros(n, dtype=bool)
    gauge_t: list[float] = []
    gauge_task: list[str] = []
    gauge_v: list[int] = []
    leaked_at: dict[str, list[float]] = {}
    for tk in list(tasks_old) + list(tasks_new):
        idx = np.flatnonzero((task == tk) & uses_db)
        leaked = 0
        busy_until: list[float] = []
        first = t[idx[0]] if len(idx) else None
        last_gauge = (np.floor(first / 60.0) * 60.0) if first is not None else 0.0
        for i in idx:
            ti = t[i]
            busy_until = [x for x in busy_until if x > ti]
            if ti - last_gauge > 3600:  # a gap between the windows: resume the gauge where the requests resume
                last_gauge = np.floor(ti / 60.0) * 60.0 - 60.0
            while last_gauge + 60 <= ti:
                last_gauge += 60
                gauge_t.append(last_gauge + float(rng.uniform(0, 0.5)))
                gauge_task.append(tk)
                gauge_v.append(leaked + len([x for x in busy_until if x > last_gauge]))
            if leaked + len(busy_until) >= cap:
                pool_fail[i] = True
                proc[i] = timeout * 1000.0 + float(rng.uniform(2, 30))
                continue
            busy_until.append(ti + proc[i] / 1000.0)
            if leaks[i]:
                leaked += 1
                leaked_at.setdefault(tk, []).append(ti + proc[i] / 1000.0)
        if not len(idx):
            continue
        if t[idx[-1]] < b.t_window[0]:
            end = b.t_baseline[1]
        else:  # the old tasks stop when the deploy replaces them; the new ones run to the end
            end = b.t_window[1] if tk in tasks_new else t[idx[-1]] + 30.0
        while last_gauge + 60 < end:
            last_gauge += 60
            gauge_t.append(last_gauge + float(rng.uniform(0, 0.5)))
            gauge_task.append(tk)
            gauge_v.append(leaked)
    status[pool_fail] = 500
    t_end = t + proc / 1000.0
    group = f"/ecs/{service}"
    streams = np.array([f"{service}/app/{x}" for x in task], dtype=object)
    rid = uuid4s(rng, n)
    paths = r["path"]
    b.log(group, streams, t_end, F.json_lines({
        "asctime": F.py_asctime(t_end),
        "levelname": np.where(status >= 500, "ERROR", np.where(status >= 400, "WARNING", "INFO")),
        "name": ["billing.access"] * n,
        "message": [f"{m} {p} {s}" for m, p, s in zip(r["method"], paths, status)],
        "method": r["method"], "path": paths, "status": status, "durationMs": np.round(proc, 1),
        "appVersion": version, "request_id": rid,
    }, spaced=True))
    # tracebacks, one multi-line event each
    tb_t, tb_s, tb_m = [], [], []
    for i in np.flatnonzero(stmt_timeout):
        acct = f"acc_{hexs(rng, 1, 8)[0]}"
        head = f"{F.py_asctime(np.array([t_end[i]]))[0]} ERROR [billing.exports] export failed for account {acct}"
        tb_t.append(t_end[i] - 0.001)
        tb_s.append(streams[i])
        tb_m.append(
            f"{head}\nTraceback (most recent call last):\n"
            '  File "/app/billing/exports.py", line 88, in build_export\n'
            "    rows = conn.execute(text(EXPORT_SQL), params).fetchall()\n"
            '  File "/usr/local/lib/python3.12/site-packages/sqlalchemy/engine/base.py", line 1418, in execute\n'
            "    return meth(\n"
            '  File "/usr/local/lib/python3.12/site-packages/sqlalchemy/engine/default.py", line 941, in do_execute\n'
            "    cursor.execute(statement, parameters)\n"
            "sqlalchemy.exc.OperationalError: (psycopg2.errors.QueryCanceled) canceling statement due to statement timeout\n\n"
            "[SQL: SELECT il.invoice_id, il.sku, il.amount FROM invoice_lines il JOIN invoices i ON i.id = il.invoice_id "
            "WHERE i.account_id = %(account_id)s ORDER BY il.invoice_id]\n"
            f"[parameters: {{'account_id': '{acct}'}}]\n(Background on this error at: https://sqlalche.me/e/20/e3q8)"
        )
    for i in np.flatnonzero(pool_fail):
        tb_t.append(t_end[i] - 0.001)
        tb_s.append(streams[i])
        tb_m.append(
            f"{F.py_asctime(np.array([t_end[i]]))[0]} ERROR [billing.app] Exception on {paths[i]} [{r['method'][i]}]\n"
            "Traceback (most recent call last):\n"
            '  File "/usr/local/lib/python3.12/site-packages/flask/app.py", line 1473, in wsgi_app\n'
            "    response = self.full_dispatch_request()\n"
            '  File "/app/billing/db.py", line 41, in get_session\n'
            "    conn = engine.connect()\n"
            '  File "/usr/local/lib/python3.12/site-packages/sqlalchemy/pool/impl.py", line 167, in _do_get\n'
            "    raise exc.TimeoutError(\n"
            + _QUEUEPOOL.format(size=size, overflow=overflow, timeout=timeout)
        )
    b.log(group, tb_s, np.asarray(tb_t), tb_m)
    # the pool gauge, as EMF records each task writes every minute
    gt = np.asarray(gauge_t)
    gv = np.asarray(gauge_v)
    b.log(group, [f"{service}/app/{x}" for x in gauge_task], gt, _emf(
        gt, "BillingApi", service, gauge_task,
        {"DbPoolCheckedOut": gv, "DbPoolSize": np.full(len(gv), size), "DbPoolOverflow": np.clip(gv - size, 0, None)}, {}))

    # metrics: the EMF gauge as CloudWatch aggregates it, RDS, ECS
    g = b.grid
    for stat, how in (("Maximum", "max"), ("Average", "avg")):
        q = M.MetricQuery(M.make_id("billingapi", "dbpoolcheckedout", stat), "BillingApi", "DbPoolCheckedOut", {"Service": service}, stat,
                          label=f"{service} DbPoolCheckedOut {stat}")
        b.metric(q, g, per_minute(g, gt, gv.astype(float), how))
    leaked_curve = np.zeros(len(g))
    for times in leaked_at.values():
        leaked_curve += np.searchsorted(np.sort(times), g + 60, side="right")
    active = per_minute(g, t, uses_db * proc / 60000.0, "sum")
    idle_pooled = 3 * 2.0  # each task keeps a couple of idle connections
    conns = np.round(idle_pooled + 4 + leaked_curve + active + rng.normal(0, 0.6, len(g)))
    cpu = np.clip(17.5 + 3.5 * np.sin(g / 2400.0) + rng.normal(0, 1.2, len(g)) + active * 1.5, 5, 100)
    b.metric_series(M.rds_instance(db, region=b.region), {
        ("CPUUtilization", "Average"): np.round(cpu, 2), ("CPUUtilization", "Maximum"): np.round(cpu + rng.uniform(3, 9, len(g)), 2),
        ("DatabaseConnections", "Maximum"): conns + rng.integers(0, 2, len(g)), ("DatabaseConnections", "Average"): conns,
        ("FreeableMemory", "Minimum"): np.round(9.1e9 - conns * 9.5e6 + rng.normal(0, 2e7, len(g))),
        ("ReadLatency", "Average"): np.round(np.abs(0.0009 + rng.normal(0, 0.0002, len(g))), 5),
        ("ReadLatency", "Maximum"): np.round(np.abs(0.004 + rng.normal(0, 0.001, len(g))), 5),
        ("WriteLatency", "Average"): np.round(np.abs(0.0016 + rng.normal(0, 0.0003, len(g))), 5),
        ("WriteLatency", "Maximum"): np.round(np.abs(0.006 + rng.normal(0, 0.0015, len(g))), 5),
        ("DiskQueueDepth", "Maximum"): np.round(np.abs(rng.normal(0.2, 0.15, len(g))), 3),
    })
    for name, stat, val in (("CPUUtilization", "Average", 14 + rng.normal(0, 2, len(g))), ("MemoryUtilization", "Average", 41 + rng.normal(0, 1, len(g)))):
        q = M.MetricQuery(M.make_id("ecs", cluster, service, name, stat), "AWS/ECS", name, {"ClusterName": cluster, "ServiceName": service},
                          stat, label=f"{cluster}/{service} {name} {stat}")
        b.metric(q, g, np.round(np.clip(val, 0, 100), 2))

    ci = role_identity(b, "gitlab-ci-deployer", "gitlab-ci-9921", when=deploy)
    b.cloudtrail(deploy, "ecs.amazonaws.com", "UpdateService", identity=ci, user_agent=UA_CLI.format(command="ecs.update-service"), source_ip="35.231.145.151",
                 request={"cluster": cluster, "service": service, "taskDefinition": f"{service}:57"},
                 response={"service": {"serviceName": service, "desiredCount": 3, "taskDefinition": f"arn:aws:ecs:{b.region}:{ACCOUNT}:task-definition/{service}:57"}})
    b.cloudtrail(deploy - 35, "ecs.amazonaws.com", "RegisterTaskDefinition", identity=ci, user_agent=UA_CLI.format(command="ecs.register-task-definition"),
                 source_ip="35.231.145.151", request={"family": service, "containerDefinitions": [{"name": "app", "image": f"{ACCOUNT}.dkr.ecr.{b.region}.amazonaws.com/{service}:2.14.0"}]},
                 response={"taskDefinition": {"taskDefinitionArn": f"arn:aws:ecs:{b.region}:{ACCOUNT}:task-definition/{service}:57", "revision": 57}})
    b.settings("AWS::RDS::DBInstance", f"arn:aws:rds:{b.region}:{ACCOUNT}:db:{db}", {
        "DBInstanceClass": "db.r6g.large", "Engine": "postgres", "EngineVersion": "15.5", "MultiAZ": True,
        "DBParameterGroupName": "billing-pg15", "max_connections": 500, "statement_timeout": 15000})
    b.settings("AWS::ECS::TaskDefinition", f"arn:aws:ecs:{b.region}:{ACCOUNT}:task-definition/{service}:57", {
        "Image": f"{ACCOUNT}.dkr.ecr.{b.region}.amazonaws.com/{service}:2.14.0", "Environment.DB_POOL_SIZE": str(size),
        "Environment.DB_MAX_OVERFLOW": str(overflow), "Environment.DB_POOL_TIMEOUT": str(int(timeout)), "Cpu": 1024, "Memory": 2048})
    b.settings("AWS::ECS::Service", f"arn:aws:ecs:{b.region}:{ACCOUNT}:service/{cluster}/{service}", {"DesiredCount": 3, "HealthCheckPath": "/health"})

    return finish(
        b, finding_id="connection-pool-leak", incident=4, title='"connection pool exhausted"',
        description="""From about 10:40 the billing API answered more and more requests with 500 after 30 s: "QueuePool limit of
        size 10 overflow 10 reached". The database was idle - CPU around 20 %, a few dozen connections against
        max_connections 500. Version 2.14.0, deployed at 09:10, opens its own connection in the invoice export and does
        not return it when the query hits the statement timeout: every failed export leaks one pooled connection, the
        pool's in-use gauge climbs step by step and never comes down, until each task's 20 connections are zombies.""",
        parameters={"log_groups": [group], "db_instance": db, "ecs_cluster": cluster, "ecs_service": service, "region": b.region},
    )


# --------------------------------------------------------------------------------------------
# healthy: a Java service on RDS whose HikariCP pool follows the load
# --------------------------------------------------------------------------------------------

_LEDGER = [
    {"route": "GET /ledger/entries", "method": "GET", "path": "/ledger/entries", "weight": 45, "ms": 24, "size": 5200},
    {"route": "POST /ledger/entries", "method": "POST", "path": "/ledger/entries", "weight": 30, "ms": 48, "size": 380},
    {"route": "GET /ledger/balances/{id}", "method": "GET", "path": "/ledger/balances/{id}", "weight": 20, "ms": 15, "size": 260},
    {"route": "POST /ledger/reconcile", "method": "POST", "path": "/ledger/reconcile", "weight": 5, "ms": 2400, "size": 900},
]


def healthy_rds_app(*, seed: int = 0, scale: float = 1.0) -> Any:
    """Healthy: a Java ledger service on RDS PostgreSQL, HikariCP active connections rising and falling with load."""
    w = window("2026-05-12T14:00:00Z", "2026-05-12T16:00:00Z")
    b = Builder("healthy-rds-app", seed, scale, w, w.baseline("previous"), region="eu-central-1")
    rng = b.rng
    cluster, service, db = "finance", "ledger-service", "ledger-db"
    pool_max = 20
    deploy = b.at("2026-05-12T14:47:02Z")
    tasks_old, tasks_new = hexs(rng, 2, 32), hexs(rng, 2, 32)
    t = b.arrivals(lambda s: 0.9 + 0.35 * np.sin((s - b.t_baseline[0]) / 3000.0))
    n = len(t)
    r = _routes(b, _LEDGER, n)
    slot = rng.integers(0, 2, n)
    new_ver = t >= deploy + 60 + slot * 45
    task = np.where(new_ver, np.array(tasks_new, dtype=object)[slot], np.array(tasks_old, dtype=object)[slot])
    proc = lognormal(rng, r["median_ms"], 0.5, n)
    status = np.full(n, 200)
    status[(r["route"] == "GET /ledger/balances/{id}") & (rng.random(n) < 0.02)] = 404
    status[(r["method"] == "POST") & (rng.random(n) < 0.012)] = 409
    canceled = (r["route"] == "POST /ledger/reconcile") & (rng.random(n) < 0.03)
    proc[canceled] = 10000 + rng.uniform(2, 30, int(canceled.sum()))
    status[canceled] = 500
    t_end = t + proc / 1000.0
    group = f"/ecs/{service}"
    streams = np.array([f"{service}/app/{x}" for x in task], dtype=object)
    threads = [f"http-nio-8080-exec-{k}" for k in rng.integers(1, 200, n)]
    b.log(group, streams, t_end, F.json_lines({
        "@timestamp": F.iso_ms(t_end), "@version": ["1"] * n,
        "message": [f"{m} {p} -> {s}" for m, p, s in zip(r["method"], r["path"], status)],
        "logger_name": ["com.example.ledger.web.AccessLogFilter"] * n, "thread_name": threads,
        "level": np.where(status >= 500, "ERROR", np.where(status >= 400, "WARN", "INFO")),
        "level_value": np.where(status >= 500, 40000, np.where(status >= 400, 30000, 20000)),
        "status": status, "durationMs": np.round(proc).astype(int), "version": np.where(new_ver, "1.31.0", "1.30.2"),
    }))
    err = np.flatnonzero(canceled)
    b.log(group, streams[err], t_end[err] - 0.002, [
        f"{F.iso_ms(np.array([t_end[i]]))[0][:-1].replace('T', ' ')} ERROR 1 --- [{threads[i]}] c.e.ledger.web.ErrorHandler : reconcile failed, transaction rolled back\n"
        "org.springframework.dao.QueryTimeoutException: PreparedStatementCallback; SQL [SELECT * FROM reconcile_batch(?)]; "
        "ERROR: canceling statement due to statement timeout\n"
        "\tat org.springframework.jdbc.support.SQLStateSQLExceptionTranslator.doTranslate(SQLStateSQLExceptionTranslator.java:107)\n"
        "\tat org.springframework.jdbc.core.JdbcTemplate.execute(JdbcTemplate.java:658)\n"
        "\tat com.example.ledger.reconcile.ReconcileService.run(ReconcileService.java:77)\n"
        "Caused by: org.postgresql.util.PSQLException: ERROR: canceling statement due to statement timeout\n"
        "\tat org.postgresql.core.v3.QueryExecutorImpl.receiveErrorResponse(QueryExecutorImpl.java:2713)"
        for i in err])
    # HikariCP housekeeping (every 30 s): pool stats follow the load and come back
    hk_t, hk_s, hk_m = [], [], []
    for tk in list(tasks_old) + list(tasks_new):
        m = task == tk
        if not m.any():
            continue
        lo, hi = t[m].min(), t[m].max()
        xs = np.arange(lo + float(rng.uniform(0, 30)), hi, 30.0)
        starts, ends = np.sort(t[m]), np.sort(t_end[m])
        active = np.searchsorted(starts, xs, side="right") - np.searchsorted(ends, xs, side="right")
        total = np.clip(10 + active, 10, pool_max)
        hk_t += xs.tolist()
        hk_s += [f"{service}/app/{tk}"] * len(xs)
        hk_m += [f"{stamp[:-1].replace('T', ' ')} DEBUG 1 --- [HikariPool-1 housekeeper] com.zaxxer.hikari.pool.HikariPool        : "
                 f"HikariPool-1 - Pool stats (total={tot}, active={a}, idle={tot - a}, waiting=0)"
                 for stamp, tot, a in zip(F.iso_ms(xs), total.tolist(), active.tolist())]
    b.log(group, hk_s, np.asarray(hk_t), hk_m)

    g = b.grid
    active_db = per_minute(g, t, proc / 60000.0, "sum")
    conns = np.round(4 * 10 / 2 + 3 + active_db + rng.normal(0, 0.5, len(g)))
    cpu = np.clip(26 + 6 * np.sin((g - b.t_baseline[0]) / 3000.0) + rng.normal(0, 1.5, len(g)), 5, 100)
    b.metric_series(M.rds_instance(db, region=b.region), {
        ("CPUUtilization", "Average"): np.round(cpu, 2), ("CPUUtilization", "Maximum"): np.round(cpu + rng.uniform(3, 10, len(g)), 2),
        ("DatabaseConnections", "Maximum"): conns + rng.integers(0, 3, len(g)), ("DatabaseConnections", "Average"): conns,
        ("FreeableMemory", "Minimum"): np.round(5.2e9 + rng.normal(0, 3e7, len(g))),
        ("ReadLatency", "Average"): np.round(np.abs(0.0011 + rng.normal(0, 0.0002, len(g))), 5),
        ("WriteLatency", "Average"): np.round(np.abs(0.0019 + rng.normal(0, 0.0003, len(g))), 5),
    })
    ci = role_identity(b, "github-actions-deploy", "GitHubActions", when=deploy)
    b.cloudtrail(deploy, "ecs.amazonaws.com", "UpdateService", identity=ci, user_agent=UA_CLI.format(command="ecs.update-service"), source_ip="140.82.113.4",
                 request={"cluster": cluster, "service": service, "taskDefinition": f"{service}:131"},
                 response={"service": {"serviceName": service, "desiredCount": 2}})
    dba = role_identity(b, "AWSReservedSSO_DBA_1e3c5a7b9d2f4e60", "ines.costa@ledger.example.com", mfa=True, when=b.t_baseline[0])
    b.cloudtrail(b.t_baseline[0] + 1830, "rds.amazonaws.com", "ModifyDBParameterGroup", identity=dba, user_agent=UA_CLI.format(command="rds.modify-db-parameter-group"),
                 source_ip="198.51.100.17", request={"dBParameterGroupName": "ledger-pg16", "parameters": [
                     {"parameterName": "log_min_duration_statement", "parameterValue": "2000", "applyMethod": "immediate"}]})
    b.settings("AWS::RDS::DBInstance", f"arn:aws:rds:{b.region}:{ACCOUNT}:db:{db}", {
        "DBInstanceClass": "db.m6g.xlarge", "Engine": "postgres", "EngineVersion": "16.3", "MultiAZ": True,
        "DBParameterGroupName": "ledger-pg16", "max_connections": 800, "statement_timeout": 10000})
    b.settings("AWS::ECS::TaskDefinition", f"arn:aws:ecs:{b.region}:{ACCOUNT}:task-definition/{service}:131", {
        "Environment.SPRING_DATASOURCE_HIKARI_MAXIMUM_POOL_SIZE": str(pool_max), "Environment.SPRING_DATASOURCE_HIKARI_MINIMUM_IDLE": "10",
        "Environment.SPRING_DATASOURCE_HIKARI_CONNECTION_TIMEOUT": "30000"})

    return finish(
        b, finding_id=None, incident=None, title="healthy ECS app on RDS PostgreSQL, pool in bounds",
        description="""Two hours of the ledger service: its HikariCP pools grow from 10 connections with the afternoon load
        and shrink back, the database sits at a quarter of its CPU with a few dozen connections, a reconcile job
        occasionally hits the statement timeout and is rolled back (its connection returned), a normal ECS deploy at
        14:47, and a parameter-group tweak by the DBA. A pool that follows the load is not a leak.""",
        parameters={"log_groups": [group], "db_instance": db, "ecs_cluster": cluster, "ecs_service": service, "region": b.region},
    )
