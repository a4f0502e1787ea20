"""Keyword-named values: find the value a sensitive key names, in text and in objects.

Used by :mod:`incidentkit.masking`; which names are sensitive is
:func:`incidentkit.masking._rules.name_kind`. In text, a name is found around each keyword
hit (``pass``, ``secret``, ``token``, ``key``...), then the operator after it and the extent
of its value, in every form logs use:

* ``DB_PASSWORD=pa/ss;wd``, ``--password=x``, ``?token=x&``, ``password: x`` (YAML, headers),
  ``password => x``, ``password := x``;
* ``"dbPassword": "x"`` (JSON), ``\\"dbPassword\\": \\"x\\"`` (JSON inside a JSON string, at any
  escaping depth), ``{'password': 'x'}`` (Python repr), ``<password>x</password>`` (XML);
* ``{"name": "DB_PASSWORD", "value": "x"}`` (ECS, CloudFormation ``ParameterKey``/``ParameterValue``);
* ``"variables": {"A": "x", ...}`` and ``"environment": [{"name": .., "value": ..}]``: every
  value of an environment map (names kept);
* ``Authorization: <scheme> <credentials>`` (scheme kept), ``Cookie:`` (every cookie's value),
  ``Set-Cookie:`` (the cookie's value, attributes kept).

Example
-------
>>> mask_keyword_values('{"clientSecret":"a\\\\"b","retry":3} X-Api-Key: k-123 Cookie: sid=9f; theme=dark')
'{"clientSecret":"[masked:secret]","retry":3} X-Api-Key: [masked:secret] Cookie: sid=[masked:cookie]; theme=[masked:cookie]'
"""

from __future__ import annotations

import re
from typing import Any, Callable

from . import _rules as rules

__all__ = ["mask_keyword_values", "mask_object", "mask_authorization", "mask_cookie", "ascii_lower", "is_lines"]

_A = re.ASCII
_NAME_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")
#: What may follow a name whose value comes next: a quote, a backslash, blanks, an operator.
_AFTER_NAME = frozenset("\"'\\ \t:=>,")
_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
#: After a name: its closing quote (if quoted), then ``=``, ``:``, ``=>``, ``:=`` or an XML tag's ``>``.
_OPERATOR = re.compile(r"(\\*[\"'])?([ \t]*(?:=>|:=|[:=])[ \t]*|>)", _A)
#: ``"DB_PASSWORD", "value": `` after the name of a name/value pair.
_PAIR = re.compile(r"(\\*[\"'])[ \t]*,[ \t]*\1(?:parameter)?value\1[ \t]*:[ \t]*", re.I | _A)
_PAIR_NAME = re.compile(r"(?:name|key|parameterkey|parametername)\\*[\"'][ \t]*:[ \t]*\\*[\"']\Z", re.I | _A)
_QUOTE = re.compile(r"(\\*)([\"'])", _A)
_BODY = {'"': re.compile(r'(?:[^"\\\n]|\\.)*', _A), "'": re.compile(r"(?:[^'\\\n]|\\.)*", _A)}
_BARE = re.compile(r"[^\s\"'<>&\\]+", _A)
_REST = re.compile(r"[^\n\"'\\]*", _A)
_KEY_IN_MAP = re.compile(r"(\\*[\"'])[^\"'\\\n]*\1[ \t]*:[ \t]*", _A)
_VALUE_KEY = re.compile(r"\\*[\"'](?:parameter)?value\\*[\"'][ \t]*:[ \t]*\Z", re.I | _A)
_HAS_VALUE_KEY = re.compile(r"\\*[\"'](?:parameter)?value\\*[\"'][ \t]*:", re.I | _A)
_NUMBER = re.compile(r"-?[0-9][0-9.eE+-]*", _A)
_SCHEME = re.compile(r"([ \t]*)([A-Za-z][A-Za-z0-9_-]{0,30})([ \t]+)(?=\S)", _A)
#: Schemes whose credentials are one token (the rest of the line is left as it is).
_ONE_TOKEN = frozenset({"bearer", "basic", "token", "apikey", "api-key", "key", "ssws", "jwt", "negotiate", "ntlm", "oauth"})
_COOKIE = re.compile(r"([^\s=;,]+)(=)([^;]*)", _A)
#: Bare one-word names after which a short lower-case word is prose: ``invalid token: expired``.
#: A word or a snake/kebab-case name in lower case: prose, not a credential ("authorization: denied").
_PROSE = re.compile(r"[a-z]+(?:[_-][a-z]+)*", _A)
_PROSE_NAMES = frozenset({"token", "auth", "session", "secret", "signature", "sig", "cookie", "credentials", "creds"})


