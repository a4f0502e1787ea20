"""API Gateway + Lambda samples: incidents 1 (version skew), 2 (cold-start timeouts),
7 (cold-start tail), and a healthy HTTP API.

Formats exercised here: HTTP API and REST API JSON access logs (different ``$context``
templates), REST execution logs, Lambda platform text lines (tabs, ``Init Duration``,
``Status: timeout``, ``XRAY`` continuation), Lambda JSON platform records, Node.js and
Python runtime lines, Powertools structured logs, Lambda JSON application logs (Java),
Python tracebacks, ``Task timed out after ...``.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..fetch import metrics as M
from . import _formats as F
from ._core import (
    ACCOUNT,
    UA_BOTO3,
    UA_CLI,
    UA_CONSOLE,
    Builder,
    b64ids,
    concurrency_per_minute,
    finish,
    hexs,
    ip_pool,
    lognormal,
    per_minute,
    pick,
    role_identity,
    uuid4s,
    window,
    xray_ids,
)
from ._lambda import Invocations, LambdaFunction, platform_json_lines, platform_text_lines, simulate

# --------------------------------------------------------------------------------------------
# clients
# --------------------------------------------------------------------------------------------

_IOS = ["17.1", "17.4.1", "17.5.1", "17.6.1", "18.0.1", "18.1"]
_IPHONES = ["iPhone14,2", "iPhone14,5", "iPhone15,2", "iPhone15,3", "iPhone16,1", "iPhone13,1"]
_ANDROID = [("14", "Pixel 7"), ("13", "SM-S911B"), ("14", "SM-A546B"), ("12", "moto g(60)"), ("13", "22101316G"), ("15", "Pixel 8")]
_BROWSERS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/128.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:129.0) Gecko/20100101 Firefox/129.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/128.0.0.0 Safari/537.36 Edg/128.0.2739.42",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/128.0.6613.127 Mobile Safari/537.36",
]
_TOOLS = ["okhttp/4.9.0", "python-requests/2.32.3", "curl/8.7.1", "PostmanRuntime/7.41.2", "axios/1.7.4"]


def _users(
    b: Builder,
    n: int,
    *,
    app: str,
    versions: Sequence[tuple[str, float]],
    shares: tuple[float, float, float, float] = (0.45, 0.33, 0.17, 0.05),
) -> dict[str, np.ndarray]:
    """Client population: iOS app, Android app, browsers, tools (shares in that order)."""
    rng = b.rng
    kind = pick(rng, ["ios", "android", "web", "tool"], shares, n)
    ver = pick(rng, [v for v, _ in versions], [w for _, w in versions], n)
    ios = pick(rng, _IOS, None, n)
    iphone = pick(rng, _IPHONES, None, n)
    droid = pick(rng, [f"Android {a}; {m}" for a, m in _ANDROID], None, n)
    browser = pick(rng, _BROWSERS, [5, 2, 1.2, 1, 1.5, 1.5], n)
    tool = pick(rng, _TOOLS, [3, 2, 1, 0.5, 1], n)
    ua = np.empty(n, dtype=object)
    for i in range(n):
        k = kind[i]
        if k == "ios":
            ua[i] = f"{app}/{ver[i]} (iOS {ios[i]}; {iphone[i]})"
        elif k == "android":
            ua[i] = f"{app}/{ver[i]} ({droid[i]}) okhttp/4.12.0"
        elif k == "web":
            ua[i] = browser[i]
        else:
            ua[i] = tool[i]
    app_ver = np.where(np.isin(kind, ["ios", "android"]), ver, None)
    activity = rng.gamma(0.9, 1.0, n)
    return {"kind": kind, "version": app_ver, "ua": ua, "ip": ip_pool(rng, n), "activity": activity / activity.sum()}


def _routes(b: Builder, table: Sequence[dict[str, Any]], n: int) -> dict[str, np.ndarray]:
    """Draw ``n`` requests' routes from a table of dicts (route, method, path, weight, ms, sigma, size, auth)."""
    idx = b.rng.choice(len(table), size=n, p=np.array([r["weight"] for r in table]) / sum(r["weight"] for r in table))
    col = lambda k: np.array([table[i][k] for i in idx], dtype=object)  # noqa: E731
    ids = hexs(b.rng, n, 10)
    paths = np.array([p.replace("{id}", f"ord_{x}").replace("{sku}", f"SKU-{int(x[:5], 16) % 90000 + 10000}") for p, x in zip(col("path"), ids)], dtype=object)
    return {
        "idx": idx,
        "route": col("route"),
        "method": col("method"),
        "path": paths,
        "median_ms": np.array([table[i]["ms"] for i in idx], dtype=float),
        "sigma": np.array([table[i].get("sigma", 0.5) for i in idx], dtype=float),
        "size": np.array([table[i].get("size", 800) for i in idx], dtype=float),
        "auth": np.array([table[i].get("auth", True) for i in idx], dtype=bool),
    }


def _lambda_metrics(b: Builder, fn: LambdaFunction, inv: Any, *, errors: np.ndarray) -> None:
    """AWS/Lambda metrics of one function, from its simulated invocations."""
    g = b.grid
    served = ~inv.throttled
    t_end = inv.end[served]
    d = inv.duration_ms[served]
    series = {
        ("Invocations", "Sum"): per_minute(g, inv.t[served]),
        ("Errors", "Sum"): per_minute(g, inv.t[served], errors[served].astype(float), "sum"),
        ("Throttles", "Sum"): per_minute(g, inv.t[inv.throttled]),
        ("Duration", "p50"): per_minute(g, t_end, d, "p50"),
        ("Duration", "p90"): per_minute(g, t_end, d, "p90"),
        ("Duration", "p99"): per_minute(g, t_end, d, "p99"),
        ("Duration", "Maximum"): per_minute(g, t_end, d, "max"),
    }
    conc = concurrency_per_minute(g, inv.t[served], inv.end[served])
    series[("ConcurrentExecutions", "Maximum")] = np.where(series[("Invocations", "Sum")] > 0, conc, np.nan)
    inv_count = series[("Invocations", "Sum")]
    series[("Invocations", "Sum")] = np.where(inv_count > 0, inv_count, np.nan)
    series[("Errors", "Sum")] = np.where(inv_count > 0, series[("Errors", "Sum")], np.nan)
    b.metric_series(M.lambda_function(fn.name, region=fn.region), series, drop_zero={"Throttles"})


