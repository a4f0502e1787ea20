"""The masking rules of incidentkit before issue 13 (commit c4b051b), kept for benchmarks/bench_ingest.py only.

bench_ingest.py times ``mask_frame`` of this module against ``incidentkit.masking.mask_frame`` on the same
parsed frame, in the same process (the "before" and "after" of the masking row). Not imported by the package.

Original docstring: mask secrets in log text before anything is written.

Logs are full of credentials: JWTs in ``Authorization`` headers, AWS keys in stack
traces, passwords in connection URLs. incidentkit keeps raw text in memory (analyses may
need it) and masks it in everything it writes: evidence Parquet, notebook outputs, HTML,
Markdown and findings. A masked secret becomes ``[masked:<kind>]`` so the reader still
sees that a token was there.

Example
-------
>>> mask_text("GET /?token=abc123def456 Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig_abcdefgh")
'GET /?token=[masked:secret] Authorization: Bearer [masked:jwt]'
"""

from __future__ import annotations

import re
from typing import Any, Callable

import pandas as pd

__all__ = ["mask_text", "mask_series", "mask_frame", "mask_obj", "PATTERNS"]

_KEYS = (
    r"password|passwd|pwd|pass|secret|client_secret|api[_-]?key|apikey|x-api-key|access[_-]?token|"
    r"refresh[_-]?token|id[_-]?token|auth[_-]?token|token|session[_-]?token|aws_secret_access_key|"
    r"aws_session_token|secret[_-]?key|private[_-]?key|credentials?|sessionid|session_id|jsessionid|"
    r"phpsessid|connect\.sid|sid"
)


def _prose_after_token(m: "re.Match[str]") -> bool:
    """``token validation``: after the word *token* (not Bearer/Basic), a plain lower-case word
    with no digit and under 20 characters is prose, not a credential."""
    value = m.group(3)
    return m.group(1).lower() == "token" and len(value) < 20 and value.isalpha() and value.islower()


#: (kind, compiled pattern, replacement). Order matters: whole blocks and tokens before key=value.
PATTERNS: list[tuple[str, "re.Pattern[str]", Callable[["re.Match[str]"], str] | str]] = [
    (
        "private-key",
        re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)", re.S),
        "[masked:private-key]",
    ),
    ("jwt", re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"), "[masked:jwt]"),
    (
        "aws-access-key-id",
        re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Z0-9])"),
        "[masked:aws-access-key-id]",
    ),
    (
        "aws-session-token",
        re.compile(r"(?<![A-Za-z0-9/+])(?:IQoJ|FwoG|FQoG|AQoD)[A-Za-z0-9/+=]{40,}"),
        "[masked:aws-session-token]",
    ),
    (
        "bearer",
        re.compile(r"(?i)\b(bearer|basic|token)(\s+)(?!\[masked)([A-Za-z0-9._~+/=-]{8,})"),
        lambda m: m.group(0) if _prose_after_token(m) else f"{m.group(1)}{m.group(2)}[masked:{m.group(1).lower()}]",
    ),
    (
        "url-password",
        re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^:/\s@\"']*:)([^@\s/\"']+)(@)"),
        lambda m: f"{m.group(1)}[masked:password]{m.group(3)}",
    ),
    (
        "key-value",
        re.compile(
            r"(?i)(?<![A-Za-z0-9_])(" + _KEYS + r")(\\?\"?'?\s*(?:=|:)\s*\\?\"?'?)(?!\[masked)([^\s\"',;&}\]<>\\]{3,})"
        ),
        lambda m: f"{m.group(1)}{m.group(2)}[masked:secret]",
    ),
    (
        "aws-secret-key",
        re.compile(r"(?<![A-Za-z0-9/+=])(?=[A-Za-z0-9/+]*[A-Z])(?=[A-Za-z0-9/+]*[a-z])(?=[A-Za-z0-9/+]*[0-9])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])"),
        "[masked:aws-secret-key]",
    ),
]

# Cheap pre-check: a string with none of these substrings cannot hold a secret we mask.
# The last alternative is a 20-character run with a letter at one end: every 40-character
# run holding a letter contains one (so nothing is missed), while the all-digit ids CloudWatch
# gives every event (56 digits) do not match and skip the slow path.
_HINT = re.compile(
    r"(?i)eyJ|AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA|ABIA|ACCA|IQoJ|FwoG|FQoG|AQoD|bearer|basic|token|://|"
    r"PRIVATE KEY|pass|pwd|secret|key|credential|sid|session|"
    r"[A-Za-z][A-Za-z0-9/+]{19}|[A-Za-z0-9/+]{19}[A-Za-z]"
)


