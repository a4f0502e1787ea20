"""Security groups against the Route 53 health checkers: can the checkers reach each health check's port?

Example
-------
>>> rules = '[{"IpProtocol":"-1","IpRanges":[{"CidrIp":"0.0.0.0/0"}]}]'
>>> s = pd.DataFrame({"resource_type": ["security_group", "route53_health_check"],
...     "resource_id": ["sg-1", "hc-1"], "setting": ["IpPermissions", "Type"], "value": [rules, "HTTPS"]})
>>> check_route53_access(s)
[]
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
from typing import Any, Mapping, Sequence

import pandas as pd  # noqa: F401 - the docstring examples use pd

from .inputs import _Settings
from .ip_ranges import IpRanges, load_ip_ranges
from .results import AuditResult, not_checked

__all__ = ["check_route53_access", "DEFAULT_CHECKER_REGIONS", "ROUTE53_HEALTHY_SHARE"]

#: Regions Route 53 checks from when a health check names none.
DEFAULT_CHECKER_REGIONS = ("us-east-1", "us-west-1", "us-west-2", "eu-west-1", "ap-southeast-1", "ap-southeast-2",
                           "ap-northeast-1", "sa-east-1")
#: Route 53 calls an endpoint healthy when more than this share of its checkers succeed.
ROUTE53_HEALTHY_SHARE = 0.18
_DEFAULT_HC_PORT = {"HTTP": 80, "HTTP_STR_MATCH": 80, "HTTPS": 443, "HTTPS_STR_MATCH": 443}
_NO_ENDPOINT_TYPES = {"CALCULATED", "CLOUDWATCH_METRIC", "RECOVERY_CONTROL"}


def _allowed_networks(perms: Sequence[Mapping[str, Any]], port: int) -> tuple[list[Any], list[Any], list[str]]:
    """CIDRs (v4, v6) the ingress rules allow on TCP ``port``, and prefix lists they reference there."""
    v4: list[Any] = []
    v6: list[Any] = []
    prefix_lists: list[str] = []
    for p in perms:
        proto = str(p.get("IpProtocol", "")).lower()
        if proto not in ("tcp", "6", "-1", "all"):
            continue
        if proto not in ("-1", "all"):
            lo, hi = p.get("FromPort"), p.get("ToPort")
            if lo is None or hi is None or not (int(lo) <= port <= int(hi)):
                continue
        for r in p.get("IpRanges") or []:
            try:
                v4.append(ipaddress.IPv4Network(r.get("CidrIp"), strict=False))
            except (ValueError, TypeError):
                pass
        for r in p.get("Ipv6Ranges") or []:
            try:
                v6.append(ipaddress.IPv6Network(r.get("CidrIpv6"), strict=False))
            except (ValueError, TypeError):
                pass
        prefix_lists.extend(str(r.get("PrefixListId")) for r in p.get("PrefixListIds") or [] if r.get("PrefixListId"))
    return list(ipaddress.collapse_addresses(v4)), list(ipaddress.collapse_addresses(v6)), prefix_lists


def _covered_share(net: Any, allowed: Sequence[Any]) -> float:
    """Share of ``net``'s addresses inside the (collapsed) ``allowed`` networks."""
    total = 0
    for a in allowed:
        if net.subnet_of(a):
            return 1.0
        if a.subnet_of(net):
            total += a.num_addresses
    return total / net.num_addresses


