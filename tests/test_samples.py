"""Sample incidents: contract (names, frames, dtypes, parameters), determinism, raw-format
validity, and that each sample still tells its story (checked on the raw data with plain
pandas, not with the kit's detectors)."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from incidentkit import samples, schema
from incidentkit.errors import ParameterError
from incidentkit.findings import FINDING_IDS
from incidentkit.window import Window

INCIDENTS_MD = Path(__file__).resolve().parents[1].parent / "shared" / "reference" / "incidents.md"
UTC = "datetime64[ns, UTC]"

_cache: dict[tuple[str, int, float], samples.Sample] = {}


def get(name: str, seed: int = 0, scale: float = 1.0) -> samples.Sample:
    key = (name, seed, scale)
    if key not in _cache:
        _cache[key] = samples.load(name, seed=seed, scale=scale)
    return _cache[key]


ALL = samples.names()
INCIDENTS = samples.names(healthy=False)
HEALTHY = samples.names(healthy=True)
CATALOGUED = [n for n in INCIDENTS if not pd.isna(samples.catalog().set_index("name").loc[n, "incident"])]
BEYOND = [n for n in INCIDENTS if n not in CATALOGUED]


# --------------------------------------------------------------------------------------------
# registry
# --------------------------------------------------------------------------------------------


def test_names_catalog_and_order():
    # one sample per catalogued incident, plus variants whose evidence comes another way (named <finding id>-from-<where>)
    variants = [n for n in INCIDENTS if "-from-" in n]
    assert len(CATALOGUED) == 11 + len(variants) and len(HEALTHY) >= 3 and variants == ["deregistration-delay-from-s3"]
    assert ALL == INCIDENTS + HEALTHY and sorted(INCIDENTS) == sorted(CATALOGUED + BEYOND)
    cat = samples.catalog()
    assert cat["name"].tolist() == ALL
    assert sorted(set(cat["incident"].dropna().astype(int))) == list(range(1, 12))
    assert cat.loc[cat["name"].isin(HEALTHY), "finding_id"].isna().all()
    # causes beyond the catalogue: at least four, each found as a generic finding
    assert len(BEYOND) >= 4
    assert set(cat.loc[cat["name"].isin(BEYOND), "finding_id"]) <= {"error-spike", "latency-regression"}
    # each says what its generic finding must name: the onset, the place, and (for errors) the signature
    for name in BEYOND:
        want = samples.expected(name)
        assert {"onset", "where"} <= set(want) and pd.Timestamp(want["onset"]).tzinfo is not None
        assert ("signature" in want) == (samples.catalog().set_index("name").loc[name, "finding_id"] == "error-spike")
    assert all(samples.expected(n) == {} for n in CATALOGUED + HEALTHY)
    assert all(n.startswith("healthy-") for n in HEALTHY)
    # incident samples are named by their finding id, except incident 9
    for row in cat.dropna(subset=["incident"]).itertuples():
        if "-from-" not in row.name:
            assert row.name == (row.finding_id if row.incident != 9 else "aggressive-health-checks")


def test_every_finding_id_has_a_sample():
    # every catalogued incident has its sample (tests/findings/test_catalogue.py reads the entries' Sample: lines)
    assert set(cat_ids := samples.catalog()["finding_id"].dropna()) <= set(FINDING_IDS)
    for fid in sorted(set(cat_ids)):
        s = samples.find(fid, scale=0.2)
        assert s.finding_id == fid and (s.name in (fid, "aggressive-health-checks") or s.name in BEYOND)
    assert samples.find("health-check-flapping", scale=0.2).incident == 6
    nine = get("aggressive-health-checks")
    assert (nine.finding_id, nine.incident) == ("health-check-flapping", 9)


def test_every_incident_of_the_catalogue_has_its_sample():
    if not INCIDENTS_MD.is_file():
        pytest.skip(f"{INCIDENTS_MD} not found")
    rows = re.findall(r"^\|\s*(\d+)\s*\|.*`([a-z0-9-]+)`\s*\|\s*$", INCIDENTS_MD.read_text(), flags=re.M)
    assert len(rows) == 11
    cat = samples.catalog().dropna(subset=["incident"])
    by_incident = {int(r.incident): r.finding_id for r in cat.itertuples()}
    for number, fid in rows:
        assert by_incident[int(number)] == fid, number


def test_unknown_names_say_did_you_mean():
    with pytest.raises(ParameterError, match="did you mean 'cold-start-tail'"):
        samples.load("cold-start-tial")
    with pytest.raises(ParameterError, match="did you mean 'health-check-flapping'"):
        samples.find("health-check-flaping")
    with pytest.raises(ValueError, match="no sample named 'nothing-like-it'"):
        samples.load("nothing-like-it")
    with pytest.raises(ParameterError, match="seed"):
        samples.load("cold-start-tail", seed=-1)
    with pytest.raises(ParameterError, match="scale"):
        samples.load("cold-start-tail", scale=0)


def test_all_returns_the_samples_in_order():
    got = samples.all(healthy=True, scale=0.3)
    assert [s.name for s in got] == HEALTHY
    assert all(s.healthy and s.finding_id is None for s in got)


# --------------------------------------------------------------------------------------------
# the frames of every sample
# --------------------------------------------------------------------------------------------

ALLOWED_PARAMETERS = {
    "log_groups", "function_name", "api_id", "api_name", "stage", "load_balancer", "target_group_arn", "table_name",
    "db_instance", "health_check_id", "security_group_ids", "ecs_cluster", "ecs_service", "instance_ids", "region",
}
PARAM_PATTERNS = {
    "load_balancer": r"arn:aws:elasticloadbalancing:[a-z0-9-]+:\d{12}:loadbalancer/app/[\w-]+/[0-9a-f]{16}",
    "target_group_arn": r"arn:aws:elasticloadbalancing:[a-z0-9-]+:\d{12}:targetgroup/[\w-]+/[0-9a-f]{16}",
    "health_check_id": r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
    "api_id": r"[a-z0-9]{10}",
    "function_name": r"[A-Za-z0-9_-]{1,64}",
    "table_name": r"[A-Za-z0-9_.-]{3,255}",
    "db_instance": r"[a-z][a-z0-9-]{0,62}",
    "region": r"(us|eu|ap|sa|ca)-(east|west|central|north|south|northeast|southeast)-\d",
}


def _dtypes(df: pd.DataFrame) -> dict[str, str]:
    return {c: str(t) for c, t in df.dtypes.items()}


@pytest.mark.parametrize("name", ALL)
def test_frames_have_the_fixed_columns_and_dtypes(name):
    s = get(name)
    for frame, kind in ((s.events, "events"), (s.metrics, "metrics"), (s.changes, "changes")):
        assert list(frame.columns) == list(schema.columns_of(kind)), kind
        assert _dtypes(frame) == _dtypes(schema.empty_frame(kind)), kind
        assert str(frame["timestamp"].dtype) == UTC
    assert list(s.settings.columns) == list(schema.SETTING_COLUMNS)
    assert str(s.settings["timestamp"].dtype) == UTC
    assert all(str(s.settings[c].dtype) == "string" for c in schema.SETTING_COLUMNS[1:])
    assert str(s.events["ingestion_time"].dtype) == UTC
    assert (s.events["ingestion_time"] >= s.events["timestamp"]).all()
    assert s.events["event_id"].str.fullmatch(r"\d{56}").all() and s.events["event_id"].is_unique
    assert not s.events["message"].isna().any() and not (s.events["message"].str.len() == 0).any()
    assert s.events["timestamp"].is_monotonic_increasing
    for hname, frame in s.health.items():
        assert tuple(frame.columns) == samples.HEALTH_FRAMES[hname], hname
        assert str(frame["timestamp"].dtype) == UTC


@pytest.mark.parametrize("name", ALL)
def test_windows_are_fixed_past_and_hold_every_event(name):
    s = get(name)
    w, b = s.window, s.baseline
    assert isinstance(w, Window) and isinstance(b, Window)
    assert w.start.year == 2026 and w.end < pd.Timestamp("2026-11-28T00:00:00Z")
    assert b.duration == w.duration and b.end <= w.start
    for frame in (s.events, s.metrics):
        ts = frame["timestamp"]
        inside = ((ts >= w.start) & (ts < w.end)) | ((ts >= b.start) & (ts < b.end))
        assert inside.all()
        assert ((ts >= w.start) & (ts < w.end)).any() and ((ts >= b.start) & (ts < b.end)).any()
    assert (s.changes["timestamp"] >= b.start - pd.Timedelta(days=1)).all() and (s.changes["timestamp"] < w.end).all()


@pytest.mark.parametrize("name", ALL)
def test_parameters_name_real_resources_and_log_groups(name):
    s = get(name)
    p = s.parameters
    assert set(p) <= ALLOWED_PARAMETERS, set(p) - ALLOWED_PARAMETERS
    groups = set(s.events["log_group"].unique())
    assert isinstance(p["log_groups"], list) and p["log_groups"]
    assert set(p["log_groups"]) == groups
    for key, pattern in PARAM_PATTERNS.items():
        if key in p:
            assert re.fullmatch(pattern, p[key]), (key, p[key])
    for sg in p.get("security_group_ids", []):
        assert re.fullmatch(r"sg-[0-9a-f]{17}", sg)
    for iid in p.get("instance_ids", []):
        assert re.fullmatch(r"i-[0-9a-f]{17}", iid)
    # resources named in the parameters show in the metrics' dimensions
    dims = " ".join(s.metrics["dimensions"].unique())
    for key in ("function_name", "table_name", "db_instance", "health_check_id"):
        if key in p:
            assert p[key] in dims, key
    if "load_balancer" in p:
        assert p["load_balancer"].split("loadbalancer/")[1] in dims


@pytest.mark.parametrize("name", ALL)
def test_metrics_are_cloudwatch_shaped(name):
    s = get(name)
    m = s.metrics
    assert len(m) and (m["period"] == 60).all()
    assert (m["timestamp"].dt.second == 0).all() and (m["timestamp"].dt.microsecond == 0).all()
    assert np.isfinite(m["value"]).all()
    assert not m.duplicated(["query_id", "timestamp"]).any()
    assert m["query_id"].str.fullmatch(r"[a-z][a-z0-9_]*").all()
    for dims in m["dimensions"].unique():
        assert json.dumps(json.loads(dims), sort_keys=True, separators=(",", ":")) == dims
    assert set(m["stat"]) <= {"Sum", "Average", "Maximum", "Minimum", "SampleCount", "p50", "p90", "p99"}
    # one query id is one (namespace, metric, dimensions, stat)
    assert (m.groupby("query_id")[["namespace", "metric_name", "dimensions", "stat"]].nunique() == 1).all().all()
    assert m["namespace"].str.match(r"AWS/|[A-Z]").all()


@pytest.mark.parametrize("name", ALL)
def test_changes_and_settings_look_like_aws(name):
    s = get(name)
    c = s.changes
    assert len(c) >= 1
    assert set(c["class"]) <= set(schema.CHANGE_CLASSES)
    assert c["actor"].str.match(r"arn:aws:(iam|sts)::\d{12}:").all()
    assert (c["source"] == "cloudtrail").all()
    for d in c["detail"]:
        assert json.loads(d)["event_source"].endswith(".amazonaws.com")
    st = s.settings
    assert len(st) >= 5 and not st["value"].isna().any()
    assert st["resource_type"].str.fullmatch(r"AWS::\w+::\w+").all()


@pytest.mark.parametrize("name", ALL)
def test_the_story_is_told(name):
    s = get(name)
    assert s.title and s.name in ALL
    sentences = [x for x in re.split(r"(?<=[.!?])\s+", s.description.strip()) if x]
    assert 2 <= len(sentences) <= 4, sentences
    if s.finding_id:
        assert s.finding_id in FINDING_IDS
    assert s.name in repr(s) and "events" in repr(s)


# --------------------------------------------------------------------------------------------
# determinism and scale
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ALL)
def test_same_seed_same_frames(name):
    a, b = get(name), samples.load(name)
    for fa, fb in ((a.events, b.events), (a.metrics, b.metrics), (a.changes, b.changes), (a.settings, b.settings)):
        pd.testing.assert_frame_equal(fa, fb)
    assert a.health.keys() == b.health.keys()
    for k in a.health:
        pd.testing.assert_frame_equal(a.health[k], b.health[k])
    assert a.parameters == b.parameters and a.window == b.window


@pytest.mark.parametrize("name", ["cold-start-tail", "health-check-flapping", "connection-pool-leak", "healthy-dynamodb-batch"])
def test_another_seed_gives_other_data_same_story_shape(name):
    a, b = get(name), get(name, seed=7)
    assert not a.events["message"].equals(b.events["message"])
    assert a.parameters == b.parameters and a.window == b.window
    assert 0.6 < len(b.events) / len(a.events) < 1.6


@pytest.mark.parametrize("name", ["version-skew-errors", "deregistration-delay-too-short", "scan-read-burst"])
def test_scale_multiplies_volume(name):
    base, big = get(name), samples.load(name, scale=2.0)
    assert 1.6 < len(big.events) / len(base.events) < 2.4
    assert set(big.parameters["log_groups"]) == set(big.events["log_group"].unique())


# --------------------------------------------------------------------------------------------
# raw formats: every line is a valid record of the format it claims
# --------------------------------------------------------------------------------------------

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
ISO = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"
REPORT = re.compile(
    rf"REPORT RequestId: {UUID}\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms\tMemory Size: \d+ MB\t"
    rf"Max Memory Used: \d+ MB\t(Init Duration: \d+\.\d\d ms\t)?(Status: timeout)?"
    rf"(\nXRAY TraceId: 1-[0-9a-f]{{8}}-[0-9a-f]{{24}}\tSegmentId: [0-9a-f]{{16}}\tSampled: true)?"
)
CHECKS = [
    ("START ", re.compile(rf"START RequestId: {UUID} Version: (\$LATEST|\d+)")),
    ("END ", re.compile(rf"END RequestId: {UUID}")),
    ("REPORT ", REPORT),
    ("INIT_START ", re.compile(r"INIT_START Runtime Version: [a-z0-9.]+:[\w.]+\tRuntime Version ARN: arn:aws:lambda:[a-z0-9-]+::runtime:[0-9a-f]{64}")),
    ("[INFO]", re.compile(rf"\[INFO\]\t{ISO}\t{UUID}\t.+", re.S)),
    ("[WARNING]", re.compile(rf"\[WARNING\]\t{ISO}\t{UUID}\t.+", re.S)),
    ("[ERROR]", re.compile(rf"\[ERROR\]\t{ISO}\t{UUID}\t.+|\[ERROR\] \w+: .+\nTraceback \(most recent call last\):\n.+", re.S)),
    ("2 123456789012 eni-", re.compile(r"2 \d{12} eni-[0-9a-f]{17} [\d.]+ [\d.]+ \d+ \d+ \d+ \d+ \d+ \d{10} \d{10} (ACCEPT|REJECT) OK")),
]
_FIELDS = re.compile(r'"[^"]*"|\S+')


def alb_fields(line: str) -> list[str]:
    """The space-separated fields of an ALB access-log entry, quotes removed."""
    return [f[1:-1] if f.startswith('"') else f for f in _FIELDS.findall(line)]


ALB = re.compile(r"(https|http|h2) \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z app/[\w-]+/[0-9a-f]{16} [\d.]+:\d+ ([\d.]+:\d+|-) ")


def _check_line(m: str) -> str | None:
    if m.startswith("{"):
        json.loads(m, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))  # NaN/Infinity are not JSON
        return None
    if ALB.match(m):
        fields = alb_fields(m)
        assert len(fields) in (29, 30), (len(fields), m)
        assert fields[8].isdigit() and (fields[9] == "-" or fields[9].isdigit())
        return None
    if re.match(rf"{ISO}\t{UUID}\t(INFO|WARN|ERROR|DEBUG)\t", m) or re.match(rf"{ISO} {UUID} Task timed out after \d+\.\d\d seconds$", m):
        return None
    for prefix, rx in CHECKS:
        if m.startswith(prefix):
            assert rx.fullmatch(m), m[:300]
            return None
    return "other"


@pytest.mark.parametrize("name", ALL)
def test_every_line_is_well_formed(name):
    s = get(name)
    other = 0
    for m in s.events["message"]:
        assert not re.search(r"np\.\w+\(|array\(\[|\['|dtype=|\bnan\b|<NA>", m), m[:300]
        other += _check_line(m) == "other"
    # what no rule above claims is free text (runtime, GC, CI output, tracebacks): a minority
    assert other / len(s.events) < 0.25
    # multi-line events stay one event: every traceback carries its exception line
    msgs = s.events["message"]
    tb = msgs[msgs.str.contains("Traceback (most recent call last):", regex=False) & ~msgs.str.startswith("{")]
    for m in tb:
        assert re.search(r"^\S*(Error|Exception|TimeoutError)\b.*:", m, flags=re.M) or m.startswith("[ERROR] "), m[:400]


def test_parsers_read_every_sample_without_errors():
    if importlib.util.find_spec("incidentkit.parse") is None:
        pytest.skip("incidentkit.parse is not there yet")
    from incidentkit import parse as parsers

    if not hasattr(parsers, "parse"):
        pytest.skip("incidentkit.parse.parse is not there yet")
    for name in ALL:
        s = get(name)
        parsed = parsers.parse(s.events)
        assert len(parsed) == len(s.events), name
        bad = parsed[parsed["parse_error"].astype(bool)]
        assert bad.empty, (name, bad[["log_group", "parse_error_reason", "message"]].head(3).to_dict("records"))


# --------------------------------------------------------------------------------------------
# each sample shows the signal incidents.md describes (raw data, plain pandas)
# --------------------------------------------------------------------------------------------


def _json_group(s: samples.Sample, group: str, prefix: str = "{") -> pd.DataFrame:
    e = s.events[(s.events["log_group"] == group) & s.events["message"].str.startswith(prefix)]
    d = pd.DataFrame([json.loads(m) for m in e["message"]])
    d["ts"] = e["timestamp"].to_numpy()
    return d


def _alb(s: samples.Sample, group: str) -> pd.DataFrame:
    e = s.events[s.events["log_group"] == group]
    rows = [alb_fields(m) for m in e["message"]]
    d = pd.DataFrame({"ts": e["timestamp"].to_numpy(), "elb": [int(r[8]) for r in rows], "target_s": [float(r[6]) for r in rows],
                      "created": pd.to_datetime([r[21] for r in rows], utc=True), "request": [r[12] for r in rows]})
    return d


def _series(s: samples.Sample, label: str) -> pd.Series:
    m = s.metrics[s.metrics["label"] == label]
    assert len(m), f"no datapoints for {label}"
    return m.set_index("timestamp")["value"]


def _in(ts: pd.Series, w: Window) -> pd.Series:
    return (ts >= w.start) & (ts < w.end)


def test_story_version_skew():
    s = get("version-skew-errors")
    d = _json_group(s, s.parameters["log_groups"][0])
    d["status"] = d["status"].astype(int)
    d["old"] = d["userAgent"].str.match(r"ShopApp/2\.")
    d["new"] = d["userAgent"].str.match(r"ShopApp/3\.")
    after = d["ts"] >= pd.Timestamp("2026-03-10T02:55Z")
    auth = ~d["routeKey"].eq("GET /catalog/items")
    assert (d.loc[after & auth & d["old"], "status"] == 403).mean() > 0.9
    assert (d.loc[after & d["new"], "status"] == 403).mean() < 0.03
    assert 0.2 < (d.loc[after, "status"] == 403).mean() < 0.4
    assert (d.loc[d["ts"] < s.window.start, "status"] == 403).mean() < 0.02
    dep = s.changes[s.changes["event_name"] == "UpdateFunctionCode20150331v2"]
    assert len(dep) == 1 and s.window.start < dep["timestamp"].iloc[0] < pd.Timestamp("2026-03-10T02:55Z")


def test_story_cold_start_timeouts():
    s = get("cold-start-timeouts")
    d = _json_group(s, s.parameters["log_groups"][0])
    d["status"] = d["status"].astype(int)
    d["integ"] = d["integrationLatency"].astype(float)
    burst = (d["ts"] >= pd.Timestamp("2026-04-17T18:00Z")) & (d["ts"] < pd.Timestamp("2026-04-17T18:05Z"))
    assert 0.08 < (d.loc[burst, "status"] >= 500).mean() < 0.35
    assert (d.loc[d["status"] == 504, "integ"] >= 29000).all() and (d["status"] == 504).sum() > 50
    assert (d.loc[d["ts"] < s.window.start, "status"] >= 500).mean() < 0.01
    lam = s.events[s.events["log_group"] == "/aws/lambda/checkout-handler"]["message"]
    cold_to = lam.str.contains("Init Duration") & lam.str.startswith("REPORT")
    assert cold_to.sum() > 50 and lam.str.contains("Status: timeout").sum() > 20
    assert lam.str.contains("Task timed out after 30.").sum() > 20
    assert _series(s, "checkout-handler ConcurrentExecutions Maximum").max() == 100


def test_story_healthcheck_blocked_by_change():
    s = get("healthcheck-blocked-by-change")
    change = s.changes.loc[s.changes["class"] == "SECURITY_CHANGE", "timestamp"].min()
    status = _series(s, f"{s.parameters['health_check_id']} HealthCheckStatus Minimum")
    assert (status[status.index < change - pd.Timedelta("1min")] == 1).all()
    assert (status[status.index > change + pd.Timedelta("3min")] == 0).all()
    unhealthy = _series(s, "api-use1-tg UnHealthyHostCount Maximum")
    assert (unhealthy == 0).all()
    flow = s.events[s.events["log_group"] == "/vpc/flowlogs/prod-use1"]
    to_443 = flow[flow["message"].str.contains(r" 15\.177\.\d+\.\d+ \S+ \d+ 443 6 ", regex=True)]
    assert len(to_443) > 100 and (to_443["timestamp"] >= change).all()
    secondary = _alb(s, "/alb/api-usw2/access")
    late = secondary["ts"] > change + pd.Timedelta("5min")
    assert (secondary.loc[late, "elb"] >= 500).mean() > 0.05
    primary = _alb(s, "/alb/api-use1/access")
    assert (primary["elb"] >= 500).mean() < 0.01


def test_story_connection_pool_leak():
    s = get("connection-pool-leak")
    e = s.events["message"]
    assert e.str.contains("QueuePool limit of size 10 overflow 10 reached, connection timed out, timeout 30.00").sum() > 200
    assert not s.events.loc[_in(s.events["timestamp"], s.baseline), "message"].str.contains("QueuePool").any()
    gauge = _series(s, "billing-api DbPoolCheckedOut Maximum")
    assert gauge[gauge.index < s.window.start].max() <= 5 and gauge.iloc[-30:].min() == 20
    conns = _series(s, "billing-db DatabaseConnections Maximum")
    cpu = _series(s, "billing-db CPUUtilization Average")
    max_conn = int(s.settings.loc[s.settings["setting"] == "max_connections", "value"].iloc[0])
    assert conns.max() < 0.2 * max_conn and cpu.mean() < 30
    emf = _json_group(s, "/ecs/billing-api", '{"_aws"')
    for task, g in emf[emf["ts"] >= pd.Timestamp("2026-06-09T09:30Z")].groupby("TaskId"):
        v = g.sort_values("ts")["DbPoolCheckedOut"].to_numpy()
        assert v[-1] == 20 and (np.diff(v) >= -1).all(), task  # it climbs and never comes back


def test_story_throttling_without_backoff():
    s = get("throttling-without-backoff")
    w = s.events[s.events["message"].str.startswith("[WARNING]")]
    parts = w["message"].str.split("\t")
    d = pd.DataFrame({"ts": w["timestamp"].to_numpy(), "rid": parts.str[2].to_numpy(),
                      "batch": w["message"].str.extract(r"batch=(\S+)")[0].to_numpy()})
    gaps = d.sort_values("ts").groupby(["rid", "batch"])["ts"].diff().dt.total_seconds().dropna() * 1000
    assert len(gaps) > 1000 and gaps.median() < 60
    thr = _series(s, "orders WriteThrottleEvents Sum")
    assert thr.sum() > 50_000 and (thr.index >= s.window.start).all()
    assert _series(s, "orders ProvisionedWriteCapacityUnits Average").max() == 1000
    assert s.events["message"].str.contains("ProvisionedThroughputExceededException").any()
    assert s.events["message"].str.contains("ABORTED").any()


def test_story_health_check_flapping():
    s = get("health-check-flapping")
    th = s.health["target_health"]
    change = s.changes.loc[s.changes["event_name"] == "ModifyTargetGroup", "timestamp"].iloc[0]
    bad = th[th["state"] == "unhealthy"]
    assert len(bad) >= 10 and (bad["timestamp"] > change).all() and (bad["reason"] == "Target.Timeout").all()
    cfg = dict(zip(s.settings["setting"], s.settings["value"]))
    assert (cfg["HealthCheckIntervalSeconds"], cfg["HealthCheckTimeoutSeconds"], cfg["UnhealthyThresholdCount"]) == ("5", "2", "2")
    cpu = s.metrics[(s.metrics["metric_name"] == "CPUUtilization") & (s.metrics["stat"] == "Maximum")]
    assert (cpu["value"] > 90).mean() > 0.1 and (cpu.loc[_in(cpu["timestamp"], s.baseline), "value"] > 90).any()
    alb = _alb(s, s.parameters["log_groups"][0])
    assert (alb.loc[alb["ts"] > change, "elb"] == 502).sum() >= 5


def test_story_cold_start_tail():
    s = get("cold-start-tail")
    d = _json_group(s, s.parameters["log_groups"][0])
    d["lat"] = d["responseLatency"].astype(float)
    hour = d["ts"].dt.hour
    quiet = d[(hour >= 1) & (hour < 5)]
    busy = d[(hour >= 18) & (hour < 21)]
    assert quiet["lat"].median() < 400 and quiet["lat"].quantile(0.99) > 5000
    assert busy["lat"].quantile(0.99) < 1500 and len(busy) > 5 * len(quiet)
    reports = s.events[s.events["message"].str.contains('"type":"platform.report"', regex=False)]
    cold = reports["message"].str.contains("initDurationMs")
    assert cold[reports["timestamp"].dt.hour.between(1, 4)].mean() > 3 * cold[reports["timestamp"].dt.hour.between(18, 20)].mean()


def test_story_scan_read_burst():
    s = get("scan-read-burst")
    reads = _series(s, "orders ReadThrottleEvents Sum")
    six = pd.Timestamp("2026-10-06T06:00Z")
    assert reads.sum() > 500 and (reads.index >= six).all() and (reads.index < six + pd.Timedelta("30min")).all()
    assert "orders WriteThrottleEvents Sum" not in set(s.metrics["label"])
    consumed = _series(s, "orders ConsumedReadCapacityUnits Sum")
    assert consumed[consumed.index >= six].max() > 60 * 400 and consumed[consumed.index < six].max() < 2000
    rep = s.events[s.events["log_group"] == "/aws/lambda/daily-sales-report"]["message"]
    assert rep.str.contains("Scan page").sum() > 100
    cron = s.settings.loc[s.settings["setting"] == "ScheduleExpression", "value"].iloc[0]
    assert cron == "cron(0 6 * * ? *)"


def test_story_aggressive_health_checks():
    s = get("aggressive-health-checks")
    cfg = dict(zip(s.settings["setting"], s.settings["value"]))
    assert (cfg["HealthCheckTimeoutSeconds"], cfg["UnhealthyThresholdCount"], cfg["HealthCheckPath"]) == ("3", "2", "/health")
    th = s.health["target_health"]
    bad = th[th["state"] == "unhealthy"]
    assert len(bad) >= 5 and _in(bad["timestamp"], s.window).all()
    app = _json_group(s, "/ecs/checkout-api")
    hc = app[app["http.route"] == "GET /health"]
    assert (hc.loc[_in(hc["ts"], s.window), "latency_ms"] > 3000).sum() > 20
    assert (hc.loc[_in(hc["ts"], s.baseline), "latency_ms"] > 3000).sum() <= 3  # a lone slow check is not two in a row
    cpu = _series(s, "prod/checkout-api CPUUtilization Average")
    assert cpu.max() < 60  # not a CPU problem
    assert s.health["ecs_events"]["message"].str.contains("failed ELB health checks").sum() >= 5


def test_story_deregistration_delay():
    s = get("deregistration-delay-too-short")
    d = _alb(s, s.parameters["log_groups"][0])
    dereg = s.changes.loc[s.changes["event_name"] == "DeregisterTargets", "timestamp"].tolist()
    assert len(dereg) == 3
    cut = d[d["elb"] == 502]
    assert len(cut) >= 5
    for ts, created in zip(cut["ts"], cut["created"]):
        assert any(pd.Timedelta("30s") <= ts - x <= pd.Timedelta("32s") for x in dereg), ts
        assert ts - created >= pd.Timedelta("30s")
    assert (d.loc[d["target_s"] >= 0, "target_s"] > 50).sum() > 20
    cfg = dict(zip(s.settings["setting"], s.settings["value"]))
    assert cfg["deregistration_delay.timeout_seconds"] == "30"


def test_story_partial_change_no_rollback():
    s = get("partial-change-no-rollback")
    c = s.changes
    script = c[c["actor"].str.endswith(":user/sg-rotation-bot")]
    assert len(script) == 4 and (script["class"] == "SECURITY_CHANGE").all()
    assert script["timestamp"].max() - script["timestamp"].min() < pd.Timedelta("1min")
    assert script["error_code"].iloc[-1] == "Client.InvalidGroup.NotFound" and script["error_code"].iloc[:-1].isna().all()
    assert all(json.loads(d)["non_iac"] for d in script["detail"])
    iac = c[c["actor"].str.contains("AWSCloudFormation")]
    assert len(iac) == 3 and iac["error_code"].isna().all()
    assert not (c["timestamp"] > script["timestamp"].max()).any()  # nothing restored the revoked rule
    ct = s.events[s.events["log_group"] == "aws-cloudtrail-logs-123456789012-prod"]
    assert ct["message"].str.contains('"readOnly":true').sum() > 1000


@pytest.mark.parametrize("name", HEALTHY)
def test_healthy_samples_have_only_a_trickle(name):
    s = get(name)
    msgs = s.events["message"]
    assert not msgs.str.contains("QueuePool limit|Status: timeout|Task timed out", regex=True).any()
    assert len(s.changes) >= 2  # normal changes happen
    assert not s.changes["error_code"].notna().any()
    for label in s.metrics["label"].unique():
        if label.endswith(("UnHealthyHostCount Maximum",)):
            assert (_series(s, label) == 0).all()
    errors = s.metrics[s.metrics["metric_name"].isin(["5xx", "5XXError", "HTTPCode_Target_5XX_Count", "HTTPCode_ELB_5XX_Count", "Errors"])
                       & (s.metrics["stat"] == "Sum")]["value"].sum()
    requests = s.metrics[s.metrics["metric_name"].isin(["Count", "RequestCount", "Invocations"]) & (s.metrics["stat"] == "Sum")]["value"].sum()
    if requests:
        assert errors / requests < 0.01


def test_docstring_examples_run():
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module("incidentkit.samples"), optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 5 and result.failed == 0
