"""Column contracts of the frames the kit returns, and their provenance in ``df.attrs``.

Every frame has fixed columns, even when empty, so code downstream never has to ask
whether a column exists. Timestamps are ``datetime64[ns, UTC]``.

Frames
------
``EVENT_COLUMNS``     raw log events (``logs.events``)
``PARSED_COLUMNS``    ``EVENT_COLUMNS`` + typed fields (``parsers.parse``)
``REQUEST_COLUMNS``   one row per request (``parsers.requests``)
``METRIC_COLUMNS``    long metric datapoints (``metrics.get``, EMF)
``CHANGE_COLUMNS``    the change timeline (``changes.timeline``)
``SETTING_COLUMNS``   configuration settings read with describe calls (key/value)

Dtypes
------
Text is ``string`` (arrow-backed), except the **low-cardinality text** of the parsed and
request frames, which is dictionary-encoded: pandas ``category`` with ``str`` categories
(:data:`CATEGORY_COLUMNS`; arrow/Parquet ``dictionary<int32, large_string>``). A column
holding a few distinct values (a level, a route template, a user agent) then costs a 1-4
byte code a row instead of 8 bytes of offsets plus its text. Chosen by measured
cardinality (distinct / non-null over every bundled sample's parsed logs, and the
benchmarks' 1M synthetic events): ``format`` 84 / 242,282, ``record_type`` 123 / 240,928,
``level`` 64 / 88,956, ``method`` 46 / 127,258, ``function_name`` 19 / 94,337, ``service``
29 / 75,236, ``operation`` 21 / 17,080, ``error_type`` 19 / 12,835, ``app_version`` 47 /
69,329, ``user_agent`` 1,543 / 96,543, ``route`` 36,930 / 127,258 (raw paths with ids can be
nearly unique: codes then cost 4 bytes a row more than plain text, a bounded loss against a
~10x gain in the usual case). Identifiers (``request_id``, ``xray_trace_id``,
``client_ip``) and ``error_message`` stay ``string``.

Working with dictionary columns: ``df["level"] == "ERROR"``, ``isin``, ``.str``,
``value_counts``, ``groupby`` (pandas 3: ``observed=True`` by default) and Parquet round
trips work as on text; a missing value reads as ``NaN`` and comparisons with it are
``False`` (not ``<NA>``). Writing a value that is not yet a category (``fillna("x")``,
``s[mask] = "x"``) needs ``.astype("string")`` first (or :func:`as_category` after), and
``pd.concat`` of frames with different categories gives text: :func:`concat` keeps the
dictionary type.

Provenance
----------
Fetchers fill ``df.attrs`` with the keys in :data:`ATTR_KEYS` (see :func:`provenance`):
what was asked (``source``, ``query``, ``window``, ``region``), what it cost
(``api_calls``, ``retries``, ``elapsed_s``) and how complete it is (``complete``,
``truncated``, ``issues``). Parsers add ``parse_stats``. The evidence bundle stores
these in its manifest and the report's data-quality appendix shows them.

Example
-------
>>> from incidentkit.schema import empty_frame, METRIC_COLUMNS
>>> list(empty_frame("metrics").columns) == list(METRIC_COLUMNS)
True
"""

from __future__ import annotations

import datetime as _dt
from typing import Any, Iterable, Mapping

import pandas as pd

__all__ = [
    "EVENT_COLUMNS",
    "PARSED_COLUMNS",
    "REQUEST_COLUMNS",
    "METRIC_COLUMNS",
    "CHANGE_COLUMNS",
    "SETTING_COLUMNS",
    "DTYPES",
    "CATEGORY",
    "CATEGORY_COLUMNS",
    "as_category",
    "concat",
    "ATTR_KEYS",
    "CHANGE_CLASSES",
    "RESOURCE_TYPE_ALIASES",
    "resource_type",
    "empty_frame",
    "conform",
    "provenance",
    "utc",
]

UTC_NS = "datetime64[ns, UTC]"
#: Dictionary-encoded text (pandas ``category`` with ``str`` categories; Parquet/arrow
#: ``dictionary<int32, large_string>``): the low-cardinality text columns, see :data:`CATEGORY_COLUMNS`.
CATEGORY = "category"

#: Raw CloudWatch Logs events.
EVENT_COLUMNS = ("timestamp", "ingestion_time", "log_group", "log_stream", "event_id", "message")

