"""Every log format the kit reads, in one block, in the order a line is tried.

A format is a module of :mod:`incidentkit.parse.formats` with

``NAME``
    the value it writes to the ``format`` column (several modules may write one value:
    API Gateway access logs come as JSON, CLF or CSV);
``ROLE``
    what its rows are to :func:`incidentkit.parse.requests` (see :data:`ROLES`);
``FIELDS``
    the documented fields, each with the version or date it appeared in;
``RECOGNISE``
    how a line is recognised: an RE2 pattern on the raw line (text formats), a
    :class:`~incidentkit.parse.formats._keys.Keys` (or a tuple of them) on a JSON record's
    keys (JSON formats), or ``None`` for the format that takes every line left;
``parse``
    text formats: ``parse(arr, idx) -> list[Part]`` (``WRAPS = True``: an envelope whose
    ``parse(arr, idx, inner)`` reads its content again with every format; a format whose
    files may name their fields in a header line (VPC Flow Logs, CloudFront) also takes
    ``fields=``, the list in effect from earlier in the file); JSON formats:
    ``parse(rows, out, mine, need_time) -> record type`` on the chunk's JSON leaves, read
    once for all of them (:mod:`incidentkit.parse._json`).

Adding a format = its module, its line below, its test. :func:`incidentkit.parse.parse`
tries the lines in this order: pattern formats listed before the first JSON format on every
line (one pass of all their patterns at once, then each one's on the lines that matched),
then the JSON formats on the lines that open with ``{`` (the first whose keys match wins),
then the pattern formats after them on the rest (and on lines that opened like JSON but
were not), and the last format (``text``) takes what is left. Put a format before the JSON
formats only when its lines cannot be told apart later (WAF records are JSON). The S3 reader
(:mod:`incidentkit.parse.batches`) skips the recognising: it loads the format a file holds
by its entry, so an S3 log format's entry is its ``NAME``; for the reader to find such a
format's files, its key layout goes in :mod:`incidentkit.fetch.s3logs.layouts` (where the
files are, not how a line reads: a test checks that every layout names a registry entry).
Modules are imported on first use, not when the package is imported.

Example
-------
>>> json_formats()[0].NAME, json_formats()[-1].NAME, fallback().NAME
('lambda_platform_json', 'app_json', 'text')
>>> roles()["alb_access"], roles()["cloudtrail"]
('request', 'change')
"""

from __future__ import annotations

import functools
import importlib
from types import ModuleType

from ..errors import ParameterError

__all__ = ["FORMATS", "ROLES", "fallback", "format_names", "is_json", "json_format_names", "json_formats", "load", "modules", "refresh", "roles", "text_formats"]

_F = "incidentkit.parse.formats."

#: Entry -> module, in the order lines are tried.
FORMATS: dict[str, str] = {
    # logs AWS writes to S3, recognised by their opening bytes ahead of the JSON formats
    # (WAF, Network Firewall and CloudFront v2 JSON records are JSON); alb_access and vpc_flow,
    # also written to CloudWatch Logs, take their place among the text lines below
    "alb_connection": _F + "alb_connection",
    "elb_classic_access": _F + "elb_classic",
    "nlb_access": _F + "nlb_access",
    "cloudfront_access": _F + "cloudfront",
    "s3_access": _F + "s3_access",
    "waf": _F + "waf",
    "network_firewall": _F + "network_firewall",
    # JSON records, most specific first; app_json takes any other object
    "lambda_platform_json": _F + "lambda_platform_json",
    "cloudtrail": _F + "cloudtrail",
    "emf": _F + "emf_records",
    "powertools": _F + "powertools",
    "apigw_access_json": _F + "apigw_access_json",
    "rust_tracing": _F + "rust_tracing",
    "app_json": _F + "app_json",
    # text lines, by pattern
    "sam_logs": _F + "sam_logs",
    "lambda_platform": _F + "lambda_platform",
    "lambda_timeout": _F + "lambda_timeout",
    "lambda_runtime": _F + "lambda_runtime",
    "node_runtime_error": _F + "node_runtime_error",
    "alb_access": _F + "alb_access",
    "vpc_flow": _F + "vpc_flow",
    "clf_access": _F + "clf_access",
    "apigw_access_csv": _F + "apigw_access_csv",
    "apigw_execution": _F + "apigw_execution",
    "node_inspect": _F + "node_inspect",
    "traceback": _F + "traceback",
    # every line left
    "text": _F + "text",
}

