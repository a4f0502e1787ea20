"""DynamoDB samples: incidents 5 (throttling without backoff) and 8 (scan read burst), and a
healthy nightly import.

The batch jobs are simulated call by call: SQS-triggered Lambda invocations (each on an
execution environment, cold the first time), each running a few threads that send
``BatchWriteItem`` calls of 25 items against a table whose capacity is a token bucket
(provisioned units per second, plus DynamoDB's burst capacity up to the partitions' limit).
Unprocessed items are retried either at once (incident 5) or after an exponential backoff
with jitter (the healthy job), so the retry spacing in the logs and the throttle metrics
come out of the same run.

Formats exercised: Python runtime lines (``[WARNING]\\t<iso>\\t<request id>\\t...``), unhandled
Python errors with tracebacks, Powertools for AWS Lambda, Node.js runtime lines, Lambda JSON
platform records, structlog-style application JSON.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pandas as pd

from ..fetch import metrics as M
from ..fetch.metric_presets import HISTORY_SPAN_DAYS, history_queries
from . import _formats as F
from ._core import (
    ACCOUNT,
    UA_CONSOLE,
    UA_TERRAFORM,
    Builder,
    concurrency_per_minute,
    drawer,
    finish,
    hexs,
    lognormal,
    per_minute,
    role_identity,
    uuid4s,
    window,
    xray_ids,
)
from ._apis import _lambda_metrics
from ._lambda import LambdaFunction, platform_json_lines, simulate

_PTEE = (
    "The level of configured provisioned throughput for the table was exceeded. "
    "Consider increasing your provisioning level with the UpdateTable API."
)


# --------------------------------------------------------------------------------------------
# a batch-write job, simulated call by call
# --------------------------------------------------------------------------------------------


@dataclass
class _Job:
    """Outcome of :func:`_run_job`: calls, invocations and per-second capacity use."""

    # one row per BatchWriteItem call
    call_t: np.ndarray
    call_inv: np.ndarray
    call_thread: np.ndarray
    call_batch: np.ndarray
    call_attempt: np.ndarray
    call_items: np.ndarray
    call_unprocessed: np.ndarray
    call_ms: np.ndarray
    # one row per invocation
    inv_t: np.ndarray  # when the environment got the message (init starts here on a cold start)
    inv_start: np.ndarray
    inv_end: np.ndarray
    inv_cold: np.ndarray
    inv_init: np.ndarray
    inv_failed: np.ndarray
    inv_env: np.ndarray
    inv_msg: np.ndarray
    inv_receive: np.ndarray
    inv_rows: np.ndarray
    inv_fail_batch: np.ndarray  # batch id that made it fail (-1)
    request_id: list[str]
    env_stream: list[str]
    dlq: list[tuple[float, int]]


def _run_job(
    b: Builder,
    *,
    arrive: float,
    messages: int,
    rows: int,
    concurrency: int,
    threads: int,
    prep_ms: Callable[[], float],
    call_ms: Callable[[], float],
    max_attempts: int,
    backoff_ms: Callable[[int], float],
    provisioned: Callable[[float], float],
    partition_max: float,
    burst_pool: float,
    visibility_s: float = 150.0,
    max_receive: int = 3,
    warm_envs: int = 0,
) -> _Job:
    """Simulate an SQS-triggered import: ``messages`` of ``rows`` rows, ``concurrency`` at once."""
    rng = b.rng
    seq = 0
    ev: list[tuple[float, int, str, tuple]] = []

    def push(t: float, kind: str, payload: tuple) -> None:
        nonlocal seq
        seq += 1
        heapq.heappush(ev, (t, seq, kind, payload))

    queue: list[tuple[float, int, int]] = [(arrive + i * 0.002, i, 0) for i in range(messages)]  # (visible_at, msg, receives)
    heapq.heapify(queue)
    env_used = [i < warm_envs for i in range(concurrency)]
    for e in range(concurrency):
        push(arrive + float(rng.uniform(0.05, 2.0)), "poll", (e,))

    tokens: dict[int, float] = {}
    burst = [burst_pool]

    def take(t: float, want: int) -> int:
        k = int(t * 10)
        if k not in tokens:
            base = provisioned(t) * 0.1
            extra = min(max(partition_max - provisioned(t), 0.0) * 0.1, burst[0])
            tokens[k] = base + extra
            burst[0] -= extra
        got = int(min(want, tokens[k]))
        tokens[k] -= got
        return got

    calls: list[tuple] = []
    invs: list[dict[str, Any]] = []
    dlq: list[tuple[float, int]] = []
    batches_per_thread = int(np.ceil(rows / threads / 25))

    while ev:
        t, _, kind, payload = heapq.heappop(ev)
        if kind == "poll":
            (e,) = payload
            if not queue:
                continue
            vis, msg, rec = queue[0]
            if vis > t:
                push(vis + float(rng.uniform(0.01, 0.5)), "poll", (e,))
                continue
            heapq.heappop(queue)
            cold = not env_used[e]
            env_used[e] = True
            init = float(rng.uniform(380, 720)) if cold else float("nan")
            start = t + (init / 1000.0 if cold else 0.0) + 0.002
            inv = {"t": t, "start": start, "end": start, "cold": cold, "init": init, "failed": False, "env": e,
                   "msg": msg, "receive": rec + 1, "threads_left": threads, "fail_batch": -1}
            invs.append(inv)
            k = len(invs) - 1
            for th in range(threads):
                push(start + prep_ms() / 1000.0, "call", (k, th, 0, 1, 25))
        elif kind == "call":
            k, th, batch, attempt, unproc = payload
            inv = invs[k]
            if inv["failed"]:  # another thread already raised: the handler is gone
                inv["threads_left"] -= 1
                if inv["threads_left"] == 0:
                    _finish(inv, t, push, queue, dlq, visibility_s, max_receive, rng)
                continue
            lat = call_ms()
            got = take(t, unproc)
            left = unproc - got
            calls.append((t, k, th, batch, attempt, unproc, left, lat))
            done_t = t + lat / 1000.0
            inv["end"] = max(inv["end"], done_t)
            if left == 0:
                if batch + 1 < batches_per_thread:
                    push(done_t + prep_ms() / 1000.0, "call", (k, th, batch + 1, 1, 25))
                else:
                    inv["threads_left"] -= 1
                    if inv["threads_left"] == 0:
                        _finish(inv, done_t, push, queue, dlq, visibility_s, max_receive, rng)
            elif attempt >= max_attempts:
                inv["failed"] = True
                inv["fail_batch"] = th * batches_per_thread + batch
                inv["threads_left"] -= 1
                if inv["threads_left"] == 0:
                    _finish(inv, done_t, push, queue, dlq, visibility_s, max_receive, rng)
            else:
                push(done_t + backoff_ms(attempt) / 1000.0, "call", (k, th, batch, attempt + 1, left))

    c = np.array(calls, dtype=float) if calls else np.zeros((0, 8))
    n_env = concurrency
    tails = hexs(rng, n_env, 32)
    day = np.datetime_as_string(np.array([int(arrive)], dtype="datetime64[s]"), unit="D")[0]
    streams = [f"{day[:4]}/{day[5:7]}/{day[8:10]}/[$LATEST]{x}" for x in tails]
    get = lambda key, dt=float: np.array([inv[key] for inv in invs], dtype=dt)  # noqa: E731
    return _Job(
        call_t=c[:, 0], call_inv=c[:, 1].astype(int), call_thread=c[:, 2].astype(int), call_batch=c[:, 3].astype(int),
        call_attempt=c[:, 4].astype(int), call_items=c[:, 5].astype(int), call_unprocessed=c[:, 6].astype(int), call_ms=c[:, 7],
        inv_t=get("t"), inv_start=get("start"), inv_end=get("end"), inv_cold=get("cold", bool), inv_init=get("init"),
        inv_failed=get("failed", bool), inv_env=get("env", int), inv_msg=get("msg", int), inv_receive=get("receive", int),
        inv_rows=np.full(len(invs), rows), inv_fail_batch=get("fail_batch", int),
        request_id=uuid4s(rng, len(invs)), env_stream=streams, dlq=dlq,
    )


def _finish(inv: dict, t: float, push: Callable, queue: list, dlq: list, visibility_s: float, max_receive: int, rng: np.random.Generator) -> None:
    inv["end"] = max(inv["end"], t) + 0.003
    if inv["failed"]:
        if inv["receive"] >= max_receive:
            dlq.append((inv["end"], inv["msg"]))
        else:
            heapq.heappush(queue, (inv["t"] + visibility_s, inv["msg"], inv["receive"]))
    push(inv["end"] + float(rng.uniform(0.01, 0.12)), "poll", (inv["env"],))


def _job_lambda_lines(b: Builder, fn: LambdaFunction, job: _Job) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """START / END / REPORT (and INIT_START) text lines of the job's invocations."""
    n = len(job.inv_t)
    streams = np.asarray(job.env_stream, dtype=object)[job.inv_env]
    dur = (job.inv_end - job.inv_start) * 1000.0
    mem = np.clip(fn.base_memory_mb + b.rng.gamma(2, 6, n), 40, fn.memory_mb)
    cold = np.flatnonzero(job.inv_cold)
    ts = np.concatenate([job.inv_t[cold], job.inv_start, job.inv_end, job.inv_end + 0.0005])
    ss = np.concatenate([streams[cold], streams, streams, streams])
    ms = (
        F.lambda_init_start(len(cold), fn.runtime, fn.runtime_arn)
        + F.lambda_start(job.request_id)
        + F.lambda_end(job.request_id)
        + F.lambda_report(job.request_id, dur, fn.memory_mb, mem, job.inv_init)
    )
    return ts, ss, ms