def _apigw_metrics(b: Builder, queries: list, t_end: np.ndarray, status: np.ndarray, latency: np.ndarray, integ: np.ndarray, *, http: bool) -> None:
    """AWS/ApiGateway metrics from access-log truth (integration latency NaN when none)."""
    g = b.grid
    count = per_minute(g, t_end)
    has = count > 0
    e4 = per_minute(g, t_end, ((status >= 400) & (status < 500)).astype(float), "sum")
    e5 = per_minute(g, t_end, (status >= 500).astype(float), "sum")
    k4, k5 = ("4xx", "5xx") if http else ("4XXError", "5XXError")
    integ_ok = ~np.isnan(integ)
    series = {
        ("Count", "Sum"): np.where(has, count, np.nan),
        (k4, "Sum"): np.where(has, e4, np.nan),
        (k5, "Sum"): np.where(has, e5, np.nan),
        (k5, "Average"): np.where(has, e5 / np.maximum(count, 1), np.nan),
        ("Latency", "p50"): per_minute(g, t_end, latency, "p50"),
        ("Latency", "p90"): per_minute(g, t_end, latency, "p90"),
        ("Latency", "p99"): per_minute(g, t_end, latency, "p99"),
        ("IntegrationLatency", "p50"): per_minute(g, t_end[integ_ok], integ[integ_ok], "p50"),
        ("IntegrationLatency", "p99"): per_minute(g, t_end[integ_ok], integ[integ_ok], "p99"),
    }
    b.metric_series(queries, series)


def _ms_text(v: np.ndarray) -> list[str]:
    """Latency values as API Gateway writes them (integer ms as text, ``-`` when absent)."""
    return ["-" if x != x else str(int(round(x))) for x in np.asarray(v, dtype=float)]


def _lambda_settings(b: Builder, fn: LambdaFunction, runtime: str, extra: dict[str, Any] | None = None) -> str:
    arn = f"arn:aws:lambda:{fn.region}:{ACCOUNT}:function:{fn.name}"
    values: dict[str, Any] = {
        "Runtime": runtime,
        "MemorySize": fn.memory_mb,
        "Timeout": int(fn.timeout_s),
        "Architectures": ["x86_64"],
        "PackageType": "Zip",
    }
    if fn.reserved_concurrency is not None:
        values["ReservedConcurrentExecutions"] = fn.reserved_concurrency
    values.update(extra or {})
    b.settings("AWS::Lambda::Function", arn, values)
    return arn


# --------------------------------------------------------------------------------------------
# incident 1: version skew (403 storm at 3 AM)
# --------------------------------------------------------------------------------------------

_SHOP_ROUTES = [
    {"route": "GET /orders", "method": "GET", "path": "/orders", "weight": 34, "ms": 48, "size": 2300},
    {"route": "GET /orders/{id}", "method": "GET", "path": "/orders/{id}", "weight": 24, "ms": 31, "size": 940},
    {"route": "POST /orders", "method": "POST", "path": "/orders", "weight": 8, "ms": 122, "size": 610},
    {"route": "GET /catalog/items", "method": "GET", "path": "/catalog/items", "weight": 10, "ms": 41, "size": 5400, "auth": False},
    {"route": "GET /me", "method": "GET", "path": "/me", "weight": 12, "ms": 22, "size": 420},
    {"route": "PUT /me/device", "method": "PUT", "path": "/me/device", "weight": 4, "ms": 35, "size": 80},
]


