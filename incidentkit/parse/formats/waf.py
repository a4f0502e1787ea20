"""AWS WAF (v2) web ACL traffic logs.

Source: *AWS WAF Developer Guide*, "Log fields for web ACL traffic" and its examples. One
JSON object per line. Columns: ``action`` (``ALLOW``/``BLOCK``/``COUNT``/``CAPTCHA``/
``CHALLENGE``), ``rule`` (``terminatingRuleId``), ``client_ip``, ``country``, ``method``,
``route`` (``uri``), ``request_id`` (the fronting service's request id), ``domain`` and
``user_agent`` (from the request headers), ``status`` (``responseCodeSent``: only for a
custom response), ``service`` (the web ACL's ARN), ``protocol`` (``httpSourceName``: ALB,
CF, APIGW ...). The time is ``timestamp`` (epoch ms).

Example
-------
>>> import numpy as np, pyarrow as pa
>>> line = ('{"timestamp":1576280412771,"formatVersion":1,"webaclId":"arn:aws:wafv2:ap-southeast-2:111122223333:regional/webacl/STMTest/1EXAMPLE",'
...         '"terminatingRuleId":"STMTest_SQLi_XSS","terminatingRuleType":"REGULAR","action":"BLOCK","httpSourceName":"ALB",'
...         '"httpRequest":{"clientIp":"1.1.1.1","country":"AU","headers":[{"name":"Host","value":"localhost:1989"},'
...         '{"name":"User-Agent","value":"curl/7.61.1"}],"uri":"/myUri","args":"","httpVersion":"HTTP/1.1",'
...         '"httpMethod":"GET","requestId":"rid"}}')
>>> [p] = parse(pa.array([line], type=pa.large_string()), np.arange(1))
>>> p.cols["action"].to_pylist(), p.cols["rule"].to_pylist(), p.cols["user_agent"].to_pylist()
(['BLOCK'], ['STMTest_SQLi_XSS'], ['curl/7.61.1'])
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..arrow import Part, as_float, as_status

from ._common import Field, mark_errors, new_part
from ._jsonrows import read_paths

__all__ = ["FIELDS", "NAME", "RECOGNISE", "ROLE", "parse"]

NAME = "waf"
ROLE = "security"
RECOGNISE = r'^\{"timestamp":\d+,"formatVersion":\d+,"webaclId":'

FIELDS: tuple[Field, ...] = (
    *((f, "1 (2019-11, WAF v2)") for f in (
        "timestamp", "formatVersion", "webaclId", "terminatingRuleId", "terminatingRuleType", "action",
        "terminatingRuleMatchDetails", "httpSourceName", "httpSourceId", "ruleGroupList", "rateBasedRuleList",
        "nonTerminatingMatchingRules", "httpRequest.clientIp", "httpRequest.country", "httpRequest.headers",
        "httpRequest.uri", "httpRequest.args", "httpRequest.httpVersion", "httpRequest.httpMethod",
        "httpRequest.requestId")),
    ("labels", "1 (2021-03, labels)"), ("requestHeadersInserted", "1 (2021, custom requests)"),
    ("responseCodeSent", "1 (2021, custom responses)"), ("captchaResponse", "1 (2021-11, CAPTCHA)"),
    ("challengeResponse", "1 (2022-10, challenge)"), ("ja3Fingerprint", "1 (2023-10)"), ("ja4Fingerprint", "1 (2025)"),
)  # fmt: skip

_PATHS = ["timestamp", "webaclId", "terminatingRuleId", "action", "httpSourceName", "responseCodeSent",
          "httpRequest.clientIp", "httpRequest.country", "httpRequest.uri", "httpRequest.httpMethod",
          "httpRequest.requestId"]  # fmt: skip


def _header(name: str) -> Any:
    def get(obj: dict) -> Any:
        for h in (obj.get("httpRequest") or {}).get("headers") or []:
            if isinstance(h, dict) and str(h.get("name", "")).lower() == name:
                return h.get("value")
        return None

    return get


def parse(arr: pa.Array, idx: np.ndarray) -> list[Part]:
    """WAF log records -> one part."""
    n = len(arr)
    v, bad = read_paths(arr, _PATHS, {"host": _header("host"), "ua": _header("user-agent")})
    p = new_part(idx, NAME, pc.utf8_lower(v["action"]))
    p.set("action", v["action"])
    p.set("rule", v["terminatingRuleId"])
    p.set("service", v["webaclId"])
    p.set("protocol", v["httpSourceName"])
    p.set("status", as_status(v["responseCodeSent"], n))
    p.set("client_ip", v["httpRequest.clientIp"])
    p.set("country", v["httpRequest.country"])
    p.set("route", v["httpRequest.uri"])
    p.set("method", v["httpRequest.httpMethod"])
    p.set("request_id", v["httpRequest.requestId"])
    p.set("domain", v["host"])
    p.set("user_agent", v["ua"])
    p.set("_time_num", as_float(v["timestamp"], n))
    mark_errors(p, bad | ~np.asarray(v["timestamp"].is_valid()), "WAF log record that is not a JSON object with a timestamp")
    return [p]
