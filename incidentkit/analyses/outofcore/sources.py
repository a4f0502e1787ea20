"""Where the out-of-core analyses read from: Parquet files, folders, datasets or an evidence bundle's frames.

Example
-------
>>> import pandas as pd, tempfile, os
>>> path = os.path.join(tempfile.mkdtemp(), "req.parquet")
>>> pd.DataFrame({"latency_ms": [1.0, 2.0, 3.0]}).to_parquet(path)
>>> dataset(path).count_rows()
3
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Protocol, Sequence, runtime_checkable

from ...errors import EvidenceError, ParameterError

if TYPE_CHECKING:  # pragma: no cover
    import pyarrow.dataset as ds

__all__ = ["FrameFiles", "dataset"]


@runtime_checkable
class FrameFiles(Protocol):
    """What :func:`dataset` reads of an evidence bundle (an :class:`incidentkit.evidence.EvidenceBundle` is one):
    its frames by name or kind, each file checked against the manifest."""

    path: Path

    def names(self) -> list[str]: ...

    def find(self, kind: str) -> list[str]: ...

    def checked_file(self, name: str, *, verify: bool = True) -> Path: ...


def dataset(
    source: Any,
    *,
    names: Sequence[str] | None = None,
    kind: str = "parsed",
    verify: bool = True,
) -> "ds.Dataset":
    """A ``pyarrow.dataset.Dataset`` over Parquet evidence.

    Parameters
    ----------
    source:
        A Parquet file or folder, a list of files, a ``pyarrow.dataset.Dataset`` (returned
        as is), or an :class:`~incidentkit.evidence.EvidenceBundle`.
    names, kind:
        With a bundle: the frames ``names``, else every frame of ``kind``.
    verify:
        With a bundle: check each file's sha256 against the manifest first.

    Raises
    ------
    EvidenceError
        A missing or changed file, a bundle without such frames, or files that cannot be
        read as one dataset.

    Example
    -------
    >>> import tempfile, pandas as pd
    >>> from incidentkit.evidence import EvidenceBundle
    >>> b = EvidenceBundle(tempfile.mkdtemp())
    >>> with b.writer("parsed-api", kind="parsed") as w:
    ...     w.write(pd.DataFrame({"latency_ms": [1.0, 2.0]}))
    >>> dataset(b).count_rows()
    2
    """
    import pyarrow.dataset as pads

    if isinstance(source, pads.Dataset):
        return source
    if isinstance(source, FrameFiles):
        wanted = list(names) if names is not None else source.find(kind)
        if not wanted:
            raise EvidenceError(
                f"the evidence bundle holds no {kind!r} frames; it holds: {', '.join(source.names()) or 'nothing'}. "
                "Pass names=[...] to choose frames",
                path=str(source.path),
            )
        source = [str(source.checked_file(name, verify=verify)) for name in wanted]
    if isinstance(source, (str, os.PathLike)):
        if not Path(source).exists():
            raise EvidenceError(f"no Parquet file or folder at {source}", path=str(source))
        source = str(source)
    elif isinstance(source, Iterable):
        source = [str(s) for s in source]
        for s in source:
            if not Path(s).exists():
                raise EvidenceError(f"no Parquet file at {s}", path=s)
    else:
        raise ParameterError(
            f"source must be a Parquet path, a list of paths, a pyarrow Dataset or an EvidenceBundle, got {type(source).__name__}"
        )
    try:
        return pads.dataset(source, format="parquet")
    except Exception as exc:  # pyarrow raises several types for unreadable files
        raise EvidenceError(f"cannot read the Parquet evidence as one dataset: {exc}", path=str(source)[:300]) from exc