def _ddb_metrics(b: Builder, table: str, job_calls: list[tuple[np.ndarray, np.ndarray, np.ndarray]], *, rcu: Callable, wcu: Callable,
                 read_t: np.ndarray | None = None, read_units: np.ndarray | None = None, read_throttled: np.ndarray | None = None,
                 op_throttles: dict[str, np.ndarray] | None = None, extra_write_t: np.ndarray | None = None) -> None:
    """AWS/DynamoDB metrics of a table from simulated writes (and reads)."""
    g = b.grid
    wt = np.concatenate([c[0] for c in job_calls]) if job_calls else np.array([])
    consumed = np.concatenate([c[1] for c in job_calls]) if job_calls else np.array([])
    throttled = np.concatenate([c[2] for c in job_calls]) if job_calls else np.array([])
    cw = per_minute(g, wt, consumed, "sum")
    if extra_write_t is not None:
        cw = cw + per_minute(g, extra_write_t, np.ones(len(extra_write_t)), "sum")
    series = {
        ("ConsumedWriteCapacityUnits", "Sum"): cw,
        ("WriteThrottleEvents", "Sum"): per_minute(g, wt, throttled, "sum"),
        ("ProvisionedReadCapacityUnits", "Average"): np.array([rcu(x) for x in g]),
        ("ProvisionedWriteCapacityUnits", "Average"): np.array([wcu(x) for x in g]),
    }
    if read_t is not None:
        series[("ConsumedReadCapacityUnits", "Sum")] = per_minute(g, read_t, read_units, "sum")
        series[("ReadThrottleEvents", "Sum")] = per_minute(g, read_t, read_throttled, "sum")
    qs = M.dynamodb_table(table, region=b.region)
    b.metric_series([q for q in qs if "Operation" not in q.dimensions and q.metric_name != "UserErrors"], series,
                    drop_zero={"WriteThrottleEvents", "ReadThrottleEvents"})
    for q in qs:
        op = q.dimensions.get("Operation")
        if op and q.metric_name == "ThrottledRequests" and op_throttles and op in op_throttles:
            b.metric(q, g, per_minute(g, op_throttles[op]), drop_zero=True)


# --------------------------------------------------------------------------------------------
# incident 5: throttling without backoff
# --------------------------------------------------------------------------------------------


