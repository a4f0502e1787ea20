"""Every failure of the CLI is one line: hostile values never end in a traceback.

A fuzz test of the command-line surface. hypothesis draws hostile values — parameter
values with lone surrogates, control characters and NULs, times from year 1 to year
10000 and beyond, epoch numbers, relative offsets of every size, paths that are files,
dangling links or too long, evidence manifests of any JSON shape (whole documents and
single-field mutations of a real one), alarm events of any shape — and each run must
exit in {0, 1, 2, 3, 130} with no traceback, and on failure say so in exactly one
``incidentkit: error:`` line.

Most cases run in process (click's ``CliRunner``). So that a case that gets past every
check does not start a kernel, ``papermill.execute_notebook`` is replaced by a fake that
parameterizes the notebook (papermill's own code, with the hostile values) and returns
it unexecuted; everything the kit does before and after the kernel runs for real. AWS
calls go to a closed port on 127.0.0.1 (one attempt), so nothing leaves the machine.
A few cases run the real ``incidentkit`` in a subprocess, with bytes that are not UTF-8
in ``argv``.
"""

from __future__ import annotations

import copy
import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from incidentkit import cli
from incidentkit.run import runner
from incidentkit.evidence import MANIFEST, EvidenceBundle
from incidentkit.investigation import Investigation

EXITS = {0, 1, 2, 3, 130}
INCIDENTKIT = str(Path(sys.executable).with_name("incidentkit"))
WINDOW = ("2026-03-01T03:00:00Z", "2026-03-01T04:00:00Z")
FUZZ = settings(max_examples=30, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])  # fmt: skip
#: For the cases that build boto3 clients for every example (each ~0.5 s).
FUZZ_AWS = settings(FUZZ, max_examples=15)


# --- the checks -----------------------------------------------------------------------------------------


def _click_usage(stderr: str) -> bool:
    """Click's own usage error (``Usage: …``, ``Try …``, ``Error: …``): the purity helper makes it one line."""
    return any(line.startswith("Error: ") for line in stderr.splitlines()) and "Usage: " in stderr


def check(code: int, stderr: str, *, exception: BaseException | None = None, click_usage_ok: bool = True) -> None:
    """The contract: a documented exit code, no traceback, every stderr line the kit's, one error line on failure."""
    assert exception is None or isinstance(exception, SystemExit), f"uncaught {type(exception).__name__}: {exception}"
    assert code in EXITS, (code, stderr[-2000:])
    assert "Traceback" not in stderr and "internal error" not in stderr, stderr[-3000:]
    if click_usage_ok and code == 2 and _click_usage(stderr):
        return
    lines = [line for line in stderr.splitlines() if line.strip()]
    stray = [line for line in lines if not line.startswith("incidentkit: ")]
    assert not stray, f"stderr lines that are not the kit's one-line messages: {stray[:5]}"
    errors = [line for line in lines if line.startswith("incidentkit: error:")]
    assert len(errors) == (0 if code == 0 else 1), lines


def invoke(argv: list[str], **kw: Any) -> Any:
    result = CliRunner().invoke(cli.cli, argv, **kw)
    check(result.exit_code, result.stderr, exception=result.exception)
    return result


# --- fixtures ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def closed_port() -> str:
    """An endpoint nothing listens on: every AWS call fails at once with 'could not connect'."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture(autouse=True)
def offline_world(monkeypatch: pytest.MonkeyPatch, closed_port: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    import papermill
    from papermill.iorw import load_notebook_node, write_ipynb
    from papermill.parameterize import parameterize_notebook

    def fake_execute(input_path: str, output_path: str, parameters: dict | None = None, **_: Any) -> Any:
        nb = parameterize_notebook(load_notebook_node(str(input_path)), parameters or {})
        write_ipynb(nb, str(output_path))  # through papermill's I/O handlers, as papermill saves (the runner's masked scheme)
        return nb

    monkeypatch.setattr(papermill, "execute_notebook", fake_execute)
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))  # an empty --out means the current folder: not the repository
    monkeypatch.setenv("INCIDENTKIT_MAX_ATTEMPTS", "1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", closed_port)
    monkeypatch.setenv("INCIDENTKIT_PROGRESS", "0")


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small recorded investigation (a sample's frames under its window), to replay and to damage."""
    path = tmp_path_factory.mktemp("bundle") / "evidence"
    Investigation.sample("cold-start-tail", evidence=path)
    return path


