"""Amazon S3 server access logs.

Source: *Amazon S3 User Guide*, "Amazon S3 server access log format" (the fields in order
and the example records). Space separated; the time is bracketed (``[06/Feb/2019:00:00:38
+0000]``), ``request_uri``, ``referer`` and ``user_agent`` are quoted, ``-`` means none.
Fields were added at the end over time, so older records stop early.

Columns: ``status`` (``http_status``), ``error_type`` (``error_code``, e.g. ``NoSuchKey``,
``SlowDown``), ``latency_ms`` (``total_time``), ``target_latency_ms``
(``turn_around_time``: S3's own processing), ``operation`` (``REST.GET.OBJECT``),
``request_id``, ``service`` (the bucket), ``route`` (the request URI's path).

Example
-------
>>> import numpy as np, pyarrow as pa
>>> line = ('79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be amzn-s3-demo-bucket1 '
...         '[06/Feb/2019:00:00:38 +0000] 192.0.2.3 79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be '
...         '3E57427F3EXAMPLE REST.GET.VERSIONING - "GET /amzn-s3-demo-bucket1?versioning HTTP/1.1" 200 - 113 - 7 - "-" '
...         '"S3Console/0.4" - s9lzHYrFp76ZVxRcpX9+5cjAnEH2ROuNkd2BHfIa6UkFVdtjf5mKR3/eTPFvsiP/XV/VLi31234= SigV4 '
...         'ECDHE-RSA-AES128-GCM-SHA256 AuthHeader amzn-s3-demo-bucket1.s3.us-west-1.amazonaws.com TLSV1.2 '
...         'arn:aws:s3:us-west-1:123456789012:accesspoint/example-AP Yes')
>>> [p] = parse(pa.array([line], type=pa.large_string()), np.arange(1))
>>> p.cols["operation"].to_pylist(), p.cols["latency_ms"].to_pylist(), p.cols["route"].to_pylist()
(['REST.GET.VERSIONING'], [7.0], ['/amzn-s3-demo-bucket1'])
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..arrow import F64, Part, as_float

from ._common import BARE, QUOTED, Field, extract, field, fields_regex, integer, mark_errors, new_part, request_line, status_or_bad

__all__ = ["FIELDS", "NAME", "RECOGNISE", "ROLE", "parse"]

NAME = "s3_access"
#: One line per request, but to S3 itself: the entry tier only when no entry point of the
#: service (API Gateway, a load balancer, CloudFront) logged the requests.
ROLE = "access"
#: A 64-hex canonical owner id, a bucket name, then the bracketed time.
RECOGNISE = r"^[0-9a-f]{64} [a-z0-9][a-z0-9.-]{1,62} \[\d\d/[A-Z][a-z]{2}/\d{4}:"

FIELDS: tuple[Field, ...] = (
    *((f, "original") for f in ("bucket_owner", "bucket", "time", "remote_ip", "requester", "request_id", "operation",
                                "key", "request_uri", "http_status", "error_code", "bytes_sent", "object_size",
                                "total_time", "turn_around_time", "referer", "user_agent", "version_id")),
    *((f, "2019 (signature and TLS fields)") for f in ("host_id", "signature_version", "cipher_suite",
                                                       "authentication_type", "host_header", "tls_version")),
    ("access_point_arn", "2021 (access points)"), ("acl_required", "2023 (ACL usage)"),
)  # fmt: skip

_SPEC = [
    ("owner", BARE), ("bucket", BARE), ("time", r"\[[^\]]*\]"), ("ip", BARE), ("requester", BARE), ("rid", BARE),
    ("op", BARE), ("key", BARE), ("uri", QUOTED), ("status", BARE), ("code", BARE), ("sent", BARE), ("size", BARE),
    ("total", BARE), ("tat", BARE), ("referer", QUOTED), ("ua", QUOTED), ("version", BARE), ("host_id", BARE),
    ("sig", BARE), ("cipher", BARE), ("auth", BARE), ("host", BARE), ("tls", BARE), ("ap", BARE), ("acl", BARE),
]  # fmt: skip
PATTERN = fields_regex(_SPEC, optional_from=15)


def parse(arr: pa.Array, idx: np.ndarray) -> list[Part]:
    """S3 server access log records -> one part."""
    n = len(arr)
    ex = extract(arr, PATTERN)
    status, bad_status = status_or_bad(field(ex, "status"))
    method, route, _ = request_line(field(ex, "uri"), with_host=False)
    when = pc.utf8_slice_codeunits(field(ex, "time"), 1, -1)
    p = new_part(idx, NAME, "access")
    p.set("status", status)
    p.set("error_type", field(ex, "code"))
    p.set("latency_ms", as_float(field(ex, "total"), n))
    p.set("target_latency_ms", as_float(field(ex, "tat"), n))
    p.set("operation", field(ex, "op"))
    p.set("request_id", field(ex, "rid"))
    p.set("service", field(ex, "bucket"))
    p.set("method", method)
    p.set("route", route)
    p.set("client_ip", field(ex, "ip"))
    p.set("user_agent", field(ex, "ua"))
    p.set("bytes_sent", integer(field(ex, "sent")))
    p.set("domain", field(ex, "host"))
    p.set("tls_cipher", field(ex, "cipher"))
    p.set("tls_protocol", field(ex, "tls"))
    p.set("_time_num", pc.multiply(pc.strptime(when, format="%d/%b/%Y:%H:%M:%S %z", unit="s", error_is_null=True).cast("int64").cast(F64), 1000.0))
    mark_errors(p, pc.or_(pc.invert(ex.is_valid()), pa.array(bad_status)), "S3 access log record with missing or malformed fields")
    return [p]
