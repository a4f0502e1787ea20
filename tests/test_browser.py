"""The guided notebook, run in a real JupyterLab driven by headless Chromium.

Starts a private JupyterLab on 127.0.0.1 (random token, temporary root holding a copy of
``notebooks/explore.ipynb``), opens the notebook, runs every cell from the Run menu,
waits for every execution count and an idle kernel, then checks what a user sees: no
error or warning output, the investigation, the change timeline, the finding's card and
the plots rendered. Screenshots go to ``test-artifacts/``.

Needs Debian's Chromium at ``/usr/bin/chromium`` and the ``playwright`` package (the
Python driver only: no browser is ever downloaded); skipped without them. Every request
the page makes outside 127.0.0.1 is blocked and reported.
"""

from __future__ import annotations

import os
import re
import urllib.parse
from pathlib import Path

import pytest

from _helpers.browser import progress_notebook
from _helpers.browser.lab import (CHROMIUM, CHROMIUM_ARGS, JupyterLab, copy_notebook, run_all_cells, wait_for_kernel,
                         wait_until_executed)

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "explore.ipynb"
ARTIFACTS = Path(os.environ.get("INCIDENTKIT_TEST_ARTIFACTS", ROOT / "test-artifacts"))


def _playwright():
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("the playwright package is not installed (pip install -e '.[test]')")
    return sync_playwright


def _failure_shot(browser, name: str) -> None:
    """Save what the page showed when a check failed (test-artifacts/<name>-failure.png)."""
    try:
        for context in browser.contexts:
            for page in context.pages:
                page.screenshot(path=str(ARTIFACTS / f"{name}-failure.png"))
    except Exception:  # the screenshot is a courtesy; the failure stands without it
        pass


def _local_page(browser, outside: list[str]):
    """A page whose requests outside 127.0.0.1 are blocked and listed in ``outside``."""
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, device_scale_factor=1)

    def only_local(route):
        host = urllib.parse.urlsplit(route.request.url).hostname
        if host in ("127.0.0.1", "localhost") or route.request.url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", only_local)
    return context.new_page()


def test_explore_notebook_runs_in_jupyterlab(tmp_path):
    sync_playwright = _playwright()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    copy_notebook(NOTEBOOK, tmp_path / "root")
    outside: list[str] = []

    with JupyterLab(tmp_path / "root", tmp_path / "home") as lab, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = _local_page(browser, outside)
            page_errors: list[str] = []
            page.on("pageerror", lambda exc: page_errors.append(str(exc)))
            page.goto(f"{lab.url}/lab/tree/explore.ipynb?token={lab.token}&reset", wait_until="domcontentloaded")
            page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=90_000)
            wait_for_kernel(page, lab)
            run_all_cells(page)
            state = wait_until_executed(page, lab)
            page.screenshot(path=str(ARTIFACTS / "explore-top.png"))

            # -- no error, no warning, no traceback in any output --------------------------------------
            stderr = page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')
            texts = [stderr.nth(i).inner_text() for i in range(stderr.count())]
            assert not texts, f"error/warning output in the notebook: {texts}"
            outputs = page.locator(".jp-OutputArea-output").all_inner_texts()
            assert not [t for t in outputs if "Traceback" in t], "a traceback was rendered"
            assert state["cells"] == state["done"] >= 10

            # -- what a first-time user must see ----------------------------------------------------
            inv_view = page.locator(".ik-investigation")
            assert inv_view.count() == 1 and "cold-start-tail" in inv_view.inner_text()
            card = page.locator("#finding-cold-start-tail").last  # one finding: its card (an index only for several)
            card.scroll_into_view_if_needed()
            assert card.is_visible()
            assert "Remediation" in card.inner_text() and "Evidence" in card.inner_text()
            page.locator(".ik-findings-view").last.screenshot(path=str(ARTIFACTS / "explore-findings.png"))

            timeline = page.locator("table.ik-timeline-table")
            assert timeline.count() == 1 and timeline.locator("tr.ik-change-row").count() >= 1

            images = page.locator(".jp-OutputArea-output img")
            assert images.count() >= 2, "the percentile and version-share plots are not rendered"
            for i in range(images.count()):
                img = images.nth(i)
                img.scroll_into_view_if_needed()
                width = img.evaluate("el => el.complete ? el.naturalWidth : 0")
                assert width > 400, f"plot {i} did not load (naturalWidth={width})"
            first_plot = images.first
            first_plot.scroll_into_view_if_needed()
            first_plot.screenshot(path=str(ARTIFACTS / "explore-plot.png"))
            page.locator(".ik-timeline").scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / "explore-timeline.png"))

            # execution counts are consecutive: every cell ran once, in order, in this session
            counts = [int(m.group(1)) for m in (re.search(r"\[(\d+)\]", s) for s in state["prompts"]) if m]
            assert counts == list(range(counts[0], counts[0] + len(counts)))
            assert not page_errors, f"JavaScript errors in the page: {page_errors}"
        except BaseException:
            _failure_shot(browser, "explore")
            raise
        finally:
            browser.close()
    assert not outside, f"the page tried to reach the network: {outside[:10]}"


