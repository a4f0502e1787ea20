"""Execute a notebook template into a run folder: report, postmortem, findings and evidence.

:func:`run` is what ``incidentkit run`` calls. It

1. checks every parameter before anything runs (types, unknown names with a "did you
   mean", required ones, the window), and, when AWS is to be read, that credentials exist
   and the log groups are there — a bad run fails in a second with one line, and leaves
   nothing on disk;
2. executes the template with papermill in a kernel of the *running* interpreter (no
   ``ipykernel install`` needed, whatever kernels are or are not installed), with the
   parameters injected as Python literals (data, never code);
3. writes everything into ``OUT/.<run-id>.tmp/`` and moves the folder into place whole as
   ``OUT/<run-id>/`` (``<template>-<UTC time>-<short id>``)::

       report.ipynb    the executed notebook
       report.html     readable without Jupyter (``hide_code`` drops the code cells)
       postmortem.md   the blameless postmortem draft
       findings.json   the findings, window, parameters and data quality (design.md)
       evidence/       every fetched frame (Parquet) + manifest.json

   Every text written is masked (:mod:`incidentkit.masking`), the notebook's saves while it
   runs too (:mod:`incidentkit.run.notebook_io`); folders are ``0700``, files ``0600``. When a cell fails, the executed part of the notebook (error shown) is
   kept as ``OUT/<run-id>.failed/`` and :class:`~incidentkit.errors.NotebookError` says
   which cell raised what.

Example
-------
>>> from incidentkit.run import runner
>>> result = runner.run("triage", {"sample": "cold-start-tail"}, out="runs")   # doctest: +SKIP
>>> result.path.name                                                          # doctest: +SKIP
'triage-20260301T031500Z-3f2a1c'
>>> result.findings.top.id                                                    # doctest: +SKIP
'cold-start-tail'
"""

from __future__ import annotations

import difflib
import functools
import logging
import math
import os
import secrets
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from .. import samples as _samples
from .._util.deferred_import import defer_rfc3987_syntax
from .._util.fmt import stamp
from ..errors import IncidentKitError, NotebookError, ParameterError
from ..evidence import EvidenceBundle
from ..findings.model import Finding, FindingList
from ..investigation import RESOURCE_PARAMETERS
from ..investigation import check_access as check_aws_access
from ..window import Window
from . import templates as _templates
from .notebook import execute, kernel_manager_class

__all__ = ["run", "RunResult", "prepare", "kernel_manager_class", "check_html_export", "make_out_dir",
           "DEFAULT_TIMEOUT", "FAILED_SUFFIX"]

log = logging.getLogger(__name__)

#: Seconds a single cell may run before the run is stopped.
DEFAULT_TIMEOUT = 1800
#: Suffix of the folder that keeps a failed run's notebook.
FAILED_SUFFIX = ".failed"


@dataclass
class RunResult:
    """What a run produced.

    Attributes
    ----------
    path:
        The run folder ``OUT/<run-id>/``.
    template:
        The template name.
    findings:
        The ranked findings (``FindingList``).
    result:
        The ``findings.json`` content.
    elapsed_s:
        Wall time of the run.
    """

    path: Path
    template: str
    run_id: str
    findings: Any
    result: dict[str, Any] = field(default_factory=dict)
    elapsed_s: float = 0.0

    @property
    def notebook(self) -> Path:
        """``report.ipynb``."""
        return self.path / "report.ipynb"

    @property
    def html(self) -> Path:
        """``report.html``."""
        return self.path / "report.html"

    @property
    def postmortem(self) -> Path:
        """``postmortem.md``."""
        return self.path / "postmortem.md"

    @property
    def findings_json(self) -> Path:
        """``findings.json``."""
        return self.path / "findings.json"

    @property
    def evidence(self) -> Path:
        """The ``evidence/`` bundle."""
        return self.path / "evidence"

    @property
    def inconclusive(self) -> str | None:
        """Why the primary evidence could not be read (the CLI exits 3), or None when it was read."""
        return (self.result.get("data_quality") or {}).get("inconclusive") or None


