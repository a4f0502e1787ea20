"""The change timeline: what changed, when, by whom — as one tidy DataFrame.

Every incident in the catalogue had a change behind it (a deploy, a security-group edit, a
configuration edit). :func:`timeline` puts all of them on one time axis, with the columns of
:data:`incidentkit.schema.CHANGE_COLUMNS`:

``timestamp``   UTC time of the change
``source``      ``cloudtrail``, ``codedeploy``, ``lambda`` or ``ecs``
``event_name``  the raw name (CloudTrail's ``UpdateFunctionCode20150331v2`` is kept as is)
``class``       ``DEPLOYMENT``, ``SECURITY_CHANGE``, ``CONFIG_CHANGE``, ``SCALING``, ``IAM``, ``OTHER``
``actor``       who: the principal's ARN (or the AWS service that acted)
``resource``    what: security group id, function name, target group ARN, ...
``error_code``  set when the call failed — a half-applied change is evidence, so it stays
``detail``      compact JSON: the API without its version suffix, the event source, how the
                change was made (``changed_by``: iac / pipeline / aws-service / console / cli /
                sdk / other), ``non_iac`` (true for a person's or a script's direct call),
                the key request parameters, error message, ids

Sources
-------
* **CloudTrail** ``LookupEvents`` with ``ReadOnly=false``: management write events of the last
  90 days, 50 a page, 2 requests a second per account and region (paced here, and retried
  with backoff when throttled).
* **CodeDeploy** ``ListDeployments`` (``createTimeRange``) + ``BatchGetDeployments``: one row
  when a deployment was created and one when it completed (succeeded, failed, stopped).
* **Lambda** ``ListVersionsByFunction``: published versions and the last modification of
  ``$LATEST`` (with the aliases pointing at each version) for the functions named.
* **ECS** ``DescribeServices``: the service deployments still listed (created, completed or
  failed roll-outs) for the services named.

:func:`parse_cloudtrail_records` classifies CloudTrail records read elsewhere (a trail's S3
objects, a CloudWatch Logs group) the same way, for windows older than 90 days.

This module reads CloudTrail and assembles the timeline; its parts live beside it and are
re-exported here: classification (:mod:`~incidentkit.fetch.change_classes`), records to rows
(:mod:`~incidentkit.fetch.change_records`), the deployment sources
(:mod:`~incidentkit.fetch.change_deployments`) and the paced, counted calls
(:mod:`~incidentkit.fetch.change_calls`).

Example
-------
>>> from incidentkit.fetch import changes
>>> rec = {"eventTime": "2026-03-01T03:00:00Z", "eventSource": "ec2.amazonaws.com",
...        "eventName": "RevokeSecurityGroupIngress", "userAgent": "aws-cli/2.15.0",
...        "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::1:user/ops"},
...        "requestParameters": {"groupId": "sg-0abc"}}
>>> df = changes.parse_cloudtrail_records([rec])
>>> df.loc[0, ["class", "actor", "resource"]].tolist()
['SECURITY_CHANGE', 'arn:aws:iam::1:user/ops', 'sg-0abc']
"""

from __future__ import annotations

import json
import logging
import time
import warnings
from typing import Any, Callable, Mapping, Sequence

import boto3
import pandas as pd

from . import aws
from .. import schema
from .._util.resource_ids import names as resource_names
from .change_calls import _call, _Pacer, _Stats
from .change_classes import changed_by, classify, normalize_event_name
from .change_deployments import _fetch_codedeploy, _fetch_ecs, _fetch_lambda
from .change_deployments import _codedeploy_rows, _ecs_rows, _lambda_rows  # noqa: F401  (re-exported: tests build rows with them)
from .change_records import _frame, _is_read_only, _row_from_record, parse_cloudtrail_records
from ..errors import (
    AccessDeniedError,
    AwsError,
    BadWindowError,
    IncompleteDataWarning,
    NotFoundError,
    ParameterError,
    ThrottledError,
)
from ..window import Window, now_utc
from ..window import as_window as _as_window

