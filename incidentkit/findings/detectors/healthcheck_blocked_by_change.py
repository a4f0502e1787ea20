"""``healthcheck-blocked-by-change`` (incidents.md #3): Route 53 checks failed, the service did not.

The cause: a security-group, network-ACL or WAF change blocked the Route 53 health checkers, so
DNS failed over although the service was healthy. The evidence read: ``HealthCheckStatus`` (or
``HealthCheckPercentageHealthy``), the service's own metrics around the drop, the checkers'
reports, the check's settings (port, type), load-balancer traffic and the change timeline. It
fires on a health-check drop while the service signals stay healthy.

The steps: :func:`measure` (numbers from the analyses), :func:`judge` (severity and
confidence), :func:`explain` (the finding); :func:`detect` runs them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import pandas as pd

from ...analyses._common import iso_z, pct
from ...analyses.healthchecks import REGION_IN_TEXT, REMOVES_ACCESS, settings_table
from ...analyses.route53 import checker_failures, route53_drops, service_signals, traffic_by_load_balancer
from ...analyses.related import ChangeSpec, related_changes, sentence, targets_from
from ...analyses.related import evidence as related_evidence
from ...fetch.change_detail import ports_of
from ..model import Finding, Inputs
from ._common import MAX_CONFIDENCE, Score, Verdict, episodes_in_window, window_start

__all__ = ["ID", "NEEDS", "detect", "measure", "judge", "explain", "Measures", "HEALTHCHECK_BLOCKED_CHANGES"]

#: The finding id (incidents.md, the catalogue).
ID = "healthcheck-blocked-by-change"
#: The :class:`~incidentkit.findings.model.Inputs` fields this detector reads.
NEEDS: tuple[str, ...] = ("window", "metrics", "changes", "settings", "health", "resources")

#: How far before the drop a security change counts: a block fails the checkers within a few check intervals.
LOOKBACK = "60min"
#: The checkers' reports are read this long around the drop (they report every 10-30 s, with some lag).
CHECKER_MARGIN = pd.Timedelta(minutes=5)
#: Checkers that mostly (this share) got an HTTP error reached the service: it, not the path, failed.
HTTP_ERROR_SHARE = 0.5
#: Checkers that mostly time out point at dropped packets: a firewall.
TIMED_OUT_SHARE = 0.5
#: Confidence: a base for a drop while the service was not seen failing ...
BASE_CONFIDENCE = 0.3
#: ... the service's own signals judged healthy (two or more, or one) ...
SIGNALS_BONUS, ONE_SIGNAL_BONUS = 0.15, 0.05
#: ... a security change before the drop (within half an hour, or within :data:`LOOKBACK`) ...
RECENT_CHANGE_MIN, RECENT_CHANGE_BONUS, CHANGE_BONUS = 30.0, 0.3, 0.2
#: ... that removes access, on the checked port ...
REMOVES_ACCESS_BONUS, PORT_MATCH_BONUS = 0.05, 0.05
#: ... and checkers that time out.
TIMED_OUT_BONUS = 0.1
#: Without a security change the cause is not shown: at most this confident.
NO_CHANGE_MAX = 0.35
#: A load balancer whose request rate after the drop fell below this share of its rate before lost its traffic
#: (the one behind the failed check) ...
TRAFFIC_LEFT_RATIO = 0.5
#: ... and one whose rate rose above this multiple took it over (failover), beyond the minute-to-minute wobble.
TRAFFIC_MOVED_RATIO = 1.2


def _primary_load_balancer(shift: pd.DataFrame, fqdn: str | None) -> str | None:
    """The load balancer behind the failed check: the one whose traffic left after the drop, else the
    one whose name appears in the check's domain name; None when it cannot be told (one or no LB)."""
    if shift.empty:
        return None
    dropped = shift[shift["ratio"] < TRAFFIC_LEFT_RATIO]
    if len(dropped) == 1:
        return str(dropped["load_balancer"].iloc[0])
    if fqdn and len(shift) > 1:
        named = [lb for lb in shift["load_balancer"] if lb.split("/")[1:2] and lb.split("/")[1].lower() in fqdn.lower()]
        if len(named) == 1:
            return named[0]
    return None


