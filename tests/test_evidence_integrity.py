"""Evidence bundles are untrusted input: hashes required, files inside the bundle, limits, types.

Each symptom of issue 13 ("evidence can be tampered with") is a case here: a bundle whose
hashes were removed and whose logs were cut, a manifest ``file`` reaching another run or
``/etc/passwd``, a 100 KB Parquet file of a million repeated 1,000-character lines, frames
given as a list, a bytes column, a year-9999 timestamp. Every one is refused with one
:class:`EvidenceError` line (exit 1 from the CLI, no traceback, no run folder).
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from incidentkit import cli, evidence_checks
from incidentkit.errors import EvidenceError, ParameterError
from incidentkit.evidence import MANIFEST, EvidenceBundle, FrameLimits, sha256_file
from incidentkit.investigation import Investigation
from incidentkit.schema import provenance

SAMPLE = "version-skew-errors"


# --- helpers ------------------------------------------------------------------------------------------


def _manifest(path: Path) -> dict[str, Any]:
    return json.loads((path / MANIFEST).read_text())


def _write_manifest(path: Path, doc: Any) -> None:
    (path / MANIFEST).write_text(json.dumps(doc))


def _edit(path: Path, change: Callable[[dict[str, Any]], Any]) -> None:
    """Apply ``change`` to the manifest: it edits the dict in place (returns None) or returns a new document."""
    doc = _manifest(path)
    out = change(doc)
    _write_manifest(path, doc if out is None else out)


def _bundle(path: Path, df: pd.DataFrame | None = None, name: str = "logs-api") -> Path:
    frame = df if df is not None else pd.DataFrame({"message": pd.Series(["a", "b", "c"], dtype="string")})
    EvidenceBundle(path).record(name, frame, kind="logs")
    return path


def _replace_file(path: Path, name: str, table: pa.Table, *, rehash: bool = True, rows: bool = True,
                  store_schema: bool = True) -> None:
    """Swap a frame's Parquet file, and (as a careful forger would) fix its hash and row count."""
    file = path / f"{name}.parquet"
    pq.write_table(table, file, store_schema=store_schema)

    def fix(doc: dict[str, Any]) -> None:
        entry = doc["frames"][name]
        if rehash:
            entry["sha256"] = sha256_file(file)
        if rows:
            entry["rows"] = table.num_rows

    _edit(path, fix)


def _one_line(exc: pytest.ExceptionInfo[BaseException]) -> str:
    text = str(exc.value)
    assert "\n" not in text and len(text) < 600, text
    return text


def _cli_replay(bundle: Path, out: Path) -> Any:
    return CliRunner().invoke(cli.cli, ["run", "triage", "--offline", "--evidence", str(bundle), "--out", str(out)])


def _assert_refused_by_cli(result: Any, out: Path, *words: str) -> None:
    assert result.exit_code == 1, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("incidentkit: error:")]
    assert len(errors) == 1 and "Traceback" not in result.output, result.output
    for w in words:
        assert w in errors[0], errors[0]
    assert not out.exists() or not [p for p in out.iterdir() if not p.name.startswith(".")], "no run folder for a refused bundle"


@pytest.fixture(scope="module")
def sample_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sample") / "evidence"
    Investigation.sample(SAMPLE, evidence=path)
    return path


def _copy(src: Path, dst: Path) -> Path:
    dst.mkdir(parents=True)
    for f in src.iterdir():
        (dst / f.name).write_bytes(f.read_bytes())
    return dst


def _log_frame(bundle: Path) -> str:
    names = EvidenceBundle.open(bundle).find("logs")
    return max(names, key=lambda n: EvidenceBundle.open(bundle).entry(n)["rows"])


# --- every frame carries its sha256 -------------------------------------------------------------------


def test_the_shipped_samples_carry_hashes_and_load(sample_bundle: Path) -> None:
    bundle = EvidenceBundle.open(sample_bundle)
    assert bundle.find("logs")
    for name in bundle.names():
        entry = bundle.entry(name)
        assert entry["sha256"] == sha256_file(sample_bundle / entry["file"])
        assert len(bundle.load(name)) == entry["rows"]


