"""Faults around a run: failing cells, dying kernels, SIGKILL, Ctrl-C, full disks, concurrent runs.

The rule under test: a folder ``OUT/<run-id>/`` (no leading dot, no ``.failed``) exists only
when the run is complete — ``findings.json`` (the completion mark, written last), the
executed notebook, the HTML, the postmortem and an evidence bundle whose every file matches
its sha256. Whatever happens before that, what is left is either nothing, a hidden
``.<run-id>.tmp`` folder, or ``<run-id>.failed/`` with the partially executed notebook and
the evidence fetched so far — never something a reader could mistake for a finished report.

A small template (``FAULTY``) records evidence, marks that it started, then does what the
test asks: raise, ``os._exit(1)``, ``SIGKILL`` its own kernel, sleep, or record a frame too
big for the disk. Disks fill up two ways: ``RLIMIT_FSIZE`` on a real ``incidentkit run``
subprocess (every write of the run and its kernel beyond the limit fails with ``EFBIG``, as
on a full disk), and ``ENOSPC`` raised in-process from each write of the run folder.
"""

from __future__ import annotations

import errno
import json
import os
import resource
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import nbformat
import pytest
from click.testing import CliRunner

from incidentkit.run import runner
from incidentkit.errors import NotebookError
from incidentkit.evidence import EvidenceBundle, sha256_file
from _helpers.faulty_template import PARAMS

pytestmark = pytest.mark.slow

INCIDENTKIT = str(Path(sys.executable).with_name("incidentkit"))
WINDOW = ["--start", "2026-03-01T03:00:00Z", "--end", "2026-03-01T04:00:00Z"]


BEFORE = '''import os, pathlib, signal, time
import numpy as np
import pandas as pd
from incidentkit.evidence import EvidenceBundle
bundle = EvidenceBundle(evidence)
bundle.record("logs-before", pd.DataFrame({"message": ["fetched before the fault, token=abcdef123456"]}), kind="logs")
pathlib.Path("started").write_text(str(os.getpid()))'''

FAULT = '''if mode == "raise":
    raise RuntimeError("boom mid-notebook: password=hunter22")
if mode == "exit":
    os.write(2, b"dying now: password=hunter22\\n")
    os._exit(1)
if mode == "kill9":
    os.kill(os.getpid(), signal.SIGKILL)
if mode == "sleep":
    time.sleep(sleep_s)
if mode == "big":
    bundle.record("logs-big", pd.DataFrame({"message": [os.urandom(64).hex() for _ in range(60_000)]}), kind="logs")'''

AFTER = '''bundle.record("logs-after", pd.DataFrame({"message": ["fetched after"]}), kind="logs")
from incidentkit.render import report
_ = report.publish(findings=[])'''


