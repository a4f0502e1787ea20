"""API Gateway access logs in the documented CSV templates (REST: 11 fields, HTTP API: 8
fields). Other comma-separated lines are plain text.

Source: *API Gateway Developer Guide*, "CloudWatch log formats for API Gateway" (CSV).

Example
-------
>>> from incidentkit import parse
>>> df = parse.parse(["10.0.0.1,10/Mar/2026:02:31:00 +0000,GET,/pay,HTTP/1.1,502,31,gw-1"])
>>> print(df.at[0, "format"], df.at[0, "request_id"], df.at[0, "status"])
apigw_access gw-1 502
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from .._text import group, regex_struct
from ..arrow import Part, mask_np, scalar_str
from . import text
from ._keys import Field
from .clf_access import access_columns

__all__ = ["FIELDS", "NAME", "RECOGNISE", "ROLE", "parse"]

NAME = "apigw_access"
ROLE = "request"
RECOGNISE = r"^[0-9a-fA-F.:]+,"
FIELDS: tuple[Field, ...] = (
    *((f, "2017-11 (REST access logging)") for f in (
        "sourceIp", "caller", "user", "requestTime", "httpMethod", "resourcePath", "protocol", "status", "responseLength",
        "requestId", "extendedRequestId")),
    ("routeKey", "2020-03 (HTTP APIs GA)"),
)  # fmt: skip


_CSV_REST = r"^(?P<ip>[^,]*),(?P<caller>[^,]*),(?P<user>[^,]*),(?P<time>[^,]*),(?P<method>[A-Z]+),(?P<route>[^,]*),(?P<proto>[^,]*),(?P<status>\d{3}|-),(?P<len>[^,]*),(?P<rid>[^,]*),(?P<xrid>[^,]*)$"
_CSV_HTTP = r"^(?P<ip>[^,]*),(?P<time>[^,]*),(?P<method>[A-Z]+),(?P<route>[^,]*),(?P<proto>[^,]*),(?P<status>\d{3}|-),(?P<len>[^,]*),(?P<rid>[^,]*)$"


def parse(arr: pa.Array, idx: np.ndarray) -> list[Part]:
    """API Gateway access logs in the documented CSV templates (REST: 11 fields, HTTP API:
    8 fields). Other comma-separated lines are plain text."""
    rest, http = regex_struct(arr, _CSV_REST), regex_struct(arr, _CSV_HTTP)
    ok_r, ok_h = mask_np(rest.is_valid()), mask_np(http.is_valid())
    parts: list[Part] = []
    for ok, ex in ((ok_r, rest), (ok_h & ~ok_r, http)):
        if ok.any():
            sel = pa.array(np.flatnonzero(ok))
            sub = ex.take(sel)
            p = Part(idx[ok])
            p.set("format", scalar_str(NAME, len(p)))
            access_columns(p, sub, len(p))
            p.set("request_id", group(sub, "rid"))
            parts.append(p)
    other = ~(ok_r | ok_h)
    if other.any():
        parts += text.parse(arr.take(pa.array(np.flatnonzero(other))), idx[other])
    return parts