def throttling_without_backoff(*, seed: int = 0, scale: float = 1.0) -> Any:
    """Incident 5: an import fans out to 100 invocations x 4 threads x 25 items and retries throttled writes at once."""
    w = window("2026-07-14T01:00:00Z", "2026-07-14T01:30:00Z")
    b = Builder("throttling-without-backoff", seed, scale, w, w.baseline("day"), region="us-east-1")
    rng = b.rng
    table = "orders"
    fn = LambdaFunction("orders-import-writer", memory_mb=1024, timeout_s=300, runtime="python:3.12.v38",
                        runtime_arn_hash=hexs(rng, 1, 64)[0], region=b.region, base_memory_mb=118)
    disp = LambdaFunction("orders-import-dispatcher", memory_mb=512, timeout_s=120, runtime="python:3.12.v38",
                          runtime_arn_hash=fn.runtime_arn_hash, region=b.region, base_memory_mb=96)
    wcu = lambda _t: 1000.0  # noqa: E731
    rcu = lambda _t: 400.0  # noqa: E731
    common = dict(threads=4, prep_ms=drawer(lambda k: rng.uniform(120, 320, k)), call_ms=drawer(lambda k: lognormal(rng, 18.0, 0.35, k)),
                  provisioned=wcu, partition_max=2000.0, max_receive=3)
    # the night before: MaximumConcurrency 2, a normal file
    t_base = b.t_baseline[0] + 4.0
    base_msgs = max(4, int(round(120 * scale)))
    base = _run_job(b, arrive=t_base, messages=base_msgs, rows=500, concurrency=2, max_attempts=6,
                    backoff_ms=lambda a: 0.0, burst_pool=150_000.0, warm_envs=0, **common)
    # tonight: MaximumConcurrency 100, a month-end file of 240 chunks of 2,000 rows
    t_inc = b.t_window[0] + 4.0
    inc_msgs = max(10, int(round(240 * scale)))
    inc = _run_job(b, arrive=t_inc, messages=inc_msgs, rows=2000, concurrency=100, max_attempts=6,
                   backoff_ms=lambda a: 0.0, burst_pool=150_000.0, warm_envs=0, **common)

    for job in (base, inc):
        ts, ss, ms = _job_lambda_lines(b, fn, job)
        b.log(fn.log_group, ss, ts, ms)
        streams = np.asarray(job.env_stream, dtype=object)[job.inv_env]
        # start / end lines
        n = len(job.inv_t)
        chunk = [f"chunk-{m:04d}" for m in job.inv_msg]
        b.log(fn.log_group, streams, job.inv_start + 0.001, F.python_runtime(
            job.inv_start + 0.001, ["INFO"] * n, job.request_id,
            [f"Importing {c} ({r} rows, receive count {rc}) into {table} with 4 writer threads, BatchWriteItem x25"
             for c, r, rc in zip(chunk, job.inv_rows, job.inv_receive)]))
        ok = ~job.inv_failed
        b.log(fn.log_group, streams[ok], job.inv_end[ok] - 0.001, F.python_runtime(
            job.inv_end[ok] - 0.001, ["INFO"] * int(ok.sum()), [job.request_id[i] for i in np.flatnonzero(ok)],
            [f"Imported {chunk[i]}: {job.inv_rows[i]} rows in {(job.inv_end[i] - job.inv_start[i]):.1f} s" for i in np.flatnonzero(ok)]))
        # every retry, logged by the writer threads: same request id, milliseconds apart
        r = np.flatnonzero(job.call_unprocessed > 0)
        ci = job.call_inv[r]
        tt = job.call_t[r] + job.call_ms[r] / 1000.0
        msgs = []
        for j, i in enumerate(r):
            bid = f"{chunk[ci[j]]}-b{job.call_thread[i] * 100 + job.call_batch[i]:03d}"
            a = job.call_attempt[i]
            if job.call_unprocessed[i] == job.call_items[i]:
                head = (f"BatchWriteItem {table} failed: An error occurred (ProvisionedThroughputExceededException) when calling the "
                        f"BatchWriteItem operation (reached max retries: 0): {_PTEE}")
            else:
                head = f"BatchWriteItem {table}: {job.call_unprocessed[i]} of {job.call_items[i]} items unprocessed"
            msgs.append(f"{head} - retrying now (attempt {a + 1}/6) batch={bid}" if a < 6 else f"{head} - giving up after 6 attempts batch={bid}")
        lv = np.where(job.call_attempt[r] < 6, "WARNING", "ERROR")
        b.log(fn.log_group, streams[ci], tt, F.python_runtime(tt, lv, [job.request_id[k] for k in ci], msgs))
        # the unhandled exception of failed invocations (one multi-line event)
        bad = np.flatnonzero(job.inv_failed)
        tb = []
        for i in bad:
            bid = f"{chunk[i]}-b{job.inv_fail_batch[i]:03d}"
            tb.append(
                f"[ERROR] RuntimeError: batch {bid}: 25 items still unprocessed after 6 attempts\n"
                "Traceback (most recent call last):\n"
                '  File "/var/task/writer.py", line 38, in handler\n'
                "    for future in as_completed(futures): future.result()\n"
                '  File "/var/lang/lib/python3.12/concurrent/futures/_base.py", line 449, in result\n'
                "    return self.__get_result()\n"
                '  File "/var/task/writer.py", line 71, in write_batch\n'
                f'    raise RuntimeError(f"batch {{batch_id}}: {{len(pending)}} items still unprocessed after {{MAX_ATTEMPTS}} attempts")'
            )
        b.log(fn.log_group, streams[bad], job.inv_end[bad] - 0.0005, tb)

    # the dispatcher: starts the job, and stops it when chunks land in the DLQ
    disp_stream = f"2026/07/14/[$LATEST]{hexs(rng, 1, 32)[0]}"
    base_stream = f"2026/07/13/[$LATEST]{hexs(rng, 1, 32)[0]}"
    d_rid = uuid4s(rng, 2)
    d_lines_t = [t_base - 3.2, t_base - 0.2, t_inc - 3.4, t_inc - 0.3]
    d_streams = [base_stream, base_stream, disp_stream, disp_stream]
    d_msgs = F.python_runtime(np.array(d_lines_t), ["INFO"] * 4, [d_rid[0], d_rid[0], d_rid[1], d_rid[1]], [
        "Job 2026-07-13: s3://acme-imports/orders/2026-07-13.csv.gz 60000 rows",
        f"Job 2026-07-13: sent {base_msgs} chunk messages to orders-import-queue (event source MaximumConcurrency=2)",
        "Job 2026-07-14: s3://acme-imports/orders/2026-07-14.csv.gz 480000 rows (month-end + partner feed)",
        f"Job 2026-07-14: sent {inc_msgs} chunk messages to orders-import-queue (event source MaximumConcurrency=100)",
    ])
    b.log(disp.log_group, d_streams, d_lines_t, d_msgs)
    if inc.dlq:
        t_abort = max(x for x, _ in inc.dlq) + 65.0
        rid = uuid4s(rng, 1)[0]
        tt = np.array([t_abort, t_abort + 0.2])
        b.log(disp.log_group, disp_stream, tt, F.python_runtime(tt, ["ERROR", "ERROR"], [rid, rid], [
            f"Job 2026-07-14: {len(inc.dlq)} chunks in orders-import-dlq after 3 receives; {int((~inc.inv_failed).sum())} of {inc_msgs} chunks imported",
            "Job 2026-07-14 ABORTED: disabling event source mapping for orders-import-queue; the import must be re-run",
        ]))

    # metrics
    calls = []
    for job in (base, inc):
        consumed = (job.call_items - job.call_unprocessed).astype(float)
        calls.append((job.call_t, consumed, job.call_unprocessed.astype(float)))
    thr_t = np.concatenate([j.call_t[j.call_unprocessed > 0] for j in (base, inc)])
    reads_t = b.arrivals(lambda s: 1.2)
    _ddb_metrics(b, table, calls, rcu=rcu, wcu=wcu, read_t=reads_t, read_units=np.full(len(reads_t), 1.0),
                 read_throttled=np.zeros(len(reads_t)), op_throttles={"BatchWriteItem": thr_t})
    g = b.grid
    it = np.concatenate([j.inv_t for j in (base, inc)])
    ie = np.concatenate([j.inv_end for j in (base, inc)])
    istart = np.concatenate([j.inv_start for j in (base, inc)])
    ifail = np.concatenate([j.inv_failed for j in (base, inc)])
    dur = (ie - istart) * 1000.0
    inv_count = per_minute(g, it)
    has = inv_count > 0
    conc = concurrency_per_minute(g, it, ie)
    b.metric_series(M.lambda_function(fn.name, region=b.region), {
        ("Invocations", "Sum"): np.where(has, inv_count, np.nan),
        ("Errors", "Sum"): np.where(has, per_minute(g, it, ifail.astype(float), "sum"), np.nan),
        ("Duration", "p50"): per_minute(g, ie, dur, "p50"),
        ("Duration", "p90"): per_minute(g, ie, dur, "p90"),
        ("Duration", "p99"): per_minute(g, ie, dur, "p99"),
        ("Duration", "Maximum"): per_minute(g, ie, dur, "max"),
        ("ConcurrentExecutions", "Maximum"): np.where(conc > 0, conc, np.nan),
    })

    # changes: the event source mapping's concurrency raised from 2 to 100 the afternoon before
    dev = role_identity(b, "AWSReservedSSO_Developer_4a1f7c2e9b3d5e80", "tom.ng@acme.example", mfa=True, when=b.t_window[0] - 30000)
    b.cloudtrail(b.at("2026-07-13T16:42:19Z"), "lambda.amazonaws.com", "UpdateEventSourceMapping20150331", identity=dev,
                 user_agent=UA_CONSOLE, source_ip="203.0.113.45",
                 request={"uUID": "6d3f1e2a-8b7c-4d9e-a1f0-2b3c4d5e6f70", "scalingConfig": {"maximumConcurrency": 100}},
                 response={"uUID": "6d3f1e2a-8b7c-4d9e-a1f0-2b3c4d5e6f70", "batchSize": 1, "state": "Updating",
                           "eventSourceArn": f"arn:aws:sqs:{b.region}:{ACCOUNT}:orders-import-queue",
                           "functionArn": f"arn:aws:lambda:{b.region}:{ACCOUNT}:function:{fn.name}", "scalingConfig": {"maximumConcurrency": 100}})

    tarn = f"arn:aws:dynamodb:{b.region}:{ACCOUNT}:table/{table}"
    b.settings("AWS::DynamoDB::Table", tarn, {"BillingMode": "PROVISIONED", "ReadCapacityUnits": 400, "WriteCapacityUnits": 1000,
                                              "TableStatus": "ACTIVE", "ItemCount": 18_412_907, "TableSizeBytes": 9_871_226_512,
                                              "AutoScaling": "none"})
    b.settings("AWS::Lambda::Function", f"arn:aws:lambda:{b.region}:{ACCOUNT}:function:{fn.name}", {
        "Runtime": "python3.12", "MemorySize": fn.memory_mb, "Timeout": int(fn.timeout_s),
        "Environment.WRITER_THREADS": "4", "Environment.MAX_ATTEMPTS": "6", "Environment.RETRY_DELAY_MS": "0",
        "Environment.BOTO_MAX_ATTEMPTS": "1",
    })
    b.settings("AWS::Lambda::EventSourceMapping", "6d3f1e2a-8b7c-4d9e-a1f0-2b3c4d5e6f70", {
        "EventSourceArn": f"arn:aws:sqs:{b.region}:{ACCOUNT}:orders-import-queue", "BatchSize": 1, "ScalingConfig.MaximumConcurrency": 100,
    })
    b.settings("AWS::SQS::Queue", f"https://sqs.{b.region}.amazonaws.com/{ACCOUNT}/orders-import-queue",
               {"VisibilityTimeout": 150, "RedrivePolicy": {"deadLetterTargetArn": f"arn:aws:sqs:{b.region}:{ACCOUNT}:orders-import-dlq", "maxReceiveCount": 3}})

    return finish(
        b, finding_id="throttling-without-backoff", incident=5, title='"Rate exceeded" killed a batch job',
        description="""The nightly orders import failed at 01:00 and the job stopped. Its event source concurrency had been
        raised from 2 to 100 the afternoon before, so tonight's month-end file fanned out to 100 invocations x 4 threads
        x 25 items: 10,000 concurrent DynamoDB writes against 1,000 provisioned WCU. The burst capacity drained in
        seconds and the writers retried unprocessed items immediately, milliseconds apart, with botocore's own retries
        turned off — no backoff — until every chunk gave up, was redelivered, failed again and landed in the DLQ.""",
        parameters={"log_groups": [fn.log_group, disp.log_group], "function_name": fn.name, "table_name": table, "region": b.region},
    )