@pytest.fixture(scope="module")
def places(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("places")
    (root / "regular").write_text("not a folder")
    (root / "dangling").symlink_to(root / "nowhere" / "x")
    (root / "loop").symlink_to(root / "loop")
    (root / "dir").mkdir()
    (root / "not-a-notebook.ipynb").write_text("{not json")
    (root / "list.ipynb").write_text("[1, 2]")
    return {
        "regular file": str(root / "regular"),
        "dangling symlink": str(root / "dangling"),
        "symlink loop": str(root / "loop"),
        "under a file": str(root / "regular" / "sub"),
        "existing folder": str(root / "dir"),
        "new nested folder": str(root / "a" / "b" / "c"),
        "too long": str(root / ("x" * 300)),
        "NUL": str(root / "a\x00b"),
        "newline": str(root / "line\nbreak"),
        "undecodable byte": str(root / "caf\udce9"),
        "dot dot": str(root / ".." / ".." / ".." / "etc"),
        "broken notebook": str(root / "not-a-notebook.ipynb"),
        "list notebook": str(root / "list.ipynb"),
        "empty": "",
        "dash": "-",
    }


# --- strategies ------------------------------------------------------------------------------------------

#: Any character, lone surrogates (an undecodable byte from argv) and controls included.
ANY_CHAR = st.characters(codec=None, categories=None)
HOSTILE_TEXT = st.one_of(
    st.text(ANY_CHAR, max_size=40),
    st.sampled_from(["\udcff", "a\udce9b", "\ud800", "\x00", "\n\r\t", "'\"`$(x)", "{{7*7}}", "../../etc/passwd", " ", ""]),
    st.builds(lambda s, n: s * n, st.sampled_from(["A", "é", "🚨", "\u202e"]), st.integers(1, 5000)),
)
TRIAGE_PARAMETERS = ["log_groups", "function_name", "api_id", "load_balancer", "target_group_arn", "table_name", "region",
                     "latency_slo_ms", "sample", "start", "end", "baseline_start", "baseline_end", "nope", "__class__"]  # fmt: skip


def _time_texts() -> st.SearchStrategy[str]:
    years = st.sampled_from([1, 999, 1677, 1678, 1969, 1970, 2026, 2261, 2262, 2263, 9999, 10000, 99999])
    iso = st.builds(lambda y, o: f"{y:04d}-03-01T03:00:00{o}", years,
                    st.sampled_from(["Z", "+00:00", "+14:00", "-12:00", "+25:00", "+99:99", "", "Z+01:00", ".999999999999Z"]))
    epochs = st.one_of(st.integers(-(10**20), 10**20).map(str), st.floats(allow_nan=True, allow_infinity=True).map(str),
                       st.sampled_from(["1e30", "-1e30", "0x10", "1_000", "١٢٣"]))  # fmt: skip
    relative = st.builds(lambda sign, n, unit: f"{sign}{n}{unit}", st.sampled_from(["-", "+", "", "--"]),
                         st.integers(0, 10**15), st.sampled_from(["s", "m", "h", "d", "w", "y", "ms", "µs", ""]))  # fmt: skip
    odd = st.sampled_from(["now", "-1h", "-2h", "2026-03-01T03:00:00Z", "NOW", " now ", "yesterday", "2026-02-30T00:00:00Z", "2026-13-01", "T", "nan", "inf",
                           "2026-03-01T03:00:00Z\x00", "2026-03-01 03:00", "03:00", "1772334000000", "\udcff"])  # fmt: skip
    return st.one_of(iso, epochs, relative, odd, st.text(ANY_CHAR, max_size=30))


JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=False), st.text(max_size=20)),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)),
    max_leaves=12,
)


