"""Where each AWS service writes its logs in S3: the documented key layouts.

A layout is a key template with placeholders: ``{base}`` (the bucket prefix the resource's
logging configuration names, ``""`` or ending in ``/``), ids (``{account}``, ``{region}``,
``{lb}``, ...), the object's time (``{Y}{m}{d}{H}{M}``, UTC) and free parts (``{rand}``).
From a template the reader gets, for every hour a window can touch, the longest key prefix
it can fill (so it lists only those prefixes), and a regular expression that reads the time
and ids back from a listed key. ``before``/``after`` say how far the records of one object
can lie from the object's time: an object whose key time is ``t`` may hold records from
``t - before`` to ``t + after``.

Example
-------
>>> import pandas as pd
>>> lay = LAYOUTS["alb_access"]
>>> lay.prefix(pd.Timestamp("2024-05-01T03:00Z"), base="logs/", account="123456789012", region="eu-west-1",
...            lb="app.web.50dc6c495c0c9188")
'logs/AWSLogs/123456789012/elasticloadbalancing/eu-west-1/2024/05/01/123456789012_elasticloadbalancing_eu-west-1_app.web.50dc6c495c0c9188_20240501T03'
>>> lay.key_time("logs/AWSLogs/123456789012/elasticloadbalancing/eu-west-1/2024/05/01/"
...              "123456789012_elasticloadbalancing_eu-west-1_app.web.50dc6c495c0c9188_20240501T0305Z_10.0.0.1_2x5kq1.log.gz",
...              base="logs/")
Timestamp('2024-05-01 03:05:00+0000', tz='UTC')
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

__all__ = ["LAYOUTS", "Layout", "hours"]

_TIME_PARTS = {"Y": r"\d{4}", "m": r"\d\d", "d": r"\d\d", "H": r"\d\d", "M": r"\d\d", "S": r"\d\d"}
_PLACEHOLDER = re.compile(r"\{([A-Za-z_]+)\}")


@dataclass(frozen=True)
class Layout:
    """One documented key layout (see the module docstring)."""

    name: str
    format: str
    template: str
    source: str  # the documentation page that describes it
    history: str = ""
    before: pd.Timedelta = pd.Timedelta(minutes=10)
    after: pd.Timedelta = pd.Timedelta(minutes=5)
    patterns: dict[str, str] = field(default_factory=dict)  # placeholder -> regex (default: [^/]*?)

    def placeholders(self) -> list[str]:
        return _PLACEHOLDER.findall(self.template)

    def prefix(self, hour: pd.Timestamp, **ids: Any) -> str:
        """The template filled up to the first placeholder not known for ``hour`` and ``ids``."""
        values = {**{k: str(v) for k, v in ids.items() if v is not None},
                  "Y": f"{hour.year:04d}", "m": f"{hour.month:02d}", "d": f"{hour.day:02d}", "H": f"{hour.hour:02d}"}
        out, pos = [], 0
        for m in _PLACEHOLDER.finditer(self.template):
            out.append(self.template[pos : m.start()])
            if m.group(1) not in values:
                return "".join(out)
            out.append(values[m.group(1)])
            pos = m.end()
        out.append(self.template[pos:])
        return "".join(out)

    def regex(self, base: str = "") -> re.Pattern[str]:
        """A pattern matching this layout's keys under ``base`` (time and ids as named groups)."""
        seen: set[str] = set()
        out, pos = ["^"], 0
        template = self.template.replace("{base}", "\x00", 1)
        for m in _PLACEHOLDER.finditer(template):
            out.append(re.escape(template[pos : m.start()]).replace("\x00", re.escape(base)))
            name = m.group(1)
            if name in seen:
                out.append(f"(?P={name})")
            else:
                seen.add(name)
                out.append(f"(?P<{name}>{_TIME_PARTS.get(name) or self.patterns.get(name, r'[^/]*?')})")
            pos = m.end()
        out.append(re.escape(template[pos:]).replace("\x00", re.escape(base)) + "$")
        return re.compile("".join(out))

    def key_time(self, key: str, base: str = "") -> pd.Timestamp | None:
        """The object's time read from its key (None when the key is not of this layout)."""
        m = self.regex(base).match(key)
        if not m:
            return None
        g = m.groupdict()
        return pd.Timestamp(year=int(g["Y"]), month=int(g["m"]), day=int(g["d"]), hour=int(g.get("H") or 0),
                            minute=int(g.get("M") or 0), second=int(g.get("S") or 0), tz="UTC")


def hours(start: pd.Timestamp, end: pd.Timestamp) -> list[pd.Timestamp]:
    """The hours (UTC, floored) from ``start`` up to ``end`` inclusive.

    Example
    -------
    >>> [h.hour for h in hours(pd.Timestamp("2024-05-01T02:50Z"), pd.Timestamp("2024-05-01T04:10Z"))]
    [2, 3, 4]
    """
    return list(pd.date_range(start.floor("h"), end.floor("h"), freq="h"))


_ELB = "AWSLogs/{account}/elasticloadbalancing/{region}/{Y}/{m}/{d}/"
_ELB_DOC = "Elastic Load Balancing user guides, 'Access log files' / 'Connection log files'"
_ELB_HISTORY = "unchanged since launch; files every 5 minutes, named by the interval's end time"
_EXT = {"ext": r"log(?:\.gz)?"}

