"""incidentkit.fetch.metrics: queries, statistics, periods, call planning, GetMetricData fetches, presets.

moto (in-process) for the call paths it emulates (Average/Sum/Minimum/Maximum/SampleCount,
batching, time slicing); botocore's Stubber for what it gets wrong (percentiles,
PartialData, Messages, NextToken paging); a ``before-send`` hook for throttling.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import json
import math
import warnings

import boto3
import botocore.retries.standard
import pandas as pd
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError
from botocore.stub import ANY, Stubber
from botocore.validate import ParamValidator
from hypothesis import given, settings
from hypothesis import strategies as st
from moto import mock_aws

from incidentkit.fetch import aws, metrics
from incidentkit import schema
from incidentkit.errors import (
    AccessDeniedError,
    BadWindowError,
    IncompleteDataWarning,
    ParameterError,
    ThrottledError,
)
from incidentkit.fetch.metrics import MetricQuery
from incidentkit.window import Window

REF = pd.Timestamp("2026-03-01T05:00:00Z")  # a fixed "now" for the pure planning tests


# --- fixtures and helpers -------------------------------------------------------------------------


@pytest.fixture
def session():
    with mock_aws():
        yield boto3.Session(region_name="us-east-1")


@pytest.fixture
def no_backoff(monkeypatch):
    """botocore's standard retry mode sleeps with jitter between attempts; not in tests."""
    monkeypatch.setattr(botocore.retries.standard.ExponentialBackoff, "delay_amount", lambda self, ctx: 0)


def recent_window(minutes: int = 60) -> Window:
    end = pd.Timestamp.now(tz="UTC").floor("min")
    return Window(end - pd.Timedelta(minutes=minutes), end)


def put(session, namespace, name, dims, points, region="us-east-1"):
    """Write datapoints with a plain boto3 client (the kit's clients refuse PutMetricData)."""
    cw = session.client("cloudwatch", region_name=region)
    data = [
        {
            "MetricName": name,
            "Dimensions": [{"Name": k, "Value": v} for k, v in dims.items()],
            "Timestamp": pd.Timestamp(ts).to_pydatetime(),
            "Value": float(v),
        }
        for ts, v in points
    ]
    for i in range(0, len(data), 500):
        cw.put_metric_data(Namespace=namespace, MetricData=data[i : i + 500])


class CallLog:
    """Counts GetMetricData API calls (one per request, pages included; retries excluded)."""

    def __init__(self, session):
        self.params: list[dict] = []
        self.regions: list[str] = []
        session.events.register("before-parameter-build.cloudwatch.GetMetricData", self._record)

    def _record(self, params, model, **kwargs):
        self.params.append(copy.deepcopy(params))

    def __len__(self):
        return len(self.params)


class _Raw:
    def __init__(self, body: bytes):
        self.body = body

    def stream(self, **_):
        yield self.body


def throttle_hook(times: int | None):
    """A before-send hook answering the first ``times`` attempts (all when None) with a throttle."""
    state = {"sent": 0, "throttled": 0}

    def hook(request, **kwargs):
        state["sent"] += 1
        if times is None or state["throttled"] < times:
            state["throttled"] += 1
            body = json.dumps({"__type": "com.amazonaws.cloudwatch#ThrottlingException", "message": "Rate exceeded"})
            headers = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-query-error": "Throttling;Sender"}
            return AWSResponse(request.url, 400, headers, _Raw(body.encode()))
        return None

    return hook, state


@pytest.fixture
def stub(monkeypatch):
    """A Stubber on the kit's own cloudwatch client, which metrics.get then uses."""
    made: dict[str, tuple] = {}
    real_client = aws.client

    def fake_client(service, **kwargs):
        assert service == "cloudwatch"
        if "c" not in made:
            c = real_client(service, **kwargs)
            s = Stubber(c)
            s.activate()
            made["c"] = (c, s)
        return made["c"][0]

    monkeypatch.setattr(aws, "client", fake_client)

    class Handle:
        def add(self, response, expected=None):
            if "c" not in made:
                fake_client("cloudwatch", region="us-east-1")
            made["c"][1].add_response("get_metric_data", response, expected)

        def add_error(self, code, message="", http_status=400):
            if "c" not in made:
                fake_client("cloudwatch", region="us-east-1")
            made["c"][1].add_client_error("get_metric_data", code, message, http_status)

        def assert_done(self):
            made["c"][1].assert_no_pending_responses()

    return Handle()


def result(rid, times, values, status="Complete", label=None, messages=None):
    out = {
        "Id": rid,
        "Label": label or rid,
        "Timestamps": [pd.Timestamp(t).to_pydatetime() for t in times],
        "Values": list(values),
        "StatusCode": status,
    }
    if messages is not None:
        out["Messages"] = messages
    return out


def lq(i: int, stat: str = "Sum", **kw) -> MetricQuery:
    return metrics.query("App", "Latency", {"Host": f"h{i}"}, stat, **kw)


# --- ids, queries, statistics ---------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["M1", "1m", "m-1", "", "m 1", "m" * 256, "_m", "mé"])
def test_query_id_rules_of_get_metric_data(bad):
    with pytest.raises(ParameterError, match="not valid for GetMetricData"):
        MetricQuery(bad, "AWS/EC2", "CPUUtilization")


@pytest.mark.parametrize("good", ["m", "m1", "mA_9", "a" * 255, "cpu_Max"])
def test_valid_query_ids_pass(good):
    assert MetricQuery(good, "AWS/EC2", "CPUUtilization").id == good


@pytest.mark.parametrize(
    "parts",
    [("Lambda", "api-handler", "Duration", "p99.9"), ("5XXError",), ("ÄÖ",), ("x" * 400,), ("x" * 400 + "y",), ("",)],
)
def test_make_id_always_valid(parts):
    got = metrics.make_id(*parts)
    MetricQuery(got, "N", "M")  # raises if invalid
    assert len(got) <= 255


def test_make_id_keeps_long_ids_distinct():
    assert metrics.make_id("x" * 400 + "a") != metrics.make_id("x" * 400 + "b")


