"""Log formats AWS writes to S3, one module each: ``NAME``, ``ROLE``, ``FIELDS``, ``RECOGNISE``
and ``parse(arr, idx) -> list[Part]`` (see :mod:`incidentkit.parse.arrow`).

:data:`S3_FORMATS` maps each ``format`` value to its module's import path; :func:`load`
imports one. The modules are imported only when asked for.

Example
-------
>>> load("alb_access").ROLE
'request'
"""

from __future__ import annotations

import importlib
from types import ModuleType

from ...errors import ParameterError

__all__ = ["S3_FORMATS", "load"]

#: ``format`` value -> module, in the order their line patterns are tried.
S3_FORMATS: dict[str, str] = {
    "alb_access": "incidentkit.parse.formats.alb_access",
    "alb_connection": "incidentkit.parse.formats.alb_connection",
    "elb_classic_access": "incidentkit.parse.formats.elb_classic",
    "nlb_access": "incidentkit.parse.formats.nlb_access",
    "cloudfront_access": "incidentkit.parse.formats.cloudfront",
    "s3_access": "incidentkit.parse.formats.s3_access",
    "vpc_flow": "incidentkit.parse.formats.vpc_flow",
    "waf": "incidentkit.parse.formats.waf",
    "network_firewall": "incidentkit.parse.formats.network_firewall",
}


def load(name: str) -> ModuleType:
    """The module of format ``name`` (one of :data:`S3_FORMATS`)."""
    try:
        return importlib.import_module(S3_FORMATS[name])
    except KeyError:
        raise ParameterError(f"no S3 log format {name!r}; formats: {', '.join(S3_FORMATS)}") from None
