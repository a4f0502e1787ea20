"""The offline demo: investigate every bundled sample incident, in parallel, and say what was found.

``incidentkit demo`` runs the ``triage`` template against each sample of
:mod:`incidentkit.samples` (every incident of the catalogue plus healthy windows), with no
AWS access and no credentials, in worker processes (``jobs``, default: the CPU count up to
4). Each run is a normal run folder; an ``index.html`` beside them links every report with
its top finding and whether it is the finding the sample is known for.

Example
-------
>>> from incidentkit.run import demo
>>> results = demo.run_demo("demo-out", jobs=2)            # doctest: +SKIP
>>> all(r.ok for r in results)                              # doctest: +SKIP
True
"""

from __future__ import annotations

import html as _html
import multiprocessing
import os
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from .. import samples
from .._util.fmt import stamp
from .._util.severity import SEVERITIES
from ..errors import IncidentKitError, ParameterError
from ..render.files import write_text
from ..render.theme import SEVERITY_COLORS
from . import runner
from .runner import make_out_dir

__all__ = ["DemoResult", "run_demo", "default_jobs", "format_line", "write_index", "MATCH_SEVERITIES"]

#: A healthy sample passes when no finding is at least this severe.
MATCH_SEVERITIES = SEVERITIES[: SEVERITIES.index("medium") + 1]


@dataclass
class DemoResult:
    """One sample's run.

    Attributes
    ----------
    sample:
        The sample name.
    expected:
        The finding id the sample is known for (``None``: a healthy window).
    path:
        The run folder (``None`` when the run failed before writing one).
    top:
        The top finding as a dict (``None`` when there is none).
    findings:
        Ids of every finding, ranked.
    error:
        One line when the run failed.
    misses:
        For a sample beyond the catalogue, what its generic finding got wrong (onset, signature,
        concentration; :func:`incidentkit.samples.misses`).
    """

    sample: str
    expected: str | None
    title: str = ""
    path: str | None = None
    top: dict[str, Any] | None = None
    findings: list[str] = field(default_factory=list)
    severities: list[str] = field(default_factory=list)
    error: str | None = None
    elapsed_s: float = 0.0
    misses: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """The run worked and found what the sample is known for (healthy: nothing serious)."""
        if self.error:
            return False
        if self.expected is None:
            return not any(s in MATCH_SEVERITIES for s in self.severities)
        return bool(self.top) and self.top.get("id") == self.expected and not self.misses


def default_jobs() -> int:
    """Worker processes: the CPUs this process may use, at most 4."""
    try:
        cpus = len(os.sched_getaffinity(0))  # type: ignore[attr-defined]
    except AttributeError:
        cpus = os.cpu_count() or 1
    return max(1, min(4, cpus))


def _one(sample: str, out: str, hide_code: bool, expected: str | None, title: str) -> DemoResult:
    """Run triage on one sample (in a worker process)."""
    os.environ.setdefault("INCIDENTKIT_PROGRESS", "0")
    os.environ.setdefault("MPLBACKEND", "Agg")
    started = time.monotonic()
    res = DemoResult(sample=sample, expected=expected, title=title)
    try:
        r = runner.run("triage", {"sample": sample}, out=out, offline=True, hide_code=hide_code, run_id=sample, progress=False)
    except IncidentKitError as exc:
        res.error = str(exc)
        failed = Path(out) / (sample + runner.FAILED_SUFFIX)
        res.path = str(failed) if failed.exists() else None
    except Exception as exc:  # a bug: report it for this sample, keep the others going
        res.error = f"{type(exc).__name__}: {exc}"
    else:
        res.path = str(r.path)
        items = r.result.get("findings", [])
        res.top = items[0] if items else None
        res.findings = [f["id"] for f in items]
        res.severities = [f["severity"] for f in items]
        res.misses = samples.misses(sample, res.top) if expected else []
    res.elapsed_s = time.monotonic() - started
    return res