def test_dimensions_canonical_sorted_json_and_hashable():
    a = MetricQuery("m1", "AWS/ApplicationELB", "RequestCount", {"TargetGroup": "targetgroup/t/1", "LoadBalancer": "app/l/2"}, "sum")
    b = MetricQuery("m1", "AWS/ApplicationELB", "RequestCount", {"LoadBalancer": "app/l/2", "TargetGroup": "targetgroup/t/1"}, "Sum")
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert a.dimensions_json == '{"LoadBalancer":"app/l/2","TargetGroup":"targetgroup/t/1"}'
    assert list(a.dimensions) == ["LoadBalancer", "TargetGroup"]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"dimensions": {"A": None}}, "text value"),
        ({"dimensions": {"": "x"}}, "dimension name"),
        ({"dimensions": [("A", "b")]}, "mapping"),
        ({"dimensions": {f"d{i}": "v" for i in range(31)}}, "30 dimensions"),
        ({"unit": "Furlongs"}, "not a CloudWatch unit"),
        ({"period": 45}, "1, 5, 10, 20 or 30"),
        ({"period": 90}, "multiple of 60"),
        ({"period": 0}, "positive"),
        ({"period": True}, "whole number"),
        ({"stat": "median"}, "unknown statistic"),
    ],
)
def test_metric_query_rejects_bad_fields(kwargs, match):
    with pytest.raises(ParameterError, match=match):
        MetricQuery("m1", "AWS/EC2", "CPUUtilization", **kwargs)


def test_default_label_and_roundtrip_through_dict_and_aws_shape():
    q = MetricQuery("m1", "AWS/Lambda", "Duration", {"FunctionName": "api"}, "P99", period=60, unit="Milliseconds")
    assert q.label == "api Duration p99"
    assert MetricQuery.from_dict(q.to_dict()) == q
    aws_form = q.to_aws()
    assert aws_form["MetricStat"]["Stat"] == "p99" and aws_form["MetricStat"]["Unit"] == "Milliseconds"
    assert MetricQuery.from_dict(aws_form) == q
    with pytest.raises(ParameterError, match="math expressions"):
        MetricQuery.from_dict({"Id": "e1", "Expression": "m1*2"})
    with pytest.raises(ParameterError, match="unknown MetricQuery fields"):
        MetricQuery.from_dict({"id": "m1", "namespace": "N", "metric_name": "M", "colour": "red"})


@pytest.mark.parametrize(
    "given_, expected",
    [
        ("Average", "Average"), ("average", "Average"), ("avg", "Average"), ("SUM", "Sum"), ("min", "Minimum"),
        ("Maximum", "Maximum"), ("samplecount", "SampleCount"), ("iqm", "IQM"),
        ("p0", "p0"), ("p50", "p50"), ("P99", "p99"), ("p99.9", "p99.9"), ("p99.9999999999", "p99.9999999999"),
        ("p100", "p100"), ("tm99", "tm99"), ("WM95", "wm95"), ("tc90", "tc90"), ("ts99.5", "ts99.5"),
        ("TM(10%:90%)", "TM(10%:90%)"), ("tm(2%:98%)", "TM(2%:98%)"), ("TM(150:1000)", "TM(150:1000)"),
        ("tc(:0.5)", "TC(:0.5)"), ("TS(80%:)", "TS(80%:)"), ("PR(:300)", "PR(:300)"), ("pr(100:2000)", "PR(100:2000)"),
        ("WM( 10% : 90% )", "WM(10%:90%)"),
    ],
)
def test_canonical_stat_accepts_documented_forms(given_, expected):
    assert metrics.canonical_stat(given_) == expected


@pytest.mark.parametrize(
    "bad, match",
    [
        ("p101", "above 100"), ("p-1", "unknown"), ("p99.12345678901", "unknown"), ("tm", "unknown"),
        ("TM(90%:10%)", "lower bound"), ("TM(10%:90)", "mixes"), ("PR(10%:90%)", "absolute"),
        ("TM(:)", "no bounds"), ("TM(10%:120%)", "0%..100%"), ("median", "unknown"), ("", "not a statistic"),
        ("pp99", "unknown"), ("x99", "unknown"),
    ],
)
def test_canonical_stat_rejects_with_clear_error(bad, match):
    with pytest.raises(ParameterError, match=match):
        metrics.canonical_stat(bad)


@given(st.decimals(min_value=0, max_value=100, places=3, allow_nan=False))
def test_every_percentile_in_range_is_accepted(x):
    text = f"p{x.normalize():f}"
    assert metrics.canonical_stat(text) == text


def test_query_helper_derives_valid_unique_ids():
    a = metrics.query("AWS/Lambda", "Duration", {"FunctionName": "api-handler"}, "p99")
    b = metrics.query("AWS/Lambda", "Duration", {"FunctionName": "api-handler"}, "p50")
    assert a.id == "lambda_duration_api_handler_p99" and a.id != b.id


# --- periods --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "start, end, expected",
    [
        ("2026-03-01T03:00Z", "2026-03-01T04:00Z", 60),  # 1 h, recent
        ("2026-03-01T04:50Z", "2026-03-01T04:55Z", 60),  # 5 min: never below 60 s by default
        ("2026-02-28T04:00Z", "2026-03-01T04:00Z", 60),  # 24 h -> 1,440 points
        ("2026-02-28T03:00Z", "2026-03-01T04:00Z", 120),  # 25 h
        ("2026-02-22T04:00Z", "2026-03-01T04:00Z", 600),  # 7 days
        ("2026-01-30T05:00Z", "2026-03-01T05:00Z", 1800),  # 30 days, start 30 days old (5-min tier)
        ("2026-02-10T00:00Z", "2026-02-10T02:00Z", 300),  # 2 h, 19 days old -> multiple of 300
        ("2025-11-01T00:00Z", "2025-11-01T01:00Z", 3600),  # 1 h, ~120 days old -> hourly
        ("2025-03-10T00:00Z", "2026-03-01T00:00Z", 21600),  # 356 days
    ],
)
def test_choose_period_from_length_and_age(start, end, expected):
    w = Window.parse(start, end, now=REF)
    p = metrics.choose_period(w, now=REF)
    assert p == expected
    # whatever it picks is accepted by the validator and stays within ~1,440 points
    assert metrics.validate_period(p, w, now=REF) == p
    assert math.ceil(w.duration.total_seconds() / p) <= 1441


def test_choose_period_refuses_expired_window():
    w = Window.parse("2024-12-01T00:00Z", "2024-12-02T00:00Z", now=REF)
    with pytest.raises(BadWindowError, match="455 days"):
        metrics.choose_period(w, now=REF)