#: Typed fields a parser extracts (NA where a record has no such field).
PARSED_FIELDS = (
    "format",  # detected record format: one of parse.FORMATS (the values of parse/registry.py's
    #            formats; json only with parse_error), e.g. lambda_platform, app_json, alb_access, text
    "record_type",  # within the format: report/start/end/init_start/timeout/..., access, log, ...
    "parse_error",  # bool: the record claimed a format (e.g. started like JSON) but could not be read
    "parse_error_reason",
    "request_id",
    "integration_request_id",  # the request id an entry point gave its integration (API Gateway -> Lambda)
    "level",  # upper-case: DEBUG INFO WARN ERROR FATAL
    "status",  # HTTP status code (Int64)
    "latency_ms",  # what the caller waited: access-log latency, app latency, or Lambda duration + init
    "duration_ms",  # Lambda REPORT Duration
    "billed_duration_ms",
    "init_duration_ms",
    "memory_size_mb",
    "max_memory_used_mb",
    "cold_start",  # boolean: Init Duration present / Powertools cold_start
    "timed_out",  # boolean: REPORT Status: timeout, "Task timed out"
    "app_version",  # from a field, or from a User-Agent like MyApp/2.9.0
    "user_agent",
    "route",  # path, resourcePath, routeKey
    "method",
    "client_ip",
    "function_name",
    "service",
    "xray_trace_id",
    "operation",  # API operation: DynamoDB op, CloudTrail eventName, ...
    "error_type",  # exception class / error code / "Task timed out"
    "error_message",
)
PARSED_COLUMNS = EVENT_COLUMNS + PARSED_FIELDS

#: One row per request (joins Lambda REPORT lines with the app lines of the same request id);
#: ``tier`` is ``entry``, ``invocation`` or ``app`` (see :func:`incidentkit.parse.requests`).
REQUEST_COLUMNS = (
    "timestamp",
    "log_group",
    "request_id",
    "status",
    "latency_ms",
    "duration_ms",
    "init_duration_ms",
    "cold_start",
    "timed_out",
    "app_version",
    "user_agent",
    "route",
    "method",
    "client_ip",
    "function_name",
    "error_type",
    "tier",  # entry (access logs), invocation (Lambda), app (application lines elsewhere)
    "tier_format",  # the format of the row that puts the request at its tier
    "logged_error",  # bool: a row at ERROR/FATAL, a traceback or a platform error
)

METRIC_COLUMNS = ("timestamp", "query_id", "label", "namespace", "metric_name", "dimensions", "stat", "period", "value")

#: ``class`` is one of :data:`CHANGE_CLASSES`.
CHANGE_COLUMNS = ("timestamp", "source", "event_name", "class", "actor", "resource", "error_code", "detail")
CHANGE_CLASSES = ("DEPLOYMENT", "SECURITY_CHANGE", "CONFIG_CHANGE", "SCALING", "IAM", "OTHER")

#: Settings read with describe calls, one row per (resource, setting); ``value`` as text.
SETTING_COLUMNS = ("timestamp", "resource_type", "resource_id", "setting", "value")

DTYPES: dict[str, str] = {
    "timestamp": UTC_NS,
    "ingestion_time": UTC_NS,
    "event_id": "string",
    "log_group": "string",
    "log_stream": "string",
    "message": "string",
    "format": CATEGORY,
    "record_type": CATEGORY,
    "parse_error": "bool",
    "parse_error_reason": CATEGORY,
    "request_id": "string",
    "integration_request_id": "string",
    "level": CATEGORY,
    "status": "Int64",
    "latency_ms": "float64",
    "duration_ms": "float64",
    "billed_duration_ms": "float64",
    "init_duration_ms": "float64",
    "memory_size_mb": "float64",
    "max_memory_used_mb": "float64",
    "cold_start": "boolean",
    "timed_out": "boolean",
    "app_version": CATEGORY,
    "user_agent": CATEGORY,
    "route": CATEGORY,
    "method": CATEGORY,
    "client_ip": "string",
    "function_name": CATEGORY,
    "service": CATEGORY,
    "xray_trace_id": "string",
    "operation": CATEGORY,
    "error_type": CATEGORY,
    "error_message": "string",
    "tier": "string",
    "tier_format": "string",
    "logged_error": "bool",
    "query_id": "string",
    "label": "string",
    "namespace": "string",
    "metric_name": "string",
    "dimensions": "string",  # canonical JSON object, keys sorted: {"FunctionName":"api"}
    "stat": "string",
    "period": "int64",
    "value": "float64",
    "source": "string",
    "event_name": "string",
    "class": "string",
    "actor": "string",
    "resource": "string",
    "error_code": "string",
    "detail": "string",
    "resource_type": "string",
    "resource_id": "string",
    "setting": "string",
}

