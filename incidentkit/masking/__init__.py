"""Mask secrets in text before anything is written.

Logs are full of credentials: JWTs in ``Authorization`` headers, AWS keys in stack traces,
passwords in connection URLs and environment dumps, tokens of every SaaS the service talks
to. incidentkit keeps raw text in memory (analyses may need it) and masks it in everything
it writes: evidence Parquet, notebook outputs (also while the notebook runs), HTML,
Markdown, findings.json, error lines and logs. A masked secret becomes ``[masked:<kind>]``
so the reader still sees that a secret was there and of what kind.

What counts as a secret is :mod:`incidentkit.masking._rules` (the families of gitleaks and
detect-secrets: cloud keys, VCS and chat tokens, payment keys, private keys, JWTs,
presigned-URL signatures, Authorization schemes, cookies, keyword-named values in any case
style and any nesting, Luhn-checked card numbers).

How it stays fast: every family has a gate, a necessary condition of its rules. Over many
texts at once (a column, the strings of a notebook) the gates run vectorised in RE2
(pyarrow): the union first over everything, then each family's gate over the few texts
the union matched, and only then the family's rules, in Python, on those texts. A column
with few distinct values is masked once per value; a long text line by line.

Example
-------
>>> mask_text("GET /?token=abc123def456 Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig_abcdefgh")
'GET /?token=[masked:secret] Authorization: Bearer [masked:jwt]'
>>> mask_text('{"DB_PASSWORD": "pa/ss;word", "LOG_LEVEL": "info"}')
'{"DB_PASSWORD": "[masked:secret]", "LOG_LEVEL": "info"}'
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import importlib.resources
import re
import sys
import threading
from dataclasses import dataclass
from typing import Any, Iterator, Sequence

import numpy as np
import pandas as pd

from . import _rules as rules
from ._values import ascii_lower, is_lines, mask_keyword_values, mask_object

__all__ = ["mask_text", "mask_texts", "mask_series", "mask_frame", "mask_obj", "rules_fingerprint", "GATE", "FAMILIES"]

#: The union of the families' gates: a text it does not match holds no secret the kit masks.
GATE = rules.GATE
#: The rule families, in the order they are applied.
FAMILIES = tuple(rules.FAMILY_GATES)

_FLAGS = re.ASCII  # the classes mean what they mean to RE2: each gate stays a superset of its rules


@dataclass(frozen=True)
class _Rules:
    family_gates: dict[str, re.Pattern[str]]
    private_key: re.Pattern[str]
    jwt: re.Pattern[str]
    tokens: tuple[tuple[str, tuple[str, ...], re.Pattern[str]], ...]
    aws_id: re.Pattern[str]
    aws_session: re.Pattern[str]
    aws_secret: re.Pattern[str]
    url_password: re.Pattern[str]
    scheme: re.Pattern[str]
    card: re.Pattern[str]


@functools.lru_cache(maxsize=1)
def _rules() -> _Rules:
    """The compiled rules (built on first use, not at import)."""
    return _Rules(
        family_gates={k: re.compile(v, _FLAGS) for k, v in rules.FAMILY_GATES.items()},
        private_key=re.compile(
            r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----.*?(?:-----END[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|\Z)"
            r"|PuTTY-User-Key-File-[0-9]+:.*\Z",
            _FLAGS | re.S,
        ),
        jwt=re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*", _FLAGS),
        tokens=tuple((kind, literals, re.compile(pattern, _FLAGS)) for kind, literals, pattern, _src in rules.TOKEN_RULES),
        aws_id=re.compile(r"(?<![A-Z0-9])(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}(?![A-Z0-9])", _FLAGS),
        aws_session=re.compile(r"(?<![A-Za-z0-9/+])(?:IQoJ|FwoG|FQoG|AQoD)[A-Za-z0-9/+=]{40,}", _FLAGS),
        aws_secret=re.compile(
            r"(?<![A-Za-z0-9/+=])(?=[A-Za-z0-9/+]{0,39}[A-Z])(?=[A-Za-z0-9/+]{0,39}[a-z])(?=[A-Za-z0-9/+]{0,39}[0-9])"
            r"[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])",
            _FLAGS,
        ),
        url_password=re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^:/\s@\"'<>]*:)([^\s@\"'<>]+)(@)", _FLAGS),
        scheme=re.compile(r"(?i)\b(bearer|basic|token|secret)(\s+)(?!\[masked)([A-Za-z0-9._~+/=-]{8,})", _FLAGS),
        card=re.compile(
            r"(?<![\w.-])(?:[0-9]{13,19}|[0-9]{4}([ -])[0-9]{4}\1[0-9]{4}\1[0-9]{1,7}|[0-9]{4}([ -])[0-9]{6}\2[0-9]{4,5})"
            r"(?![\w-]|\.[0-9])",
            _FLAGS,
        ),
    )


# -- the rules on one text -----------------------------------------------------------------------


def _url_password(m: re.Match[str]) -> str:
    password = m.group(2)
    if re.fullmatch(r"[0-9]+(?:/.*)?", password) or rules.is_placeholder(password):  # a port and a path
        return m.group(0)
    return f"{m.group(1)}[masked:password]{m.group(3)}"


def _credential_like(value: str) -> bool:
    """Two of lower case, upper case and digits: ``dXNlcjpwYXNz``, ``0b79bab5...``; not ``token_count``,
    ``checkout/db-credentials`` or ``authentication`` (prose and names after the word)."""
    classes = (any(c.islower() for c in value), any(c.isupper() for c in value), any(c.isdigit() for c in value))
    return sum(classes) >= 2


def _scheme_word(m: re.Match[str]) -> str:
    if not _credential_like(m.group(3)):  # "token bucket", "Bearer token_count", "Loaded secret checkout/db-credentials"
        return m.group(0)
    return f"{m.group(1)}{m.group(2)}[masked:{m.group(1).lower()}]"


def _card(m: re.Match[str]) -> str:
    start = m.start()
    ok = rules.card_number_ok(m.group(0), m.string[max(0, start - 12) : start])
    return "[masked:card-number]" if ok else m.group(0)


def _tokens(text: str) -> str:
    for kind, literals, pattern in _rules().tokens:
        if any(literal in text for literal in literals):
            text = pattern.sub(f"[masked:{kind}]", text)
    return text


def _apply(text: str, families: frozenset[str]) -> str:
    """Apply the rules of ``families`` (those whose gate matched ``text``), in order."""
    r = _rules()
    if "private-key" in families:
        text = r.private_key.sub("[masked:private-key]", text)
    if "jwt" in families:
        text = r.jwt.sub("[masked:jwt]", text)
    if "token" in families:
        text = _tokens(text)
    if "aws-id" in families:
        text = r.aws_session.sub("[masked:aws-session-token]", r.aws_id.sub("[masked:aws-access-key-id]", text))
    if "url-password" in families:
        text = r.url_password.sub(_url_password, text)
    if "keyword" in families:
        text = mask_keyword_values(text)
    if "scheme" in families:
        text = r.scheme.sub(_scheme_word, text)
    if "card-number" in families:
        text = r.card.sub(_card, text)
    if "aws-secret-key" in families:  # decided on the text as it came: the key id beside it is masked by now
        text = r.aws_secret.sub("[masked:aws-secret-key]", text)
    return text


#: Cheap necessary conditions of the keyword and scheme families (on the lower-cased text).
_SCHEME_WORDS = ("bearer", "basic", "token", "secret")


def _families_here(text: str) -> frozenset[str]:
    """The families whose gate matches one short text (Python ``re``; substring tests first)."""
    low = ascii_lower(text)
    gates = _rules().family_gates
    found = set()
    for family, gate in gates.items():
        if family == "keyword" and not any(k in low for k in rules.KEYWORDS):
            continue
        if family == "scheme" and not any(w in low for w in _SCHEME_WORDS):
            continue
        if family == "url-password" and "://" not in text:
            continue
        if family == "token" and not any(literal in text for _k, literals, _p in _rules().tokens for literal in literals):
            continue
        if gate.search(text):
            found.add(family)
    return frozenset(found)


def _families_vectorised(arr: Any) -> list[frozenset[str]]:
    """The families whose gate matches each text of an arrow array (RE2, one pass a family)."""
    import pyarrow.compute as pc

    hits = {family: pc.fill_null(pc.match_substring_regex(arr, gate), False).to_numpy(zero_copy_only=False)
            for family, gate in rules.FAMILY_GATES.items()}  # fmt: skip
    return [frozenset(f for f, hit in hits.items() if hit[i]) for i in range(len(arr))]


# -- many texts ----------------------------------------------------------------------------------

#: Below this many characters in all, texts are gated one by one in Python (RE2 compiles the gates, ~1 ms, at each call).
_VECTOR_CHARS = 4000
#: A text longer than this is masked line by line (a private-key block, the one rule across lines, first).
_LONG = 4096


def _gate(arr: Any) -> np.ndarray:
    """Boolean mask of the texts of one arrow array the union gate matches (RE2, vectorised)."""
    import pyarrow.compute as pc

    return pc.fill_null(pc.match_substring_regex(arr, GATE), False).to_numpy(zero_copy_only=False)


def _mask_gated(texts: list[str]) -> list[str]:
    """Texts the union gate matched, masked (each family's gate over all of them at once, RE2)."""
    import pyarrow as pa

    families = _families_vectorised(pa.array(texts, type=pa.large_string()))
    return [_apply(t, f) if f else t for t, f in zip(texts, families)]


#: Texts masked before and their masked form (a notebook is saved, and masked, after every cell:
#: its earlier outputs are not masked again). Holds at most ``_CACHE_CHARS`` characters.
_CACHE: dict[str, str] = {}
_CACHE_CHARS = 32_000_000
_cache_state = {"chars": 0}
_cache_lock = threading.Lock()


def mask_texts(texts: Sequence[str]) -> list[str]:
    """Mask many texts at once (the gates run vectorised over all of them).

    Example
    -------
    >>> mask_texts(["ok", "api_key=k-123456", "Bearer abcdefgh12345678"])
    ['ok', 'api_key=[masked:secret]', 'Bearer [masked:bearer]']
    """
    with _cache_lock:
        done = [_CACHE.get(t) for t in texts]
    todo = [i for i, d in enumerate(done) if d is None]
    if todo:
        masked = _mask_texts([texts[i] for i in todo])
        with _cache_lock:
            for i, m in zip(todo, masked):
                done[i] = m
                size = len(texts[i]) + len(m)
                if size > _CACHE_CHARS // 32:
                    continue
                if _cache_state["chars"] + size > _CACHE_CHARS:
                    _CACHE.clear()
                    _cache_state["chars"] = 0
                _CACHE[texts[i]] = m
                _cache_state["chars"] += size
    return done  # type: ignore[return-value]


def _mask_texts(texts: Sequence[str]) -> list[str]:
    import pyarrow as pa

    pieces: list[str] = []
    owner: list[int] = []
    for i, text in enumerate(texts):
        if len(text) > _LONG and "\n" in text:
            if "-----BEGIN" in text or "PuTTY" in text:
                text = _rules().private_key.sub("[masked:private-key]", text)
            lines = text.split("\n")
            pieces += lines
            owner += [i] * len(lines)
        else:
            pieces.append(text)
            owner.append(i)
    if sum(map(len, pieces)) < _VECTOR_CHARS:
        masked = [_apply(p, _families_here(p)) if p else p for p in pieces]
    else:
        ((positions, new),) = _changes([pa.array(pieces, type=pa.large_string())])
        masked = list(pieces)
        for pos, text in zip(positions, new):
            masked[pos] = text
    out: list[list[str]] = [[] for _ in texts]
    for i, piece in zip(owner, masked):
        out[i].append(piece)
    return ["\n".join(parts) for parts in out]


def mask_text(text: str) -> str:
    """Return ``text`` with every secret replaced by ``[masked:<kind>]``.

    Example
    -------
    >>> mask_text("postgres://app:hunter2@db:5432/x password=s3cr3t!")
    'postgres://app:[masked:password]@db:5432/x password=[masked:secret]'
    >>> mask_text("paid with 4242 4242 4242 4242 at 1772330400000")
    'paid with [masked:card-number] at 1772330400000'
    """
    if not text or not isinstance(text, str):
        return text
    return mask_texts([text])[0]


# -- columns -------------------------------------------------------------------------------------

#: Rows sampled to decide whether a column has few distinct values (masked once per value).
_SAMPLE = 4096
#: Bytes of text joined into one string for the gate (fewer, longer strings: less overhead a string).
_GROUP_BYTES = 4096


def _arrow_strings(values: pd.Series) -> Any:
    """The column as a pyarrow string array (zero-copy when arrow-backed), or None when it
    holds anything but strings and missing values."""
    import pyarrow as pa

    try:
        if pd.api.types.is_string_dtype(values.dtype) and getattr(values.dtype, "storage", None) == "pyarrow":
            return pa.array(values)
        return pa.array(values.to_numpy(dtype=object), type=pa.large_string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError):
        return None


def _large_chunks(arr: Any) -> list[Any]:
    """The chunks of an arrow string array, as ``large_string`` (so that columns can be gated together)."""
    import pyarrow as pa

    chunks = arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]
    return [c if c.type == pa.large_string() else c.cast(pa.large_string()) for c in chunks]