def version_skew_errors(*, seed: int = 0, scale: float = 1.0) -> Any:
    """Incident 1: a JWT-validation deploy rejects the tokens of app versions < 3.0 (~30 % of requests)."""
    w = window("2026-03-10T02:30:00Z", "2026-03-10T04:00:00Z")
    b = Builder("version-skew-errors", seed, scale, w, w.baseline("previous"), region="us-east-1")
    rng = b.rng
    api_id = "k7m2x9q4ra"
    access_group = "/aws/vendedlogs/apigateway/shop-http-api/access"
    auth_fn = LambdaFunction("shop-jwt-authorizer", memory_mb=256, timeout_s=10, runtime="nodejs:20.v33",
                             runtime_arn_hash=hexs(rng, 1, 64)[0], region=b.region, base_memory_mb=72)
    api_fn = LambdaFunction("shop-orders-api", memory_mb=512, timeout_s=15, runtime="python:3.12.v38",
                            runtime_arn_hash=hexs(rng, 1, 64)[0], region=b.region, base_memory_mb=94)
    deploy = b.at("2026-03-10T02:47:12Z")

    users = _users(b, b.count(900), app="ShopApp",
                   versions=[("3.4.1", 45), ("3.4.0", 12), ("3.3.2", 5), ("2.9.0", 28), ("2.8.5", 10)],
                   shares=(0.50, 0.38, 0.10, 0.02))
    old = np.array([v is not None and v.startswith("2.") for v in users["version"]])
    t = b.arrivals(lambda s: 0.27 * (1 + 0.08 * np.sin(s / 1900.0)))
    n = len(t)
    u = rng.choice(len(users["ua"]), size=n, p=users["activity"])
    r = _routes(b, _SHOP_ROUTES, n)
    # browsers and tools call the public catalog more; nobody but the app calls /me/device
    no_auth_header = rng.random(n) < 0.003  # bots and broken clients: 401 without invoking the authorizer

    # --- the authorizer, with its 300 s result cache keyed on the token -------------------------
    ttl = 300.0
    cache_until = np.full(len(users["ua"]), -1.0)
    cache_allow = np.zeros(len(users["ua"]), dtype=bool)
    expired = rng.random(len(users["ua"])) < 0.01  # tokens the app forgot to refresh
    auth_t, auth_user, auth_allow, auth_reason = [], [], [], []
    decided = np.ones(n, dtype=bool)
    invoked = np.zeros(n, dtype=bool)
    for i in range(n):
        if not r["auth"][i] or no_auth_header[i]:
            continue
        k = u[i]
        if t[i] < cache_until[k]:
            decided[i] = cache_allow[k]
            continue
        reason = None
        if expired[k] and rng.random() < 0.5:
            reason = "TokenExpiredError: jwt expired"
        elif t[i] >= deploy and old[k]:
            reason = "JsonWebTokenError: jwt audience invalid. expected: https://api.shop.example.com"
        allow = reason is None
        cache_until[k] = t[i] + ttl
        cache_allow[k] = allow
        decided[i] = allow
        invoked[i] = True
        auth_t.append(t[i])
        auth_user.append(k)
        auth_allow.append(allow)
        auth_reason.append(reason)
    auth_t = np.asarray(auth_t)
    auth_inv = simulate(
        b, auth_fn, auth_t, lognormal(rng, 14.0, 0.45, len(auth_t)),
        init_ms=lambda k: rng.uniform(210, 420, k), version=lambda s: "13" if s >= deploy + 6 else "12", warm_at_start=2,
    )
    auth_ms = auth_inv.init_ms.copy()
    auth_ms = np.nan_to_num(auth_ms) + auth_inv.duration_ms + rng.uniform(3, 9, len(auth_t))
    auth_latency = np.zeros(n)
    auth_latency[invoked] = auth_ms

    # --- status of each request --------------------------------------------------------------
    status = np.full(n, 200)
    status[no_auth_header] = 401
    denied = r["auth"] & ~no_auth_header & ~decided
    status[denied] = 403
    allowed = status == 200
    post = r["method"] == "POST"
    status[allowed & (r["route"] == "GET /orders/{id}") & (rng.random(n) < 0.025)] = 404
    status[allowed & post & (rng.random(n) < 0.015)] = 400
    status[allowed & (rng.random(n) < 0.0012)] = 500

    # --- the backend function serves what the authorizer let through --------------------------
    served = status != 401
    served &= status != 403
    back_t = t[served] + auth_latency[served] / 1000.0 + 0.004
    handler = lognormal(rng, r["median_ms"][served], 0.45, int(served.sum()))
    api_inv = simulate(b, api_fn, back_t, handler, init_ms=lambda k: rng.uniform(520, 980, k),
                       cold_extra_ms=rng.uniform(80, 260, len(back_t)), version=lambda s: "41", warm_at_start=2)
    integ = np.full(n, np.nan)
    integ[served] = np.nan_to_num(api_inv.init_ms) + api_inv.duration_ms + rng.uniform(2, 6, len(back_t))
    latency = auth_latency + np.nan_to_num(integ) + rng.uniform(1, 4, n)
    latency[denied & ~invoked] = rng.uniform(1, 3, int((denied & ~invoked).sum()))
    t_end = t + latency / 1000.0
    resp_len = np.where(status == 200, np.round(r["size"] * rng.uniform(0.6, 1.5, n)), 0)
    resp_len[status == 403] = 23  # {"message":"Forbidden"}
    resp_len[status == 401] = 26  # {"message":"Unauthorized"}
    resp_len[status == 404] = 38
    resp_len[status == 400] = 71
    resp_len[status == 500] = 35  # {"message":"Internal Server Error"}

    # access log: an HTTP API custom JSON format, every value quoted by the template
    b.log(access_group, f"{api_id}_$default", t_end, F.json_lines({
        "requestId": b64ids(rng, n),
        "ip": users["ip"][u],
        "requestTime": F.clf_time(t),
        "httpMethod": r["method"],
        "routeKey": r["route"],
        "path": r["path"],
        "status": [str(s) for s in status],
        "protocol": ["HTTP/1.1"] * n,
        "responseLength": [str(int(x)) for x in resp_len],
        "integrationLatency": _ms_text(integ),
        "responseLatency": [str(int(round(x))) for x in latency],
        "userAgent": users["ua"][u],
    }))

    # authorizer (Node.js 20) logs: platform lines + a line per decision, WARN on denial
    ts, ss, ms = platform_text_lines(b, auth_fn, auth_inv)
    b.log(auth_fn.log_group, ss, ts, ms)
    ok = ~auth_inv.throttled
    au = np.asarray(auth_user)
    subj = [f"usr_{x}" for x in hexs(rng, len(users["ua"]), 12)]
    msgs, lv = [], []
    for j in range(len(auth_t)):
        who = f"sub={subj[au[j]]} client={users['ua'][au[j]].split(' ')[0]}"
        if auth_allow[j]:
            msgs.append(f"Allow {who} scope=orders:read orders:write")
            lv.append("INFO")
        else:
            msgs.append(f"Deny {who}: {auth_reason[j]}")
            lv.append("WARN")
    rid = auth_inv.request_id
    b.log(auth_fn.log_group, auth_inv.stream[ok], auth_inv.start[ok] + 0.004,
          F.node_runtime(auth_inv.start[ok] + 0.004, np.asarray(lv)[ok], [rid[j] for j in np.flatnonzero(ok)], np.asarray(msgs, dtype=object)[ok]))

    # backend (Python, Powertools) logs
    ts, ss, ms = platform_text_lines(b, api_fn, api_inv)
    b.log(api_fn.log_group, ss, ts, ms)
    bs = status[served]
    lvl = np.where(bs >= 500, "ERROR", np.where(bs >= 400, "WARNING", "INFO"))
    msg = np.where(bs >= 500, "Unhandled error while serving request", np.where(bs >= 400, "Request rejected", "Request served"))
    b.log(api_fn.log_group, api_inv.stream, api_inv.end - 0.001, F.powertools_lines(
        api_inv.end - 0.001, lvl, msg, service="orders", location="handler:88", cold_start=api_inv.cold,
        function_name=api_fn.name, memory_mb=api_fn.memory_mb,
        function_arn=f"arn:aws:lambda:{b.region}:{ACCOUNT}:function:{api_fn.name}", request_ids=api_inv.request_id,
        xray=xray_ids(rng, back_t),
        extra={"route": r["route"][served], "status": bs, "duration_ms": np.round(api_inv.duration_ms, 2)},
    ))

    # --- metrics ----------------------------------------------------------------------------
    _apigw_metrics(b, M.api_gateway(api_id, "$default", region=b.region), t_end, status, latency, integ, http=True)
    _lambda_metrics(b, auth_fn, auth_inv, errors=np.zeros(len(auth_t), dtype=bool))
    _lambda_metrics(b, api_fn, api_inv, errors=bs >= 500)

    # --- changes ----------------------------------------------------------------------------
    ci = role_identity(b, "github-actions-deploy", "GitHubActions", when=deploy)
    ua = UA_CLI.format(command="lambda.update-function-code")
    fn_arn = f"arn:aws:lambda:{b.region}:{ACCOUNT}:function:{auth_fn.name}"
    b.cloudtrail(deploy, "lambda.amazonaws.com", "UpdateFunctionCode20150331v2", identity=ci, user_agent=ua, source_ip="140.82.112.21",
                 request={"functionName": auth_fn.name, "publish": False, "dryRun": False},
                 response={"functionName": auth_fn.name, "functionArn": fn_arn, "runtime": "nodejs20.x", "codeSize": 48213,
                           "version": "$LATEST", "lastUpdateStatus": "InProgress"})
    b.cloudtrail(deploy + 7, "lambda.amazonaws.com", "PublishVersion20150331", identity=ci, user_agent=UA_CLI.format(command="lambda.publish-version"),
                 source_ip="140.82.112.21", request={"functionName": auth_fn.name, "description": "jwt: enforce audience (PR #412)"},
                 response={"functionName": auth_fn.name, "functionArn": f"{fn_arn}:13", "version": "13"})
    b.cloudtrail(deploy + 9, "lambda.amazonaws.com", "UpdateAlias20150331", identity=ci, user_agent=UA_CLI.format(command="lambda.update-alias"),
                 source_ip="140.82.112.21", request={"functionName": auth_fn.name, "name": "live", "functionVersion": "13"},
                 response={"aliasArn": f"{fn_arn}:live", "name": "live", "functionVersion": "13"})
    ops = role_identity(b, "AWSReservedSSO_PowerUserAccess_5c2e1b7d9a3f4e60", "dana.kim@shop.example.com", mfa=True, when=b.t_baseline[0])
    b.cloudtrail(b.at("2026-03-10T01:41:37Z"), "monitoring.amazonaws.com", "PutMetricAlarm", identity=ops, user_agent=UA_CONSOLE,
                 source_ip="198.51.100.23", request={"alarmName": "shop-http-api-4xx-rate", "metricName": "4xx", "namespace": "AWS/ApiGateway",
                                                      "threshold": 0.05, "comparisonOperator": "GreaterThanThreshold", "evaluationPeriods": 3})

    # --- settings ---------------------------------------------------------------------------
    _lambda_settings(b, auth_fn, "nodejs20.x", {"Version": "13", "LastModified": "2026-03-10T02:47:12.000+0000"})
    _lambda_settings(b, api_fn, "python3.12", {"Version": "41"})
    b.settings("AWS::ApiGatewayV2::Authorizer", f"{api_id}/jwt-lambda", {
        "AuthorizerType": "REQUEST", "AuthorizerPayloadFormatVersion": "2.0", "EnableSimpleResponses": True,
        "AuthorizerResultTtlInSeconds": 300, "IdentitySource": ["$request.header.Authorization"],
        "AuthorizerUri": f"arn:aws:apigateway:{b.region}:lambda:path/2015-03-31/functions/{fn_arn}:live/invocations",
    })
    b.settings("AWS::ApiGatewayV2::Stage", f"{api_id}/$default", {"AutoDeploy": True, "ThrottlingBurstLimit": 5000, "ThrottlingRateLimit": 10000})

    return finish(
        b, finding_id="version-skew-errors", incident=1, title="403 storm at 3 AM",
        description="""The 4XX alarm of the shop's HTTP API fired at 3 AM while traffic looked normal: about 30 % of
        requests were answered 403. A deploy of the JWT authorizer at 02:47 started enforcing the token audience;
        the tokens of the old mobile app (ShopApp 2.x, about 30 % of users) carry none, so every request of those
        users is rejected while 3.x clients are unaffected (the authorizer's 5-minute cache spreads the onset).""",
        parameters={
            "log_groups": [access_group, auth_fn.log_group, api_fn.log_group],
            "api_id": api_id,
            "function_name": auth_fn.name,
            "region": b.region,
        },
    )


