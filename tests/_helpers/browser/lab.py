"""A private, offline JupyterLab server for a test, and helpers to drive it with Playwright.

The server listens on 127.0.0.1 with a random token, serves a temporary root folder, and
keeps its settings, workspaces, runtime files and IPython profile in temporary folders,
so a test neither reads nor changes the user's Jupyter setup. It makes no network call
of its own: no news feed, no update check, a read-only extension manager (no PyPI
queries), no language-server discovery.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
#: Chromium switches: headless in a container, and no background calls of its own.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-dev-shm-usage",
]

# JupyterLab user settings: every cell attached to the DOM (so the test sees every output),
# no news, no update check, no extension manager.
USER_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false", "checkForUpdates": False, "doNotDisturbMode": True,
    },
    "@jupyterlab/extensionmanager-extension/plugin.jupyterlab-settings": {"enabled": False},
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class JupyterLab:
    """``with JupyterLab(root) as lab:`` — a JupyterLab server on 127.0.0.1 for ``root``.

    Attributes
    ----------
    url:
        ``http://127.0.0.1:<port>``.
    token:
        The server's random token.
    log:
        The server's log file (stdout and stderr).
    """

    def __init__(self, root: Path, home: Path, *, start_timeout: float = 90.0) -> None:
        self.root, self.home = Path(root), Path(home)
        self.port = free_port()
        self.token = secrets.token_hex(24)
        self.url = f"http://127.0.0.1:{self.port}"
        self.start_timeout = start_timeout
        self.log = self.home / "jupyterlab.log"
        self.proc: subprocess.Popen | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> "JupyterLab":
        settings = self.home / "user-settings"
        for rel, values in USER_SETTINGS.items():
            path = settings / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values))
        config = self.home / "config"
        config.mkdir(parents=True, exist_ok=True)
        (config / "jupyter_server_config.json").write_text(
            json.dumps({"ServerApp": {"jpserver_extensions": {"jupyter_lsp": False}}})
        )
        # the user's environment, less the test suite's own switches (a notebook gets its defaults)
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("JUPYTER", "JPY_")) and k not in ("INCIDENTKIT_PROGRESS", "MPLBACKEND")}
        env.update(
            JUPYTER_CONFIG_DIR=str(config),
            JUPYTER_RUNTIME_DIR=str(self.home / "runtime"),
            JUPYTER_DATA_DIR=str(self.home / "data"),
            IPYTHONDIR=str(self.home / "ipython"),
            MPLCONFIGDIR=str(self.home / "matplotlib"),
            JUPYTER_PLATFORM_DIRS="1",
            PYTHONUNBUFFERED="1",
        )
        cmd = [
            sys.executable, "-m", "jupyterlab",
            "--no-browser",
            "--ServerApp.open_browser=False",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}",  # (ServerApp.token before jupyter_server 2)
            f"--ServerApp.root_dir={self.root}",
            "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.handlers.announcements.NeverCheckForUpdate",
            "--LabApp.extension_manager=readonly",
            f"--LabApp.user_settings_dir={settings}",
            f"--LabApp.workspaces_dir={self.home / 'workspaces'}",
        ]  # fmt: skip
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd.append("--allow-root")  # CI runs as root in a container
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=self.root,
                                         stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + self.start_timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"JupyterLab exited with {self.proc.returncode}:\n{self.log_text()[-3000:]}")
            try:
                self.api("GET", "/api/status")
                return self
            except (urllib.error.URLError, ConnectionError, OSError):
                if time.monotonic() > deadline:
                    self.__exit__(None, None, None)
                    raise RuntimeError(f"JupyterLab did not answer in {self.start_timeout:.0f} s:\n{self.log_text()[-3000:]}")
                time.sleep(0.3)

    def __exit__(self, *exc: Any) -> None:
        if self.proc is None:
            return
        try:
            for k in self.api("GET", "/api/kernels"):
                self.api("DELETE", f"/api/kernels/{k['id']}")
        except Exception:  # the server may already be gone; terminating it stops its kernels too
            pass
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)
        self.proc = None

    # -- the REST API --------------------------------------------------------------------------

    def api(self, method: str, path: str) -> Any:
        req = urllib.request.Request(f"{self.url}{path}", method=method,
                                     headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            body = resp.read()
        return json.loads(body) if body else None

    def kernels_idle(self) -> bool:
        try:
            kernels = self.api("GET", "/api/kernels")
        except (urllib.error.URLError, TimeoutError, ConnectionError):
            return False  # the server can answer 500 while a kernel is still starting: ask again
        return bool(kernels) and all(k.get("execution_state") == "idle" for k in kernels)

    def log_text(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""


def copy_notebook(src: Path, root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    dst = root / src.name
    shutil.copyfile(src, dst)
    return dst


# -- driving the page ----------------------------------------------------------------------------

CELL_STATE_JS = """
() => {
  const cells = [...document.querySelectorAll('.jp-Notebook .jp-Cell.jp-CodeCell')];
  const prompts = cells.map(c => (c.querySelector('.jp-InputArea-prompt') || {}).textContent || '');
  return {
    cells: cells.length,
    done: prompts.filter(p => /\\[\\d+\\]/.test(p)).length,
    running: prompts.filter(p => p.includes('*')).length,
    prompts: prompts,
  };
}
"""


def wait_for_kernel(page: Any, lab: JupyterLab, *, timeout: float = 90.0) -> None:
    """Wait until the notebook's kernel is started and idle (server side and in the status bar)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = page.locator(".jp-StatusBar-Widget").all_inner_texts()
        if lab.kernels_idle() and any("Idle" in s for s in status):
            return
        page.wait_for_timeout(300)
    raise AssertionError(f"the kernel did not start in {timeout:.0f} s; server log:\n{lab.log_text()[-2000:]}")


def run_all_cells(page: Any, *, attempts: int = 3) -> None:
    """Run ▸ Run All Cells, through the menu bar as a user would (retried if the menu was not ready)."""
    for _ in range(attempts):
        page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
        page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
        for _ in range(40):
            state = page.evaluate(CELL_STATE_JS)
            if state["done"] or state["running"]:
                return
            page.wait_for_timeout(250)
        page.keyboard.press("Escape")
    raise AssertionError("Run All Cells did not start any cell")


def wait_until_executed(page: Any, lab: JupyterLab, *, timeout: float = 240.0) -> dict[str, Any]:
    """Wait until every code cell has an execution count and the kernel is idle."""
    deadline = time.monotonic() + timeout
    state: dict[str, Any] = {}
    while time.monotonic() < deadline:
        state = page.evaluate(CELL_STATE_JS)
        if state["cells"] and state["done"] == state["cells"] and not state["running"] and lab.kernels_idle():
            return state
        page.wait_for_timeout(500)
    raise AssertionError(f"the notebook did not finish in {timeout:.0f} s: {state}")
