"""Application Load Balancer access log entries, as the kit read them from CloudWatch Logs
before the logs AWS writes to S3 had their own modules.

Merge note: branch ``wip/s3`` adds ``parse/formats/alb_access.py`` (the same format with
every current field: target status, ``error_reason``, ``classification`` ...). On merge,
point the ``alb_access`` line of :mod:`incidentkit.parse.registry` at that module and
delete this file.

Source: *User Guide for Application Load Balancers*, "Access log entries". ``latency_ms`` is
the sum of the three processing times in ms, null when any is ``-1`` (not dispatched);
fields beyond the ones read are ignored, as AWS asks.

Example
-------
>>> from incidentkit import parse
>>> df = parse.parse(['http 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 '
...                   '10.0.0.1:80 0.000 0.001 0.000 200 200 34 366 "GET http://www.example.com:80/ HTTP/1.1" '
...                   '"curl/7.46.0" - - arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 '
...                   '"Root=1-58337262-36d228ad5d99923122bbe354"'])
>>> print(df.at[0, "format"], df.at[0, "status"], df.at[0, "latency_ms"], df.at[0, "route"])
alb_access 200 1.0 /
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .._text import group, mark_errors, regex_struct
from ..arrow import (
    F64,
    STR,
    Part,
    as_float,
    as_status,
    num_or_bad,
    scalar_str,
    trace_root,
)
from ._keys import Field

__all__ = ["FIELDS", "NAME", "RECOGNISE", "ROLE", "parse"]

NAME = "alb_access"
ROLE = "request"
RECOGNISE = r"^(?:http|https|h2|grpcs|ws|wss) \d{4}-\d\d-\d\dT"
FIELDS: tuple[Field, ...] = (
    *((f, "2016-08 (launch)") for f in (
        "type", "time", "elb", "client:port", "target:port", "request_processing_time", "target_processing_time",
        "response_processing_time", "elb_status_code", "target_status_code", "received_bytes", "sent_bytes", "request",
        "user_agent", "ssl_cipher", "ssl_protocol", "target_group_arn")),
    ("trace_id", "2016-11 (request tracing)"),
    ("domain_name", "2017-10 (SNI)"),
    ("chosen_cert_arn", "2017-10 (SNI)"),
    *((f, "2018-07 (rule actions)") for f in ("matched_rule_priority", "request_creation_time", "actions_executed", "redirect_url")),
    ("error_reason", "2018-11 (Lambda targets)"),
)  # fmt: skip


_Q = r'"(?P<{}>(?:[^"\\]|\\.)*)"'
_ALB = (
    r"^(?P<type>[^\s]+) (?P<time>[^\s]+) (?P<elb>[^\s]+) (?P<client>[^\s]+) (?P<target>[^\s]+) "
    r"(?P<rpt>[^\s]+) (?P<tpt>[^\s]+) (?P<respt>[^\s]+) (?P<elb_status>[^\s]+) (?P<target_status>[^\s]+) "
    r"(?P<rbytes>[^\s]+) (?P<sbytes>[^\s]+) " + _Q.format("request") + " " + _Q.format("ua") + r" (?P<cipher>[^\s]+) (?P<proto>[^\s]+) "
    r"(?P<tg>[^\s]+) " + _Q.format("trace") + r"(?: " + _Q.format("domain") + " " + _Q.format("cert") + r")?(?: (?P<prio>[^\s]+))?"
    r"(?: (?P<ctime>[^\s]+))?(?: " + _Q.format("actions") + r")?(?: " + _Q.format("redirect") + r")?(?: " + _Q.format("reason") + r")?"
)


def parse(arr: pa.Array, idx: np.ndarray) -> list[Part]:
    """ALB access log entries (the documented space-separated format; trailing fields
    beyond the 29 documented are ignored, as AWS asks). ``latency_ms`` is the sum of the
    three processing times in ms, NaN when any is ``-1`` (request not dispatched)."""
    n = len(arr)
    ex = regex_struct(arr, _ALB)
    ok = ex.is_valid()
    times = [as_float(group(ex, k), n) for k in ("rpt", "tpt", "respt")]
    total = pc.multiply(pc.add(pc.add(times[0], times[1]), times[2]), 1000.0)
    dispatched = pc.and_(pc.and_(pc.greater_equal(times[0], 0), pc.greater_equal(times[1], 0)), pc.greater_equal(times[2], 0))
    req = regex_struct(group(ex, "request"), r"^(?P<m>[^\s]+) (?P<url>[^\s]+)(?: (?P<proto>[^\s]+))?$")
    route = pc.replace_substring_regex(group(req, "url"), r"^[a-zA-Z][a-zA-Z0-9+.-]*://[^/?#]*", "")
    route = pc.replace_substring_regex(route, r"[?#].*$", "")
    route = pc.if_else(pc.equal(route, ""), pa.scalar("/", STR), route)
    client = regex_struct(group(ex, "client"), r"^\[?(?P<ip>.*?)\]?:(?P<port>\d+)$")
    status, bad_status = num_or_bad(group(ex, "elb_status"))
    p = Part(idx)
    p.set("format", scalar_str(NAME, n))
    p.set("record_type", scalar_str("access", n))
    p.set("status", as_status(status, n))
    p.set("latency_ms", pc.if_else(dispatched, total, pa.scalar(None, F64)))
    p.set("user_agent", group(ex, "ua"))
    p.set("method", group(req, "m"))
    p.set("route", route)
    p.set("client_ip", pc.coalesce(group(client, "ip"), group(ex, "client")))
    p.set("xray_trace_id", trace_root(group(ex, "trace")))
    p.set("error_type", group(ex, "reason"))
    p.set("service", group(ex, "elb"))
    p.set("_time_str", group(ex, "time"))
    bad = pc.or_(pc.invert(ok), bad_status)
    times_bad = pc.or_(pc.or_(num_or_bad(group(ex, "rpt"))[1], num_or_bad(group(ex, "tpt"))[1]), num_or_bad(group(ex, "respt"))[1])
    reason = pc.if_else(ok, pa.scalar("ALB entry with a non-numeric status or processing time", STR), pa.scalar("ALB entry with missing or malformed fields", STR))
    mark_errors(p, pc.or_(bad, pc.and_(ok, times_bad)), reason)
    return [p]