def check_route53_access(settings: Any, ip_ranges: Any = None) -> list[AuditResult]:
    """Do the security groups let the Route 53 health checkers reach each health check's port?

    Judged on the union of the ingress rules of every ``security_group`` in the settings (an
    endpoint's security groups add up) against the ``ROUTE53_HEALTHCHECKS`` ranges of the
    regions the check uses (its ``Regions``, else every default checker region) plus the
    GLOBAL ``15.177.0.0/18``. Route 53 calls an endpoint healthy only when more than 18 % of
    its checkers succeed: blocking (nearly) all of them fails the check although the service
    is fine — incident 3, where a security-group change failed traffic over to an unready
    region. ``high`` when the check will fail, ``medium`` when some regions are blocked,
    ``low`` when rules reference prefix lists the audit cannot resolve.

    Example
    -------
    >>> rules = '[{"IpProtocol":"tcp","FromPort":443,"ToPort":443,"IpRanges":[{"CidrIp":"10.0.0.0/8"}]}]'
    >>> s = pd.DataFrame({"resource_type": ["security_group", "route53_health_check", "route53_health_check"],
    ...     "resource_id": ["sg-1", "hc-1", "hc-1"], "setting": ["IpPermissions", "Type", "Port"],
    ...     "value": [rules, "HTTPS", "443"]})
    >>> [(r.check_id, r.severity) for r in check_route53_access(s)]
    [('sg-blocks-route53-checkers', 'high')]
    """
    st = _Settings(settings)
    groups = st.resources("security_group")
    checks = st.resources("route53_health_check")
    if not groups or not checks:
        return []
    perms, missing_rules = _ingress_rules(st, groups)
    if missing_rules and len(missing_rules) == len(groups):
        return [not_checked(",".join(groups), "security-group rules were not collected (ec2:DescribeSecurityGroups)")]
    ranges = load_ip_ranges(ip_ranges)
    out: list[AuditResult] = []
    for hc in checks:
        htype = st.get("route53_health_check", hc, "Type") or ""
        if htype in _NO_ENDPOINT_TYPES or (st.get("route53_health_check", hc, "Disabled") or "").lower() == "true":
            continue
        port_num = st.num("route53_health_check", hc, "Port") or _DEFAULT_HC_PORT.get(htype)
        if port_num is None:
            out.append(not_checked(hc, "the health check's port is unknown"))
            continue
        ip = st.get("route53_health_check", hc, "IPAddress") or ""
        reach = _reach(hc, int(port_num), ":" in ip, _checker_regions(st, hc), perms, ranges)
        if reach.blocked_regions or reach.partial_regions:
            out.append(_result(reach, groups, ranges))
    return out


def _ingress_rules(st: _Settings, groups: Sequence[str]) -> tuple[list[Mapping[str, Any]], list[str]]:
    """The ingress rules of every security group (they add up), and the groups whose rules were not collected."""
    perms: list[Mapping[str, Any]] = []
    missing_rules = []
    for g in groups:
        raw = st.get("security_group", g, "IpPermissions")
        if raw is None:
            missing_rules.append(g)
            continue
        try:
            perms.extend(json.loads(raw))
        except ValueError:
            missing_rules.append(g)
    return perms, missing_rules


def _checker_regions(st: _Settings, hc: str) -> list[str]:
    """The regions the health check is made from: its ``Regions``, else every default checker region."""
    try:
        return json.loads(st.get("route53_health_check", hc, "Regions") or "[]") or list(DEFAULT_CHECKER_REGIONS)
    except ValueError:
        return list(DEFAULT_CHECKER_REGIONS)


@dataclasses.dataclass(frozen=True)
class _Reach:
    """Which checker regions and ranges the rules block for one health check."""

    hc: str
    port: int
    v6: bool
    regions: list[str]
    required: list[tuple[Any, str]]
    blocked_regions: list[str]
    partial_regions: list[str]
    blocked_ranges: list[Any]
    prefix_lists: list[str]


def _reach(hc: str, port: int, v6: bool, regions: list[str], perms: Sequence[Mapping[str, Any]], ranges: IpRanges) -> _Reach:
    """The checker regions the ingress rules block (wholly or in part) on TCP ``port``."""
    allowed4, allowed6, plists = _allowed_networks(perms, port)
    allowed = allowed6 if v6 else allowed4
    required = ranges.for_regions(regions, v6=v6)
    coverage = {str(net): _covered_share(net, allowed) for net, _ in required}
    # A checker region uses its own ranges and the GLOBAL 15.177.0.0/18; AWS does not say
    # which addresses a given check comes from, so a region is "blocked" when neither is
    # allowed and "partial" when one of them is.
    global_nets = [n for n, r in required if r == "GLOBAL"]
    global_ok = all(coverage[str(n)] >= 1.0 for n in global_nets)
    global_none = all(coverage[str(n)] == 0.0 for n in global_nets)
    blocked_regions, partial_regions = [], []
    for region in regions:
        own = [n for n, r in required if r == region]
        own_ok = all(coverage[str(n)] >= 1.0 for n in own)
        own_none = all(coverage[str(n)] == 0.0 for n in own)
        if own_ok and global_ok:
            continue
        if (own_none or not own) and global_none:
            blocked_regions.append(region)
        else:
            partial_regions.append(region)
    blocked_ranges = [n for n, _ in required if coverage[str(n)] < 1.0]
    return _Reach(hc, port, v6, regions, required, blocked_regions, partial_regions, blocked_ranges, plists)


