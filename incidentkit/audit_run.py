"""Audit what AWS or an evidence bundle holds: read the settings, then run the checks of
:mod:`incidentkit.findings.audit` on them.

The checks are pure functions of a settings frame and live with the findings; reading the
settings (describe calls through :func:`incidentkit.fetch.health.snapshot`) or replaying them
from a bundle (with the request durations an :class:`~incidentkit.investigation.Investigation`
holds) sits here, above both, so the checks import nothing that fetches.

Example
-------
>>> from incidentkit import audit_run
>>> results = audit_run.run({"table_name": "orders"}, region="eu-west-1")   # doctest: +SKIP
>>> rec = audit_run.recorded("runs/deploy-20260301T031500Z-3f2a1c")        # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any, Iterable, Mapping

import boto3
import pandas as pd

from . import schema
from .errors import EvidenceError, ParameterError
from .evidence import EvidenceBundle
from .fetch import health
from .findings.audit import AuditResult, audit_settings, load_ip_ranges, not_checked, observed_from_frame, worst_first
from .investigation import Investigation

__all__ = ["Recorded", "recorded", "run"]


def run(
    resources: Mapping[str, Any] | None = None,
    *,
    settings: Any = None,
    observed: Any = None,
    ip_ranges: Any = None,
    latency_sensitive: Iterable[str] | None = None,
    session: boto3.Session | None = None,
    region: str | None = None,
    endpoint_url: str | None = None,
) -> list[AuditResult]:
    """Audit the configuration of ``resources`` (read with describe calls), or of a settings frame.

    Parameters
    ----------
    resources:
        The resource parameters of :func:`incidentkit.fetch.health.snapshot` (``target_group_arn``,
        ``load_balancer``, ``function_name``, ``table_name``, ``health_check_id``,
        ``security_group_ids``, ...). Read-only describe calls collect their settings.
    settings:
        A settings frame or a :class:`~incidentkit.fetch.health.HealthSnapshot` instead of reading
        AWS (no call is made).
    observed, ip_ranges, latency_sensitive:
        See :func:`audit_settings`. ``ip_ranges`` may be a path or URL of ``ip-ranges.json``
        (``incidentkit audit --ip-ranges FILE_OR_URL``).
    session, region, endpoint_url:
        AWS access (see :func:`incidentkit.fetch.aws.client`).

    Returns
    -------
    list[AuditResult]
        Worst first. Resources that could not be read appear as ``not-checked`` (info).

    Example
    -------
    >>> results = run({"target_group_arn": "arn:aws:...", "table_name": "orders"},
    ...               observed={"p99_ms": 900, "p999_ms": 41000})          # doctest: +SKIP
    >>> print(audit.format_table(results))                                       # doctest: +SKIP
    """
    ranges = load_ip_ranges(ip_ranges)  # fail early on a bad --ip-ranges
    extra: list[AuditResult] = []
    if settings is None:
        if not resources:
            raise ParameterError("give resources to read, or a settings frame")
        snap = health.snapshot(resources, alarms=False, ip_ranges=ranges, session=session, region=region, endpoint_url=endpoint_url)
        settings = snap.settings
        for row in snap.summary.itertuples(index=False):
            if row.state == "not_collected" or str(row.reason).startswith("NotFound"):
                extra.append(not_checked(f"{row.resource_type} {row.resource_id}", str(row.reason)))
    results = audit_settings(settings, observed=observed, ip_ranges=ranges, latency_sensitive=latency_sensitive) + extra
    return worst_first(results)


@dataclasses.dataclass
class Recorded:
    """What an evidence bundle holds for an audit: the settings and the request durations observed.

    Attributes
    ----------
    settings:
        The settings frames of the bundle, concatenated.
    observed:
        ``p99_ms``, ``p999_ms``, ``max_ms`` (and ``init_p99_ms``, ``cold_start_share`` when
        there were cold starts) of the requests in the bundle's incident and baseline windows;
        empty when the bundle holds none.
    note:
        One line saying what was observed, or why nothing was.
    """

    settings: pd.DataFrame
    observed: dict[str, float]
    note: str


def recorded(path: str | os.PathLike[str]) -> Recorded:
    """Read the settings and the observed request durations of an evidence bundle (or run folder).

    The same evidence that shows the settings shows how long requests took: the checks that
    compare a setting with durations (deregistration delay, health-check timeout, cold starts)
    are judged on them instead of being left unanswered.

    Raises
    ------
    EvidenceError
        The bundle holds no settings frame.

    Example
    -------
    >>> rec = recorded("runs/deploy-20260301T031500Z-3f2a1c")            # doctest: +SKIP
    >>> audit_settings(rec.settings, observed=rec.observed)               # doctest: +SKIP
    """
    bundle = EvidenceBundle.open(path)
    names = bundle.find("settings")
    if not names:
        raise EvidenceError(f"the evidence bundle at {bundle.path} holds no settings frame (it was recorded without resources)")
    settings = pd.concat([bundle.load(n) for n in names], ignore_index=True)
    if not bundle.context.get("window"):
        return Recorded(settings, {}, "no request durations: the bundle was not recorded by an investigation")
    try:
        inv = Investigation.open(bundle.path)
        frames = [inv.requests(window="incident")] + ([inv.requests(window="baseline")] if inv.baseline else [])
        requests = schema.concat([f for f in frames if len(f)] or frames[:1], ignore_index=True)
        observed = observed_from_frame(requests)
    except (EvidenceError, ParameterError) as exc:  # no log frame, or none with durations
        return Recorded(settings, {}, f"no request durations in the evidence ({' '.join(str(exc).split())})")
    note = (f"observed in the evidence: {int(observed.pop('requests')):,} request durations, p99 {observed['p99_ms'] / 1000:.1f} s, "
            f"p99.9 {observed['p999_ms'] / 1000:.1f} s, max {observed['max_ms'] / 1000:.1f} s (--observed overrides)")
    return Recorded(settings, observed, note)
