"""App version and client family from a User-Agent string.

Incident #1 of the catalogue (a deploy that rejects tokens of an old mobile app) is
found by splitting errors by client version. When the app does not log its version, the
version is usually in the User-Agent its HTTP stack sends: ``MyApp/2.9.0 (iOS 17.2)``.

Rules
-----
* The **first product token** (``name/version``) names the client: ``MyApp/2.9.0 (iOS 17)``
  -> family ``MyApp``, version ``2.9.0``.
* Browsers (``Mozilla/5.0 ...``) are named by their engine tokens: ``Chrome``, ``Safari``,
  ``Firefox``, ``Edge``, ``Opera``, ``IE``; their version is not an *app* version.
* Generic HTTP stacks, SDKs and tools (``okhttp``, ``curl``, ``python-requests``,
  ``aws-sdk-*``, ``Dalvik``, ``CFNetwork`` ...) and health checkers (``ELB-HealthChecker``,
  Route 53) give the family but no app version: their version says which library was
  used, not which release of the app. Pass ``include_libraries=True`` to get it anyway.

Example
-------
>>> version_from_user_agent("MyApp/2.9.0 (iOS 17.2; iPhone14,2)")
'2.9.0'
>>> family("okhttp/4.9.0"), version_from_user_agent("okhttp/4.9.0")
('okhttp', None)
>>> family("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36")
'Chrome'
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from typing import Any

import pandas as pd

__all__ = ["LIBRARIES", "family", "parse_user_agent", "parse_user_agents", "version_from_user_agent"]

#: Product tokens that are HTTP stacks, SDKs, tools or checkers, not the app itself (lower-case).
LIBRARIES = frozenset(
    {
        "okhttp",
        "dalvik",
        "cfnetwork",
        "darwin",
        "alamofire",
        "curl",
        "wget",
        "httpie",
        "python-requests",
        "python-urllib",
        "python-httpx",
        "aiohttp",
        "python",
        "boto3",
        "botocore",
        "aws-cli",
        "aws-sdk-java",
        "aws-sdk-js",
        "aws-sdk-go",
        "aws-sdk-go-v2",
        "aws-sdk-ruby",
        "aws-sdk-ruby3",
        "aws-sdk-php",
        "aws-sdk-dotnet",
        "aws-sdk-cpp",
        "aws-sdk-rust",
        "aws-sdk-nodejs",
        "aws-internal",
        "apache-httpclient",
        "java",
        "go-http-client",
        "axios",
        "node-fetch",
        "undici",
        "node",
        "got",
        "postmanruntime",
        "insomnia",
        "restsharp",
        "dart",
        "ktor-client",
        "reactor-netty",
        "jersey",
        "guzzlehttp",
        "ruby",
        "faraday",
        "elb-healthchecker",
        "amazon-route53-health-check-service",
        "amazon cloudfront",
        "amazoncloudfront",
        "googlehc",
        "kube-probe",
        "prometheus",
        "datadog agent",
        "uptimerobot",
        "pingdom",
        "slackbot",
        "googlebot",
        "bingbot",
        "mozilla",
    }
)

_BROWSERS = (  # (token, family), checked in order: Edge/Opera before Chrome before Safari
    ("Edg/", "Edge"),
    ("EdgA/", "Edge"),
    ("EdgiOS/", "Edge"),
    ("Edge/", "Edge"),
    ("OPR/", "Opera"),
    ("SamsungBrowser/", "Samsung Internet"),
    ("CriOS/", "Chrome"),
    ("FxiOS/", "Firefox"),
    ("Firefox/", "Firefox"),
    ("Chrome/", "Chrome"),
    ("Chromium/", "Chrome"),
    ("Safari/", "Safari"),
    ("MSIE ", "IE"),
    ("Trident/", "IE"),
)
_TOKEN = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._+\- ]*?)/(v?[0-9][0-9A-Za-z.\-_+]*)")
_NAME_ONLY = re.compile(r"^\s*([A-Za-z][A-Za-z0-9._\-]*)")
_BOT = re.compile(r"\b([A-Za-z0-9\-]*(?:bot|crawler|spider))\b", re.IGNORECASE)


def _clean(ua: Any) -> str | None:
    if ua is None or (isinstance(ua, float) and math.isnan(ua)) or ua is pd.NA:
        return None
    text = str(ua).strip().strip('"')
    return text if text and text != "-" else None


@lru_cache(maxsize=65536)
def _parse(text: str, include_libraries: bool) -> tuple[str | None, str | None]:
    if text.startswith("Amazon Route 53 Health Check Service"):
        return "Route53-Health-Check", None
    m = _TOKEN.match(text)
    if m is None:
        n = _NAME_ONLY.match(text)
        return (n.group(1) if n else None), None
    name, version = m.group(1).strip(), m.group(2)
    version = version[1:] if version[:1] == "v" else version
    if name.lower() == "mozilla" or name.lower().startswith("opera"):
        for token, fam in _BROWSERS:
            pos = text.find(token)
            if pos < 0:
                continue
            if not include_libraries:
                return fam, None
            vm = re.search(r"Version/([0-9][0-9.]*)", text) if fam == "Safari" else None
            vm = vm or re.match(r"([0-9][0-9.]*)", text[pos + len(token) :])
            return fam, (vm.group(1) if vm else None)
        bot = _BOT.search(text)
        if bot:
            return bot.group(1), None
        return "Mozilla", (version if include_libraries else None)
    if name.lower() in LIBRARIES or name.lower().startswith("aws-sdk"):
        return name, (version if include_libraries else None)
    return name, version


def parse_user_agent(user_agent: Any, *, include_libraries: bool = False) -> tuple[str | None, str | None]:
    """``(family, version)`` of one User-Agent; ``(None, None)`` when empty or ``-``.

    Example
    -------
    >>> parse_user_agent("MyApp/3.1.0-beta.2 CFNetwork/1494.0.7 Darwin/23.0.0")
    ('MyApp', '3.1.0-beta.2')
    """
    text = _clean(user_agent)
    if text is None:
        return None, None
    return _parse(text, include_libraries)


def version_from_user_agent(user_agent: Any, *, include_libraries: bool = False) -> str | None:
    """The app version a User-Agent carries, or ``None`` (browsers, libraries, no version).

    Parameters
    ----------
    user_agent:
        The header value (``None``, NaN and ``-`` give ``None``).
    include_libraries:
        Also return the version of browsers, HTTP libraries and SDKs (``okhttp/4.9.0`` -> ``4.9.0``).

    Example
    -------
    >>> version_from_user_agent("MyApp/2.9.0 (Android 14; Pixel 8) okhttp/4.9.0")
    '2.9.0'
    >>> version_from_user_agent("okhttp/4.9.0", include_libraries=True)
    '4.9.0'
    """
    return parse_user_agent(user_agent, include_libraries=include_libraries)[1]


def family(user_agent: Any) -> str | None:
    """The client family: app name, browser, library or checker (``None`` when empty).

    Example
    -------
    >>> family("ELB-HealthChecker/2.0")
    'ELB-HealthChecker'
    """
    return parse_user_agent(user_agent)[0]


def parse_user_agents(user_agents: Any, *, include_libraries: bool = False) -> pd.DataFrame:
    """Vectorised :func:`parse_user_agent`: a frame with ``family`` and ``version`` (string dtype).

    Each distinct value is parsed once, so millions of rows with a few thousand distinct
    User-Agents cost a few thousand parses.

    Example
    -------
    >>> parse_user_agents(["MyApp/2.9.0", "MyApp/2.8.1", None])["version"].tolist()
    ['2.9.0', '2.8.1', <NA>]
    """
    s = pd.Series(user_agents, dtype="string") if not isinstance(user_agents, pd.Series) else user_agents.astype("string")
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    fams: list[Any] = []
    vers: list[Any] = []
    for u in uniques:
        f, v = parse_user_agent(u, include_libraries=include_libraries)
        fams.append(f)
        vers.append(v)
    fam_arr = pd.array(fams + [None], dtype="string")
    ver_arr = pd.array(vers + [None], dtype="string")
    idx = codes.copy()
    idx[idx < 0] = len(uniques)
    return pd.DataFrame(
        {"family": fam_arr.take(idx), "version": ver_arr.take(idx)},
        index=s.index,
    )
