"""Error analyses and the version-skew detector, on hand-built request frames."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from incidentkit.analyses import errors
from incidentkit.findings import Finding, Inputs, detect
from incidentkit.window import Window

T0 = pd.Timestamp("2026-03-01T02:00:00Z")
DEPLOY = pd.Timestamp("2026-03-01T03:00:20Z")


def access_log_requests(
    seed=1,
    *,
    minutes=120,
    rate=60.0,
    versions=(("2.9.0", 0.2), ("2.9.1", 0.1), ("3.0.0", 0.3), ("3.0.2", 0.4)),
    broken=None,
    broken_status=403,
    broken_from=DEPLOY,
    broken_rate=0.97,
    start=T0,
    version_field="app_version",
):
    """API Gateway access-log requests: a normal trickle of 404s (0.8 %) and 5XX (0.2 %).

    From ``broken_from`` on, requests from the ``broken`` versions fail with ``broken_status``
    at ``broken_rate``.
    """
    rng = np.random.default_rng(seed)
    n = rng.poisson(rate * minutes)
    t = start + pd.to_timedelta(np.sort(rng.uniform(0, minutes * 60, n)), unit="s")
    names = [v for v, _ in versions]
    probs = np.array([p for _, p in versions])
    ver = rng.choice(names, n, p=probs / probs.sum())
    u = rng.random(n)
    status = np.where(u < 0.008, 404, np.where(u < 0.010, 502, 200))
    if broken:
        hit = np.isin(ver, list(broken)) & (t >= broken_from) & (rng.random(n) < broken_rate)
        status = np.where(hit, broken_status, status)
    df = pd.DataFrame(
        {
            "timestamp": t,
            "request_id": [f"{seed}-{i}" for i in range(n)],
            "status": pd.array(status, dtype="Int64"),
            "latency_ms": rng.lognormal(math.log(80), 0.4, n),
            "route": rng.choice(["/v1/orders", "/v1/profile", "/v1/cart"], n),
            "method": rng.choice(["GET", "POST"], n, p=[0.7, 0.3]),
        }
    )
    if version_field == "user_agent":
        df["user_agent"] = [f"ShopApp/{v} (iOS 17.{i % 4}; iPhone)" for i, v in enumerate(ver)]
    else:
        df[version_field] = ver
    return df


def changes_frame(*rows):
    cols = ["timestamp", "source", "event_name", "class", "actor", "resource", "error_code", "detail"]
    data = [dict(zip(cols, r)) for r in rows]
    df = pd.DataFrame(data, columns=cols)
    df["timestamp"] = pd.to_datetime(df["timestamp"], utc=True)
    return df


DEPLOY_CHANGES = changes_frame(
    (DEPLOY, "codedeploy", "CreateDeployment", "DEPLOYMENT", "ci-deployer", "auth-api", None, "jwt validation v2"),
    (DEPLOY - pd.Timedelta("50min"), "cloudtrail", "PutParameter", "CONFIG_CHANGE", "alice", "/auth/feature", None, None),
    (DEPLOY + pd.Timedelta("30min"), "cloudtrail", "UpdateFunctionConfiguration", "CONFIG_CHANGE", "bob", "auth-api", None, None),
)


def split(req, at=pd.Timestamp("2026-03-01T03:00:00Z")):
    return req[req.timestamp >= at].reset_index(drop=True), req[req.timestamp < at].reset_index(drop=True)


# --------------------------------------------------------------------------- error_mask / error_rate


def test_error_mask_specs():
    df = pd.DataFrame({"status": pd.array([200, 403, 404, 503, None], dtype="Int64"),
                       "timed_out": pd.array([False, False, False, False, True], dtype="boolean")})
    assert errors.error_mask(df).tolist() == [False, True, True, True, True]
    assert errors.error_mask(df, "4xx").tolist() == [False, True, True, False, False]
    assert errors.error_mask(df, "5XX").tolist() == [False, False, False, True, True]
    assert errors.error_mask(df, 404).tolist() == [False, False, True, False, False]
    assert errors.error_mask(df, [403, 503]).tolist() == [False, True, False, True, False]
    assert errors.error_mask(df, lambda d: d["status"].fillna(0) == 200).tolist() == [True, False, False, False, False]
    with pytest.raises(ValueError):
        errors.error_mask(df, "forbidden")


def test_error_rate_counts_and_rates_per_bin():
    df = pd.DataFrame(
        {
            "timestamp": pd.to_datetime(["2026-03-01T03:00:01Z", "2026-03-01T03:00:02Z", "2026-03-01T03:00:03Z",
                                         "2026-03-01T03:00:04Z", "2026-03-01T03:02:00Z"]),
            "status": pd.array([200, 301, 404, 503, None], dtype="Int64"),
            "timed_out": [False, False, False, False, True],
        }
    )
    out = errors.error_rate(df, by="1min")
    assert out["timestamp"].dt.strftime("%H:%M").tolist() == ["03:00", "03:01", "03:02"]
    first = out.iloc[0]
    assert (first["requests"], first["n_2xx"], first["n_3xx"], first["n_4xx"], first["n_5xx"]) == (4, 1, 1, 1, 1)
    assert first["rate_4xx"] == 0.25 and first["error_rate"] == 0.5
    assert out.iloc[1]["requests"] == 0 and math.isnan(out.iloc[1]["error_rate"])
    assert out.iloc[2]["n_5xx"] == 1, "a timeout without status counts as a 5xx (the caller saw a 504)"
    assert errors.error_rate(df, by="1min", timeouts_as_5xx=False).iloc[2]["n_other"] == 1


def test_error_rate_groupby_window_and_empty():
    req = access_log_requests(minutes=30)
    w = Window(T0 + pd.Timedelta("5min"), T0 + pd.Timedelta("25min"))
    out = errors.error_rate(req, window=w, groupby="app_version")
    assert set(out["app_version"]) == {"2.9.0", "2.9.1", "3.0.0", "3.0.2"}
    assert out["requests"].sum() == ((req.timestamp >= w.start) & (req.timestamp < w.end)).sum()
    auto = errors.error_rate(req)
    assert 60 <= len(auto) <= 200
    cols = list(errors.error_rate(None).columns)
    assert cols == ["timestamp", "requests", "n_2xx", "n_3xx", "n_4xx", "n_5xx", "n_other", "rate_2xx", "rate_3xx",
                    "rate_4xx", "rate_5xx", "error_rate"]
    assert errors.error_rate(pd.DataFrame({"x": [1]})).empty


# --------------------------------------------------------------------------- by_version


def test_by_version_hand_checked_numbers():
    req = pd.DataFrame({"app_version": ["1.0"] * 40 + ["2.0"] * 60,
                        "status": [403] * 20 + [200] * 20 + [404] * 3 + [200] * 57})
    out = by_v = errors.by_version(req).set_index("version")
    v1 = out.loc["1.0"]
    assert v1["requests"] == 40 and v1["errors"] == 20
    assert v1["traffic_share"] == 0.4 and v1["error_share"] == pytest.approx(20 / 23)
    assert v1["lift"] == pytest.approx((20 / 23) / 0.4)
    assert v1["error_rate"] == 0.5 and v1["rest_error_rate"] == 0.05
    assert v1["rate_ratio"] == pytest.approx(10.0)
    assert v1["excess_errors"] == pytest.approx(20 - 40 * 0.05)
    assert v1["error_rate_low"] < 0.5 < v1["error_rate_high"]
    assert bool(v1["significant"]) and v1["z"] > 0
    assert by_v.index[0] == "1.0", "sorted by excess errors"
    assert by_v.attrs["total_errors"] == 23


def test_by_version_even_errors_are_not_significant():
    req = access_log_requests(seed=4, minutes=60)
    out = errors.by_version(req)
    assert not out["significant"].any()
    assert out["lift"].between(0.5, 1.6).all()


def test_by_version_unknown_versions_and_custom_column():
    req = pd.DataFrame({"app_version": ["1.0", None, None, "1.0"], "route": ["/a", "/b", "/b", "/a"],
                        "status": [200, 500, 500, 200]})
    out = errors.by_version(req)
    assert "(unknown)" in set(out["version"])
    by_route = errors.by_version(req, version="route", error="5xx").set_index("version")
    assert by_route.loc["/b", "error_share"] == 1.0
    assert errors.by_version(req, version="nope").empty
    assert list(errors.by_version(None).columns)[:4] == ["version", "requests", "traffic_share", "errors"]


# --------------------------------------------------------------------------- skew_onset


def test_skew_onset_starts_at_the_deploy():
    req = access_log_requests(broken=["2.9.0", "2.9.1"])
    out = errors.skew_onset(req, DEPLOY_CHANGES, version=["2.9.0", "3.0.2"])
    broken = out.set_index("version").loc["2.9.0"]
    assert broken["change_event"] == "CreateDeployment" and broken["change_class"] == "DEPLOYMENT"
    assert abs((broken["onset"] - DEPLOY).total_seconds()) < 120
    assert broken["before_rate"] < 0.03 < 0.9 < broken["after_rate"]
    assert bool(broken["starts_at_change"]) and broken["p_value"] < 1e-9
    healthy = out.set_index("version").loc["3.0.2"]
    assert not bool(healthy["starts_at_change"])


def test_skew_onset_default_versions_and_no_preceding_change():
    req = access_log_requests(broken=["2.9.0"])
    out = errors.skew_onset(req, DEPLOY_CHANGES)
    assert out["version"].tolist() == ["2.9.0"]
    late_changes = DEPLOY_CHANGES[DEPLOY_CHANGES.timestamp > DEPLOY]
    row = errors.skew_onset(req, late_changes, version="2.9.0").iloc[0]
    assert pd.isna(row["change_time"]) and not bool(row["starts_at_change"])
    assert pd.notna(row["onset"])
    none = errors.skew_onset(req, None, version="2.9.0").iloc[0]
    assert pd.isna(none["change_event"])


def test_skew_onset_without_data_before_the_change_cannot_claim_it():
    inc, _ = split(access_log_requests(broken=["2.9.0"]), at=DEPLOY)
    row = errors.skew_onset(inc, DEPLOY_CHANGES, version="2.9.0").iloc[0]
    assert row["change_event"] == "CreateDeployment"
    assert row["before_requests"] == 0 and not bool(row["starts_at_change"])


def test_skew_onset_empty_inputs():
    assert errors.skew_onset(None, DEPLOY_CHANGES).empty
    assert "starts_at_change" in errors.skew_onset(pd.DataFrame(), None).columns


# --------------------------------------------------------------------------- detector


def test_detect_version_skew_errors_incident_1():
    req = access_log_requests(broken=["2.9.0", "2.9.1"])
    inc, base = split(req)
    w = Window(pd.Timestamp("2026-03-01T03:00Z"), pd.Timestamp("2026-03-01T04:00Z"))
    f = errors.detect_version_skew_errors(Inputs(window=w, requests=inc, baseline_requests=base, changes=DEPLOY_CHANGES))
    assert isinstance(f, Finding) and f.id == "version-skew-errors"
    assert f.evidence["version"] == "2.9.x", "the old app line spans two patch versions"
    assert f.evidence["versions_in_group"] in ("2.9.0, 2.9.1", "2.9.1, 2.9.0")
    assert f.evidence["top_status"] == 403
    assert f.evidence["status_class"] == "4xx"
    assert f.severity == "critical"
    assert f.evidence["starts_at_change"] is True
    assert f.related_changes[0]["event_name"] == "CreateDeployment"
    assert f.confidence >= 0.85
    # Numbers a reader can check against the frame.
    old = inc.app_version.str.startswith("2.9")
    assert f.evidence["traffic_share"] == pytest.approx(old.mean(), abs=1e-4)
    assert f.evidence["version_errors"] == int(((inc.status >= 400) & (inc.status < 500) & old).sum())
    text = " ".join(f.remediation)
    assert "2.9.x" in text and "1 %" in text and "CreateDeployment" in text
    assert f.onset is not None and f.onset.startswith("2026-03-01T03:0")
    assert f.evidence["errors_from"] == f.onset
    assert "requests_without_version" not in f.evidence


def test_detect_version_skew_errors_ignores_rows_without_status_for_version_coverage():
    """Lambda platform rows (no status, no version) mixed into the requests do not count as unknown clients."""
    req = access_log_requests(broken=["2.9.0", "2.9.1"])
    inc, base = split(req)
    platform = pd.DataFrame({"timestamp": inc.timestamp, "duration_ms": 12.0,
                             "status": pd.array([None] * len(inc), dtype="Int64")})
    mixed = pd.concat([inc, platform, platform], ignore_index=True)
    f = errors.detect_version_skew_errors(Inputs(requests=mixed, baseline_requests=base, changes=DEPLOY_CHANGES))
    clean = errors.detect_version_skew_errors(Inputs(requests=inc, baseline_requests=base, changes=DEPLOY_CHANGES))
    assert f.confidence == pytest.approx(clean.confidence)
    # Half the clients send no version: a concern only when they fail like the skewed version.
    clients = inc.copy()
    clients.loc[clients.index[::2], "app_version"] = None
    g = errors.detect_version_skew_errors(Inputs(requests=clients, baseline_requests=base, changes=DEPLOY_CHANGES))
    assert g.evidence["requests_without_version"] == pytest.approx(0.5, abs=0.01)
    assert g.evidence["error_rate_without_version"] > 0.25
    assert g.confidence < clean.confidence
    web = inc.copy()
    web_rows = web.app_version.str.startswith("3.0") & (np.arange(len(web)) % 2 == 0)
    web.loc[web_rows, "app_version"] = None
    h = errors.detect_version_skew_errors(Inputs(requests=web, baseline_requests=base, changes=DEPLOY_CHANGES))
    assert h.evidence["error_rate_without_version"] < 0.05
    assert h.confidence >= clean.confidence - 0.02


def test_detect_version_skew_errors_single_version_from_user_agent():
    req = access_log_requests(broken=["3.0.0"], broken_status=500, broken_rate=0.5, version_field="user_agent")
    inc, base = split(req)
    f = errors.detect_version_skew_errors(Inputs(requests=inc, baseline_requests=base, changes=DEPLOY_CHANGES))
    assert f is not None
    assert f.evidence["version"] == "3.0.0" and f.evidence["status_class"] == "5xx"
    assert f.severity == "high"
    assert "token" not in f.remediation[0], "auth-specific advice only for 401/403"


def test_detect_version_skew_errors_without_changes_is_less_confident():
    req = access_log_requests(broken=["2.9.0", "2.9.1"])
    inc, base = split(req)
    with_change = errors.detect_version_skew_errors(Inputs(requests=inc, baseline_requests=base, changes=DEPLOY_CHANGES))
    without = errors.detect_version_skew_errors(Inputs(requests=inc))
    assert without is not None and without.related_changes == []
    assert without.confidence < with_change.confidence


def test_a_change_to_another_service_at_the_onset_is_not_claimed():
    """The authorizer the requests ran on is named; a deploy of another function at the same minute is a coincidence."""
    req = access_log_requests(broken=["2.9.0", "2.9.1"])
    req["function_name"] = "auth-api"
    inc, base = split(req)
    other = changes_frame((DEPLOY, "cloudtrail", "UpdateFunctionCode20150331v2", "DEPLOYMENT", "ci", "image-resizer", None, None))
    f = errors.detect_version_skew_errors(Inputs(requests=inc, baseline_requests=base, changes=other))
    assert f.related_changes == [] and "starts_at_change" not in f.evidence and "change" not in f.evidence
    own = changes_frame((DEPLOY, "cloudtrail", "UpdateFunctionCode20150331v2", "DEPLOYMENT",
                         "arn:aws:sts::123456789012:assumed-role/ci-deploy/run-7", "auth-api", None, None))
    g = errors.detect_version_skew_errors(Inputs(requests=inc, baseline_requests=base, changes=own))
    assert g.evidence["starts_at_change"] is True and g.evidence["change"] == "UpdateFunctionCode"
    assert "The errors start at a change: new code was deployed to `auth-api` (UpdateFunctionCode)" in g.summary
    assert "by role ci-deploy" in g.summary and "arn:aws" not in g.summary and g.confidence > f.confidence


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_detect_version_skew_errors_healthy_is_none(seed):
    req = access_log_requests(seed=seed)
    assert errors.detect_version_skew_errors(Inputs(requests=req, changes=DEPLOY_CHANGES)) is None


def test_detect_version_skew_errors_mild_skew_is_below_medium():
    """An old version with 3 % errors against 1 % elsewhere is real but minor."""
    req = access_log_requests(seed=8, minutes=240, broken=["2.9.1"], broken_status=400, broken_rate=0.02)
    f = errors.detect_version_skew_errors(Inputs(requests=req))
    assert f is None or f.severity in ("low", "info")


def test_detect_version_skew_errors_whole_traffic_failing_is_not_a_skew():
    req = access_log_requests(broken=["2.9.0", "2.9.1", "3.0.0", "3.0.2"], broken_rate=0.3)
    assert errors.detect_version_skew_errors(Inputs(requests=req)) is None


def test_detect_version_skew_errors_edge_cases():
    assert errors.detect_version_skew_errors(Inputs()) is None
    assert errors.detect_version_skew_errors(Inputs(requests=pd.DataFrame())) is None
    req = access_log_requests(broken=["2.9.0"])
    assert errors.detect_version_skew_errors(Inputs(requests=req.drop(columns=["app_version"]))) is None
    assert errors.detect_version_skew_errors(Inputs(requests=req.drop(columns=["status"]))) is None
    assert errors.detect_version_skew_errors(Inputs(requests=req.head(50))) is None
    one = req.assign(app_version="3.0.0")
    assert errors.detect_version_skew_errors(Inputs(requests=one)) is None
    # An HTTP library's version is not an app version.
    lib = req.drop(columns=["app_version"]).assign(user_agent=np.where(req.app_version == "2.9.0", "okhttp/4.12.0", "curl/8.4.0"))
    assert errors.detect_version_skew_errors(Inputs(requests=lib)) is None


def test_detect_ranks_version_skew_first():
    req = access_log_requests(broken=["2.9.0", "2.9.1"])
    inc, base = split(req)
    found = detect(Inputs(requests=inc, baseline_requests=base, changes=DEPLOY_CHANGES),
                   only=["version-skew-errors", "cold-start-tail", "cold-start-timeouts"])
    assert not found.errors, found.errors
    assert found.top.id == "version-skew-errors"
    assert [f.id for f in found.at_least("medium")] == ["version-skew-errors"]


@pytest.mark.parametrize("module", ["incidentkit.analyses.errors"])
def test_docstring_examples(module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