def _gated_positions(arr: Any) -> np.ndarray:
    """Positions of the texts the union gate matches, in one RE2 call over every chunk.

    Short texts are gated in groups joined by newlines (a group the gate does not match holds
    no matching text: every gate stops at a newline, and a match that spans two texts only
    sends both to the check of each text), then each text of a matched group on its own.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    chunks = _large_chunks(arr)
    parts, plan, offset = [], [], 0
    for chunk in chunks:
        n = len(chunk)
        group = max(1, min(256, _GROUP_BYTES * n // max(chunk.nbytes, 1)))
        if group < 4 or n < 2 * group:
            parts.append(chunk)
            plan.append((offset, None))
        else:
            texts = pc.fill_null(chunk, "") if chunk.null_count else chunk
            bounds = np.append(np.arange(0, n, group, dtype=np.int64), n)
            parts.append(pc.binary_join(pa.LargeListArray.from_arrays(pa.array(bounds), texts), pa.scalar("\n", texts.type)))
            plan.append((offset, bounds))
        offset += n
    if not parts:
        return np.zeros(0, dtype=np.int64)
    hits = _gate(pa.chunked_array(parts, type=pa.large_string()))
    found, candidates, at = [np.zeros(0, dtype=np.int64)], [], 0
    for part, (start, bounds) in zip(parts, plan):
        hit = np.flatnonzero(hits[at : at + len(part)])
        at += len(part)
        if bounds is None:
            found.append(hit + start)
        else:
            candidates += [np.arange(bounds[g], bounds[g + 1]) + start for g in hit]
    if candidates:
        rows = np.concatenate(candidates)
        combined = pa.chunked_array(chunks, type=pa.large_string())
        taken = [c.take(pa.array(local)) for c, _o, local in _chunks(combined, rows) if local.size]
        found.append(rows[_gate(pa.chunked_array(taken, type=pa.large_string()))])
    return np.sort(np.concatenate(found))


def _chunks(arr: Any, positions: np.ndarray) -> Iterator[tuple[Any, int, np.ndarray]]:
    """``(chunk, offset, positions inside it)`` for each chunk of ``arr`` (positions sorted)."""
    import pyarrow as pa

    offset = 0
    for chunk in arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]:
        lo, hi = np.searchsorted(positions, [offset, offset + len(chunk)])
        yield chunk, offset, positions[lo:hi] - offset
        offset += len(chunk)


def _texts_at(arr: Any, positions: np.ndarray) -> list[Any]:
    """The values at ``positions``, read chunk by chunk (a chunked ``take`` would copy them all)."""
    import pyarrow as pa

    out: list[Any] = []
    for chunk, _offset, local in _chunks(arr, positions):
        if local.size:
            out += chunk.take(pa.array(local)).to_pylist()
    return out


def _changes(arrays: list[Any]) -> list[tuple[np.ndarray, list[str]]]:
    """For each arrow string array: the positions whose text masking changes and the new texts.
    All the arrays are gated together (one RE2 call for the union gate, one a family)."""
    import pyarrow as pa

    combined = pa.chunked_array([c for a in arrays for c in _large_chunks(a)], type=pa.large_string())
    positions = _gated_positions(combined)
    texts = _texts_at(combined, positions)
    masked = _mask_gated(texts) if texts else []
    bounds = np.cumsum([0] + [len(a) for a in arrays])
    out = []
    for k in range(len(arrays)):
        lo, hi = np.searchsorted(positions, [bounds[k], bounds[k + 1]])
        keep = [j for j in range(lo, hi) if masked[j] != texts[j]]
        out.append((positions[keep] - bounds[k], [masked[j] for j in keep]))
    return out


def _replace(values: pd.Series, arr: Any, positions: np.ndarray, new: list[str]) -> pd.Series:
    """``values`` with the texts at ``positions`` replaced by ``new`` (same dtype, index and name)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not (pd.api.types.is_string_dtype(values.dtype) and getattr(values.dtype, "storage", None) == "pyarrow"):
        out = values.copy()
        out.iloc[positions] = new
        return out
    chunks, done = [], 0
    for chunk, _offset, local in _chunks(arr, positions):
        if local.size:
            hit = np.zeros(len(chunk), dtype=bool)
            hit[local] = True
            chunk = pc.replace_with_mask(chunk, pa.array(hit), pa.array(new[done : done + local.size], type=chunk.type))
            done += local.size
        chunks.append(chunk)
    masked = values.dtype.__from_arrow__(pa.chunked_array(chunks, type=arr.type))
    return pd.Series(masked, index=values.index, name=values.name, copy=False)