#: What a format's rows are to :func:`incidentkit.parse.requests`.
ROLES: dict[str, str] = {
    "request": "one line per request, written by an AWS entry point (API Gateway, ALB): the entry tier",
    "access": "one line per request in another access log (CLF, S3 server access): the entry tier when no AWS entry point's log is there",
    "entry": "other lines of an entry point (API Gateway execution logs): the entry tier, not the request's own line",
    "invocation": "Lambda platform records (START/END/REPORT, platform.*): the invocation tier",
    "function": "application lines logged inside a Lambda invocation: the invocation tier",
    "app": "application lines elsewhere: the app tier",
    "change": "a change to the infrastructure (CloudTrail): not a request",
    "metric": "metrics carried in log lines (EMF): not a request",
    "network": "network flows and connections (VPC Flow Logs, ALB connection and NLB access logs): not a request",
    "security": "firewall and WAF decisions: not a request",
    "envelope": "a wrapper around lines of other formats (sam logs): its rows take their content's format",
}


def refresh() -> None:
    """Forget the modules read so far (after :data:`FORMATS` changed at run time: a test, a plugin)."""
    for fn in (modules, json_formats, text_formats, fallback, roles, json_format_names):
        fn.cache_clear()


def load(entry: str) -> ModuleType:
    """The module of ``entry`` (one of :data:`FORMATS`)."""
    try:
        path = FORMATS[entry]
    except KeyError:
        raise ParameterError(f"no log format {entry!r}; formats: {', '.join(FORMATS)}") from None
    return importlib.import_module(path)


@functools.cache
def modules() -> tuple[ModuleType, ...]:
    """Every format module, in the order tried (imported on first call)."""
    mods = tuple(load(entry) for entry in FORMATS)
    for m in mods:
        if m.ROLE not in ROLES:
            raise ParameterError(f"format {m.__name__} has ROLE {m.ROLE!r}; use one of {sorted(ROLES)}")
    return mods


def is_json(module: ModuleType) -> bool:
    """Whether ``module`` recognises JSON records by their keys (else lines by a pattern)."""
    return module.RECOGNISE is not None and not isinstance(module.RECOGNISE, str)


@functools.cache
def json_formats() -> tuple[ModuleType, ...]:
    """The JSON formats, in the order tried."""
    return tuple(m for m in modules() if is_json(m))


@functools.cache
def text_formats() -> tuple[tuple[ModuleType, ...], tuple[ModuleType, ...]]:
    """The pattern formats tried before the JSON formats, and those tried after them."""
    mods = [m for m in modules() if m.RECOGNISE is not None]
    first_json = next((i for i, m in enumerate(mods) if is_json(m)), len(mods))
    return tuple(mods[:first_json]), tuple(m for m in mods[first_json:] if not is_json(m))


@functools.cache
def fallback() -> ModuleType:
    """The format that takes every line no other format recognised (``RECOGNISE = None``)."""
    last = [m for m in modules() if m.RECOGNISE is None]
    if len(last) != 1:
        raise ParameterError(f"the registry needs exactly one format that takes every line left, has {len(last)}")
    return last[0]


@functools.cache
def roles() -> dict[str, str]:
    """``format`` value -> role (envelopes write no value of their own)."""
    out: dict[str, str] = {}
    for m in modules():
        if m.ROLE == "envelope":
            continue
        if out.setdefault(m.NAME, m.ROLE) != m.ROLE:
            raise ParameterError(f"format {m.NAME!r} has two roles: {out[m.NAME]!r} and {m.ROLE!r}")
    return out


@functools.cache
def json_format_names() -> tuple[str, ...]:
    """The ``format`` values JSON formats write, in registry order."""
    return tuple(dict.fromkeys(m.NAME for m in json_formats()))


def format_names(role: str | None = None) -> tuple[str, ...]:
    """The ``format`` values (of one ``role``), in registry order."""
    return tuple(name for name, r in roles().items() if role is None or r == role)
