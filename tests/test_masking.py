"""Secrets in log text are masked; ordinary log content is left alone."""

from __future__ import annotations

import pandas as pd
import pytest

from incidentkit.masking import mask_frame, mask_obj, mask_series, mask_text

# (text with a secret, the secret itself) — a corpus of the shapes the kit must mask.
SECRETS = [
    ("Authorization: Bearer eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1c2VyLTQyIn0.c2lnbmF0dXJlX2hlcmU", "eyJzdWIiOiJ1c2VyLTQyIn0"),
    ("token=eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjE3MDAwMDAwMDB9.AbCdEfGhIjKlMnOp", "eyJleHAiOjE3MDAwMDAwMDB9"),
    ("using key AKIAIOSFODNN7EXAMPLE for upload", "AKIAIOSFODNN7EXAMPLE"),
    ("temp creds ASIAY34FZKBOKMUTVV7A issued", "ASIAY34FZKBOKMUTVV7A"),
    ("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
    ("secret wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY leaked", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
    ("Authorization: Bearer 0b79bab50daca910b000d4f1a2b675d604257e42", "0b79bab50daca910b000d4f1a2b675d604257e42"),
    ("Authorization: Basic dXNlcjpodW50ZXIyMjI=", "dXNlcjpodW50ZXIyMjI="),
    ("connect postgresql://app:Sup3rS3cret@db.internal:5432/orders", "Sup3rS3cret"),
    ("redis://:r3disPass!@cache:6379/0", "r3disPass!"),
    ("login ok password=hunter22 user=bob", "hunter22"),
    ('{"user": "bob", "password": "correct-horse-battery"}', "correct-horse-battery"),
    ("api_key: 9f8e7d6c5b4a3f2e1d0c", "9f8e7d6c5b4a3f2e1d0c"),
    ("X-Api-Key=AbC123xYz789QwE456", "AbC123xYz789QwE456"),
    ("Cookie: sessionid=8f14e45fceea167a5a36dedd4bea2543; theme=dark", "8f14e45fceea167a5a36dedd4bea2543"),
    ("Set-Cookie: connect.sid=s%3Aabc123def456.xyz; Path=/", "s%3Aabc123def456.xyz"),
    ("-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----", "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"),
    ("aws_session_token=IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQDexample", "IQoJb3JpZ2luX2VjEJr"),
    ("client_secret=7c9e6679-7425-40de-944b-e07fc1f90ae7", "7c9e6679-7425-40de-944b-e07fc1f90ae7"),
]

HARMLESS = [
    "REPORT RequestId: 3f3a5b7e-8f2d-4b1a-9c3e-1a2b3c4d5e6f\tDuration: 12.34 ms\tBilled Duration: 13 ms",
    "START RequestId: 8f507cfc-xmpl-4697-b07a-ac58fc914c95 Version: $LATEST",
    '{"level":"INFO","message":"order created","key":"orders/123","status":201,"latency_ms":42}',
    "trace Root=1-5759e988-bd862e3fe1be46a994272793 sha1 2fd4e1c67a2d28fced849ee1bb76e7391b93eb12",
    'GET https://api.example.com:443/v1/orders?page=2 HTTP/1.1 "MyApp/2.9.0 (iOS 17.1)"',
    "botocore.errorfactory.ProvisionedThroughputExceededException: An error occurred",
    "tokens remaining in bucket: 12",
]


@pytest.mark.parametrize("text, secret", SECRETS)
def test_secret_shapes_are_masked(text: str, secret: str) -> None:
    masked = mask_text(text)
    assert secret not in masked
    assert "[masked:" in masked


@pytest.mark.parametrize("text", HARMLESS)
def test_ordinary_log_lines_are_untouched(text: str) -> None:
    assert mask_text(text) == text


def test_masking_is_idempotent() -> None:
    for text, _ in SECRETS:
        once = mask_text(text)
        assert mask_text(once) == once


def test_mask_frame_and_obj_keep_shape() -> None:
    df = pd.DataFrame(
        {"message": pd.Series([SECRETS[0][0], HARMLESS[0], None], dtype="string"), "n": [1, 2, 3]}
    )
    df.attrs["query"] = {"pattern": "password=hunter22"}
    out = mask_frame(df)
    assert out["n"].tolist() == [1, 2, 3]
    assert SECRETS[0][1] not in out["message"][0] and out["message"][1] == HARMLESS[0]
    assert pd.isna(out["message"][2])
    assert "hunter22" not in str(out.attrs)
    assert df["message"][0] == SECRETS[0][0], "the input frame must not be modified"
    assert mask_obj({"a": ["password=hunter22", 3]}) == {"a": ["password=[masked:secret]", 3]}
    assert mask_series(pd.Series([], dtype="string")).empty