def _masked(kind: str) -> str:
    return f"[masked:{kind}]"


def _quoted_end(text: str, start: int, level: int, quote: str) -> int:
    """End of a value opened by ``level`` backslashes and ``quote`` (JSON escaped ``level`` times):
    the same quote after as many backslashes, or the end of the enclosing string, or a newline."""
    if level == 0:
        return _BODY[quote].match(text, start).end()  # type: ignore[union-attr]
    j = start
    while True:
        j = text.find(quote, j)
        stop = len(text) if j < 0 else j
        newline = text.find("\n", start, stop)
        if newline >= 0:
            return newline
        if j < 0:
            return len(text)
        slashes = 0
        while j - slashes - 1 >= start and text[j - slashes - 1] == "\\":
            slashes += 1
        if slashes <= level:  # ours (== level) or the enclosing string's (< level)
            return j - slashes
        j += 1


def _value_extent(text: str, pos: int) -> tuple[int, int, bool]:
    """``(start, end, quoted)`` of the value beginning at ``pos`` (inside its quotes when quoted)."""
    q = _QUOTE.match(text, pos)
    if q:
        start = q.end()
        return start, _quoted_end(text, start, len(q.group(1)), q.group(2)), True
    bare = _BARE.match(text, pos)
    end = bare.end() if bare else pos
    while end > pos and text[end - 1] in ",)}]":
        end -= 1
    return pos, end, False


def mask_authorization(value: str) -> str:
    """``Bearer abc`` -> ``Bearer [masked:bearer]``; credentials without a scheme are masked whole.

    Example
    -------
    >>> mask_authorization("Basic dXNlcjpwYXNz"), mask_authorization("AWS4-HMAC-SHA256 Credential=x, Signature=y")
    ('Basic [masked:basic]', 'AWS4-HMAC-SHA256 [masked:aws4-hmac-sha256]')
    """
    m = _SCHEME.match(value)
    if not m:
        word = value.strip()
        return value if rules.is_placeholder(word) or _PROSE.fullmatch(word) else _masked("secret")
    scheme = m.group(2).lower()
    creds = value[m.end() :]
    if scheme in _ONE_TOKEN:
        token = re.match(r"\S+", creds).group()  # type: ignore[union-attr]
        if rules.is_placeholder(token.rstrip(",;")):
            return value
        return value[: m.end()] + _masked(scheme) + creds[len(token) :]
    if rules.is_placeholder(creds.strip()):
        return value
    return value[: m.end()] + _masked(scheme)


def mask_cookie(value: str, *, first_only: bool = False) -> str:
    """Mask every cookie's value (``Cookie``) or only the first (``Set-Cookie``: the attributes stay).

    Example
    -------
    >>> mask_cookie("sid=abc; Path=/; HttpOnly", first_only=True)
    'sid=[masked:cookie]; Path=/; HttpOnly'
    """

    def one(m: re.Match[str]) -> str:
        return m.group(0) if rules.is_placeholder(m.group(3)) else f"{m.group(1)}={_masked('cookie')}"

    return _COOKIE.sub(one, value, count=1 if first_only else 0)


def _secret_value(value: str, name: str, operator: str, quoted: bool) -> str | None:
    """The replacement of a keyword-named value, or None to leave it."""
    if rules.is_placeholder(value):
        return None
    word = value.rstrip(",;.:!?)")
    if not quoted and operator.startswith(":") and name.lower() in _PROSE_NAMES and word.isalpha() and len(word) < 20:
        return None  # "invalid token: expired" is prose
    return _masked("secret")


def _map_values(inner: str) -> list[tuple[int, int, bool]]:
    """Where the values of a flat map (``{...}``: every key's) or list (``[...]``: the ``value``
    of each name/value pair, else each string) are, as ``_value_extent`` gives them."""
    spans: list[tuple[int, int, bool]] = []
    if inner[0] == "{" or _HAS_VALUE_KEY.search(inner):
        after = 0
        for key in _KEY_IN_MAP.finditer(inner):
            if key.start() >= after and (inner[0] == "{" or _VALUE_KEY.search(inner, 0, key.end())):
                spans.append(_value_extent(inner, key.end()))
                after = spans[-1][1]
        return spans
    after = 0
    for q in _QUOTE.finditer(inner):
        if q.start() >= after:
            end = _quoted_end(inner, q.end(), len(q.group(1)), q.group(2))
            spans.append((q.end(), end, True))
            after = end + len(q.group(0))
    return spans