def _r53_setting(settings: pd.DataFrame | None, hc: str, name: str) -> str | None:
    st = settings_table(settings)
    if st.empty:
        return None
    sel = st["setting"].str.lower() == name.lower()
    sel = sel & ~st["resource_type"].str.contains("target|load_balancer", case=False, na=False)
    rows = st[sel.fillna(False).to_numpy(dtype=bool)]
    if rows.empty:
        return None
    mine = rows[rows["resource_id"] == hc]
    return str((mine if not mine.empty else rows)["value"].iloc[0])


#: The changes that can explain ``healthcheck-blocked-by-change`` (see :mod:`.related`). The security group or NACL
#: in front of an endpoint is rarely named by the investigation, so these kinds also match unscoped; a block
#: fails the checkers within a few check intervals, so only changes shortly before the drop count.
HEALTHCHECK_BLOCKED_CHANGES = ChangeSpec("healthcheck-blocked-by-change", {
    "security-group": "a security-group edit can drop the health checkers' packets",
    "network-acl": "a network ACL entry can drop the health checkers' packets",
    "waf": "a WAF rule can block the health checkers' requests",
    "route53-health-check": "the health check itself was changed (port, path or protocol)",
}, unscoped={"security-group": "60min", "network-acl": "60min", "waf": "60min"}, within="60min")


#: The port Route 53 checks when the health check names none, by check type.
_R53_DEFAULT_PORT = {"HTTP": 80, "HTTP_STR_MATCH": 80, "HTTPS": 443, "HTTPS_STR_MATCH": 443}


def _checked_port(settings: pd.DataFrame | None, hc: str) -> tuple[int | None, str]:
    """The port the Route 53 check uses and where that comes from (``settings`` or the type's default)."""
    port = _r53_setting(settings, hc, "Port")
    try:
        if port is not None and str(port).strip():
            return int(float(port)), "settings"
    except ValueError:
        pass
    kind = str(_r53_setting(settings, hc, "Type") or "").upper()
    if kind in _R53_DEFAULT_PORT:
        return _R53_DEFAULT_PORT[kind], f"the {kind} default"
    return None, "unknown"


def _port_match(rec: dict[str, Any], port: int | None) -> bool | None:
    """Whether the change's rules cover the checked port: True, False, or None when either side is unknown."""
    ports = ports_of(rec)
    if port is None or not ports:
        return None
    return any(proto in ("tcp", "all") and lo <= port <= hi for proto, lo, hi in ports)


def _blocking_change(related: list[dict[str, Any]], port: int | None) -> tuple[dict[str, Any] | None, bool | None]:
    """The change most likely to have cut the checkers off: one that removes access on the checked port first."""
    if not related:
        return None, None
    scored = []
    for i, rec in enumerate(related):
        match = _port_match(rec, port)
        removes = bool(REMOVES_ACCESS.match(str(rec.get("api") or "")))
        scored.append(((not removes, {True: 0, None: 1, False: 2}[match], i), rec, match))
    _, rec, match = min(scored, key=lambda x: x[0])
    return rec, match


def _failover_text(evidence: dict[str, Any], settings: pd.DataFrame | None, hc: str) -> str:
    """What the data shows about traffic after the drop; a failover is claimed only when traffic moved."""
    if "traffic_moved_to" in evidence:
        return (f" Traffic moved: {evidence['primary_load_balancer']} fell from {evidence['primary_requests_per_min_before']:.0f} "
                f"to {evidence['primary_requests_per_min_after']:.0f} requests/min and {evidence['traffic_moved_to']} rose from "
                f"{evidence['secondary_requests_per_min_before']:.0f} to {evidence['secondary_requests_per_min_after']:.0f}: "
                "DNS failover sent the traffic of a healthy endpoint elsewhere.")
    if "primary_load_balancer" in evidence:
        return (f" Traffic at {evidence['primary_load_balancer']} fell from {evidence['primary_requests_per_min_before']:.0f} to "
                f"{evidence['primary_requests_per_min_after']:.0f} requests/min; where it went is not in the metrics read.")
    st = settings_table(settings)
    uses = st[(st["setting"].str.lower() == "healthcheckid") & (st["value"].astype("string") == hc)] if not st.empty else st
    if not uses.empty:
        failover = st[(st["resource_id"].isin(uses["resource_id"])) & (st["setting"].str.lower() == "failover")]
        if not failover.empty:
            return (f" A {str(failover['value'].iloc[0]).lower()} failover record uses this check, so Route 53 answers with "
                    "the other record while it fails; the metrics read do not show where traffic went.")
    return ""


