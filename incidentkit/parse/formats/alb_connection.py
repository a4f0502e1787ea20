"""Application Load Balancer connection logs.

Source: *User Guide for Application Load Balancers*, "Connection log entries" and their
examples. One line per connection attempt: the client, the listener port, TLS protocol and
cipher, the handshake latency, the client certificate (mutual TLS) and the verify status
(``Success``, or ``Failed:<reason>`` such as ``Failed:ClientCertUntrusted``). ``record_type``
is ``success``/``failed``, ``error_reason`` the failure reason, ``handshake_ms`` the
handshake latency (logged in seconds), ``conn_trace_id`` joins the connection to its
requests in the access log.

Example
-------
>>> import numpy as np, pyarrow as pa
>>> line = ('2023-10-04T17:50:50.478853Z 192.168.131.39 36280 443 TLSv1.2 ECDHE-RSA-AES128-GCM-SHA256 4.036 '
...         '"CN=example.com,O=endEntity,L=Seattle,ST=Washington,C=US" '
...         'NotBefore=2023-09-21T22:43:21Z;NotAfter=2026-06-17T22:43:21Z FEF257372D5C14D4 Failed:ClientCertUntrusted')
>>> [p] = parse(pa.array([line], type=pa.large_string()), np.arange(1))
>>> p.cols["record_type"].to_pylist(), p.cols["error_reason"].to_pylist(), p.cols["handshake_ms"].to_pylist()
(['failed'], ['ClientCertUntrusted'], [4036.0])
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..arrow import STR, Part

from ._common import BARE, QUOTED, Field, extract, field, fields_regex, integer, mark_errors, new_part, seconds_to_ms

__all__ = ["FIELDS", "NAME", "RECOGNISE", "ROLE", "parse"]

NAME = "alb_connection"
ROLE = "network"
#: An ISO time, then a bare client IP and two port numbers.
RECOGNISE = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z [0-9a-fA-F.:]+ \d+ \d+ "

FIELDS: tuple[Field, ...] = (
    *((f, "2023-11 (launch, with mutual TLS)") for f in (
        "time", "client_ip", "client_port", "listener_port", "tls_protocol", "tls_cipher", "tls_handshake_latency",
        "leaf_client_cert_subject", "leaf_client_cert_validity", "leaf_client_cert_serial_number", "tls_verify_status")),
    ("conn_trace_id", "2024 (connection trace id)"),
)  # fmt: skip

_SPEC = [
    ("time", BARE), ("ip", BARE), ("port", BARE), ("listener", BARE), ("tls", BARE), ("cipher", BARE), ("hs", BARE),
    ("subject", QUOTED), ("validity", BARE), ("serial", BARE), ("verify", BARE), ("conn", BARE),
]  # fmt: skip
PATTERN = fields_regex(_SPEC, optional_from=11)


def parse(arr: pa.Array, idx: np.ndarray) -> list[Part]:
    """ALB connection log entries -> one part."""
    ex = extract(arr, PATTERN)
    verify = field(ex, "verify")
    failed = pc.starts_with(verify, "Failed").fill_null(False)
    reason = pc.replace_substring_regex(verify, r"^Failed:?", "")
    kind = pc.if_else(failed, pa.scalar("failed", STR), pc.if_else(verify.is_valid(), pa.scalar("success", STR),
                                                                    pa.scalar("connection", STR)))
    p = new_part(idx, NAME, kind)
    p.set("client_ip", field(ex, "ip"))
    p.set("src_port", integer(field(ex, "port")))
    p.set("dst_port", integer(field(ex, "listener")))
    p.set("tls_protocol", field(ex, "tls"))
    p.set("tls_cipher", field(ex, "cipher"))
    p.set("handshake_ms", seconds_to_ms(field(ex, "hs")))
    p.set("error_reason", pc.if_else(failed, reason, pa.scalar(None, STR)))
    p.set("conn_trace_id", field(ex, "conn"))
    p.set("_time_str", field(ex, "time"))
    mark_errors(p, pc.invert(ex.is_valid()), "ALB connection log entry with missing or malformed fields")
    return [p]
