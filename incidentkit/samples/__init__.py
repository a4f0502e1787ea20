"""Sample incidents: deterministic, realistic raw evidence for every incident of the catalogue.

Each sample is what an investigator would pull from AWS for one incident of
``incidents.md`` (or for a healthy window): raw CloudWatch Logs events in the formats AWS
services and common libraries really write, CloudWatch metric datapoints (period 60 s,
the metric and dimension names CloudWatch uses), the change timeline read from CloudTrail
records, the configuration as describe calls return it, and health snapshots. Windows are
fixed past dates in 2026, so results are reproducible; the same name and seed give the same
frames.

Use them to try the kit offline, in tests, and in the demo::

    >>> from incidentkit import samples
    >>> s = samples.load("cold-start-tail")
    >>> s.finding_id, s.incident
    ('cold-start-tail', 7)
    >>> sorted(s.parameters)[:2]
    ['api_id', 'api_name']

The healthy samples (``healthy-*``) are calibration negatives: normal traffic with a
realistic trickle of errors, cold starts, a few throttles and deploys that cause nothing.
A kit that raises a finding of severity medium or above on them is mis-calibrated.

Health frames (``Sample.health``), when present, named and shaped like the frames of
:func:`incidentkit.fetch.health.snapshot` (plus a ``timestamp``, since a sample holds observations
over time rather than one snapshot):

* ``target_health`` — DescribeTargetHealth observations: ``timestamp``, ``target_group_arn``,
  ``target_id``, ``port``, ``availability_zone``, ``state`` (``healthy``, ``unhealthy``,
  ``draining``, ``initial``, ``unused``), ``reason`` (``Target.Timeout``, ...), ``description``;
  one row per state change;
* ``route53_checkers`` — GetHealthCheckStatus observations: ``timestamp``, ``health_check_id``,
  ``region``, ``checker_ip``, ``checked_at``, ``status`` (``Success: HTTP Status Code 200, OK``,
  ``Failure: Connection timed out. ...``), ``healthy``;
* ``ecs_events`` — DescribeServices events: ``timestamp``, ``cluster``, ``service``, ``message``.
"""

from __future__ import annotations

import difflib
import importlib
from typing import NamedTuple

import pandas as pd

from ..errors import ParameterError
from ._core import ECS_EVENT_COLUMNS, ROUTE53_CHECKER_COLUMNS, TARGET_HEALTH_COLUMNS, Sample

__all__ = ["Sample", "names", "load", "all", "find", "catalog", "expected", "misses", "HEALTH_FRAMES", "ONSET_TOLERANCE"]

#: Names of the optional health frames and their columns.
HEALTH_FRAMES: dict[str, tuple[str, ...]] = {
    "target_health": TARGET_HEALTH_COLUMNS,
    "route53_checkers": ROUTE53_CHECKER_COLUMNS,
    "ecs_events": ECS_EVENT_COLUMNS,
}


class _Entry(NamedTuple):
    target: str  # "module:function"
    finding_id: str | None
    incident: int | None
    title: str
    expect: tuple[tuple[str, str], ...] = ()  # beyond the catalogue: what the generic finding must say (see expected())