def _blocked_summary(first: pd.Series, hc: str, svc_text: str, change: dict[str, Any] | None, port_match: bool | None,
                     port: int | None, checkers: dict[str, Any], timed_out: bool, reference: Any) -> str:
    minutes = float(first["duration_s"]) / 60
    text = (f"Route 53 health check {hc} went unhealthy at {iso_z(first['start'])} for about {minutes:.0f} min"
            + (f" (lowest {first['min_percentage_healthy']:.0f}% of checkers healthy)" if pd.notna(first["min_percentage_healthy"]) else "")
            + (f", while the service's own metrics stayed healthy ({svc_text})" if svc_text else ", with no sign of trouble in the service's own metrics")
            + ". ")
    if change is not None:
        text += sentence(change, reference=reference)
        if port_match is True:
            text += f" Its rules cover TCP {port}, the port the check uses."
        elif port_match is False:
            text += f" Its rules do not cover TCP {port}, the port the check uses."
        elif port is not None:
            text += " Which ports it touched is not in the record."
    else:
        text += ("No security change was found in the timeline (CloudTrail may lag by up to 15 minutes, or the change "
                 "was made outside the window).")
    if checkers["checkers"]:
        text += (f" {checkers['checkers_failed']} of {checkers['checkers']} checkers reported a failure "
                 f"({checkers['failed_observations']} failed observations)")
        text += (f", {pct(checkers['share_timed_out'], 0)} of them timeouts, the mark of dropped packets." if timed_out else ".")
    return text


@dataclass
class Measures:
    """The first drop of the check, the service's signals then, the checkers' reports, the security change before it."""

    first: pd.Series
    hc: str
    shift: pd.DataFrame
    primary: str | None
    svc: pd.DataFrame
    judged: pd.DataFrame
    checkers: dict[str, Any]
    port: int | None
    port_source: str
    related: list[dict[str, Any]]
    change: dict[str, Any] | None
    port_match: bool | None

    @property
    def timed_out(self) -> bool:
        return not math.isnan(self.checkers["share_timed_out"]) and self.checkers["share_timed_out"] >= TIMED_OUT_SHARE

    @property
    def lag_min(self) -> float:
        return float(self.change["lead_s"]) / 60.0 if self.change is not None else float("nan")


def measure(inputs: Inputs, *, lookback: str | pd.Timedelta = LOOKBACK) -> Measures | None:
    """The drop and what surrounds it; None without a drop, or when the service (or its answers to the checkers) failed."""
    drops = route53_drops(inputs.metrics)
    if drops.empty:
        return None
    drops = episodes_in_window(drops, inputs)
    first = drops.iloc[0]
    start = first["start"]
    hc = str(first["health_check_id"])
    shift = traffic_by_load_balancer(inputs.metrics, start)
    primary = _primary_load_balancer(shift, _r53_setting(inputs.settings, hc, "FullyQualifiedDomainName"))
    svc = service_signals(inputs.metrics, start, load_balancer=primary)
    judged = svc[svc["healthy"].notna()]
    if (judged["healthy"] == False).any():  # noqa: E712 - nullable boolean
        return None  # the service itself went bad: the check was right
    checkers = checker_failures(inputs.health, hc, start=start - CHECKER_MARGIN, end=first["end"] + CHECKER_MARGIN)
    if not math.isnan(checkers["share_http_error"]) and checkers["share_http_error"] >= HTTP_ERROR_SHARE:
        return None  # the endpoint answered with errors: the service, not the path, failed
    port, port_source = _checked_port(inputs.settings, hc)
    spec = replace(HEALTHCHECK_BLOCKED_CHANGES, within=str(pd.Timedelta(lookback)),
                   unscoped={k: str(pd.Timedelta(lookback)) for k in HEALTHCHECK_BLOCKED_CHANGES.unscoped})
    targets = targets_from(hc, kind="health_check") + targets_from(inputs.resources.get("security_group_ids"), kind="security_group")
    related = related_changes(inputs.changes, spec, targets, onset=start, window=inputs.window, slack="2min")
    change, port_match = _blocking_change(related, port)
    if change is not None:  # the most likely one leads the list
        related = [change] + [r for r in related if r is not change]
    return Measures(first=first, hc=hc, shift=shift, primary=primary, svc=svc, judged=judged, checkers=checkers, port=port,
                    port_source=port_source, related=related, change=change, port_match=port_match)


