"""Application JSON: any JSON object no more specific format claims, read through
:data:`ALIASES` (the names libraries and teams give the fields) and the user's ``field_map``.

The aliases are read for *every* JSON record before its format is known (a Powertools or an
access-log record names its request id the way an app does), so they live here, with the
error reading app lines share (:func:`read_error_text`): a record at ERROR/FATAL, or one
carrying an exception, without an explicit error type gets one from its text.

Example
-------
>>> from incidentkit import parse
>>> df = parse.parse(['{"level": "error", "msg": "An error occurred (ThrottlingException) when calling the Query operation: Rate exceeded"}'])
>>> print(df.at[0, "format"], df.at[0, "level"], df.at[0, "error_type"], df.at[0, "operation"])
app_json ERROR ThrottlingException Query
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .._text import error_fields_from_text
from ..arrow import STR, mask_np, nulls
from ._keys import Field, JsonRows, Keys, first_str, scatter, scatter_into

__all__ = ["ALIASES", "EXCEPTION_KEYS", "FIELDS", "MESSAGE_KEYS", "NAME", "PATHS", "RECOGNISE", "ROLE", "parse", "read_error_text", "read_like_app"]

NAME = "app_json"
ROLE = "app"
#: Any JSON object (tried last among the JSON formats).
RECOGNISE = Keys()
#: No documented schema: the fields are whatever the application logs, found by :data:`ALIASES`.
FIELDS: tuple[Field, ...] = ()

def _latency_names() -> list[tuple[str, str]]:
    """Latency aliases with their unit, derived from the name: ``*_ms``/``*Ms`` are ms,
    ``*_s``/``*_sec``/``*_seconds``/``*Seconds`` seconds, ``*_us`` µs, ``*_ns`` ns; a name
    without a unit suffix is taken as ms."""
    out: list[tuple[str, str]] = [("responseLatency", "ms")]
    for base in ("latency", "duration", "elapsed", "response_time", "responseTime", "request_time", "took", "time_taken"):
        snake = base if "_" in base or base.islower() else None
        camel = base if snake is None else re.sub(r"_(\w)", lambda m: m.group(1).upper(), base)
        for name in {snake or base, camel}:
            if name is None:
                continue
            out += [(f"{name}_ms", "ms"), (f"{name}Ms", "ms"), (f"{name}_millis", "ms"), (f"{name}Millis", "ms")]
            out += [(name, "ms")]
            out += [(f"{name}_s", "s"), (f"{name}_sec", "s"), (f"{name}_secs", "s"), (f"{name}_seconds", "s")]
            out += [(f"{name}Seconds", "s"), (f"{name}Sec", "s"), (f"{name}_us", "us"), (f"{name}_ns", "ns")]
    out += [
        ("res.responseTime", "ms"),
        ("http.duration_ms", "ms"),
        ("http.response_time_ms", "ms"),
        ("event.duration", "ns"),  # Elastic Common Schema: nanoseconds
        ("integrationLatency", "ms"),
        ("integration.latency", "ms"),
    ]
    seen: set[str] = set()
    uniq = []
    for name, unit in out:
        if name not in seen:
            seen.add(name)
            uniq.append((name, unit))
    return uniq


#: Field -> JSON paths tried in order (dotted paths match nested objects *and* literal
#: dotted keys). ``latency_ms`` entries carry their unit. Format-specific keys (Lambda
#: platform ``record.*``, CloudTrail, EMF) are handled in :func:`extract`.
ALIASES: dict[str, list[Any]] = {
    "request_id": [
        "requestId",
        "function_request_id",
        "awsRequestId",
        "aws_request_id",
        "AWSRequestId",
        "functionRequestId",
        "request_id",
        "requestID",
        "RequestId",
        "req_id",
        "reqId",
        "req.id",
        "x-request-id",
        "x_request_id",
        "http.request.id",  # Elastic Common Schema (Log4j2 EcsLayout, ecs-logging)
        "http.request_id",
        "correlation_id",
        "correlationId",
    ],
    # the id an entry point gave its integration: API Gateway's $context.integration.requestId /
    # $context.awsEndpointRequestId (a Lambda proxy integration's invocation id), under the names
    # access-log formats give them
    "integration_request_id": [
        "integrationRequestId",
        "integration.requestId",
        "integration_request_id",
        "awsEndpointRequestId",
        "aws_endpoint_request_id",
        "lambdaRequestId",
        "lambda_request_id",
        "awsRequestId",
        "aws_request_id",
    ],
    "level": ["level", "severity", "levelname", "log.level", "loglevel", "log_level", "logLevel", "lvl", "levelName", "@l", "@level", "Level"],
    "status": [
        "status",
        "statusCode",
        "status_code",
        "httpStatus",
        "http_status",
        "httpStatusCode",
        "http_status_code",
        "responseStatus",
        "response_status",
        "http.status_code",
        "http.status",
        "http.response.status_code",
        "res.statusCode",
        "res.status",
        "response.status",
        "response.statusCode",
        "response.status_code",
    ],
    "latency_ms": _latency_names(),
    "app_version": [
        "app_version",
        "appVersion",
        "client_version",
        "clientVersion",
        "clientAppVersion",
        "app.version",
        "client.version",
        "x-app-version",
        "x_app_version",
        "service.version",  # Elastic Common Schema
        "version",
    ],
    "user_agent": [
        "userAgent",
        "user_agent",
        "ua",
        "http_user_agent",
        "http.user_agent",
        "user_agent.original",
        "http.request.headers.user-agent",
        "req.headers.user-agent",
        "headers.user-agent",
        "headers.User-Agent",
        "identity.userAgent",
        "requestContext.identity.userAgent",
        "User-Agent",
        "user-agent",
    ],
    "route": [
        "route",
        "resourcePath",
        "routeKey",
        "http.route",
        "resource",
        "path",
        "rawPath",
        "requestPath",
        "request_path",
        "url",
        "uri",
        "request_uri",
        "endpoint",
        "http.path",
        "http.target",
        "http.url",
        "url.path",
        "req.url",
        "request.path",
        "request.url",
    ],
    "method": ["httpMethod", "method", "http_method", "requestMethod", "request_method", "http.method", "http.request.method", "req.method", "request.method", "verb"],
    "client_ip": [
        "ip",
        "sourceIp",
        "source_ip",
        "sourceIP",
        "client_ip",
        "clientIp",
        "clientIP",
        "remote_addr",
        "remoteAddr",
        "remote_ip",
        "remoteIp",
        "http.client_ip",
        "client.ip",
        "client.address",
        "source.ip",
        "req.remoteAddress",
        "identity.sourceIp",
        "requestContext.identity.sourceIp",
    ],
    "function_name": ["function_name", "functionName", "function.name", "faas.name"],
    "service": ["service", "service_name", "serviceName", "service.name"],
    "xray_trace_id": ["xray_trace_id", "xrayTraceId", "AWS-XRAY-TRACE-ID", "X-Amzn-Trace-Id", "traceId", "trace_id", "trace.id"],
    "operation": ["operation", "op", "aws.operation", "db.operation", "rpc.method"],
    "error_type": [
        "errorType",
        "error_type",
        "exception_name",
        "error.type",
        "error.name",
        "error.kind",
        "err.type",
        "err.name",
        "exception.type",
        "exception.class",
        "thrown.name",  # Log4j2 JsonLayout / JsonTemplateLayout
        "exc_type",
        "message.errorType",
        "errorCode",
        "error_code",
        "error.code",
    ],
    "error_message": [
        "errorMessage",
        "error_message",
        "error.message",
        "err.message",
        "exception.message",
        "thrown.message",  # Log4j2 JsonLayout / JsonTemplateLayout
        "message.errorMessage",
        "error",
        "err",
    ],
    "cold_start": ["cold_start", "coldStart", "is_cold_start", "faas.coldstart"],
    "timed_out": [],
    "duration_ms": [],
    "billed_duration_ms": [],
    "init_duration_ms": [],
    "memory_size_mb": [],
    "max_memory_used_mb": [],
    "timestamp": ["timestamp", "time", "@timestamp", "ts", "@t", "datetime", "date", "asctime", "requestTimeEpoch", "requestTime", "eventTime"],
}


#: Keys of the message text (used for error text when no explicit error field exists).
MESSAGE_KEYS = ["message", "msg", "@m", "@message", "event", "log"]
#: Keys holding an exception or a stack (a record carrying one is read as an error).
EXCEPTION_KEYS = ["exception", "error.stack", "stack"]
#: The leaves this format reads beyond :data:`ALIASES`.
PATHS = MESSAGE_KEYS + EXCEPTION_KEYS


def read_error_text(rows: JsonRows, out: dict[str, pa.Array], mine: np.ndarray) -> None:
    """Error type, message and AWS operation for ``mine``'s rows at ERROR/FATAL (or carrying
    an exception) that have no error field: from the exception or message text."""
    n = rows.n
    level = out.get("level")
    exc = [p for p in EXCEPTION_KEYS if p in rows.leaves]
    errorish = np.zeros(n, dtype=bool)
    if level is not None:
        errorish = mask_np(pc.is_in(level, value_set=pa.array(["ERROR", "FATAL"], type=STR)))
    for p in exc:
        errorish |= mask_np(rows.leaves[p].is_valid())
    errorish &= mine
    if not errorish.any():
        return
    at = np.flatnonzero(errorish)
    sel = pa.array(at)
    et, em = out.get("error_type"), out.get("error_message")
    et_sub = et.take(sel) if et is not None else nulls(len(at), STR)
    em_sub = em.take(sel) if em is not None else nulls(len(at), STR)
    msg = first_str(rows, MESSAGE_KEYS, sel)
    text = pc.coalesce(first_str(rows, exc, sel), msg) if exc else msg
    need = mask_np(pc.invert(et_sub.is_valid()))
    if need.any():
        tt, top, tm = error_fields_from_text(text.filter(pa.array(need)))
        et_sub = pc.coalesce(et_sub, scatter(tt, need, len(at), STR))
        em_sub = pc.coalesce(em_sub, scatter(tm, need, len(at), STR))
        if pc.any(top.is_valid()).as_py():
            op_sub = out["operation"].take(sel) if "operation" in out else nulls(len(at), STR)
            out["operation"] = scatter_into(out.get("operation"), pc.coalesce(op_sub, scatter(top, need, len(at), STR)), at, n)
    out["error_type"] = scatter_into(et, et_sub, at, n)
    out["error_message"] = scatter_into(em, pc.coalesce(em_sub, msg), at, n)


def read_like_app(record_type: str) -> Callable[[JsonRows, dict[str, pa.Array], np.ndarray, np.ndarray], str]:
    """A JSON format's ``parse`` for records read like app lines: the aliases (already read),
    the error text of error lines, and ``record_type``."""

    def parse(rows: JsonRows, out: dict[str, pa.Array], mine: np.ndarray, need_time: np.ndarray) -> str:
        read_error_text(rows, out, mine)
        return record_type

    return parse


#: App JSON rows: the aliases already read; the error text of error lines.
parse = read_like_app("log")
