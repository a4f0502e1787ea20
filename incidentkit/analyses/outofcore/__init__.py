"""Analyses that need every row, over Parquet evidence larger than memory.

The in-memory analyses (:func:`incidentkit.analyses.latency.percentiles`,
:func:`incidentkit.analyses.errors.error_rate`, :func:`incidentkit.analyses.compare.compare`)
take a DataFrame. When a window holds tens of millions of events, the evidence bundle
holds them as Parquet and these functions compute **the same frames** from the files,
streaming record batches through pyarrow's Acero engine (``pyarrow.dataset`` scan →
filter → project → hash aggregate), never materialising the rows. Memory is bounded by
the scan's read-ahead plus one small state per output group; no dependency beyond
pyarrow.

=====================  ===========================================  ===========================
function               same frame as                                exactness
=====================  ===========================================  ===========================
:func:`percentiles`    ``analyses.latency.percentiles``             ``count``/``max`` exact;
                                                                    percentiles by t-digest
:func:`error_rate`     ``analyses.errors.error_rate``               exact (counts)
:func:`compare`        ``analyses.compare.compare``                 exact (counts, same tests)
=====================  ===========================================  ===========================

Percentiles are approximate: each (bin, group) keeps a t-digest (``pyarrow.compute``'s
``hash_tdigest``, ``delta`` centroids). The documented tolerance, checked by
tests/analyses/test_outofcore.py against the in-memory result on the same rows: a reported
percentile ``q`` lies between the exact percentiles at ``q - RANK_TOLERANCE`` and
``q + RANK_TOLERANCE`` of its bin (rank error, not value error: a tail percentile can
move by more in value where the tail is sparse). ``df.attrs["approximate"]`` says so.

Sources
-------
Every function takes ``source``: a Parquet file or folder, a list of files, a
``pyarrow.dataset.Dataset``, or an :class:`~incidentkit.evidence.EvidenceBundle` (its
frames of ``kind``, default ``"parsed"``, or the frames ``names``; each file's sha256 is
checked against the manifest first, as :meth:`EvidenceBundle.load` does). ``filter`` is
an optional ``pyarrow.compute`` expression selecting rows, e.g.
``pc.field("format") == "lambda_platform"``.

Example
-------
>>> import pandas as pd, tempfile, os
>>> from incidentkit.analyses import outofcore
>>> path = os.path.join(tempfile.mkdtemp(), "req.parquet")
>>> pd.DataFrame({"timestamp": pd.to_datetime(["2026-03-01T03:00:10Z", "2026-03-01T03:00:40Z",
...                                            "2026-03-01T03:02:05Z"]),
...               "latency_ms": [100.0, 300.0, 250.0], "status": [200, 503, 200]}).to_parquet(path)
>>> out = outofcore.percentiles(path, by="1min")
>>> out["count"].tolist(), out["max"].tolist()
([2, 0, 1], [300.0, nan, 250.0])
>>> outofcore.error_rate(path, by="1min")["n_5xx"].tolist()
[1.0, 0.0, 0.0]
"""

from .errors import error_rate
from .incident_vs_baseline import MISSING, OTHER, _Counter, compare  # noqa: F401 - tests count with _Counter
from .latency import RANK_TOLERANCE, TDIGEST_DELTA, percentiles
from .scan import SCAN_OPTIONS  # noqa: F401 - the scan's batch size and read-ahead, one place
from .sources import FrameFiles, dataset  # noqa: F401 - the bundle protocol dataset() reads

__all__ = ["dataset", "percentiles", "error_rate", "compare", "TDIGEST_DELTA", "RANK_TOLERANCE"]
