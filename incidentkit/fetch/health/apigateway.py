"""Throttling of API Gateway stages (REST and HTTP/WebSocket APIs), the limits AWS applies."""

from __future__ import annotations

from typing import Any, Mapping

from ...errors import NotFoundError
from .collector import _Collector
from .frames import _int

#: Throttling that applies when a stage sets none: the account-level quota per region.
APIGW_ACCOUNT_DEFAULT = (10_000.0, 5_000)


def _collect_apigw(c: _Collector, api: str, stages: list[str]) -> None:
    try:
        rest = c.call("apigateway", "get_rest_api", restApiId=api)
    except NotFoundError:
        rest = None
    if rest is not None:
        name = rest.get("name") or api
        if stages:
            items = [c.call("apigateway", "get_stage", restApiId=api, stageName=s) for s in stages]
        else:
            items = c.call("apigateway", "get_stages", restApiId=api).get("item") or []
        for st in items:
            _rest_stage(c, api, name, st)
        c.alarm_targets.append(("apigw_api", api, {"ApiName": name}))
    else:
        http = c.call("apigatewayv2", "get_api", ApiId=api)
        name = http.get("Name") or api
        if stages:
            items = [c.call("apigatewayv2", "get_stage", ApiId=api, StageName=s) for s in stages]
        else:
            items = c.pages("apigatewayv2", "get_stages", "Items", "NextToken", "NextToken", ApiId=api)
        for st in items:
            _http_stage(c, api, name, str(http.get("ProtocolType") or "HTTP").lower(), st)
        c.alarm_targets.append(("apigw_api", api, {"ApiId": api}))
    if not items:
        c.add_summary("apigw_api", api, "unhealthy", "no stage deployed: every request fails", "0 stages")


def _rest_stage(c: _Collector, api: str, name: str, st: Mapping[str, Any]) -> None:
    stage = st.get("stageName")
    rid = f"{api}/{stage}"
    ms = st.get("methodSettings") or {}
    default = ms.get("*/*") or {}
    rate, burst = default.get("throttlingRateLimit"), default.get("throttlingBurstLimit")
    scope_note = "stage" if rate is not None else "account default"
    if rate is None:
        rate, burst = APIGW_ACCOUNT_DEFAULT
    c.add_row("apigw_throttling", api_id=api, api_kind="rest", api_name=name, stage=stage, scope="*/*", rate_limit=rate, burst_limit=burst)
    c.add_setting("apigw_stage", rid, "methodSettings.*/*.throttlingRateLimit", default.get("throttlingRateLimit"))
    c.add_setting("apigw_stage", rid, "methodSettings.*/*.throttlingBurstLimit", default.get("throttlingBurstLimit"))
    overrides = []
    for key, m in ms.items():
        if key == "*/*":
            continue
        if "throttlingRateLimit" in m or "throttlingBurstLimit" in m:
            c.add_row("apigw_throttling", api_id=api, api_kind="rest", api_name=name, stage=stage, scope=key,
                      rate_limit=m.get("throttlingRateLimit"), burst_limit=m.get("throttlingBurstLimit"))
            c.add_setting("apigw_stage", rid, f"methodSettings.{key}.throttlingRateLimit", m.get("throttlingRateLimit"))
            c.add_setting("apigw_stage", rid, f"methodSettings.{key}.throttlingBurstLimit", m.get("throttlingBurstLimit"))
            overrides.append(key)
    c.add_setting("apigw_stage", rid, "deploymentId", st.get("deploymentId"))
    _apigw_summary(c, rid, float(rate), _int(burst), scope_note, overrides)


def _http_stage(c: _Collector, api: str, name: str, kind: str, st: Mapping[str, Any]) -> None:
    stage = st.get("StageName")
    rid = f"{api}/{stage}"
    d = st.get("DefaultRouteSettings") or {}
    rate, burst = d.get("ThrottlingRateLimit"), d.get("ThrottlingBurstLimit")
    scope_note = "stage" if rate is not None else "account default"
    if rate is None:
        rate, burst = APIGW_ACCOUNT_DEFAULT
    c.add_row("apigw_throttling", api_id=api, api_kind=kind, api_name=name, stage=stage, scope="$default", rate_limit=rate, burst_limit=burst)
    c.add_setting("apigw_stage", rid, "DefaultRouteSettings.ThrottlingRateLimit", d.get("ThrottlingRateLimit"))
    c.add_setting("apigw_stage", rid, "DefaultRouteSettings.ThrottlingBurstLimit", d.get("ThrottlingBurstLimit"))
    overrides = []
    for route, rs in (st.get("RouteSettings") or {}).items():
        if "ThrottlingRateLimit" in rs or "ThrottlingBurstLimit" in rs:
            c.add_row("apigw_throttling", api_id=api, api_kind=kind, api_name=name, stage=stage, scope=route,
                      rate_limit=rs.get("ThrottlingRateLimit"), burst_limit=rs.get("ThrottlingBurstLimit"))
            c.add_setting("apigw_stage", rid, f"RouteSettings.{route}.ThrottlingRateLimit", rs.get("ThrottlingRateLimit"))
            c.add_setting("apigw_stage", rid, f"RouteSettings.{route}.ThrottlingBurstLimit", rs.get("ThrottlingBurstLimit"))
            overrides.append(route)
    _apigw_summary(c, rid, float(rate), _int(burst), scope_note, overrides)


def _apigw_summary(c: _Collector, rid: str, rate: float, burst: int | None, scope: str, overrides: list[str]) -> None:
    key = f"rate {rate:g}/s, burst {burst}" + (f" ({scope})" if scope != "stage" else "")
    details = f"{len(overrides)} per-method/route throttling override(s)" if overrides else ""
    if rate <= 0 or (burst is not None and burst <= 0):
        c.add_summary("apigw_stage", rid, "unhealthy", "throttling limit 0: every request is rejected with 429", key, details)
    else:
        c.add_summary("apigw_stage", rid, "unknown", "API Gateway reports no health of its own; see alarms and metrics", key, details)
