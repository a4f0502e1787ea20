"""CloudFront standard logs: the legacy tab-separated files and the v2 (field-selectable) forms.

Sources: *Amazon CloudFront Developer Guide*, "Standard logging (legacy)" - "Fields" (the
33 fields in order, with ``#Version: 1.0`` and ``#Fields:`` header lines) - and "Standard
logging (v2)", whose deliveries choose their fields and write them as W3C (the same
tab-separated form with its own ``#Fields:`` line), JSON (one object per line keyed by the
same names, plus ``timestamp`` and ``DistributionId``) or plain text. A ``#Fields:`` line
applies to the lines after it; ``fields=`` to the lines before any header; without either
the legacy order is assumed. Text fields are URL-encoded by CloudFront (``%20``) and
decoded here.

Columns: ``status`` (``sc-status``; ``000``, a client that went away before the response,
gives no status and ``error_reason="ClientClosed"``), ``latency_ms`` (``time-taken``),
``result_type`` (``x-edge-result-type``), ``error_reason`` (``x-edge-detailed-result-type``
of an ``Error`` result, e.g. ``OriginDnsError``), ``request_id`` (``x-edge-request-id``),
``domain`` (``x-host-header``), ``location`` (the edge location).

Example
-------
>>> import numpy as np, pyarrow as pa
>>> line = "\\t".join(["2019-12-13", "22:36:27", "SEA19-C1", "900", "192.0.2.100", "GET", "d111111abcdef8.cloudfront.net",
...     "/favicon.ico", "502", "http://www.example.com/", "Mozilla/5.0%20(Windows)", "-", "-", "Error",
...     "1pkpNfBQ39sYMnjjUQjmH2w1wdJnbHYTbag21o_3OfcQgPzdL2RSSQ==", "www.example.com", "http", "675", "0.102", "-",
...     "-", "-", "Error", "HTTP/1.1", "-", "-", "25260", "0.102", "OriginDnsError", "text/html", "507", "-", "-"])
>>> [p] = parse(pa.array([line], type=pa.large_string()), np.arange(1))
>>> p.cols["status"].to_pylist(), p.cols["error_reason"].to_pylist(), p.cols["user_agent"].to_pylist()
([502], ['OriginDnsError'], ['Mozilla/5.0 (Windows)'])
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from ..arrow import STR, Part, as_float, as_str, mask_np

from ._common import Field, header_segments, integer, mark_errors, new_part, split_columns, status_or_bad, url_decode

__all__ = ["FIELDS", "LEGACY_FIELDS", "NAME", "RECOGNISE", "ROLE", "parse"]

NAME = "cloudfront_access"
ROLE = "request"
#: A legacy/W3C line: date TAB time TAB edge location; or a v2 JSON record.
RECOGNISE = r'^(?:\d{4}-\d\d-\d\d\t\d\d:\d\d:\d\d\t[A-Z]{3}|\{"timestamp(?:\(ms\))?":"?\d[^,]*,"DistributionId":)'

FIELDS: tuple[Field, ...] = (
    *((f, "legacy (original)") for f in (
        "date", "time", "x-edge-location", "sc-bytes", "c-ip", "cs-method", "cs(Host)", "cs-uri-stem", "sc-status",
        "cs(Referer)", "cs(User-Agent)", "cs-uri-query", "cs(Cookie)", "x-edge-result-type", "x-edge-request-id",
        "x-host-header", "cs-protocol", "cs-bytes", "time-taken", "x-forwarded-for", "ssl-protocol", "ssl-cipher",
        "x-edge-response-result-type", "cs-protocol-version")),
    ("fle-status", "legacy (2017-12, field-level encryption)"), ("fle-encrypted-fields", "legacy (2017-12)"),
    *((f, "legacy (2019-12)") for f in ("c-port", "time-to-first-byte", "x-edge-detailed-result-type",
                                        "sc-content-type", "sc-content-len", "sc-range-start", "sc-range-end")),
    *((f, "v2 (2024-11, field selection)") for f in ("timestamp", "timestamp(ms)", "DistributionId", "c-country",
                                                     "cache-behavior-path-pattern", "origin-fbl", "origin-lbl", "asn")),
)  # fmt: skip
LEGACY_FIELDS: tuple[str, ...] = tuple(f for f, since in FIELDS if since.startswith("legacy"))
_HEADER = "#"
_TEXT = {"cs(User-Agent)", "cs(Referer)", "cs-uri-query"}
# name -> column (text unless listed in _NUMBERS)
_COLUMNS = {"c-ip": "client_ip", "cs-method": "method", "cs-uri-stem": "route", "cs(User-Agent)": "user_agent",
            "x-edge-request-id": "request_id", "x-host-header": "domain", "x-edge-result-type": "result_type",
            "x-edge-location": "location", "cs-protocol": "protocol", "ssl-protocol": "tls_protocol",
            "ssl-cipher": "tls_cipher", "DistributionId": "service"}  # fmt: skip
_INTEGERS = {"sc-bytes": "bytes_sent", "cs-bytes": "bytes_received", "c-port": "src_port"}


def parse(arr: pa.Array, idx: np.ndarray, *, fields: Sequence[str] | None = None) -> list[Part]:
    """CloudFront log lines -> parts: ``#`` header lines (``record_type="header"``), W3C records, JSON records."""
    is_header = mask_np(pc.starts_with(arr, _HEADER))
    is_fields = mask_np(pc.starts_with(arr, "#Fields:"))
    is_json = mask_np(pc.starts_with(arr, "{"))
    parts: list[Part] = []
    if is_header.any():
        parts.append(new_part(idx[is_header], NAME, "header"))
        parts[-1].set("parse_error", pa.array(np.zeros(int(is_header.sum()), dtype=bool)))
    if is_json.any():
        parts.append(_json_records(arr.filter(pa.array(is_json)), idx[is_json]))
    given = tuple(fields or LEGACY_FIELDS)
    data = ~(is_header | is_json)
    for head, start, stop in header_segments(is_fields):
        sel = np.arange(start, stop)
        sel = sel[data[sel]]
        if len(sel):
            names = given if head < 0 else tuple(str(arr[head])[len("#Fields:"):].split())
            parts.append(_w3c_records(arr.take(pa.array(sel)), idx[sel], names))
    return parts