def _result(reach: _Reach, groups: Sequence[str], ranges: IpRanges) -> AuditResult:
    """The flagged configuration: severity, evidence, what it does and the fix."""
    hc, port, regions, plists = reach.hc, reach.port, reach.regions, reach.prefix_lists
    blocked_regions, partial_regions, blocked_ranges = reach.blocked_regions, reach.partial_regions, reach.blocked_ranges
    passing_share = 1 - len(blocked_regions) / len(regions)
    will_fail = passing_share <= ROUTE53_HEALTHY_SHARE
    if plists:
        severity = "low"
    elif will_fail:
        severity = "high"
    else:
        severity = "medium"
    family = "IPv6" if reach.v6 else "IPv4"
    evidence = {
        "health_check_id": hc, "port": port, "security_groups": ",".join(groups), "ip_family": family,
        "checker_regions": len(regions), "blocked_regions": len(blocked_regions),
        "blocked_regions_text": ",".join(blocked_regions), "partly_blocked_regions": len(partial_regions),
        "partly_blocked_regions_text": ",".join(partial_regions), "blocked_ranges": len(blocked_ranges),
        "required_ranges": len(reach.required), "ip_ranges_date": ranges.create_date or "unknown",
    }
    if plists:
        evidence["unresolved_prefix_lists"] = ",".join(sorted(set(plists)))
    return AuditResult("sg-blocks-route53-checkers", f"{','.join(groups)} → {hc}", severity,
                       f"Security group(s) {', '.join(groups)}: {_what(reach, will_fail)}", evidence,
                       _fix(reach, groups[0], family, ranges))


def _what(reach: _Reach, will_fail: bool) -> str:
    """What the blocked checkers do to the health check, in a sentence or two."""
    hc, port, regions, plists = reach.hc, reach.port, reach.regions, reach.prefix_lists
    blocked_regions, partial_regions, blocked_ranges = reach.blocked_regions, reach.partial_regions, reach.blocked_ranges
    if will_fail:
        what = (f"the checkers of {len(blocked_regions)} of {len(regions)} regions cannot reach TCP {port}: "
                f"Route 53 needs more than 18 % of them to succeed, so health check {hc} fails although the "
                "service may be healthy, and DNS fails over (incident 3).")
    elif blocked_regions:
        what = (f"the checkers of {len(blocked_regions)} of {len(regions)} regions ({', '.join(blocked_regions)}) cannot "
                f"reach TCP {port}; health check {hc} still passes on the others, with less margin.")
    else:
        what = (f"only part of the checker ranges may reach TCP {port} ({len(blocked_ranges)} of {len(reach.required)} ranges "
                f"not allowed, affecting {', '.join(partial_regions)}): checks from the missing addresses fail, and "
                f"health check {hc} loses margin.")
    if plists:
        what += (f" The rules reference prefix list(s) {', '.join(sorted(set(plists)))} the audit does not resolve: "
                 "if one is com.amazonaws.<region>.route53-healthchecks, the checkers are allowed.")
    return what


def _fix(reach: _Reach, sg0: str, family: str, ranges: IpRanges) -> list[str]:
    """The remediation: the ingress rule to add to ``sg0`` (or the managed prefix list), and the review."""
    port, v6 = reach.port, reach.v6
    missing_cidrs = [str(n) for n in reach.blocked_ranges]
    shown = " ".join(f"{{CidrIp{'v6' if v6 else ''}={c},Description=Route53 health checkers}}" for c in missing_cidrs[:4])
    more = f" (and {len(missing_cidrs) - 4} more of the ranges listed in ip-ranges.json)" if len(missing_cidrs) > 4 else ""
    key = "Ipv6Ranges" if v6 else "IpRanges"
    return [
        f"Allow TCP {port} from the Route 53 health-checker {family} ranges ({len(missing_cidrs)} missing, "
        f"ip-ranges.json of {ranges.create_date}) in {sg0}:",
        f"aws ec2 authorize-security-group-ingress --group-id {sg0} --ip-permissions "
        f"'IpProtocol=tcp,FromPort={port},ToPort={port},{key}=[{shown}]'{more}",
        f"Or reference the AWS-managed prefix list com.amazonaws.<region>.{'ipv6.' if v6 else ''}route53-healthchecks "
        "(kept current by Route 53): aws ec2 describe-managed-prefix-lists --filters "
        f"Name=prefix-list-name,Values=com.amazonaws.<region>.{'ipv6.' if v6 else ''}route53-healthchecks",
        "Review security-group changes in the change timeline: a rule removed just before the failover is the cause, "
        "and changes to these groups should go through IaC with a rollback.",
    ]