def _paths(doc: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _paths(v, prefix + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += _paths(v, prefix + (i,))
    return out


def _mutate(doc: Any, path: tuple, value: Any, delete: bool) -> Any:
    if not path:
        return value
    out = copy.deepcopy(doc)
    node = out
    for key in path[:-1]:
        node = node[key]
    if delete and isinstance(node, dict):
        node.pop(path[-1], None)
    else:
        node[path[-1]] = value
    return out


# --- in process: hypothesis ------------------------------------------------------------------------------


@FUZZ
@given(name=st.sampled_from(TRIAGE_PARAMETERS), value=HOSTILE_TEXT, raw=st.booleans())
def test_hostile_parameter_values(tmp_path_factory: pytest.TempPathFactory, name: str, value: str, raw: bool) -> None:
    out = tmp_path_factory.mktemp("out")
    item = value if raw else f"{name}={value}"  # raw: not even name=value
    result = invoke(["run", "triage", "-p", "sample=cold-start-tail", "--offline", "-p", item, "--out", str(out)])
    if result.exit_code == 0:  # the fake kernel ran: the kit wrote a whole run folder
        (folder,) = [p for p in out.iterdir() if not p.name.startswith(".")]
        assert json.loads((folder / "findings.json").read_text(encoding="utf-8"))["template"] == "triage"


@settings(FUZZ, max_examples=80)  # cheap: most fail in the window check
@given(start=_time_texts(), end=_time_texts(), live=st.booleans())
def test_hostile_times(tmp_path_factory: pytest.TempPathFactory, bundle: Path, start: str, end: str, live: bool) -> None:
    out = tmp_path_factory.mktemp("out")
    where = ["-p", "log_groups=/aws/lambda/api"] if live else ["--offline", "--evidence", str(bundle)]
    result = invoke(["run", "triage", f"--start={start}", f"--end={end}", *where, "--out", str(out)])
    if live and start.strip() and end.strip():  # an empty window with AWS parameters: test_aws_parameters_without_a_window
        assert result.exit_code != 0, "a live window must fail at the closed endpoint"


def test_aws_parameters_with_an_empty_window_are_bad_usage(tmp_path: Path) -> None:
    result = invoke(["run", "triage", "--start=", "--end=", "-p", "log_groups=/aws/lambda/api", "--out", str(tmp_path)])
    assert result.exit_code == 2


@FUZZ
@given(data=st.data())
def test_damaged_manifests(tmp_path_factory: pytest.TempPathFactory, bundle: Path, data: st.DataObject) -> None:
    doc = json.loads((bundle / MANIFEST).read_text())
    if data.draw(st.booleans(), label="whole document"):
        damaged = data.draw(JSON, label="manifest")
    else:
        path = data.draw(st.sampled_from(_paths(doc)), label="field")
        damaged = _mutate(doc, path, data.draw(JSON, label="value"), data.draw(st.booleans(), label="delete"))
    copy_dir = tmp_path_factory.mktemp("damaged") / "evidence"
    copy_dir.mkdir()
    for f in bundle.iterdir():
        (copy_dir / f.name).write_bytes(f.read_bytes())
    (copy_dir / MANIFEST).write_text(json.dumps(damaged))
    out = tmp_path_factory.mktemp("out")
    result = invoke(["run", "triage", "--offline", "--evidence", str(copy_dir), "--out", str(out)])
    if result.exit_code != 0:
        assert not [p for p in out.iterdir() if not p.name.endswith(".failed")], "a refused bundle leaves no run folder"


@FUZZ
@given(out_kind=st.sampled_from(["regular file", "dangling symlink", "symlink loop", "under a file", "existing folder",
                                 "new nested folder", "too long", "NUL", "newline", "undecodable byte", "dot dot", "empty"]),
       evidence_kind=st.sampled_from([None, "regular file", "dangling symlink", "NUL", "existing folder", "too long", "dash"]),
       template_kind=st.sampled_from([None, "broken notebook", "list notebook", "regular file", "existing folder", "NUL",
                                      "dangling symlink", "too long", "dot dot"]))  # fmt: skip
def test_hostile_paths(places: dict[str, str], out_kind: str, evidence_kind: str | None, template_kind: str | None) -> None:
    argv = ["run", places[template_kind] if template_kind else "triage"]
    argv += ["--offline", "--evidence", places[evidence_kind]] if evidence_kind else ["-p", "sample=cold-start-tail", "--offline"]
    argv += ["--out", places[out_kind]]
    result = invoke(argv)
    if out_kind in ("regular file", "dangling symlink", "under a file", "NUL", "too long", "symlink loop") and not (
        template_kind or evidence_kind
    ):
        assert result.exit_code == 2 and "--out" in result.stderr, result.stderr


@FUZZ_AWS
@given(data=st.data())
def test_hostile_alarm_events(tmp_path_factory: pytest.TempPathFactory, data: st.DataObject) -> None:
    real = json.loads((Path(__file__).parent / "data" / "alarm_events" / sorted(
        p.name for p in (Path(__file__).parent / "data" / "alarm_events").iterdir())[0]).read_text())  # fmt: skip
    if data.draw(st.booleans(), label="whole document"):
        event = data.draw(JSON, label="event")
    else:
        path = data.draw(st.sampled_from(_paths(real)), label="field")
        event = _mutate(real, path, data.draw(JSON, label="value"), data.draw(st.booleans(), label="delete"))
    folder = tmp_path_factory.mktemp("event")
    (folder / "event.json").write_text(json.dumps(event))
    invoke(["run", "triage", "--from-event", str(folder / "event.json"), "--out", str(folder / "out")])


@FUZZ_AWS
@given(command=st.sampled_from(["audit", "health"]), name=st.sampled_from(
    ["function_name", "table_name", "target_group_arn", "load_balancer", "health_check_id", "security_group_ids", "bogus"]),
    value=HOSTILE_TEXT)  # fmt: skip
def test_hostile_resources(command: str, name: str, value: str) -> None:
    invoke([command, "-r", f"{name}={value}"])


# --- in process: the cases the issue names ---------------------------------------------------------------


@pytest.mark.parametrize(
    "argv, code, words",
    [
        (["-p", "function_name=a\udcffb"], 2, "-p 'function_name' is not valid UTF-8 text (byte 0xff at character 16)"),
        (["-p", "log_groups=/x\ud800"], 2, "a lone surrogate U+D800"),
        (["-p", "na\udce9me=1"], 2, "is not valid UTF-8 text (byte 0xe9"),
        (["--out", "OUT/regular"], 2, "is a file, not a folder"),
        (["--out", "OUT/dangling"], 2, "is a symbolic link to"),
        (["--out", "OUT/regular/sub"], 2, "cannot be a folder"),
    ],
    ids=["surrogate-escape-byte", "lone-surrogate", "surrogate-in-name", "out-is-a-file", "out-dangling-link", "out-under-a-file"],
)
def test_the_named_cases_are_one_line(tmp_path: Path, argv: list[str], code: int, words: str) -> None:
    (tmp_path / "regular").write_text("x")
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    argv = [a.replace("OUT", str(tmp_path)) for a in argv]
    out = [] if "--out" in argv else ["--out", str(tmp_path / "runs")]
    result = invoke(["run", "triage", "-p", "sample=cold-start-tail", "--offline", *argv, *out])
    assert result.exit_code == code and words in result.stderr, result.stderr
    assert not (tmp_path / "runs").exists()


def test_a_year_9999_window_is_one_line(tmp_path: Path) -> None:
    result = invoke(["run", "triage", "--start", "9999-12-31T00:00:00Z", "--end", "9999-12-31T01:00:00Z",
                     "-p", "log_groups=/aws/lambda/api", "--out", str(tmp_path / "runs")])  # fmt: skip
    assert result.exit_code == 2 and "9999" in result.stderr


def test_missing_nbconvert_templates_are_one_line_saying_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An environment whose Jupyter data path lacks nbconvert's templates: was a traceback after the whole run."""
    from nbconvert.exporters import templateexporter

    monkeypatch.setattr(templateexporter, "jupyter_path", lambda *parts: [str(tmp_path / "share" / "jupyter")])
    monkeypatch.setattr(templateexporter, "DEV_MODE", False)
    runner.check_html_export.cache_clear()
    try:
        result = invoke(["run", "triage", "-p", "sample=cold-start-tail", "--offline", "--out", str(tmp_path / "runs")])
    finally:
        runner.check_html_export.cache_clear()
    assert result.exit_code == 1
    assert "nbconvert's HTML templates" in result.stderr and "JUPYTER_PATH" in result.stderr and "pip install" in result.stderr
    assert list((tmp_path / "runs").iterdir()) == [], "checked before anything runs: no run folder, not even a temporary one"


@pytest.mark.parametrize(
    "argv",
    [["run", "triage", "--timeout", "0"], ["run", "triage", "--sse", "rot13"], ["run", "triage", "--bogus"],
     ["run", "triage", "--evidence", "a\x00b"], ["run"], ["demo", "--out", "/etc/passwd"]],
    ids=["timeout-0", "sse-choice", "unknown-option", "evidence-nul", "no-template", "demo-out-file"],
)  # fmt: skip
def test_click_usage_errors_are_one_line(argv: list[str]) -> None:
    result = CliRunner().invoke(cli.cli, argv)
    check(result.exit_code, result.stderr, exception=result.exception, click_usage_ok=False)


# --- real subprocesses: bytes in argv, the console script's own net ----------------------------------------


def _run_bytes(argv: list[bytes], cwd: Path, closed_port: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT")}
    env.update(AWS_ENDPOINT_URL=closed_port, INCIDENTKIT_MAX_ATTEMPTS="1", INCIDENTKIT_PROGRESS="0", LC_ALL="C.UTF-8")
    return subprocess.run([INCIDENTKIT.encode(), *argv], cwd=cwd, env=env, capture_output=True, timeout=300)


@pytest.mark.parametrize(
    "case",
    ["non-utf8-parameter", "out-regular-file", "out-dangling-symlink", "frames-as-a-list", "year-9999", "non-utf8-out"],
)
def test_the_console_script_fails_in_one_line(tmp_path: Path, closed_port: str, bundle: Path, case: str) -> None:
    (tmp_path / "regular").write_text("x")
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    broken = tmp_path / "broken"
    broken.mkdir()
    doc = json.loads((bundle / MANIFEST).read_text())
    doc["frames"] = list(doc["frames"].values())
    (broken / MANIFEST).write_text(json.dumps(doc))
    sample = [b"run", b"triage", b"-p", b"sample=cold-start-tail", b"--offline"]
    argv, code, words = {
        "non-utf8-parameter": ([*sample, b"-p", b"function_name=caf\xe9", b"--out", b"runs"], 2, "byte 0xe9"),
        "out-regular-file": ([*sample, b"--out", b"regular"], 2, "is a file, not a folder"),
        "out-dangling-symlink": ([*sample, b"--out", b"dangling"], 2, "is a symbolic link to"),
        "frames-as-a-list": ([b"run", b"triage", b"--offline", b"--evidence", b"broken", b"--out", b"runs"], 1,
                             "'frames' must be an object"),
        "year-9999": ([b"run", b"triage", b"--start", b"9999-01-01T00:00:00Z", b"--end", b"9999-01-01T01:00:00Z", b"-p",
                       b"log_groups=/x", b"--out", b"runs"], 2, "9999"),
        "non-utf8-out": ([b"run", b"triage", b"-p", b"sample=cold-start-tail", b"--offline", b"--timeout", b"1",
                          b"--start", b"now", b"--out", b"caf\xe9"], 2, "either -p sample=NAME or --start/--end"),
    }[case]  # fmt: skip
    proc = _run_bytes(argv, tmp_path, closed_port)
    stderr = proc.stderr.decode("utf-8", errors="backslashreplace")
    check(proc.returncode, stderr, click_usage_ok=False)
    assert proc.returncode == code and words in stderr, stderr
    assert not (tmp_path / "runs").exists()


def test_the_console_scripts_last_net_hides_a_bug_behind_one_line(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    def bug(*_: Any, **__: Any) -> None:
        raise ZeroDivisionError("division by zero in a secret=hunter2 place")

    monkeypatch.setattr(cli.cli, "main", bug)
    with pytest.raises(SystemExit) as info:
        cli.main(["templates"])
    err = capsys.readouterr().err
    assert info.value.code == 1 and err.count("\n") == 1
    assert "internal error (ZeroDivisionError)" in err and "INCIDENTKIT_DEBUG=1" in err and "hunter2" not in err
    monkeypatch.setenv("INCIDENTKIT_DEBUG", "1")
    with pytest.raises(ZeroDivisionError):
        cli.main(["templates"])


def test_the_fake_kernel_is_only_a_stand_in(tmp_path: Path) -> None:
    """The in-process cases stop at the kernel: the fake must leave a notebook the runner reads like a real one."""
    result = invoke(["run", "triage", "-p", "sample=cold-start-tail", "--offline", "--out", str(tmp_path)])
    folder = next(Path(line) for line in result.stdout.splitlines() if line.startswith(str(tmp_path)))
    doc = json.loads((folder / "findings.json").read_text())
    assert doc["findings"] == [] and any("published no results" in i for i in doc["data_quality"]["issues"])
    nb = nbformat.read(str(folder / "report.ipynb"), as_version=4)
    assert any("injected-parameters" in c.metadata.get("tags", []) for c in nb.cells)
    assert pd.Timestamp(doc["generated"]).tzinfo is not None
    assert EvidenceBundle.open(folder).names() == []