def test_hashes_removed_and_logs_cut_is_refused_before_anything_runs(sample_bundle: Path, tmp_path: Path) -> None:
    """The issue's replay: hashes removed, the logs cut to 200 rows: was 'complete', exit 0, fresh hashes."""
    bundle = _copy(sample_bundle, tmp_path / "tampered")
    name = _log_frame(bundle)
    full = pq.read_table(bundle / f"{name}.parquet")
    assert full.num_rows > 200
    pq.write_table(full.slice(0, 200), bundle / f"{name}.parquet")
    _edit(bundle, lambda doc: [e.pop("sha256") for e in doc["frames"].values()] and None)
    with pytest.raises(EvidenceError) as info:
        EvidenceBundle.open(bundle)
    assert "carries no sha256" in _one_line(info)
    result = _cli_replay(bundle, tmp_path / "out")
    _assert_refused_by_cli(result, tmp_path / "out", "sha256")
    assert "sha256" not in json.dumps(_manifest(bundle)), "the refused bundle is left as it was, never re-hashed"


def test_a_cut_file_with_its_hash_recomputed_still_disagrees_with_the_manifest(sample_bundle: Path, tmp_path: Path) -> None:
    bundle = _copy(sample_bundle, tmp_path / "rehashed")
    name = _log_frame(bundle)
    rows = EvidenceBundle.open(bundle).entry(name)["rows"]
    _replace_file(bundle, name, pq.read_table(bundle / f"{name}.parquet").slice(0, 200), rows=False)
    with pytest.raises(EvidenceError) as info:
        EvidenceBundle.open(bundle).load(name)
    assert f"holds 200 rows but its manifest says {rows:,}" in _one_line(info)
    _assert_refused_by_cli(_cli_replay(bundle, tmp_path / "out"), tmp_path / "out", "the bundle was changed")


def test_a_changed_file_is_refused_even_when_only_the_manifest_is_kept(tmp_path: Path) -> None:
    bundle = _bundle(tmp_path / "b")
    pq.write_table(pa.table({"message": ["forged", "b", "c"]}), bundle / "logs-api.parquet")
    with pytest.raises(EvidenceError) as info:
        EvidenceBundle.open(bundle).load("logs-api")
    assert "does not match its sha256" in _one_line(info)


# --- file names are plain names inside the bundle ------------------------------------------------------


@pytest.mark.parametrize(
    "file",
    ["../../other-run/evidence/logs-api.parquet", "/etc/passwd", "sub/logs-api.parquet", "..", ".hidden.parquet",
     "logs-api.parquet/../../x.parquet", "C:\\x.parquet", "logs-api.csv", "%2e%2e/x.parquet"],
)  # fmt: skip
def test_a_frame_file_outside_the_bundle_is_refused(tmp_path: Path, file: str) -> None:
    other = _bundle(tmp_path / "other-run" / "evidence", pd.DataFrame({"message": ["another run's secret"]}))
    bundle = _bundle(tmp_path / "runs" / "mine" / "evidence")

    def point(doc: dict[str, Any]) -> None:
        doc["frames"]["logs-api"]["file"] = file
        doc["frames"]["logs-api"]["sha256"] = sha256_file(other / "logs-api.parquet")

    _edit(bundle, point)
    with pytest.raises(EvidenceError) as info:
        EvidenceBundle.open(bundle)
    assert "plain .parquet file name inside the bundle" in _one_line(info)


def test_a_symlink_to_another_runs_frame_is_refused(tmp_path: Path) -> None:
    other = _bundle(tmp_path / "other" / "evidence", pd.DataFrame({"message": ["another run's secret"]}), name="logs-x")
    bundle = _bundle(tmp_path / "mine" / "evidence")
    (bundle / "logs-api.parquet").unlink()
    (bundle / "logs-api.parquet").symlink_to(other / "logs-x.parquet")
    _edit(bundle, lambda doc: doc["frames"]["logs-api"].update(sha256=sha256_file(other / "logs-x.parquet"), rows=1))
    with pytest.raises(EvidenceError) as info:
        EvidenceBundle.open(bundle).load("logs-api")
    assert "symbolic link" in _one_line(info)


