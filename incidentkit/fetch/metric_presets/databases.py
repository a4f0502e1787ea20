"""Presets for databases: DynamoDB tables (per operation where CloudWatch splits so) and RDS instances.

Example
-------
>>> "ThrottledRequests" in {q.metric_name for q in dynamodb_table("orders")}
True
"""

from __future__ import annotations

import re
from typing import Sequence

from ...errors import ParameterError
from ..metric_query import MetricQuery
from .build import _ARN_PARTITION, _build, _id_or_arn, _text

#: DynamoDB operations whose ThrottledRequests / SystemErrors the table preset fetches.
DYNAMODB_OPERATIONS = (
    "GetItem",
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "Query",
    "Scan",
    "BatchGetItem",
    "BatchWriteItem",
    "TransactWriteItems",
    "TransactGetItems",
)


_DDB_ARN = re.compile(rf"^{_ARN_PARTITION}:dynamodb:([a-z0-9-]+):\d{{12}}:table/([A-Za-z0-9_.-]{{3,255}})(?:/index/([A-Za-z0-9_.-]{{3,255}}))?$")
_DDB_NAME = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")


def dynamodb_table(
    table: str,
    *,
    index: str | None = None,
    operations: Sequence[str] = DYNAMODB_OPERATIONS,
    region: str | None = None,
    period: int | None = None,
) -> list[MetricQuery]:
    """Metrics of one DynamoDB table (namespace ``AWS/DynamoDB``), or of one of its GSIs.

    ``table`` is a name or a table ARN. ``index`` (a global secondary index) switches the
    capacity and throttle-event metrics to ``TableName`` + ``GlobalSecondaryIndexName``.

    ==========================================  ==================================================
    metric (stat)                               what it tells during an incident
    ==========================================  ==================================================
    ConsumedReadCapacityUnits (Sum)             read units used per period (divide by the period
                                                in seconds for units/s); a spike at the same hour
                                                each day = a scheduled Scan
    ConsumedWriteCapacityUnits (Sum)            write units used per period
    ProvisionedReadCapacityUnits (Average)      provisioned read units/s (no data in on-demand mode)
    ProvisionedWriteCapacityUnits (Average)     provisioned write units/s
    ReadThrottleEvents (Sum)                    read events above capacity (table or GSI)
    WriteThrottleEvents (Sum)                   write events above capacity: "Rate exceeded"
    ThrottledRequests (Sum), per operation      throttled requests by API operation -- Scan vs
                                                GetItem/Query tells a scan burst from hot keys
    SystemErrors (Sum), per operation           HTTP 500s from DynamoDB itself
    UserErrors (Sum)                            HTTP 400s of the *whole account and region* (no
                                                table dimension exists): validation, conditional
                                                and auth errors, not throttling
    ==========================================  ==================================================

    Example
    -------
    >>> qs = dynamodb_table("orders", operations=["Scan"])
    >>> [q.metric_name for q in qs if "Operation" in q.dimensions]
    ['ThrottledRequests', 'SystemErrors']
    """
    text = _text(table, "table name")
    m = _DDB_ARN.match(text)
    if m:
        arn_region, name, arn_index = m.groups()
        region = region or arn_region
        index = index or arn_index
    elif _DDB_NAME.match(text):
        name = text
    else:
        raise ParameterError(f"{text!r} is not a DynamoDB table name (3-255 of A-Z a-z 0-9 _ . -) or table ARN")
    if isinstance(operations, str):
        operations = [operations]
    ops = [_text(op, "DynamoDB operation") for op in operations]
    unknown = [op for op in ops if not re.match(r"^[A-Z][A-Za-z]+$", op)]
    if unknown:
        raise ParameterError(f"operations {unknown} are not DynamoDB API operation names (e.g. GetItem, Scan)")
    capacity_dims = {"TableName": name}
    display = name
    if index:
        capacity_dims["GlobalSecondaryIndexName"] = _text(index, "index name")
        display = f"{name}/{index}"
    out = _build(
        "ddb", display, display, "AWS/DynamoDB", capacity_dims,
        [
            ("ConsumedReadCapacityUnits", "Sum"),
            ("ConsumedWriteCapacityUnits", "Sum"),
            ("ProvisionedReadCapacityUnits", "Average"),
            ("ProvisionedWriteCapacityUnits", "Average"),
            ("ReadThrottleEvents", "Sum"),
            ("WriteThrottleEvents", "Sum"),
        ],
        region=region, period=period,
    )
    for op in ops:
        out += _build(
            "ddb", f"{name}_{op}", f"{name} {op}", "AWS/DynamoDB", {"TableName": name, "Operation": op},
            [("ThrottledRequests", "Sum"), ("SystemErrors", "Sum")], region=region, period=period,
        )
    out += _build("ddb", "account", "account", "AWS/DynamoDB", {}, [("UserErrors", "Sum")], region=region, period=period)
    return out


_RDS_ARN = re.compile(rf"^{_ARN_PARTITION}:rds:([a-z0-9-]+):\d{{12}}:db:([A-Za-z][A-Za-z0-9-]{{0,62}})$")
_RDS_ID = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,62}$")


def rds_instance(instance: str, *, region: str | None = None, period: int | None = None) -> list[MetricQuery]:
    """Metrics of one RDS DB instance (namespace ``AWS/RDS``, dimension ``DBInstanceIdentifier``).

    =================================  ==============================================================
    metric (stat)                      what it tells during an incident
    =================================  ==============================================================
    CPUUtilization (Average, Maximum)  a busy database -- or, when low while the app reports pool
                                       exhaustion, that the database is *not* the bottleneck
    DatabaseConnections (Maximum,      open connections; climbing without falling back while
    Average)                           traffic is flat = connections leaking from a pool
    FreeableMemory (Minimum)           memory left; connections cost memory
    ReadLatency (Average, Maximum)     seconds per disk read
    WriteLatency (Average, Maximum)    seconds per disk write
    DiskQueueDepth (Maximum)           I/O waiting for the disk (storage saturation)
    =================================  ==============================================================

    Example
    -------
    >>> rds_instance("orders-db")[0].dimensions
    {'DBInstanceIdentifier': 'orders-db'}
    """
    text = _text(instance, "DB instance identifier")
    ident, region = _id_or_arn(text, _RDS_ARN, _RDS_ID,
                               f"{text!r} is not an RDS DB instance identifier (a letter, then letters, digits, -) or ARN", region)
    metrics = [
        ("CPUUtilization", "Average"),
        ("CPUUtilization", "Maximum"),
        ("DatabaseConnections", "Maximum"),
        ("DatabaseConnections", "Average"),
        ("FreeableMemory", "Minimum"),
        ("ReadLatency", "Average"),
        ("ReadLatency", "Maximum"),
        ("WriteLatency", "Average"),
        ("WriteLatency", "Maximum"),
        ("DiskQueueDepth", "Maximum"),
    ]
    return _build("rds", ident, ident, "AWS/RDS", {"DBInstanceIdentifier": ident}, metrics, region=region, period=period)