# name -> generator (imported only when the sample is loaded)
_REGISTRY: dict[str, _Entry] = {
    "version-skew-errors": _Entry("._apis:version_skew_errors", "version-skew-errors", 1, "403 storm at 3 AM"),
    "cold-start-timeouts": _Entry("._apis:cold_start_timeouts", "cold-start-timeouts", 2, "5XX surge under peak traffic"),
    "healthcheck-blocked-by-change": _Entry(
        "._network:healthcheck_blocked_by_change", "healthcheck-blocked-by-change", 3,
        "Route 53 failed over to an unready region",
    ),
    "connection-pool-leak": _Entry("._rds:connection_pool_leak", "connection-pool-leak", 4, '"connection pool exhausted"'),
    "throttling-without-backoff": _Entry(
        "._dynamodb:throttling_without_backoff", "throttling-without-backoff", 5, '"Rate exceeded" killed a batch job'
    ),
    "health-check-flapping": _Entry(
        "._alb:health_check_flapping", "health-check-flapping", 6, "ALB marks healthy instances unhealthy"
    ),
    "cold-start-tail": _Entry("._apis:cold_start_tail", "cold-start-tail", 7, "P99 at 8 s in quiet hours, P50 200 ms"),
    "scan-read-burst": _Entry(
        "._dynamodb:scan_read_burst", "scan-read-burst", 8, "ProvisionedThroughputExceeded during the daily report"
    ),
    "aggressive-health-checks": _Entry(
        "._alb:aggressive_health_checks", "health-check-flapping", 9, "aggressive health checks"
    ),
    "deregistration-delay-too-short": _Entry(
        "._alb:deregistration_delay_too_short", "deregistration-delay-too-short", 10, "502s on every blue/green deploy"
    ),
    "deregistration-delay-from-s3": _Entry(
        "._s3alb:s3_objects_sample", "deregistration-delay-too-short", 10,
        "502s on every blue/green deploy, the ALB's access log read from S3",
    ),
    "partial-change-no-rollback": _Entry(
        "._network:partial_change_no_rollback", "partial-change-no-rollback", 11,
        "deploy script left security groups half-changed",
    ),
    # beyond the catalogue: causes the generic findings localise (incidents.md, "Beyond the catalogue")
    "oom-after-deploy": _Entry("._uncatalogued:oom_after_deploy", "error-spike", None,
                               "out-of-memory kills after a deploy (Python Lambda)",
                               (("onset", "2026-07-21T14:02:03Z"), ("signature", "signal: killed"),
                                ("where", "POST /v1/export"))),
    "dependency-timeout": _Entry("._services:dependency_timeout", "error-spike", None,
                                 "a downstream dependency times out for one route (Node.js on ECS)",
                                 (("onset", "2026-10-06T09:17:30Z"), ("signature", "timed out after"),
                                  ("where", "POST /v2/quotes"))),
    "missing-config-key": _Entry("._uncatalogued:missing_config_key", "error-spike", None,
                                 "a deploy shipped a missing configuration key (Java on ECS)",
                                 (("onset", "2026-08-04T10:15:30Z"), ("signature", "Missing required configuration key"),
                                  ("where", "POST /api/invoices/{id}/finalize"))),
    "slow-code-path": _Entry("._services:slow_code_path", "latency-regression", None,
                             "a slower code path in a new version (Go on ECS)",
                             (("onset", "2026-09-09T16:06:35Z"), ("where", "GET /v1/search"))),
    "healthy-lambda-api": _Entry("._apis:healthy_lambda_api", None, None, "healthy HTTP API on Lambda, with a normal deploy"),
    "healthy-alb-service": _Entry(
        "._alb:healthy_alb_service", None, None, "healthy ECS service behind an ALB and Route 53, with a rolling deploy"
    ),
    "healthy-dynamodb-batch": _Entry(
        "._dynamodb:healthy_dynamodb_batch", None, None, "healthy nightly DynamoDB import with backoff and autoscaling"
    ),
    "healthy-rds-app": _Entry("._rds:healthy_rds_app", None, None, "healthy ECS app on RDS PostgreSQL, pool in bounds"),
    "healthy-ecs-deploy": _Entry(
        "._services:healthy_ecs_deploy", None, None,
        "healthy Node.js service on ECS: a routine deploy, cold tasks, scanners' 404s",
    ),
}


def names(*, healthy: bool | None = None) -> list[str]:
    """Names of the samples: the catalogue's incidents (in incidents.md order), the causes beyond
    the catalogue (found as ``error-spike`` / ``latency-regression``), then the healthy windows.

    Parameters
    ----------
    healthy:
        ``True``: only healthy windows; ``False``: only incidents (catalogued and beyond); ``None``: all.

    Example
    -------
    >>> names()[0], names(healthy=False)[12], names(healthy=True)[0]
    ('version-skew-errors', 'oom-after-deploy', 'healthy-lambda-api')
    """
    incidents = [n for _, n in sorted((e.incident, n) for n, e in _REGISTRY.items() if e.incident is not None)]
    beyond = [n for n, e in _REGISTRY.items() if e.incident is None and e.finding_id is not None]
    ok = [n for n, e in _REGISTRY.items() if e.finding_id is None]
    if healthy is True:
        return ok
    if healthy is False:
        return incidents + beyond
    return incidents + beyond + ok


def _did_you_mean(value: str, options: list[str]) -> str:
    close = difflib.get_close_matches(value, options, n=3, cutoff=0.5)
    if close:
        return f"did you mean {' or '.join(repr(c) for c in close)}?"
    return f"use one of {', '.join(options)}"


def load(name: str, *, seed: int = 0, scale: float = 1.0) -> Sample:
    """Generate one sample.

    Parameters
    ----------
    name:
        A name from :func:`names`.
    seed:
        Random seed; the same name and seed give identical frames.
    scale:
        Multiplies the traffic volume (for benchmarks); the story keeps its shape.

    Raises
    ------
    ParameterError
        For an unknown name (with a "did you mean"), a negative seed or a scale <= 0.

    Example
    -------
    >>> s = load("version-skew-errors")
    >>> s.incident, s.window.start.isoformat()
    (1, '2026-03-10T02:30:00+00:00')
    """
    if not isinstance(name, str) or name not in _REGISTRY:
        raise ParameterError(f"no sample named {name!r}; {_did_you_mean(str(name), names())}", sample=name)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ParameterError(f"seed must be a non-negative integer, got {seed!r}")
    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not scale > 0 or scale != scale:
        raise ParameterError(f"scale must be a number > 0, got {scale!r}")
    entry = _REGISTRY[name]
    module, _, func = entry.target.partition(":")
    generator = getattr(importlib.import_module(module, __name__), func)
    sample: Sample = generator(seed=seed, scale=float(scale))
    return sample


