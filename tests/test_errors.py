"""The exception tree and the mapping of botocore errors."""

from __future__ import annotations

import inspect

import pytest
from botocore import exceptions as bx

from incidentkit import errors
from incidentkit.errors import IncidentKitError, from_botocore


def test_every_public_error_derives_from_the_root() -> None:
    classes = [c for _, c in inspect.getmembers(errors, inspect.isclass) if issubclass(c, Exception)]
    assert classes
    for cls in classes:
        if cls.__module__ == errors.__name__ and not issubclass(cls, Warning):
            assert issubclass(cls, IncidentKitError), cls
    assert not issubclass(errors.IncompleteDataWarning, IncidentKitError)


def _client_error(code: str, message: str = "boom", op: str = "FilterLogEvents") -> bx.ClientError:
    return bx.ClientError({"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"RetryAttempts": 7}}, op)


@pytest.mark.parametrize(
    "exc, cls",
    [
        (_client_error("ThrottlingException", "Rate exceeded"), errors.ThrottledError),
        (_client_error("TooManyRequestsException"), errors.ThrottledError),
        (_client_error("LimitExceededException"), errors.ThrottledError),
        (_client_error("AccessDeniedException"), errors.AccessDeniedError),
        (_client_error("UnauthorizedOperation"), errors.AccessDeniedError),
        (_client_error("ExpiredTokenException"), errors.NoCredentialsError),
        (_client_error("ResourceNotFoundException", "The specified log group does not exist."), errors.NotFoundError),
        (_client_error("TargetGroupNotFound"), errors.NotFoundError),
        (_client_error("ValidationException"), errors.AwsError),
        (bx.NoCredentialsError(), errors.NoCredentialsError),
        (bx.EndpointConnectionError(endpoint_url="http://127.0.0.1:1"), errors.EndpointError),
        (bx.NoRegionError(), errors.NoRegionError),  # an AwsError, and bad usage (exit 2)
        (ValueError("x"), IncidentKitError),
    ],
)
def test_from_botocore_maps_to_the_tree(exc: Exception, cls: type) -> None:
    err = from_botocore(exc, service="logs", log_group="/aws/lambda/api")
    assert type(err) is cls
    text = str(err)
    assert "\n" not in text and "log_group=/aws/lambda/api" in text


def test_no_region_is_an_aws_error_and_bad_usage() -> None:
    err = from_botocore(bx.NoRegionError())
    assert isinstance(err, errors.AwsError) and isinstance(err, errors.ParameterError) and "--region" in str(err)


def test_credentials_error_names_the_fix() -> None:
    text = str(from_botocore(bx.NoCredentialsError()))
    assert "--profile" in text and "AWS_ACCESS_KEY_ID" in text and "--endpoint-url" in text


def test_throttled_error_carries_retry_count() -> None:
    err = from_botocore(_client_error("ThrottlingException"))
    assert err.context["retries"] == 7 and err.context["operation"] == "FilterLogEvents"
