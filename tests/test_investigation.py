"""The Investigation object: samples, live fetches recorded with provenance, replay, pinning."""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd
import pytest

import incidentkit as ik
from incidentkit import schema
from incidentkit.errors import (
    AccessDeniedError,
    EvidenceError,
    IncompleteDataWarning,
    NotFoundError,
    ParameterError,
    ThrottledError,
)
from incidentkit.evidence import EvidenceBundle
from incidentkit.investigation import Investigation, metric_queries


@pytest.fixture(scope="module")
def cold() -> Investigation:
    inv = Investigation.sample("cold-start-tail")
    inv.findings()
    return inv


def test_sample_opens_offline_with_its_window_and_resources(cold: Investigation) -> None:
    from incidentkit import samples

    smp = samples.load("cold-start-tail")
    assert cold.offline and cold.sample_name == "cold-start-tail"
    assert cold.window == smp.window and cold.baseline == smp.baseline
    assert cold.resources["function_name"] == smp.parameters["function_name"]
    assert cold.region == smp.parameters["region"] and "region" not in cold.resources
    assert cold.findings().top.id == "cold-start-tail"


def test_sample_frames_are_exactly_what_the_calls_ask_for(cold: Investigation) -> None:
    used = set(cold.frames_read)
    assert used == set(cold.bundle.names())  # every recorded frame is read by collect(), none is missing
    logs = cold.logs()
    assert list(logs.columns[: len(schema.PARSED_COLUMNS)]) == list(schema.PARSED_COLUMNS)
    assert logs["timestamp"].min() >= cold.window.start and logs["timestamp"].max() < cold.window.end
    base = cold.logs(window="baseline")
    assert base["timestamp"].max() < cold.baseline.end
    from incidentkit import samples

    assert len(logs) + len(base) == len(samples.load("cold-start-tail").events)


def test_sample_by_finding_id_and_unknown_names() -> None:
    inv = Investigation.sample("healthcheck-blocked-by-change")
    assert inv.sample_name == "healthcheck-blocked-by-change"
    with pytest.raises(ParameterError, match="did you mean 'cold-start-tail'"):
        Investigation.sample("cold-start-tale")


def test_save_and_open_give_the_same_findings(cold: Investigation, tmp_path: Path) -> None:
    path = cold.save(tmp_path / "pinned")
    reopened = Investigation.open(path)
    assert reopened.offline and reopened.window == cold.window and reopened.baseline == cold.baseline
    assert reopened.resources == cold.resources and reopened.sample_name == "cold-start-tail"
    assert reopened.findings().to_dicts() == cold.findings().to_dicts()
    with pytest.raises(EvidenceError, match="not empty"):
        cold.save(path)


def test_open_needs_an_investigation_bundle(tmp_path: Path) -> None:
    EvidenceBundle(tmp_path / "plain")
    with pytest.raises(EvidenceError, match="no investigation window"):
        Investigation.open(tmp_path / "plain")
    with pytest.raises(EvidenceError, match="no evidence bundle"):
        Investigation.open(tmp_path / "nothing-here")


def test_offline_without_evidence_is_refused() -> None:
    with pytest.raises(ParameterError, match="offline=True needs evidence"):
        Investigation("2026-03-01T03:00Z", "2026-03-01T04:00Z", offline=True)


def test_context_window() -> None:
    inv = Investigation("2026-03-01T03:00Z", "2026-03-01T04:00Z", baseline="previous")
    assert str(inv.context) == "2026-03-01T02:00:00Z → 2026-03-01T04:00:00Z (2 h)"
    assert inv._metric_windows() == [inv.context]
    week = Investigation("2026-03-01T03:00Z", "2026-03-01T04:00Z", baseline="week")
    assert str(week.context) == "2026-03-01T02:00:00Z → 2026-03-01T04:00:00Z (2 h)"  # lead-in of one window
    assert week._metric_windows() == [week.context, week.baseline]
    # the change timeline reaches back at least 12 h: the change behind an incident can be hours older
    assert str(inv.change_window) == "2026-02-28T15:00:00Z → 2026-03-01T04:00:00Z (13 h)"
    assert inv._change_windows() == [inv.change_window]
    assert week._change_windows() == [week.change_window, week.baseline]
    none = Investigation("2026-03-01T03:00Z", "2026-03-01T03:30Z")
    assert none.baseline is None and str(none.context).startswith("2026-03-01T02:30:00Z")
    with pytest.raises(ParameterError, match="no baseline window"):
        none.logs(window="baseline")


