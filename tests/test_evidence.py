"""Evidence bundles: frames pinned with provenance, verified on load, never half-written."""

from __future__ import annotations

import json
import os
import stat

import pandas as pd
import pytest

from incidentkit.errors import EvidenceError
from incidentkit.evidence import MANIFEST, EvidenceBundle, copy_bundle, frame_key
from incidentkit.masking import rules_fingerprint
from incidentkit.schema import empty_frame, provenance


def _frame() -> pd.DataFrame:
    df = pd.DataFrame(
        {
            "timestamp": pd.to_datetime(["2026-03-01T03:00:00Z", "2026-03-01T03:00:01Z"], utc=True),
            "message": pd.Series(["ok", "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig_abcdefgh"], dtype="string"),
            "status": pd.Series([200, pd.NA], dtype="Int64"),
            "nested": [{"a": 1}, None],
        }
    )
    df.attrs = provenance("logs.events", api_calls=3, retries=1, truncated=True, issues=["page 2 failed"])
    return df


def test_record_and_load_roundtrip(tmp_path) -> None:
    bundle = EvidenceBundle(tmp_path / "evidence")
    entry = bundle.record("logs-api", _frame(), kind="logs")
    assert entry["rows"] == 2 and len(entry["sha256"]) == 64
    loaded = EvidenceBundle.open(tmp_path / "evidence").load("logs-api")
    assert str(loaded["timestamp"].dtype) == "datetime64[ns, UTC]"
    assert loaded["status"].tolist()[0] == 200 and pd.isna(loaded["status"][1])
    assert "eyJzdWIiOiIxIn0" not in loaded["message"][1], "evidence text must be masked"
    assert loaded.attrs["api_calls"] == 3 and loaded.attrs["truncated"] is True
    assert loaded.attrs["complete"] is False and loaded.attrs["issues"] == ["page 2 failed"]
    assert json.loads(loaded["nested"][0]) == {"a": 1}
    summary = bundle.summary()
    assert summary.loc[0, "frame"] == "logs-api" and bool(summary.loc[0, "truncated"])
    assert summary.loc[0, "retries"] == 1


def test_open_accepts_run_folder_and_rejects_missing(tmp_path) -> None:
    EvidenceBundle(tmp_path / "run" / "evidence").record("changes-x", empty_frame("changes"))
    assert EvidenceBundle.open(tmp_path / "run").names() == ["changes-x"]
    with pytest.raises(EvidenceError, match="no evidence bundle"):
        EvidenceBundle.open(tmp_path / "nothing")
    with pytest.raises(EvidenceError, match="has no frame 'logs-y'"):
        EvidenceBundle.open(tmp_path / "run").load("logs-y")


def test_tampered_file_is_detected(tmp_path) -> None:
    bundle = EvidenceBundle(tmp_path)
    bundle.record("metrics-a", pd.DataFrame({"value": [1.0, 2.0]}))
    other = tmp_path / "other.parquet"
    pd.DataFrame({"value": [9.0]}).to_parquet(other)
    os.replace(other, tmp_path / "metrics-a.parquet")
    with pytest.raises(EvidenceError, match="sha256"):
        bundle.load("metrics-a")


def test_permissions_owner_only(tmp_path) -> None:
    bundle = EvidenceBundle(tmp_path / "ev")
    bundle.record("logs-a", pd.DataFrame({"a": [1]}))
    assert stat.S_IMODE(os.stat(tmp_path / "ev").st_mode) == 0o700
    for name in ("logs-a.parquet", MANIFEST):
        assert stat.S_IMODE(os.stat(tmp_path / "ev" / name).st_mode) == 0o600


