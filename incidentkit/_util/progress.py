"""When to show a progress bar: one rule for every fetcher.

A bar is shown when asked (``progress=True``), never when ``INCIDENTKIT_PROGRESS=0``,
and otherwise when stderr is a terminal or the code runs in a Jupyter kernel (where
``tqdm.auto`` draws a widget). Bars go to stderr and never into reports.
"""

from __future__ import annotations

import os
import sys

__all__ = ["progress_enabled"]


def progress_enabled(progress: bool | None = None) -> bool:
    """Whether to show a progress bar.

    Example
    -------
    >>> progress_enabled(False), progress_enabled(True)
    (False, True)
    """
    if progress is not None:
        return bool(progress)
    if os.environ.get("INCIDENTKIT_PROGRESS", "").strip().lower() in ("0", "false", "no", "off"):
        return False
    try:
        if sys.stderr is not None and sys.stderr.isatty():
            return True
    except (AttributeError, ValueError):
        pass
    ipython = sys.modules.get("IPython")
    try:
        shell = ipython.get_ipython() if ipython is not None else None  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - any failure means "not a notebook"
        shell = None
    return shell is not None and hasattr(shell, "kernel")