# --- limits: footer first, then decoded bytes ----------------------------------------------------------


def _repeated(rows: int, width: int) -> pa.Table:
    """``rows`` copies of one ``width``-character line, dictionary-encoded: tiny on disk, huge decoded."""
    line = pa.array(["x" * width], pa.string())
    return pa.table({"message": pa.DictionaryArray.from_arrays(pa.array(np.zeros(rows, dtype=np.int32)), line)})


def test_the_decompression_bomb_of_the_issue_is_refused_with_the_default_limits(tmp_path: Path) -> None:
    """1M copies of a 1,000-character line: ~0.1 MB on disk, 1 GB decoded (it grew a kernel to 22 GB)."""
    bundle = _bundle(tmp_path / "b")
    _replace_file(bundle, "logs-api", _repeated(1_000_000, 1_000), store_schema=False)  # a plain text column on disk
    assert pq.read_schema(bundle / "logs-api.parquet").field("message").type == pa.string()
    assert (bundle / "logs-api.parquet").stat().st_size < 500_000
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(EvidenceError) as info:
        EvidenceBundle.open(bundle).load("logs-api")
    text = _one_line(info)
    assert "over the limit of 768 MiB a frame" in text and "INCIDENTKIT_MAX_FRAME_BYTES" in text
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mib < 1536, f"reading the bomb grew the process by {grown_mib:.0f} MiB"


def test_limits_come_from_the_environment_and_are_checked_from_the_footer(tmp_path: Path, monkeypatch) -> None:
    bundle = _bundle(tmp_path / "b")
    _replace_file(bundle, "logs-api", _repeated(50_000, 200))
    monkeypatch.setenv("INCIDENTKIT_MAX_FRAME_ROWS", "10000")
    with pytest.raises(EvidenceError) as info:
        EvidenceBundle.open(bundle).load("logs-api")
    assert "holds 50,000 rows, more than the limit of 10,000" in _one_line(info)
    monkeypatch.setenv("INCIDENTKIT_MAX_FRAME_ROWS", "100000")
    monkeypatch.setenv("INCIDENTKIT_MAX_FRAME_BYTES", "4M")
    with pytest.raises(EvidenceError, match="over the limit of 4 MiB"):
        EvidenceBundle.open(bundle).load("logs-api")
    monkeypatch.setenv("INCIDENTKIT_MAX_FRAME_BYTES", "64M")
    assert len(EvidenceBundle.open(bundle).load("logs-api")) == 50_000
    df = EvidenceBundle.open(bundle, limits=FrameLimits(max_rows=10, max_bytes=2**30))  # an explicit limit wins
    with pytest.raises(EvidenceError, match="more than the limit of 10"):
        df.load("logs-api")
    for bad in ("lots", "-3", "0"):
        monkeypatch.setenv("INCIDENTKIT_MAX_FRAME_BYTES", bad)
        with pytest.raises(ParameterError, match="INCIDENTKIT_MAX_FRAME_BYTES"):
            EvidenceBundle.open(bundle)


def test_uncompressed_bytes_in_the_footer_are_checked_before_any_data_is_read(tmp_path: Path, monkeypatch) -> None:
    bundle = _bundle(tmp_path / "b")
    noise = np.random.default_rng(7).integers(0, 2**62, size=400_000)
    _replace_file(bundle, "logs-api", pa.table({"n": noise}))
    reads: list[int] = []
    real = pq.ParquetFile.iter_batches
    monkeypatch.setattr(pq.ParquetFile, "iter_batches", lambda self, *a, **k: reads.append(1) or real(self, *a, **k))
    with pytest.raises(EvidenceError, match="over the limit of 1 MiB"):
        EvidenceBundle.open(bundle, limits=FrameLimits(max_bytes=2**20)).load("logs-api")
    assert reads == [], "refused from the footer: no batch was decoded"


def test_parse_size_units() -> None:
    assert evidence_checks.parse_size("2G", name="X") == 2 * 2**30
    assert evidence_checks.parse_size("768MiB", name="X") == 768 * 2**20
    assert evidence_checks.parse_size("1024", name="X") == 1024
    with pytest.raises(ParameterError, match="X='1.5G' is not a size"):
        evidence_checks.parse_size("1.5G", name="X")