def _faulty(folder: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Faulty\n\nA template that fails on demand."),
        nbformat.v4.new_code_cell(PARAMS, metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(BEFORE),
        nbformat.v4.new_code_cell(FAULT),
        nbformat.v4.new_code_cell(AFTER),
    ]
    path = folder / "faulty.ipynb"
    nbformat.write(nb, str(path))
    return path


@pytest.fixture(scope="module")
def faulty(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _faulty(tmp_path_factory.mktemp("tpl"))


# --- what an output folder may hold ----------------------------------------------------------------

RUN_FILES = {"report.ipynb", "report.html", "postmortem.md", "findings.json", "evidence"}


def _check_complete(folder: Path) -> None:
    """A complete-looking run folder is complete, and findings.json was written last."""
    assert RUN_FILES <= {p.name for p in folder.iterdir()}, f"{folder.name} looks like a run but lacks files"
    manifest = json.loads((folder / "evidence" / "manifest.json").read_text())
    for entry in manifest["frames"].values():
        assert sha256_file(folder / "evidence" / entry["file"]) == entry["sha256"], entry["file"]
    json.loads((folder / "findings.json").read_text())
    nb = nbformat.read(str(folder / "report.ipynb"), as_version=4)
    assert not [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    last = (folder / "findings.json").stat().st_mtime_ns
    others = [p for p in folder.rglob("*") if p.is_file() and p.name != "findings.json"]
    assert all(p.stat().st_mtime_ns <= last for p in others), "findings.json must be the last file written"


def _classify(out: Path) -> dict[str, list[Path]]:
    """Every entry of OUT: complete runs (checked), failed runs, hidden temporaries; nothing else allowed."""
    found: dict[str, list[Path]] = {"complete": [], "failed": [], "hidden": []}
    if not out.exists():
        return found
    for p in sorted(out.iterdir()):
        assert p.is_dir(), f"stray file {p.name} in the output folder"
        if p.name.startswith("."):
            assert p.name.endswith(".tmp"), p.name
            found["hidden"].append(p)
        elif p.name.endswith(runner.FAILED_SUFFIX):
            assert not (p / "findings.json").exists(), f"{p.name}: a failed run must not carry the completion mark"
            found["failed"].append(p)
        else:
            _check_complete(p)
            found["complete"].append(p)
    return found


def _assert_private(folder: Path) -> None:
    """The kit's folders 0700 and files 0600 (``started`` is the template's own file, under the user's umask)."""
    for p in [folder, *folder.rglob("*")]:
        if p.name == "started":
            continue
        assert stat.S_IMODE(p.stat().st_mode) == (0o700 if p.is_dir() else 0o600), p


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(INCIDENTKIT_PROGRESS="0", **extra)
    return env


#: What each runner failure found by these tests means (a test fails with these texts).
RUNNER_GAPS = {
    "notebook-lost": "the runner does not keep the executed part of the notebook when the kernel dies or a cell "
                     "times out: papermill saves nothing when output_path is not passed to the engine "
                     "(request_save_on_cell_execute=False), so <run>.failed/ has no report.ipynb / report.html",
    "unmasked-message": "NotebookError for a dead kernel / cell timeout quotes nbclient's message (which holds the "
                        "cell source) without mask_text: a secret in the cell source reaches stderr",
    "raw-oserror": "a full disk while the runner writes the run folder (report.ipynb, report.html, postmortem.md, "
                   "findings.json, papermill's own notebook write) escapes as a raw OSError: a traceback instead of "
                   "one line `incidentkit: error: ...` and exit 1",
    "run-id-race": "two runs given the same run_id at once: the loser fails with a raw FileExistsError from "
                   "tmp.mkdir() instead of a ParameterError",
}


def _gaps(found: list[str]) -> None:
    assert not found, "; ".join(RUNNER_GAPS[g] for g in found)


# --- a failing cell, a dying kernel, a cell past its time ---------------------------------------------

KERNEL_FAULTS = {
    "failing-cell": ("raise", "RuntimeError"),
    "kernel-exits": ("exit", "DeadKernelError"),
    "kernel-sigkilled": ("kill9", "DeadKernelError"),
    "cell-timeout": ("sleep", "CellTimeoutError"),
}


#: Per-cell timeout of the kernel-fault runs: above what the cells before the fault take on a loaded
#: 2-core machine (importing incidentkit in the kernel alone took 6 s there), far below the 60 s sleep.
CELL_TIMEOUT_S = 20


@pytest.mark.parametrize("case", list(KERNEL_FAULTS))
def test_a_notebook_that_does_not_finish_leaves_a_failed_folder(faulty: Path, tmp_path: Path, case: str) -> None:
    mode, what = KERNEL_FAULTS[case]
    out = tmp_path / "out"
    gaps: list[str] = []
    with pytest.raises(NotebookError) as info:
        runner.run(faulty, {"mode": mode, "sleep_s": "60", "start": WINDOW[1], "end": WINDOW[3]}, out=out, timeout=CELL_TIMEOUT_S)
    err = info.value
    assert what in str(err) and "\n" not in err.message
    kinds = _classify(out)
    assert kinds["complete"] == [] and kinds["hidden"] == [] and len(kinds["failed"]) == 1
    failed = kinds["failed"][0]
    assert err.context["notebook"] == str(failed / "report.ipynb")
    _assert_private(failed)
    # the evidence fetched before the fault is kept, whole, and masked
    bundle = EvidenceBundle.open(failed / "evidence")
    assert bundle.names() == ["logs-before"]
    assert bundle.load("logs-before")["message"].tolist() == ["fetched before the fault, token=[masked:secret]"]
    for f in failed.rglob("*"):
        if f.is_file():
            assert b"hunter22" not in f.read_bytes() and b"abcdef123456" not in f.read_bytes(), f
    if case == "kernel-exits":  # what the dying kernel said on stderr is kept, masked
        assert "dying now: password=[masked:secret]" in (failed / "kernel-stderr.log").read_text()
    if "hunter22" in str(err):
        assert case == "cell-timeout", str(err)
        gaps.append("unmasked-message")
    # the executed part of the notebook is kept: the cells before ran, the ones after did not
    if not (failed / "report.ipynb").exists():
        assert case != "failing-cell"
        gaps.append("notebook-lost")
    else:
        nb = nbformat.read(str(failed / "report.ipynb"), as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert code[1].get("execution_count") is not None, "the cell before the fault did not run"
        assert code[-1].get("execution_count") is None, "a cell after the fault ran"
        assert (failed / "report.html").exists()
    _gaps(gaps)


# --- SIGKILL and Ctrl-C of the incidentkit process --------------------------------------------------


def _start(faulty: Path, out: Path, mode: str, **popen: Any) -> subprocess.Popen:
    return subprocess.Popen(
        [INCIDENTKIT, "run", str(faulty), *WINDOW, "-p", f"mode={mode}", "--out", str(out)],
        env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True, **popen,
    )  # fmt: skip


def _wait_started(out: Path, proc: subprocess.Popen, polls: int = 1200) -> Path:
    """The hidden run folder once the notebook's fault cell is running (bounded by polls, 0.1 s each)."""
    for _ in range(polls):
        marks = list(out.glob(".*.tmp/started")) if out.exists() else []
        if marks:
            return marks[0].parent
        assert proc.poll() is None, f"the run ended early: {proc.communicate()[1][-2000:]}"
        time.sleep(0.1)
    raise AssertionError("the notebook never started")


def test_sigkill_of_the_run_leaves_no_complete_looking_folder(faulty: Path, tmp_path: Path, process_groups: list[int]) -> None:
    out = tmp_path / "out"
    proc = _start(faulty, out, "sleep")
    process_groups.append(proc.pid)
    hidden = _wait_started(out, proc)
    os.kill(proc.pid, signal.SIGKILL)  # the run process only, as the OOM killer would
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    kinds = _classify(out)
    assert kinds["complete"] == [] and kinds["failed"] == [] and kinds["hidden"] == [hidden]
    assert not (hidden / "findings.json").exists()
    assert stat.S_IMODE(hidden.stat().st_mode) == 0o700
    gaps: list[str] = []
    assert not (hidden / ".kernel-stderr.log").exists()  # the kernel's stderr is kept in memory, written masked only
    for p in hidden.rglob("*"):
        if p.name != "started":
            assert stat.S_IMODE(p.stat().st_mode) == (0o700 if p.is_dir() else 0o600), p
    # the orphaned kernel notices its parent is gone and exits on its own
    kernel_pid = int((hidden / "started").read_text())
    for _ in range(100):
        try:
            os.kill(kernel_pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"kernel {kernel_pid} outlived the killed run by 10 s")
    # a new run into the same folder is not confused by the leftover
    result = CliRunner().invoke(__import__("incidentkit.cli", fromlist=["cli"]).cli,
                                ["run", str(faulty), *WINDOW, "--out", str(out)], catch_exceptions=False)  # fmt: skip
    assert result.exit_code == 0, result.output
    kinds = _classify(out)
    assert len(kinds["complete"]) == 1 and kinds["hidden"] == [hidden]
    _gaps(gaps)


def test_ctrl_c_of_the_run_exits_130_and_leaves_nothing_half_done(faulty: Path, tmp_path: Path, process_groups: list[int]) -> None:
    out = tmp_path / "out"
    proc = _start(faulty, out, "sleep")
    process_groups.append(proc.pid)
    _wait_started(out, proc)
    os.kill(proc.pid, signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "incidentkit: error: interrupted" in stderr and "Traceback" not in stderr
    kinds = _classify(out)
    assert kinds["complete"] == [] and kinds["hidden"] == []


# --- full disks ----------------------------------------------------------------------------------------


def _fsize_limit(limit: int):
    def preexec() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))  # Python ignores SIGXFSZ: writes fail with EFBIG

    return preexec


@pytest.mark.parametrize(
    "case, limit",
    [("evidence-too-big-for-the-disk", 1_000_000), ("report-too-big-for-the-disk", 60_000)],
)
def test_a_full_disk_never_leaves_a_complete_looking_folder(faulty: Path, tmp_path: Path, case: str, limit: int) -> None:
    out = tmp_path / "out"
    proc = subprocess.run([INCIDENTKIT, "run", str(faulty), *WINDOW, "-p", "mode=big", "--out", str(out)], env=_env(),
                          capture_output=True, text=True, timeout=600, preexec_fn=_fsize_limit(limit))  # fmt: skip
    kinds = _classify(out)
    assert kinds["complete"] == [] and kinds["hidden"] == []
    assert proc.returncode != 0
    errors = [line for line in proc.stderr.splitlines() if line.startswith("incidentkit: error:")]
    if "Traceback" in proc.stderr and "OSError" in proc.stderr and case == "report-too-big-for-the-disk":
        _gaps(["raw-oserror"])
    assert proc.returncode == 1 and len(errors) == 1 and "Traceback" not in proc.stderr, proc.stderr
    if case == "evidence-too-big-for-the-disk":  # the kernel's write failed: a failed run, evidence so far kept
        assert "File too large" in errors[0] or "EFBIG" in errors[0] or "Errno 27" in errors[0], errors[0]
        (failed,) = kinds["failed"]
        assert EvidenceBundle.open(failed / "evidence").names() == ["logs-before"]
        assert not list((failed / "evidence").glob(".*")), "a half-written Parquet file was left behind"


ENOSPC_TARGETS = ["papermill-output", "report.ipynb", "report.html", "postmortem.md", "findings.json"]


@pytest.mark.parametrize("target", ENOSPC_TARGETS)
def test_no_space_left_while_writing_the_run_folder(faulty: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    target: str) -> None:  # fmt: skip
    import papermill.execute

    from incidentkit.cli import cli
    from incidentkit.render import files  # the run's file writers (they call atomic_write_text by this name)

    def full(*_: Any, **__: Any) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    if target == "papermill-output":
        monkeypatch.setattr(papermill.execute, "write_ipynb", full)  # papermill's own save of the executed notebook
    else:
        real = files.atomic_write_text

        def atomic(path: Any, text: str, **kw: Any) -> None:
            if Path(path).name == target:
                full()
            real(path, text, **kw)

        monkeypatch.setattr(files, "atomic_write_text", atomic)
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["run", str(faulty), *WINDOW, "--out", str(out)])
    kinds = _classify(out)
    assert kinds["complete"] == [] and kinds["hidden"] == [] and kinds["failed"] == []
    assert result.exit_code != 0
    if isinstance(result.exception, OSError) and result.exception.errno == errno.ENOSPC:
        _gaps(["raw-oserror"])
    assert result.exit_code == 1, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("incidentkit: error:")]
    assert len(errors) == 1 and "No space left on device" in errors[0], result.stderr


# --- concurrent runs ----------------------------------------------------------------------------------


def test_concurrent_runs_into_one_folder_do_not_collide(faulty: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    procs = [subprocess.Popen([INCIDENTKIT, "run", str(faulty), *WINDOW, "--out", str(out), "--json"], env=_env(),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(3)]  # fmt: skip
    results = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], [r[1][-1000:] for r in results]
    kinds = _classify(out)
    assert len(kinds["complete"]) == 3 and kinds["failed"] == [] and kinds["hidden"] == []
    assert len({p.name for p in kinds["complete"]}) == 3
    for folder in kinds["complete"]:  # each run has its own evidence, not a neighbour's
        assert EvidenceBundle.open(folder / "evidence").names() == ["logs-before", "logs-after"]


SAME_ID = """
import sys
from incidentkit.run import runner
try:
    r = runner.run(sys.argv[1], {"mode": "sleep", "sleep_s": "3", "start": "2026-03-01T03:00Z", "end": "2026-03-01T04:00Z"},
                   out=sys.argv[2], run_id="fixed-run-id")
except Exception as exc:
    print(type(exc).__name__, exc, file=sys.stderr)
    sys.exit(3)
print(r.path)
"""


def test_two_runs_with_the_same_run_id_one_wins_cleanly(faulty: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    procs = [subprocess.Popen([sys.executable, "-c", SAME_ID, str(faulty), str(out)], env=_env(),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]  # fmt: skip
    results = [p.communicate(timeout=600) for p in procs]
    codes = sorted(p.returncode for p in procs)
    assert codes == [0, 3], results
    loser = next(r for p, r in zip(procs, results) if p.returncode == 3)
    kinds = _classify(out)
    assert [p.name for p in kinds["complete"]] == ["fixed-run-id"] and kinds["hidden"] == []
    if loser[1].startswith("FileExistsError"):
        _gaps(["run-id-race"])
    assert loser[1].startswith("ParameterError") and "fixed-run-id" in loser[1], loser[1]
