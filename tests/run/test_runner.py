"""Runner mechanics on a tiny template: run folders, parameters as data, failures, masking, kernel."""

from __future__ import annotations

import json
import stat
import sys
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from incidentkit.run import runner
from incidentkit.errors import BadWindowError, NoCredentialsError, NotebookError, NotFoundError, ParameterError
from _helpers.tiny_template import WINDOW, make_template

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_template(tmp_path_factory.mktemp("tpl"))


def _stdout_json(nb_path: Path) -> dict:
    nb = nbformat.read(str(nb_path), as_version=4)
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("name") == "stdout" and out["text"].startswith("{"):
                return json.loads(out["text"].splitlines()[0])
    raise AssertionError("no JSON line printed")


def test_run_writes_a_complete_private_run_folder(tiny: Path, tmp_path: Path) -> None:
    result = runner.run(tiny, {**WINDOW, "items": "a, b", "n": "7", "flag": "yes", "ratio": "0.25"}, out=tmp_path)
    assert result.path.parent == tmp_path
    assert result.path.name.startswith("tiny-") and len(result.path.name.split("-")) == 3
    names = sorted(p.name for p in result.path.iterdir())
    assert names == ["evidence", "findings.json", "postmortem.md", "report.html", "report.ipynb"]
    assert [p.name for p in tmp_path.iterdir()] == [result.path.name]  # no temporary folder left behind
    assert stat.S_IMODE(result.path.stat().st_mode) == 0o700
    assert stat.S_IMODE((result.path / "evidence").stat().st_mode) == 0o700
    for f in result.path.rglob("*"):
        if f.is_file():
            assert stat.S_IMODE(f.stat().st_mode) == 0o600, f
    printed = _stdout_json(result.notebook)
    assert printed["items"] == ["a", "b"] and printed["n"] == 7 and printed["flag"] is True and printed["ratio"] == 0.25
    assert printed["start"] == "2026-03-01T03:00:00Z"
    doc = json.loads(result.findings_json.read_text())
    assert doc["template"] == "tiny"
    assert doc["window"] == WINDOW
    assert [f["id"] for f in doc["findings"]] == ["cold-start-tail"]
    assert set(doc["findings"][0]) >= {"id", "title", "severity", "summary", "evidence", "remediation"}
    assert doc["data_quality"]["frames"] == 1 and doc["data_quality"]["api_calls"] == 2
    assert result.findings.top.id == "cold-start-tail"
    html = result.html.read_text()
    assert "<html" in html and "seen hello" in html and "asked to fail" in html  # code shown by default


