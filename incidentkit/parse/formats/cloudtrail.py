"""CloudTrail records (a trail's log files, CloudTrail Lake, EventBridge, or ``LookupEvents``'
``CloudTrailEvent``), one JSON object each: the change timeline's raw form.

Source: *AWS CloudTrail User Guide*, "CloudTrail record contents for management, data, and
network activity events". Columns: ``operation`` (``eventName``), ``service``
(``eventSource``), ``request_id`` (``requestID``), ``error_type``/``error_message``
(``errorCode``/``errorMessage``: a call that failed), ``client_ip`` (``sourceIPAddress``),
``user_agent`` (the caller's SDK, so no app version is read from it); ``record_type`` the
``eventType`` in snake case (``api_call``, ``service_event``, ``console_signin`` ...). The
time is ``eventTime``. App-like keys a record happens to hold (``status``, ``version``) are
not read.

Example
-------
>>> from incidentkit import parse
>>> df = parse.parse(['{"eventVersion": "1.08", "eventTime": "2024-01-01T00:00:00Z", "eventSource": "lambda.amazonaws.com",'
...                   ' "eventName": "UpdateFunctionCode20150331v2", "eventType": "AwsApiCall", "requestID": "c0ffee"}'])
>>> print(df.at[0, "format"], df.at[0, "record_type"], df.at[0, "operation"])
cloudtrail api_call UpdateFunctionCode20150331v2
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..arrow import STR, nulls
from ._keys import Field, JsonRows, Keys, leaf_str

__all__ = ["FIELDS", "NAME", "PATHS", "RECOGNISE", "ROLE", "parse"]

NAME = "cloudtrail"
ROLE = "change"
RECOGNISE = Keys(all_of=("eventSource", "eventName", "eventTime"))

#: The record fields read, with the ``eventVersion`` they appeared in.
FIELDS: tuple[Field, ...] = (
    ("eventVersion", "1.0"),
    ("eventTime", "1.0"),
    ("eventSource", "1.0"),
    ("eventName", "1.0"),
    ("sourceIPAddress", "1.0"),
    ("userAgent", "1.0"),
    ("errorCode", "1.0"),
    ("errorMessage", "1.0"),
    ("requestID", "1.0x (undated)"),
    ("eventType", "1.0x (undated)"),
)
PATHS = ["eventSource", "eventName", "eventType", "errorCode", "errorMessage", "requestID", "sourceIPAddress", "eventVersion"]
#: Output field -> record field.
_COLUMNS = {
    "request_id": "requestID",
    "operation": "eventName",
    "service": "eventSource",
    "error_type": "errorCode",
    "error_message": "errorMessage",
    "client_ip": "sourceIPAddress",
    "user_agent": "userAgent",
}
#: App-like fields the aliases may have found in a record: not the record's to give.
_NOT_CLOUDTRAIL = ("status", "app_version", "route", "method", "level", "latency_ms", "cold_start", "function_name", "xray_trace_id")


def parse(rows: JsonRows, out: dict[str, pa.Array], mine: np.ndarray, need_time: np.ndarray) -> pa.Array:
    """CloudTrail rows: the record's own fields, ``eventType`` as the record type."""
    n = rows.n
    cm = pa.array(mine)
    for name, path in _COLUMNS.items():
        out[name] = pc.if_else(cm, leaf_str(rows, path), out.get(name, nulls(n, STR)))
    et = leaf_str(rows, "eventType")
    ct_type = pc.utf8_lower(pc.replace_substring_regex(pc.replace_substring_regex(et, r"^Aws", ""), r"([a-z0-9])([A-Z])", r"\1_\2"))
    if need_time.any():
        out["_time_str"] = pc.if_else(cm, leaf_str(rows, "eventTime"), out.get("_time_str", nulls(n, STR)))
    for name in _NOT_CLOUDTRAIL:
        if name in out:
            out[name] = pc.if_else(cm, pa.scalar(None, out[name].type), out[name])
    return pc.coalesce(ct_type, pa.scalar("event", STR))