@pytest.mark.parametrize(
    "period, start, end, match",
    [
        (60, "2026-02-09T00:00Z", "2026-02-09T06:00Z", "multiple of 300"),  # 20 days old
        (120, "2026-02-09T00:00Z", "2026-02-09T06:00Z", "multiple of 300"),
        (300, "2025-12-01T00:00Z", "2025-12-01T06:00Z", "multiple of 3600"),  # 90 days old
        (1, "2026-03-01T00:00Z", "2026-03-01T01:00Z", "multiple of 60"),  # 5 h old: no sub-minute data
        (30, "2026-03-01T00:00Z", "2026-03-01T01:00Z", "multiple of 60"),
        (90, "2026-03-01T04:00Z", "2026-03-01T05:00Z", "not a multiple of 60"),
        (7, "2026-03-01T04:00Z", "2026-03-01T05:00Z", "1, 5, 10, 20 or 30"),
    ],
)
def test_validate_period_refuses_what_aws_cannot_answer(period, start, end, match):
    with pytest.raises(ParameterError, match=match):
        metrics.validate_period(period, Window.parse(start, end, now=REF), now=REF)


@pytest.mark.parametrize(
    "period, start, end",
    [
        (1, "2026-03-01T04:00Z", "2026-03-01T04:30Z"),
        (20, "2026-03-01T04:00Z", "2026-03-01T04:30Z"),
        (60, "2026-02-15T00:00Z", "2026-02-15T06:00Z"),  # 14 days old
        (300, "2026-02-09T00:00Z", "2026-02-09T06:00Z"),
        (900, "2026-02-09T00:00Z", "2026-02-09T06:00Z"),
        (3600, "2025-12-01T00:00Z", "2025-12-01T06:00Z"),
        (86400, "2025-06-01T00:00Z", "2025-07-01T00:00Z"),
    ],
)
def test_validate_period_accepts_what_aws_answers(period, start, end):
    assert metrics.validate_period(period, Window.parse(start, end, now=REF), now=REF) == period


def test_validate_period_window_older_than_retention():
    with pytest.raises(BadWindowError, match="455 days"):
        metrics.validate_period(3600, Window.parse("2024-11-01T00:00Z", "2024-11-02T00:00Z", now=REF), now=REF)


def test_get_validates_period_before_calling_aws(session):
    log = CallLog(session)
    end = pd.Timestamp.now(tz="UTC").floor("h") - pd.Timedelta(days=20)
    with pytest.raises(ParameterError, match="multiple of 300"):
        metrics.get([lq(0)], Window(end - pd.Timedelta(hours=2), end), period=60, session=session)
    with pytest.raises(ParameterError, match="multiple of 300"):
        metrics.get([lq(0, period=60)], Window(end - pd.Timedelta(hours=2), end), session=session)
    assert len(log) == 0


# --- planning (pure) ------------------------------------------------------------------------------

HOUR = Window.parse("2026-03-01T03:00Z", "2026-03-01T04:00Z", now=REF)


@pytest.mark.parametrize("n, calls", [(1, 1), (500, 1), (501, 2), (1200, 3), (5000, 10)])
def test_plan_fitting_window_uses_ceil_n_over_500_calls(n, calls):
    plan = metrics.plan_calls([lq(i) for i in range(n)], HOUR, period=60, now=REF)
    assert plan.n_calls == calls == math.ceil(n / 500) == plan.min_calls
    assert sorted(q.id for c in plan.calls for q in c.queries) == sorted(lq(i).id for i in range(n))
    assert all(len(c.queries) <= 500 for c in plan.calls)


def _assert_tiles(plan, window_start, window_end, n_queries, period):
    """Every (query, period bucket) is asked exactly once; every call within the limits."""
    covered: dict[str, list[tuple[pd.Timestamp, pd.Timestamp]]] = {}
    for c in plan.calls:
        assert len(c.queries) <= metrics.MAX_QUERIES_PER_CALL
        assert c.datapoints <= metrics.MAX_DATAPOINTS_PER_CALL
        assert (c.start.value // 10**9) % period == 0 and (c.end.value // 10**9) % period == 0
        for q in c.queries:
            covered.setdefault(q.id, []).append((c.start, c.end))
    assert len(covered) == n_queries
    for spans in covered.values():
        spans.sort()
        assert spans[0][0] <= window_start and spans[-1][1] >= window_end
        for (a0, a1), (b0, b1) in zip(spans, spans[1:]):
            assert a1 == b0  # contiguous, no overlap, no gap


def test_plan_time_slices_when_datapoints_exceed_limit():
    w = Window.parse("2026-02-22T04:00Z", "2026-03-01T04:00Z", now=REF)  # 7 days = 10,080 minutes
    plan = metrics.plan_calls([lq(i) for i in range(300)], w, period=60, now=REF)
    # 300 x 10,080 = 3,024,000 datapoints -> at least 30 calls; 1 batch x 30 slices of 336 minutes
    assert plan.n_calls == 30 == plan.min_calls
    assert plan.groups[0]["query_batches"] == 1 and plan.groups[0]["time_slices"] == 30
    _assert_tiles(plan, w.start, w.end, 300, 60)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 2500), minutes=st.integers(1, 20_000), period=st.sampled_from([60, 120, 300]))