def test_a_long_fetch_shows_a_progress_widget_and_the_stop_button_keeps_what_was_fetched(tmp_path):
    """tqdm's auto mode draws a widget in JupyterLab; the kernel's stop button ends the fetch, not the evidence."""
    sync_playwright = _playwright()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (tmp_path / "root").mkdir()
    progress_notebook.write(tmp_path / "root" / "progress.ipynb")
    outside: list[str] = []
    total = progress_notebook.PAGE * progress_notebook.PAGES

    with JupyterLab(tmp_path / "root", tmp_path / "home") as lab, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = _local_page(browser, outside)
            page.goto(f"{lab.url}/lab/tree/progress.ipynb?token={lab.token}&reset", wait_until="domcontentloaded")
            page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=90_000)
            wait_for_kernel(page, lab)
            run_all_cells(page)
            bar = page.locator(".jp-OutputArea-output .jupyter-widgets.widget-hprogress")
            bar.first.wait_for(state="visible", timeout=60_000)  # a widget, not text on stderr
            label = page.locator(".jp-OutputArea-output .widget-html-content").filter(has_text="events/s")
            page.wait_for_function(
                "() => [...document.querySelectorAll('.jp-OutputArea-output .widget-html-content')]"
                ".some(e => /\\d+(\\.\\d+)?k?\\/\\?/.test(e.textContent) && !/^0\\//.test(e.textContent))",
                timeout=60_000,
            )
            page.screenshot(path=str(ARTIFACTS / "progress-running.png"))
            page.locator('jp-button[data-command="notebook:interrupt-kernel"]').click()  # the stop button
            wait_until_executed(page, lab, timeout=120)
            page.screenshot(path=str(ARTIFACTS / "progress-stopped.png"))

            outputs = page.locator(".jp-Cell.jp-CodeCell").nth(2).locator(".jp-OutputArea-output").all_inner_texts()
            kept = [t for t in outputs if t.startswith("kept ")]
            assert kept, f"the cell after the fetch did not run: {outputs}"
            n = int(kept[0].split()[1])
            assert 0 < n < total and "complete=False" in kept[0] and "interrupted=True" in kept[0]
            stderr = page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]').all_inner_texts()
            assert any("interrupted by user" in t and "IncompleteDataWarning" in t for t in stderr), stderr
            assert not [t for t in stderr if "Traceback" in t or "KeyboardInterrupt" in t], stderr
            assert label.count() >= 1  # the bar says how many events came and how fast
        except BaseException:
            _failure_shot(browser, "progress")
            raise
        finally:
            browser.close()
    assert not outside, f"the page tried to reach the network: {outside[:10]}"