def _distinct(arr: Any) -> Any:
    """The distinct values of a column that has few of them (sampled), else None."""
    import pyarrow.compute as pc

    if len(arr) < 2 * _SAMPLE:
        return None
    sample = arr.slice(0, _SAMPLE)
    if pc.count_distinct(sample, mode="all").as_py() * 8 > len(sample):
        return None
    return pc.unique(arr)


def _masked_column(values: pd.Series, arr: Any, uniques: Any, positions: np.ndarray, new: list[str]) -> pd.Series:
    """``values`` with the changes found on the column itself or, when ``uniques``, on its distinct values."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if uniques is None:
        return _replace(values, arr, positions, new)
    changed = dict(zip(_texts_at(uniques, positions), new))
    hit = pc.fill_null(pc.is_in(arr, value_set=pa.array(list(changed), type=uniques.type)), False)
    rows = np.flatnonzero(hit.to_numpy(zero_copy_only=False))
    return _replace(values, arr, rows, [changed[t] for t in _texts_at(arr, rows)])


def _mask_other(values: pd.Series) -> pd.Series | None:
    """A categorical column, or an object column holding more than strings (dicts, lists: nested JSON),
    masked; None for a column of strings (the vectorised path)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return _masked_categories(values)
    if _arrow_strings(values) is None:
        return values.map(mask_obj, na_action="ignore")
    return None