# --- column types ----------------------------------------------------------------------------------------


def test_a_bytes_column_is_refused(tmp_path: Path) -> None:
    bundle = _bundle(tmp_path / "b")
    _replace_file(bundle, "logs-api", pa.table({"message": ["a"], "payload": pa.array([b"\x00\xff"], pa.binary())}))
    with pytest.raises(EvidenceError) as info:
        EvidenceBundle.open(bundle).load("logs-api")
    assert "column 'payload' is of type binary" in _one_line(info)


@pytest.mark.parametrize("unit", ["us", "ms", "s"])
def test_a_year_9999_timestamp_is_refused(tmp_path: Path, unit: str) -> None:
    bundle = _bundle(tmp_path / "b")
    far = pa.array([pd.Timestamp("2026-03-01").to_pydatetime(), pd.Timestamp("9999-12-31").to_pydatetime()],
                   pa.timestamp(unit, tz="UTC"))  # fmt: skip
    _replace_file(bundle, "logs-api", pa.table({"timestamp": far, "message": ["a", "b"]}))
    with pytest.raises(EvidenceError) as info:
        EvidenceBundle.open(bundle).load("logs-api")
    assert "column 'timestamp' holds a time outside 1677-09-21 .. 2262-04-11" in _one_line(info)


def test_times_in_other_units_and_zones_come_back_as_ns_utc(tmp_path: Path) -> None:
    bundle = _bundle(tmp_path / "b")
    when = pd.Timestamp("2026-03-01T03:00:00Z")
    table = pa.table({
        "naive_us": pa.array([when.tz_localize(None).to_pydatetime()], pa.timestamp("us")),
        "paris_ms": pa.array([when.to_pydatetime()], pa.timestamp("ms", tz="Europe/Paris")),
        "ns_utc": pa.array([when.to_pydatetime()], pa.timestamp("ns", tz="UTC")),
    })  # fmt: skip
    _replace_file(bundle, "logs-api", table)
    df = EvidenceBundle.open(bundle).load("logs-api")
    for col in df.columns:
        assert str(df[col].dtype) == "datetime64[ns, UTC]" and df[col][0] == when, col


# --- malformed manifests: one line each ---------------------------------------------------------------------


MANIFEST_DAMAGE: dict[str, tuple[Callable[[dict[str, Any]], Any], str]] = {
    "frames-as-a-list": (lambda d: d.update(frames=list(d["frames"].values())), "'frames' must be an object"),
    "manifest-is-a-list": (lambda d: [d], "holds a JSON list, not an object"),
    "manifest-is-a-string": (lambda d: "manifest", "holds a JSON string"),
    "no-format": (lambda d: d.pop("format") and None, "not an incidentkit evidence manifest"),
    "frame-is-a-number": (lambda d: d["frames"].update({"logs-api": 3}), "must be an object, not a number"),
    "sha256-not-hex": (lambda d: d["frames"]["logs-api"].update(sha256="z" * 64), "carries no sha256"),
    "rows-negative": (lambda d: d["frames"]["logs-api"].update(rows=-1), "has no row count"),
    "rows-text": (lambda d: d["frames"]["logs-api"].update(rows="3"), "has no row count"),
    "file-missing": (lambda d: d["frames"]["logs-api"].pop("file") and None, "names the file 'None'"),
    "attrs-a-list": (lambda d: d["frames"]["logs-api"].update(attrs=[1]), "'attrs' must be an object"),
    "issues-of-numbers": (lambda d: d["frames"]["logs-api"]["attrs"].update(issues=[1, 2]), "attrs.issues must be a list of text"),
    "api-calls-text": (lambda d: d["frames"]["logs-api"]["attrs"].update(api_calls="many"), "attrs.api_calls must be a whole"),
    "window-a-list": (lambda d: d["context"].update(window=["2026-03-01", "2026-03-02"]), "context.window is a list"),
    "window-without-end": (lambda d: d["context"].update(window={"start": "2026-03-01"}), "context.window must hold"),
    "context-a-string": (lambda d: d.update(context="x"), "'context' must be an object"),
    "unsafe-frame-name": (lambda d: d["frames"].update({"../x": d["frames"]["logs-api"]}), "is not a safe name"),
    "two-frames-one-file": (lambda d: d["frames"].update({"logs-b": dict(d["frames"]["logs-api"])}), "name the same file"),
}


