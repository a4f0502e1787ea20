"""VPC Flow Logs: the default format and custom field lists (versions 2 to 8).

Source: *Amazon VPC User Guide*, "Flow log records" (available fields, with the version
each appeared in) and "Flow log record examples". Fields are space separated; ``-`` means
not applicable. A custom format is any subset of the fields in any order: files written to
S3 begin with a header line naming them, and ``DescribeFlowLogs`` returns the flow log's
``LogFormat`` (``${version} ${vpc-id} ...``). A header line in the input applies to the
lines after it; ``fields=`` (names, or the ``LogFormat`` text) to the lines before any
header; without either the default (version 2) format is assumed.

``record_type`` is the action (``accept``/``reject``) or, without traffic, the log status
(``nodata``/``skipdata``); ``client_ip`` the source address (``srcaddr``), the record's time
its ``start``.

Example
-------
>>> import numpy as np, pyarrow as pa
>>> lines = ["version vpc-id srcaddr dstaddr dstport protocol start end action log-status flow-direction",
...          "5 vpc-0a1b 10.0.1.5 10.0.2.9 5432 6 1418530010 1418530070 REJECT OK egress"]
>>> [h, p] = parse(pa.array(lines, type=pa.large_string()), np.arange(2))
>>> p.cols["dst_port"].to_pylist(), p.cols["protocol"].to_pylist(), p.cols["flow_direction"].to_pylist()
([5432], ['tcp'], ['egress'])
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..arrow import F64, STR, Part, as_float, map_distinct, mask_np

from ._common import Field, header_segments, integer, mark_errors, new_part, split_columns

__all__ = ["DEFAULT_FIELDS", "FIELDS", "NAME", "RECOGNISE", "ROLE", "fields_from_log_format", "parse"]

NAME = "vpc_flow"
ROLE = "network"
#: A default-format record: version, then an account id, then an interface id.
RECOGNISE = r"^\d+ (?:\d{12}|unknown|-) (?:eni-[0-9a-f]+|-) "

#: Every documented field with the flow-log version it appeared in.
FIELDS: tuple[Field, ...] = (
    *((f, "2") for f in ("version", "account-id", "interface-id", "srcaddr", "dstaddr", "srcport", "dstport",
                         "protocol", "packets", "bytes", "start", "end", "action", "log-status")),
    *((f, "3") for f in ("vpc-id", "subnet-id", "instance-id", "tcp-flags", "type", "pkt-srcaddr", "pkt-dstaddr")),
    *((f, "4") for f in ("region", "az-id", "sublocation-type", "sublocation-id")),
    *((f, "5") for f in ("pkt-src-aws-service", "pkt-dst-aws-service", "flow-direction", "traffic-path")),
    *((f, "7") for f in ("ecs-cluster-arn", "ecs-cluster-name", "ecs-container-instance-arn", "ecs-container-instance-id",
                         "ecs-container-id", "ecs-second-container-id", "ecs-service-name", "ecs-task-definition-arn",
                         "ecs-task-arn", "ecs-task-id")),
    ("reject-reason", "8"),
)  # fmt: skip
_KNOWN = {f for f, _ in FIELDS}
#: The default format: every version-2 field, in order.
DEFAULT_FIELDS: tuple[str, ...] = tuple(f for f, v in FIELDS if v == "2")

# IANA protocol numbers seen in flow logs.
_PROTOCOLS = {"1": "icmp", "6": "tcp", "17": "udp", "47": "gre", "50": "esp", "51": "ah", "58": "icmpv6", "132": "sctp"}
# field -> (column, kind)
_COLUMNS = {
    "srcaddr": ("client_ip", "text"), "dstaddr": ("dst_ip", "text"), "srcport": ("src_port", "int"),
    "dstport": ("dst_port", "int"), "packets": ("packets", "int"), "bytes": ("bytes", "int"), "action": ("action", "text"),
    "interface-id": ("interface_id", "text"), "vpc-id": ("vpc_id", "text"), "subnet-id": ("subnet_id", "text"),
    "instance-id": ("instance_id", "text"), "tcp-flags": ("tcp_flags", "int"), "flow-direction": ("flow_direction", "text"),
    "az-id": ("location", "text"), "reject-reason": ("error_reason", "text"), "account-id": ("service", "text"),
}  # fmt: skip
_HEADER = r"^[a-z][a-z0-9-]*(?: [a-z][a-z0-9-]*)*\s*$"


def fields_from_log_format(log_format: str) -> tuple[str, ...]:
    """The field names of a flow log's ``LogFormat`` (``${version} ${srcaddr} ...``) or header line.

    Example
    -------
    >>> fields_from_log_format("${version} ${vpc-id} ${srcaddr}")
    ('version', 'vpc-id', 'srcaddr')
    """
    names = tuple(re.findall(r"\$\{([a-z0-9-]+)\}", log_format)) or tuple(log_format.split())
    return names


def parse(arr: pa.Array, idx: np.ndarray, *, fields: Sequence[str] | str | None = None) -> list[Part]:
    """Flow log records -> parts: header lines (``record_type="header"``) and records."""
    given = fields_from_log_format(fields) if isinstance(fields, str) else tuple(fields or DEFAULT_FIELDS)
    looks_header = mask_np(pc.match_substring_regex(arr, _HEADER))
    if looks_header.any():  # a header names only known fields
        rows = np.flatnonzero(looks_header)
        ok = [all(t in _KNOWN for t in str(v).split()) for v in arr.take(pa.array(rows)).to_pylist()]
        looks_header[rows[~np.array(ok, dtype=bool)]] = False
    parts: list[Part] = []
    if looks_header.any():
        parts.append(new_part(idx[looks_header], NAME, "header"))
        parts[-1].set("parse_error", pa.array(np.zeros(int(looks_header.sum()), dtype=bool)))
    for head, start, stop in header_segments(looks_header):
        names = given if head < 0 else tuple(str(arr[head]).split())
        sel = np.arange(start, stop)
        parts.append(_records(arr.take(pa.array(sel)), idx[sel], names))
    return parts


def _records(arr: pa.Array, idx: np.ndarray, names: tuple[str, ...]) -> Part:
    n = len(arr)
    cols, counts = split_columns(pc.utf8_trim_whitespace(arr), " ", len(names))
    by_name = dict(zip(names, cols))
    p = new_part(idx, NAME, "record")
    for name, (column, kind) in _COLUMNS.items():
        if name in by_name:
            p.set(column, integer(by_name[name]) if kind == "int" else by_name[name])
    if "protocol" in by_name:
        p.set("protocol", map_distinct(by_name["protocol"], lambda v: _PROTOCOLS.get(v, v) if v is not None else None))
    action, status = by_name.get("action"), by_name.get("log-status")
    kind = pc.utf8_lower(pc.coalesce(*(a for a in (action, status) if a is not None))) if action or status else None
    if kind is not None:
        p.set("record_type", pc.coalesce(kind, pa.scalar("record", STR)))
    if "log-status" in by_name:
        p.fill("error_reason", pc.if_else(pc.equal(status, "OK"), pa.scalar(None, STR), status))
    if "start" in by_name:
        p.set("_time_num", pc.multiply(as_float(by_name["start"], n), 1000.0))
    elif "end" in by_name:
        p.set("_time_num", pc.multiply(as_float(by_name["end"], n), 1000.0))
    else:
        p.set("_time_num", pa.nulls(n, F64))
    bad = counts != len(names)
    mark_errors(p, bad, "VPC flow record with missing fields")
    return p
