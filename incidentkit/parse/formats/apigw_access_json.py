"""API Gateway access logs in a JSON template: ``$context`` variables under any names.

Source: *API Gateway Developer Guide*, "``$context`` variables for data models, authorizers,
mapping templates, and CloudWatch access logging" and the documented JSON templates (REST
and HTTP APIs). A record is recognised by a request id and a status with at least one
access-log key (request time, latencies, route key, resource path ...) and no log level or
message (those are app lines that log a request id). Fields are read through the aliases
(:mod:`incidentkit.parse.formats.app_json`): ``responseLatency``/``integrationLatency``,
``routeKey`` (``GET /pets`` -> method and route), ``integration.requestId`` /
``awsEndpointRequestId`` as the ``integration_request_id``.

Example
-------
>>> from incidentkit import parse
>>> df = parse.parse(['{"requestId": "gw-1", "status": "502", "responseLatency": "31", "routeKey": "GET /pay",'
...                   ' "requestTime": "10/Mar/2026:02:31:00 +0000"}'])
>>> print(df.at[0, "format"], df.at[0, "method"], df.at[0, "route"], df.at[0, "latency_ms"])
apigw_access GET /pay 31.0
"""

from __future__ import annotations

from ._keys import Field, Keys
from .app_json import read_like_app

__all__ = ["FIELDS", "NAME", "PATHS", "RECOGNISE", "ROLE", "parse"]

NAME = "apigw_access"
ROLE = "request"
_MARKERS = ("requestTime", "requestTimeEpoch", "responseLatency", "integrationLatency", "integration.latency", "routeKey",
            "resourcePath", "extendedRequestId", "responseLength", "httpMethod")  # fmt: skip
RECOGNISE = Keys(
    any_of=(("requestId", "requestID"), ("status", "statusCode"), _MARKERS),
    none_of=("level", "severity", "levelname", "message", "msg"),
)

#: The ``$context`` variables read, with when API Gateway added them.
FIELDS: tuple[Field, ...] = (
    ("$context.requestId", "2017-11 (access logging)"),
    ("$context.extendedRequestId", "2017-11 (access logging)"),
    ("$context.identity.sourceIp", "2017-11 (access logging)"),
    ("$context.identity.userAgent", "2017-11 (access logging)"),
    ("$context.requestTime", "2017-11 (access logging)"),
    ("$context.requestTimeEpoch", "2017-11 (access logging)"),
    ("$context.httpMethod", "2017-11 (access logging)"),
    ("$context.resourcePath", "2017-11 (access logging)"),
    ("$context.status", "2017-11 (access logging)"),
    ("$context.responseLength", "2017-11 (access logging)"),
    ("$context.responseLatency", "REST, by 2019 (undated)"),
    ("$context.integrationLatency", "REST, by 2019 (undated)"),
    ("$context.routeKey", "2019-12 (HTTP APIs)"),
    ("$context.integration.latency", "2020-03 (HTTP APIs GA)"),
    ("$context.integration.requestId", "2020-03 (HTTP APIs GA)"),
    ("$context.awsEndpointRequestId", "undated"),
)
PATHS: list[str] = []

#: Read like app lines (the aliases, the error text of error lines).
parse = read_like_app("access")