# --------------------------------------------------------------------------------------------
# incident 2: cold-start timeouts under a burst (API Gateway 504)
# --------------------------------------------------------------------------------------------

_CHECKOUT_ROUTES = [
    {"route": "/checkout", "method": "POST", "path": "/checkout", "weight": 35, "ms": 210, "size": 480},
    {"route": "/cart", "method": "GET", "path": "/cart", "weight": 30, "ms": 70, "size": 1900},
    {"route": "/cart/items", "method": "POST", "path": "/cart/items", "weight": 25, "ms": 95, "size": 350},
    {"route": "/promotions/{code}", "method": "GET", "path": "/promotions/{id}", "weight": 10, "ms": 45, "size": 260},
]


def cold_start_timeouts(*, seed: int = 0, scale: float = 1.0) -> Any:
    """Incident 2: a flash-sale burst makes many cold starts whose first request runs past API Gateway's 29 s."""
    w = window("2026-04-17T17:45:00Z", "2026-04-17T18:45:00Z")
    b = Builder("cold-start-timeouts", seed, scale, w, w.baseline("previous"), region="eu-west-1")
    rng = b.rng
    api_id, api_name, stage = "7h2k4m9x1c", "checkout-api", "prod"
    access_group = f"/aws/apigateway/{api_name}/{stage}/access"
    exec_group = f"API-Gateway-Execution-Logs_{api_id}/{stage}"
    fn = LambdaFunction("checkout-handler", memory_mb=1024, timeout_s=30, runtime="python:3.11.v45",
                        runtime_arn_hash=hexs(rng, 1, 64)[0], region=b.region, reserved_concurrency=100, base_memory_mb=180)
    burst0 = b.at("2026-04-17T18:00:00Z")

    def rate(s: np.ndarray) -> np.ndarray:
        base = 0.17 + 0.03 * np.sin(s / 700.0)
        # a push notification to every user: traffic jumps forty-fold within seconds
        ramp = np.clip((s - burst0) / 20.0, 0, 1)
        decay = np.where(s > burst0 + 360, np.exp(-(s - burst0 - 360) / 130.0), 1.0)
        return base + 9.5 * ramp * decay

    t = b.arrivals(rate)
    n = len(t)
    r = _routes(b, _CHECKOUT_ROUTES, n)
    users = _users(b, b.count(1500), app="SaleApp", versions=[("5.2.0", 70), ("5.1.3", 30)], shares=(0.42, 0.38, 0.18, 0.02))
    u = rng.choice(len(users["ua"]), size=n, p=users["activity"])
    in_burst = (t >= burst0) & (t < burst0 + 600)
    # under the burst the database behind the function is contended: warm calls slow down,
    # and a new environment's first request (secrets + connection set-up) takes 15-30 s
    handler = lognormal(rng, r["median_ms"] * np.where(in_burst, 12.0, 1.0), np.where(in_burst, 0.6, 0.45), n)
    cold_extra = np.where(in_burst, lognormal(rng, 28500.0, 0.2, n), lognormal(rng, 1100.0, 0.3, n))
    inv = simulate(b, fn, t, handler, init_ms=lambda k: rng.uniform(2600, 4700, k), cold_extra_ms=cold_extra, warm_at_start=3)

    # API Gateway's view: 29 s integration timeout, Lambda 429 -> 500, timeouts/errors -> 504/502
    total = np.nan_to_num(inv.init_ms) + np.nan_to_num(inv.duration_ms) + rng.uniform(8, 25, n)
    status = np.full(n, 200)
    bad_input = rng.random(n) < 0.012
    status[bad_input & (r["method"] == "POST")] = 400
    status[(r["route"] == "/promotions/{code}") & (rng.random(n) < 0.08)] = 404
    app_error = rng.random(n) < 0.0015
    status[app_error] = 500
    timeout_gw = total >= 29000
    status[timeout_gw] = 504
    status[inv.throttled] = 500
    integ = np.minimum(total, 29000 + rng.uniform(0, 12, n))
    integ[inv.throttled] = rng.uniform(9, 30, int(inv.throttled.sum()))
    integ_status = np.where(inv.throttled, "429", np.where(timeout_gw, "-", "200"))
    latency = integ + rng.uniform(4, 14, n)
    t_end = t + latency / 1000.0
    resp_len = np.where(status == 200, np.round(r["size"] * rng.uniform(0.7, 1.3, n)), 0)
    resp_len[status == 504] = 41  # {"message": "Endpoint request timed out"}
    resp_len[status == 500] = 36
    resp_len[(status == 400) | (status == 404)] = 60

    rids = uuid4s(rng, n)
    b.log(access_group, hexs(rng, 1, 32)[0], t_end, F.json_lines({
        "requestId": rids,
        "extendedRequestId": b64ids(rng, n),
        "ip": users["ip"][u],
        "caller": ["-"] * n,
        "user": ["-"] * n,
        "requestTime": F.clf_time(t),
        "requestTimeEpoch": [str(int(x * 1000)) for x in t],
        "httpMethod": r["method"],
        "resourcePath": r["route"],
        "path": [f"/{stage}{p}" for p in r["path"]],
        "status": [str(s) for s in status],
        "protocol": ["HTTP/1.1"] * n,
        "responseLength": [str(int(x)) for x in resp_len],
        "responseLatency": [str(int(round(x))) for x in latency],
        "integrationLatency": [str(int(round(x))) for x in integ],
        "integrationStatus": integ_status,
        "userAgent": users["ua"][u],
    }))

    # execution log at ERROR level: only the failures
    bad = np.flatnonzero(status >= 500)
    lines_t, lines = [], []
    for i in bad:
        p = f"({rids[i]})"
        if inv.throttled[i]:
            lines_t += [t[i] + 0.01, t_end[i]]
            lines += [f"{p} Lambda invocation failed with status: 429. Lambda request id: {uuid4s(rng, 1)[0]}",
                      f"{p} Execution failed due to configuration error: Rate Exceeded."]
        elif timeout_gw[i]:
            lines_t += [t_end[i] - 0.002, t_end[i]]
            lines += [f"{p} Execution failed due to a timeout error", f"{p} Method completed with status: 504"]
        else:
            lines_t += [t_end[i]]
            lines += [f"{p} Method completed with status: 500"]
    b.log(exec_group, hexs(rng, 1, 32)[0], np.asarray(lines_t), lines)

    # the function's own logs: platform text lines, Python runtime lines, timeouts, tracebacks
    ts, ss, ms = platform_text_lines(b, fn, inv)
    b.log(fn.log_group, ss, ts, ms)
    ok = np.flatnonzero(~inv.throttled)
    info_i = ok[rng.random(len(ok)) < 0.1]
    b.log(fn.log_group, inv.stream[info_i], inv.start[info_i] + 0.003, F.python_runtime(
        inv.start[info_i] + 0.003, ["INFO"] * len(info_i), [inv.request_id[i] for i in info_i],
        [f"{m} {p} cart_items={int(c)}" for m, p, c in zip(r["method"][info_i], r["route"][info_i], rng.integers(1, 9, len(info_i)))]))
    cold_i = ok[inv.cold[ok]]
    b.log(fn.log_group, inv.stream[cold_i], inv.start[cold_i] + 0.05, F.python_runtime(
        inv.start[cold_i] + 0.05, ["INFO"] * len(cold_i), [inv.request_id[i] for i in cold_i],
        ["Loaded secret checkout/db-credentials; opening connection pool to checkout-db.cluster-c9akciq32.eu-west-1.rds.amazonaws.com"] * len(cold_i)))
    slow_i = ok[(inv.cold[ok]) & (np.nan_to_num(inv.duration_ms[ok]) > 8000)]
    b.log(fn.log_group, inv.stream[slow_i], inv.start[slow_i] + 6.0, F.python_runtime(
        inv.start[slow_i] + 6.0, ["WARNING"] * len(slow_i), [inv.request_id[i] for i in slow_i],
        ["GetSecretValue throttled (ThrottlingException: Rate exceeded), retrying in 1.6 s"] * len(slow_i)))
    to_i = ok[inv.timed_out[ok]]
    b.log(fn.log_group, inv.stream[to_i], inv.end[to_i] - 0.0004, F.lambda_timeout_line(
        inv.end[to_i] - 0.0004, [inv.request_id[i] for i in to_i], fn.timeout_s,
        overrun_ms=inv.duration_ms[to_i] - fn.timeout_s * 1000))
    err_i = ok[app_error[ok] & ~inv.timed_out[ok]]
    tb = [
        "[ERROR] KeyError: 'currency'\nTraceback (most recent call last):\n"
        '  File "/var/task/checkout/handler.py", line 57, in lambda_handler\n    return route(event)\n'
        '  File "/var/task/checkout/routes.py", line 112, in create_checkout\n    price = quote(cart)["currency"]'
    ] * len(err_i)
    b.log(fn.log_group, inv.stream[err_i], inv.end[err_i] - 0.001, tb)

    # metrics
    integ_m = np.where(inv.throttled, np.nan, integ)
    _apigw_metrics(b, M.api_gateway(api_name, stage, kind="rest", region=b.region), t_end, status, latency, integ_m, http=False)
    _lambda_metrics(b, fn, inv, errors=inv.timed_out | app_error)
    g = b.grid
    acct = M.lambda_account(region=b.region)
    conc = concurrency_per_minute(g, inv.t[~inv.throttled], inv.end[~inv.throttled])
    b.metric_series(acct, {
        ("ConcurrentExecutions", "Maximum"): conc + 38 + rng.integers(0, 6, len(g)),
        ("UnreservedConcurrentExecutions", "Maximum"): 38 + rng.integers(0, 6, len(g)).astype(float),
        ("ClaimedAccountConcurrency", "Maximum"): np.maximum(conc, 100) + 38 + rng.integers(0, 6, len(g)),
        ("Throttles", "Sum"): per_minute(g, inv.t[inv.throttled]),
    }, drop_zero={"Throttles"})

    # changes: a feature-flag flip that started the sale, nothing else
    mkt = role_identity(b, "AWSReservedSSO_MarketingOps_0b7e5d1c9f2a3e48", "lea.martin@sale.example.com", mfa=True, when=burst0)
    b.cloudtrail(burst0 - 62, "appconfig.amazonaws.com", "StartDeployment", identity=mkt, user_agent=UA_CONSOLE, source_ip="203.0.113.77",
                 request={"applicationId": "k2m8v5q", "environmentId": "prod9x1", "configurationProfileId": "flags7c",
                          "configurationVersion": "58", "deploymentStrategyId": "AppConfig.AllAtOnce"},
                 response={"deploymentNumber": 31, "state": "DEPLOYING"})

    _lambda_settings(b, fn, "python3.11", {"Version": "$LATEST", "VpcConfig": {"SubnetIds": ["subnet-0a1b2c3d4e5f60718", "subnet-0f9e8d7c6b5a40312"]}})
    b.settings("AWS::ApiGateway::Stage", f"{api_id}/{stage}", {"ApiName": api_name, "TimeoutInMillis": 29000, "TracingEnabled": False,
                                                            "MethodSettings.*/*.ThrottlingBurstLimit": 5000, "MethodSettings.*/*.LoggingLevel": "ERROR"})

    return finish(
        b, finding_id="cold-start-timeouts", incident=2, title="5XX surge under peak traffic",
        description="""A flash sale at 18:00 multiplied traffic by fifteen and about 15 % of requests failed with 5XX
        while the load-balancer health checks stayed green. The burst forced Lambda to start a hundred new execution
        environments at once: their init plus a first request that fetches secrets and opens database connections
        under contention ran past API Gateway's 29 s integration timeout (504), the function hit its reserved
        concurrency of 100 (throttles, 500) and timed out at 30 s.""",
        parameters={
            "log_groups": [access_group, fn.log_group, exec_group],
            "api_id": api_id,
            "api_name": api_name,
            "stage": stage,
            "function_name": fn.name,
            "region": b.region,
        },
    )