def test_plan_is_within_limits_exact_and_minimal_for_its_shape(n, minutes, period):
    end = pd.Timestamp("2026-03-01T04:00Z")
    w = Window(end - pd.Timedelta(minutes=minutes), end)
    plan = metrics.plan_calls([lq(i) for i in range(n)], w, period=period, now=REF)
    start, stop = plan.calls[0].start, plan.calls[-1].end
    points = round((stop - start).total_seconds() / period)
    _assert_tiles(plan, w.start, w.end, n, period)
    assert plan.n_calls >= plan.min_calls == max(math.ceil(n / 500), math.ceil(n * points / 100_800))
    if points <= 201:  # a window that fits one call per 500 queries
        assert plan.n_calls == math.ceil(n / 500)
    # no grid of (batches x slices) within the limits has fewer calls
    best = min(
        k * math.ceil(points / min(points, 100_800 // math.ceil(n / k)))
        for k in range(math.ceil(n / 500), n + 1)
    )
    assert plan.n_calls == best


def test_plan_groups_periods_and_regions():
    qs = [lq(1), lq(2, period=300), metrics.query("AWS/Route53", "HealthCheckStatus", {"HealthCheckId": "h"}, "Minimum", region="us-east-1")]
    plan = metrics.plan_calls(qs, HOUR, period=60, region="eu-west-1", now=REF)
    by_region = {}
    for c in plan.calls:
        by_region.setdefault(c.region, []).extend(q.id for q in c.queries)
    assert sorted(by_region) == ["eu-west-1", "us-east-1"]
    # two periods in eu-west-1 still share one call (the window fits)
    assert len([c for c in plan.calls if c.region == "eu-west-1"]) == 1
    assert plan.n_calls == plan.min_calls == 2
    # mixed periods needing slices: never fewer calls than the datapoint bound, all within limits
    w7 = Window.parse("2026-02-22T04:00Z", "2026-03-01T04:00Z", now=REF)
    mixed = [lq(i) for i in range(300)] + [lq(1000 + i, period=300) for i in range(300)]
    plan7 = metrics.plan_calls(mixed, w7, period=60, now=REF)
    assert plan7.min_calls == math.ceil((300 * 10080 + 300 * 2016) / 100_800) == 36 == plan7.n_calls
    assert all(c.datapoints <= 100_800 and len(c.queries) <= 500 for c in plan7.calls)
    assert {q.id: q.period for q in plan.queries} == {qs[0].id: 60, qs[1].id: 300, qs[2].id: 60}


def test_duplicate_ids_merged_when_identical_refused_when_different():
    plan = metrics.plan_calls([lq(1), lq(1)], HOUR, period=60, now=REF)
    assert len(plan.queries) == 1
    other = dataclasses.replace(lq(2), id=lq(1).id)
    with pytest.raises(ParameterError, match="share the id"):
        metrics.plan_calls([lq(1), other], HOUR, period=60, now=REF)


# --- get() against moto ---------------------------------------------------------------------------


def test_get_standard_statistics_from_moto(session):
    w = recent_window(60)
    t0 = w.start + pd.Timedelta(minutes=10)
    t1 = t0 + pd.Timedelta(minutes=1)
    put(session, "Shop", "OrderLatency", {"Service": "checkout"}, [(t0, 1), (t0, 2), (t0 + pd.Timedelta(seconds=30), 6), (t1, 10)])
    qs = [metrics.query("Shop", "OrderLatency", {"Service": "checkout"}, s) for s in metrics.STANDARD_STATS]
    log = CallLog(session)
    df = metrics.get(qs, w, session=session)

    assert list(df.columns) == list(schema.METRIC_COLUMNS)
    assert str(df["timestamp"].dtype) == "datetime64[ns, UTC]" and str(df["period"].dtype) == "int64"
    assert str(df["value"].dtype) == "float64"
    got = {(r.stat, r.timestamp): r.value for r in df.itertuples()}
    assert got == {
        ("Average", t0): 3.0, ("Average", t1): 10.0,
        ("Sum", t0): 9.0, ("Sum", t1): 10.0,
        ("Minimum", t0): 1.0, ("Minimum", t1): 10.0,
        ("Maximum", t0): 6.0, ("Maximum", t1): 10.0,
        ("SampleCount", t0): 3.0, ("SampleCount", t1): 1.0,
    }
    assert set(df["dimensions"]) == {'{"Service":"checkout"}'}
    assert set(df["namespace"]) == {"Shop"} and set(df["period"]) == {60}
    assert df["query_id"].tolist() == sorted(df["query_id"].tolist())
    assert (df.groupby("query_id")["timestamp"].apply(lambda s: s.is_monotonic_increasing)).all()
    assert df.attrs["source"] == "metrics.get" and df.attrs["api_calls"] == 1 == len(log)
    assert df.attrs["complete"] is True and df.attrs["issues"] == []
    assert df.attrs["window"] == w.to_dict() and df.attrs["region"] == "us-east-1"
    assert [q["id"] for q in df.attrs["query"]["queries"]] == [q.id for q in qs]
    # exactly what was sent: aligned window, ascending scan, canonical stats
    sent = log.params[0]
    assert sent["ScanBy"] == "TimestampAscending"
    assert pd.Timestamp(sent["StartTime"]) == w.start and pd.Timestamp(sent["EndTime"]) == w.end
    assert [q["MetricStat"]["Stat"] for q in sent["MetricDataQueries"]] == list(metrics.STANDARD_STATS)


def test_get_empty_result_keeps_fixed_columns(session):
    df = metrics.get([lq(1, "Average")], recent_window(30), session=session)
    assert df.empty and list(df.columns) == list(schema.METRIC_COLUMNS)
    assert str(df["timestamp"].dtype) == "datetime64[ns, UTC]"
    assert df.attrs["api_calls"] == 1 and df.attrs["complete"] is True


@pytest.mark.parametrize("n, calls", [(1, 1), (500, 1), (501, 2), (1200, 3)])
def test_get_batches_queries_into_minimum_calls(session, n, calls):
    w = recent_window(60)
    put(session, "App", "Latency", {"Host": "h0"}, [(w.start + pd.Timedelta(minutes=5), 7)])
    log = CallLog(session)
    df = metrics.get([lq(i) for i in range(n)], w, period=60, session=session)
    assert len(log) == calls == df.attrs["api_calls"] == df.attrs["plan"]["calls"]
    assert all(len(p["MetricDataQueries"]) <= 500 for p in log.params)
    assert sorted(q["Id"] for p in log.params for q in p["MetricDataQueries"]) == sorted(lq(i).id for i in range(n))
    assert df["query_id"].tolist() == [lq(0).id] and df["value"].tolist() == [7.0]


def test_get_splits_time_when_datapoints_exceed_100800(session):
    w = recent_window(7 * 24 * 60)
    # points at the very start, the very end and across every slice boundary
    stamps = [w.start + pd.Timedelta(minutes=m) for m in (0, 335, 336, 337, 5000, 10079)]
    put(session, "App", "Latency", {"Host": "h7"}, [(t, i + 1) for i, t in enumerate(stamps)])
    log = CallLog(session)
    df = metrics.get([lq(i) for i in range(300)], w, period=60, session=session, concurrency=4)
    assert len(log) == 30 == df.attrs["api_calls"]
    for p in log.params:
        minutes = (pd.Timestamp(p["EndTime"]) - pd.Timestamp(p["StartTime"])).total_seconds() / 60
        assert len(p["MetricDataQueries"]) * minutes <= 100_800
    starts = sorted(pd.Timestamp(p["StartTime"]) for p in log.params)
    ends = sorted(pd.Timestamp(p["EndTime"]) for p in log.params)
    assert starts[0] == w.start and ends[-1] == w.end and starts[1:] == ends[:-1]
    s = metrics.series(df, query_id=lq(7).id)
    assert s.index.tolist() == stamps and s.tolist() == [1, 2, 3, 4, 5, 6]  # each point once


def test_get_fetches_query_region_from_its_own_region(session):
    w = recent_window(30)
    t = w.start + pd.Timedelta(minutes=3)
    put(session, "AWS/Route53", "HealthCheckStatus", {"HealthCheckId": "hc-1"}, [(t, 0)], region="us-east-1")
    put(session, "App", "Requests", {"Host": "eu"}, [(t, 5)], region="eu-west-1")
    log = CallLog(session)
    qs = metrics.route53_health_check("hc-1")[:1] + [metrics.query("App", "Requests", {"Host": "eu"}, "Sum")]
    df = metrics.get(qs, w, session=session, region="eu-west-1")
    assert len(log) == 2
    assert dict(zip(df["metric_name"], df["value"])) == {"HealthCheckStatus": 0.0, "Requests": 5.0}
    assert df.attrs["region"] == "eu-west-1,us-east-1"


def test_get_mixed_periods_in_one_call(session):
    end = pd.Timestamp.now(tz="UTC").floor("h")
    w = Window(end - pd.Timedelta(hours=1), end)
    put(session, "App", "Latency", {"Host": "h0"}, [(w.start + pd.Timedelta(minutes=m), 1) for m in (1, 2, 7)])
    fine, coarse = lq(0), dataclasses.replace(lq(0), id="coarse", period=300)
    log = CallLog(session)
    df = metrics.get([fine, coarse], w, period=60, session=session)
    assert len(log) == 1
    assert {p["MetricStat"]["Period"] for p in log.params[0]["MetricDataQueries"]} == {60, 300}
    assert metrics.series(df, query_id="coarse").tolist() == [2.0, 1.0]
    assert set(df.loc[df["query_id"] == "coarse", "period"]) == {300}
    assert len(metrics.series(df, query_id="coarse", fill=0)) == 12  # 1 h of 5-min periods


def test_get_without_queries_makes_no_call(session):
    log = CallLog(session)
    df = metrics.get([], recent_window(30), session=session)
    assert len(log) == 0 and df.attrs["api_calls"] == 0 and list(df.columns) == list(schema.METRIC_COLUMNS)


def test_get_accepts_tuple_window_and_single_query(session):
    df = metrics.get(lq(0), ("-30m", "now"), session=session)
    assert df.attrs["api_calls"] == 1 and df.attrs["query"]["periods"] == [60]


def test_get_over_http_with_endpoint_url():
    """One real HTTP round trip: moto server on 127.0.0.1, reached through endpoint_url."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        url = f"http://{host}:{port}"
        plain = boto3.Session(region_name="eu-central-1")
        w = recent_window(30)
        t = w.start + pd.Timedelta(minutes=2)
        plain.client("cloudwatch", endpoint_url=url).put_metric_data(
            Namespace="Web", MetricData=[{"MetricName": "Hits", "Timestamp": t.to_pydatetime(), "Value": 4.0}]
        )
        df = metrics.get([metrics.query("Web", "Hits", stat="Sum")], w, session=plain, endpoint_url=url)
        assert df["value"].tolist() == [4.0] and df["timestamp"].tolist() == [t]
        assert df.attrs["region"] == "eu-central-1" and df.attrs["api_calls"] == 1
    finally:
        server.stop()


# --- throttling -----------------------------------------------------------------------------------


def test_throttling_is_retried_and_counted(session, no_backoff):
    w = recent_window(30)
    put(session, "App", "Latency", {"Host": "h0"}, [(w.start + pd.Timedelta(minutes=1), 3)])
    hook, state = throttle_hook(times=3)
    session.events.register_first("before-send.cloudwatch.GetMetricData", hook)
    df = metrics.get([lq(0)], w, session=session, max_attempts=5)
    assert state["throttled"] == 3 and state["sent"] == 4
    assert df.attrs["retries"] == 3 and df.attrs["api_calls"] == 1
    assert df["value"].tolist() == [3.0]


def test_throttling_past_budget_raises_throttled_error(session, no_backoff):
    hook, state = throttle_hook(times=None)
    session.events.register_first("before-send.cloudwatch.GetMetricData", hook)
    w = recent_window(30)
    with pytest.raises(ThrottledError) as info:
        metrics.get([lq(0)], w, session=session, max_attempts=3)
    assert state["sent"] == 3
    err = info.value
    assert isinstance(err.__cause__, ClientError)
    assert err.context["operation"] == "GetMetricData" and err.context["window"] == str(w)
    assert lq(0).id in err.context["query_ids"]
    assert "retry budget" in str(err)


# --- Stubber: percentiles, paging, PartialData, errors --------------------------------------------


def test_percentiles_and_trimmed_stats_through_stubber(stub):
    w = recent_window(60)
    qs = [lq(0, s) for s in ("p50", "p99", "p99.9", "tm99", "TM(10%:90%)", "PR(:300)")]
    t = [w.start + pd.Timedelta(minutes=i) for i in range(3)]
    stub.add(
        {"MetricDataResults": [result(q.id, t, [i + 0.5, i + 1.5, i + 2.5]) for i, q in enumerate(qs)], "Messages": []},
        {
            "MetricDataQueries": [q.to_aws(60) for q in qs],
            "StartTime": w.start.to_pydatetime(),
            "EndTime": w.end.to_pydatetime(),
            "ScanBy": "TimestampAscending",
        },
    )
    df = metrics.get(qs, w, region="us-east-1")
    stub.assert_done()
    assert sorted(set(df["stat"])) == sorted(["p50", "p99", "p99.9", "tm99", "TM(10%:90%)", "PR(:300)"])
    assert metrics.series(df, stat="p99.9").tolist() == [2.5, 3.5, 4.5]
    assert metrics.series(df, stat="tm(10%:90%)").tolist() == [4.5, 5.5, 6.5]
    assert df.attrs["complete"] is True


def test_next_token_followed_until_complete(stub):
    w = recent_window(60)
    q = lq(0, "p99")
    t = [w.start + pd.Timedelta(minutes=i) for i in range(4)]
    stub.add(
        {"MetricDataResults": [result(q.id, t[:2], [1, 2], status="PartialData")], "NextToken": "tok-1", "Messages": []},
        {"MetricDataQueries": ANY, "StartTime": ANY, "EndTime": ANY, "ScanBy": ANY},
    )
    stub.add(
        {"MetricDataResults": [result(q.id, t[2:3], [3], status="PartialData")], "NextToken": "tok-2"},
        {"MetricDataQueries": ANY, "StartTime": ANY, "EndTime": ANY, "ScanBy": ANY, "NextToken": "tok-1"},
    )
    stub.add(
        {"MetricDataResults": [result(q.id, t[3:], [4], status="Complete")]},
        {"MetricDataQueries": ANY, "StartTime": ANY, "EndTime": ANY, "ScanBy": ANY, "NextToken": "tok-2"},
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", IncompleteDataWarning)
        df = metrics.get([q], w, region="us-east-1")
    stub.assert_done()
    assert df["value"].tolist() == [1, 2, 3, 4] and df["timestamp"].tolist() == t
    assert df.attrs["api_calls"] == 3 and df.attrs["complete"] is True and df.attrs["truncated"] is False


def test_partial_data_without_next_token_is_incomplete_and_warns(stub):
    w = recent_window(60)
    a, b = lq(0, "Average"), lq(1, "Average")
    t = [w.start + pd.Timedelta(minutes=i) for i in range(2)]
    stub.add(
        {
            "MetricDataResults": [
                result(a.id, t, [1, 2], status="PartialData", messages=[{"Code": "MaxDatapointsExceeded", "Value": "too many"}]),
                result(b.id, t, [5, 6]),
            ],
            "Messages": [{"Code": "MaxMetricsExceeded", "Value": "Maximum number of allowed metrics exceeded"}],
        }
    )
    with pytest.warns(IncompleteDataWarning, match="metrics incomplete"):
        df = metrics.get([a, b], w, region="us-east-1")
    assert len(df) == 4  # what came back is kept
    assert df.attrs["complete"] is False and df.attrs["truncated"] is True
    issues = "\n".join(df.attrs["issues"])
    assert f"query {a.id}: StatusCode PartialData" in issues
    assert f"query {a.id}: MaxDatapointsExceeded: too many" in issues
    assert "MaxMetricsExceeded: Maximum number of allowed metrics exceeded" in issues
    assert b.id + ":" not in issues


@pytest.mark.parametrize("status", ["InternalError", "Forbidden"])
def test_error_statuses_are_incomplete(stub, status):
    w = recent_window(60)
    q = lq(0)
    stub.add({"MetricDataResults": [result(q.id, [], [], status=status)]})
    with pytest.warns(IncompleteDataWarning):
        df = metrics.get([q], w, region="us-east-1")
    assert df.empty and list(df.columns) == list(schema.METRIC_COLUMNS)
    assert df.attrs["complete"] is False and any(status in i for i in df.attrs["issues"])


def test_repeated_next_token_stops_and_is_reported(stub):
    w = recent_window(60)
    q = lq(0)
    t = w.start
    stub.add({"MetricDataResults": [result(q.id, [t], [1], status="PartialData")], "NextToken": "same"})
    stub.add({"MetricDataResults": [result(q.id, [t + pd.Timedelta(minutes=1)], [2], status="PartialData")], "NextToken": "same"})
    with pytest.warns(IncompleteDataWarning):
        df = metrics.get([q], w, region="us-east-1")
    stub.assert_done()
    assert df.attrs["api_calls"] == 2 and df.attrs["complete"] is False
    assert any("same NextToken twice" in i for i in df.attrs["issues"])


def test_access_denied_is_mapped_with_context(stub):
    stub.add_error("AccessDenied", "User is not authorized to perform: cloudwatch:GetMetricData", 403)
    with pytest.raises(AccessDeniedError) as info:
        metrics.get([lq(0)], recent_window(30), region="us-east-1")
    assert info.value.context["operation"] == "GetMetricData"
    assert isinstance(info.value.__cause__, ClientError)


def test_aws_sample_responses_parse(aws_samples, stub, monkeypatch):
    # Example 1 is a metric-math result (id m3) -- kept, with the period given
    page1 = json.loads((aws_samples / "cloudwatch_get_metric_data_response_1.json").read_text())
    df1 = metrics.from_responses(page1, period=300)
    assert df1["query_id"].tolist() == ["m3"] and df1["label"].tolist() == ["Avg Total IOPS"]
    assert df1["value"].tolist() == [96.85] and df1["period"].tolist() == [300]
    assert df1["timestamp"].tolist() == [pd.Timestamp("2024-09-29T22:10:00Z")]
    assert df1.attrs["complete"] is True and df1["namespace"].isna().all()
    with pytest.raises(ParameterError, match="not among the queries"):
        metrics.from_responses(page1)

    # Example 2 (AWS/Billing EstimatedCharges) replayed through get() at the time it was taken
    page2 = json.loads((aws_samples / "cloudwatch_get_metric_data_response_2.json").read_text())
    for r in page2["MetricDataResults"]:
        r["Timestamps"] = [dt.datetime.fromisoformat(t) for t in r["Timestamps"]]
    monkeypatch.setattr(metrics, "now_utc", lambda: pd.Timestamp("2024-09-27T00:00:00Z"))
    q = MetricQuery("m1", "AWS/Billing", "EstimatedCharges", {"Currency": "USD"}, "Maximum", period=21600)
    stub.add(page2, {"MetricDataQueries": [q.to_aws()], "StartTime": ANY, "EndTime": ANY, "ScanBy": "TimestampAscending"})
    df2 = metrics.get([q], Window.parse("2024-09-26T12:00Z", "2024-09-26T18:00Z", now=pd.Timestamp("2024-09-27T00:00Z")), region="us-east-1")
    assert df2["value"].tolist() == [542.38] and df2["dimensions"].tolist() == ['{"Currency":"USD"}']
    assert df2["timestamp"].tolist() == [pd.Timestamp("2024-09-26T12:00:00Z")]
    assert df2.attrs["complete"] is True and df2.attrs["api_calls"] == 1


def test_from_responses_forms_and_status_per_call():
    q = MetricQuery("m1", "N", "M", {}, "Sum", period=60)
    t0, t1 = "2026-03-01T03:00:00Z", "2026-03-01T03:01:00Z"
    partial = {"MetricDataResults": [{"Id": "m1", "Timestamps": [t0], "Values": [1.0], "StatusCode": "PartialData"}]}
    done = {"MetricDataResults": [{"Id": "m1", "Timestamps": [t1], "Values": [2.0], "StatusCode": "Complete"}]}
    # pages of one call: the last page decides -> complete
    assert metrics.from_responses([partial, done], [q], warn=False).attrs["complete"] is True
    # two calls (time slices): the first slice stayed partial -> incomplete
    df = metrics.from_responses([[partial], [done]], [q], warn=False)
    assert df.attrs["complete"] is False and df["value"].tolist() == [1.0, 2.0]
    # epoch seconds (as JSON protocols carry them) are read too; duplicates across pages dropped
    epoch = {"MetricDataResults": [{"Id": "m1", "Timestamps": [1772334000, 1772334000], "Values": [5.0, 5.0]}]}
    df = metrics.from_responses(epoch, [q])
    assert df["timestamp"].tolist() == [pd.Timestamp("2026-03-01T03:00:00Z")] and df.attrs["duplicates_dropped"] == 1
    with pytest.raises(ParameterError):
        metrics.from_responses([["not a page"]], [q])


# --- series / wide --------------------------------------------------------------------------------


def _frame():
    ts = pd.to_datetime(["2026-03-01T03:00Z", "2026-03-01T03:02Z", "2026-03-01T03:00Z", "2026-03-01T03:01Z"], utc=True)
    df = pd.DataFrame(
        {
            "timestamp": ts,
            "query_id": ["err", "err", "p99", "p99"],
            "label": ["api Errors Sum", "api Errors Sum", "api Duration p99", "api Duration p99"],
            "namespace": "AWS/Lambda",
            "metric_name": ["Errors", "Errors", "Duration", "Duration"],
            "dimensions": '{"FunctionName":"api"}',
            "stat": ["Sum", "Sum", "p99", "p99"],
            "period": 60,
            "value": [2.0, 5.0, 800.0, 9000.0],
        }
    )
    df = schema.conform(df, "metrics")
    df.attrs["query"] = {
        "queries": [
            {"id": "p99", "label": "api Duration p99", "metric_name": "Duration", "stat": "p99", "period": 60},
            {"id": "err", "label": "api Errors Sum", "metric_name": "Errors", "stat": "Sum", "period": 60},
            {"id": "thr", "label": "api Throttles Sum", "metric_name": "Throttles", "stat": "Sum", "period": 60},
        ],
        "aligned": [{"region": "us-east-1", "period": 60, "start": "2026-03-01T03:00:00Z", "end": "2026-03-01T03:04:00Z"}],
    }
    return df


def test_series_selects_one_metric_with_utc_index():
    s = metrics.series(_frame(), "Duration", stat="P99")
    assert s.tolist() == [800.0, 9000.0] and s.name == "api Duration p99"
    assert str(s.index.dtype) == "datetime64[ns, UTC]"
    assert metrics.series(_frame(), query_id="err").tolist() == [2.0, 5.0]


def test_series_fill_puts_zero_on_missing_periods_of_the_window():
    s = metrics.series(_frame(), "Errors", fill=0)
    assert s.tolist() == [2.0, 0.0, 5.0, 0.0]
    assert s.index[0] == pd.Timestamp("2026-03-01T03:00Z") and len(s) == 4


def test_series_ambiguous_unknown_and_empty():
    with pytest.raises(ParameterError, match="2 queries match"):
        metrics.series(_frame(), stat=None)
    with pytest.raises(ParameterError, match="no metric"):
        metrics.series(_frame(), "Nope")
    empty = metrics.series(_frame(), "Throttles")  # asked, but returned nothing
    assert empty.empty and empty.name == "api Throttles Sum"
    assert metrics.series(_frame(), "Throttles", fill=0).tolist() == [0.0] * 4


def test_wide_one_column_per_query_in_query_order():
    w = metrics.wide(_frame())
    assert w.columns.tolist() == ["p99", "err", "thr"]
    assert w.loc[pd.Timestamp("2026-03-01T03:01Z"), "p99"] == 9000.0
    assert w["thr"].isna().all()
    assert metrics.wide(_frame(), columns="label").columns.tolist() == ["api Duration p99", "api Errors Sum", "api Throttles Sum"]
    filled = metrics.wide(_frame(), fill=0)
    assert len(filled) == 4 and filled["err"].tolist() == [2.0, 0.0, 5.0, 0.0]
    with pytest.raises(ParameterError):
        metrics.wide(_frame(), columns="metric")


# --- presets --------------------------------------------------------------------------------------

ALB_ARN = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/web-alb/50dc6c495c0c9188"
TG_ARN = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web-tg/73e2d6bc24d8a067"


def all_presets():
    return {
        "lambda": metrics.lambda_function("api-handler"),
        "lambda_alias": metrics.lambda_function("api-handler", qualifier="live"),
        "lambda_account": metrics.lambda_account(),
        "rest": metrics.api_gateway("shop-api", "prod"),
        "http": metrics.api_gateway("a1b2c3d4e5"),
        "alb": metrics.alb(ALB_ARN),
        "tg": metrics.target_group(TG_ARN, ALB_ARN),
        "ddb": metrics.dynamodb_table("orders"),
        "rds": metrics.rds_instance("orders-db"),
        "r53": metrics.route53_health_check("abcdef11-2222-3333-4444-555555fedcba"),
        "ec2": metrics.ec2_instance("i-0abc123def4567890"),
    }


def test_presets_produce_valid_unique_get_metric_data_queries():
    presets = all_presets()
    everything = [q for qs in presets.values() for q in qs]
    assert len({q.id for q in everything}) == len(everything)  # combinable in one fetch
    validator = ParamValidator()
    model = boto3.Session(region_name="us-east-1").client("cloudwatch").meta.service_model
    shape = model.operation_model("GetMetricData").input_shape
    for name, qs in presets.items():
        assert qs, name
        params = {"MetricDataQueries": [q.to_aws(60) for q in qs], "StartTime": REF, "EndTime": REF}
        report = validator.validate(params, shape)
        assert not report.has_errors(), (name, report.generate_report())
        for q in qs:
            assert q.namespace.startswith("AWS/")
            assert all(v for v in q.dimensions.values())
    # an hour at 60 s: one call per region (the ALB ARNs say eu-west-1, Route 53 is in us-east-1)
    plan = metrics.plan_calls(everything, HOUR, period=60, region="eu-west-1", now=REF)
    assert sorted(c.region for c in plan.calls) == ["eu-west-1", "us-east-1"]


def test_lambda_preset_contents():
    qs = metrics.lambda_function("api-handler")
    pairs = {(q.metric_name, q.stat) for q in qs}
    assert {("Invocations", "Sum"), ("Errors", "Sum"), ("Throttles", "Sum"), ("Duration", "p50"), ("Duration", "p99"),
            ("Duration", "Maximum"), ("ConcurrentExecutions", "Maximum"),
            ("ProvisionedConcurrencySpilloverInvocations", "Sum")} <= pairs
    assert all(q.dimensions == {"FunctionName": "api-handler"} and q.namespace == "AWS/Lambda" for q in qs)
    aliased = metrics.lambda_function("arn:aws:lambda:eu-west-1:123456789012:function:api-handler:live")
    assert aliased[0].dimensions == {"FunctionName": "api-handler", "Resource": "api-handler:live"}
    assert aliased[0].region == "eu-west-1"
    assert ("ProvisionedConcurrencyUtilization", "Maximum") in {(q.metric_name, q.stat) for q in aliased}
    assert metrics.lambda_function("api-handler:live")[0].dimensions["Resource"] == "api-handler:live"
    with pytest.raises(ParameterError):
        metrics.lambda_function("api handler")
    with pytest.raises(ParameterError, match="two qualifiers"):
        metrics.lambda_function("api:live", qualifier="blue")


def test_api_gateway_rest_uses_api_name_http_uses_api_id():
    rest = metrics.api_gateway("shop-api", "prod")
    assert all(q.dimensions == {"ApiName": "shop-api", "Stage": "prod"} for q in rest)
    assert {"Count", "4XXError", "5XXError", "Latency", "IntegrationLatency"} == {q.metric_name for q in rest}
    assert {q.stat for q in rest if q.metric_name == "Latency"} == {"p50", "p90", "p99"}
    http = metrics.api_gateway("a1b2c3d4e5", "$default")
    assert all(q.dimensions == {"ApiId": "a1b2c3d4e5", "Stage": "$default"} for q in http)
    assert {"Count", "4xx", "5xx", "Latency", "IntegrationLatency"} == {q.metric_name for q in http}
    assert metrics.api_gateway("a1b2c3d4e5", kind="rest")[0].dimensions == {"ApiName": "a1b2c3d4e5"}
    with pytest.raises(ParameterError, match="not an HTTP API id"):
        metrics.api_gateway("shop-api", kind="http")


def test_alb_and_target_group_accept_arns_and_suffixes():
    lb = metrics.alb(ALB_ARN)
    assert all(q.dimensions == {"LoadBalancer": "app/web-alb/50dc6c495c0c9188"} for q in lb)
    assert lb[0].region == "eu-west-1"
    assert {"HTTPCode_ELB_5XX_Count", "HTTPCode_ELB_502_Count", "HTTPCode_Target_5XX_Count", "RequestCount"} <= {q.metric_name for q in lb}
    assert "UnHealthyHostCount" not in {q.metric_name for q in lb}  # only per target group in CloudWatch
    assert metrics.alb("app/web-alb/50dc6c495c0c9188")[0].dimensions == lb[0].dimensions
    assert metrics.alb("loadbalancer/app/web-alb/50dc6c495c0c9188")[0].dimensions == lb[0].dimensions

    tg = metrics.target_group(TG_ARN, "app/web-alb/50dc6c495c0c9188")
    assert all(
        q.dimensions == {"LoadBalancer": "app/web-alb/50dc6c495c0c9188", "TargetGroup": "targetgroup/web-tg/73e2d6bc24d8a067"}
        for q in tg
    )
    pairs = {(q.metric_name, q.stat) for q in tg}
    assert {("UnHealthyHostCount", "Maximum"), ("HealthyHostCount", "Minimum"), ("TargetResponseTime", "p50"),
            ("TargetResponseTime", "p99")} <= pairs
    with pytest.raises(ParameterError, match="NetworkELB"):
        metrics.alb("arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/net/nlb/1234567890abcdef")
    with pytest.raises(ParameterError, match="targetgroup"):
        metrics.target_group("web-tg", ALB_ARN)
    with pytest.raises(ParameterError, match="different regions"):
        metrics.target_group(TG_ARN.replace("eu-west-1", "us-west-2"), ALB_ARN)


def test_dynamodb_preset_dimensions_follow_cloudwatch():
    qs = metrics.dynamodb_table("arn:aws:dynamodb:eu-west-1:123456789012:table/orders")
    by_metric: dict[str, list[MetricQuery]] = {}
    for q in qs:
        by_metric.setdefault(q.metric_name, []).append(q)
    for name in ("ConsumedReadCapacityUnits", "ConsumedWriteCapacityUnits", "ProvisionedReadCapacityUnits",
                 "ProvisionedWriteCapacityUnits", "ReadThrottleEvents", "WriteThrottleEvents"):
        assert [q.dimensions for q in by_metric[name]] == [{"TableName": "orders"}]
    ops = {q.dimensions["Operation"] for q in by_metric["ThrottledRequests"]}
    assert {"Scan", "Query", "GetItem", "PutItem", "BatchWriteItem"} <= ops
    assert all(set(q.dimensions) == {"TableName", "Operation"} for q in by_metric["SystemErrors"])
    assert by_metric["UserErrors"][0].dimensions == {}  # account-level metric
    assert all(q.region == "eu-west-1" for q in qs)
    gsi = metrics.dynamodb_table("orders", index="by-customer", operations=["Scan"])
    assert gsi[0].dimensions == {"GlobalSecondaryIndexName": "by-customer", "TableName": "orders"}
    with pytest.raises(ParameterError, match="operation"):
        metrics.dynamodb_table("orders", operations=["scan items"])


def test_rds_route53_ec2_presets():
    rds = metrics.rds_instance("orders-db")
    assert {"CPUUtilization", "DatabaseConnections", "FreeableMemory", "ReadLatency", "WriteLatency"} <= {q.metric_name for q in rds}
    r53 = metrics.route53_health_check("arn:aws:route53:::healthcheck/abcdef11-2222-3333-4444-555555fedcba")
    assert all(q.region == "us-east-1" and q.dimensions == {"HealthCheckId": "abcdef11-2222-3333-4444-555555fedcba"} for q in r53)
    assert ("HealthCheckStatus", "Minimum") in {(q.metric_name, q.stat) for q in r53}
    assert "HealthCheckPercentageHealthy" in {q.metric_name for q in r53}
    ec2 = metrics.ec2_instance("i-0abc123def4567890")
    assert {("CPUUtilization", "Maximum"), ("CPUUtilization", "Average"), ("StatusCheckFailed", "Maximum")} <= {(q.metric_name, q.stat) for q in ec2}
    with pytest.raises(ParameterError):
        metrics.ec2_instance("web-1")
    with pytest.raises(ParameterError):
        metrics.rds_instance("1db")


def test_preset_period_is_validated_and_used():
    qs = metrics.ec2_instance("i-0abc123def4567890", period=300)
    assert {q.period for q in qs} == {300}
    with pytest.raises(ParameterError):
        metrics.ec2_instance("i-0abc123def4567890", period=61)


def test_preset_fetch_end_to_end_through_stubber(stub):
    w = recent_window(60)
    qs = metrics.lambda_function("api-handler")
    t = w.start + pd.Timedelta(minutes=5)
    stub.add({"MetricDataResults": [result(q.id, [t], [float(i)], label=q.label) for i, q in enumerate(qs)]})
    df = metrics.get(qs, w, region="us-east-1")
    wide = metrics.wide(df, columns="label")
    assert wide.columns.tolist() == [q.label for q in qs]
    assert wide.iloc[0].tolist() == [float(i) for i in range(len(qs))]
    assert metrics.series(df, "Duration", stat="p99").tolist() == [5.0]


def test_public_names():
    for name in metrics.__all__:
        assert hasattr(metrics, name), name
