"""The Route 53 health checkers' address ranges, read from AWS's ``ip-ranges.json``.

Example
-------
>>> r = load_ip_ranges()
>>> [str(n) for n, region in r.for_regions([]) if region == "GLOBAL"]
['15.177.0.0/18']
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import os
import urllib.request
from importlib import resources as _resources
from typing import Any, Iterable, Mapping

from ...errors import ParameterError

__all__ = ["IpRanges", "load_ip_ranges"]


@dataclasses.dataclass(frozen=True)
class IpRanges:
    """Route 53 health-checker ranges: ``(network, region)`` pairs, with the file's date."""

    ipv4: tuple[tuple[ipaddress.IPv4Network, str], ...]
    ipv6: tuple[tuple[ipaddress.IPv6Network, str], ...]
    create_date: str | None
    source: str

    def for_regions(self, regions: Iterable[str], *, v6: bool = False) -> list[tuple[Any, str]]:
        """The ranges checkers in ``regions`` use (plus the GLOBAL ones)."""
        wanted = set(regions) | {"GLOBAL"}
        return [(net, r) for net, r in (self.ipv6 if v6 else self.ipv4) if r in wanted]


def load_ip_ranges(source: Any = None) -> IpRanges:
    """Read the ``ROUTE53_HEALTHCHECKS`` ranges from ``ip-ranges.json`` (a path, an URL, a dict) or the shipped copy.

    Parameters
    ----------
    source:
        ``None`` for the dated copy shipped in ``incidentkit/data`` (see its README), a file
        path, an ``http(s)://`` or ``file://`` URL (e.g. https://ip-ranges.amazonaws.com/ip-ranges.json),
        or the parsed document. Entries of other services are ignored.

    Example
    -------
    >>> r = load_ip_ranges()
    >>> r.create_date, any(str(n) == "15.177.0.0/18" for n, _ in r.ipv4)
    ('2024-09-13-20-53-11', True)
    """
    if isinstance(source, IpRanges):
        return source
    if source is None:
        text = _resources.files("incidentkit").joinpath("data/route53-healthchecks-ip-ranges.json").read_text(encoding="utf-8")
        doc, label = json.loads(text), "incidentkit/data/route53-healthchecks-ip-ranges.json"
    elif isinstance(source, Mapping):
        doc, label = source, "given document"
    else:
        label = str(source)
        try:
            if "://" in label:
                with urllib.request.urlopen(label, timeout=30) as fh:  # noqa: S310 - a URL the user named
                    doc = json.loads(fh.read().decode("utf-8"))
            else:
                with open(os.fspath(source), encoding="utf-8") as fh:
                    doc = json.load(fh)
        except (OSError, ValueError) as exc:
            raise ParameterError(f"cannot read ip-ranges from {label}: {exc}; give a path or URL of AWS's ip-ranges.json") from exc
    if not isinstance(doc, Mapping) or not isinstance(doc.get("prefixes"), list):
        raise ParameterError(f"{label} is not an ip-ranges.json document (no 'prefixes' list)")
    v4 = tuple((ipaddress.IPv4Network(p["ip_prefix"]), str(p.get("region"))) for p in doc.get("prefixes") or []
               if p.get("service") == "ROUTE53_HEALTHCHECKS")
    v6 = tuple((ipaddress.IPv6Network(p["ipv6_prefix"]), str(p.get("region"))) for p in doc.get("ipv6_prefixes") or []
               if p.get("service") == "ROUTE53_HEALTHCHECKS")
    if not v4:
        raise ParameterError(f"{label} lists no ROUTE53_HEALTHCHECKS ranges")
    return IpRanges(v4, v6, doc.get("createDate"), label)