_AKID_HINT = re.compile(r"AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA|ABIA|ACCA")
_RUN40 = re.compile(r"[A-Za-z0-9/+]{40,}")


def _has_key_shaped_run(text: str) -> bool:
    """A run of 40+ base64 characters that is not all digits (an AWS secret key has letters)."""
    return any(not m.group().isdigit() for m in _RUN40.finditer(text))
_KEY_WORDS = ("pass", "pwd", "secret", "key", "token", "credential", "session", "sid")

#: Necessary conditions of each pattern: a cheap test on (text, text.lower()) that is false only
#: where the pattern cannot match.
_GATES: dict[str, Callable[[str, str], bool]] = {
    "private-key": lambda t, low: "PRIVATE KEY" in t,
    "jwt": lambda t, low: "eyJ" in t,
    "aws-access-key-id": lambda t, low: _AKID_HINT.search(t) is not None,
    "aws-session-token": lambda t, low: "IQoJ" in t or "FwoG" in t or "FQoG" in t or "AQoD" in t,
    "bearer": lambda t, low: "bearer" in low or "basic" in low or "token" in low,
    "url-password": lambda t, low: "://" in t and "@" in t,
    "key-value": lambda t, low: ("=" in t or ":" in t) and any(w in low for w in _KEY_WORDS),
    "aws-secret-key": lambda t, low: _has_key_shaped_run(t),
}


_HINT_WORDS = tuple(
    w.lower()
    for w in ("eyJ", "AKIA", "ASIA", "AGPA", "AIDA", "AROA", "ANPA", "ANVA", "AIPA", "ABIA", "ACCA", "IQoJ", "FwoG",
              "FQoG", "AQoD", "bearer", "basic", "token", "://", "PRIVATE KEY", "pass", "pwd", "secret", "key",
              "credential", "sid", "session")
)


def _maybe_secret(text: str) -> bool:
    """``_HINT.search(text)``, as plain substring tests (several times faster on long log lines)."""
    lower = text.lower()
    return any(w in lower for w in _HINT_WORDS) or _has_key_shaped_run(text)


def _mask_hinted(text: str) -> str:
    low = text.lower()
    for kind, pattern, repl in PATTERNS:
        gate = _GATES.get(kind)
        if gate is None or gate(text, low):
            new = pattern.sub(repl, text)
            if new != text:
                text, low = new, new.lower()
    return text


def mask_text(text: str) -> str:
    """Return ``text`` with every secret shape replaced by ``[masked:<kind>]``.

    Example
    -------
    >>> mask_text("postgres://app:hunter2@db:5432/x password=s3cr3t!")
    'postgres://app:[masked:password]@db:5432/x password=[masked:secret]'
    """
    if not text or not _maybe_secret(text):
        return text
    return _mask_hinted(text)  # each pattern runs only where it could match (same result, faster)


def mask_series(values: pd.Series) -> pd.Series:
    """Mask a text column; only rows that could hold a secret are touched."""
    if values.empty:
        return values
    s = values.astype("string")
    try:  # vectorised (RE2 in Arrow): the pre-check costs nothing on millions of lines
        hint = s.astype("string[pyarrow]").str.contains(_HINT.pattern, regex=True, na=False).astype(bool)
    except (ImportError, TypeError, ValueError, NotImplementedError):
        hint = s.str.contains(_HINT, regex=True, na=False)
    if not bool(hint.any()):
        return values
    out = s.copy()
    out[hint] = s[hint].map(_mask_hinted)
    return out.astype(values.dtype) if values.dtype != object else out.astype(object)


def mask_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of ``df`` with every text column masked (``attrs`` kept, masked too)."""
    out = df.copy()
    for col in out.columns:
        dtype = out[col].dtype
        if dtype == object or pd.api.types.is_string_dtype(dtype):
            out[col] = mask_series(out[col])
    out.attrs = mask_obj(dict(df.attrs))
    return out


def mask_obj(obj: Any) -> Any:
    """Mask every string inside a JSON-like object (dicts, lists, tuples)."""
    if isinstance(obj, str):
        return mask_text(obj)
    if isinstance(obj, dict):
        return {k: mask_obj(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(mask_obj(v) for v in obj)
    return obj