def _masked_categories(values: pd.Series) -> pd.Series:
    """A categorical column masked through its categories (each distinct value once, text ones
    through the vectorised gate); categories that mask to the same text merge. Same dtype of
    categories, same codes where nothing changed."""
    cats = values.cat.categories
    if not len(cats):
        return values
    if pd.api.types.is_string_dtype(cats.dtype) and cats.map(type).isin([str]).all():
        masked = pd.Index(mask_series(pd.Series(cats, dtype=cats.dtype)).to_numpy(), dtype=cats.dtype)
    else:
        masked = pd.Index([mask_obj(c) for c in cats], dtype=cats.dtype if pd.api.types.is_string_dtype(cats.dtype) else object)
    if masked.equals(cats):
        return values
    inverse, merged = pd.factorize(masked)
    codes = values.cat.codes.to_numpy()
    new_codes = np.where(codes >= 0, inverse[np.maximum(codes, 0)], -1)
    return pd.Series(pd.Categorical.from_codes(new_codes, categories=merged), index=values.index, name=values.name)


def mask_series(values: pd.Series) -> pd.Series:
    """Mask a text column: the gate runs over the whole column at once (RE2), the rules only on
    the rows it matches; a column with few distinct values is masked once per value. Object
    columns holding dicts or lists (nested JSON) are masked element by element with
    :func:`mask_obj`. The result has the input's dtype and index; the input is not modified.

    Example
    -------
    >>> mask_series(pd.Series(["ok", "password=hunter2", None], dtype="string")).tolist()
    ['ok', 'password=[masked:secret]', <NA>]
    """
    if values.empty:
        return values
    other = _mask_other(values)
    if other is not None:
        return other
    arr = _arrow_strings(values)
    uniques = _distinct(arr)
    ((positions, new),) = _changes([arr if uniques is None else uniques])
    return values if not new else _masked_column(values, arr, uniques, positions, new)