__all__ = [
    "timeline",
    "parse_cloudtrail_records",
    "classify",
    "normalize_event_name",
    "changed_by",
    "SOURCES",
    "CLOUDTRAIL_RETENTION",
    "LOOKUP_MIN_INTERVAL_S",
]

logger = logging.getLogger(__name__)

#: The sources :func:`timeline` can read.
SOURCES = ("cloudtrail", "codedeploy", "lambda", "ecs")
#: How far back CloudTrail LookupEvents can see.
CLOUDTRAIL_RETENTION = pd.Timedelta(days=90)
#: LookupEvents allows 2 requests per second per account and region: keep calls this far apart.
LOOKUP_MIN_INTERVAL_S = 0.5
#: Events a LookupEvents page holds at most.
LOOKUP_PAGE_SIZE = 50


def timeline(
    window: Window | tuple[Any, Any],
    *,
    resources: Mapping[str, Any] | None = None,
    sources: Sequence[str] = SOURCES,
    max_events: int | None = 10_000,
    lookup_attributes: Sequence[Mapping[str, str]] | None = None,
    session: boto3.Session | None = None,
    region: str | None = None,
    endpoint_url: str | None = None,
) -> pd.DataFrame:
    """What changed in ``window``: CloudTrail writes, deployments, function and service updates.

    Parameters
    ----------
    window:
        The window (a :class:`~incidentkit.window.Window` or a ``(start, end)`` pair).
    resources:
        The template parameters naming resources (see :mod:`incidentkit.fetch.health`):
        ``function_name`` (Lambda versions), ``ecs_cluster`` + ``ecs_service`` (ECS
        deployments), ``codedeploy_application`` (+ ``codedeploy_deployment_group``) to narrow
        CodeDeploy. Values may be a string, a comma-separated string or a list. CloudTrail
        is not narrowed: a security-group edit that broke a service rarely names it.
    sources:
        Any of :data:`SOURCES`. ``lambda`` and ``ecs`` need the matching ``resources``.
    max_events:
        Stop reading CloudTrail after this many events (at 50 a page and 2 pages a second,
        10,000 events take ~100 s). When the cap is hit the frame says so
        (``truncated``, ``issues``) and a warning is emitted; narrow the window or raise it.
    lookup_attributes:
        CloudTrail lookup attribute to use instead of ``ReadOnly=false`` (LookupEvents takes
        one), e.g. ``[{"AttributeKey": "EventSource", "AttributeValue": "ec2.amazonaws.com"}]``;
        read events it returns are dropped and counted.
    session, region, endpoint_url:
        AWS access (see :func:`incidentkit.fetch.aws.client`).

    Returns
    -------
    pandas.DataFrame
        :data:`~incidentkit.schema.CHANGE_COLUMNS`, sorted by time, with provenance in
        ``df.attrs`` (``api_calls``, ``retries``, ``complete``, ``truncated``, ``issues``,
        ``by_source``).

    Raises
    ------
    BadWindowError
        The window ends more than 90 days ago and only CloudTrail was asked for (read the
        trail's S3 records with :func:`parse_cloudtrail_records` instead). A window that starts
        more than 90 days ago is clipped for CloudTrail, and the frame says so.
    NoCredentialsError, EndpointError
        Nothing can be read. A source the caller may not read (AccessDenied), or a named
        resource that does not exist, is reported in ``issues`` and the others still come.

    Example
    -------
    >>> from incidentkit.fetch import changes
    >>> from incidentkit import Window
    >>> w = Window.parse("-2h", "now")                                  # doctest: +SKIP
    >>> df = changes.timeline(w, resources={"function_name": "api"})   # doctest: +SKIP
    >>> df[df["class"] == "SECURITY_CHANGE"]                            # doctest: +SKIP
    """
    win = _as_window(window)
    unknown = [s for s in sources if s not in SOURCES]
    if unknown:
        raise ParameterError(f"unknown change source(s) {unknown}; use any of {list(SOURCES)}")
    if max_events is not None and max_events < 1:
        raise ParameterError(f"max_events must be at least 1 (or None for no cap), got {max_events}")
    res = dict(resources or {})
    stats = _Stats()
    started = time.monotonic()
    rows: list[dict[str, Any]] = []
    client_kw = {"session": session, "region": region, "endpoint_url": endpoint_url}
    errors: list[AwsError] = []
    opts = {"max_events": max_events, "lookup_attributes": list(lookup_attributes) if lookup_attributes else None}

    used_region = region or (session.region_name if session is not None else None)

    def assemble() -> pd.DataFrame:
        df = _frame(rows)
        if not df.empty:
            df = df.drop_duplicates(ignore_index=True)
        df.attrs.update(
            schema.provenance(
                "changes.timeline",
                query={"sources": list(sources), "resources": {k: resource_names(v) for k, v in res.items()},
                       "lookup_attributes": list(lookup_attributes or [{"AttributeKey": "ReadOnly", "AttributeValue": "false"}]),
                       "max_events": max_events},
                window=win,
                region=used_region,
                api_calls=stats.api_calls,
                retries=stats.retries,
                elapsed_s=time.monotonic() - started,
                complete=stats.complete,
                truncated=stats.truncated,
                issues=stats.issues,
                by_source=stats.by_source,
            )
        )
        return df

    for source in sources:
        fetch = _FETCHERS[source]
        try:
            got = fetch(win, res, stats, client_kw, opts)
        except (AccessDeniedError, NotFoundError, ThrottledError) as exc:
            errors.append(exc)
            stats.complete = False
            stats.issues.append(f"{source}: not collected: {exc}")
            rows.extend(getattr(exc, "rows_so_far", []))  # pages read before the failure are kept
            continue
        except AwsError as exc:  # nothing more can be read (no credentials, no endpoint): the error carries what was
            stats.complete = False
            stats.issues.append(f"{source}: fetch failed: {exc}")
            rows.extend(getattr(exc, "rows_so_far", []))
            exc.partial = assemble()  # type: ignore[attr-defined]
            raise
        stats.by_source.setdefault(source, {"api_calls": 0, "rows": 0})["rows"] = len(got)
        rows.extend(got)

    if errors and len(errors) == len(sources):
        errors[0].partial = assemble()  # type: ignore[attr-defined]
        raise errors[0]
    df = assemble()
    if stats.issues:
        warnings.warn("change timeline incomplete: " + "; ".join(stats.issues), IncompleteDataWarning, stacklevel=2)
    return df