LAYOUTS: dict[str, Layout] = {
    "alb_access": Layout(
        "alb_access", "alb_access",
        "{base}" + _ELB + "{account}_elasticloadbalancing_{region}_{lb}_{Y}{m}{d}T{H}{M}Z_{ip}_{rand}.{ext}",
        _ELB_DOC, _ELB_HISTORY, patterns={"lb": r"app\.[^_/]+", **_EXT}),
    "alb_connection": Layout(
        "alb_connection", "alb_connection",
        "{base}" + _ELB + "conn_log.{account}_elasticloadbalancing_{region}_{lb}_{Y}{m}{d}T{H}{M}Z_{ip}_{rand}.{ext}",
        _ELB_DOC, "since 2023-11; " + _ELB_HISTORY, patterns={"lb": r"app\.[^_/]+", **_EXT}),
    "nlb_access": Layout(
        "nlb_access", "nlb_access",
        "{base}" + _ELB + "{account}_elasticloadbalancing_{region}_{lb}_{Y}{m}{d}T{H}{M}Z_{rand}.{ext}",
        _ELB_DOC, _ELB_HISTORY, patterns={"lb": r"net\.[^_/]+", **_EXT}),
    "elb_classic_access": Layout(
        "elb_classic_access", "elb_classic_access",
        "{base}" + _ELB + "{account}_elasticloadbalancing_{region}_{lb}_{Y}{m}{d}T{H}{M}Z_{ip}_{rand}.{ext}",
        _ELB_DOC, "files every 5 or 60 minutes (EmitInterval), not compressed",
        before=pd.Timedelta(minutes=65), patterns={"lb": r"[A-Za-z0-9-]+", **_EXT}),
    "cloudfront_access": Layout(
        "cloudfront_access", "cloudfront_access", "{base}{dist}.{Y}-{m}-{d}-{H}.{rand}.gz",
        "CloudFront Developer Guide, 'Standard logging (legacy)': file name format",
        "one prefix for every file; hourly names; a file may hold records of the hour before",
        before=pd.Timedelta(hours=1), after=pd.Timedelta(hours=2), patterns={"dist": r"[A-Z0-9]+"}),
    "s3_access": Layout(
        "s3_access", "s3_access", "{base}{Y}-{m}-{d}-{H}-{M}-{S}-{rand}",
        "Amazon S3 User Guide, 'Log object key format' (simple prefix)",
        "delivered best-effort, usually within a few hours: an object can hold records hours older than its name",
        before=pd.Timedelta(hours=6), after=pd.Timedelta(minutes=5), patterns={"rand": r"[0-9A-Z]+"}),
    "s3_access_partitioned": Layout(
        "s3_access_partitioned", "s3_access",
        "{base}{account}/{region}/{bucket}/{Y}/{m}/{d}/{Y}-{m}-{d}-{H}-{M}-{S}-{rand}",
        "Amazon S3 User Guide, 'Log object key format' (date-based partitioning, 2023-11)",
        "partitioned by delivery (or event) date; best-effort delivery as above",
        before=pd.Timedelta(hours=6), after=pd.Timedelta(minutes=5)),
    "vpc_flow": Layout(
        "vpc_flow", "vpc_flow",
        "{base}AWSLogs/{account}/vpcflowlogs/{region}/{Y}/{m}/{d}/{account}_vpcflowlogs_{region}_{flowlog}_{Y}{m}{d}T{H}{M}Z_{hash}.{ext}",
        "Amazon VPC User Guide, 'Flow log files' (S3 path)", "files every 5 minutes (or per aggregation interval)",
        before=pd.Timedelta(minutes=20), after=pd.Timedelta(minutes=5), patterns={"flowlog": r"fl-[0-9a-f]+", **_EXT}),
    "vpc_flow_hourly": Layout(
        "vpc_flow_hourly", "vpc_flow",
        "{base}AWSLogs/{account}/vpcflowlogs/{region}/{Y}/{m}/{d}/{H}/{account}_vpcflowlogs_{region}_{flowlog}_{Y}{m}{d}T{H}{M}Z_{hash}.{ext}",
        "Amazon VPC User Guide, 'Flow log files' (per-hour partitions, 2021-10)", "",
        before=pd.Timedelta(minutes=20), after=pd.Timedelta(minutes=5), patterns={"flowlog": r"fl-[0-9a-f]+", **_EXT}),
    "waf": Layout(
        "waf", "waf",
        "{base}AWSLogs/{account}/WAFLogs/{region}/{acl}/{Y}/{m}/{d}/{H}/{M}/{account}_waflogs_{region}_{acl}_{Y}{m}{d}T{H}{M}Z_{hash}.log.gz",
        "AWS WAF Developer Guide, 'Sending web ACL traffic logs to an Amazon S3 bucket'",
        "files every 5 minutes; the bucket's name starts with aws-waf-logs-; region 'cloudfront' for CloudFront web ACLs",
        before=pd.Timedelta(minutes=10)),
    "network_firewall": Layout(
        "network_firewall", "network_firewall",
        "{base}AWSLogs/{account}/network-firewall/{logtype}/{region}/{firewall}/{Y}/{m}/{d}/{H}/"
        "{account}_network-firewall_{logtype}_{region}_{firewall}_{Y}{m}{d}T{H}{M}Z_{hash}.log.gz",
        "AWS Network Firewall Developer Guide, 'Logging to Amazon S3'", "log types alert, flow and tls; files every ~10 minutes",
        before=pd.Timedelta(minutes=15), patterns={"logtype": r"alert|flow|tls"}),
}  # fmt: skip
