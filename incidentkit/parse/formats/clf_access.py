"""Common/Combined Log Format access lines: API Gateway's documented CLF templates (REST:
``... status length requestId extendedRequestId``; HTTP API: ``... status length
requestId``) as ``apigw_access``, the same shape without a request id (nginx, Apache, a
proxy; with an optional combined ``"referer" "user agent"`` tail) as ``clf_access``.

Source: *API Gateway Developer Guide*, "CloudWatch log formats for API Gateway" (the CLF
templates); the Apache HTTP Server's Common and Combined Log Formats.

Example
-------
>>> from incidentkit import parse
>>> df = parse.parse(['10.0.0.1 - - [10/Mar/2026:02:31:00 +0000] "GET /pay?x=1 HTTP/1.1" 502 31 "-" "curl/8.0"'])
>>> print(df.at[0, "format"], df.at[0, "status"], df.at[0, "route"], df.at[0, "user_agent"])
clf_access 502 /pay curl/8.0
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .._text import group, mark_errors, regex_struct
from ..arrow import STR, Part, as_status, num_or_bad, scalar_str
from ._keys import Field
from .apigw_access_json import NAME as APIGW_ACCESS

__all__ = ["FIELDS", "NAME", "RECOGNISE", "ROLE", "access_columns", "parse"]

NAME = "clf_access"
ROLE = "access"
RECOGNISE = r'^\S+ \S+ \S+ \[[^\]]+\] \"'
FIELDS: tuple[Field, ...] = (
    ("host ident authuser [date] \"request\" status bytes", "NCSA Common Log Format (1995)"),
    ("\"referer\" \"user agent\"", "Combined Log Format (Apache 1.3)"),
    ("requestId extendedRequestId (API Gateway CLF template)", "2017-11 (API Gateway access logging)"),
)


def access_columns(p: Part, ex: pa.StructArray, n: int) -> None:
    """Columns every CLF/CSV access template shares: status, method, route (an HTTP API
    route key ``GET /pets`` split), client IP and time."""
    route = group(ex, "route")
    method = group(ex, "method")
    rk = regex_struct(route, r"^(?P<m>[A-Z]+) (?P<r>/.*)$")  # HTTP API routeKey "GET /pets"
    route = pc.coalesce(group(rk, "r"), route)
    route = pc.replace_substring_regex(route, r"[?#].*$", "")
    status, _ = num_or_bad(group(ex, "status"))  # the templates only allow 3 digits or "-"
    p.set("record_type", scalar_str("access", n))
    p.set("status", as_status(status, n))
    p.set("method", method)
    p.set("route", route)
    p.set("client_ip", group(ex, "ip"))
    p.set("_time_str", group(ex, "time"))


def parse(arr: pa.Array, idx: np.ndarray) -> list[Part]:
    """Common Log Format access lines: API Gateway's CLF templates (REST: ``... status
    length requestId extendedRequestId``; HTTP: ``... status length requestId``) as
    ``apigw_access``; the same shape without a request id (with an optional combined
    ``"referer" "user agent"`` tail) as ``clf_access``."""
    n = len(arr)
    ex = regex_struct(
        arr,
        r'^(?P<ip>[^\s]+) (?P<caller>[^\s]+) (?P<user>[^\s]+) \[(?P<time>[^\]]+)\] "(?P<method>[^\s"]+) (?P<route>[^"]*?)(?: (?P<proto>[A-Z]+/[0-9.]+))?" '
        r'(?P<status>\d{3}|-) (?P<len>[^\s]+)(?: (?P<rid>[^\s"]+))?(?: (?P<xrid>[^\s"]+))?(?: "(?P<ref>[^"]*)" "(?P<ua>[^"]*)")?\s*$',
    )
    p = Part(idx)
    rid = group(ex, "rid")
    p.set("format", pc.if_else(rid.is_valid(), pa.scalar(APIGW_ACCESS, STR), pa.scalar(NAME, STR)))
    access_columns(p, ex, n)
    p.set("request_id", rid)
    p.set("user_agent", group(ex, "ua"))
    mark_errors(p, pc.invert(ex.is_valid()), scalar_str("access log line with missing fields", n))
    return [p]

