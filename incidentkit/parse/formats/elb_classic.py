"""Classic Load Balancer access logs.

Source: *User Guide for Classic Load Balancers*, "Access log entries" (syntax and the HTTP,
HTTPS, TCP and SSL examples). Space separated; ``request`` and ``user_agent`` quoted. A TCP
or SSL listener logs ``"- - - "`` as the request and ``-`` for both status codes; a request
the load balancer could not send to a back end logs ``-`` as the back end and ``-1`` as
the processing times.

``status`` is ``elb_status_code``, ``target_status`` the back end's code, ``latency_ms``
the sum of the three processing times (null when any is ``-1``), ``target_latency_ms`` the
back end's processing time.

Example
-------
>>> import numpy as np, pyarrow as pa
>>> line = ('2015-05-13T23:39:43.945958Z my-loadbalancer 192.168.131.39:2817 10.0.0.1:80 0.000073 0.001048 0.000057 '
...         '200 200 0 29 "GET http://www.example.com:80/ HTTP/1.1" "curl/7.38.0" - -')
>>> [p] = parse(pa.array([line], type=pa.large_string()), np.arange(1))
>>> p.cols["latency_ms"].to_pylist(), p.cols["target"].to_pylist(), p.cols["route"].to_pylist()
([1.178], ['10.0.0.1:80'], ['/'])
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..arrow import F64, Part, as_status, num_or_bad

from ._common import BARE, QUOTED, Field, extract, field, fields_regex, integer, ip_port, mark_errors, new_part, request_line

__all__ = ["FIELDS", "NAME", "RECOGNISE", "ROLE", "parse"]

NAME = "elb_classic_access"
ROLE = "request"
#: An ISO time, the load balancer's name, then the client's ``ip:port``.
RECOGNISE = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z [A-Za-z0-9-]+ [0-9a-fA-F.:\[\]]+:\d+ "

FIELDS: tuple[Field, ...] = (
    *((f, "2014-03 (launch)") for f in ("time", "elb", "client:port", "backend:port", "request_processing_time",
                                        "backend_processing_time", "response_processing_time", "elb_status_code",
                                        "backend_status_code", "received_bytes", "sent_bytes", "request")),
    ("user_agent", "2015-05"), ("ssl_cipher", "2015-05"), ("ssl_protocol", "2015-05"),
)  # fmt: skip

_SPEC = [
    ("time", BARE), ("elb", BARE), ("client", BARE), ("backend", BARE), ("rpt", BARE), ("bpt", BARE), ("respt", BARE),
    ("elb_status", BARE), ("backend_status", BARE), ("rbytes", BARE), ("sbytes", BARE), ("request", QUOTED),
    ("ua", QUOTED), ("cipher", BARE), ("tls", BARE),
]  # fmt: skip
PATTERN = fields_regex(_SPEC, optional_from=12)


def parse(arr: pa.Array, idx: np.ndarray) -> list[Part]:
    """Classic Load Balancer entries -> one part."""
    n = len(arr)
    ex = extract(arr, PATTERN)
    nums = [num_or_bad(field(ex, k)) for k in ("rpt", "bpt", "respt")]
    total = pc.multiply(pc.add(pc.add(nums[0][0], nums[1][0]), nums[2][0]), 1000.0)
    sent = pc.and_(pc.and_(pc.greater_equal(nums[0][0], 0), pc.greater_equal(nums[1][0], 0)), pc.greater_equal(nums[2][0], 0))
    status, bad_status = num_or_bad(field(ex, "elb_status"))
    bstatus, bad_bstatus = num_or_bad(field(ex, "backend_status"))
    method, route, host = request_line(field(ex, "request"))
    client_ip, client_port = ip_port(field(ex, "client"))
    p = new_part(idx, NAME, "access")
    p.set("status", as_status(status, n))
    p.set("target_status", as_status(bstatus, n))
    p.set("latency_ms", pc.if_else(sent, pc.round(total, 6), pa.scalar(None, F64)))
    p.set("target_latency_ms", pc.if_else(pc.greater_equal(nums[1][0], 0), pc.multiply(nums[1][0], 1000.0), pa.scalar(None, F64)))
    p.set("method", method)
    p.set("route", route)
    p.set("domain", host)
    p.set("user_agent", field(ex, "ua"))
    p.set("client_ip", client_ip)
    p.set("src_port", client_port)
    p.set("target", field(ex, "backend"))
    p.set("service", field(ex, "elb"))
    p.set("protocol", pc.if_else(method.is_valid(), pa.scalar("http", method.type), pa.scalar("tcp", method.type)))
    p.set("tls_cipher", field(ex, "cipher"))
    p.set("tls_protocol", field(ex, "tls"))
    p.set("bytes_received", integer(field(ex, "rbytes")))
    p.set("bytes_sent", integer(field(ex, "sbytes")))
    p.set("_time_str", field(ex, "time"))
    bad = pc.or_(pc.or_(pc.invert(ex.is_valid()), pc.or_(bad_status, bad_bstatus)), pc.or_(pc.or_(nums[0][1], nums[1][1]), nums[2][1]))
    mark_errors(p, bad, "Classic Load Balancer entry with missing or malformed fields")
    return [p]