# -- live fetches against moto, recorded and replayed ------------------------------------------


@pytest.fixture
def moto_logs():
    from moto import mock_aws

    import boto3

    with mock_aws():
        client = boto3.client("logs", region_name="eu-west-1")
        client.create_log_group(logGroupName="/aws/lambda/orders")
        client.create_log_stream(logGroupName="/aws/lambda/orders", logStreamName="s1")
        now = pd.Timestamp.now(tz="UTC").floor("s")
        start = now - pd.Timedelta(minutes=30)
        events = []
        for i in range(40):
            t = start + pd.Timedelta(seconds=30 * i)
            events.append({"timestamp": int(t.value // 1_000_000),
                           "message": f"REPORT RequestId: r{i} Duration: {100 + i}.0 ms Billed Duration: {101 + i} ms "
                                      f"Memory Size: 512 MB Max Memory Used: 80 MB" + (" Init Duration: 900.0 ms" if i % 10 == 0 else "")})
        client.put_log_events(logGroupName="/aws/lambda/orders", logStreamName="s1", logEvents=events)
        yield start, now + pd.Timedelta(seconds=1)


def test_live_logs_are_recorded_with_provenance_and_replayed(moto_logs, tmp_path: Path, recorded_aws_calls) -> None:
    start, end = moto_logs
    inv = Investigation(start, end, region="eu-west-1", evidence=tmp_path / "ev")
    parsed = inv.logs("/aws/lambda/orders")
    assert len(parsed) == 40 and parsed["cold_start"].fillna(False).sum() == 4
    [name] = inv.bundle.names()
    entry = inv.bundle.entry(name)
    assert entry["kind"] == "logs" and entry["rows"] == 40 and entry["sha256"]
    assert entry["attrs"]["source"] == "logs.events" and entry["attrs"]["api_calls"] >= 1
    assert entry["attrs"]["window"]["start"].startswith(str(start.date()))
    # the same request again is read from the bundle: no second call
    calls_before = entry["attrs"]["api_calls"]
    again = inv.raw_logs("/aws/lambda/orders")
    assert len(again) == 40 and inv.bundle.entry(name)["attrs"]["api_calls"] == calls_before
    # replay, offline, no AWS: the same frame
    off = Investigation(start, end, evidence=tmp_path / "ev", offline=True)
    assert off.raw_logs("/aws/lambda/orders")["event_id"].tolist() == inv.raw_logs("/aws/lambda/orders")["event_id"].tolist()
    assert len(off.logs()) == 40  # no argument: the log events the bundle holds for the window
    with pytest.raises(EvidenceError, match="has no logs frame"):
        off.raw_logs("/aws/lambda/other")
    assert ("logs", "FilterLogEvents") in recorded_aws_calls


def test_missing_log_group_raises_not_found(moto_logs, tmp_path: Path) -> None:
    start, end = moto_logs
    inv = Investigation(start, end, region="eu-west-1", evidence=tmp_path / "ev")
    with pytest.raises(NotFoundError, match="/aws/lambda/nope"):
        inv.logs("/aws/lambda/nope")
    assert inv.bundle.names() == []


def test_a_failed_fetch_keeps_its_partial_frame_marked_incomplete(tmp_path: Path, monkeypatch) -> None:
    from incidentkit.fetch import logs as logs_mod

    partial = pd.DataFrame({
        "timestamp": pd.to_datetime(["2026-03-01T03:00:01Z", "2026-03-01T03:00:02Z"], utc=True),
        "ingestion_time": pd.to_datetime(["2026-03-01T03:00:01Z", "2026-03-01T03:00:02Z"], utc=True),
        "log_group": "/aws/lambda/api", "log_stream": "s", "event_id": ["1", "2"],
        "message": ["START RequestId: a", "Authorization: Bearer abcdefghijklmnop"],
    })
    partial.attrs = schema.provenance("logs.events", api_calls=3, complete=False, issues=["page 4 failed"])
    calls = []

    def failing(*args, **kwargs):
        calls.append(1)
        err = ThrottledError("AWS still throttled the call after the retry budget", log_group="/aws/lambda/api")
        err.partial = partial
        raise err

    monkeypatch.setattr(logs_mod, "events", failing)
    inv = Investigation("2026-03-01T03:00Z", "2026-03-01T04:00Z", evidence=tmp_path / "ev")
    with pytest.raises(ThrottledError):
        inv.logs("/aws/lambda/api")
    [name] = inv.bundle.names()
    attrs = inv.bundle.entry(name)["attrs"]
    assert attrs["complete"] is False and any("fetch failed" in i for i in attrs["issues"])
    dq = inv.data_quality()
    assert not dq["complete"].any() and dq["rows"].tolist() == [2]
    assert "abcdefghijklmnop" not in inv.bundle.load(name)["message"].str.cat()  # masked on disk
    assert any("fetch failed" in i for i in inv.issues)
    # a live investigation fetches an incomplete frame again instead of trusting it
    fresh = Investigation("2026-03-01T03:00Z", "2026-03-01T04:00Z", evidence=tmp_path / "ev")
    with pytest.raises(ThrottledError):
        fresh.logs("/aws/lambda/api")
    assert len(calls) == 2
    # offline, the incomplete frame is what there is, and it says so
    off = Investigation("2026-03-01T03:00Z", "2026-03-01T04:00Z", evidence=tmp_path / "ev", offline=True)
    assert off.raw_logs("/aws/lambda/api").attrs["complete"] is False


def test_metrics_presets_are_fetched_once_and_recorded(tmp_path: Path, monkeypatch) -> None:
    from incidentkit.fetch import metrics as metrics_mod

    seen = []

    def fake_get(queries, window, **kwargs):
        seen.append([q.id for q in queries])
        df = schema.empty_frame("metrics")
        df.attrs = schema.provenance("metrics.get", window=window, api_calls=1)
        return df

    monkeypatch.setattr(metrics_mod, "get", fake_get)
    inv = Investigation("2026-03-01T03:00Z", "2026-03-01T04:00Z", baseline="previous", evidence=tmp_path / "ev",
                        resources={"function_name": "api", "table_name": "orders"})
    inv.metrics()
    inv.metrics()
    assert len(seen) == 1 and seen[0] == [q.id for q in metric_queries(inv.resources)]
    assert any(i.startswith("lambda_api_") for i in seen[0]) and any("orders" in i for i in seen[0])
    inv.metrics("dynamodb_table", "orders", window="incident")
    assert len(seen) == 2 and len(inv.bundle.find("metrics")) == 2
    with pytest.raises(ParameterError, match="no metric preset"):
        inv.metrics("nope", "x")
    with pytest.raises(ParameterError, match="needs the resource"):
        inv.metrics("dynamodb_table")


def test_collect_reports_an_unreadable_source_and_goes_on(tmp_path: Path, monkeypatch) -> None:
    from incidentkit.fetch import changes as changes_mod
    from incidentkit.fetch import logs as logs_mod

    def denied(*a, **k):
        raise AccessDeniedError("access denied (AccessDeniedException: no cloudtrail:LookupEvents)")

    def empty_logs(groups, window, **k):
        df = schema.empty_frame("events")
        df.attrs = schema.provenance("logs.events", window=window, api_calls=1)
        return df

    monkeypatch.setattr(changes_mod, "timeline", denied)
    monkeypatch.setattr(logs_mod, "events", empty_logs)
    inv = Investigation("2026-03-01T03:00Z", "2026-03-01T04:00Z", evidence=tmp_path / "ev",
                        resources={"log_groups": ["/aws/lambda/api"]})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        inv.collect(health=False, metrics=False)
    assert any(issubclass(w.category, IncompleteDataWarning) for w in caught)
    assert any(i.startswith("changes could not be read: access denied") for i in inv.issues)
    assert inv.bundle.context["issues"] == inv.issues
    # the missing source is a frame marked incomplete: the report and a replay both say so
    [name] = inv.bundle.find("changes")
    attrs = inv.bundle.entry(name)["attrs"]
    assert attrs["complete"] is False and "access denied" in attrs["issues"][0]
    again = inv.changes()  # a template's later cell gets the (empty, incomplete) frame, not an exception
    assert again.empty and list(again.columns) == list(schema.CHANGE_COLUMNS) and again.attrs["complete"] is False
    off = Investigation("2026-03-01T03:00Z", "2026-03-01T04:00Z", evidence=tmp_path / "ev", offline=True,
                        resources={"log_groups": ["/aws/lambda/api"]})
    assert off.changes().attrs["complete"] is False

    def gone(*a, **k):
        raise NotFoundError("log group /aws/lambda/api does not exist")

    monkeypatch.setattr(logs_mod, "events", gone)
    other = Investigation("2026-03-02T03:00Z", "2026-03-02T04:00Z", evidence=tmp_path / "ev2",
                          resources={"log_groups": ["/aws/lambda/api"]})
    with pytest.raises(NotFoundError):
        other.collect(health=False, metrics=False, changes=False)


def test_from_parameters(tmp_path: Path, cold: Investigation) -> None:
    inv = Investigation.from_parameters(sample="cold-start-tail", evidence=tmp_path / "s")
    assert inv.sample_name == "cold-start-tail" and (tmp_path / "s" / "manifest.json").exists()
    pinned = cold.save(tmp_path / "pinned")
    again = Investigation.from_parameters(evidence=pinned, offline=True)
    assert again.window == cold.window and again.resources == cold.resources
    live = Investigation.from_parameters(start="2026-03-01T03:00Z", end="2026-03-01T04:00Z",
                                         baseline_start="2026-03-01T02:00Z", baseline_end="2026-03-01T03:00Z",
                                         resources={"log_groups": "/a,/b", "function_name": None})
    assert live.resources == {"log_groups": ["/a", "/b"]} and live.baseline is not None
    with pytest.raises(ParameterError, match="give start and end"):
        Investigation.from_parameters()


def test_displays_never_fetch(cold: Investigation) -> None:
    inv = Investigation("2026-03-01T03:00Z", "2026-03-01T04:00Z", region="eu-west-1", resources={"function_name": "api"})
    text, html = repr(inv), inv._repr_html_()
    assert "2026-03-01T03:00:00Z" in text and "eu-west-1" in html and inv.bundle.names() == []
    assert "cold-start-tail" in cold._repr_html_() and "cold-start-tail" in str(cold)


def test_public_api() -> None:
    assert ik.Investigation is Investigation
    for name in ("Investigation", "EvidenceBundle", "Finding", "FindingList", "Window", "parse_time", "run"):
        assert name in ik.__all__


def test_saving_masks_frames_that_were_recorded_unmasked(tmp_path: Path) -> None:
    inv = Investigation("2026-03-01T03:00Z", "2026-03-01T04:00Z", evidence=tmp_path / "ev")
    secret = "postgres://app:Sup3rS3cretPw@db.internal:5432/orders"
    raw = pd.DataFrame({"message": [f"connect {secret}"]})
    inv.bundle.record("logs-raw", raw, kind="logs", mask=False)
    assert "Sup3rS3cretPw" in inv.bundle.load("logs-raw")["message"][0]
    saved = inv.save(tmp_path / "copy")
    copy = EvidenceBundle.open(saved)
    assert "Sup3rS3cretPw" not in copy.load("logs-raw")["message"][0]
    assert b"Sup3rS3cretPw" not in (saved / "logs-raw.parquet").read_bytes()
    assert copy.context["window"] == inv.window.to_dict()


def test_a_replay_keeps_the_recorded_source_and_issues(tmp_path: Path) -> None:
    inv = Investigation.sample("healthy-dynamodb-batch", evidence=tmp_path / "ev")
    inv._note("metrics could not be read: throttled")
    again = Investigation.from_parameters(start=inv.window.start, end=inv.window.end, evidence=tmp_path / "ev", offline=True)
    assert again.sample_name == "healthy-dynamodb-batch" and again.baseline == inv.baseline
    assert "metrics could not be read: throttled" in again.issues
    assert EvidenceBundle.open(tmp_path / "ev").context["sample"] == "healthy-dynamodb-batch"
    assert again.findings().to_dicts() == inv.findings().to_dicts()


def test_a_private_temporary_bundle_goes_with_its_investigation() -> None:
    import gc

    inv = Investigation.sample("cold-start-tail")
    path = inv.bundle.path
    assert path.exists() and (path / "manifest.json").exists()
    del inv
    gc.collect()
    assert not path.exists()


def test_source_says_where_the_evidence_comes_from(cold: Investigation, tmp_path: Path) -> None:
    assert cold.source == "sample:cold-start-tail"
    assert Investigation.open(cold.save(tmp_path / "pinned")).source == "sample:cold-start-tail"  # still the sample
    live = Investigation("2026-03-01T03:00Z", "2026-03-01T04:00Z", evidence=tmp_path / "live")
    assert live.source == "aws"
    live.save(tmp_path / "rec")
    assert Investigation.open(tmp_path / "rec").source == f"evidence:{(tmp_path / 'rec').resolve()}"


def test_signatures_are_a_collect_step_the_findings_read() -> None:
    """inv.signatures(): new ones first, kept with the evidence; the findings read the same frame and do not
    depend on whether it was asked for first."""
    first = Investigation.sample("oom-after-deploy")
    sig = first.signatures()
    assert bool(sig.loc[0, "new"]) and "signal: killed" in sig.loc[0, "template"]
    assert first.signatures() is sig and first.inputs().signatures is sig
    assert sig["new"].fillna(False).astype(bool).is_monotonic_decreasing  # new ones first
    other = Investigation.sample("oom-after-deploy")
    assert [f.to_dict() for f in first.findings()] == [f.to_dict() for f in other.findings()]
    assert first.findings().top.evidence["template"] == sig.loc[0, "template"]
    first.close()
    other.close()


def test_log_patterns_are_recorded_and_replay_offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Investigation.log_patterns(): the server-side patterns of both windows, kept in the bundle, read back offline
    without a call, into the signature frame (rates per second: one 60-minute window against another)."""
    from incidentkit.fetch import insights as fetch_insights

    calls = []

    def patterns(groups, window, *, baseline=None, **_):
        calls.append((list(groups), window, baseline))
        return pd.DataFrame({"side": ["incident", "incident", "baseline"],
                             "pattern": ["Task timed out after <*> seconds", "db <*> refused", "db <*> refused"],
                             "count": [300, 40, 38], "example": pd.NA, "log_groups": "/aws/lambda/api"})

    monkeypatch.setattr(fetch_insights, "insights_error_patterns", patterns)
    inv = Investigation("2026-03-01T03:00Z", "2026-03-01T04:00Z", baseline="previous", region="eu-west-1",
                        evidence=tmp_path / "ev", resources={"log_groups": ["/aws/lambda/api"]})
    got = inv.log_patterns()
    assert calls == [(["/aws/lambda/api"], inv.window, inv.baseline)]
    assert got["template"].tolist() == ["Task timed out after <*> seconds", "db <*> refused"]
    assert got["new"].tolist() == [True, False] and got["source"].eq("insights-pattern").all()
    inv.close()
    replay = Investigation("2026-03-01T03:00Z", "2026-03-01T04:00Z", baseline="previous", offline=True,
                           evidence=tmp_path / "ev", resources={"log_groups": ["/aws/lambda/api"]})
    pd.testing.assert_frame_equal(replay.log_patterns(), got)
    assert len(calls) == 1
    with pytest.raises(ParameterError, match="needs log groups"):
        Investigation("2026-03-01T03:00Z", "2026-03-01T04:00Z", evidence=tmp_path / "other").log_patterns()
