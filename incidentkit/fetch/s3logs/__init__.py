"""Logs AWS writes to S3 (load balancers, CloudFront, S3, VPC Flow Logs, WAF, Network Firewall).

* :mod:`.layouts` - the documented key layouts, per service;
* :mod:`.discover` - where a resource's logs are, from its own configuration;
* :mod:`.reader` - small windows read directly: listing only the hours that can hold the
  window, concurrent streaming reads, chunked parsing, every object recorded;
* :mod:`.athena` - big windows through Athena: table DDL with partition projection and the
  same aggregations run server-side.
"""

from .layouts import LAYOUTS, Layout
from .reader import OBJECT_COLUMNS, S3Read, Source, list_objects, read

__all__ = ["LAYOUTS", "OBJECT_COLUMNS", "Layout", "S3Read", "Source", "list_objects", "read"]