# --------------------------------------------------------------------------------------------
# incident 7: cold-start tail in quiet hours
# --------------------------------------------------------------------------------------------

_CATALOG_ROUTES = [
    {"route": "/search", "method": "GET", "path": "/search", "weight": 45, "ms": 175, "size": 6100},
    {"route": "/products/{sku}", "method": "GET", "path": "/products/{sku}", "weight": 40, "ms": 120, "size": 2400},
    {"route": "/products/{sku}/stock", "method": "GET", "path": "/products/{sku}/stock", "weight": 15, "ms": 90, "size": 180},
]


def cold_start_tail(*, seed: int = 0, scale: float = 1.0) -> Any:
    """Incident 7: P99 at ~8 s only in quiet hours: Java cold starts after idle periods (P50 ~200 ms)."""
    w = window("2026-09-02T00:00:00Z", "2026-09-02T06:00:00Z")
    b = Builder("cold-start-tail", seed, scale, w, w.baseline("previous"), region="eu-west-1")
    rng = b.rng
    api_id, api_name, stage = "p4w8n2k6zt", "catalog-api", "prod"
    access_group = f"/aws/apigateway/{api_name}/{stage}/access"
    fn = LambdaFunction("catalog-search", memory_mb=1024, timeout_s=20, runtime="java:17.v33",
                        runtime_arn_hash=hexs(rng, 1, 64)[0], region=b.region, base_memory_mb=210, idle_ttl_s=(300, 780))

    # traffic in sessions (a user opens the app and makes a few calls); requests per minute by hour (UTC)
    hours = np.array([1.2, 0.7, 0.5, 0.45, 0.6, 1.1, 2.0, 4.5, 7, 8, 8.5, 9, 9.5, 9, 8.5, 8.5, 9, 10, 11.5, 12, 11, 8.5, 5, 2.2])

    def session_rate(s: np.ndarray) -> np.ndarray:
        h = (s % 86400) / 3600.0
        lo = np.floor(h).astype(int) % 24
        frac = h - np.floor(h)
        rpm = hours[lo] * (1 - frac) + hours[(lo + 1) % 24] * frac
        return rpm / 60.0 / 5.0

    starts = b.arrivals(session_rate)
    k = 1 + rng.poisson(4.0, len(starts))
    offs = np.concatenate([np.cumsum(rng.exponential(7.0, kk)) - 0 for kk in k]) if len(k) else np.array([])
    t = np.repeat(starts, k) + offs
    t = np.sort(t[b.in_segments(t)])
    n = len(t)
    r = _routes(b, _CATALOG_ROUTES, n)
    users = _users(b, b.count(2500), app="CatalogApp", versions=[("4.12.0", 60), ("4.11.2", 30), ("4.10.0", 10)])
    u = rng.choice(len(users["ua"]), size=n, p=users["activity"])
    handler = lognormal(rng, r["median_ms"], 0.33, n)
    inv = simulate(b, fn, t, handler, init_ms=lambda m: rng.uniform(5300, 7300, m), cold_extra_ms=rng.uniform(650, 1150, n), warm_at_start=2)
    status = np.full(n, 200)
    status[(r["route"] == "/products/{sku}") & (rng.random(n) < 0.03)] = 404
    status[rng.random(n) < 0.0008] = 502
    integ = np.nan_to_num(inv.init_ms) + inv.duration_ms + rng.uniform(6, 20, n)
    latency = integ + rng.uniform(3, 9, n)
    t_end = t + latency / 1000.0
    resp_len = np.where(status == 200, np.round(r["size"] * rng.uniform(0.5, 1.6, n)), 62)
    ips = users["ip"][u]
    b.log(access_group, hexs(rng, 1, 32)[0], t_end, F.json_lines({
        "requestId": inv.request_id,
        "ip": ips,
        "caller": ["-"] * n,
        "user": ["-"] * n,
        "requestTime": F.clf_time(t),
        "httpMethod": r["method"],
        "resourcePath": r["route"],
        "status": [str(s) for s in status],
        "protocol": ["HTTP/1.1"] * n,
        "responseLength": [str(int(x)) for x in resp_len],
        "responseLatency": [str(int(round(x))) for x in latency],
        "integrationLatency": [str(int(round(x))) for x in integ],
        "userAgent": users["ua"][u],
    }, spaced=True))

    # the function writes JSON logs (LoggingConfig.LogFormat=JSON): platform records + app records
    ts, ss, ms = platform_json_lines(b, fn, inv)
    b.log(fn.log_group, ss, ts, ms)
    app_i = np.flatnonzero(rng.random(n) < 0.6)
    tt = inv.start[app_i] + inv.duration_ms[app_i] / 1000.0 * 0.8
    msgs = [f"{'Search' if rr == '/search' else 'Lookup'} served in {d:.0f} ms (hits={h})"
            for rr, d, h in zip(r["route"][app_i], inv.duration_ms[app_i], rng.integers(0, 48, len(app_i)))]
    b.log(fn.log_group, inv.stream[app_i], tt, F.json_lines({
        "timestamp": F.iso_ms(tt), "level": ["INFO"] * len(app_i), "message": msgs,
        "logger": ["com.example.catalog.SearchHandler"] * len(app_i), "AWSRequestId": [inv.request_id[i] for i in app_i],
    }))
    cold_i = np.flatnonzero(inv.cold)
    tc = inv.start[cold_i] + 0.002
    b.log(fn.log_group, inv.stream[cold_i], tc, F.json_lines({
        "timestamp": F.iso_ms(tc), "level": ["INFO"] * len(cold_i),
        "message": [f"Started CatalogApplication in {x / 1000 - 0.4:.3f} seconds (process running for {x / 1000:.3f})" for x in inv.init_ms[cold_i]],
        "logger": ["org.springframework.boot.StartupInfoLogger"] * len(cold_i),
        "AWSRequestId": [inv.request_id[i] for i in cold_i],
    }))

    _apigw_metrics(b, M.api_gateway(api_name, stage, kind="rest", region=b.region), t_end, status, latency, integ, http=False)
    _lambda_metrics(b, fn, inv, errors=status >= 500)

    # the change behind it: provisioned concurrency removed the evening before, to save cost
    finops = role_identity(b, "AWSReservedSSO_FinOps_7d1e0c2b5a9f3e64", "marc.weber@catalog.example.com", mfa=True, when=b.t_baseline[0])
    b.cloudtrail(b.at("2026-09-01T18:26:41Z"), "lambda.amazonaws.com", "DeleteProvisionedConcurrencyConfig", identity=finops,
                 user_agent=UA_CONSOLE, source_ip="198.51.100.140", request={"functionName": fn.name, "qualifier": "live"})
    b.cloudtrail(b.at("2026-09-01T18:27:05Z"), "cloudformation.amazonaws.com", "UpdateStack", identity=finops, user_agent=UA_CONSOLE,
                 source_ip="198.51.100.140", request={"stackName": "catalog-dashboards", "usePreviousTemplate": True})
    _lambda_settings(b, fn, "java17", {"Version": "$LATEST", "SnapStart.ApplyOn": "None", "LoggingConfig.LogFormat": "JSON"})
    b.settings("AWS::ApiGateway::Stage", f"{api_id}/{stage}", {"ApiName": api_name, "TimeoutInMillis": 29000, "CacheClusterEnabled": False})

    return finish(
        b, finding_id="cold-start-tail", incident=7, title="P99 at 8 s in quiet hours, P50 200 ms",
        description="""The catalog API's P99 latency climbed to about 8 s every night between midnight and 6 AM while
        its P50 stayed around 200 ms; daytime P99 was under half a second. At night traffic is so thin that Lambda
        reclaims the idle execution environments between sessions, so a session's first request pays a Java cold
        start (6-7 s of Init Duration plus a slow first call) — provisioned concurrency had been removed the evening
        before to save cost.""",
        parameters={
            "log_groups": [access_group, fn.log_group],
            "api_id": api_id,
            "api_name": api_name,
            "stage": stage,
            "function_name": fn.name,
            "region": b.region,
        },
    )


