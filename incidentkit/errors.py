"""The exception tree of incidentkit.

Every error the kit raises on purpose derives from :class:`IncidentKitError`, so
``except IncidentKitError`` catches all of them and nothing else. Errors coming
from botocore are mapped with ``raise ... from`` (see :func:`from_botocore`) and
carry context: the service, the operation and whatever the caller knows (log
group, query id, window).

Tree::

    IncidentKitError
    ├── BadWindowError          (also ValueError) unparseable time, end <= start, future window
    ├── ParameterError          (also ValueError) bad template / CLI parameter
    │   └── UnknownTemplateError
    ├── ReadOnlyViolation       a mutating AWS call refused before it was sent
    ├── AwsError                an AWS call failed
    │   ├── NoCredentialsError  no credentials found, or they expired
    │   ├── AccessDeniedError   the principal lacks a permission
    │   ├── NotFoundError       a log group, table, alarm ... does not exist
    │   ├── ThrottledError      still throttled after the retry budget
    │   ├── EndpointError       the endpoint could not be reached
    │   └── NoRegionError       no region given or configured (also a ParameterError: bad usage)
    ├── QueryError              a Logs Insights query did not complete
    │   ├── QueryFailedError    status Failed, Cancelled or Unknown
    │   └── QueryTimeoutError   status Timeout, or our own time limit
    ├── ParseError              a log record could not be parsed (only when asked to be strict)
    ├── EvidenceError           an evidence bundle is missing, corrupt or lacks a frame
    └── NotebookError           a template notebook failed while executing

Warnings: ``IncompleteDataWarning`` (a UserWarning) when a fetch or parse returned less than exists.

Example
-------
>>> from incidentkit.errors import IncidentKitError, BadWindowError
>>> issubclass(BadWindowError, IncidentKitError) and issubclass(BadWindowError, ValueError)
True
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

__all__ = [
    "IncidentKitError",
    "BadWindowError",
    "ParameterError",
    "UnknownTemplateError",
    "ReadOnlyViolation",
    "AwsError",
    "NoCredentialsError",
    "AccessDeniedError",
    "NotFoundError",
    "ThrottledError",
    "EndpointError",
    "NoRegionError",
    "QueryError",
    "QueryFailedError",
    "QueryTimeoutError",
    "ParseError",
    "EvidenceError",
    "NotebookError",
    "from_botocore",
    "summarize",
    "IncompleteDataWarning",
]


class IncidentKitError(Exception):
    """Root of every error incidentkit raises on purpose.

    Parameters
    ----------
    message:
        One line saying what went wrong and what to do about it.
    **context:
        Facts that help the reader (``log_group=...``, ``query_id=...``); kept in
        :attr:`context` and appended to ``str(error)``.
    """

    def __init__(self, message: str, **context: Any) -> None:
        self.message = message
        self.context = {k: v for k, v in context.items() if v is not None}
        super().__init__(message)

    def __str__(self) -> str:
        if not self.context:
            return self.message
        extra = ", ".join(f"{k}={_short(v)}" for k, v in self.context.items())
        return f"{self.message} ({extra})"


def _short(value: Any, limit: int = 120) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


#: Longest summary of an error text (an AWS error body, an exception message) the kit keeps.
SUMMARY_LIMIT = 200
#: Markup in an error text: a doctype, an XML declaration or an HTML element's tag (``<NA>`` is no markup).
_MARKUP = re.compile(
    r"<(?:!doctype|\?xml|/?(?:html|head|body|title|meta|link|script|style|noscript|div|span|p|pre|code|h[1-6]|a|img|"
    r"iframe|frame|object|embed|svg|math|table|tr|td|th|ul|ol|li|br|hr|center|b|i|em|strong|form|input|button|"
    r"textarea|select|details|summary|base|template)(?=[\s/>]))",
    re.I,
)
_TITLE = re.compile(r"<title[^>]*>(.*?)</title\s*>", re.I | re.S)
_INVISIBLE = re.compile(r"<(script|style|head)\b.*?</\1\s*>", re.I | re.S)


class _TextOnly(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        self.parts.append("\n")


def summarize(text: Any, limit: int = SUMMARY_LIMIT) -> str:
    """One line of an error text: never a pasted body.

    An AWS endpoint (or a proxy, load balancer or emulator in front of it) can answer with
    an HTML page or a long body, and botocore puts that body into the error message. The
    kit keeps the first line of its text only: for markup, the page's ``<title>`` or else its
    first line of visible text (scripts and styles dropped); whitespace collapsed; at most
    ``limit`` characters. The result is still data: it is escaped wherever it is rendered.

    Parameters
    ----------
    text:
        The error text (``None`` gives ``""``).
    limit:
        The longest result, ``…`` included.

    Returns
    -------
    str

    Example
    -------
    >>> summarize("<html><head><title>502 Bad Gateway</title><script>alert(1)</script></head><body>...</body></html>")
    '502 Bad Gateway'
    >>> summarize("Rate exceeded\\n  at line 2")
    'Rate exceeded'
    >>> summarize("column status has <NA> values")
    'column status has <NA> values'
    """
    raw = "" if text is None else str(text)
    if _MARKUP.search(raw):
        title = _TITLE.search(raw)
        if title and title.group(1).strip():
            raw = title.group(1)
        else:
            parser = _TextOnly()
            try:
                parser.feed(_INVISIBLE.sub(" ", raw))
                parser.close()
            except Exception:  # html.parser is lenient; a failure here must not hide the error itself
                parser.parts = [re.sub(r"<[^>]*>", " ", raw)]
            raw = "".join(parser.parts)
        raw = raw.replace("<", "‹").replace(">", "›")  # what is left of a broken tag stays visibly text
    lines = [" ".join(line.split()) for line in raw.splitlines()]
    first = next((line for line in lines if line), "")
    return _short(first, limit)


class BadWindowError(IncidentKitError, ValueError):
    """A time or a window could not be understood, or makes no sense."""


class ParameterError(IncidentKitError, ValueError):
    """A template or CLI parameter is missing, unknown or of the wrong type."""


class UnknownTemplateError(ParameterError):
    """No notebook template has that name."""


class ReadOnlyViolation(IncidentKitError):
    """A mutating AWS operation was refused before anything was sent."""


class AwsError(IncidentKitError):
    """An AWS call failed; ``context`` names the service and operation."""


class NoCredentialsError(AwsError):
    """No AWS credentials could be found, or they expired."""


class AccessDeniedError(AwsError):
    """The caller is not allowed to make this call."""


class NotFoundError(AwsError):
    """The named resource (log group, table, alarm, ...) does not exist."""


class ThrottledError(AwsError):
    """AWS kept throttling the call after the whole retry budget was spent."""


class EndpointError(AwsError):
    """The AWS endpoint could not be reached (network, DNS, wrong --endpoint-url)."""


class NoRegionError(AwsError, ParameterError):
    """No AWS region was given (``--region``) or configured (``AWS_REGION``, the profile).

    Nothing can be read without one, so it stops a command like missing credentials do;
    and it is fixed on the command line, so the CLI treats it as bad usage (exit 2).
    """


class QueryError(IncidentKitError):
    """A CloudWatch Logs Insights query did not complete."""


class QueryFailedError(QueryError):
    """The query ended Failed, Cancelled or Unknown."""


class QueryTimeoutError(QueryError):
    """The query ended Timeout, or did not finish within our time limit."""


class ParseError(IncidentKitError, ValueError):
    """A record could not be parsed and the caller asked for strict parsing."""


class EvidenceError(IncidentKitError):
    """An evidence bundle is missing, corrupt, or lacks the frame asked for."""


class NotebookError(IncidentKitError):
    """A template notebook failed while executing.

    ``context`` holds ``cell`` (index), ``ename`` and ``evalue`` when known, and
    ``notebook`` (the path of the partially executed notebook, which is kept).
    """


_THROTTLE_CODES = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "RequestThrottledException",
    "SlowDown",
    "ProvisionedThroughputExceededException",
}
_DENIED_CODES = {
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "UnauthorizedException",
    "AuthorizationError",
    "Client.UnauthorizedOperation",
}
_CRED_CODES = {
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "RequestExpired",
}
_NOT_FOUND_SUFFIXES = ("NotFound", "NotFoundException", "NotFoundFault", "NoSuchEntity", "NoSuchBucket", "NoSuchKey")

CREDENTIALS_HINT = (
    "configure credentials (AWS_PROFILE / --profile, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
    "or `aws sso login`), or point --endpoint-url at an emulator"
)


def from_botocore(exc: BaseException, **context: Any) -> IncidentKitError:
    """Map a botocore/boto3 exception to the kit's tree.

    The caller raises the result ``from exc`` so the original stays attached.

    Parameters
    ----------
    exc:
        The exception botocore raised.
    **context:
        What the caller was doing (``service``, ``operation``, ``log_group``...).

    Returns
    -------
    IncidentKitError
        The most specific kit error for ``exc``.

    Example
    -------
    >>> from botocore.exceptions import NoCredentialsError as BotoNoCreds
    >>> err = from_botocore(BotoNoCreds(), service="logs")
    >>> type(err).__name__
    'NoCredentialsError'
    """
    from botocore import exceptions as bx

    if isinstance(exc, IncidentKitError):
        return exc
    if isinstance(exc, (bx.NoCredentialsError, bx.PartialCredentialsError, bx.TokenRetrievalError)) or (
        type(exc).__name__ in {"SSOTokenLoadError", "UnauthorizedSSOTokenError", "CredentialRetrievalError"}
    ):
        return NoCredentialsError(f"no usable AWS credentials: {CREDENTIALS_HINT}", **context)
    if isinstance(exc, bx.NoRegionError):
        return NoRegionError("no AWS region configured: pass --region or set AWS_REGION", **context)
    if isinstance(exc, (bx.EndpointConnectionError, bx.ConnectTimeoutError, bx.ReadTimeoutError, bx.ConnectionClosedError)):
        return EndpointError(f"could not reach AWS: {summarize(exc)}", **context)
    if isinstance(exc, bx.ClientError):
        response = exc.response if hasattr(exc, "response") else {}
        err = response.get("Error", {}) or {}
        code = summarize(err.get("Code", "Unknown"), 80) or "Unknown"
        msg = summarize(err.get("Message", ""))
        status = (response.get("ResponseMetadata") or {}).get("HTTPStatusCode")
        op = getattr(exc, "operation_name", None)
        context.setdefault("operation", op)
        text = f"{code}: {msg}" if msg and msg != code else code
        if status and str(status) != code:
            text = f"HTTP {status} {text}"
        if code in _THROTTLE_CODES or "Throttl" in code:
            attempts = exc.response.get("ResponseMetadata", {}).get("RetryAttempts")
            return ThrottledError(
                f"AWS still throttled the call after the retry budget ({text}); "
                "wait and re-run, narrow the window, or raise INCIDENTKIT_MAX_ATTEMPTS (default 8)",
                retries=attempts,
                **context,
            )
        if code in _CRED_CODES:
            return NoCredentialsError(f"AWS rejected the credentials ({text}): {CREDENTIALS_HINT}", **context)
        if code in _DENIED_CODES or "AccessDenied" in code or "Unauthorized" in code:
            return AccessDeniedError(
                f"access denied ({text}); grant the action in incidentkit/policy/readonly-iam.json", **context
            )
        if code.endswith(_NOT_FOUND_SUFFIXES) or code in {"ResourceNotFoundException", "NoSuchHealthCheck"}:
            return NotFoundError(f"not found ({text})", **context)
        return AwsError(f"AWS error {text}", **context)
    if isinstance(exc, bx.BotoCoreError):
        return AwsError(f"AWS client error: {summarize(exc)}", **context)
    return IncidentKitError(f"{type(exc).__name__}: {summarize(exc)}", **context)


class IncompleteDataWarning(UserWarning):
    """A fetch or parse returned less than exists (truncated, failed page, parse errors).

    The same facts are in the frame's ``df.attrs`` (``complete``, ``truncated``,
    ``issues``) and in the report's data-quality appendix.
    """
