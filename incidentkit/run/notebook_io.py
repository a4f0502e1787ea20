"""What a run writes while its notebook executes: masked before the first byte reaches the disk.

papermill saves the executing notebook after every cell (so a kernel that dies still leaves
the cells that ran), and a run killed at that moment used to leave those saves behind as
they were: raw log lines, keys and tokens in the run's hidden folder. Two pieces close that:

* :class:`MaskedNotebookFile` — a papermill I/O handler for the private scheme
  ``incidentkit-masked://``: the runner gives papermill ``incidentkit-masked://<path>`` as the
  output, and every save papermill makes (after each cell, the error markers, the last one)
  is masked (:func:`incidentkit.render.report.mask_notebook`) and then written atomically, ``0600``
  (a temporary file renamed over the old one: a kill leaves the previous masked save or the
  new one, never a half-written or an unmasked file);
* :class:`StderrTail` — the kernel's stderr goes to a pipe this process reads and keeps in
  memory (its last MiB); only its masked copy is ever written (``kernel-stderr.log`` beside a
  failed notebook).

Example
-------
>>> masked_output_path("/tmp/run/report.ipynb")
'incidentkit-masked:///tmp/run/report.ipynb'
"""

from __future__ import annotations

import json
import os
import threading
from typing import Any

from .. import evidence
from ..render.files import mask_notebook

__all__ = ["SCHEME", "MaskedNotebookFile", "masked_output_path", "StderrTail"]

#: The papermill I/O scheme whose writes are masked first.
SCHEME = "incidentkit-masked://"
_registered = threading.Lock()


class MaskedNotebookFile:
    """papermill I/O handler: notebooks written to ``incidentkit-masked://<path>`` are masked
    first, then written atomically to ``<path>`` with mode ``0600``."""

    @staticmethod
    def _path(path: str) -> str:
        return path[len(SCHEME) :] if path.startswith(SCHEME) else path

    @classmethod
    def write(cls, buf: str, path: str) -> None:
        real = cls._path(path)
        nb = json.loads(buf)  # papermill wrote and validated it: no second validation on every save
        meta = nb.get("metadata", {}).get("papermill")
        if isinstance(meta, dict) and meta.get("output_path") == path:
            meta["output_path"] = real  # the reader sees the file's path, not the scheme
        text = json.dumps(mask_notebook(nb), indent=1, sort_keys=True, ensure_ascii=False)  # nbformat's layout
        evidence.atomic_write_text(real, text + "\n", mode=0o600)

    @classmethod
    def read(cls, path: str) -> str:
        with open(cls._path(path), encoding="utf-8") as fh:
            return fh.read()

    @classmethod
    def listdir(cls, path: str) -> list[str]:
        return os.listdir(cls._path(path))

    @classmethod
    def pretty_path(cls, path: str) -> str:
        return cls._path(path)


def masked_output_path(path: str | os.PathLike[str]) -> str:
    """``path`` as the papermill output whose every save is masked (registers the handler once)."""
    from papermill.iorw import papermill_io

    with _registered:
        if not any(scheme == SCHEME for scheme, _handler in getattr(papermill_io, "_handlers", [])):
            papermill_io.register(SCHEME, MaskedNotebookFile)
    return SCHEME + os.fspath(path)


class StderrTail:
    """A kernel's stderr, read from a pipe and kept in memory (the last ``limit`` bytes).

    :meth:`pipe` gives the write end to hand to the kernel process (a new pipe each launch);
    :meth:`text` returns what the kernel wrote, once it closed its end or after ``wait``
    seconds. Nothing is written to disk here.
    """

    def __init__(self, limit: int = 1 << 20) -> None:
        self._limit = limit
        self._data = bytearray()
        self._lock = threading.Lock()
        self._readers: list[threading.Thread] = []

    def pipe(self) -> Any:
        """A new pipe's write end (a binary file object): give it to the child, then close it."""
        read_fd, write_fd = os.pipe()
        reader = threading.Thread(target=self._read, args=(read_fd,), name="kernel-stderr", daemon=True)
        reader.start()
        self._readers.append(reader)
        return os.fdopen(write_fd, "wb")

    def _read(self, fd: int) -> None:
        try:
            while True:
                chunk = os.read(fd, 65536)
                if not chunk:
                    return
                with self._lock:
                    self._data += chunk
                    if len(self._data) > self._limit:
                        del self._data[: len(self._data) - self._limit]
        except OSError:
            return
        finally:
            os.close(fd)

    def text(self, wait: float = 2.0) -> str:
        """What the kernel wrote on stderr (decoded, undecodable bytes replaced)."""
        for reader in self._readers:
            reader.join(timeout=wait)
        with self._lock:
            return self._data.decode("utf-8", errors="replace")