# --------------------------------------------------------------------------------------------
# healthy: an HTTP API on Lambda with a normal canary deploy
# --------------------------------------------------------------------------------------------

_ACCOUNT_ROUTES = [
    {"route": "GET /accounts/{id}", "method": "GET", "path": "/accounts/{id}", "weight": 40, "ms": 38, "size": 1200},
    {"route": "GET /accounts/{id}/invoices", "method": "GET", "path": "/accounts/{id}/invoices", "weight": 22, "ms": 95, "size": 7400},
    {"route": "PATCH /accounts/{id}", "method": "PATCH", "path": "/accounts/{id}", "weight": 10, "ms": 64, "size": 900},
    {"route": "POST /sessions", "method": "POST", "path": "/sessions", "weight": 18, "ms": 55, "size": 620},
    {"route": "GET /health", "method": "GET", "path": "/health", "weight": 10, "ms": 3, "size": 15, "auth": False},
]


def healthy_lambda_api(*, seed: int = 0, scale: float = 1.0) -> Any:
    """Healthy: an HTTP API on a Python Lambda (Powertools), a canary deploy, the usual trickle of errors."""
    w = window("2026-09-15T13:00:00Z", "2026-09-15T14:00:00Z")
    b = Builder("healthy-lambda-api", seed, scale, w, w.baseline("previous"), region="us-west-2")
    rng = b.rng
    api_id = "n3v5b8c1xd"
    access_group = "/aws/vendedlogs/apigateway/accounts-api"
    fn = LambdaFunction("accounts-api-handler", memory_mb=768, timeout_s=10, runtime="python:3.12.v38",
                        runtime_arn_hash=hexs(rng, 1, 64)[0], region=b.region, reserved_concurrency=12, base_memory_mb=104)
    fn_arn = f"arn:aws:lambda:{b.region}:{ACCOUNT}:function:{fn.name}"
    deploy = b.at("2026-09-15T13:21:08Z")
    shift = deploy + 95 + 300  # CodeDeploy Canary10Percent5Minutes: 10 % for 5 minutes, then all

    spike0 = b.at("2026-09-15T13:39:40Z")
    t = b.arrivals(lambda s: 0.42 + 0.05 * np.sin(s / 800.0) + np.where((s >= spike0) & (s < spike0 + 8), 50.0, 0.0))
    n = len(t)
    r = _routes(b, _ACCOUNT_ROUTES, n)
    users = _users(b, b.count(1200), app="AcmeAccounts", versions=[("7.3.0", 55), ("7.2.4", 30), ("6.9.1", 15)], shares=(0.3, 0.25, 0.4, 0.05))
    u = rng.choice(len(users["ua"]), size=n, p=users["activity"])
    canary = rng.random(n) < 0.10

    ver = np.array(["58" if (x >= shift or (x >= deploy + 95 and c)) else "57" for x, c in zip(t, canary)], dtype=object)
    handler = lognormal(rng, r["median_ms"], 0.5, n)
    # serve each request on its alias target: simulate the two versions' pools separately
    inv_parts = []
    for v in ("57", "58"):
        m = ver == v
        inv_parts.append((m, simulate(b, fn, t[m], handler[m], init_ms=lambda k: rng.uniform(430, 880, k),
                                      cold_extra_ms=rng.uniform(60, 180, int(m.sum())), version=lambda s, v=v: v,
                                      warm_at_start=3 if v == "57" else 0)))
    status = np.full(n, 200)
    status[r["auth"] & (rng.random(n) < 0.009)] = 401  # expired JWT (HTTP API JWT authorizer)
    status[(r["route"] == "GET /accounts/{id}") & (rng.random(n) < 0.015)] = 404
    status[(r["method"] != "GET") & (rng.random(n) < 0.02)] = 400
    status[rng.random(n) < 0.001] = 500
    served = status != 401
    integ = np.full(n, np.nan)
    cold = np.zeros(n, dtype=bool)
    throttled = np.zeros(n, dtype=bool)
    streams = np.empty(n, dtype=object)
    for m, inv in inv_parts:
        idx = np.flatnonzero(m)
        integ[idx] = np.nan_to_num(inv.init_ms) + np.nan_to_num(inv.duration_ms) + rng.uniform(2, 6, len(idx))
        cold[idx] = inv.cold
        throttled[idx] = inv.throttled
        streams[idx] = inv.stream
    status[throttled] = 500
    integ[~served] = np.nan
    latency = np.nan_to_num(integ) + rng.uniform(2, 7, n)
    latency[~served] = rng.uniform(1, 3, int((~served).sum()))
    t_end = t + latency / 1000.0
    resp_len = np.where(status == 200, np.round(r["size"] * rng.uniform(0.5, 1.5, n)), 40)
    b.log(access_group, f"{api_id}_$default", t_end, F.json_lines({
        "requestId": b64ids(rng, n),
        "sourceIp": users["ip"][u],
        "requestTime": F.clf_time(t),
        "httpMethod": r["method"],
        "routeKey": r["route"],
        "status": [str(s) for s in status],
        "protocol": ["HTTP/1.1"] * n,
        "responseLength": [str(int(x)) for x in resp_len],
        "integrationLatency": _ms_text(integ),
        "responseLatency": [str(int(round(x))) for x in latency],
        "integrationErrorMessage": ["Rate Exceeded." if th else "-" for th in throttled],
        "userAgent": users["ua"][u],
    }))

    all_err = np.zeros(n, dtype=bool)
    for m, inv in inv_parts:
        idx = np.flatnonzero(m)
        sel = served[idx]
        # requests rejected by the JWT authorizer never reach the function: drop them from its logs
        keep = np.flatnonzero(sel & ~inv.throttled)
        xr = xray_ids(rng, t[idx])
        xr_sampled = [x if rng.random() < 0.05 else None for x in xr]
        ts, ss, ms = platform_text_lines(b, fn, _subset(inv, sel), xray=[x for x, s in zip(xr_sampled, sel) if s])
        b.log(fn.log_group, ss, ts, ms)
        st = status[idx][keep]
        lvl = np.where(st >= 500, "ERROR", np.where(st >= 400, "WARNING", "INFO"))
        msg = np.where(st >= 500, "Unhandled exception", np.where(st >= 400, "Client error", "Request completed"))
        tt = inv.end[keep] - 0.0008
        b.log(fn.log_group, inv.stream[keep], tt, F.powertools_lines(
            tt, lvl, msg, service="accounts", location=["app.handler:61"] * len(keep), cold_start=inv.cold[keep],
            function_name=fn.name, memory_mb=fn.memory_mb, function_arn=f"{fn_arn}:live",
            request_ids=[inv.request_id[i] for i in keep], xray=[xr[i] for i in keep],
            extra={
                "path": r["path"][idx][keep], "httpMethod": r["method"][idx][keep], "statusCode": st,
                "latency_ms": np.round(inv.duration_ms[keep], 1), "appVersion": users["version"][u][idx][keep],
                "exception": np.where(st >= 500, 'Traceback (most recent call last):\n  File "/var/task/app/handler.py", line 61, in handler\n    return app.resolve(event, context)\n  File "/var/task/app/accounts.py", line 204, in invoices\n    total = sum(i["amount"] for i in items)\nTypeError: unsupported operand type(s) for +: \'int\' and \'NoneType\'', None),
                "exception_name": np.where(st >= 500, "TypeError", None),
            },
        ))
        all_err[idx] = status[idx] >= 500

    # metrics
    _apigw_metrics(b, M.api_gateway(api_id, "$default", region=b.region), t_end, status, latency, integ, http=True)
    merged = _merge(inv_parts, n, t)
    _lambda_metrics(b, fn, merged, errors=(status >= 500) & ~throttled)

    # a normal deploy (SAM + CodeDeploy canary) and an IaC change
    cfn = role_identity(b, "accounts-api-cfn-exec", "AWSCloudFormation", invoked_by="cloudformation.amazonaws.com", when=deploy)
    ci = role_identity(b, "gitlab-ci-deployer", "gitlab-ci-7731", when=deploy)
    b.cloudtrail(deploy - 40, "cloudformation.amazonaws.com", "ExecuteChangeSet", identity=ci, user_agent=UA_BOTO3 + " aws-sam-cli/1.121.0",
                 source_ip="34.74.90.64", request={"changeSetName": "samcli-deploy1757942428", "stackName": "accounts-api"})
    b.cloudtrail(deploy, "lambda.amazonaws.com", "UpdateFunctionCode20150331v2", identity=cfn, user_agent="cloudformation.amazonaws.com",
                 source_ip="cloudformation.amazonaws.com", request={"functionName": fn_arn, "s3Bucket": "aws-sam-cli-managed-default-samclisourcebucket-1x9c2", "s3Key": "accounts-api/7c1e09d4b2"})
    b.cloudtrail(deploy + 31, "lambda.amazonaws.com", "PublishVersion20150331", identity=cfn, user_agent="cloudformation.amazonaws.com",
                 source_ip="cloudformation.amazonaws.com", request={"functionName": fn_arn, "codeSha256": "q9Wn0c3o6X8h2sUe4yXUCd4b8J2QmS6vH9l1Z0o7Kc4="},
                 response={"version": "58", "functionArn": f"{fn_arn}:58"})
    cd = role_identity(b, "CodeDeployServiceRole", "CodeDeploy", invoked_by="codedeploy.amazonaws.com", when=deploy)
    b.cloudtrail(deploy + 95, "lambda.amazonaws.com", "UpdateAlias20150331", identity=cd, user_agent="codedeploy.amazonaws.com",
                 source_ip="codedeploy.amazonaws.com", request={"functionName": fn.name, "name": "live", "functionVersion": "57", "routingConfig": {"additionalVersionWeights": {"58": 0.1}}})
    b.cloudtrail(shift, "lambda.amazonaws.com", "UpdateAlias20150331", identity=cd, user_agent="codedeploy.amazonaws.com",
                 source_ip="codedeploy.amazonaws.com", request={"functionName": fn.name, "name": "live", "functionVersion": "58", "routingConfig": {"additionalVersionWeights": {}}})
    _lambda_settings(b, fn, "python3.12", {"Version": "58", "TracingConfig.Mode": "Active"})
    b.settings("AWS::ApiGatewayV2::Stage", f"{api_id}/$default", {"AutoDeploy": True, "ThrottlingBurstLimit": 200, "ThrottlingRateLimit": 100})

    return finish(
        b, finding_id=None, incident=None, title="healthy HTTP API on Lambda, with a normal deploy",
        description="""An ordinary afternoon of the accounts HTTP API: about 25 requests a minute, a canary deploy
        of version 58 at 13:21 (10 % for five minutes, then all), the cold starts that a deploy and a short burst
        bring, a handful of throttles at the function's reserved concurrency, expired tokens (401), not-found and
        validation errors, and one unrelated bug (TypeError). Nothing here is an incident.""",
        parameters={"log_groups": [access_group, fn.log_group], "api_id": api_id, "function_name": fn.name, "region": b.region},
    )


