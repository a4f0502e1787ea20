"""Network-change samples: incidents 3 (a security-group change blocks the Route 53 health checkers)
and 11 (a script leaves security groups half-changed).

Formats exercised: ALB access logs of two regions, VPC Flow Logs (default format, a REJECT-only
flow log), CloudTrail security-group calls by a console user, by CloudFormation and by a
script's IAM user (``errorCode`` ``Client.InvalidGroup.NotFound`` inside the run), a CI job's
console output with the AWS CLI's error text.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..fetch import metrics as M
from . import _formats as F
from ._alb import CHECKERS, _alb_ingest_delay, _arns, _checker_rows, _clients, _lb_settings, _tg_settings
from ._apis import _routes, _users
from ._core import (
    ACCOUNT,
    ROUTE53_CHECKER_COLUMNS,
    UA_CLI,
    UA_CONSOLE,
    Builder,
    finish,
    ip_pool,
    lognormal,
    per_minute,
    role_identity,
    trail_log,
    user_identity,
    window,
)
from ._fleet import Fleet, HealthConfig, Target, access_lines, alb_metrics

_SCAN_PORTS = np.array([22, 23, 3389, 445, 8080, 5900, 1433, 6379])


def _scanner_rejects(b: Builder, enis: list[tuple[str, str]], rate_per_min: float) -> tuple[np.ndarray, list[str], list[str]]:
    """Internet background noise in a REJECT-only flow log: scanners probing closed ports."""
    rng = b.rng
    t = b.arrivals(lambda s: rate_per_min / 60.0, scaled=False)
    n = len(t)
    eni = rng.integers(0, len(enis), n)
    src = ip_pool(rng, n)
    start = np.floor(t / 60.0) * 60.0
    lines = F.flow_lines(
        interface=[enis[k][0] for k in eni], src=src, dst=[enis[k][1] for k in eni], src_port=rng.integers(1024, 65535, n),
        dst_port=_SCAN_PORTS[rng.integers(0, len(_SCAN_PORTS), n)], protocol=6, packets=rng.integers(1, 3, n),
        nbytes=rng.integers(40, 120, n), start=start, end=start + 60, action=["REJECT"] * n, account=ACCOUNT,
    )
    return start, [enis[k][0] + "-all" for k in eni], lines


# --------------------------------------------------------------------------------------------
# incident 3: a security-group change blocks the Route 53 health checkers
# --------------------------------------------------------------------------------------------

_API = [
    {"route": "GET /v2/catalog", "method": "GET", "path": "/v2/catalog", "weight": 40, "ms": 38, "size": 9000},
    {"route": "GET /v2/prices/{sku}", "method": "GET", "path": "/v2/prices/{sku}", "weight": 35, "ms": 22, "size": 400},
    {"route": "POST /v2/quotes", "method": "POST", "path": "/v2/quotes", "weight": 25, "ms": 85, "size": 1200},
]


def healthcheck_blocked_by_change(*, seed: int = 0, scale: float = 1.0) -> Any:
    """Incident 3: ALB ingress restricted to CloudFront's prefix list; Route 53 checkers blocked; failover to an unready region."""
    w = window("2026-05-21T13:30:00Z", "2026-05-21T14:30:00Z")
    b = Builder("healthcheck-blocked-by-change", seed, scale, w, w.baseline("previous"), region="us-east-1")
    rng = b.rng
    lb1, lb1_arn, tg1_arn = _arns("us-east-1", "api-use1/2b3c4d5e6f708192", "api-use1-tg/8192a3b4c5d6e7f0")
    lb2, lb2_arn, tg2_arn = _arns("us-west-2", "api-usw2/7e6d5c4b3a291807", "api-usw2-tg/1a2b3c4d5e6f7081")
    sg = "sg-0a1b2c3d4e5f60718"
    hc_id = "4f7b2c1e-8a3d-4e6f-9b0c-5d2e7a1f3c8b"
    change = b.at("2026-05-21T13:57:41Z")
    # Route 53: each checker fails 3 times in a row (30 s interval) -> the check goes unhealthy
    unhealthy_at = change + 3 * 30 + 7.0
    failover = unhealthy_at + 60.0  # record TTL 60 s: resolvers move to the secondary within a minute

    # --- traffic (via CloudFront, whose origin record fails over): primary until failover, then secondary
    t = b.arrivals(lambda s: 1.5 + 0.15 * np.sin(s / 800.0))
    n = len(t)
    r = _routes(b, _API, n)
    users = _users(b, b.count(2500), app="PartnerSDK", versions=[("3.1.0", 60), ("3.0.4", 40)], shares=(0.1, 0.1, 0.3, 0.5))
    u = rng.choice(len(users["ua"]), size=n, p=users["activity"])
    moved = np.clip((t - failover) / 70.0, 0, 1)  # resolvers pick the new answer as their cache expires
    # the secondary always gets a trickle (a partner pinned to the regional endpoint, synthetic probes)
    to2 = rng.random(n) < np.maximum(moved, 0.015)
    ips1 = [f"10.0.{k + 1}.{int(rng.integers(10, 250))}" for k in range(4)]
    ips2 = [f"10.8.{k + 1}.{int(rng.integers(10, 250))}" for k in range(2)]
    fleet1 = Fleet(b, tg1_arn, [Target(x, x, 8080, f"us-east-1{'abcd'[k]}", registered=b.t_baseline[0] - 86400) for k, x in enumerate(ips1)])
    fleet2 = Fleet(b, tg2_arn, [Target(x, x, 8080, f"us-west-2{'ab'[k]}", registered=b.t_baseline[0] - 86400) for k, x in enumerate(ips2)])
    for fl in (fleet1, fleet2):
        fl.run_health_checks(lambda _t: HealthConfig(30, 5, 3, 3), lambda i, times: lognormal(rng, 5.0, 0.3, len(times)))
    fleet1.add_health_frame()
    cert = f"arn:aws:acm:us-east-1:{ACCOUNT}:certificate/5e4d3c2b-1a09-4f8e-7d6c-5b4a39281706"

    groups = []
    for region_k, (fleet, lb, lb_arn, tg_arn, sel) in enumerate(((fleet1, lb1, lb1_arn, tg1_arn, ~to2), (fleet2, lb2, lb2_arn, tg2_arn, to2))):
        idx = np.flatnonzero(sel)
        tt = t[idx]
        m = len(tt)
        tgt = fleet.route(tt)
        proc = lognormal(rng, r["median_ms"][idx], 0.45, m)
        status = np.full(m, 200)
        status[rng.random(m) < 0.012] = 404
        status[rng.random(m) < 0.0006] = 500
        if region_k == 1:
            # two tasks built for a trickle now take everything: queues, load shedding, timeouts
            load = per_minute(b.grid, tt)
            over = np.interp(tt, b.grid + 30, load) > 40
            proc[over] *= rng.uniform(15, 60, int(over.sum()))
            shed = over & (rng.random(m) < 0.14)
            status[shed] = 503
            proc[shed] = rng.uniform(2, 20, int(shed.sum()))
        target_status = status.copy()
        gw_timeout = proc > 30000
        status[gw_timeout], target_status[gw_timeout] = 504, 0
        target_s = np.where(gw_timeout, -1.0, np.round(proc / 1000.0, 3))
        t_end = tt + np.where(gw_timeout, 30.0, np.maximum(target_s, 0)) + 0.002
        host = "api-origin.partner.example.com"
        lines = access_lines(
            b, t_start=tt, t_end=t_end, lb_suffix=lb, tg_arn=tg_arn, fleet=fleet, target_idx=tgt,
            client=_clients(b, m, np.array([f"130.176.{int(x) % 255}.{int(x) // 255 % 255}" for x in rng.integers(0, 65000, len(users["ip"]))], dtype=object), u[idx]),
            elb_status=status, target_status=target_status, target_s=target_s, method=r["method"][idx],
            url=[f"https://{host}:443{p}" for p in r["path"][idx]], user_agent=["Amazon CloudFront"] * m,
            received=rng.integers(400, 1500, m), sent=np.where(status == 200, np.round(r["size"][idx] * rng.uniform(0.7, 1.3, m)), 250),
            domain=host, cert_arn=cert if region_k == 0 else cert.replace("us-east-1", "us-west-2"),
        )
        group = f"/alb/{lb.split('/')[1]}/access"
        groups.append(group)
        b.log(group, lb.split("/")[1], t_end, lines, ingest_delay=_alb_ingest_delay(b, t_end))
        alb_metrics(b, lb_arn, tg_arn, fleet, t_end=t_end, elb_status=status, target_status=target_status, target_s=target_s)

    # --- VPC Flow Logs of the primary ALB's subnets (REJECT only): scanners, then the health checkers
    enis = [("eni-0b1c2d3e4f5a69780", "10.0.1.45"), ("eni-0d2e3f4a5b6c78901", "10.0.2.71")]
    st, streams, lines = _scanner_rejects(b, enis, 3.0)
    ct, cs, cl = [], [], []
    for region, ip in CHECKERS:
        times = np.arange(change + float(rng.uniform(0, 30)), b.t_window[1], 30.0)
        k = rng.integers(0, len(enis), len(times))
        cstart = np.floor(times / 60.0) * 60.0
        ct.append(cstart)
        cs += [enis[j][0] + "-all" for j in k]
        cl += F.flow_lines(interface=[enis[j][0] for j in k], src=[ip] * len(times), dst=[enis[j][1] for j in k],
                           src_port=rng.integers(30000, 61000, len(times)), dst_port=np.full(len(times), 443), protocol=6,
                           packets=rng.integers(2, 4, len(times)), nbytes=rng.integers(120, 180, len(times)), start=cstart, end=cstart + 60,
                           action=["REJECT"] * len(times), account=ACCOUNT)
    flow_group = "/vpc/flowlogs/prod-use1"
    ft = np.concatenate([st] + ct)
    b.log(flow_group, streams + cs, ft + 60.0, lines + cl, ingest_delay=rng.uniform(240, 540, len(ft)))

    # --- Route 53: the check's metrics and the checkers' reports
    g = b.grid
    frac_ok = np.clip((unhealthy_at - g) / 60.0, 0, 1)
    status_min = np.where(g + 60 <= unhealthy_at, 1.0, 0.0)
    pct = np.where(g + 60 <= change + 60, 100.0, np.where(g >= change + 95, 0.0, 50.0))
    b.metric_series(M.route53_health_check(hc_id), {
        ("HealthCheckStatus", "Minimum"): status_min, ("HealthCheckStatus", "Average"): np.round(np.maximum(frac_ok, status_min), 3),
        ("HealthCheckPercentageHealthy", "Minimum"): np.where(g + 60 <= change + 30, 100.0, np.where(g >= change + 30, 0.0, pct)),
        ("HealthCheckPercentageHealthy", "Average"): pct,
    })
    b.health_frame("route53_checkers", ROUTE53_CHECKER_COLUMNS, _checker_rows(b, hc_id, lambda x: x < change + 20))

    # --- the change, and the configuration after it
    net = role_identity(b, "AWSReservedSSO_NetworkAdmin_6b8d0f2a4c6e8a1b", "sam.okafor@partner.example.com", mfa=True, when=change)
    b.cloudtrail(change, "ec2.amazonaws.com", "AuthorizeSecurityGroupIngress", identity=net, user_agent=UA_CONSOLE, source_ip="198.51.100.88",
                 request={"groupId": sg, "ipPermissions": {"items": [{"ipProtocol": "tcp", "fromPort": 443, "toPort": 443,
                          "prefixListIds": {"items": [{"prefixListId": "pl-3b927c52", "description": "CloudFront origin-facing"}]}}]}},
                 response={"_return": True, "securityGroupRuleSet": {"items": [{"groupId": sg, "securityGroupRuleId": "sgr-0f9e8d7c6b5a43210",
                           "ipProtocol": "tcp", "fromPort": 443, "toPort": 443, "prefixListId": "pl-3b927c52", "isEgress": False}]}})
    b.cloudtrail(change + 19, "ec2.amazonaws.com", "RevokeSecurityGroupIngress", identity=net, user_agent=UA_CONSOLE, source_ip="198.51.100.88",
                 request={"groupId": sg, "ipPermissions": {"items": [{"ipProtocol": "tcp", "fromPort": 443, "toPort": 443,
                          "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0", "description": "HTTPS from anywhere"}]}}]}},
                 response={"_return": True})
    b.settings("AWS::EC2::SecurityGroup", sg, {"GroupName": "api-use1-alb", "VpcId": "vpc-0a1b2c3d4e5f67890", "IpPermissions": [
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [], "Ipv6Ranges": [],
         "PrefixListIds": [{"PrefixListId": "pl-3b927c52", "Description": "CloudFront origin-facing"}], "UserIdGroupPairs": []}]})
    b.settings("AWS::Route53::HealthCheck", hc_id, {"Type": "HTTPS", "FullyQualifiedDomainName": "api-use1.origin.partner.example.com",
                                                    "Port": 443, "ResourcePath": "/health", "RequestInterval": 30, "FailureThreshold": 3,
                                                    "Regions": sorted({reg for reg, _ in CHECKERS})})
    b.settings("AWS::Route53::RecordSet", "Z0123456789ABCDEFGHIJ/api-origin.partner.example.com./A/use1", {
        "Failover": "PRIMARY", "SetIdentifier": "use1", "HealthCheckId": hc_id, "AliasTarget.DNSName": f"{lb1.split('/')[1]}-1234567890.us-east-1.elb.amazonaws.com",
        "AliasTarget.EvaluateTargetHealth": False})
    b.settings("AWS::Route53::RecordSet", "Z0123456789ABCDEFGHIJ/api-origin.partner.example.com./A/usw2", {
        "Failover": "SECONDARY", "SetIdentifier": "usw2", "AliasTarget.DNSName": f"{lb2.split('/')[1]}-987654321.us-west-2.elb.amazonaws.com"})
    _tg_settings(b, tg1_arn, HealthConfig(30, 5, 3, 3), path="/health", dereg=60, target_type="ip")
    _lb_settings(b, lb1_arn, idle=60, access_bucket="api-alb-logs-use1")
    b.settings("AWS::ECS::Service", f"arn:aws:ecs:us-west-2:{ACCOUNT}:service/api/api-usw2", {"DesiredCount": 2, "AutoScaling.MaxCapacity": 2})

    return finish(
        b, finding_id="healthcheck-blocked-by-change", incident=3, title="Route 53 failed over to an unready region",
        description="""At 14:00 all traffic moved to the secondary region, whose two tasks could not carry it: 503s, timeouts,
        latency in seconds. The primary region was healthy all along - its targets, response times and error counts never
        moved. At 13:57 a network admin restricted the primary ALB's security group to CloudFront's prefix list; that also
        blocked the Route 53 health checkers (rejected in the VPC flow logs), the health check went unhealthy after three
        failed rounds and the failover record sent everyone to us-west-2.""",
        parameters={"log_groups": [groups[0], groups[1], flow_group], "load_balancer": lb1_arn, "target_group_arn": tg1_arn,
                    "health_check_id": hc_id, "security_group_ids": [sg], "region": b.region},
    )