def run_demo(
    out: str | os.PathLike[str] = "incidentkit-demo",
    *,
    jobs: int | None = None,
    names: Sequence[str] | None = None,
    hide_code: bool = False,
    on_result: Callable[[DemoResult], None] | None = None,
) -> tuple[Path, list[DemoResult]]:
    """Investigate the bundled samples offline, ``jobs`` at a time.

    Parameters
    ----------
    out:
        Parent folder; the demo writes ``OUT/demo-<UTC time>/<sample>/`` run folders.
    jobs:
        Worker processes (default :func:`default_jobs`).
    names:
        Only these samples (default: all, incidents first).
    hide_code:
        Reports without code cells.
    on_result:
        Called in the parent process as each sample finishes (for progress output).

    Returns
    -------
    (Path, list[DemoResult])
        The demo folder and one result per sample, in sample order.
    """
    import pandas as pd

    wanted = list(names) if names else samples.names()
    known = samples.names()
    unknown = [n for n in wanted if n not in known]
    if unknown:
        raise ParameterError(f"no bundled sample {unknown[0]!r}; samples: {', '.join(known)}")
    cat = samples.catalog()
    expected: dict[str, tuple[str | None, str]] = {}
    for row in cat.itertuples(index=False):
        fid = None if pd.isna(row.finding_id) else str(row.finding_id)
        expected[str(row.name)] = (fid, str(row.title))
    folder = make_out_dir(Path(out)) / f"demo-{stamp()}"
    folder.mkdir(mode=0o700)
    n_jobs = max(1, int(jobs or default_jobs()))
    results: dict[str, DemoResult] = {}
    if n_jobs == 1 or len(wanted) == 1:
        for n in wanted:
            r = _one(n, str(folder), hide_code, *expected[n])
            results[n] = r
            if on_result:
                on_result(r)
    else:
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=min(n_jobs, len(wanted)), mp_context=ctx) as pool:
            pending = {pool.submit(_one, n, str(folder), hide_code, *expected[n]): n for n in wanted}
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    n = pending.pop(fut)
                    try:
                        r = fut.result()
                    except Exception as exc:  # the worker process died
                        r = DemoResult(sample=n, expected=expected[n][0], title=expected[n][1], error=f"{type(exc).__name__}: {exc}")
                    results[n] = r
                    if on_result:
                        on_result(r)
    ordered = [results[n] for n in wanted]
    write_index(folder, ordered)
    return folder, ordered


def format_line(r: DemoResult, *, root: Path | None = None) -> str:
    """Two lines for a terminal: verdict, sample and top finding; then where the report is.

    Example
    -------
    >>> r = DemoResult("cold-start-tail", "cold-start-tail", path="out/cold-start-tail", elapsed_s=9.5,
    ...                top={"id": "cold-start-tail", "severity": "high", "title": "Cold starts make the P99"})
    >>> print(format_line(r))
    ok    cold-start-tail → cold-start-tail [HIGH] Cold starts make the P99
          out/cold-start-tail/report.html  (9.5 s)
    """
    mark = "ok  " if r.ok else "FAIL"
    if r.error:
        what = f"error: {r.error}"
    elif r.top:
        what = f"{r.top['id']} [{str(r.top['severity']).upper()}] {r.top['title']}"
        if r.expected is None:
            what = f"healthy, nothing serious: {what}" if r.ok else f"a serious finding on a healthy window: {what}"
        elif r.misses and r.top.get("id") == r.expected:
            what += f"  ({'; '.join(r.misses)})"
        elif not r.ok:
            what += f"  (expected {r.expected})"
    else:
        what = "healthy: no finding" if r.expected is None else f"no finding (expected {r.expected})"
    where = ""
    if r.path:
        p = Path(r.path) / ("report.html" if not r.error else "report.ipynb")
        try:
            where = str(p.relative_to(root)) if root else str(p)
        except ValueError:
            where = str(p)
    return f"{mark}  {r.sample} → {what}\n      {where}  ({r.elapsed_s:.1f} s)"


def write_index(folder: Path, results: Sequence[DemoResult]) -> Path:
    """Write ``index.html`` linking every report with its top finding."""
    rows = []
    for r in results:
        if r.top:
            bg = SEVERITY_COLORS.get(r.top.get("severity", "info"), SEVERITY_COLORS["info"])[0]
            top = (
                f'<span style="background:{bg};color:#fff;border-radius:4px;padding:1px 6px;font-size:12px">'
                f'{_html.escape(r.top["severity"].upper())}</span> <code>{_html.escape(r.top["id"])}</code> '
                f"{_html.escape(r.top.get('title', ''))}"
            )
        elif r.error:
            top = f'<span style="color:#b91c1c">{_html.escape(r.error)}</span>'
        else:
            top = "no finding"
        link = ""
        if r.path:
            rel = Path(r.path).name + ("/report.html" if not r.error else "/report.ipynb")
            link = f'<a href="{_html.escape(rel)}">report</a>'
            if not r.error:
                link += f' · <a href="{_html.escape(Path(r.path).name)}/postmortem.md">postmortem</a>'
        verdict = "✔" if r.ok else "✘"
        color = "#15803d" if r.ok else "#b91c1c"
        expect = f"<code>{_html.escape(r.expected)}</code>" if r.expected else "healthy: nothing serious"
        rows.append(
            f"<tr><td style='color:{color};font-weight:700'>{verdict}</td><td><b>{_html.escape(r.sample)}</b><br>"
            f"<span style='color:#64748b'>{_html.escape(r.title)}</span></td><td>{expect}</td><td>{top}</td><td>{link}</td></tr>"
        )
    ok = sum(r.ok for r in results)
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>incidentkit demo</title></head>"
        "<body style='font-family:system-ui,sans-serif;margin:24px'>"
        f"<h1>incidentkit demo</h1><p>{ok} of {len(results)} sample investigations found what each sample is known for.</p>"
        "<table cellpadding='6' style='border-collapse:collapse'><tr style='text-align:left'><th></th><th>sample</th>"
        f"<th>expected</th><th>top finding</th><th></th></tr>{''.join(rows)}</table></body></html>"
    )
    path = folder / "index.html"
    write_text(path, page)
    return path