def _w3c_records(arr: pa.Array, idx: np.ndarray, names: tuple[str, ...]) -> Part:
    cols, counts = split_columns(arr, "\t", len(names))
    p = _fill(idx, dict(zip(names, cols)), len(arr))
    mark_errors(p, counts < len(names), "CloudFront record with fewer fields than its header names")
    return p


def _json_records(arr: pa.Array, idx: np.ndarray) -> Part:
    rows: list[dict] = []
    bad = np.zeros(len(arr), dtype=bool)
    for i, text in enumerate(arr.to_pylist()):
        try:
            obj = orjson.loads(text)
        except orjson.JSONDecodeError:
            obj = None
        bad[i] = not isinstance(obj, dict)
        rows.append(obj if isinstance(obj, dict) else {})
    keys = sorted({k for r in rows for k in r})
    values = {k: as_str(pa.array([_text(r.get(k)) for r in rows], type=STR), len(rows)) for k in keys}
    p = _fill(idx, values, len(arr))
    mark_errors(p, bad, "CloudFront v2 JSON record that is not a JSON object")
    return p


def _text(v: object) -> str | None:
    return None if v is None else v if isinstance(v, str) else orjson.dumps(v).decode()


def _fill(idx: np.ndarray, by: dict[str, pa.Array], n: int) -> Part:
    p = new_part(idx, NAME, "access")
    for name, column in _COLUMNS.items():
        if name in by:
            p.set(column, url_decode(by[name]) if name in _TEXT else by[name])
    for name, column in _INTEGERS.items():
        if name in by:
            p.set(column, integer(by[name]))
    if "sc-status" in by:
        status, _ = status_or_bad(by["sc-status"])
        closed = pc.equal(status, 0).fill_null(False)
        p.set("status", pc.if_else(closed, pa.scalar(None, status.type), status))
        p.set("error_reason", pc.if_else(closed, pa.scalar("ClientClosed", STR), pa.scalar(None, STR)))
    if "time-taken" in by:
        p.set("latency_ms", pc.multiply(as_float(by["time-taken"], n), 1000.0))
    if "x-edge-detailed-result-type" in by and "x-edge-result-type" in by:
        err = pc.equal(by["x-edge-result-type"], "Error").fill_null(False)
        p.fill("error_reason", pc.if_else(err, by["x-edge-detailed-result-type"], pa.scalar(None, STR)))
    if "timestamp(ms)" in by:
        p.set("_time_num", as_float(by["timestamp(ms)"], n))
    elif "date" in by and "time" in by:
        p.set("_time_str", pc.binary_join_element_wise(by["date"], by["time"], pa.scalar("T", STR)))
    elif "timestamp" in by:
        p.set("_time_num", pc.multiply(as_float(by["timestamp"], n), 1000.0))
    return p
