"""Publish a finished run folder to S3 — the one write incidentkit ever makes.

S3 has no rename, and the kit's read-only guard allows ``s3:PutObject`` only (no copy,
no delete, no ACL), so "never a half-written report" is achieved by order: every file of
the run is uploaded under ``s3://bucket/prefix/<run-id>/`` first and the index of what
was uploaded, with each object's size and sha256, goes **last**. Its name says what the
run is:

* ``manifest.json`` (:data:`PUBLISHED_MANIFEST`) — a **complete** run: the folder held
  ``findings.json``, which the runner writes last. A reader (or the next alarm delivery,
  for idempotency) treats a run as present only when this object exists.
* ``failed.json`` (:data:`FAILED_MARKER`) — a **failed** run (``<run-id>.failed/``: the
  partially executed notebook and the evidence fetched so far), with the error. It never
  counts as a report.

Objects are encrypted server-side when asked (SSE-S3 or a KMS key).

Example
-------
>>> parse_s3_url("s3://reports/incidents/")
('reports', 'incidents/')
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
import os
from pathlib import Path
from typing import Any

from ..errors import ParameterError, from_botocore
from ..fetch import aws
from ..masking import mask_text

__all__ = ["parse_s3_url", "upload_run", "exists", "PUBLISHED_MANIFEST", "FAILED_MARKER"]

#: The last object of a complete run: its presence means the report is there, whole.
PUBLISHED_MANIFEST = "manifest.json"
#: The last object of a failed run's upload (never the complete run's marker).
FAILED_MARKER = "failed.json"
#: The file the runner writes last into a run folder: present only in a complete run.
_COMPLETE_RUN_FILE = "findings.json"


def parse_s3_url(url: str) -> tuple[str, str]:
    """Split ``s3://bucket/prefix`` into bucket and prefix (prefix ends with ``/`` or is empty)."""
    if not isinstance(url, str) or not url.startswith("s3://"):
        raise ParameterError(f"--out {url!r} is not an s3://bucket/prefix URL")
    bucket, _, prefix = url[5:].partition("/")
    if not bucket or "/" in bucket:
        raise ParameterError(f"--out {url!r} names no bucket; use s3://bucket/prefix")
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    return bucket, prefix


def _s3(url: str, session: Any, region: str | None, endpoint_url: str | None) -> Any:
    return aws.client("s3", session=session, region=region, endpoint_url=endpoint_url, allow_writes_to=url)


def exists(url: str, run_id: str, *, session: Any = None, region: str | None = None, endpoint_url: str | None = None) -> bool:
    """Whether a complete run (its manifest) is already published under ``url``."""
    from botocore.exceptions import BotoCoreError, ClientError

    bucket, prefix = parse_s3_url(url)
    s3 = _s3(url, session, region, endpoint_url)
    try:
        s3.head_object(Bucket=bucket, Key=f"{prefix}{run_id}/{PUBLISHED_MANIFEST}")
        return True
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return False
        raise from_botocore(exc, service="s3", bucket=bucket) from exc
    except BotoCoreError as exc:
        raise from_botocore(exc, service="s3", bucket=bucket) from exc


def upload_run(
    run_dir: str | os.PathLike[str],
    url: str,
    *,
    run_id: str | None = None,
    sse: str | None = None,
    kms_key_id: str | None = None,
    session: Any = None,
    region: str | None = None,
    endpoint_url: str | None = None,
    error: str | None = None,
) -> str:
    """Upload a run folder to ``url`` with its index last; return the run's S3 URL.

    A folder holding ``findings.json`` (written last by the runner) is a complete run: its
    index is ``manifest.json``. Any other folder (a failed run) gets ``failed.json``
    instead, with ``error``, so it can never pass for a report.

    Parameters
    ----------
    run_dir:
        A finished run folder (``report.ipynb``, ``report.html``, ``findings.json``, ``evidence/``...).
    url:
        ``s3://bucket/prefix``.
    run_id:
        Key under the prefix (default: the folder's name).
    sse:
        ``"AES256"`` (SSE-S3) or ``"aws:kms"``; ``kms_key_id`` implies ``aws:kms``.
    error:
        Why the run failed, recorded in ``failed.json`` (masked).

    Raises
    ------
    AccessDeniedError, NotFoundError, AwsError
        Mapped S3 errors, with the bucket named; nothing is reported as published then.
    """
    from botocore.exceptions import BotoCoreError, ClientError

    root = Path(run_dir)
    if not root.is_dir():
        raise ParameterError(f"run folder {root} does not exist")
    bucket, prefix = parse_s3_url(url)
    run_id = run_id or root.name
    if kms_key_id and sse in (None, "aws:kms"):
        sse = "aws:kms"
    if sse not in (None, "AES256", "aws:kms"):
        raise ParameterError(f"--sse {sse!r} is not one of AES256, aws:kms")
    extra: dict[str, Any] = {}
    if sse:
        extra["ServerSideEncryption"] = sse
    if kms_key_id:
        extra["SSEKMSKeyId"] = kms_key_id
    complete = (root / _COMPLETE_RUN_FILE).is_file()
    marker = PUBLISHED_MANIFEST if complete else FAILED_MARKER
    s3 = _s3(url, session, region, endpoint_url)
    markers = {root / PUBLISHED_MANIFEST, root / FAILED_MARKER}
    files = sorted(p for p in root.rglob("*") if p.is_file() and p not in markers)  # evidence/manifest.json goes too
    index = []
    try:
        for path in files:
            rel = path.relative_to(root).as_posix()
            body = path.read_bytes()
            ctype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            s3.put_object(Bucket=bucket, Key=f"{prefix}{run_id}/{rel}", Body=body, ContentType=ctype, **extra)
            index.append({"key": rel, "bytes": len(body), "sha256": hashlib.sha256(body).hexdigest()})
        local_manifest = root / PUBLISHED_MANIFEST
        manifest = json.loads(local_manifest.read_text()) if complete and local_manifest.exists() else {}
        manifest["published"] = {"objects": index, "encryption": sse}
        if not complete:
            manifest.update(run_id=run_id, complete=False, error=mask_text(" ".join(str(error or "the run failed").split())))
        s3.put_object(
            Bucket=bucket,
            Key=f"{prefix}{run_id}/{marker}",
            Body=json.dumps(manifest, indent=2).encode(),
            ContentType="application/json",
            **extra,
        )
    except (ClientError, BotoCoreError) as exc:
        raise from_botocore(exc, service="s3", bucket=bucket, key_prefix=f"{prefix}{run_id}/") from exc
    return f"s3://{bucket}/{prefix}{run_id}/"


#: The older name of :func:`upload_run` (``incidentkit.publish.publish``); the notebook side's
#: ``report.publish`` is another thing: it attaches results to the notebook's output.
publish = upload_run