# --------------------------------------------------------------------------------------------
# incident 8: the daily report's Scan burns the read capacity
# --------------------------------------------------------------------------------------------


def _report_history(b: Builder, table: str, rcu: float, *, hour: int = 6) -> pd.DataFrame:
    """The week of 5-minute reads before the baseline: the users' trickle, and the report's Scan every morning at
    ``hour``:00 draining the read capacity for ten to fifteen minutes, throttled on most days (GetMetricData, Sum)."""
    rng = np.random.default_rng(b.rng.integers(2**32))
    end = b.baseline.start
    t = pd.date_range(end - pd.Timedelta(days=HISTORY_SPAN_DAYS), end, freq="5min", inclusive="left")
    reads = rng.normal(0.8 * 300, 25, len(t)).clip(0.0)
    throttles = np.zeros(len(t))
    for day in pd.unique(t.floor("D")):
        start = day + pd.Timedelta(hours=hour)
        bins = np.flatnonzero((t >= start) & (t < start + pd.Timedelta(minutes=5 * int(rng.integers(2, 4)))))
        reads[bins] = rcu * 300 * rng.uniform(1.2, 1.6, len(bins))  # burst capacity on top of the provisioned units
        if rng.random() < 0.8:
            throttles[bins[:2]] = rng.integers(300, 2500, min(2, len(bins)))
    frames = []
    for q in history_queries({"table_name": table}):
        values = reads if q.metric_name == "ConsumedReadCapacityUnits" else throttles
        keep = values > 0 if q.metric_name == "ReadThrottleEvents" else np.ones(len(t), dtype=bool)
        frames.append(pd.DataFrame({"timestamp": t[keep], "query_id": q.id, "label": q.label, "namespace": q.namespace,
                                    "metric_name": q.metric_name, "dimensions": q.dimensions_json, "stat": q.stat,
                                    "period": 300, "value": values[keep]}))
    return pd.concat(frames, ignore_index=True)