def test_kernel_is_the_running_interpreter_whatever_kernelspecs_say(tiny: Path, tmp_path: Path, monkeypatch) -> None:
    # a broken "python3" kernelspec first on the Jupyter path must not matter
    bogus = tmp_path / "jupyter" / "kernels" / "python3"
    bogus.mkdir(parents=True)
    (bogus / "kernel.json").write_text(json.dumps({"argv": ["/nonexistent/python", "-m", "ipykernel_launcher", "-f",
                                                            "{connection_file}"], "display_name": "broken", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    result = runner.run(tiny, {**WINDOW}, out=tmp_path / "out", hide_code=True)
    assert _stdout_json(result.notebook)["executable"] == sys.executable
    html = result.html.read_text()
    assert "seen hello" in html and "asked to fail" not in html  # --hide-code drops the code


HOSTILE = [
    'x"); __import__("os").system("touch PWNED") #',
    "a'''b\"\"\"c\\\\d\\n{e}",
    "line1\nline2\r\n\ttabbed",
    "\\x00 \\u2028 ünïcödé ✓ 🚨",
    "${HOME} $(id) `id` %s {0}",
]


@pytest.mark.parametrize("value", HOSTILE)
def test_parameters_reach_the_notebook_as_data_never_code(tiny: Path, tmp_path: Path, value: str) -> None:
    result = runner.run(tiny, {**WINDOW, "text": value, "items": json.dumps([value, "b"])}, out=tmp_path)
    printed = _stdout_json(result.notebook)
    assert printed["text"] == value
    assert printed["items"] == [value.strip(), "b"]
    assert not list(tmp_path.rglob("PWNED")) and not Path("PWNED").exists()


def test_failing_cell_keeps_the_notebook_in_a_failed_folder(tiny: Path, tmp_path: Path) -> None:
    with pytest.raises(NotebookError) as info:
        runner.run(tiny, {**WINDOW, "fail": "true", "text": "hunter2secret"}, out=tmp_path)
    err = info.value
    assert "RuntimeError" in str(err) and "cell" in str(err)
    assert "\n" not in err.message
    assert "hunter2secret" not in str(err) and "password=[masked:secret]" in str(err)  # masked too
    folders = [p.name for p in tmp_path.iterdir()]
    assert len(folders) == 1 and folders[0].endswith(runner.FAILED_SUFFIX)
    failed = tmp_path / folders[0]
    assert err.context["notebook"] == str(failed / "report.ipynb")
    nb = nbformat.read(str(failed / "report.ipynb"), as_version=4)
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert errors and errors[0]["ename"] == "RuntimeError"
    assert "asked to fail" in (failed / "report.html").read_text()
    assert not (failed / "findings.json").exists()
    for f in failed.rglob("*"):
        if f.is_file():
            assert b"password=hunter2secret" not in f.read_bytes(), f  # the error's secret is masked


@pytest.mark.parametrize(
    "params, error, words",
    [
        ({"txet": "x"}, ParameterError, ["'txet'", "did you mean 'text'"]),
        ({"n": "seven"}, ParameterError, ["parameter n", "whole number"]),
        ({"ratio": "nan"}, ParameterError, ["parameter ratio"]),
        ({"flag": "perhaps"}, ParameterError, ["parameter flag", "true or false"]),
        ({"items": "[1, [2]]"}, ParameterError, ["parameter items"]),
        ({"start": "yesterday-ish"}, ParameterError, ["parameter start", "ISO-8601"]),
        ({"region": "eu-west-1"}, ParameterError, ["--region"]),
    ],
)
def test_bad_parameters_fail_before_anything_is_written(tiny: Path, tmp_path: Path, params, error, words) -> None:
    with pytest.raises(error) as info:
        runner.run(tiny, {**WINDOW, **params}, out=tmp_path / "out")
    for w in words:
        assert w in str(info.value)
    assert not (tmp_path / "out").exists()


def test_window_checks(tiny: Path, tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match="--start and --end are required"):
        runner.run(tiny, {}, out=tmp_path)
    with pytest.raises(BadWindowError, match="not after start"):
        runner.run(tiny, {"start": WINDOW["end"], "end": WINDOW["start"]}, out=tmp_path)
    with pytest.raises(ParameterError, match="--offline needs --evidence"):
        runner.run(tiny, dict(WINDOW), out=tmp_path, offline=True)
    assert not any(tmp_path.iterdir())


def test_a_sample_is_opened_only_when_named_and_the_source_says_which() -> None:
    """A template's default sample is what JupyterLab shows; a run never falls back to it."""
    window = {"start": "2026-03-01T03:00:00Z", "end": "2026-03-01T04:00:00Z"}
    live = runner.prepare("triage", {**window, "log_groups": "/aws/lambda/api"}, check_access=False)
    assert live.parameters["sample"] is None and live.source == "aws" and live.parameters["offline"] is False
    smp = runner.prepare("triage", {"sample": "cold-start-tail"}, check_access=False)
    assert smp.parameters["sample"] == "cold-start-tail" and smp.source == "sample:cold-start-tail"
    assert smp.parameters["offline"] is True  # a sample reads nothing of AWS, and findings.json says so
    assert runner.prepare("latency", {"sample": "version-skew-errors"}).source == "sample:version-skew-errors"
    with pytest.raises(ParameterError, match="--start and --end are required: nothing to investigate"):
        runner.prepare("triage", {})
    with pytest.raises(ParameterError, match=r"--start and --end are required to investigate AWS \(-p function_name given\)"):
        runner.prepare("latency", {"function_name": "api"})
    with pytest.raises(ParameterError, match="drop -p log_groups, --profile"):
        runner.prepare("triage", {"sample": "cold-start-tail", "log_groups": "/x"}, profile="prod")


def test_no_credentials_is_one_clear_error_and_no_folder(tiny: Path, tmp_path: Path, monkeypatch) -> None:
    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SECURITY_TOKEN", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", raising=False)
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", raising=False)
    with pytest.raises(NoCredentialsError, match="no AWS credentials"):
        runner.run(tiny, dict(WINDOW), out=tmp_path / "out")
    with pytest.raises(NoCredentialsError, match="profile 'nope'"):
        runner.run(tiny, dict(WINDOW), out=tmp_path / "out", profile="nope")
    assert not (tmp_path / "out").exists()


def test_missing_log_group_is_one_clear_error_and_no_folder(tiny: Path, tmp_path: Path) -> None:
    from moto import mock_aws

    import boto3

    with mock_aws():
        logs = boto3.client("logs", region_name="eu-west-1")
        logs.create_log_group(logGroupName="/aws/lambda/orders-api")
        with pytest.raises(NotFoundError) as info:
            runner.run(tiny, {**WINDOW, "log_groups": "/aws/lambda/orders-api,/aws/lambda/order-api"},
                       out=tmp_path / "out", region="eu-west-1")
    msg = str(info.value)
    assert "/aws/lambda/order-api does not exist" in msg and "similar: /aws/lambda/orders-api" in msg
    assert not (tmp_path / "out").exists()


SECRETS = {
    "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NSJ9.c2lnbmF0dXJlX2FiY2RlZg",
    "akid": "AKIAIOSFODNN7EXAMPLE",
    "url": "postgres://app:s3cretPassw0rd@db.internal:5432/orders",
    "bearer": "Bearer abcdef0123456789ABCDEF",
}
SECRET_CORES = ["c2lnbmF0dXJlX2FiY2RlZg", "AKIAIOSFODNN7EXAMPLE", "s3cretPassw0rd", "abcdef0123456789ABCDEF"]


def test_secrets_never_reach_any_written_file(tiny: Path, tmp_path: Path) -> None:
    text = " ".join(SECRETS.values())
    result = runner.run(tiny, {**WINDOW, "text": text, "items": SECRETS["akid"]}, out=tmp_path)
    files = [f for f in result.path.rglob("*") if f.is_file()]
    assert {f.name for f in files} >= {"report.ipynb", "report.html", "postmortem.md", "findings.json", "manifest.json"}
    for f in files:
        if f.suffix == ".parquet":
            content = pd.read_parquet(f).astype(str).to_csv()
        else:
            content = f.read_text(encoding="utf-8")
        for core in SECRET_CORES:
            assert core not in content, (f.name, core)
    # the masked value is still visible as masked, not dropped
    assert "[masked:" in result.html.read_text() and "[masked:" in result.findings_json.read_text()


def test_extra_context_is_recorded_in_the_evidence_manifest(tiny: Path, tmp_path: Path) -> None:
    alarm = {"name": "api-5xx", "state": "ALARM", "note": "password=hunter22"}
    result = runner.run(tiny, dict(WINDOW), out=tmp_path, context={"alarm": alarm})
    ctx = json.loads((result.evidence / "manifest.json").read_text())["context"]
    assert ctx["alarm"]["name"] == "api-5xx" and ctx["template"] == "tiny"
    assert "hunter22" not in json.dumps(ctx)  # masked like everything written
    with pytest.raises(ParameterError, match="window"):
        runner.run(tiny, dict(WINDOW), out=tmp_path / "x", context={"window": {}})
    assert not (tmp_path / "x").exists()