#: The columns stored as dictionary text (``category``), in any frame that has them.
CATEGORY_COLUMNS = tuple(c for c, d in DTYPES.items() if d == CATEGORY)

#: CloudFormation type names of the resources whose settings the kit reads, and the short
#: ``resource_type`` names the health snapshot writes; :func:`resource_type` maps either to the short one.
RESOURCE_TYPE_ALIASES: dict[str, str] = {
    "AWS::ElasticLoadBalancingV2::TargetGroup": "target_group",
    "AWS::ElasticLoadBalancingV2::LoadBalancer": "load_balancer",
    "AWS::Lambda::Function": "lambda_function",
    "AWS::DynamoDB::Table": "dynamodb_table",
    "AWS::RDS::DBInstance": "rds_instance",
    "AWS::Route53::HealthCheck": "route53_health_check",
    "AWS::EC2::SecurityGroup": "security_group",
    "AWS::EC2::Instance": "ec2_instance",
    "AWS::ECS::Service": "ecs_service",
    "AWS::ApiGateway::Stage": "apigw_stage",
    "AWS::ApiGatewayV2::Stage": "apigw_stage",
}


def resource_type(name: str) -> str:
    """The short resource type for a short or CloudFormation name.

    Example
    -------
    >>> resource_type("AWS::ElasticLoadBalancingV2::TargetGroup"), resource_type("target_group")
    ('target_group', 'target_group')
    """
    return RESOURCE_TYPE_ALIASES.get(name, name)


#: Per-kind dtype overrides where a column name means something else in that frame.
KIND_DTYPES: dict[str, dict[str, str]] = {"settings": {"value": "string"}}

_KINDS = {
    "events": EVENT_COLUMNS,
    "parsed": PARSED_COLUMNS,
    "requests": REQUEST_COLUMNS,
    "metrics": METRIC_COLUMNS,
    "changes": CHANGE_COLUMNS,
    "settings": SETTING_COLUMNS,
}

#: Keys fetchers and parsers put in ``df.attrs``.
ATTR_KEYS = (
    "source",  # "logs.events", "logs.insights", "metrics.get", "changes.timeline", ...
    "query",  # JSON-able: the exact API parameters asked (minus secrets)
    "window",  # {"start": iso, "end": iso}
    "region",
    "api_calls",  # API calls made (pages included)
    "retries",  # retry attempts botocore made (throttling, 5xx)
    "elapsed_s",
    "fetched_at",  # iso time of the fetch
    "complete",  # bool: everything that exists was fetched
    "truncated",  # bool: a limit cut the result (rows exist that are not in the frame)
    "issues",  # list of one-line texts: what is missing and why
    "parse_stats",  # {"events": n, "parsed": n, "errors": n, "by_format": {...}}
)


def columns_of(kind: str) -> tuple[str, ...]:
    """The column tuple of a frame kind (``events``, ``parsed``, ``requests``, ``metrics``, ``changes``, ``settings``)."""
    try:
        return _KINDS[kind]
    except KeyError:
        raise ValueError(f"unknown frame kind {kind!r}; use one of {sorted(_KINDS)}") from None


def empty_frame(kind: str) -> pd.DataFrame:
    """An empty frame with the fixed columns and dtypes of ``kind``.

    Example
    -------
    >>> empty_frame("changes").dtypes["timestamp"]
    datetime64[ns, UTC]
    """
    cols = columns_of(kind)
    return pd.DataFrame({c: _empty(dtype_of(c, kind)) for c in cols})


def _empty(dtype: str, n: int = 0) -> pd.Series:
    if dtype == CATEGORY:
        return pd.Series(pd.Categorical([None] * n, categories=pd.Index([], dtype="str")))
    if dtype == "bool":
        return pd.Series([False] * n, dtype="bool")
    if dtype == "float64":
        return pd.Series([float("nan")] * n, dtype="float64")
    if not n:
        return pd.Series([], dtype=dtype)
    return pd.Series([pd.NA] * n, dtype=dtype if dtype != UTC_NS else "object").astype(dtype)


