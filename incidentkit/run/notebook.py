"""Executing a template notebook with papermill: the kernel, the run, and the files it leaves.

:func:`execute` runs one prepared template in a run folder: it opens the folder's evidence
bundle (a copy of the replayed one, if any), executes the notebook with papermill in a kernel
of the running interpreter (:func:`kernel_manager_class`), every intermediate save masked
(:mod:`incidentkit.run.notebook_io`), and writes ``report.ipynb``, ``report.html``,
``postmortem.md`` and, last, ``findings.json`` (its presence means the run is complete). A
failing cell still leaves the masked notebook, its HTML and the kernel's masked stderr.

The checks before a run and the run folder's life (:func:`incidentkit.run.runner.run`) are in
:mod:`incidentkit.run.runner`.

Example
-------
>>> kernel_manager_class().__name__                                  # doctest: +SKIP
'CurrentPythonKernelManager'
"""

from __future__ import annotations

import functools
import logging
import os
import sys
from pathlib import Path
from typing import Any, Mapping

from .._util.deferred_import import defer_rfc3987_syntax
from ..errors import IncidentKitError, NotebookError
from ..evidence import EvidenceBundle, copy_bundle
from ..investigation import source_text
from ..masking import mask_text
from ..render.files import write_html, write_json, write_notebook, write_postmortem, write_text
from ..render.results import findings_document, read_results
from .notebook_io import StderrTail, masked_output_path
from .templates import RUN_PARAMETERS, Template

__all__ = ["execute", "kernel_manager_class"]

log = logging.getLogger(__name__)

#: Exceptions (by name: they come from nbclient, jupyter_client and asyncio) that mean the
#: notebook did not finish: the cell ran out of time, or the kernel died or never started.
_UNFINISHED = ("CellTimeoutError", "DeadKernelError", "TimeoutError", "RuntimeError")


@functools.lru_cache(maxsize=1)
def kernel_manager_class() -> type:
    """A jupyter_client kernel manager that always starts ``sys.executable``'s ipykernel.

    Papermill normally looks the notebook's kernel name up among installed kernelspecs;
    in a fresh virtualenv there may be none, or ``python3`` may point at another Python.
    This manager ignores the name and launches the interpreter running incidentkit, so the
    kernel sees exactly the packages the caller has.
    """
    from jupyter_client.kernelspec import KernelSpec
    from jupyter_client.manager import AsyncKernelManager

    class CurrentPythonKernelManager(AsyncKernelManager):
        """Start the kernel with the running interpreter (``sys.executable``).

        The kernel's sockets are encrypted with CurveZMQ keys made for this kernel when
        libzmq supports it (the kernel and its outputs hold production data).
        """

        #: Where the kernel's stderr goes (None: inherited): a pipe read into memory, set per run by a subclass.
        stderr_sink: StderrTail | None = None

        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            try:
                import zmq

                if zmq.has("curve"):
                    public, secret = zmq.curve_keypair()
                    self.curve_publickey, self.curve_secretkey = public, secret
            except Exception as exc:  # an old jupyter_client or libzmq: plain TCP on localhost
                log.debug("no CurveZMQ for the kernel: %s", exc)

        @property
        def kernel_spec(self) -> KernelSpec:  # type: ignore[override]
            if self._kernel_spec is None:
                self._kernel_spec = KernelSpec(  # no IPython history file: the cells' sources stay off the disk too
                    argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}", "--HistoryManager.enabled=False"],
                    display_name=f"Python {sys.version_info.major}.{sys.version_info.minor} (incidentkit)",
                    language="python",
                    env={"INCIDENTKIT_PROGRESS": "0", "PYDEVD_DISABLE_FILE_VALIDATION": "1"},
                    metadata={"debugger": False},
                )
            return self._kernel_spec

        async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
            if self.stderr_sink is not None and "stderr" not in kw:
                with self.stderr_sink.pipe() as err:  # the child keeps its own copy of the write end
                    kw["stderr"] = err
                    await super()._async_launch_kernel(kernel_cmd, **kw)
                return
            await super()._async_launch_kernel(kernel_cmd, **kw)

    return CurrentPythonKernelManager



def _progress_default() -> bool:
    if os.environ.get("INCIDENTKIT_PROGRESS", "1") == "0":
        return False
    return bool(getattr(sys.stderr, "isatty", lambda: False)())



