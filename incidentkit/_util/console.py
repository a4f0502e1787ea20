"""Log records on the command line's stderr: one cleaned line each, never a traceback.

The libraries under a run (papermill, nbclient, asyncio, botocore) log through
:mod:`logging`; with no handler configured, Python's last-resort handler prints their
records raw — a multi-line message, an exception's traceback, text that may quote data.
The ``incidentkit`` command installs :class:`OneLineLogHandler` on the root logger instead:
each record at WARNING or above becomes ``incidentkit: <level>: <first line>``, passed
through the caller's cleaner (the kit's secret masking), and the traceback is dropped
(``INCIDENTKIT_DEBUG=1`` keeps Python's default). :func:`quiet_from_now` silences them all
once the command is interrupted: what the libraries say while their tasks are torn down
(``Task exception was never retrieved``, ``Kernel died``) is noise after ``interrupted``.

Example
-------
>>> import logging
>>> lines = []
>>> handler = OneLineLogHandler(lines.append, clean=str.upper)
>>> handler.handle(logging.makeLogRecord({"levelno": logging.ERROR, "levelname": "ERROR", "msg": "kernel died\\nTraceback ..."}))
True
>>> lines
['incidentkit: error: KERNEL DIED']
"""

from __future__ import annotations

import logging
from typing import Callable

__all__ = ["OneLineLogHandler", "install", "quiet_from_now"]


class OneLineLogHandler(logging.Handler):
    """Write each record as one line ``incidentkit: <level>: <message's first line>`` via ``write``.

    Parameters
    ----------
    write
        Called with each finished line (the CLI passes a stderr writer).
    clean
        Applied to the message before it is written (the CLI passes the secret masker).
    """

    def __init__(self, write: Callable[[str], None], *, clean: Callable[[str], str] = str,
                 level: int = logging.WARNING) -> None:
        super().__init__(level)
        self._write = write
        self._clean = clean

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a record whose arguments do not fit its format still says something
            message = str(record.msg)
        lines = [line for line in message.splitlines() if line.strip()]
        first = " ".join(lines[0].split()) if lines else "(empty log message)"
        try:
            self._write(f"incidentkit: {record.levelname.lower()}: {self._clean(first)}")
        except Exception:  # noqa: BLE001 - a closed stderr must not turn a log line into a crash
            self.handleError(record)


def install(write: Callable[[str], None], *, clean: Callable[[str], str] = str) -> OneLineLogHandler:
    """Put one :class:`OneLineLogHandler` on the root logger (replacing one installed before).

    Example
    -------
    >>> handler = install(print)
    >>> logging.getLogger("papermill").warning("Kernel died while waiting for execute reply.")
    incidentkit: warning: Kernel died while waiting for execute reply.
    >>> logging.getLogger().removeHandler(handler)
    """
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, OneLineLogHandler)]:
        root.removeHandler(old)
    handler = OneLineLogHandler(write, clean=clean)
    root.addHandler(handler)
    return handler


def quiet_from_now() -> None:
    """Silence every log record from here on (the command is exiting after an interrupt).

    Example
    -------
    >>> quiet_from_now(); logging.disable(logging.NOTSET)   # and back, for the example
    """
    logging.disable(logging.CRITICAL)
