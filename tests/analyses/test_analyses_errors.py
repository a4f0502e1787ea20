"""Error analyses and the version-skew detector, on hand-built request frames."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from incidentkit.analyses import errors
from incidentkit.window import Window
from _helpers.errors_cases import DEPLOY, DEPLOY_CHANGES, T0, access_log_requests, split


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


@pytest.mark.parametrize("module", ["incidentkit.analyses.errors"])
def test_docstring_examples(module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
