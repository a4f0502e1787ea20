"""parsers.requests: one request counted once — tiers, joins between tiers, and request ids
that are unique only within one process (runtimes, log libraries and field names vary)."""

from __future__ import annotations

import doctest
import json
import uuid

import pandas as pd

from incidentkit.parse import _requests
from incidentkit import parse as parsers

T0 = pd.Timestamp("2026-03-10T02:30:00Z")


def frame(rows: list[tuple[str, str, pd.Timestamp, str]]) -> pd.DataFrame:
    """A logs frame from ``(log_group, log_stream, time, message)`` rows."""
    return pd.DataFrame({
        "timestamp": pd.to_datetime([r[2] for r in rows], utc=True),
        "ingestion_time": pd.to_datetime([r[2] for r in rows], utc=True),
        "log_group": pd.array([r[0] for r in rows], dtype="string"),
        "log_stream": pd.array([r[1] for r in rows], dtype="string"),
        "event_id": pd.array([str(i) for i in range(len(rows))], dtype="string"),
        "message": pd.array([r[3] for r in rows], dtype="string"),
    })


def requests_of(rows: list[tuple[str, str, pd.Timestamp, str]]) -> pd.DataFrame:
    return parsers.requests(parsers.parse(frame(rows)))


def pino_service(tasks: int, per_task: int, *, restart_after: int | None = None) -> list[tuple[str, str, pd.Timestamp, str]]:
    """pino-http on ECS: every task counts ``req.id`` from 1, logs "incoming request" and
    "request completed"; with ``restart_after`` the process restarts inside the same stream."""
    rows = []
    for task in range(tasks):
        stream = f"web/app/{uuid.UUID(int=task + 1).hex}"
        counter = 0
        for i in range(per_task):
            if restart_after is not None and i == restart_after:
                counter = 0
            counter += 1
            t = T0 + pd.Timedelta(seconds=i * 3 + task * 0.37)
            req = {"id": counter, "method": "GET", "url": f"/items/{i % 7}"}
            rows.append(("/ecs/web", stream, t, json.dumps({"level": 30, "time": int(t.value // 1_000_000), "pid": 7, "req": req,
                                                             "msg": "incoming request"})))
            done = t + pd.Timedelta(milliseconds=40)
            rows.append(("/ecs/web", stream, done, json.dumps({"level": 30, "time": int(done.value // 1_000_000), "pid": 7, "req": req,
                                                                "res": {"statusCode": 500 if i % 10 == 0 else 200},
                                                                "responseTime": 40, "msg": "request completed"})))
    return rows


def test_per_process_request_ids_are_scoped_by_stream() -> None:
    req = requests_of(pino_service(tasks=4, per_task=150))
    assert len(req) == 600  # not the 150 distinct counter values
    assert int((req["status"] == 500).sum()) == 60
    assert set(req["tier"]) == {"app"}
    assert req.attrs["request_stats"]["ids_unique_per_process"] == 150
    assert any("/ecs/web" in i and "unique per process" in i for i in req.attrs["issues"])


def test_a_counter_restarting_inside_one_stream_is_split_at_each_completion() -> None:
    req = requests_of(pino_service(tasks=1, per_task=80, restart_after=40))
    assert len(req) == 80 and set(req["status"].dropna()) == {200, 500}


def test_globally_unique_ids_across_streams_are_trusted() -> None:
    rows = []
    for i in range(50):
        rid = str(uuid.UUID(int=1000 + i))
        t = T0 + pd.Timedelta(seconds=i)
        stream = f"task-{i % 3}"
        rows.append(("/ecs/api", stream, t, json.dumps({"level": "info", "requestId": rid, "msg": "start"})))
        # an error line and the access line of the same request, milliseconds apart
        rows.append(("/ecs/api", stream, t + pd.Timedelta(milliseconds=30),
                     json.dumps({"level": "error", "requestId": rid, "status": 502, "msg": "upstream failed"})))
        rows.append(("/ecs/api", stream, t + pd.Timedelta(milliseconds=31),
                     json.dumps({"level": "info", "requestId": rid, "status": 502, "durationMs": 31, "msg": "done"})))
    req = requests_of(rows)
    assert len(req) == 50 and req.attrs["request_stats"]["ids_unique_per_process"] == 0
    assert req["logged_error"].all() and (req["status"] == 502).all()


def report(rid: str, dur: float, init: float | None = None) -> str:
    tail = f"\tInit Duration: {init} ms" if init else ""
    return (f"REPORT RequestId: {rid}\tDuration: {dur} ms\tBilled Duration: {int(dur) + 1} ms\tMemory Size: 512 MB"
            f"\tMax Memory Used: 90 MB{tail}")


def api_with_authorizer(n: int, *, integration_key: str | None) -> list[tuple[str, str, pd.Timestamp, str]]:
    """An HTTP API with a Lambda authorizer and a Lambda backend: one access-log row and two
    invocations per request; the access log names the backend's request id when
    ``integration_key`` is given."""
    rows = []
    for i in range(n):
        t = T0 + pd.Timedelta(seconds=2 * i)
        gw_id, auth_id, fn_id = f"gw{i:04d}=", str(uuid.UUID(int=10_000 + i)), str(uuid.UUID(int=20_000 + i))
        access = {"requestId": gw_id, "ip": f"10.0.{i % 5}.1", "requestTime": t.strftime("%d/%b/%Y:%H:%M:%S +0000"),
                  "httpMethod": "GET", "routeKey": "GET /orders", "status": "403" if i % 4 == 0 else "200",
                  "responseLatency": "80", "userAgent": "ShopApp/2.9.0 (iOS 17)"}
        if integration_key:
            access[integration_key] = fn_id
        rows.append(("/aws/vendedlogs/apigateway/shop/access", "stream", t + pd.Timedelta(milliseconds=80), json.dumps(access)))
        rows.append(("/aws/lambda/authorizer", "2026/03/10/[12]a", t, f"START RequestId: {auth_id} Version: 12"))
        rows.append(("/aws/lambda/authorizer", "2026/03/10/[12]a", t + pd.Timedelta(milliseconds=5), report(auth_id, 5.0)))
        rows.append(("/aws/lambda/orders", "2026/03/10/[41]b", t + pd.Timedelta(milliseconds=10), f"START RequestId: {fn_id} Version: 41"))
        rows.append(("/aws/lambda/orders", "2026/03/10/[41]b", t + pd.Timedelta(milliseconds=60),
                     report(fn_id, 50.0, init=300.0 if i == 0 else None)))
    return rows


def test_entry_requests_and_invocations_are_separate_tiers() -> None:
    req = requests_of(api_with_authorizer(40, integration_key=None))
    assert req["tier"].value_counts().to_dict() == {"entry": 40, "invocation": 80}
    entry = req[req["tier"] == "entry"]
    assert set(entry["tier_format"]) == {"apigw_access"} and int((entry["status"] == 403).sum()) == 10


def test_the_integration_request_id_joins_the_backend_invocation() -> None:
    for key in ("integrationRequestId", "awsEndpointRequestId", "integration.requestId"):
        req = requests_of(api_with_authorizer(40, integration_key=key))
        assert req["tier"].value_counts().to_dict() == {"entry": 40, "invocation": 40}, key  # the authorizer stays apart
        entry = req[req["tier"] == "entry"].set_index("request_id")
        assert entry.at["gw0000=", "cold_start"] == True and entry.at["gw0000=", "duration_ms"] == 50.0
        assert entry.at["gw0000=", "latency_ms"] == 80.0 and entry.at["gw0000=", "function_name"] == "orders"
        assert req.attrs["request_stats"]["linked_by_integration_id"] == 40


def test_execution_logs_name_the_lambda_request_id() -> None:
    gw, fn = str(uuid.UUID(int=7)), str(uuid.UUID(int=8))
    rows = [
        ("API-Gateway-Execution-Logs_abc/prod", "s", T0, f"({gw}) Endpoint response headers: {{Date=Tue, 10 Mar 2026 02:30:00 GMT, "
                                                          f"Content-Type=application/json, x-amzn-RequestId={fn}}}"),
        ("API-Gateway-Execution-Logs_abc/prod", "s", T0, f"({gw}) Method completed with status: 200"),
        ("/aws/lambda/orders", "s", T0, report(fn, 20.0, init=250.0)),
    ]
    req = requests_of(rows)
    assert len(req) == 1 and req.at[0, "tier"] == "entry" and req.at[0, "cold_start"] == True and req.at[0, "status"] == 200


def test_a_trace_held_by_one_entry_request_joins_the_app_request() -> None:
    rows = []
    for i in range(20):
        t = T0 + pd.Timedelta(seconds=i)
        root = f"1-65ed7c00-{i:024x}"
        alb = (f'https {t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")} app/web/1 1.2.3.{i}:4000 10.0.0.1:8080 0.001 0.050 0.000 200 200 10 20 '
               f'"GET https://h:443/p HTTP/1.1" "curl/8" ECDHE TLSv1.2 arn "Root={root}" "-" "-" 1 {t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")} '
               f'"forward" "-" "-"')
        rows.append(("/alb/web", "s", t, alb))
        rows.append(("/ecs/web", "task", t, json.dumps({"level": "info", "requestId": str(uuid.UUID(int=i + 1)), "statusCode": 200,
                                                       "durationMs": 49, "appVersion": "7.1.0",
                                                       "X-Amzn-Trace-Id": f"Root={root};Parent=53995c3f42cd8ad8;Sampled=1"})))
    req = requests_of(rows)
    assert len(req) == 20 and set(req["tier"]) == {"entry"} and set(req["app_version"]) == {"7.1.0"}
    assert req.attrs["request_stats"]["linked_by_trace"] == 20


def test_the_examples_in_the_docstrings_run() -> None:
    for module in (_requests, parsers):
        result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
        assert result.attempted and result.failed == 0, module.__name__
