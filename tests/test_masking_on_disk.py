"""No unmasked byte on disk, ever: a run killed at any moment leaves only masked files.

papermill saves the executing notebook after every cell; the runner gives it an output that
masks each save before writing it (``incidentkit.run.notebook_io``), and keeps the kernel's stderr in
memory. The test runs ``incidentkit run`` on a small template whose kernel holds the secrets
of a sample's log lines in clear (it prints them, displays them as a table, as Markdown and
JSON, writes them to stderr and to file descriptor 2, prints a traceback quoting one), and
kills it with ``SIGKILL`` — the CLI process or the kernel, at seeded random moments, and once
right after papermill saved the notebook. Then every file under the output folder (the
hidden ``.<run-id>.tmp``, a ``.failed`` folder, complete runs), the process's ``TMPDIR``, the
Jupyter runtime folder and ``IPYTHONDIR`` is scanned for every seeded secret: raw bytes, the
JSON-escaped form, and each Parquet column read through pyarrow.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pyarrow.parquet as pq
import pytest

from _helpers.faulty_template import PARAMS as FAULTY_PARAMS
from _helpers.secrets import SECRETS

pytestmark = pytest.mark.slow

INCIDENTKIT = str(Path(sys.executable).with_name("incidentkit"))
WINDOW = ["--start", "2026-03-01T03:00:00Z", "--end", "2026-03-01T04:00:00Z"]
#: Seconds each cell after the first sleeps: the notebook runs ~7 cells, ~2.5 s, while it can be killed.
PAUSE = 0.3

#: The template's parameters: its own two, then the window and run parameters every test template declares.
PARAMS = "\n".join(['logs_file = ""  # JSON list of the sample\'s log lines', "pause: float = 0.3  # seconds each cell sleeps",
                    *FAULTY_PARAMS.splitlines()[2:]])

CELLS = [
    '''import json, os, pathlib, sys, time, traceback
import pandas as pd
from IPython.display import Markdown, display
from incidentkit.evidence import EvidenceBundle
lines = json.loads(pathlib.Path(logs_file).read_text())
logs = pd.DataFrame({"message": lines})
EvidenceBundle(evidence).record("logs-sample", logs, kind="logs")
pathlib.Path("started").write_text(str(os.getpid()))''',
    'print("\\n".join(lines)); time.sleep(pause)',
    "display(logs); time.sleep(pause)",
    'sys.stderr.write(lines[0] + "\\n"); os.write(2, ("fd2: " + lines[1] + "\\n").encode()); time.sleep(pause)',
    'display(Markdown(lines[2])); display({"text/plain": lines[3], "application/json": {"msg": lines[4]}}, raw=True); time.sleep(pause)',
    '''try:
    raise ValueError(lines[5])
except ValueError:
    traceback.print_exc()
time.sleep(pause)''',
    "for line in lines:\n    print(line)\n    time.sleep(pause / len(lines))",
    "from incidentkit import report\n_ = report.publish(findings=[])",
]


@pytest.fixture(scope="module")
def leaky(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[str]]:
    """The template, the sample's log lines (a file outside every scanned folder) and the secrets in them."""
    folder = tmp_path_factory.mktemp("leaky")
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_markdown_cell("# Leaky\n\nHolds secrets in clear in its kernel."),
                nbformat.v4.new_code_cell(PARAMS, metadata={"tags": ["parameters"]}),
                *[nbformat.v4.new_code_cell(c) for c in CELLS]]  # fmt: skip
    template = folder / "leaky.ipynb"
    nbformat.write(nb, str(template))
    lines = [f"[ERROR]\t2026-03-01T03:00:00.000Z\t8f507cfc-xmpl-4697-b07a-{i:012d}\tlogin failed: {text}"
             for i, (text, _secret) in enumerate(SECRETS)]  # fmt: skip
    logs = folder / "logs.json"
    logs.write_text(json.dumps(lines))
    return template, logs, [secret for _text, secret in SECRETS]


def _folders(tmp: Path) -> dict[str, Path]:
    return {name: tmp / name for name in ("out", "tmpdir", "runtime", "ipython", "home")}