def judge(m: Measures) -> Verdict:
    """High with a security change before the drop; without one medium when the checkers time out, else low."""
    score = Score(BASE_CONFIDENCE, "the check dropped while the service was not seen failing")
    if len(m.judged) >= 2:
        score.add(SIGNALS_BONUS, "the service's own signals were healthy")
    elif len(m.judged) == 1:
        score.add(ONE_SIGNAL_BONUS, "one service signal was healthy")
    change = m.change
    if change is not None:
        score.add(RECENT_CHANGE_BONUS if m.lag_min <= RECENT_CHANGE_MIN else CHANGE_BONUS, "a security change before the drop")
        score.add(REMOVES_ACCESS_BONUS, "the change removes access", when=bool(REMOVES_ACCESS.match(str(change.get("api", "")))))
        score.add(PORT_MATCH_BONUS, "on the checked port", when=bool(m.port_match))
    score.add(TIMED_OUT_BONUS, "the checkers time out (dropped packets)", when=m.timed_out)
    if change is not None:
        return score.verdict("high", round(min(MAX_CONFIDENCE, score.value), 3))
    return score.verdict("medium" if m.timed_out else "low", round(min(MAX_CONFIDENCE, min(score.value, NO_CHANGE_MAX)), 3))


def _evidence(m: Measures, signals: dict[str, Any]) -> dict[str, Any]:
    first, judged, shift, primary, checkers = m.first, m.judged, m.shift, m.primary, m.checkers
    evidence: dict[str, Any] = {
        "health_check_id": m.hc,
        "unhealthy_from": first["start"],
        "unhealthy_for_s": float(first["duration_s"]),
        "min_status": first["min_status"],
        "min_percentage_healthy": first["min_percentage_healthy"],
        "service_signals_judged": int(len(judged)),
        "service_signals_healthy": int((judged["healthy"] == True).sum()),  # noqa: E712
    }
    if primary is not None:
        prow = shift[shift["load_balancer"] == primary].iloc[0]
        evidence.update({"primary_load_balancer": primary, "primary_requests_per_min_before": prow["before_per_min"],
                         "primary_requests_per_min_after": prow["after_per_min"]})
        others = shift[(shift["load_balancer"] != primary) & (shift["ratio"] > TRAFFIC_MOVED_RATIO)]
        if not others.empty:
            o = others.iloc[-1]
            evidence.update({"traffic_moved_to": o["load_balancer"], "secondary_requests_per_min_before": o["before_per_min"],
                             "secondary_requests_per_min_after": o["after_per_min"]})
    for name in ("error_rate", "unhealthy_hosts", "latency_p99_s", "requests_per_min", "apigw_error_rate", "lambda_error_rate"):
        if name in signals:
            evidence[f"{name}_before"] = signals[name]["before"]
            evidence[f"{name}_at_drop"] = signals[name]["during"]
    if m.change is not None:
        evidence.update(related_evidence(m.change))
        evidence.update({"minutes_before_drop": m.lag_min, "change_port_matches_check": m.port_match})
    evidence.update({"checked_port": m.port, "checked_port_from": m.port_source, "checkers": checkers["checkers"],
                     "checkers_reporting_failure": checkers["checkers_failed"],
                     "failed_checker_observations": checkers["failed_observations"],
                     "share_failures_timed_out": checkers["share_timed_out"]})
    return evidence


#: The service signals quoted in the summary, with how each reads.
_SIGNAL_LABELS = {"error_rate": ("5XX rate", lambda v: pct(v, 2)), "apigw_error_rate": ("API Gateway 5XX rate", lambda v: pct(v, 2)),
                  "lambda_error_rate": ("Lambda error rate", lambda v: pct(v, 2)),
                  "unhealthy_hosts": ("unhealthy hosts", lambda v: f"{v:.0f}"), "latency_p99_s": ("P99 latency", lambda v: f"{v:.2f} s")}