# the pacer is module-level: the 2-TPS limit is per account and region, not per call
_lookup_pacer = _Pacer(LOOKUP_MIN_INTERVAL_S)


def _fetch_cloudtrail(win: Window, res: Mapping[str, Any], stats: _Stats, kw: Mapping[str, Any], opts: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The write events of ``win`` from CloudTrail LookupEvents, paced, de-duplicated and capped at ``max_events``."""
    max_events = opts.get("max_events")
    start, end = _lookup_span(win, stats)
    client = aws.client("cloudtrail", **kw)
    attrs = list(opts.get("lookup_attributes") or [{"AttributeKey": "ReadOnly", "AttributeValue": "false"}])
    params: dict[str, Any] = {
        "LookupAttributes": attrs,
        "StartTime": start.to_pydatetime(),
        "EndTime": end.to_pydatetime(),
        "MaxResults": LOOKUP_PAGE_SIZE,
    }
    rows: list[dict[str, Any]] = []
    seen_ids: set[str] = set()
    seen_tokens: set[str] = set()
    read_skipped = 0
    bad = 0
    while True:
        resp = _lookup_page(client, params, stats, win, rows)
        events = resp.get("Events") or []
        consumed, skipped, unreadable = _add_events(events, rows, seen_ids, max_events)
        read_skipped += skipped
        bad += unreadable
        token = resp.get("NextToken")
        if _last_page(token, consumed < len(events), len(rows), max_events, seen_tokens, stats):
            break
        seen_tokens.add(token)
        params["NextToken"] = token
    if bad:
        stats.complete = False
        stats.issues.append(f"cloudtrail: {bad} event(s) had an unreadable CloudTrailEvent; kept with the lookup fields only")
    if read_skipped:
        stats.by_source.setdefault("cloudtrail", {"api_calls": 0, "rows": 0})["read_only_skipped"] = read_skipped
    return rows


def _lookup_span(win: Window, stats: _Stats) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The part of ``win`` LookupEvents still keeps (the last 90 days); a clipped start is an issue, none at all an error."""
    now = now_utc()
    oldest = now - CLOUDTRAIL_RETENTION
    start, end = win.start, win.end
    if end <= oldest:
        raise BadWindowError(
            f"CloudTrail LookupEvents keeps 90 days and the window ends {end.isoformat()}, before {oldest.isoformat()}; "
            "read the trail's records from S3 or CloudWatch Logs and use changes.parse_cloudtrail_records",
            window=str(win),
        )
    if start < oldest:
        stats.complete = False
        stats.issues.append(
            f"cloudtrail: window clipped to the last 90 days: events before {oldest.floor('s').isoformat()} are not included "
            "(LookupEvents keeps 90 days; use parse_cloudtrail_records on the trail's S3 records)"
        )
        start = oldest
    return start, end


def _lookup_page(client: Any, params: Mapping[str, Any], stats: _Stats, win: Window, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """One LookupEvents page, paced; a failure carries the rows already read (``rows_so_far``)."""
    _lookup_pacer.wait()
    try:
        return _call(client, "lookup_events", stats, "cloudtrail", {"window": str(win)}, **params)
    except AwsError as exc:
        exc.rows_so_far = rows  # type: ignore[attr-defined]  # the pages already read stay evidence
        raise


def _add_events(
    events: Sequence[Mapping[str, Any]], rows: list[dict[str, Any]], seen_ids: set[str], max_events: int | None
) -> tuple[int, int, int]:
    """Append the rows of a page's new write events to ``rows``, up to ``max_events``: (events consumed, read-only skipped, unreadable)."""
    consumed = read_skipped = bad = 0
    for ev in events:
        consumed += 1
        eid = ev.get("EventId")
        if eid and eid in seen_ids:
            continue
        if eid:
            seen_ids.add(eid)
        raw = ev.get("CloudTrailEvent")
        try:
            record = json.loads(raw) if isinstance(raw, str) else dict(raw or {})
        except ValueError:
            bad += 1
            record = {}
        if _is_read_only(record, ev.get("ReadOnly")) and record:
            read_skipped += 1
            continue
        rows.append(_row_from_record(record, event_time=ev.get("EventTime"), lookup=ev))
        if max_events is not None and len(rows) >= max_events:
            break
    return consumed, read_skipped, bad


def _last_page(
    token: str | None, page_cut: bool, n_rows: int, max_events: int | None, seen_tokens: set[str], stats: _Stats
) -> bool:
    """Whether paging stops here: the cap reached (truncated if events remain), no token, or a token seen before."""
    if max_events is not None and n_rows >= max_events:
        if token or page_cut:
            stats.truncated = True
            stats.complete = False
            stats.issues.append(
                f"cloudtrail: stopped after max_events={max_events} events; later events in the window are not included "
                "(narrow the window or raise max_events)"
            )
        return True
    if not token:
        return True
    if token in seen_tokens:
        stats.complete = False
        stats.issues.append("cloudtrail: LookupEvents returned a NextToken it had already returned; stopped paging")
        return True
    return False


_FETCHERS: dict[str, Callable[..., list[dict[str, Any]]]] = {
    "cloudtrail": _fetch_cloudtrail,
    "codedeploy": _fetch_codedeploy,
    "lambda": _fetch_lambda,
    "ecs": _fetch_ecs,
}