# -- preparing --------------------------------------------------------------------------------


def new_run_id(template: str) -> str:
    """``<template>-<UTC time>-<short id>``, e.g. ``triage-20260301T031500Z-3f2a1c``."""
    return f"{template}-{stamp()}-{secrets.token_hex(3)}"


@dataclass
class _Plan:
    template: Any
    parameters: dict[str, Any]
    explicit: dict[str, Any]
    source_bundle: Path | None
    context: dict[str, Any]
    source: str = "aws"


def prepare(
    template: str | os.PathLike[str],
    parameters: Mapping[str, Any] | None = None,
    *,
    evidence: str | os.PathLike[str] | None = None,
    offline: bool = False,
    region: str | None = None,
    profile: str | None = None,
    endpoint_url: str | None = None,
    check_access: bool = True,
) -> _Plan:
    """Validate a run before anything executes; return the parameters the notebook gets.

    Raises
    ------
    ParameterError, UnknownTemplateError, BadWindowError, EvidenceError
        A bad parameter, template, window or evidence bundle (nothing is written).
    NoCredentialsError, NotFoundError, AwsError
        When AWS is to be read and credentials or a log group are missing.
    """
    tpl = _templates.get(template)
    given = dict(parameters or {})
    for name in _templates.RUN_PARAMETERS:
        if name in given:
            raise ParameterError(f"give {name} as the --{name.replace('_', '-')} option, not as -p {name}=...")
    explicit = tpl.coerce(given)
    declared = set(tpl.parameter_names)
    slo = explicit.get("latency_slo_ms")
    if slo is not None and not (math.isfinite(slo) and slo > 0):  # checked here, before anything runs
        raise ParameterError(f"parameter latency_slo_ms: {slo!r} is not a latency objective; give a positive number of "
                             "milliseconds, e.g. -p latency_slo_ms=800")

    bundle_ctx: dict[str, Any] = {}
    source_bundle: Path | None = None
    if evidence is not None:
        bundle = EvidenceBundle.open(evidence)
        source_bundle = bundle.path
        bundle_ctx = bundle.context

    values = dict(explicit)
    has_window = explicit.get("start") is not None or explicit.get("end") is not None
    access = {"region": region, "profile": profile, "endpoint_url": endpoint_url}
    sample = _sample_of(explicit, has_window=has_window, from_bundle=source_bundle is not None, access=access)
    if "sample" in declared:
        values["sample"] = sample  # never the template's default: a sample is opened only when named

    if source_bundle is not None:
        # replay: the bundle's window and parameters, unless given again
        win = bundle_ctx.get("window") or {}
        base = bundle_ctx.get("baseline") or {}
        recorded = {
            "start": win.get("start"),
            "end": win.get("end"),
            "baseline_start": base.get("start"),
            "baseline_end": base.get("end"),
        }
        for k, v in recorded.items():
            if k in declared and values.get(k) is None and v is not None:
                values[k] = v
        if offline and win and explicit.get("start") is not None:
            want = _templates.Parameter("start", "time").coerce(win["start"]), _templates.Parameter("end", "time").coerce(win["end"])
            got = values.get("start"), values.get("end")
            if want != got:
                raise ParameterError(
                    f"the evidence bundle holds the window {want[0]} → {want[1]}, not {got[0]} → {got[1]}; "
                    "drop --start/--end to replay it"
                )
        for k, v in (bundle_ctx.get("parameters") or {}).items():
            if k in declared and k not in explicit and k not in _templates.SOURCE_PARAMETERS and k not in _templates.RUN_PARAMETERS:
                values[k] = tpl.parameter(k).coerce(v)
        values = {k: v for k, v in values.items() if k in declared}
    elif offline and not sample:
        raise ParameterError("--offline needs --evidence DIR (a recorded bundle) or -p sample=NAME")

    investigating_aws = not sample and source_bundle is None
    if investigating_aws:
        if "start" in declared and (values.get("start") is None or values.get("end") is None):
            raise ParameterError(_missing_window(explicit, access))
        missing = [p.name for p in tpl.parameters if p.required and values.get(p.name) in (None, "", [])]
        if missing:
            raise ParameterError(
                f"template {tpl.name} needs {', '.join('-p ' + m + '=...' for m in missing)} when investigating AWS"
            )
    if values.get("start") is not None and values.get("end") is not None:
        Window.parse(values["start"], values["end"], allow_future=not investigating_aws)
    if (values.get("baseline_start") is None) != (values.get("baseline_end") is None):
        raise ParameterError("give both --baseline-start and --baseline-end, or neither")
    if values.get("baseline_start") is not None:
        Window.parse(values["baseline_start"], values["baseline_end"], allow_future=not investigating_aws)

    run_values = {**access, "offline": bool(offline) or bool(sample)}  # a sample is always read offline
    for k, v in run_values.items():
        if k in declared:
            values[k] = v
    if investigating_aws and not offline and check_access:
        log_groups = values.get("log_groups") if "log_groups" in declared else None
        check_aws_access(log_groups=log_groups or None, region=region, profile=profile, endpoint_url=endpoint_url)
    return _Plan(tpl, values, explicit, source_bundle, bundle_ctx, _source(sample, source_bundle, bundle_ctx))