def scan_read_burst(*, seed: int = 0, scale: float = 1.0) -> Any:
    """Incident 8: the 06:00 report Scans the whole table back to back; user reads are throttled, writes are fine."""
    w = window("2026-10-06T05:30:00Z", "2026-10-06T06:30:00Z")
    b = Builder("scan-read-burst", seed, scale, w, w.baseline("previous"), region="eu-central-1")
    rng = b.rng
    table = "orders"
    api = LambdaFunction("orders-api", memory_mb=768, timeout_s=29, runtime="python:3.12.v38",
                         runtime_arn_hash=hexs(rng, 1, 64)[0], region=b.region, base_memory_mb=101)
    rep = LambdaFunction("daily-sales-report", memory_mb=2048, timeout_s=900, runtime="nodejs:20.v33",
                         runtime_arn_hash=hexs(rng, 1, 64)[0], region=b.region, base_memory_mb=310)
    provisioned_rcu, provisioned_wcu = 400.0, 200.0
    t6 = b.at("2026-10-06T06:00:00Z")

    # --- the report: a full-table Scan, pages fetched back to back, restarted by the async retry.
    # Capacity is a per-second token bucket: provisioned RCU plus DynamoDB's burst capacity
    # (up to five minutes of unused units), the user reads taking their share first.
    app_demand = 0.5 * 1.6  # RCU/s of user reads
    burst = provisioned_rcu * 300.0
    tokens: dict[int, float] = {}
    last = [int(b.t_window[0]) - 3600]

    def bucket(sec: int) -> float:
        nonlocal burst
        if sec not in tokens:
            # unused capacity of the seconds since the last bucket refills the burst pool
            gap = sec - last[0]
            leftover = tokens.get(last[0], provisioned_rcu - app_demand)
            burst = min(provisioned_rcu * 300.0, burst + max(leftover, 0.0) + max(gap - 1, 0) * (provisioned_rcu - app_demand))
            extra = min(2400.0, burst)
            burst -= extra
            tokens[sec] = provisioned_rcu - app_demand + extra
            last[0] = sec
        return tokens[sec]

    total_pages = int(round(3300 * max(scale, 0.2)))
    pages: list[tuple[float, int, float, int]] = []  # (t, attempt, consumed RCU, page number; negative = throttled)
    attempt_bounds: list[tuple[float, float, str]] = []  # (start, end, outcome)
    t_next = t6 + 0.35
    for attempt in (1, 2, 3):  # the scheduled invocation and Lambda's two asynchronous retries
        start = t_next
        timeout_at = start + rep.timeout_s
        tt, page, tries, outcome = start + 0.05, 0, 0, "timeout"
        while tt < timeout_at:
            sec = int(tt)
            if bucket(sec) >= 128.0:
                tokens[sec] -= 128.0
                page += 1
                tries = 0
                pages.append((tt, attempt, 128.0, page))
                if page >= total_pages:
                    outcome = "ok"
                    break
                tt += float(rng.uniform(0.07, 0.11))
            else:
                tries += 1
                pages.append((tt, attempt, 0.0, -(page + 1)))
                if tries >= 10:  # the client's ten attempts (maxAttempts: 10) are spent: the invocation fails
                    outcome = "error"
                    break
                tt += float(rng.uniform(0, 0.1 * 2 ** tries)) + 0.02
        end_t = min(tt, timeout_at) + 0.01
        attempt_bounds.append((start, end_t, outcome))
        if outcome == "ok" or end_t >= b.t_window[1]:
            break
        t_next = end_t + float(rng.uniform(55, 70)) * attempt
    exhausted = {k for k, v in tokens.items() if v < 64.0}

    # --- user traffic on the API: reads (GetItem, Query) and writes (PutItem)
    t = b.arrivals(lambda s: 0.5)
    n = len(t)
    kind = rng.choice(3, size=n, p=[0.55, 0.3, 0.15])  # GetItem, Query, PutItem
    op = np.array(["GetItem", "Query", "PutItem"], dtype=object)[kind]
    # a read is throttled when the second's capacity is gone (most of them: the Scan takes every unit)
    read = kind < 2
    hot = np.array([int(x) in exhausted for x in t])
    throttled = read & hot & (rng.random(n) < 0.85)
    # botocore (legacy mode, 10 attempts) backs off: most throttled reads fail after ~5-20 s, some get through
    gave_up = throttled & (rng.random(n) < 0.62)
    status = np.full(n, 200)
    status[(kind == 0) & (rng.random(n) < 0.03)] = 404
    status[(kind == 2) & (rng.random(n) < 0.01)] = 400
    status[gave_up] = 500
    handler = lognormal(rng, np.array([14.0, 32.0, 21.0])[kind], 0.4, n)
    handler[throttled] += np.where(gave_up[throttled], rng.uniform(9000, 21000, int(throttled.sum())), rng.uniform(300, 6000, int(throttled.sum())))
    inv = simulate(b, api, t, handler, init_ms=lambda m: rng.uniform(600, 1100, m), cold_extra_ms=rng.uniform(40, 150, n), warm_at_start=3)
    ts, ss, ms = platform_json_lines(b, api, inv)
    b.log(api.log_group, ss, ts, ms)
    paths = np.where(kind == 0, [f"/orders/ORD-{x}" for x in rng.integers(10**6, 10**7, n)],
                     np.where(kind == 1, [f"/customers/C{x}/orders" for x in rng.integers(10**5, 10**6, n)], "/orders"))
    methods = np.where(kind == 2, "POST", "GET")
    te = inv.end - 0.0007
    b.log(api.log_group, inv.stream, te, F.json_lines({
        "event": ["request finished"] * n,
        "level": np.where(status >= 500, "error", np.where(status >= 400, "warning", "info")),
        "timestamp": F.iso_ms(te),
        "request_id": inv.request_id,
        "method": methods,
        "path": paths,
        "dynamodb_operation": op,
        "status_code": status,
        "response_time": np.round((inv.duration_ms + np.nan_to_num(inv.init_ms)) / 1000.0, 4),
        "client": ["backoffice-web"] * n,
    }, spaced=True))
    # the handler logs the exception with logging.exception(): with LoggingConfig.LogFormat=JSON the
    # Python runtime writes it as one JSON record with errorType, errorMessage and stackTrace
    bad = np.flatnonzero(gave_up)
    tb = F.json_lines({
        "timestamp": F.iso_ms(te[bad] - 0.002),
        "level": ["ERROR"] * len(bad),
        "message": [f"{methods[i]} {paths[i]} failed" for i in bad],
        "logger": ["orders.handlers"] * len(bad),
        "requestId": [inv.request_id[i] for i in bad],
        "errorType": ["ProvisionedThroughputExceededException"] * len(bad),
        "errorMessage": [f"An error occurred (ProvisionedThroughputExceededException) when calling the {op[i]} operation "
                         f"(reached max retries: 9): {_PTEE}" for i in bad],
        "stackTrace": [[
            '  File "/var/task/orders/handlers.py", line 44, in get_order\n    resp = table.'
            + ("get_item" if op[i] == "GetItem" else "query") + "(**params)\n",
            '  File "/var/lang/lib/python3.12/site-packages/boto3/resources/factory.py", line 581, in do_action\n'
            "    response = action(self, *args, **kwargs)\n",
            '  File "/var/lang/lib/python3.12/site-packages/botocore/client.py", line 1021, in _make_api_call\n'
            "    raise error_class(parsed_response, operation_name)\n",
        ] for i in bad],
    })
    b.log(api.log_group, inv.stream[bad], te[bad] - 0.002, tb)

    # --- the report job's own log (Node.js 20, AWS SDK v3)
    pg = np.array(pages, dtype=float) if pages else np.zeros((0, 4))
    rstreams = [f"2026/10/06/[$LATEST]{x}" for x in hexs(rng, 2, 32)]
    rids = uuid4s(rng, 1) * 3  # an async retry keeps the request id
    rl_t, rl_s, rl_m = [], [], []
    for a, (st, en, outcome) in enumerate(attempt_bounds):
        ok = outcome == "ok"
        stream = rstreams[min(a, 1)]
        init = float(rng.uniform(380, 560)) if a < 2 else float("nan")  # the third attempt reuses a warm environment
        first = [st - init / 1000.0] if a < 2 else []
        rl_t += first + [st, st + 0.001]
        rl_s += [stream] * (len(first) + 2)
        rl_m += (F.lambda_init_start(1, rep.runtime, rep.runtime_arn) if a < 2 else []) + [f"START RequestId: {rids[a]} Version: $LATEST",
                 f"{F.iso_ms(np.array([st + 0.001]))[0]}\t{rids[a]}\tINFO\tDaily sales report 2026-10-05: Scan {table} (ProjectionExpression: none, Limit: none, Segment 0/1)"]
        sel = pg[(pg[:, 1] == a + 1)] if len(pg) else pg
        good = sel[sel[:, 3] > 0]
        keep = good[(good[:, 3] % 5 == 0)]  # the job logs every fifth page
        lt = keep[:, 0]
        rl_t += list(lt)
        rl_s += [stream] * len(lt)
        rl_m += F.node_runtime(lt, ["INFO"] * len(lt), [rids[a]] * len(lt),
                               [f"Scan page {int(p)}: Count=1000 ScannedCount=1000 ConsumedCapacity=128 LastEvaluatedKey "
                                + ("none" if p >= total_pages else "present") for p in keep[:, 3]])
        thr = sel[sel[:, 3] < 0]
        lt = thr[:, 0] + 0.002
        rl_t += list(lt)
        rl_s += [stream] * len(lt)
        rl_m += F.node_runtime(lt, ["WARN"] * len(lt), [rids[a]] * len(lt),
                               [f"Scan page {int(-p)} throttled (ProvisionedThroughputExceededException), SDK retrying" for p in thr[:, 3]])
        dur = (en - st) * 1000.0
        if ok:
            rl_t += [en]
            rl_s += [stream]
            rl_m += F.node_runtime(np.array([en]), ["INFO"], [rids[a]], [f"Report written to s3://acme-reports/daily/2026-10-05.csv ({int(total_pages * 1000)} rows)"])
        elif outcome == "timeout":
            rl_t += [en - 0.0005]
            rl_s += [stream]
            rl_m += [f"{F.iso_ms(np.array([en]))[0]} {rids[a]} Task timed out after {rep.timeout_s:.2f} seconds"]
        else:
            rl_t += [en - 0.0005]
            rl_s += [stream]
            rl_m += F.node_runtime(np.array([en - 0.0005]), ["ERROR"], [rids[a]], [
                "Invoke Error \t{\"errorType\":\"ProvisionedThroughputExceededException\",\"errorMessage\":\"" + _PTEE + "\","
                "\"name\":\"ProvisionedThroughputExceededException\",\"$fault\":\"client\",\"$metadata\":{\"httpStatusCode\":400,"
                "\"requestId\":\"" + hexs(rng, 1, 52)[0].upper() + "\",\"attempts\":10,\"totalRetryDelay\":9412},"
                "\"stack\":[\"ProvisionedThroughputExceededException: " + _PTEE + "\",\"    at throwDefaultError (/var/runtime/node_modules/@aws-sdk/node_modules/@smithy/smithy-client/dist-cjs/index.js:838:20)\"]}"])
        rl_t += [en, en + 0.0005]
        rl_s += [stream] * 2
        rl_m += [f"END RequestId: {rids[a]}",
                 F.lambda_report([rids[a]], np.array([dur]), rep.memory_mb, np.array([rep.base_memory_mb + 600 + rng.integers(0, 200)]),
                                 np.array([init]), timed_out=np.array([outcome == "timeout"]))[0]]
    b.log(rep.log_group, rl_s, np.array(rl_t), rl_m)

    # metrics
    g = b.grid
    user_rcu = np.where(kind == 0, 0.5, np.where(kind == 1, 2.5, 0.0))
    user_rcu[throttled & gave_up] = 0.0
    read_t = np.concatenate([t[read], pg[:, 0] if len(pg) else np.array([])])
    read_units = np.concatenate([user_rcu[read], pg[:, 2] if len(pg) else np.array([])])
    read_thr = np.concatenate([(throttled[read] * (1 + rng.integers(2, 9, int(read.sum())))).astype(float),
                               ((pg[:, 3] < 0) * 1.0) if len(pg) else np.array([])])
    writes = kind == 2
    scan_t = pg[:, 0] if len(pg) else np.array([])
    scan_thr_t = pg[pg[:, 3] < 0, 0] if len(pg) else np.array([])
    _ddb_metrics(b, table, [(t[writes], np.ones(int(writes.sum())), np.zeros(int(writes.sum())))],
                 rcu=lambda _x: provisioned_rcu, wcu=lambda _x: provisioned_wcu,
                 read_t=read_t, read_units=read_units, read_throttled=read_thr,
                 op_throttles={"GetItem": t[throttled & (kind == 0)], "Query": t[throttled & (kind == 1)], "Scan": scan_thr_t})
    rq = M.MetricQuery(M.make_id("ddb", table, "Scan", "ReturnedItemCount", "Sum"), "AWS/DynamoDB", "ReturnedItemCount",
                       {"TableName": table, "Operation": "Scan"}, "Sum", label=f"{table} Scan ReturnedItemCount Sum")
    ok_pages = scan_t[(pg[:, 3] > 0)] if len(pg) else scan_t
    b.metric(rq, g, per_minute(g, ok_pages, np.full(len(ok_pages), 1000.0), "sum"), drop_zero=True)
    _lambda_metrics(b, api, inv, errors=status >= 500)

    # a benign change an hour before, and the configuration
    tf = role_identity(b, "terraform-apply", "terraform-run-91873", when=b.t_baseline[0])
    b.cloudtrail(b.at("2026-10-06T05:12:40Z"), "lambda.amazonaws.com", "UpdateFunctionConfiguration20150331v2", identity=tf,
                 user_agent=UA_TERRAFORM.replace("api/ec2#1.168.0", "api/lambda#1.56.3"), source_ip="52.29.140.17",
                 request={"functionName": api.name, "memorySize": 768, "timeout": 29})
    tarn = f"arn:aws:dynamodb:{b.region}:{ACCOUNT}:table/{table}"
    b.settings("AWS::DynamoDB::Table", tarn, {"BillingMode": "PROVISIONED", "ReadCapacityUnits": int(provisioned_rcu),
                                              "WriteCapacityUnits": int(provisioned_wcu), "TableStatus": "ACTIVE",
                                              "ItemCount": total_pages * 1000 + 412, "TableSizeBytes": total_pages * 1_203_311, "AutoScaling": "none"})
    b.settings("AWS::Events::Rule", f"arn:aws:events:{b.region}:{ACCOUNT}:rule/daily-sales-report", {
        "ScheduleExpression": "cron(0 6 * * ? *)", "State": "ENABLED",
        "Targets": [{"Id": "report", "Arn": f"arn:aws:lambda:{b.region}:{ACCOUNT}:function:{rep.name}"}],
    })
    b.settings("AWS::Lambda::Function", f"arn:aws:lambda:{b.region}:{ACCOUNT}:function:{rep.name}",
               {"Runtime": "nodejs20.x", "MemorySize": rep.memory_mb, "Timeout": int(rep.timeout_s), "MaximumRetryAttempts": 2})
    b.settings("AWS::Lambda::Function", f"arn:aws:lambda:{b.region}:{ACCOUNT}:function:{api.name}",
               {"Runtime": "python3.12", "MemorySize": api.memory_mb, "Timeout": int(api.timeout_s)})

    return finish(
        b, finding_id="scan-read-burst", incident=8, title="ProvisionedThroughputExceeded during the daily report",
        description="""Every morning at 06:00 the orders API started failing reads with ProvisionedThroughputExceededException
        while writes kept working. The daily sales report, scheduled at 06:00, runs a full-table Scan of the orders table
        with no Limit and no pacing, page after page: it drains the burst capacity and then the 400 provisioned RCU,
        so the users' GetItem and Query calls are throttled until the report finishes — or, as this time, fails and is
        retried from the start by the asynchronous invocation.""",
        parameters={"log_groups": [api.log_group, rep.log_group], "function_name": api.name, "table_name": table, "region": b.region},
        history=_report_history(b, table, provisioned_rcu),
    )