@functools.lru_cache(maxsize=1)
def rules_fingerprint() -> str:
    """What masked text was masked with: sha256 of this package's sources (the rules and the code
    applying them), the Python and the pyarrow whose regex engines run them.

    The evidence bundle notes it beside every frame it masked, so a copy of the bundle
    (:func:`incidentkit.evidence.copy_bundle`) can copy a frame masked by these same rules as
    it is, and masks again a frame recorded unmasked or under other rules.

    Example
    -------
    >>> len(rules_fingerprint()), rules_fingerprint() == rules_fingerprint()
    (64, True)
    """
    digest = hashlib.sha256()
    package = importlib.resources.files(__package__)
    for name in sorted(p.name for p in package.iterdir() if p.name.endswith(".py")):
        digest.update(name.encode() + b"\0" + package.joinpath(name).read_bytes() + b"\0")
    digest.update(f"python {sys.version}; pyarrow {importlib.metadata.version('pyarrow')}".encode())
    return digest.hexdigest()


def mask_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of ``df`` with every text column masked (``attrs`` kept, masked too).
    The text columns are gated together (:func:`mask_series` for each would compile the
    gates once a column).

    Example
    -------
    >>> mask_frame(pd.DataFrame({"m": ["token=abcdef123456"], "n": [1]}))["m"].tolist()
    ['token=[masked:secret]']
    """
    out = df.copy(deep=False)
    texts = []
    for i in range(df.shape[1]):
        column = df.iloc[:, i]
        dtype = column.dtype
        if column.empty or not (dtype == object or pd.api.types.is_string_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype)):
            continue
        other = _mask_other(column)
        if other is None:
            arr = _arrow_strings(column)
            texts.append((i, column, arr, _distinct(arr)))
        elif other is not column:
            out.isetitem(i, other)
    found = _changes([arr if uniques is None else uniques for _i, _c, arr, uniques in texts]) if texts else []
    for (i, column, arr, uniques), (positions, new) in zip(texts, found):
        if new:
            out.isetitem(i, _masked_column(column, arr, uniques, positions, new))
    out.attrs = mask_obj(dict(df.attrs))
    return out


# -- JSON-like objects ---------------------------------------------------------------------------


def _strings_in(obj: Any, into: list[str]) -> None:
    if isinstance(obj, str):
        into.append(obj)
    elif isinstance(obj, dict):
        for k, v in obj.items():
            if isinstance(k, str):
                into.append(k)
            _strings_in(v, into)
    elif is_lines(obj):
        into.append("".join(obj))
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            _strings_in(v, into)


def mask_obj(obj: Any) -> Any:
    """Mask every string inside a JSON-like object (dicts, lists, tuples), and every value
    whose key names a secret (``{"DB_PASSWORD": "x"}``, ``{"name": "API_KEY", "value": "x"}``,
    Lambda's ``{"environment": {"variables": {...}}}``), at any depth. All the strings are
    gated at once (:func:`mask_texts`).

    Example
    -------
    >>> mask_obj({"env": {"DB_PASSWORD": "pa;ss", "LOG_LEVEL": "info"}, "n": 3})
    {'env': {'DB_PASSWORD': '[masked:secret]', 'LOG_LEVEL': '[masked:secret]'}, 'n': 3}
    """
    if isinstance(obj, str):
        return mask_text(obj)
    strings: list[str] = []
    _strings_in(obj, strings)
    if not strings:
        return obj
    unique = list(dict.fromkeys(strings))
    table = dict(zip(unique, mask_texts(unique)))
    return mask_object(obj, lambda s: table[s] if s in table else mask_text(s))
