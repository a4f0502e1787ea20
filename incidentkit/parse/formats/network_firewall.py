"""AWS Network Firewall logs: alert, flow (netflow) and TLS records.

Source: *AWS Network Firewall Developer Guide*, "Contents of a firewall log" (Suricata EVE
records wrapped with ``firewall_name``, ``availability_zone``, ``event_timestamp``) and its
alert and flow examples. One JSON object per line. ``record_type`` is the event type
(``alert``, ``netflow``, ``tls``); ``action`` the alert's action (``blocked``, ``allowed``);
``rule`` the signature; ``packets``/``bytes`` a flow's counts; ``domain`` the HTTP host or
TLS SNI; ``service`` the firewall's name. The time is ``event.timestamp`` (else
``event_timestamp``, epoch seconds).

Example
-------
>>> import numpy as np, pyarrow as pa
>>> line = ('{"firewall_name":"test-firewall","availability_zone":"us-east-1b","event_timestamp":"1602627001",'
...         '"event":{"timestamp":"2020-10-13T22:10:01.006481+0000","flow_id":1582438383425873,"event_type":"alert",'
...         '"src_ip":"203.0.113.4","src_port":55555,"dest_ip":"192.0.2.16","dest_port":111,"proto":"TCP",'
...         '"alert":{"action":"allowed","signature_id":5,"rev":0,"signature":"test_tcp","category":"","severity":1}}}')
>>> [p] = parse(pa.array([line], type=pa.large_string()), np.arange(1))
>>> p.cols["record_type"].to_pylist(), p.cols["action"].to_pylist(), p.cols["dst_port"].to_pylist()
(['alert'], ['allowed'], [111])
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..arrow import STR, Part, as_float

from ._common import Field, integer, mark_errors, new_part
from ._jsonrows import read_paths

__all__ = ["FIELDS", "NAME", "RECOGNISE", "ROLE", "parse"]

NAME = "network_firewall"
ROLE = "security"
RECOGNISE = r'^\{"firewall_name":'

FIELDS: tuple[Field, ...] = (
    *((f, "2020-11 (launch)") for f in (
        "firewall_name", "availability_zone", "event_timestamp", "event.timestamp", "event.flow_id",
        "event.event_type", "event.src_ip", "event.src_port", "event.dest_ip", "event.dest_port", "event.proto",
        "event.app_proto", "event.alert.action", "event.alert.signature_id", "event.alert.rev",
        "event.alert.signature", "event.alert.category", "event.alert.severity", "event.netflow.pkts",
        "event.netflow.bytes", "event.netflow.start", "event.netflow.end", "event.netflow.age",
        "event.http.hostname", "event.http.url", "event.http.http_user_agent", "event.http.http_method")),
    *((f, "2021 (TLS inspection)") for f in ("event.tls.sni", "event.tls.version", "event.tls.subject")),
)  # fmt: skip

_PATHS = ["firewall_name", "availability_zone", "event_timestamp", "event.timestamp", "event.event_type",
          "event.src_ip", "event.src_port", "event.dest_ip", "event.dest_port", "event.proto", "event.alert.action",
          "event.alert.signature", "event.netflow.pkts", "event.netflow.bytes", "event.http.hostname",
          "event.tls.sni", "event.http.url", "event.http.http_method", "event.http.http_user_agent"]  # fmt: skip


def parse(arr: pa.Array, idx: np.ndarray) -> list[Part]:
    """Network Firewall records -> one part."""
    n = len(arr)
    v, bad = read_paths(arr, _PATHS)
    p = new_part(idx, NAME, pc.coalesce(v["event.event_type"], pa.scalar("event", STR)))
    p.set("service", v["firewall_name"])
    p.set("location", v["availability_zone"])
    p.set("client_ip", v["event.src_ip"])
    p.set("src_port", integer(v["event.src_port"]))
    p.set("dst_ip", v["event.dest_ip"])
    p.set("dst_port", integer(v["event.dest_port"]))
    p.set("protocol", pc.utf8_lower(v["event.proto"]))
    p.set("action", v["event.alert.action"])
    p.set("rule", v["event.alert.signature"])
    p.set("packets", integer(v["event.netflow.pkts"]))
    p.set("bytes", integer(v["event.netflow.bytes"]))
    p.set("domain", pc.coalesce(v["event.http.hostname"], v["event.tls.sni"]))
    p.set("route", v["event.http.url"])
    p.set("method", v["event.http.http_method"])
    p.set("user_agent", v["event.http.http_user_agent"])
    p.set("_time_str", v["event.timestamp"])
    p.set("_time_num", pc.multiply(as_float(v["event_timestamp"], n), 1000.0))
    no_time = ~np.asarray(pc.or_(v["event.timestamp"].is_valid(), v["event_timestamp"].is_valid()))
    mark_errors(p, bad | no_time, "Network Firewall record that is not a JSON object with a time")
    return [p]