def _sample_of(explicit: Mapping[str, Any], *, has_window: bool, from_bundle: bool, access: Mapping[str, Any]) -> str | None:
    """The bundled sample a run opens: only one named with ``-p sample=NAME``, never a template's default.

    A sample is read offline and reads nothing of AWS, so a window, an evidence bundle, a
    resource or AWS access given beside it is bad usage, not silently ignored.
    """
    sample = explicit.get("sample")
    if not sample:
        return None
    if has_window:
        raise ParameterError("give either -p sample=NAME or --start/--end, not both")
    if from_bundle:
        raise ParameterError("give either -p sample=NAME or --evidence DIR, not both")
    aws = _aws_parameters(explicit, access)
    if aws:
        raise ParameterError(f"-p sample={sample} opens a bundled sample offline and reads nothing of AWS: drop "
                             f"{', '.join(aws)} (or drop the sample and give --start/--end to investigate AWS)")
    known = _samples.names()
    if sample in known:
        return str(sample)
    try:
        return str(_samples.find(sample).name)
    except Exception:
        close = difflib.get_close_matches(str(sample), known, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise ParameterError(f"no bundled sample {sample!r}; {hint}samples: {', '.join(known)}") from None


def _aws_parameters(explicit: Mapping[str, Any], access: Mapping[str, Any]) -> list[str]:
    """The AWS resources and access options given, as the user typed them (``-p log_groups``, ``--region``)."""
    given = [f"-p {k}" for k in RESOURCE_PARAMETERS if explicit.get(k) not in (None, "", [])]
    return given + [f"--{k.replace('_', '-')}" for k, v in access.items() if v]


def _missing_window(explicit: Mapping[str, Any], access: Mapping[str, Any]) -> str:
    """The one-line error of a run with no window (and no sample or evidence): what to add."""
    aws = _aws_parameters(explicit, access)
    alternatives = "-p sample=NAME to open a bundled sample offline, or --evidence DIR to replay a recorded run"
    if aws:
        return (f"--start and --end are required to investigate AWS ({', '.join(aws)} given): add the incident window, "
                f"e.g. --start -2h --end now (or {alternatives})")
    if explicit.get("start") is not None or explicit.get("end") is not None:
        return f"--start and --end are required: give both (or {alternatives})"
    return (f"--start and --end are required: nothing to investigate; give the incident window and the resources to read "
            f"(e.g. --start -2h --end now -p log_groups=/aws/lambda/api), or {alternatives}")


def _source(sample: str | None, bundle: Path | None, bundle_ctx: Mapping[str, Any]) -> str:
    """``findings.json``'s ``source``: ``sample:<name>``, ``evidence:<dir>`` or ``aws`` (design.md).

    A replayed bundle recorded from a sample is still that sample.
    """
    if sample:
        return f"sample:{sample}"
    if bundle is not None:
        return f"sample:{bundle_ctx['sample']}" if bundle_ctx.get("sample") else f"evidence:{bundle}"
    return "aws"


@functools.lru_cache(maxsize=1)
def check_html_export() -> None:
    """Fail before anything runs when nbconvert cannot find its HTML templates.

    nbconvert looks for ``nbconvert/templates/lab`` under Jupyter's data paths
    (``<prefix>/share/jupyter``, the user's, ``JUPYTER_PATH``); an install that put them
    elsewhere (``pip install --target``, a copied virtualenv) can run notebooks but not
    write ``report.html``.

    Raises
    ------
    IncidentKitError
        One line saying what to reinstall or set.
    """
    defer_rfc3987_syntax()  # nbconvert -> nbformat -> jsonschema would spend ~2 s building a parser no notebook uses
    from nbconvert import HTMLExporter

    try:
        HTMLExporter(template_name="lab")
    except ValueError as exc:
        if "template" not in str(exc):
            raise
        raise IncidentKitError(
            "nbconvert's HTML templates ('lab') are not where Jupyter looks for them, so report.html cannot be written; "
            "reinstall nbconvert into this Python (python -m pip install --force-reinstall nbconvert) or set JUPYTER_PATH "
            "to a share/jupyter folder that holds nbconvert/templates"
        ) from None


# -- running ----------------------------------------------------------------------------------


def run(
    template: str | os.PathLike[str],
    parameters: Mapping[str, Any] | None = None,
    *,
    out: str | os.PathLike[str] = "runs",
    evidence: str | os.PathLike[str] | None = None,
    offline: bool = False,
    region: str | None = None,
    profile: str | None = None,
    endpoint_url: str | None = None,
    hide_code: bool = False,
    timeout: float | None = DEFAULT_TIMEOUT,
    start_timeout: float = 120,
    progress: bool | None = None,
    run_id: str | None = None,
    context: Mapping[str, Any] | None = None,
) -> RunResult:
    """Execute ``template`` with ``parameters`` and write the run folder.

    Parameters
    ----------
    template:
        A template name (``incidentkit templates``) or a path to an ``.ipynb``.
    parameters:
        Template parameters by name; strings are converted to each parameter's type
        (times in any accepted form, lists comma-separated or JSON). ``start``/``end``/
        ``baseline_start``/``baseline_end`` give the window; ``sample`` opens a bundled
        sample incident instead — only when given: a template's default sample is what
        JupyterLab shows, never what a run falls back to (no window, sample or evidence is
        a :class:`~incidentkit.errors.ParameterError`).
    out:
        The folder the run folder is created in.
    evidence:
        An evidence bundle (or a run folder) to start from. With ``offline=True`` the run
        reads nothing else: the same bundle gives the same findings.
    offline:
        Make no AWS call; everything comes from ``evidence`` or the sample.
    region, profile, endpoint_url:
        AWS access (standard boto3 chain otherwise).
    hide_code:
        Leave the code cells out of ``report.html``.
    timeout:
        Seconds a single cell may run.
    progress:
        Show a progress bar over cells on stderr (default: when stderr is a terminal and
        ``INCIDENTKIT_PROGRESS`` is not ``0``).
    run_id:
        Name of the run folder (default ``<template>-<UTC time>-<short id>``).
    context:
        More facts about the run to record in the evidence manifest's context (e.g. the
        alarm that triggered it); names the kit uses itself (``window``, ``parameters``...)
        are refused.

    Returns
    -------
    RunResult

    Raises
    ------
    ParameterError, BadWindowError, EvidenceError, AwsError
        Before anything runs; no folder is written.
    NotebookError
        A cell failed; the partial notebook is kept in ``OUT/<run-id>.failed/``.
    """
    started = time.monotonic()
    extra = dict(context or {})
    reserved = sorted(set(extra) & _RESERVED_CONTEXT)
    if reserved:
        raise ParameterError(f"context names {', '.join(reserved)} are the kit's own; use other names")
    plan = prepare(
        template, parameters, evidence=evidence, offline=offline, region=region, profile=profile, endpoint_url=endpoint_url
    )
    tpl = plan.template
    out_dir = make_out_dir(Path(out))
    check_html_export()
    rid = run_id or new_run_id(tpl.name)
    final = out_dir / rid
    if final.exists() or (out_dir / (rid + FAILED_SUFFIX)).exists():
        raise ParameterError(f"run folder {final} already exists; choose another run id")
    tmp = out_dir / f".{rid}.tmp"
    try:
        tmp.mkdir(mode=0o700)
    except FileExistsError:
        raise ParameterError(f"a run with id {rid} is already running into {out_dir}; choose another run id") from None
    except OSError as exc:
        raise _write_error(exc, tmp) from None
    os.chmod(tmp, 0o700)
    try:
        result = execute(plan.template, plan.parameters, tmp, source_bundle=plan.source_bundle, source=plan.source,
                         hide_code=hide_code, timeout=timeout, start_timeout=start_timeout, progress=progress, context=extra)
    except NotebookError as exc:
        failed = out_dir / (rid + FAILED_SUFFIX)
        try:
            _move_into_place(tmp, failed)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        exc.context["notebook"] = str(failed / "report.ipynb")
        raise
    except OSError as exc:  # a full disk, a folder that went away: one line, nothing half-written left
        shutil.rmtree(tmp, ignore_errors=True)
        raise _write_error(exc, final) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    try:
        _move_into_place(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    findings = FindingList(
        [Finding.from_dict(f) for f in result.get("findings", [])],
        errors=result.get("data_quality", {}).get("detector_errors", {}),
    )
    elapsed = time.monotonic() - started
    log.info("run %s finished in %.1f s", rid, elapsed)
    return RunResult(path=final, template=tpl.name, run_id=rid, findings=findings, result=result, elapsed_s=elapsed)


def make_out_dir(out_dir: Path) -> Path:
    """Create ``--out`` (``0700`` when new); a path that cannot be a folder is one line, bad usage.

    Example
    -------
    >>> make_out_dir(Path("/etc/passwd"))
    Traceback (most recent call last):
    incidentkit.errors.ParameterError: --out /etc/passwd is a file, not a folder; give a folder for the run folders
    """
    import errno as _errno

    if "\x00" in str(out_dir):
        raise ParameterError("--out holds a NUL character: give a folder name")
    try:
        if out_dir.is_symlink() and not out_dir.exists():
            raise ParameterError(f"--out {out_dir} is a symbolic link to {os.readlink(out_dir)}, which does not exist; "
                                 "create that folder or give another --out")
        if out_dir.exists() and not out_dir.is_dir():
            raise ParameterError(f"--out {out_dir} is a file, not a folder; give a folder for the run folders")
        out_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        if exc.errno in (_errno.ENOTDIR, _errno.EEXIST, _errno.ENAMETOOLONG, _errno.ELOOP):
            raise ParameterError(f"--out {out_dir} cannot be a folder: {exc.strerror}; give another --out") from None
        raise _write_error(exc, out_dir) from None
    return out_dir


def _write_error(exc: OSError, path: Path) -> IncidentKitError:
    reason = exc.strerror or str(exc)
    return IncidentKitError(f"could not write the run folder {path}: {reason}; free space or choose another --out", errno=exc.errno)


def _move_into_place(tmp: Path, dest: Path) -> None:
    """Rename the finished folder to its name (atomic); a folder already there is never replaced."""
    if dest.exists():
        raise ParameterError(f"run folder {dest} already exists (another run used the same run id)")
    try:
        os.rename(tmp, dest)
    except FileExistsError:
        raise ParameterError(f"run folder {dest} already exists (another run used the same run id)") from None
    except OSError as exc:
        import errno as _errno

        if exc.errno in (_errno.ENOTEMPTY, _errno.EEXIST):
            raise ParameterError(f"run folder {dest} already exists (another run used the same run id)") from None
        raise _write_error(exc, dest) from None


_RESERVED_CONTEXT = frozenset({"window", "baseline", "context", "region", "resources", "sample", "issues", "template",
                               "parameters", "health_frames"})
