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
    │   └── EndpointError       the endpoint could not be reached
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
    "QueryError",
    "QueryFailedError",
    "QueryTimeoutError",
    "ParseError",
    "EvidenceError",
    "NotebookError",
    "from_botocore",
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
        return AwsError("no AWS region configured: pass --region or set AWS_REGION", **context)
    if isinstance(exc, (bx.EndpointConnectionError, bx.ConnectTimeoutError, bx.ReadTimeoutError, bx.ConnectionClosedError)):
        return EndpointError(f"could not reach AWS: {exc}", **context)
    if isinstance(exc, bx.ClientError):
        err = exc.response.get("Error", {}) if hasattr(exc, "response") else {}
        code = str(err.get("Code", "Unknown"))
        msg = str(err.get("Message", "")).strip()
        op = getattr(exc, "operation_name", None)
        context.setdefault("operation", op)
        text = f"{code}: {msg}" if msg else code
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
        return AwsError(f"AWS client error: {exc}", **context)
    return IncidentKitError(f"{type(exc).__name__}: {exc}", **context)


class IncompleteDataWarning(UserWarning):
    """A fetch or parse returned less than exists (truncated, failed page, parse errors).

    The same facts are in the frame's ``df.attrs`` (``complete``, ``truncated``,
    ``issues``) and in the report's data-quality appendix.
    """