def _start(template: Path, logs: Path, folders: dict[str, Path]) -> subprocess.Popen:
    for path in folders.values():
        path.mkdir(exist_ok=True)
    env = dict(os.environ, INCIDENTKIT_PROGRESS="0", TMPDIR=str(folders["tmpdir"]), JUPYTER_RUNTIME_DIR=str(folders["runtime"]),
               IPYTHONDIR=str(folders["ipython"]), HOME=str(folders["home"]), MPLCONFIGDIR=str(folders["tmpdir"] / "mpl"))
    return subprocess.Popen(
        [INCIDENTKIT, "run", str(template), *WINDOW, "-p", f"logs_file={logs}", "-p", f"pause={PAUSE}",
         "--out", str(folders["out"])],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip


def _wait_started(out: Path, proc: subprocess.Popen, polls: int = 1200) -> Path:
    """The hidden run folder once the notebook's first cell ran (bounded: polls of 0.1 s)."""
    for _ in range(polls):
        marks = list(out.glob(".*.tmp/started"))
        if marks and marks[0].read_text():
            return marks[0].parent
        assert proc.poll() is None, f"the run ended early: {proc.communicate()[1][-2000:]}"
        time.sleep(0.1)
    raise AssertionError("the notebook never started")


def _wait_masked_save(hidden: Path, proc: subprocess.Popen, polls: int = 1500) -> None:
    """Until papermill saved report.ipynb with the first secret-bearing output in it (bounded: polls of 0.02 s)."""
    for _ in range(polls):
        try:
            if b"login failed" in (hidden / "report.ipynb").read_bytes():
                return
        except FileNotFoundError:
            pass
        assert proc.poll() is None, "the run ended before a save with outputs"
        time.sleep(0.02)
    raise AssertionError("no save with outputs")


def _gone(pid: int, polls: int = 300) -> bool:
    for _ in range(polls):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


def _leaks(folders: dict[str, Path], secrets: list[str]) -> list[str]:
    """``file: secret`` for every seeded secret found in any file of the folders."""
    needles = {s: {s.encode(), json.dumps(s)[1:-1].encode()} for s in secrets}
    found = []
    for folder in folders.values():
        for path in (p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()):
            data = path.read_bytes()
            if path.suffix == ".parquet":
                try:
                    table = pq.read_table(path)
                    data += "\n".join(str(v) for col in table.columns for v in col.to_pylist()).encode()
                except Exception:  # a Parquet file cut short by the kill: its raw bytes were scanned
                    pass
            found += [f"{path.relative_to(folder.parent)}: {s}" for s, forms in needles.items() if any(f in data for f in forms)]
    return found


def _started(leaky: tuple[Path, Path, list[str]], tmp: Path, groups: list[int]) -> tuple[dict[str, Path], subprocess.Popen, Path]:
    """A run of the template, its folders, and its hidden run folder once the notebook started."""
    template, logs, _secrets = leaky
    folders = _folders(tmp)
    proc = _start(template, logs, folders)
    groups.append(proc.pid)
    return folders, proc, _wait_started(folders["out"], proc)


def _kill_and_settle(proc: subprocess.Popen, hidden: Path, target: str) -> None:
    kernel = int((hidden / "started").read_text())
    os.kill(proc.pid if target == "cli" else kernel, signal.SIGKILL)
    proc.communicate(timeout=180)
    gone = _gone(kernel)
    if not gone:  # jupyter_client starts the kernel in its own session: the process-group cleanup would miss it
        os.kill(kernel, signal.SIGKILL)
    assert gone, f"kernel {kernel} outlived the killed run by 30 s"


#: (seed of the moment, what is killed): the CLI process (as the OOM killer would) or the kernel.
KILLS = [(seed, target) for seed, target in zip(range(4), ["cli", "kernel", "cli", "kernel"])]


@pytest.mark.parametrize("seed, target", KILLS)
def test_a_run_killed_at_a_random_moment_leaves_no_unmasked_byte(leaky: tuple[Path, Path, list[str]], tmp_path: Path,
                                                                 process_groups: list[int], seed: int, target: str) -> None:
    folders, proc, hidden = _started(leaky, tmp_path, process_groups)
    time.sleep(random.Random(seed).uniform(0.0, 8 * PAUSE))
    _kill_and_settle(proc, hidden, target)
    assert not _leaks(folders, leaky[2])
    notebooks = list(folders["out"].rglob("report.ipynb"))
    for nb_path in notebooks:  # what is left is a valid notebook, and every output that quotes the log lines is masked
        nb = nbformat.read(str(nb_path), as_version=4)
        nbformat.validate(nb)
        quoting = [json.dumps(o) for c in nb.cells for o in c.get("outputs", []) if "login failed" in json.dumps(o)]
        assert all("[masked:" in o for o in quoting), nb_path
    if target == "kernel":  # the runner saw the kernel die: the partial notebook is kept, masked
        assert list(folders["out"].glob("*.failed/report.ipynb")), proc.returncode


def test_a_run_killed_right_after_a_save_leaves_the_masked_save(leaky: tuple[Path, Path, list[str]], tmp_path: Path,
                                                                process_groups: list[int]) -> None:
    folders, proc, hidden = _started(leaky, tmp_path, process_groups)
    _wait_masked_save(hidden, proc)  # the moment the old runner left the raw save behind
    _kill_and_settle(proc, hidden, "cli")
    assert (hidden / "report.ipynb").exists(), "the kill came after the run had finished"
    assert not _leaks(folders, leaky[2])
    nb = nbformat.read(str(hidden / "report.ipynb"), as_version=4)
    assert "[masked:" in json.dumps([c.get("outputs", []) for c in nb.cells])
    assert not (hidden / ".kernel-stderr.log").exists()  # the kernel's stderr never reaches the disk unmasked


def test_a_complete_run_of_the_same_template_is_masked_everywhere(leaky: tuple[Path, Path, list[str]], tmp_path: Path,
                                                                   process_groups: list[int]) -> None:
    template, logs, secrets = leaky
    folders = _folders(tmp_path)
    proc = _start(template, logs, folders)
    process_groups.append(proc.pid)
    _out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err[-2000:]
    assert not _leaks(folders, secrets)
    (run,) = [p for p in folders["out"].iterdir() if not p.name.startswith(".")]
    nb = nbformat.read(str(run / "report.ipynb"), as_version=4)
    assert nb.metadata.papermill.output_path.endswith("report.ipynb") and "incidentkit-masked" not in json.dumps(nb.metadata)
    assert json.dumps([c.get("outputs", []) for c in nb.cells]).count("[masked:") >= len(secrets)