def _subset(inv: Any, keep: np.ndarray) -> Any:
    """The invocations selected by ``keep`` (a boolean mask), environments unchanged."""
    idx = np.flatnonzero(keep)
    return Invocations(
        t=inv.t[idx], request_id=[inv.request_id[i] for i in idx], env=inv.env[idx], cold=inv.cold[idx],
        init_ms=inv.init_ms[idx], duration_ms=inv.duration_ms[idx], timed_out=inv.timed_out[idx],
        throttled=inv.throttled[idx], version=inv.version[idx], env_stream=inv.env_stream, env_start=inv.env_start,
    )


def _merge(parts: list, n: int, t: np.ndarray) -> Any:
    """Invocations of several pools (versions) back in request order."""
    env = np.full(n, -1, dtype=np.int64)
    cold = np.zeros(n, dtype=bool)
    init = np.full(n, np.nan)
    dur = np.full(n, np.nan)
    to = np.zeros(n, dtype=bool)
    thr = np.zeros(n, dtype=bool)
    ver = np.empty(n, dtype=object)
    rid: list[str] = [""] * n
    for m, inv in parts:
        idx = np.flatnonzero(m)
        cold[idx], init[idx], dur[idx] = inv.cold, inv.init_ms, inv.duration_ms
        to[idx], thr[idx], ver[idx] = inv.timed_out, inv.throttled, inv.version
        env[idx] = np.where(inv.env >= 0, 0, -1)
        for j, i in enumerate(idx):
            rid[i] = inv.request_id[j]
    return Invocations(t=t, request_id=rid, env=env, cold=cold, init_ms=init, duration_ms=dur, timed_out=to, throttled=thr, version=ver)