def _mask_map(text: str, start: int) -> tuple[int, str] | None:
    """A flat ``{...}`` or ``[...]`` of environment variables at ``start``: ``(end, masked)``
    with every value masked and the names kept; None when it nests (inner names decide)."""
    open_ch = text[start]
    close = text.find("}" if open_ch == "{" else "]", start + 1)
    if close < 0:
        return None
    inner = text[start : close + 1]
    if open_ch in inner[1:] or "\n" in inner:
        return None
    parts, last = [], 0
    for vs, ve, quoted in _map_values(inner):
        value = inner[vs:ve]
        if not value or rules.is_placeholder(value) or (not quoted and not _NUMBER.fullmatch(value)):
            continue
        parts += [inner[last:vs], _masked("secret")]
        last = ve
    if not parts:
        return None
    parts.append(inner[last:])
    return close + 1, "".join(parts)


def _value_after(text: str, s: int, e: int, kind: str) -> tuple[int, int, str | None] | None:
    """``(start, end, replacement)`` of the value named by ``text[s:e]`` (replacement None: a value
    seen and left as it is, a placeholder), or None when no value follows the name."""
    name = text[s:e]
    op = _OPERATOR.match(text, e)
    if op is None or (op.group(2) == ">" and (op.group(1) or s == 0 or text[s - 1] != "<")):
        pair = _PAIR.match(text, e)
        if pair is None or not _PAIR_NAME.search(text[max(0, s - 40) : s]):
            return None
        pos, operator = pair.end(), ":"
    else:
        pos, operator = op.end(), op.group(2).strip()
        if operator == "=" and not op.group(1) and (text[pos : pos + 1] == "=" or (
                text[pos : pos + 1] in ("\"", "'") and text[pos + 1 : pos + 2] in ("", ",", "}", "]", ":", "\n"))):
            return None  # base64 padding at the end of a string ("IhFR7HHhPwGr9m7="), not an assignment
    if pos < len(text) and text[pos] in "{[" and kind in ("secret", "container"):
        masked = _mask_map(text, pos)
        return None if masked is None else (pos, masked[0], masked[1])
    if kind == "container":
        return None
    if operator == ">":
        end = text.find("<", pos)
        end = len(text) if end < 0 else end
        return pos, end, None if rules.is_placeholder(text[pos:end]) else _masked("secret")
    vs, ve, quoted = _value_extent(text, pos)
    if kind in ("authorization", "cookie", "set-cookie"):
        if not quoted:
            ve = _REST.match(text, vs).end()  # type: ignore[union-attr]
        value = text[vs:ve]
        new = mask_authorization(value) if kind == "authorization" else mask_cookie(value, first_only=kind == "set-cookie")
        return vs, ve, None if new == value else new
    return vs, ve, _secret_value(text[vs:ve], name, operator, quoted)


def ascii_lower(text: str) -> str:
    """``text`` with A-Z lower-cased and nothing else changed (same length, same indices).

    Example
    -------
    >>> ascii_lower("DB_Pass İ")
    'db_pass İ'
    """
    return text.lower() if text.isascii() else text.translate(_LOWER)


def _keyword_hits(low: str) -> list[int]:
    """Where a keyword starts in the lower-cased text (``str.find``: far faster than a regex)."""
    hits = []
    for word in rules.KEYWORDS:
        i = low.find(word)
        while i >= 0:
            hits.append(i)
            i = low.find(word, i + 1)
    hits.sort()
    return hits


def mask_keyword_values(text: str) -> str:
    """Mask the value of every key whose name is sensitive (:func:`~incidentkit.masking._rules.name_kind`).

    Example
    -------
    >>> mask_keyword_values("user=bob DB_PASSWORD=pa/ss;wd token_type=Bearer")
    'user=bob DB_PASSWORD=[masked:secret] token_type=Bearer'
    """
    parts: list[str] = []
    last = scanned = 0
    n = len(text)
    for hit in _keyword_hits(ascii_lower(text)):
        if hit < scanned:
            continue
        s = hit
        while s > 0 and text[s - 1] in _NAME_CHARS:
            s -= 1
        e = hit + 1
        while e < n and text[e] in _NAME_CHARS:
            e += 1
        scanned = e
        if e >= n or text[e] not in _AFTER_NAME:
            continue
        kind = rules.name_kind(text[s:e])
        if kind is None:
            continue
        if s > 0 and text[s - 1] == ":" and text[e] == ":":
            continue  # a segment of an ARN (arn:aws:secretsmanager:...:secret:name), not a key
        found = _value_after(text, s, e, kind)
        if found is None or found[0] < last:
            continue
        vs, ve, new = found
        scanned = ve
        if new is not None:
            parts += [text[last:vs], new]
            last = ve
    if not parts:
        return text
    parts.append(text[last:])
    return "".join(parts)