def all(*, seed: int = 0, scale: float = 1.0, healthy: bool | None = None) -> list[Sample]:  # noqa: A001 - contract name
    """Generate every sample (see :func:`names` for ``healthy``).

    Example
    -------
    >>> len(all(healthy=False))
    16
    """
    return [load(n, seed=seed, scale=scale) for n in names(healthy=healthy)]


def find(finding_id: str, *, seed: int = 0, scale: float = 1.0) -> Sample:
    """The sample of a finding id of incidents.md.

    ``health-check-flapping`` names two incidents (6 and 9); its own sample is incident 6,
    ``load("aggressive-health-checks")`` is the other.

    Raises
    ------
    ParameterError
        When no sample has that finding id (with a "did you mean").

    Example
    -------
    >>> find("scan-read-burst").incident
    8
    """
    ids = sorted({e.finding_id for e in _REGISTRY.values() if e.finding_id})
    if not isinstance(finding_id, str) or finding_id not in ids:
        raise ParameterError(f"no sample for finding {finding_id!r}; {_did_you_mean(str(finding_id), ids)}", finding=finding_id)
    if finding_id in _REGISTRY:
        return load(finding_id, seed=seed, scale=scale)
    name = next(n for n, e in _REGISTRY.items() if e.finding_id == finding_id)
    return load(name, seed=seed, scale=scale)


#: How far a generic finding's onset may be from the moment the sample's story starts hurting: a few one-minute
#: bins, since the first bad requests of a rolling deploy or a degrading dependency are sparse.
ONSET_TOLERANCE = pd.Timedelta(minutes=3)


def expected(name: str) -> dict[str, str]:
    """What the generic finding of a sample beyond the catalogue must say (empty for the others).

    Keys: ``onset`` (ISO UTC; the finding's onset within :data:`ONSET_TOLERANCE`), ``signature``
    (a text the named signature holds), ``where`` (the value the bad requests concentrate in,
    the evidence's ``concentrated_value``).

    Example
    -------
    >>> expected("oom-after-deploy")["where"], expected("cold-start-tail")
    ('POST /v1/export', {})
    """
    if name not in _REGISTRY:
        raise ParameterError(f"no sample named {name!r}; {_did_you_mean(str(name), names())}", sample=name)
    return dict(_REGISTRY[name].expect)


def misses(name: str, finding: dict | None) -> list[str]:
    """What a finding (as findings.json holds it) gets wrong of :func:`expected`; empty when it is right.

    Example
    -------
    >>> misses("slow-code-path", {"id": "latency-regression", "onset": "2026-09-09T16:08:00Z",
    ...                           "evidence": {"concentrated_value": "GET /v1/search"}})
    []
    >>> misses("slow-code-path", {"onset": "2026-09-09T16:30:00Z", "evidence": {}})[0]
    'onset 2026-09-09T16:30:00Z, expected 2026-09-09T16:06:35Z ± 3 min'
    """
    want = expected(name)
    if not want:
        return []
    if not finding:
        return ["no finding"]
    ev = finding.get("evidence") or {}
    out = []
    onset = pd.to_datetime(finding.get("onset"), utc=True, errors="coerce")
    if "onset" in want and (pd.isna(onset) or abs(onset - pd.Timestamp(want["onset"])) > ONSET_TOLERANCE):
        out.append(f"onset {finding.get('onset')}, expected {want['onset']} ± {int(ONSET_TOLERANCE.total_seconds() // 60)} min")
    if "signature" in want and want["signature"] not in str(ev.get("template", "")):
        out.append(f"signature {ev.get('template')!r}, expected one with {want['signature']!r}")
    if "where" in want and str(ev.get("concentrated_value")) != want["where"]:
        out.append(f"concentrated in {ev.get('concentrated_value')!r}, expected {want['where']!r}")
    return out


def catalog() -> pd.DataFrame:
    """The samples without generating them: ``name``, ``incident``, ``finding_id``, ``title``.

    Example
    -------
    >>> catalog().shape[0] == len(names())
    True
    """
    rows = [
        {"name": n, "incident": _REGISTRY[n].incident, "finding_id": _REGISTRY[n].finding_id, "title": _REGISTRY[n].title}
        for n in names()
    ]
    df = pd.DataFrame(rows, columns=["name", "incident", "finding_id", "title"])
    df["incident"] = df["incident"].astype("Int64")
    for c in ("name", "finding_id", "title"):
        df[c] = df[c].astype("string")
    return df