@pytest.mark.parametrize("case", list(MANIFEST_DAMAGE))
def test_a_malformed_manifest_is_one_line(tmp_path: Path, case: str) -> None:
    bundle = _bundle(tmp_path / "b")
    EvidenceBundle(bundle).set_context(window={"start": "2026-03-01T03:00:00Z", "end": "2026-03-01T04:00:00Z"})
    damage, words = MANIFEST_DAMAGE[case]
    _edit(bundle, damage)
    with pytest.raises(EvidenceError) as info:
        EvidenceBundle.open(bundle)
    assert words in _one_line(info)
    _assert_refused_by_cli(_cli_replay(bundle, tmp_path / "out"), tmp_path / "out", words)


@pytest.mark.parametrize(
    "content", [b"{not json", b"\xff\xfe\x00garbage", b"[" * 100_000 + b"]" * 100_000, b""], ids=["json", "utf8", "deep", "empty"]
)
def test_an_unreadable_manifest_is_one_line(tmp_path: Path, content: bytes) -> None:
    bundle = _bundle(tmp_path / "b")
    (bundle / MANIFEST).write_bytes(content)
    with pytest.raises(EvidenceError) as info:
        EvidenceBundle.open(bundle)
    assert "evidence manifest is unreadable" in _one_line(info)


def test_an_oversized_manifest_is_refused_before_it_is_parsed(tmp_path: Path, monkeypatch) -> None:
    bundle = _bundle(tmp_path / "b")
    monkeypatch.setattr(evidence_checks, "MAX_MANIFEST_BYTES", 100)
    monkeypatch.setattr(evidence_checks.json, "loads", lambda *_: pytest.fail("parsed an oversized manifest"))
    with pytest.raises(EvidenceError, match="more than 100: not a manifest the kit wrote"):
        EvidenceBundle.open(bundle)


def test_a_file_that_is_not_parquet_is_one_line(tmp_path: Path) -> None:
    bundle = _bundle(tmp_path / "b")
    (bundle / "logs-api.parquet").write_bytes(b"root:x:0:0:root:/root:/bin/bash\n")
    _edit(bundle, lambda doc: doc["frames"]["logs-api"].update(sha256=hashlib.sha256(b"root:x:0:0:root:/root:/bin/bash\n").hexdigest()))
    with pytest.raises(EvidenceError) as info:
        EvidenceBundle.open(bundle).load("logs-api")
    assert "is not a readable Parquet file" in _one_line(info)


def test_the_manifests_the_kit_writes_pass_its_own_checks(tmp_path: Path) -> None:
    """Every shape the kit records (streamed, empty, with provenance) reads back."""
    bundle = EvidenceBundle(tmp_path / "b")
    bundle.record("logs-a", pd.DataFrame({"message": ["x"]}), kind="logs")
    failed = pd.DataFrame({"message": pd.Series([], dtype="string")})
    failed.attrs = provenance("logs (failed)", complete=False, issues=["fetch failed: throttled"], api_calls=1, retries=7)
    bundle.record("logs-b", failed, kind="logs")
    with bundle.writer("parsed-c", kind="parsed") as w:
        w.write(pd.DataFrame({"latency_ms": [1.0], "when": pd.to_datetime(["2026-03-01T03:00:00Z"], utc=True)}))
    with bundle.writer("parsed-empty", kind="parsed"):
        pass
    bundle.set_context(window={"start": "2026-03-01T03:00:00Z", "end": "2026-03-01T04:00:00Z"}, issues=["x"])
    again = EvidenceBundle.open(tmp_path / "b")
    assert [len(again.load(n)) for n in again.names()] == [1, 0, 1, 0]
    assert again.entry("logs-b")["attrs"]["retries"] == 7
    assert os.stat(tmp_path / "b" / MANIFEST).st_size < evidence_checks.MAX_MANIFEST_BYTES