# -- objects -------------------------------------------------------------------------------------

_NAME_KEYS = ("name", "key", "parameterkey", "parametername")
_VALUE_KEYS = ("value", "parametervalue")


def _pair_is_secret(obj: dict[Any, Any]) -> bool:
    """``{"name": "DB_PASSWORD", "value": ...}``: a name/value pair whose name is sensitive."""
    names = [v for k, v in obj.items() if isinstance(k, str) and k.lower() in _NAME_KEYS and isinstance(v, str)]
    return bool(names) and any(isinstance(k, str) and k.lower() in _VALUE_KEYS for k in obj) and any(
        rules.name_kind(n) is not None for n in names
    )


def _mask_leaves(value: Any, mask_text: Callable[[str], str]) -> Any:
    """Every scalar under a secret's or an environment map's name masked (names of pairs kept)."""
    if isinstance(value, dict):
        if any(isinstance(k, str) and k.lower() in _VALUE_KEYS for k in value):
            return {k: (_mask_leaves(v, mask_text) if isinstance(k, str) and k.lower() in _VALUE_KEYS else mask_object(v, mask_text))
                    for k, v in value.items()}  # fmt: skip
        return {mask_text(k) if isinstance(k, str) else k: _mask_leaves(v, mask_text) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_mask_leaves(v, mask_text) for v in value)
    if isinstance(value, str):
        return mask_text(value) if rules.is_placeholder(value) else _masked("secret")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _masked("secret")
    return value


def _under(kind: str | None, value: Any, mask_text: Callable[[str], str]) -> Any:
    if kind is None or value is None or isinstance(value, bool):
        return mask_object(value, mask_text)
    if kind == "secret" or (kind == "container" and isinstance(value, (dict, list, tuple))):
        return _mask_leaves(value, mask_text)
    if isinstance(value, str) and kind == "authorization":
        return mask_text(mask_authorization(value))
    if isinstance(value, str) and kind in ("cookie", "set-cookie"):
        return mask_text(mask_cookie(value, first_only=kind == "set-cookie"))
    return mask_object(value, mask_text)


def mask_object(obj: Any, mask_text: Callable[[str], str]) -> Any:
    """Mask a JSON-like object: strings with ``mask_text``, values under sensitive names whole.

    Example
    -------
    >>> mask_object({"name": "API_KEY", "value": "k1", "tags": ["password=x"]}, lambda t: t.replace("x", "*"))
    {'name': 'API_KEY', 'value': '[masked:secret]', 'tags': ['password=*']}
    """
    if isinstance(obj, str):
        return mask_text(obj)
    if isinstance(obj, dict):
        pair = _pair_is_secret(obj)
        out = {}
        for k, v in obj.items():
            key = mask_text(k) if isinstance(k, str) else k
            if pair and isinstance(k, str) and k.lower() in _VALUE_KEYS:
                out[key] = _mask_leaves(v, mask_text)
            else:
                out[key] = _under(rules.name_kind(k) if isinstance(k, str) else None, v, mask_text)
        return out
    if is_lines(obj):  # one text kept as a list of lines (nbformat's multiline strings): a key block spans lines
        text = "".join(obj)
        masked = mask_text(text)
        return list(obj) if masked == text else masked.splitlines(keepends=True)
    if isinstance(obj, (list, tuple)):
        return type(obj)(mask_object(v, mask_text) for v in obj)
    return obj


def is_lines(obj: Any) -> bool:
    """Whether ``obj`` is one text as a list of lines: strings, each but the last ending with a newline.

    Example
    -------
    >>> is_lines(["-----BEGIN PRIVATE KEY-----\\n", "MIIEvQ\\n", "-----END PRIVATE KEY-----"]), is_lines(["a", "b"])
    (True, False)
    """
    return (isinstance(obj, list) and len(obj) > 1 and all(isinstance(v, str) for v in obj)
            and all(v.endswith("\n") for v in obj[:-1]))  # fmt: skip
