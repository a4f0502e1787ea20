"""Security groups and their rules (they have no health of their own)."""

from __future__ import annotations

from .collector import _Collector


def _collect_security_groups(c: _Collector, ids: list[str]) -> None:
    groups = c.pages("ec2", "describe_security_groups", "SecurityGroups", "NextToken", "NextToken", GroupIds=ids)
    got = {g.get("GroupId") for g in groups}
    for gid in ids:
        if gid not in got:
            c.add_summary("security_group", gid, "unhealthy", "NotFound: no such security group (deleted, or a wrong id?)")
    for g in groups:
        gid = g.get("GroupId")
        c.add_setting("security_group", gid, "GroupName", g.get("GroupName"))
        c.add_setting("security_group", gid, "VpcId", g.get("VpcId"))
        c.add_setting("security_group", gid, "IpPermissions", g.get("IpPermissions") or [])
        c.add_setting("security_group", gid, "IpPermissionsEgress", g.get("IpPermissionsEgress") or [])
        for direction, perms in (("ingress", g.get("IpPermissions") or []), ("egress", g.get("IpPermissionsEgress") or [])):
            for p in perms:
                base = dict(group_id=gid, group_name=g.get("GroupName"), direction=direction, protocol=str(p.get("IpProtocol")),
                            from_port=p.get("FromPort"), to_port=p.get("ToPort"))
                for r in p.get("IpRanges") or []:
                    c.add_row("security_group_rules", **base, source=r.get("CidrIp"), source_type="cidr4", description=r.get("Description"))
                for r in p.get("Ipv6Ranges") or []:
                    c.add_row("security_group_rules", **base, source=r.get("CidrIpv6"), source_type="cidr6", description=r.get("Description"))
                for r in p.get("PrefixListIds") or []:
                    c.add_row("security_group_rules", **base, source=r.get("PrefixListId"), source_type="prefix_list",
                              description=r.get("Description"))
                for r in p.get("UserIdGroupPairs") or []:
                    c.add_row("security_group_rules", **base, source=r.get("GroupId"), source_type="security_group",
                              description=r.get("Description"))