# --------------------------------------------------------------------------------------------
# healthy: a nightly import with backoff, jitter and autoscaling
# --------------------------------------------------------------------------------------------


def healthy_dynamodb_batch(*, seed: int = 0, scale: float = 1.0) -> Any:
    """Healthy: a nightly import that is throttled a little, backs off with jitter, and is helped by autoscaling."""
    # demand: 3 invocations x 2 threads x 25 items every ~0.33 s, about 450 WCU with bursts, against 600 WCU then 1,500
    w = window("2026-08-20T02:00:00Z", "2026-08-20T02:40:00Z")
    b = Builder("healthy-dynamodb-batch", seed, scale, w, w.baseline("day"), region="eu-west-1")
    rng = b.rng
    table = "customer-events"
    fn = LambdaFunction("events-import", memory_mb=1024, timeout_s=600, runtime="python:3.12.v38",
                        runtime_arn_hash=hexs(rng, 1, 64)[0], region=b.region, base_memory_mb=140)
    starts = [sg.start for sg in b.segments]

    def wcu(t: float) -> float:  # autoscaling: 600 WCU, raised to 1,500 three minutes into each run
        seg_start = max((x for x in starts if x <= t), default=starts[0])
        return 1500.0 if t >= seg_start + 190.0 else 600.0

    def backoff(attempt: int) -> float:  # full jitter, base 50 ms, cap 5 s
        return float(rng.uniform(0, min(5000.0, 50.0 * 2 ** attempt)))

    common = dict(threads=2, prep_ms=drawer(lambda k: rng.uniform(200, 420, k)), call_ms=drawer(lambda k: lognormal(rng, 21.0, 0.35, k)),
                  provisioned=wcu, partition_max=1200.0, max_attempts=10, backoff_ms=backoff, burst_pool=180_000.0, max_receive=3)
    jobs = []
    for t0, msgs in ((b.t_baseline[0] + 5.0, 200), (b.t_window[0] + 5.0, 240)):
        jobs.append(_run_job(b, arrive=t0, messages=max(4, int(round(msgs * scale))), rows=1500, concurrency=3, warm_envs=0, **common))
    fn_arn = f"arn:aws:lambda:{b.region}:{ACCOUNT}:function:{fn.name}"
    for job in jobs:
        ts, ss, ms = _job_lambda_lines(b, fn, job)
        b.log(fn.log_group, ss, ts, ms)
        streams = np.asarray(job.env_stream, dtype=object)[job.inv_env]
        n = len(job.inv_t)
        xr = xray_ids(rng, job.inv_start)
        # Powertools lines: start and end of each chunk, and a line per throttled batch with its backoff
        tt = np.concatenate([job.inv_start + 0.001, job.inv_end - 0.001])
        b.log(fn.log_group, np.concatenate([streams, streams]), tt, F.powertools_lines(
            tt, ["INFO"] * (2 * n),
            [f"Importing chunk {m} ({r} rows)" for m, r in zip(job.inv_msg, job.inv_rows)]
            + [f"Chunk {m} imported in {(e - s_):.1f} s" for m, s_, e in zip(job.inv_msg, job.inv_start, job.inv_end)],
            service="events-import", location=["import.handler:33"] * n + ["import.handler:58"] * n,
            cold_start=np.concatenate([job.inv_cold, np.zeros(n, dtype=bool)]), function_name=fn.name, memory_mb=fn.memory_mb,
            function_arn=fn_arn, request_ids=list(job.request_id) * 2, xray=list(xr) * 2,
            extra={"table": [table] * (2 * n), "chunk": np.concatenate([job.inv_msg, job.inv_msg])}))
        r = np.flatnonzero(job.call_unprocessed > 0)
        if len(r):
            ci = job.call_inv[r]
            te = job.call_t[r] + job.call_ms[r] / 1000.0
            # the delay actually waited is the gap to the next attempt of the same batch
            nxt = _next_attempt_gap(job, r)
            b.log(fn.log_group, streams[ci], te, F.powertools_lines(
                te, ["WARNING"] * len(r),
                [f"BatchWriteItem returned {u} unprocessed items; retrying in {d:.0f} ms" for u, d in zip(job.call_unprocessed[r], nxt)],
                service="events-import", location="import.write_batch:91", cold_start=np.zeros(len(r), dtype=bool), function_name=fn.name,
                memory_mb=fn.memory_mb, function_arn=fn_arn, request_ids=[job.request_id[k] for k in ci], xray=[xr[k] for k in ci],
                extra={"table": [table] * len(r), "attempt": job.call_attempt[r] + 1, "operation": ["BatchWriteItem"] * len(r)}))

    calls = [(j.call_t, (j.call_items - j.call_unprocessed).astype(float), j.call_unprocessed.astype(float)) for j in jobs]
    thr_t = np.concatenate([j.call_t[j.call_unprocessed > 0] for j in jobs])
    _ddb_metrics(b, table, calls, rcu=lambda _x: 100.0, wcu=wcu, op_throttles={"BatchWriteItem": thr_t})
    g = b.grid
    it = np.concatenate([j.inv_t for j in jobs])
    ie = np.concatenate([j.inv_end for j in jobs])
    ist = np.concatenate([j.inv_start for j in jobs])
    dur = (ie - ist) * 1000.0
    cnt = per_minute(g, it)
    conc = concurrency_per_minute(g, it, ie)
    b.metric_series(M.lambda_function(fn.name, region=b.region), {
        ("Invocations", "Sum"): np.where(cnt > 0, cnt, np.nan),
        ("Errors", "Sum"): np.where(cnt > 0, 0.0, np.nan),
        ("Duration", "p50"): per_minute(g, ie, dur, "p50"),
        ("Duration", "p90"): per_minute(g, ie, dur, "p90"),
        ("Duration", "p99"): per_minute(g, ie, dur, "p99"),
        ("Duration", "Maximum"): per_minute(g, ie, dur, "max"),
        ("ConcurrentExecutions", "Maximum"): np.where(conc > 0, conc, np.nan),
    })

    # autoscaling raises the table's WCU a few minutes into each run (a normal scaling event)
    asg = role_identity(b, "AWSServiceRoleForApplicationAutoScaling_DynamoDBTable", "AutoScaling-DynamoDB",
                        invoked_by="application-autoscaling.amazonaws.com")
    for t0 in (b.t_baseline[0], b.t_window[0]):
        b.cloudtrail(t0 + 190.0, "dynamodb.amazonaws.com", "UpdateTable", identity=asg, user_agent="application-autoscaling.amazonaws.com",
                     source_ip="application-autoscaling.amazonaws.com",
                     request={"tableName": table, "provisionedThroughput": {"readCapacityUnits": 100, "writeCapacityUnits": 1500}})
    tarn = f"arn:aws:dynamodb:{b.region}:{ACCOUNT}:table/{table}"
    b.settings("AWS::DynamoDB::Table", tarn, {"BillingMode": "PROVISIONED", "ReadCapacityUnits": 100, "WriteCapacityUnits": 1500,
                                              "TableStatus": "ACTIVE", "AutoScaling": "enabled"})
    b.settings("AWS::ApplicationAutoScaling::ScalableTarget", f"table/{table}|dynamodb:table:WriteCapacityUnits", {
        "MinCapacity": 600, "MaxCapacity": 4000, "TargetTrackingScalingPolicy.TargetValue": 50.0,
        "PredefinedMetricType": "DynamoDBWriteCapacityUtilization"})
    b.settings("AWS::Lambda::Function", fn_arn, {"Runtime": "python3.12", "MemorySize": fn.memory_mb, "Timeout": int(fn.timeout_s),
                                                 "Environment.AWS_RETRY_MODE": "standard", "Environment.AWS_MAX_ATTEMPTS": "10"})

    return finish(
        b, finding_id=None, incident=None, title="healthy nightly DynamoDB import with backoff and autoscaling",
        description="""The nightly customer-events import at 02:00: three concurrent invocations write 1,500-row chunks with
        BatchWriteItem. The first minutes exceed the table's 600 WCU and some batches come back with unprocessed items;
        the writer retries them after an exponential backoff with full jitter, autoscaling raises the table to 1,500 WCU
        three minutes in, and every chunk is imported. A little throttling that is absorbed is not an incident.""",
        parameters={"log_groups": [fn.log_group], "function_name": fn.name, "table_name": table, "region": b.region},
    )


def _next_attempt_gap(job: _Job, rows: np.ndarray) -> np.ndarray:
    """For each call in ``rows``, the milliseconds until the next attempt of the same batch."""
    key = job.call_inv * 10_000_000 + job.call_thread * 10_000 + job.call_batch
    order = np.lexsort((job.call_attempt, key))
    pos = np.empty(len(order), dtype=int)
    pos[order] = np.arange(len(order))
    out = np.zeros(len(rows))
    for j, i in enumerate(rows):
        p = pos[i]
        if p + 1 < len(order) and key[order[p + 1]] == key[i]:
            nxt = order[p + 1]
            out[j] = max(0.0, (job.call_t[nxt] - job.call_t[i]) * 1000.0 - job.call_ms[i])
    return out
