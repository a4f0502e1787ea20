"""API Gateway REST execution logs: ``(<request id>) <message>`` in CloudWatch, or ``<date> :
<message>`` as the console's Test shows.

Source: *API Gateway Developer Guide*, "Set up CloudWatch logging for REST APIs" and the
console's test-invoke log (reference set: ``apigw_execution_log_test_invoke.log``).

Example
-------
>>> from incidentkit import parse
>>> df = parse.parse(["(6bc28136-aaaa-4365-b021-0ce6b2e64ab0) Method completed with status: 502"])
>>> print(df.at[0, "format"], df.at[0, "record_type"], df.at[0, "status"])
apigw_execution method_completed 502
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .._text import UUID, group, regex_struct
from ..arrow import BOOL, STR, Part, as_status, scalar_str
from ._keys import Field

__all__ = ["FIELDS", "NAME", "RECOGNISE", "ROLE", "parse"]

NAME = "apigw_execution"
ROLE = "entry"
RECOGNISE = r"^(?:\(" + UUID + r"\) |[A-Z][a-z]{2} [A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d UTC \d{4} : )"
FIELDS: tuple[Field, ...] = (
    ("(request id) message", "2015-07 (launch)"),
    ("Method completed with status: N", "2015-07 (launch)"),
    ("Lambda request id / x-amzn-RequestId in endpoint response headers", "undated"),
)


def parse(arr: pa.Array, idx: np.ndarray) -> list[Part]:
    """API Gateway REST execution log lines: ``(<request id>) <message>`` in CloudWatch, or
    ``<date> : <message>`` as the console's Test shows. ``Method completed with status:
    N`` gives the status; ``Execution failed due to a timeout error`` marks a timeout. The
    invocation's own request id (``Lambda request id: <id>``, or ``x-amzn-RequestId=<id>``
    in the endpoint's response headers) is the ``integration_request_id``."""
    n = len(arr)
    ex = regex_struct(arr, r"(?s)^(?:\((?P<rid>" + UUID + r")\) |(?P<date>[A-Z][a-z]{2} [A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d UTC \d{4}) : )(?P<msg>.*)$")
    msg = group(ex, "msg")
    integration = group(regex_struct(msg, r"(?:Lambda request id: |[Xx]-[Aa]mzn-[Rr]equest[Ii]d=)(?P<i>" + UUID + ")"), "i")
    status = group(regex_struct(msg, r"^Method completed with status: (?P<s>\d{3})"), "s")
    timeout = pc.match_substring(msg, "Execution failed due to a timeout error").fill_null(False)
    failed = pc.starts_with(msg, "Execution failed").fill_null(False)
    p = Part(idx)
    p.set("format", scalar_str(NAME, n))
    p.set("record_type", pc.if_else(status.is_valid(), pa.scalar("method_completed", STR), pc.if_else(failed, pa.scalar("execution_failed", STR), pa.scalar("execution", STR))))
    p.set("request_id", group(ex, "rid"))
    p.set("integration_request_id", integration)
    p.set("status", as_status(status, n))
    p.set("timed_out", pc.if_else(timeout, True, pa.scalar(None, BOOL)))
    p.set("error_message", pc.if_else(failed, msg, pa.scalar(None, STR)))
    p.set("level", pc.if_else(failed, pa.scalar("ERROR", STR), pa.scalar(None, STR)))
    p.set("_time_str", group(ex, "date"))
    return [p]

