"""Packaging: the wheel carries the templates and data, runs from a fresh environment; conda env in step."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _pyproject() -> dict:
    import tomllib

    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _norm(req: str) -> tuple[str, str]:
    m = re.match(r"^\s*([A-Za-z0-9_.\-\[\]]+)\s*(.*)$", req)
    assert m, req
    return m.group(1).lower().replace("_", "-"), m.group(2).replace(" ", "")


def test_environment_yml_lists_the_same_runtime_dependencies() -> None:
    deps = dict(_norm(d) for d in _pyproject()["project"]["dependencies"])
    text = (ROOT / "environment.yml").read_text()
    env_lines = text.split("dependencies:", 1)[1].splitlines()
    conda = {}
    for line in env_lines:
        m = re.match(r"^\s*-\s+([A-Za-z0-9_.\-]+)\s*([<>=!~].*)?$", line)
        if m and m.group(1) not in ("pip", "python"):
            conda[m.group(1).lower().replace("_", "-")] = (m.group(2) or "").replace(" ", "")
    assert conda == deps, f"environment.yml and pyproject.toml differ: {set(conda.items()) ^ set(deps.items())}"
    py = _pyproject()["project"]["requires-python"]
    pin = next(l for l in env_lines if re.match(r"^\s*-\s+python[=<>]", l))
    assert py.lstrip(">=") in pin, (py, pin)


def test_every_notebook_is_a_packaged_template() -> None:
    cfg = _pyproject()["tool"]["setuptools"]
    assert cfg["package-dir"]["incidentkit.notebooks"] == "notebooks"
    assert "incidentkit.notebooks" in cfg["packages"]
    assert "*.ipynb" in cfg["package-data"]["incidentkit.notebooks"]
    assert "templates.json" in cfg["package-data"]["incidentkit.notebooks"]
    assert sorted(p.name for p in (ROOT / "notebooks").iterdir() if p.name != ".ipynb_checkpoints" and p.suffix != ".ipynb") \
        == ["templates.json"], "notebooks/ holds only the .ipynb templates and their registry's data (templates.json)"
    assert _pyproject()["project"]["scripts"]["incidentkit"] == "incidentkit.cli:main"


def test_every_package_folder_is_in_the_wheel() -> None:
    listed = set(_pyproject()["tool"]["setuptools"]["packages"])
    folders = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "incidentkit").rglob("__init__.py")
               if "__pycache__" not in p.parts}
    assert folders - listed == set(), f"add these packages to [tool.setuptools] packages in pyproject.toml: {sorted(folders - listed)}"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import shutil

    out = tmp_path_factory.mktemp("wheel")
    src = tmp_path_factory.mktemp("src")  # a copy: building writes build/ and *.egg-info beside the sources
    for name in ("pyproject.toml", "README.md", "environment.yml", "LICENSE"):
        if (ROOT / name).exists():
            shutil.copy2(ROOT / name, src / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints")
    for name in ("incidentkit", "notebooks"):
        shutil.copytree(ROOT / name, src / name, ignore=ignore)
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q", "-w", str(out), str(src)],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, (
        "building the wheel offline needs the build tools of the [test] extra (setuptools>=68, wheel): "
        + proc.stderr[-2000:]
    )
    [whl] = list(out.glob("incidentkit-*.whl"))
    return whl


@pytest.mark.slow
def test_the_wheel_carries_templates_samples_policy_and_the_script(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for nb in (ROOT / "notebooks").glob("*.ipynb"):
        assert f"incidentkit/notebooks/{nb.name}" in names, nb.name
    assert "incidentkit/run/templates.py" in names and "incidentkit/notebooks/templates.json" in names
    for f in ("incidentkit/py.typed", "incidentkit/policy/readonly-iam.json", "incidentkit/samples/__init__.py",
              "incidentkit/analyses/__init__.py", "incidentkit/cli.py", "incidentkit/run/runner.py",
              "incidentkit/findings/catalogue.md", "incidentkit/findings/detectors/cold_start_tail.py"):
        assert f in names, f
    for data in (ROOT / "incidentkit" / "data").glob("*"):
        if data.is_file():
            assert f"incidentkit/data/{data.name}" in names, data.name
    entry = next(n for n in names if n.endswith("entry_points.txt"))
    assert "incidentkit = incidentkit.cli:main" in zipfile.ZipFile(wheel).read(entry).decode()
    assert not [n for n in names if n.startswith(("tests/", "notebooks/"))]


@pytest.mark.slow
def test_the_installed_wheel_runs_the_demo_from_a_fresh_environment(wheel: Path, tmp_path: Path) -> None:
    """A new virtualenv with only the wheel installed (its dependencies borrowed, offline), no kernelspec."""
    venv = tmp_path / "fresh"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    py = venv / "bin" / "python"
    site = Path(subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    # the dependencies of this environment, without its (editable) incidentkit: no network needed
    (site / "_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    proc = subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps", "--no-index", "-q",
                           str(wheel)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PYTHONPATH", "JUPYTER", "VIRTUAL_ENV"))}
    # Jupyter data: nbconvert's templates only (a real venv installs them in its own share/); no kernelspec at all
    data = tmp_path / "jupyter-data"
    data.mkdir()
    (data / "nbconvert").symlink_to(Path(sysconfig.get_paths()["data"]) / "share" / "jupyter" / "nbconvert")
    env.update(INCIDENTKIT_PROGRESS="0", HOME=str(tmp_path), JUPYTER_PATH=str(data),
               AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"), AWS_CONFIG_FILE=str(tmp_path / "none"))
    where = subprocess.run([str(py), "-c", "import incidentkit; from incidentkit.run import templates as t; print(incidentkit.__file__); "
                            "print(t.get('triage').path)"], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    lib, tpl = where.stdout.split()
    assert lib.startswith(str(site)) and tpl.startswith(str(site)), where.stdout  # the wheel's copy, not the source tree
    script = venv / "bin" / "incidentkit"
    listed = subprocess.run([str(script), "templates"], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert listed.returncode == 0 and "triage — Incident triage" in listed.stdout, listed.stderr
    demo = subprocess.run([str(script), "demo", "--sample", "cold-start-tail", "--jobs", "1", "--out", str(tmp_path / "d")],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600)
    assert demo.returncode == 0, demo.stdout[-2000:] + demo.stderr[-2000:]
    assert "1/1 investigations found what their sample is known for" in demo.stdout
    [run] = list((tmp_path / "d").glob("demo-*/cold-start-tail"))
    doc = json.loads((run / "findings.json").read_text())
    assert doc["findings"][0]["id"] == "cold-start-tail"
