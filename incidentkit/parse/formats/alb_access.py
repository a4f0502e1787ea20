"""Application Load Balancer access logs (space separated, quoted text fields).

Source: *User Guide for Application Load Balancers*, "Access log entries" (syntax table and
example entries). One line per request; fields are added at the end over time, so a line
may stop early (an older load balancer) or carry more fields than listed here (newer ones:
ignored, as AWS asks).

What the columns mean
---------------------
``status`` is ``elb_status_code`` (what the client got); ``target_status`` the target's own
code (null when no target answered: a 502/504 the load balancer made itself);
``latency_ms`` the sum of the three processing times, null when any is ``-1`` (the load
balancer could not dispatch the request or the client closed it); ``target_latency_ms`` the
target's processing time; ``error_reason`` (and ``error_type``) why the load balancer failed
the request (``LambdaInvalidResponse``, ``TargetConnectionError`` ...); ``classification`` /
``classification_reason`` the desync-mitigation verdict.

Example
-------
>>> import numpy as np, pyarrow as pa
>>> line = ('http 2018-11-30T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 - '
...         '0.000 0.001 0.000 502 - 34 366 "GET http://www.example.com:80/ HTTP/1.1" "curl/7.46.0" - - '
...         'arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 '
...         '"Root=1-58337364-23a8c76965a2ef7629b185e3" "-" "-" 0 2018-11-30T22:22:48.364000Z "forward" "-" '
...         '"LambdaInvalidResponse" "-" "-" "-" "-"')
>>> [p] = parse(pa.array([line], type=pa.large_string()), np.arange(1))
>>> p.cols["status"].to_pylist(), p.cols["target_status"].to_pylist(), p.cols["error_reason"].to_pylist()
([502], [None], ['LambdaInvalidResponse'])
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..arrow import F64, STR, Part, as_status, num_or_bad, trace_root

from ._common import BARE, QUOTED, Field, field, fields_regex, integer, ip_port, mark_errors, new_part, request_line, split_fields

__all__ = ["FIELDS", "NAME", "RECOGNISE", "ROLE", "parse"]

NAME = "alb_access"
ROLE = "request"
#: A line starts with the request type and an ISO date: one that then fails the format is an
#: ALB entry with malformed fields (a parse error), not text.
RECOGNISE = r"^(?:http|https|h2|grpcs|ws|wss) \d{4}-\d\d-\d\dT"

#: The documented fields in order, with when each appeared (the user guide's history).
FIELDS: tuple[Field, ...] = (
    ("type", "2016-08 (launch)"),
    ("time", "2016-08 (launch)"),
    ("elb", "2016-08 (launch)"),
    ("client:port", "2016-08 (launch)"),
    ("target:port", "2016-08 (launch)"),
    ("request_processing_time", "2016-08 (launch)"),
    ("target_processing_time", "2016-08 (launch)"),
    ("response_processing_time", "2016-08 (launch)"),
    ("elb_status_code", "2016-08 (launch)"),
    ("target_status_code", "2016-08 (launch)"),
    ("received_bytes", "2016-08 (launch)"),
    ("sent_bytes", "2016-08 (launch)"),
    ("request", "2016-08 (launch)"),
    ("user_agent", "2016-08 (launch)"),
    ("ssl_cipher", "2016-08 (launch)"),
    ("ssl_protocol", "2016-08 (launch)"),
    ("target_group_arn", "2016-08 (launch)"),
    ("trace_id", "2016-11 (request tracing)"),
    ("domain_name", "2017-10 (SNI)"),
    ("chosen_cert_arn", "2017-10 (SNI)"),
    ("matched_rule_priority", "2018-07 (rule actions)"),
    ("request_creation_time", "2018-07 (rule actions)"),
    ("actions_executed", "2018-07 (rule actions)"),
    ("redirect_url", "2018-07 (rule actions)"),
    ("error_reason", "2018-11 (Lambda targets)"),
    ("target:port_list", "2020 (target lists)"),
    ("target_status_code_list", "2020 (target lists)"),
    ("classification", "2020-08 (desync mitigation)"),
    ("classification_reason", "2020-08 (desync mitigation)"),
    ("conn_trace_id", "2023-11 (connection logs)"),
    ("transformed_host", "2025 (URL and host header rewrite)"),
    ("transformed_uri", "2025 (URL and host header rewrite)"),
    ("request_transform_status", "2025 (URL and host header rewrite)"),
)

_SPEC = [
    ("type", BARE), ("time", BARE), ("elb", BARE), ("client", BARE), ("target", BARE), ("rpt", BARE), ("tpt", BARE),
    ("respt", BARE), ("elb_status", BARE), ("target_status", BARE), ("rbytes", BARE), ("sbytes", BARE),
    ("request", QUOTED), ("ua", QUOTED), ("cipher", BARE), ("tls", BARE), ("tg", BARE), ("trace", QUOTED),
    ("domain", QUOTED), ("cert", QUOTED), ("prio", BARE), ("ctime", BARE), ("actions", QUOTED), ("redirect", QUOTED),
    ("reason", QUOTED), ("targets", QUOTED), ("tstatuses", QUOTED), ("cls", QUOTED), ("cls_reason", QUOTED),
    ("conn", BARE),
]  # fmt: skip
#: The fields every line holds (up to ``trace_id``); the later ones were added over the years.
OPTIONAL_FROM = 18
PATTERN = fields_regex(_SPEC, optional_from=OPTIONAL_FROM)


def parse(arr: pa.Array, idx: np.ndarray) -> list[Part]:
    """ALB access log entries -> one part (request columns plus the ALB's own)."""
    n = len(arr)
    ex = split_fields(arr, _SPEC, PATTERN, optional_from=OPTIONAL_FROM)  # PATTERN's fields, by splitting: 30 regex groups are slow
    times = [field(ex, k) for k in ("rpt", "tpt", "respt")]
    nums = [num_or_bad(t) for t in times]
    total = pc.round(pc.multiply(pc.add(pc.add(nums[0][0], nums[1][0]), nums[2][0]), 1000.0), 6)
    dispatched = pc.and_(pc.and_(pc.greater_equal(nums[0][0], 0), pc.greater_equal(nums[1][0], 0)), pc.greater_equal(nums[2][0], 0))
    method, route, _ = request_line(field(ex, "request"), with_host=False)
    client_ip, client_port = ip_port(field(ex, "client"))
    status, bad_status = num_or_bad(field(ex, "elb_status"))
    tstatus, bad_tstatus = num_or_bad(field(ex, "target_status"))
    target_ms = pc.round(pc.multiply(nums[1][0], 1000.0), 6)
    p = new_part(idx, NAME, "access")
    p.set("status", as_status(status, n))
    p.set("target_status", as_status(tstatus, n))
    p.set("latency_ms", pc.if_else(dispatched, total, pa.scalar(None, F64)))
    p.set("target_latency_ms", pc.if_else(pc.greater_equal(nums[1][0], 0), target_ms, pa.scalar(None, F64)))
    p.set("user_agent", field(ex, "ua"))
    p.set("method", method)
    p.set("route", route)
    p.set("client_ip", client_ip)
    p.set("src_port", client_port)
    p.set("target", field(ex, "target"))
    p.set("xray_trace_id", trace_root(field(ex, "trace")))
    p.set("error_type", field(ex, "reason"))
    p.set("error_reason", field(ex, "reason"))
    p.set("service", field(ex, "elb"))
    p.set("protocol", field(ex, "type"))
    p.set("tls_cipher", field(ex, "cipher"))
    p.set("tls_protocol", field(ex, "tls"))
    p.set("target_group", field(ex, "tg"))
    p.set("domain", field(ex, "domain"))
    p.set("rule", field(ex, "prio"))
    p.set("action", field(ex, "actions"))
    p.set("targets_tried", field(ex, "targets"))
    p.set("target_status_list", field(ex, "tstatuses"))
    p.set("classification", field(ex, "cls"))
    p.set("classification_reason", field(ex, "cls_reason"))
    p.set("conn_trace_id", field(ex, "conn"))
    p.set("bytes_received", integer(field(ex, "rbytes")))
    p.set("bytes_sent", integer(field(ex, "sbytes")))
    p.set("_time_str", field(ex, "time"))
    times_bad = pc.or_(pc.or_(nums[0][1], nums[1][1]), nums[2][1])
    numbers_bad = pc.or_(pc.or_(bad_status, bad_tstatus), times_bad)
    reason = pc.if_else(ex.is_valid(), pa.scalar("ALB entry with a non-numeric status or processing time", STR),
                        pa.scalar("ALB entry with missing or malformed fields", STR))
    mark_errors(p, pc.or_(pc.invert(ex.is_valid()), numbers_bad), reason)
    return [p]