def execute(template: Template, parameters: Mapping[str, Any], tmp: Path, *, source_bundle: Path | None, source: str,
            hide_code: bool, timeout: float | None, start_timeout: float, progress: bool | None,
            context: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Run ``template`` with ``parameters`` in the folder ``tmp`` and write the run's files there.

    Returns the ``findings.json`` content. Raises :class:`~incidentkit.errors.NotebookError`
    (with the cell and the masked error) when a cell fails or the notebook does not finish; the
    partly executed notebook, its HTML and the kernel's stderr are kept in ``tmp``.
    """
    params = dict(parameters)
    evidence_dir = _open_bundle(template, params, tmp, source_bundle, context)
    if "evidence" in template.parameter_names:
        params["evidence"] = "evidence"  # relative to the run folder: the kernel runs there
    nb = _run_notebook(template, params, tmp, hide_code=hide_code, timeout=timeout, start_timeout=start_timeout,
                       progress=progress)
    return _write_run_files(nb, template, parameters, tmp, evidence_dir, source=source, hide_code=hide_code)


def _open_bundle(template: Template, params: Mapping[str, Any], tmp: Path, source_bundle: Path | None,
                 context: Mapping[str, Any] | None) -> Path:
    """The run's evidence folder: a copy of the replayed bundle, if any, with the run's context."""
    evidence_dir = tmp / "evidence"
    if source_bundle is not None:
        copy_bundle(source_bundle, evidence_dir)
    bundle = EvidenceBundle(evidence_dir)
    bundle.set_context(
        template=template.name,
        parameters={k: v for k, v in params.items() if k not in RUN_PARAMETERS and v is not None},
        **dict(context or {}),
    )
    return evidence_dir


def _run_notebook(template: Template, params: Mapping[str, Any], tmp: Path, *, hide_code: bool, timeout: float | None,
                  start_timeout: float, progress: bool | None) -> Any:
    """Execute the notebook into ``tmp/report.ipynb`` (every save masked); on failure keep what ran and raise."""
    defer_rfc3987_syntax()  # papermill -> nbformat -> jsonschema: see incidentkit._util.deferred_import
    import papermill
    from papermill.exceptions import PapermillExecutionError

    notebook = tmp / "report.ipynb"
    kernel_stderr = StderrTail()  # in memory: only its masked copy is written, beside a failed notebook
    manager = type("RunKernelManager", (kernel_manager_class(),), {"stderr_sink": kernel_stderr})
    try:
        return papermill.execute_notebook(
            str(template.path),
            masked_output_path(notebook),  # every save papermill makes as the cells run is masked before it is written
            parameters=dict(params),
            request_save_on_cell_execute=True,  # a dying kernel still leaves the cells that ran
            progress_bar=_progress_default() if progress is None else progress,
            log_output=False,
            start_timeout=int(start_timeout),
            execution_timeout=timeout,
            kernel_manager_class=manager,
            # every cell's work is written when the cell ends (the bundle's files, the outputs): nothing is
            # left for the kernel to do, and a graceful shutdown costs ~0.8 s of waiting for it to exit
            shutdown_kernel="immediate",
            resources={"metadata": {"path": str(tmp)}},
        )
    except PapermillExecutionError as exc:
        _keep_failed(notebook, kernel_stderr, hide_code=hide_code)
        evalue = " ".join(str(exc.evalue).split())
        if len(evalue) > 300:
            evalue = evalue[:299] + "…"
        raise NotebookError(
            mask_text(f"cell {exc.cell_index} (In [{exc.exec_count}]) of template {template.name} raised {exc.ename}: {evalue}"),
            cell=exc.cell_index,
            ename=exc.ename,
        ) from None
    except IncidentKitError:
        raise
    except Exception as exc:
        if type(exc).__name__ not in _UNFINISHED:
            raise
        _keep_failed(notebook, kernel_stderr, hide_code=hide_code)
        text = mask_text(" ".join(str(exc).split()))
        raise NotebookError(mask_text(f"template {template.name} did not finish: {type(exc).__name__}: {text[:300]}")) from None


def _keep_failed(notebook: Path, kernel_stderr: StderrTail, *, hide_code: bool) -> None:
    """What a failed run keeps: the kernel's masked stderr, the notebook as far as it ran and its HTML."""
    import nbformat

    _keep_kernel_log(kernel_stderr, notebook.parent)
    if notebook.exists():
        nb = nbformat.read(str(notebook), as_version=4)
        write_notebook(nb, notebook)
        write_html(nb, notebook.parent / "report.html", hide_code=hide_code, failed=True)


def _write_run_files(nb: Any, template: Template, parameters: Mapping[str, Any], tmp: Path, evidence_dir: Path, *,
                     source: str, hide_code: bool) -> dict[str, Any]:
    """report.ipynb, report.html, postmortem.md and, last, findings.json from the executed notebook."""
    notebook = tmp / "report.ipynb"
    papermill_meta = nb.get("metadata", {}).get("papermill")
    if isinstance(papermill_meta, dict):
        papermill_meta["output_path"] = str(notebook)  # the file, not the masked-save scheme
    published = read_results(nb)
    result = findings_document(
        template=template.name,
        published=published,
        parameters={k: v for k, v in parameters.items() if k not in ("evidence",)},
        bundle=EvidenceBundle.open(evidence_dir),
        source=source,
    )
    _title(nb, template, result["source"])
    write_notebook(nb, notebook)
    write_html(nb, tmp / "report.html", hide_code=hide_code)
    write_postmortem(result, published, tmp / "postmortem.md")
    write_json(result, tmp / "findings.json")  # last: its presence means the run is complete
    return result


def _title(nb: Any, tpl: Any, source: str) -> None:
    """The report's title says when it is not about the user's AWS account: a sample, or a replay.

    The first Markdown heading of the executed notebook gets the source after it, and the
    HTML page title (``nb.metadata.title``) the template and the source.
    """
    said = source_text(source)
    nb.metadata["title"] = f"incidentkit {tpl.name}" + (f" — {said.replace('`', '')}" if said else "")
    if not said:
        return
    for cell in nb.cells:
        if cell.cell_type == "markdown" and str(cell.source).lstrip().startswith("# "):
            head, sep, rest = str(cell.source).lstrip().partition("\n")
            cell.source = f"{head} — {said}{sep}{rest}"
            return


def _keep_kernel_log(stderr: StderrTail, folder: Path) -> None:
    """Keep what the kernel wrote on stderr (masked) beside a failed notebook, when anything."""
    text = stderr.text()
    if text.strip():
        write_text(folder / "kernel-stderr.log", text)
