"""Cost of sanitising report.html: ``report.to_html`` with and without the nh3 pass, same notebook.

The notebook is built in-process from a bundled sample (no kernel, no papermill): the
outputs a triage report carries — the investigation view, the finding cards, formatted
tables of every requests analysis, the change timeline, the data-quality appendix and the
postmortem as Markdown — repeated ``--copies`` times to stand for a longer report.

Prints ``ratio: to_html with sanitising / without = <x>x`` (the target: at most 1.2x, the
sanitiser must not be what makes a report slow) and, for reference, the time of nbconvert's
own bleach-based ``SanitizeHTML`` preprocessor on the same notebook.

Usage::

    python benchmarks/bench_report.py --sample version-skew-errors --repeat 5
"""

from __future__ import annotations

import argparse
import copy
import os
import statistics
import time
from typing import Any, Callable

import nbformat

import incidentkit as ik
from incidentkit.render import display, files, markup, report
from incidentkit.analyses import compare, errors, latency


def _output(html: str | None = None, markdown: str | None = None) -> Any:
    data = {"text/plain": "…"}
    if html is not None:
        data["text/html"] = html
    if markdown is not None:
        data["text/markdown"] = markdown
    return nbformat.v4.new_output("display_data", data=data)


def build_notebook(sample: str, copies: int) -> Any:
    """A report-shaped notebook: the rich outputs of a triage run on ``sample``."""
    inv = ik.Investigation.sample(sample)
    findings = inv.findings()
    requests = inv.requests()
    baseline = inv.requests(window="baseline")
    result = report.publish(inv, findings, show=False)
    outputs = [
        _output(html=display.investigation_html(inv)),
        _output(html=display.findings_html(findings)),
        _output(html=display.timeline_html(inv.changes(), window=inv.window)),
        _output(html=report.table(latency.tail_attribution(requests, by=["cold_start", "route", "app_version"]))._repr_html_()),
        _output(html=report.table(errors.by_version(requests))._repr_html_()),
        _output(html=report.table(compare.compare(requests, baseline))._repr_html_()),
        _output(html=report.data_quality_html(report.data_quality(inv.bundle))),
        _output(markdown=report.postmortem_markdown(result, level=2, in_report=True)),
    ]
    cells = []
    for _ in range(copies):
        for out in outputs:
            cell = nbformat.v4.new_code_cell("x")
            cell.outputs = [copy.deepcopy(out)]
            cells.append(cell)
    return nbformat.v4.new_notebook(cells=cells)


def _median_time(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", default="version-skew-errors")
    parser.add_argument("--copies", type=int, default=3, help="the report's outputs this many times")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    nb = build_notebook(args.sample, args.copies)
    report.to_html(nb)  # imports and template loading out of the timings
    with_sanitising = _median_time(lambda: report.to_html(nb), args.repeat)
    original = files.sanitize_notebook
    files.sanitize_notebook = lambda n: n  # the same export without the second wall (to_html looks it up in files)
    try:
        without = _median_time(lambda: report.to_html(nb), args.repeat)
    finally:
        files.sanitize_notebook = original
    masked = report.mask_notebook(nb)
    nh3_alone = _median_time(lambda: markup.sanitize_notebook(masked), args.repeat)
    try:
        from nbconvert.preprocessors.sanitize import SanitizeHTML

        bleach = _median_time(lambda: SanitizeHTML().preprocess(copy.deepcopy(masked), {}), args.repeat)
        bleach_txt = f"{bleach * 1000:.1f} ms (HTML only; the Markdown is not rendered)"
    except ImportError:  # bleach is optional
        bleach_txt = "not installed"
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    ratio = with_sanitising / without
    print(f"notebook: {len(nb.cells)} outputs from sample {args.sample} x {args.copies}; load average {load:.1f}")
    print(f"to_html with sanitising {with_sanitising * 1000:.0f} ms, without {without * 1000:.0f} ms; "
          f"sanitize_notebook alone {nh3_alone * 1000:.1f} ms; nbconvert SanitizeHTML (bleach) {bleach_txt}")
    print(f"ratio: to_html with sanitising / without = {ratio:.2f}x  (target <= 1.2x)  {'OK' if ratio <= 1.2 else 'MISSED'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