def test_streaming_writer_and_failure_leaves_nothing(tmp_path) -> None:
    bundle = EvidenceBundle(tmp_path)
    with bundle.writer("logs-big", kind="logs") as w:
        for i in range(3):
            w.write(pd.DataFrame({"i": [i] * 10, "message": ["password=abc123"] * 10}))
        w.attrs.update(provenance("logs.events", api_calls=3))
    df = bundle.load("logs-big")
    assert len(df) == 30 and df.attrs["api_calls"] == 3 and "abc123" not in df["message"][0]
    with pytest.raises(RuntimeError):
        with bundle.writer("logs-broken", kind="logs") as w:
            w.write(pd.DataFrame({"i": [1]}))
            raise RuntimeError("fetch died")
    assert "logs-broken" not in bundle
    assert not any(p.name.startswith(".logs-broken") or p.name == "logs-broken.parquet" for p in tmp_path.iterdir())


def test_frame_key_is_stable_and_distinct() -> None:
    a = frame_key("logs", log_groups=["/aws/lambda/api"], start="2026-03-01T03:00:00Z", end="2026-03-01T04:00:00Z")
    b = frame_key("logs", end="2026-03-01T04:00:00Z", start="2026-03-01T03:00:00Z", log_groups=["/aws/lambda/api"])
    c = frame_key("logs", log_groups=["/aws/lambda/api"], start="2026-03-01T02:00:00Z", end="2026-03-01T03:00:00Z")
    assert a == b != c and a.startswith("logs-aws-lambda-api-")


def test_unsafe_names_and_foreign_manifest(tmp_path) -> None:
    bundle = EvidenceBundle(tmp_path / "b")
    with pytest.raises(EvidenceError, match="safe file name"):
        bundle.record("../escape", pd.DataFrame({"a": [1]}))
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / MANIFEST).write_text('{"format": "something-else"}')
    with pytest.raises(EvidenceError, match="not an incidentkit evidence manifest"):
        EvidenceBundle.open(tmp_path / "c")


#: A secret of a family the rules mask (an AWS access key id) in a log line.
_LEAKY = "connect failed key=AKIAIOSFODNN7EXAMPLE retrying"


def test_copy_keeps_a_frame_masked_under_the_same_rules_byte_for_byte_and_masks_the_others(tmp_path) -> None:
    src = EvidenceBundle(tmp_path / "src")
    src.record("logs-masked", pd.DataFrame({"message": [_LEAKY, "ok"]}), kind="logs")
    src.record("logs-raw", pd.DataFrame({"message": [_LEAKY, "ok"]}), kind="logs", mask=False)
    src.record("logs-old", pd.DataFrame({"message": [_LEAKY, "ok"]}), kind="logs", mask=False)
    manifest = json.loads((src.path / MANIFEST).read_text())
    manifest["frames"]["logs-old"]["masked"] = "0" * 64  # masked by other (older) rules: masked again
    (src.path / MANIFEST).write_text(json.dumps(manifest))
    assert "masked" not in manifest["frames"]["logs-raw"]

    copy_bundle(src.path, tmp_path / "dst")
    dst = EvidenceBundle.open(tmp_path / "dst")
    for name in ("logs-masked", "logs-raw", "logs-old"):
        assert "AKIA" not in " ".join(dst.load(name)["message"]), name
        assert dst.entry(name)["masked"] == rules_fingerprint()
    assert (dst.path / "logs-masked.parquet").read_bytes() == (src.path / "logs-masked.parquet").read_bytes()
    assert dst.entry("logs-masked")["sha256"] == src.entry("logs-masked")["sha256"]
    assert stat.S_IMODE(os.stat(dst.path / "logs-masked.parquet").st_mode) == 0o600


def test_copy_refuses_a_changed_frame_even_when_its_entry_says_masked(tmp_path) -> None:
    src = EvidenceBundle(tmp_path / "src")
    src.record("logs-a", pd.DataFrame({"message": ["ok"]}), kind="logs")
    with open(src.path / "logs-a.parquet", "ab") as fh:
        fh.write(b"tampered")
    with pytest.raises(EvidenceError, match="sha256"):
        copy_bundle(src.path, tmp_path / "dst")
    assert not list((tmp_path / "dst").glob("*.parquet"))