# --------------------------------------------------------------------------------------------
# incident 11: a script changes security groups, fails midway, no rollback
# --------------------------------------------------------------------------------------------


def partial_change_no_rollback(*, seed: int = 0, scale: float = 1.0) -> Any:
    """Incident 11: an ops script rotates SSH rules, fails on its 4th call, and leaves the app servers unreachable."""
    w = window("2026-11-03T21:00:00Z", "2026-11-03T22:00:00Z")
    b = Builder("partial-change-no-rollback", seed, scale, w, w.baseline("previous"), region="eu-west-1")
    rng = b.rng
    vpc = "vpc-0a1b2c3d4e5f67890"
    sg_bastion, sg_app, sg_db = "sg-0b4a5c6d7e8f90a1b", "sg-0c5d6e7f8a9b0c1d2", "sg-0d6e7f8a9b0c1d2e3"
    typo = "sg-0f1e2d3c4b5a69788"
    run = b.at("2026-11-03T21:14:02Z")
    bot = user_identity(b, "sg-rotation-bot")
    ip = "34.241.17.205"  # the Jenkins agent
    calls = [
        (0.0, "RevokeSecurityGroupIngress", sg_bastion, {"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "ipRanges": {"items": [{"cidrIp": "203.0.113.0/24"}]}}, None),
        (2.4, "AuthorizeSecurityGroupIngress", sg_bastion, {"ipProtocol": "tcp", "fromPort": 22, "toPort": 22,
                                                             "ipRanges": {"items": [{"cidrIp": "198.51.100.0/24", "description": "office 2026"}]}}, None),
        (5.1, "RevokeSecurityGroupIngress", sg_app, {"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "ipRanges": {"items": [{"cidrIp": "10.20.0.0/16"}]}}, None),
        (7.3, "AuthorizeSecurityGroupIngress", sg_app, {"ipProtocol": "tcp", "fromPort": 22, "toPort": 22,
                                                         "groups": {"items": [{"groupId": typo, "description": "from bastion"}]}},
         ("Client.InvalidGroup.NotFound", f"The security group '{typo}' does not exist in VPC '{vpc}'")),
    ]
    for dt, name, gid, perm, err in calls:
        cmd = "ec2." + ("revoke" if name.startswith("Revoke") else "authorize") + "-security-group-ingress"
        b.cloudtrail(run + dt, "ec2.amazonaws.com", name, identity=bot, user_agent=UA_CLI.format(command=cmd), source_ip=ip,
                     request={"groupId": gid, "ipPermissions": {"items": [perm]}},
                     response=None if err else {"_return": True}, error_code=err[0] if err else None, error_message=err[1] if err else None)

    # earlier the same evening: an infrastructure-as-code change to security groups, complete
    cfn_t = b.at("2026-11-03T20:22:30Z")
    cfn = role_identity(b, "platform-cfn-exec", "AWSCloudFormation", invoked_by="cloudformation.amazonaws.com", when=cfn_t)
    ci = role_identity(b, "github-actions-infra", "GitHubActions", when=cfn_t)
    b.cloudtrail(cfn_t - 20, "cloudformation.amazonaws.com", "UpdateStack", identity=ci, user_agent=UA_CLI.format(command="cloudformation.deploy"),
                 source_ip="140.82.114.3", request={"stackName": "prod-network", "changeSetName": "pr-1831"})
    for k, (name, gid, port, cidr) in enumerate((("AuthorizeSecurityGroupIngress", sg_db, 5432, "10.20.8.0/22"),
                                                  ("RevokeSecurityGroupIngress", sg_db, 5432, "10.20.4.0/22"),
                                                  ("AuthorizeSecurityGroupEgress", sg_app, 443, "0.0.0.0/0"))):
        b.cloudtrail(cfn_t + 4 * k, "ec2.amazonaws.com", name, identity=cfn, user_agent="cloudformation.amazonaws.com",
                     source_ip="cloudformation.amazonaws.com",
                     request={"groupId": gid, "ipPermissions": {"items": [{"ipProtocol": "tcp", "fromPort": port, "toPort": port,
                                                                           "ipRanges": {"items": [{"cidrIp": cidr}]}}]}},
                     response={"_return": True})

    # the Jenkins job's console output (forwarded to CloudWatch Logs)
    jenkins = "/jenkins/prod/jobs"
    job_stream = "sg-rotation/build-58"
    lines_t = run + np.array([-3.1, -3.0, -2.9, -0.2, 0.0, 1.2, 2.3, 2.4, 4.3, 5.0, 5.1, 6.4, 7.2, 7.3, 8.1, 8.2, 8.3, 8.5, 8.6])
    lines = [
        "Started by user Nadia Rahman",
        "Running as SYSTEM",
        "[sg-rotation] $ /bin/sh -xe /tmp/jenkins4127983358170551224.sh",
        "+ . ./rotate-ssh-cidrs.sh prod",
        f"+ aws ec2 revoke-security-group-ingress --group-id {sg_bastion} --protocol tcp --port 22 --cidr 203.0.113.0/24",
        '{\n    "Return": true\n}',
        f"+ aws ec2 authorize-security-group-ingress --group-id {sg_bastion} --ip-permissions IpProtocol=tcp,FromPort=22,ToPort=22,IpRanges=[{{CidrIp=198.51.100.0/24,Description=\"office 2026\"}}]",
        '{\n    "Return": true,\n    "SecurityGroupRules": [\n        {\n            "SecurityGroupRuleId": "sgr-02c4e6a8b0d2f4a6c",\n'
        f'            "GroupId": "{sg_bastion}",\n            "IsEgress": false,\n            "IpProtocol": "tcp",\n            "FromPort": 22,\n'
        '            "ToPort": 22,\n            "CidrIpv4": "198.51.100.0/24",\n            "Description": "office 2026"\n        }\n    ]\n}',
        f"+ aws ec2 revoke-security-group-ingress --group-id {sg_app} --protocol tcp --port 22 --cidr 10.20.0.0/16",
        '{\n    "Return": true\n}',
        f"+ aws ec2 authorize-security-group-ingress --group-id {sg_app} --protocol tcp --port 22 --source-group {typo}",
        "",
        f"An error occurred (InvalidGroup.NotFound) when calling the AuthorizeSecurityGroupIngress operation: The security group '{typo}' does not exist in VPC '{vpc}'",
        "Build step 'Execute shell' marked build as failure",
        "Sending e-mail to: ops-oncall@example.com",
        "Finished: FAILURE",
        "", "", "",
    ]
    keep = [k for k, m in enumerate(lines) if m]
    b.log(jenkins, job_stream, lines_t[keep], [lines[k] for k in keep])
    # other jobs on the same Jenkins: noise
    other_t = np.sort(np.concatenate([np.arange(s.start + 120, s.end, 900.0) for s in b.segments]))
    other = ["Finished: SUCCESS" if k % 3 == 2 else f"[nightly-smoke] $ /bin/sh -xe /tmp/jenkins{int(x)}.sh" if k % 3 == 0 else
             "+ ./smoke.sh https://app.example.com/health -> 200 OK (142 ms)" for k, x in enumerate(rng.integers(10**17, 10**18, len(other_t)))]
    b.log(jenkins, [f"nightly-smoke/build-{3400 + k // 3}" for k in range(len(other_t))], other_t + (np.arange(len(other_t)) % 3) * 1.5, other)

    # flow logs (REJECT only): scanners; after the run, SSH from the bastion to the app servers is refused
    enis = [("eni-0a9b8c7d6e5f40312", "10.20.1.15"), ("eni-0b8c7d6e5f4a30291", "10.20.11.31"), ("eni-0c7d6e5f4a3b20180", "10.20.12.47")]
    st, streams, lines_f = _scanner_rejects(b, enis[:1], 2.5)
    app_ips = ["10.20.11.31", "10.20.12.47", "10.20.13.22", "10.20.11.58"]
    tries = np.sort(run + 60 * rng.uniform(3, 40, b.count(45)))
    k = rng.integers(0, len(app_ips), len(tries))
    starts = np.floor(tries / 60.0) * 60.0
    fl = F.flow_lines(interface=[enis[1 + (j % 2)][0] for j in k], src=["10.20.1.15"] * len(tries), dst=[app_ips[j] for j in k],
                      src_port=rng.integers(40000, 61000, len(tries)), dst_port=np.full(len(tries), 22), protocol=6,
                      packets=rng.integers(2, 7, len(tries)), nbytes=rng.integers(120, 420, len(tries)), start=starts, end=starts + 60,
                      action=["REJECT"] * len(tries), account=ACCOUNT)
    flow_group = "/vpc/flowlogs/prod-euw1"
    all_t = np.concatenate([st, starts])
    b.log(flow_group, streams + [enis[1 + (j % 2)][0] + "-all" for j in k], all_t + 60.0, lines_f + fl, ingest_delay=rng.uniform(240, 540, len(all_t)))

    # the account's trail, delivered to CloudWatch Logs (reads by monitoring tools and apps around the writes)
    trail_group = "aws-cloudtrail-logs-123456789012-prod"
    trail_log(b, trail_group, read_rate=1.2)

    # the application itself kept serving
    lb, lb_arn, tg_arn = _arns(b.region, "app-prod/3c4d5e6f70819203", "app-prod-tg/5a6b7c8d9e0f1a2b")
    g = b.grid
    req = np.round(110 + 10 * np.sin(g / 900.0) + rng.normal(0, 6, len(g)))
    b.metric_series(M.alb(lb_arn), {("RequestCount", "Sum"): req, ("TargetResponseTime", "p50"): np.round(0.042 + rng.normal(0, 0.003, len(g)), 4),
                                    ("TargetResponseTime", "p99"): np.round(0.31 + rng.normal(0, 0.03, len(g)), 4)})
    b.metric_series(M.target_group(tg_arn, lb_arn), {("UnHealthyHostCount", "Maximum"): np.zeros(len(g)), ("HealthyHostCount", "Minimum"): np.full(len(g), 4.0)})

    b.settings("AWS::EC2::SecurityGroup", sg_bastion, {"GroupName": "prod-bastion", "VpcId": vpc, "IpPermissions": [
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "198.51.100.0/24", "Description": "office 2026"}], "UserIdGroupPairs": []}]})
    b.settings("AWS::EC2::SecurityGroup", sg_app, {"GroupName": "prod-app", "VpcId": vpc, "IpPermissions": [
        {"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080, "IpRanges": [], "UserIdGroupPairs": [{"GroupId": "sg-0e7f8a9b0c1d2e3f4", "Description": "from ALB"}]}]})
    b.settings("AWS::EC2::SecurityGroup", sg_db, {"GroupName": "prod-db", "VpcId": vpc, "IpPermissions": [
        {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "IpRanges": [{"CidrIp": "10.20.8.0/22"}], "UserIdGroupPairs": []}]})
    b.settings("AWS::IAM::User", f"arn:aws:iam::{ACCOUNT}:user/sg-rotation-bot", {"AttachedPolicies": ["ec2-security-group-admin"], "AccessKeyAgeDays": 412})

    return finish(
        b, finding_id="partial-change-no-rollback", incident=11, title="deploy script left security groups half-changed",
        description="""At 21:14 the on-call could no longer SSH to the production app servers, and could not simply roll back.
        A Jenkins job ran a shell script as the IAM user sg-rotation-bot to rotate SSH rules: it revoked and re-added the
        bastion's office range, revoked the app servers' rule for the old bastion subnet, then failed to authorize the new
        one (InvalidGroup.NotFound: a mistyped group id) and exited - no rollback, and the planned database change never ran.
        The CloudFormation update earlier that evening changed security groups too, completely.""",
        parameters={"log_groups": [trail_group, jenkins, flow_group], "security_group_ids": [sg_bastion, sg_app, sg_db], "region": b.region},
    )