def _remediation(m: Measures) -> list[str]:
    change, port = m.change, m.port
    region = None
    if change is not None:
        found = REGION_IN_TEXT.search(str(change.get("detail", "") or ""))
        region = found.group(1) if found else None
    where = (f"security group {change.get('target')}" if change is not None and str(change.get("target", "")).startswith("sg-")
             else "the endpoint's security group / NACL")
    return [
        f"Let the Route 53 health checkers back in: in {where}, allow TCP {port if port is not None else '<checked port>'} from "
        f"the AWS-managed prefix list com.amazonaws.{region or '<region>'}.route53-healthchecks (or the ROUTE53_HEALTHCHECKS "
        "ranges of ip-ranges.json); `incidentkit audit` checks this.",
        (f"Review and revert the change: {change['description']}." if change is not None
         else "Find the change that cut the checkers off: CloudTrail security-group, NACL and WAF calls before the drop."),
        "Fail back only once the checkers report healthy again, and make failover harder to trigger by a blocked path alone: "
        "a calculated health check, or one tied to a CloudWatch alarm on the service's own 5XX rate and latency.",
        "Change security groups through IaC (CloudFormation change sets / terraform plan) with a check that health-checker "
        "access survives, and size or warm the secondary region so that a failover does not overload it.",
    ]


def explain(m: Measures, verdict: Verdict, inputs: Inputs) -> Finding:
    """The finding: the drop, the healthy service, the checkers' timeouts, the change on the checked port, the fix."""
    signals = {str(r["signal"]): r for _, r in m.svc.iterrows()}
    evidence = _evidence(m, signals)
    labels = _SIGNAL_LABELS
    svc_text = ", ".join(
        f"{labels[n][0]} {labels[n][1](signals[n]['during'])} (hour before {labels[n][1](signals[n]['before'])})"
        for n in labels if n in signals and pd.notna(signals[n]["during"]) and pd.notna(signals[n]["before"])
    )
    summary = (_blocked_summary(m.first, m.hc, svc_text, m.change, m.port_match, m.port, m.checkers, m.timed_out, window_start(inputs))
               + _failover_text(evidence, inputs.settings, m.hc))
    return Finding(
        id=ID,
        title="Route 53 health checkers blocked by a security change" if m.change is not None
        else "Route 53 health check failed while the service looked healthy",
        severity=verdict.severity,
        summary=summary,
        evidence=evidence,
        remediation=_remediation(m),
        confidence=verdict.confidence,
        related_changes=m.related,
        onset=iso_z(m.first["start"]),
    )


def detect(inputs: Inputs, *, lookback: str | pd.Timedelta = LOOKBACK) -> Finding | None:
    """``healthcheck-blocked-by-change``: Route 53 saw the endpoint fail while the service was fine, right after a security change.

    Needs a drop of ``HealthCheckStatus`` (or ``HealthCheckPercentageHealthy``) in the
    metrics. Stays silent when the service's own metrics went bad at that moment (then the
    check was right). Confidence grows with: the service signals judged healthy, a security
    change (security group, NACL, WAF) shortly before the drop, a change that removes access
    on the checked port, and checkers that time out (dropped packets) rather than get an
    HTTP error. Without any security change in the timeline the finding stays low (medium
    when the checkers' timeouts point at a firewall).

    The changes come from :data:`HEALTHCHECK_BLOCKED_CHANGES` in the ``lookback`` before the
    drop; the one that removes access on the checked port leads. The checked port is the
    check's ``Port``, else its type's default (80 for HTTP, 443 for HTTPS); the comparison is
    True, False, or unknown (None) when the change record names no port. The checkers are
    counted as distinct checkers with a failed observation around the drop. A DNS failover is
    claimed only when the load balancers' traffic shows it.

    Example
    -------
    >>> detect(Inputs()) is None
    True
    """

    measures = measure(inputs, lookback=lookback)
    return None if measures is None else explain(measures, judge(measures), inputs)