def as_category(values: Any) -> pd.Series:
    """``values`` as dictionary text: ``category`` with ``str`` categories (missing stays missing).

    Categories are ``str`` whatever the input's text dtype, so a frame equals itself after a
    Parquet round trip (pyarrow reads dictionary text back with ``str`` categories).

    Example
    -------
    >>> s = as_category(pd.Series(["ERROR", None, "INFO", "ERROR"], dtype="string"))
    >>> str(s.dtype), s.cat.categories.tolist(), (s == "ERROR").tolist()
    ('category', ['ERROR', 'INFO'], [True, False, False, True])
    """
    s = values if isinstance(values, pd.Series) else pd.Series(values)
    if isinstance(s.dtype, pd.CategoricalDtype):
        cats = s.cat.categories
        if cats.dtype == "str":
            return s
        return s.cat.rename_categories(pd.Index(cats.astype(str), dtype="str"))
    text = s.astype("str")
    out = text.astype("category")
    return out if out.cat.categories.dtype == "str" else as_category(out)


def concat(frames: Iterable[pd.DataFrame], **kwargs: Any) -> pd.DataFrame:
    """``pd.concat`` that keeps dictionary columns dictionary-typed when their categories differ
    (``pd.concat`` alone turns them into text); other columns as ``pd.concat`` gives them.

    Example
    -------
    >>> a = pd.DataFrame({"level": as_category(["ERROR"])})
    >>> b = pd.DataFrame({"level": as_category(["INFO", None])})
    >>> out = concat([a, b], ignore_index=True)
    >>> str(out["level"].dtype), out["level"].tolist()
    ('category', ['ERROR', 'INFO', nan])
    """
    frames = list(frames)
    out = pd.concat(frames, **kwargs)
    for c in out.columns:
        if isinstance(out[c].dtype, pd.CategoricalDtype):
            continue
        if any(c in f.columns and isinstance(f[c].dtype, pd.CategoricalDtype) for f in frames):
            out[c] = as_category(out[c])
    return out


def dtype_of(column: str, kind: str | None = None) -> str:
    """The dtype of ``column`` in a frame of ``kind`` (``value`` is text in settings, a float elsewhere)."""
    if kind and column in KIND_DTYPES.get(kind, {}):
        return KIND_DTYPES[kind][column]
    return DTYPES.get(column, "object")


def utc(values: Any) -> pd.Series:
    """Convert epoch-ms numbers, strings or datetimes to ``datetime64[ns, UTC]``."""
    s = pd.Series(values) if not isinstance(values, pd.Series) else values
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        return pd.to_datetime(s, unit="ms", utc=True).astype(UTC_NS)
    return pd.to_datetime(s, utc=True, format="mixed" if len(s) else None).astype(UTC_NS)


def conform(df: pd.DataFrame, kind: str, *, extra: bool = True) -> pd.DataFrame:
    """Return ``df`` with every column of ``kind`` present, in order, with its dtype.

    Missing columns are added as NA; ``extra=True`` keeps other columns after them.
    ``df.attrs`` is preserved.
    """
    cols = columns_of(kind)
    attrs = dict(df.attrs)
    n = len(df)
    out: dict[str, Any] = {}
    for c in cols:
        dtype = dtype_of(c, kind)
        if c in df.columns:
            s = df[c]
            if dtype == UTC_NS:
                s = utc(s) if str(s.dtype) != UTC_NS else s
            elif dtype == CATEGORY:
                s = as_category(s)
            elif str(s.dtype) != dtype:
                s = s.astype(dtype)
            out[c] = s.reset_index(drop=True)
        else:
            out[c] = _empty(dtype, n)
    if extra:
        for c in df.columns:
            if c not in out:
                out[c] = df[c].reset_index(drop=True)
    result = pd.DataFrame(out)
    result.attrs.update(attrs)
    return result


def provenance(
    source: str,
    *,
    query: Mapping[str, Any] | None = None,
    window: Any = None,
    region: str | None = None,
    api_calls: int = 0,
    retries: int = 0,
    elapsed_s: float = 0.0,
    complete: bool = True,
    truncated: bool = False,
    issues: Iterable[str] = (),
    **more: Any,
) -> dict[str, Any]:
    """Build the ``df.attrs`` dictionary a fetcher attaches to its frame.

    Example
    -------
    >>> p = provenance("logs.events", api_calls=3)
    >>> p["api_calls"], p["complete"], p["issues"]
    (3, True, [])
    """
    win = window.to_dict() if hasattr(window, "to_dict") else window
    attrs: dict[str, Any] = {
        "source": source,
        "query": dict(query or {}),
        "window": win,
        "region": region,
        "api_calls": int(api_calls),
        "retries": int(retries),
        "elapsed_s": round(float(elapsed_s), 3),
        "fetched_at": _dt.datetime.now(_dt.timezone.utc).isoformat().replace("+00:00", "Z"),
        "complete": bool(complete and not truncated),
        "truncated": bool(truncated),
        "issues": list(issues),
    }
    attrs.update(more)
    return attrs
