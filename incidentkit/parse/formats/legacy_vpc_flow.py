"""VPC Flow Log records in the default (version 2) format, as the kit read them from
CloudWatch Logs before the logs AWS writes to S3 had their own modules.

Merge note: branch ``wip/s3`` adds ``parse/formats/vpc_flow.py`` (versions 2-5, custom
field lists from the header or the flow log's ``LogFormat``). On merge, point the
``vpc_flow`` line of :mod:`incidentkit.parse.registry` at that module and delete this file.

Source: *Amazon VPC User Guide*, "Flow log records" (default format). ``record_type`` is the
action (``accept``/``reject``) or the log status (``nodata``/``skipdata``); the time is
the window's ``start``.

Example
-------
>>> from incidentkit import parse
>>> df = parse.parse(["2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK"])
>>> print(df.at[0, "format"], df.at[0, "record_type"], df.at[0, "client_ip"])
vpc_flow accept 172.31.16.139
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .._text import group, mark_errors, regex_struct
from ..arrow import Part, as_float, scalar_str
from ._keys import Field

__all__ = ["FIELDS", "NAME", "RECOGNISE", "ROLE", "parse"]

NAME = "vpc_flow"
ROLE = "network"
RECOGNISE = r"^\d+ (?:\d{12}|unknown|-) (?:eni-[0-9a-f]+|-) "
FIELDS: tuple[Field, ...] = tuple(
    (f, "2 (2015-06, launch)") for f in ("version", "account-id", "interface-id", "srcaddr", "dstaddr", "srcport", "dstport",
                                         "protocol", "packets", "bytes", "start", "end", "action", "log-status")
)  # fmt: skip


def parse(arr: pa.Array, idx: np.ndarray) -> list[Part]:
    """VPC flow log records in the default (version 2) format. ``record_type`` is the
    action (``accept``/``reject``) or the log status (``nodata``/``skipdata``)."""
    n = len(arr)
    ex = regex_struct(
        arr,
        r"^(?P<ver>\d+) (?P<acct>[^\s]+) (?P<eni>[^\s]+) (?P<src>[^\s]+) (?P<dst>[^\s]+) (?P<sport>[^\s]+) (?P<dport>[^\s]+) "
        r"(?P<proto>[^\s]+) (?P<pkts>[^\s]+) (?P<bytes>[^\s]+) (?P<start>\d+) (?P<end>\d+) (?P<action>[^\s]+) (?P<status>[^\s]+)\s*$",
    )
    p = Part(idx)
    p.set("format", scalar_str(NAME, n))
    action = group(ex, "action")
    p.set("record_type", pc.utf8_lower(pc.coalesce(action, group(ex, "status"))))
    p.set("client_ip", group(ex, "src"))
    p.set("_time_num", pc.multiply(as_float(group(ex, "start"), n), 1000.0))
    mark_errors(p, pc.invert(ex.is_valid()), scalar_str("VPC flow record with missing fields", n))
    return [p]

