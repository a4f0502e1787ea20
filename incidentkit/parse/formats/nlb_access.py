"""Network Load Balancer access logs (TLS listeners only).

Source: *User Guide for Network Load Balancers*, "Access log entries". One line per TLS
connection, written only for TLS listeners; space separated, times in ISO form without a
zone (UTC). ``connection_ms`` is ``connection_time`` (the connection's whole life, ms),
``handshake_ms`` ``tls_handshake_time`` (ms; ``-`` when the handshake did not complete),
``error_reason`` the incoming TLS alert when the client sent one.

Example
-------
>>> import numpy as np, pyarrow as pa
>>> line = ('tls 2.0 2018-12-20T02:59:40 net/my-network-loadbalancer/c6e77e28c25b2234 g3d4b5e8bb8464cd '
...         '72.21.218.154:51341 172.100.100.185:443 5 2 98 246 - '
...         'arn:aws:acm:us-east-2:671290407336:certificate/2a108f19-aded-46b0-8493-c63eb1ef4a99 - '
...         'ECDHE-RSA-AES128-SHA tlsv12 - my-network-loadbalancer-c6e77e28c25b2234.elb.us-east-2.amazonaws.com '
...         'h2 h2 "h2","http/1.1" 2018-12-20T02:59:30')
>>> [p] = parse(pa.array([line], type=pa.large_string()), np.arange(1))
>>> p.cols["connection_ms"].to_pylist(), p.cols["target"].to_pylist(), p.cols["tls_protocol"].to_pylist()
([5.0], ['172.100.100.185:443'], ['tlsv12'])
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..arrow import Part, as_float

from ._common import BARE, Field, extract, field, fields_regex, integer, ip_port, mark_errors, new_part

__all__ = ["FIELDS", "NAME", "RECOGNISE", "ROLE", "parse"]

NAME = "nlb_access"
ROLE = "network"
RECOGNISE = r"^tls \d+\.\d+ \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d"

FIELDS: tuple[Field, ...] = (
    *((f, "1.0 (2019-01, TLS listeners)") for f in (
        "type", "version", "time", "elb", "listener", "client:port", "destination:port", "connection_time",
        "tls_handshake_time", "received_bytes", "sent_bytes", "incoming_tls_alert", "chosen_cert_arn",
        "chosen_cert_serial", "tls_cipher", "tls_protocol_version", "tls_named_group", "domain_name")),
    *((f, "2.0 (2020-05, ALPN)") for f in ("alpn_fe_protocol", "alpn_be_protocol", "alpn_client_preference_list")),
    ("tls_connection_creation_time", "2.0 (2020-05)"),
)  # fmt: skip

_SPEC = [(n, BARE) for n in ("type", "version", "time", "elb", "listener", "client", "dest", "conn", "hs", "rbytes",
                             "sbytes", "alert", "cert", "serial", "cipher", "tls", "group", "domain", "alpn_fe",
                             "alpn_be", "alpn_list", "created")]  # fmt: skip
PATTERN = fields_regex(_SPEC, optional_from=18)


def parse(arr: pa.Array, idx: np.ndarray) -> list[Part]:
    """NLB TLS access log entries -> one part."""
    n = len(arr)
    ex = extract(arr, PATTERN)
    client_ip, client_port = ip_port(field(ex, "client"))
    dest_ip, dest_port = ip_port(field(ex, "dest"))
    p = new_part(idx, NAME, "connection")
    p.set("client_ip", client_ip)
    p.set("src_port", client_port)
    p.set("target", field(ex, "dest"))
    p.set("dst_ip", dest_ip)
    p.set("dst_port", dest_port)
    p.set("service", field(ex, "elb"))
    p.set("protocol", field(ex, "type"))
    p.set("connection_ms", as_float(field(ex, "conn"), n))
    p.set("handshake_ms", as_float(field(ex, "hs"), n))
    p.set("bytes_received", integer(field(ex, "rbytes")))
    p.set("bytes_sent", integer(field(ex, "sbytes")))
    p.set("error_reason", field(ex, "alert"))
    p.set("tls_cipher", field(ex, "cipher"))
    p.set("tls_protocol", field(ex, "tls"))
    p.set("domain", field(ex, "domain"))
    p.set("_time_str", field(ex, "time"))
    mark_errors(p, pc.invert(ex.is_valid()), "NLB entry with missing or malformed fields")
    return [p]
