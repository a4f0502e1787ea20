"""Secrets in text are masked, by rule family; ordinary log content is left alone.

One parametrised test per family of :mod:`incidentkit.masking._rules` (the families of gitleaks
and detect-secrets), each with true positives and with near misses that must stay as they
are (request ids, hex trace ids, UUIDs, epoch milliseconds, CloudWatch event ids, "token
bucket"...). Then the keyword-named values in every form (key=value, YAML, headers, JSON,
JSON inside JSON, Python repr, XML, name/value pairs) and case style, CloudTrail
``requestParameters`` with Lambda and ECS environment variables, and the engines: the RE2 gate
of :func:`mask_series` must let through every true positive (it is a necessary condition),
and the vectorised paths must give what :func:`mask_text` gives.

The fake secrets are generated (seeded) with the shape each rule expects.
"""

from __future__ import annotations

import json
import string

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from incidentkit.fetch import changes
from incidentkit import masking
from incidentkit.masking._rules import FAMILY_GATES, card_number_ok, name_kind
from incidentkit.masking import mask_frame, mask_obj, mask_series, mask_text, mask_texts
from _helpers.secrets import ALNUM, HEX, SECRETS, fake, luhn


HARMLESS = [
    "REPORT RequestId: 3f3a5b7e-8f2d-4b1a-9c3e-1a2b3c4d5e6f\tDuration: 12.34 ms\tBilled Duration: 13 ms",
    "START RequestId: 8f507cfc-xmpl-4697-b07a-ac58fc914c95 Version: $LATEST",
    '{"level":"INFO","message":"order created","key":"orders/123","status":201,"latency_ms":42}',
    "trace Root=1-5759e988-bd862e3fe1be46a994272793 sha1 2fd4e1c67a2d28fced849ee1bb76e7391b93eb12",
    'GET https://api.example.com:443/v1/orders?page=2 HTTP/1.1 "MyApp/2.9.0 (iOS 17.1)"',
    "botocore.errorfactory.ProvisionedThroughputExceededException: An error occurred",
    "tokens remaining in bucket: 12",
    "XRAY TraceId: 1-69a39e57-72cc74576436e71a7bee24d5\tSegmentId: 6621030756637313\tSampled: true",
    '{"eventId":"00000001772330400000000000000000000000000000000000000000","timestamp":1772330400000}',
    "token bucket refilled; max_tokens=512 token_type=Bearer token_count: 12",
]


@pytest.mark.parametrize("text, secret", SECRETS)
def test_secret_shapes_are_masked(text: str, secret: str) -> None:
    masked = mask_text(text)
    assert secret not in masked
    assert "[masked:" in masked


@pytest.mark.parametrize("text", HARMLESS)
def test_ordinary_log_lines_are_untouched(text: str) -> None:
    assert mask_text(text) == text


# -- one test per family -----------------------------------------------------------------------------

PEM_BODY = fake(64, ALNUM + "+/")
#: family -> (true positives as (text, secret, kind), near misses that must stay as they are)
FAMILIES: dict[str, tuple[list[tuple[str, str, str]], list[str]]] = {
    "private-key": (
        [
            (f"-----BEGIN RSA PRIVATE KEY-----\n{PEM_BODY}\n-----END RSA PRIVATE KEY-----", PEM_BODY, "private-key"),
            (f'{{"private_key": "-----BEGIN PRIVATE KEY-----\\n{PEM_BODY}\\n-----END PRIVATE KEY-----\\n"}}', PEM_BODY, "private-key"),
            (f"-----BEGIN OPENSSH PRIVATE KEY-----\n{PEM_BODY}", PEM_BODY, "private-key"),
            (f"-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n{PEM_BODY}\n-----END PGP PRIVATE KEY BLOCK-----", PEM_BODY, "private-key"),
        ],
        ["-----BEGIN CERTIFICATE-----", "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE"],
    ),
    "jwt": (
        [
            (f"jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.{fake(43, ALNUM + '_-')}", "eyJzdWIiOiIxMjMifQ", "jwt"),
            (f'{{"id_token":"eyJraWQiOiJrMSJ9.eyJlbWFpbCI6ImFAYi5jIn0.{fake(20)}"}}', "eyJlbWFpbCI6ImFAYi5jIn0", "jwt"),
        ],
        ["payload eyJ is the start of a JWT", "base64 eyJhIjoxfQ== alone"],
    ),
    "token": (
        [
            (f"ghp_{fake(36)}", f"ghp_{fake(36)}", "github-token"),
            (f"gho_{fake(36, seed=4)}", f"gho_{fake(36, seed=4)}", "github-token"),
            (f"github_pat_{fake(82, ALNUM + '_')}", f"github_pat_{fake(82, ALNUM + '_')}", "github-token"),
            (f"glpat-{fake(20, ALNUM + '_-')}", f"glpat-{fake(20, ALNUM + '_-')}", "gitlab-token"),
            (f"xoxb-{fake(11, string.digits)}-{fake(12, string.digits)}-{fake(24)}", fake(24), "slack-token"),
            (f"xoxp-{fake(11, string.digits)}-{fake(12, string.digits)}-{fake(32, HEX)}", fake(32, HEX), "slack-token"),
            (f"https://hooks.slack.com/services/T{fake(8, string.ascii_uppercase)}/B{fake(8, string.ascii_uppercase)}/{fake(24)}",
             fake(24), "slack-webhook"),
            (f"sk_live_{fake(24)}", f"sk_live_{fake(24)}", "stripe-key"),
            (f"rk_test_{fake(24, seed=5)}", f"rk_test_{fake(24, seed=5)}", "stripe-key"),
            (f"whsec_{fake(32)}", f"whsec_{fake(32)}", "stripe-key"),
            (f"AIza{fake(35, ALNUM + '_-')}", f"AIza{fake(35, ALNUM + '_-')}", "google-api-key"),
            (f"ya29.{fake(60, ALNUM + '_-')}", f"ya29.{fake(60, ALNUM + '_-')}", "google-oauth-token"),
            (f"npm_{fake(36)}", f"npm_{fake(36)}", "npm-token"),
            (f"pypi-AgEIcHlwaS5vcmc{fake(60, ALNUM + '_-')}", fake(60, ALNUM + "_-"), "pypi-token"),
            (f"sk-proj-{fake(20)}T3BlbkFJ{fake(20)}", f"sk-proj-{fake(20)}", "openai-key"),
            (f"sk-ant-api03-{fake(93, ALNUM + '_-')}AA", fake(93, ALNUM + "_-"), "anthropic-key"),
            (f"hf_{fake(34, string.ascii_letters)}", f"hf_{fake(34, string.ascii_letters)}", "huggingface-token"),
            (f"SG.{fake(22, ALNUM + '_-')}.{fake(43, ALNUM + '_-')}", fake(43, ALNUM + "_-"), "sendgrid-key"),
            (f"key-{fake(32, HEX)}", fake(32, HEX), "mailgun-key"),
            (f"{fake(32, HEX, seed=6)}-us14", fake(32, HEX, seed=6), "mailchimp-key"),
            (f"shpat_{fake(32, HEX)}", fake(32, HEX), "shopify-token"),
            (f"dop_v1_{fake(64, HEX)}", fake(64, HEX), "digitalocean-token"),
            (f"dapi{fake(32, HEX)}", fake(32, HEX), "databricks-token"),
            (f"hvs.{fake(90, ALNUM + '_-')}", fake(90, ALNUM + "_-"), "vault-token"),
            (f"{fake(14, seed=7)}.atlasv1.{fake(67, ALNUM + '_-')}", fake(67, ALNUM + "_-"), "terraform-token"),
            (f"ATATT3{fake(186, ALNUM + '_-')}", fake(186, ALNUM + "_-"), "atlassian-token"),
            (f"sq0atp-{fake(22, ALNUM + '_-')}", fake(22, ALNUM + "_-"), "square-token"),
            (f"EAAC{fake(120)}", fake(120), "facebook-token"),
            (f"NRAK-{fake(27, string.ascii_uppercase + string.digits)}", fake(27, string.ascii_uppercase + string.digits), "newrelic-key"),
            (f"glsa_{fake(32)}_{fake(8, HEX)}", fake(32), "grafana-token"),
            (f"sntrys_{fake(60, ALNUM + '+/=')}", fake(60, ALNUM + "+/="), "sentry-token"),
            (f"dp.pt.{fake(43)}", fake(43), "doppler-token"),
            (f"lin_api_{fake(40)}", fake(40), "linear-key"),
            (f"PMAK-{fake(24, HEX)}-{fake(34, HEX)}", fake(34, HEX), "postman-key"),
            (f"pul-{fake(40, HEX)}", fake(40, HEX), "pulumi-token"),
            (f"pscale_tkn_{fake(43, ALNUM + '_')}", fake(43, ALNUM + "_"), "planetscale-token"),
            (f"rubygems_{fake(48, HEX)}", fake(48, HEX), "rubygems-key"),
            (f"HRKU-AA{fake(58, ALNUM + '_-')}", fake(58, ALNUM + "_-"), "heroku-key"),
            (f"AGE-SECRET-KEY-1{fake(58, 'QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L')}", fake(58, "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L"), "age-key"),
            (f"LTAI{fake(20)}", f"LTAI{fake(20)}", "alibaba-key"),
            (f"client secret abc8Q~{fake(34, ALNUM + '_~.-')}", fake(34, ALNUM + "_~.-"), "azure-client-secret"),
            (f"bot{fake(10, string.digits)}:AA{fake(33, ALNUM + '_-')}", fake(33, ALNUM + "_-"), "telegram-token"),
            (f"https://discord.com/api/webhooks/{fake(18, string.digits)}/{fake(68, ALNUM + '_-')}", fake(68, ALNUM + "_-"),
             "discord-webhook"),
            (f"dt0c01.{fake(24, string.ascii_uppercase + string.digits)}.{fake(64, string.ascii_uppercase + string.digits)}",
             fake(64, string.ascii_uppercase + string.digits), "dynatrace-token"),
            (f"fo1_{fake(43, ALNUM + '_-')}", fake(43, ALNUM + "_-"), "flyio-token"),
            (f"ops_eyJ{fake(260, ALNUM + '+/')}", fake(260, ALNUM + "+/"), "1password-token"),
            (f"{fake(32, HEX, seed=8)}-us9", fake(32, HEX, seed=8), "mailchimp-key"),
            (f"GOCSPX-{fake(28, ALNUM + '_-')}", fake(28, ALNUM + "_-"), "google-oauth-token"),
            (f"ntn_{fake(11, string.digits)}{fake(35)}", fake(35), "notion-token"),
        ],
        ["ghp_short", "github_pat_", "xoxb-1", "sk_live_", "AIzaShort", "npm_install done", "task-sk-1", "risk-score 0.2",
         "key-value store", "us-east-1 and eu-west-1", "shpat_notahexvalue", "dapi version 2", "SG.1 sent",
         "EAA region", "hf_transfer enabled", "pul-request 12", "half_time=3"],
    ),
    "aws": (
        [
            ("AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE", "aws-access-key-id"),
            ('{"accessKeyId":"ASIAY34FZKBOKMUTVV7A","type":"AssumedRole"}', "ASIAY34FZKBOKMUTVV7A", "aws-access-key-id"),
            (f"x-amz-security-token: FwoGZXIvYXdzE{fake(80, ALNUM + '/+')}", fake(80, ALNUM + "/+"), "aws-session-token"),
            ('{"SecretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}', "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "secret"),
            ("AKIAIOSFODNN7EXAMPLE wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
             "aws-secret-key"),
        ],
        ["AKIA is the prefix of an access key id", "commit 2fd4e1c67a2d28fced849ee1bb76e7391b93eb12 rotated the secret",
         "s3 host id vlR7PnpV2Ce81l0PRw6jlUpck7Jo5ZsQjryTjKlc5aLWGVHPZLj5NeC6qMa0emYBDXOo6QBU0Wo="],
    ),
    "url-password": (
        [
            ("postgres://app:pa/ss;w0rd@db:5432/x", "pa/ss;w0rd", "password"),
            ("mongodb+srv://svc:Xy7%40z@cluster0.mongodb.net/db", "Xy7%40z", "password"),
            ("redis://:r3dis@cache:6379", "r3dis", "password"),
        ],
        ["https://example.com:8080/users/@alice", "https://registry.npmjs.org:443/@scope/pkg", "mailto:ops@example.com",
         "ssh://git@github.com/org/repo.git"],
    ),
    "authorization": (
        [
            ("Authorization: Bearer opaque-token-0123456789", "opaque-token-0123456789", "bearer"),
            ('{"headers": {"authorization": "Basic dXNlcjpwYXNzd29yZA=="}}', "dXNlcjpwYXNzd29yZA==", "basic"),
            ("Authorization: token 0123456789abcdef0123", "0123456789abcdef0123", "token"),
            ("authorization=ApiKey a1b2c3d4e5f6 status=401", "a1b2c3d4e5f6", "apikey"),
            (f"Authorization: AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260301/us-east-1/s3/aws4_request, "
             f"SignedHeaders=host, Signature={fake(64, HEX)}", fake(64, HEX), "aws4-hmac-sha256"),
            ("Proxy-Authorization: Basic cHJveHk6c2VjcmV0", "cHJveHk6c2VjcmV0", "basic"),
            ("curl -H 'Authorization: Bearer abc123def456ghi789' https://x", "abc123def456ghi789", "bearer"),
            ("token 9f8e7d6c5b4a39281706 expired", "9f8e7d6c5b4a39281706", "token"),
        ],
        ["Basic authentication failed for user bob", "Bearer token missing", "authorization: denied",
         "invalid token: expired", "token bucket refilled", "Authorization: Bearer [masked:jwt]"],
    ),
    "cookie": (
        [
            ("Cookie: session=Fe26.2**abc; theme=dark", "Fe26.2**abc", "cookie"),
            ('{"cookie": "JSESSIONID=9F1A2B3C4D; _ga=GA1.2.3"}', "9F1A2B3C4D", "cookie"),
            ("Set-Cookie: __Host-sid=a1b2c3; Path=/; Secure; HttpOnly", "a1b2c3", "cookie"),
        ],
        ["cookie consent banner shown", "cookies: 3 set"],
    ),
    "presigned-url": (
        [
            (f"https://b.s3.amazonaws.com/k?X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20260301%2Fus-east-1%2Fs3%2Faws4_request"
             f"&X-Amz-Security-Token=IQoJb3JpZ2luX2Vj{fake(60, ALNUM + '%')}&X-Amz-Signature={fake(64, HEX)}",
             fake(64, HEX), "secret"),
            (f"https://d1.cloudfront.net/v.mp4?Expires=1772330400&Signature={fake(40, ALNUM + '~-_')}&Key-Pair-Id=K2JCJMDEHXQW5F",
             fake(40, ALNUM + "~-_"), "secret"),
            (f"https://acct.blob.core.windows.net/c/b?sv=2022-11-02&sp=r&sig={fake(43, ALNUM + '%')}", fake(43, ALNUM + "%"), "secret"),
            (f"https://storage.googleapis.com/b/o?X-Goog-Signature={fake(64, HEX)}&X-Goog-Date=20260301T000000Z", fake(64, HEX), "secret"),
        ],
        ["X-Amz-SignedHeaders=host&X-Amz-Expires=900", "signature_version=s3v4", "X-Amz-Date=20260301T000000Z"],
    ),
    "card-number": (
        [
            (f"card {luhn('4', 16)} declined", luhn("4", 16), "card-number"),
            (f"card {'-'.join(luhn('51', 16)[i:i + 4] for i in range(0, 16, 4))}", luhn("51", 16)[4:8], "card-number"),
            (f"amex {luhn('37', 15)[:4]} {luhn('37', 15)[4:10]} {luhn('37', 15)[10:]}", luhn("37", 15)[4:10], "card-number"),
            (f'{{"pan":"{luhn("6011", 16)}"}}', luhn("6011", 16), "card-number"),
            (f"mc2 {luhn('2221', 16)}", luhn("2221", 16), "card-number"),
            (f"jcb {luhn('3530', 16)}", luhn("3530", 16), "card-number"),
            (f"visa19 {luhn('4', 19)}", luhn("4", 19), "card-number"),
        ],
        [
            f"card {luhn('4', 16)[:-1]}{(int(luhn('4', 16)[-1]) + 1) % 10} declined",  # Luhn fails
            f"number {luhn('1', 16)} and {luhn('7', 16)} and {luhn('9', 13)}",  # Luhn right, no card network
            "epoch ms 1772330400000 us 1772330400000000 ns 1772330400000000000",
            "event 00000001772330400000000000000000000000000000000000000000",
            "uuid 12345678-1234-4234-9234-123456789012 ok",
            f"SegmentId: {luhn('4', 16)}", f'"order_id":"{luhn("4", 16)}"',
            "amount 4111.11 at 2026-03-01 12:00:00", f"v{luhn('4', 16)}x",
        ],
    ),
}


@pytest.mark.parametrize("family", list(FAMILIES))
def test_each_family_masks_its_secrets_and_leaves_near_misses(family: str) -> None:
    positives, near_misses = FAMILIES[family]
    for text, secret, kind in positives:
        masked = mask_text(text)
        assert secret not in masked, f"{family}: {secret!r} left in {masked!r}"
        assert f"[masked:{kind}]" in masked, f"{family}: expected [masked:{kind}] in {masked!r}"
    for text in near_misses:
        assert mask_text(text) == text, f"{family}: near miss changed: {text!r} -> {mask_text(text)!r}"


def test_every_token_rule_has_a_true_positive() -> None:
    from incidentkit.masking._rules import TOKEN_RULES

    kinds = {kind for _text, _secret, kind in FAMILIES["token"][0]}
    assert {kind for kind, *_ in TOKEN_RULES} == kinds


# -- keyword-named values: every form, every case style ------------------------------------------------

NAMES = ["DB_PASSWORD", "dbPassword", "db-password", "db.password", "STRIPE_SECRET_KEY", "GITHUB_TOKEN", "clientSecret",
         "x-api-key", "X-Amz-Signature", "aws_secret_access_key", "PASSWORD_PROD", "mypassword", "api_key_2", "ApiKey",
         "refresh_token", "session_id", "PHPSESSID", "sessionToken", "private_key", "credentials", "pwd", "passphrase"]
VALUE = "Zx9/q;W!rT 4"  # a slash, a semicolon, a space (quoted forms) and a bang
BARE = "Zx9/q;W!rT4"


def _forms(name: str) -> dict[str, tuple[str, str]]:
    """form -> (text, the value that must disappear)."""
    inner = json.dumps({"msg": "config", name: VALUE})
    return {
        "key=value": (f"start {name}={BARE} user=bob", BARE),
        "key = value": (f"{name} = {BARE}", BARE),
        "--flag=value": (f"run --{name}={BARE}", BARE),
        "query": (f"GET /cb?code=1&{name}={BARE}&state=2", BARE),
        "yaml": (f"config:\n  db:\n    {name}: {BARE}\n  port: 5432", BARE),
        "header": (f"{name}: {BARE}", BARE),
        "json": (json.dumps({"level": "INFO", "nested": {"deeper": {name: VALUE}}}), VALUE),
        "json-in-json": (json.dumps({"error": inner}), VALUE),
        "json-in-json-in-json": (json.dumps({"outer": json.dumps({"error": inner})}), VALUE),
        "python-repr": (repr({"user": "bob", name: VALUE}), VALUE),
        "xml": (f"<cfg><{name}>{VALUE}</{name}></cfg>", VALUE),
        "name/value": (json.dumps([{"name": name, "value": VALUE}]), VALUE),
        "ParameterKey": (json.dumps({"parameters": [{"parameterKey": name, "parameterValue": VALUE}]}), VALUE),
        "truncated": (json.dumps({"params": json.dumps({name: VALUE + "-and-more"})[:-6] + "…"}), VALUE),
    }


@pytest.mark.parametrize("name", NAMES)
def test_keyword_named_values_are_masked_in_every_form(name: str) -> None:
    assert name_kind(name) is not None
    for form, (text, value) in _forms(name).items():
        masked = mask_text(text)
        assert value not in masked and VALUE.split()[0] not in masked, f"{form}: {masked!r}"
        assert "[masked:" in masked, form


@pytest.mark.parametrize("name", ["token_type", "max_tokens", "secret_name", "secret_arn", "password_length", "session_duration_ms",
                                  "auth_errors", "partition_key", "cache_key", "passenger_count", "bypass", "keyboard_layout",
                                  "signature_version", "aws_access_key_id", "kms_key_id", "public_key", "token_url", "monkey"])
def test_names_that_describe_a_secret_or_are_no_secret_keep_their_value(name: str) -> None:
    assert name_kind(name) is None
    for form in ("key=value", "json", "yaml"):
        text, _ = _forms(name)[form]
        assert mask_text(text) == text, (form, mask_text(text))


def test_placeholders_and_arns_are_not_masked() -> None:
    for value in ("${DB_PASSWORD}", "{{ secrets.TOKEN }}", "<redacted>", "null", "true", "", "****",
                  "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf", "[masked:secret]"):
        text = json.dumps({"password": value})
        assert mask_text(text) == text, text


# -- CloudTrail requestParameters ------------------------------------------------------------------------


def _cloudtrail(name: str, params: dict) -> dict:
    return {"eventVersion": "1.08", "eventTime": "2026-03-01T03:00:00Z", "eventSource": "lambda.amazonaws.com",
            "eventName": name, "awsRegion": "us-east-1", "eventID": f"e-{name}", "readOnly": False,
            "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::123456789012:user/ops", "accessKeyId": "AKIAIOSFODNN7EXAMPLE"},
            "requestParameters": params}  # fmt: skip


LAMBDA_ENV = {f"VAR_{i:02d}": f"value-{i:02d}-{fake(12, seed=i)}" for i in range(40)} | {
    "DB_PASSWORD": "Zq8;wE/rT5", "LOG_LEVEL": "debug", "DATABASE_URL": "postgres://app:Pg9/pass@db:5432/x",
    "STRIPE": f"sk_live_{fake(24, seed=9)}"}


@pytest.mark.parametrize("event, params, secrets", [
    ("UpdateFunctionConfiguration20150331v2", {"functionName": "checkout", "environment": {"variables": LAMBDA_ENV}},
     [v for v in LAMBDA_ENV.values()]),
    ("CreateFunction20150331", {"functionName": "f", "environment": {"variables": {"API_TOKEN": "tok-123456", "MODE": "prod-x1"}}},
     ["tok-123456", "prod-x1"]),
    ("RegisterTaskDefinition", {"family": "api", "containerDefinitions": [{"name": "app", "environment": [
        {"name": "DB_PASSWORD", "value": "ecs-pass-1"}, {"name": "REGION", "value": "eu-west-9x"}],
        "secrets": [{"name": "API_KEY", "valueFrom": "arn:aws:ssm:us-east-1:123456789012:parameter/api"}]}]},
     ["ecs-pass-1", "eu-west-9x"]),
    ("ModifyDBInstance", {"dBInstanceIdentifier": "orders", "masterUserPassword": "Rds/Pass;99"}, ["Rds/Pass;99"]),
])  # fmt: skip
def test_cloudtrail_parameters_are_masked_in_the_changes_frame_and_its_evidence(event: str, params: dict, secrets: list[str]) -> None:
    frame = changes.parse_cloudtrail_records([_cloudtrail(event, params)])
    for text in (frame["detail"].iloc[0], mask_frame(frame)["detail"].iloc[0], mask_text(json.dumps(params))):
        for secret in secrets:
            assert secret not in text, (secret, text)
    detail = frame["detail"].iloc[0]
    assert frame["resource"].iloc[0] in detail or frame["resource"].iloc[0] in json.dumps(params)
    if "LOG_LEVEL" in json.dumps(params):  # the names of the variables stay: the reader sees what changed
        assert "LOG_LEVEL" in detail and "DB_PASSWORD" in detail


def test_mask_obj_masks_by_key_at_any_depth() -> None:
    record = _cloudtrail("UpdateFunctionConfiguration", {"environment": {"variables": {"A": "x1", "B": 2}}, "functionName": "f"})
    record["requestParameters"]["layers"] = [{"config": {"dbPassword": "pw-1", "clientSecret": 7, "token_type": "Bearer"}}]
    out = mask_obj(record)
    assert out["requestParameters"]["environment"]["variables"] == {"A": "[masked:secret]", "B": "[masked:secret]"}
    assert out["requestParameters"]["layers"][0]["config"] == {"dbPassword": "[masked:secret]", "clientSecret": "[masked:secret]",
                                                              "token_type": "Bearer"}
    assert out["userIdentity"]["accessKeyId"] == "[masked:aws-access-key-id]"
    assert out["requestParameters"]["functionName"] == "f" and out["readOnly"] is False
    assert mask_obj([{"name": "API_KEY", "value": "k1"}, {"name": "MODE", "value": "m"}]) == [
        {"name": "API_KEY", "value": "[masked:secret]"}, {"name": "MODE", "value": "m"}]
    assert mask_obj({"headers": {"Cookie": "a=1; b=2", "Authorization": "Bearer abcdefgh123"}}) == {
        "headers": {"Cookie": "a=[masked:cookie]; b=[masked:cookie]", "Authorization": "Bearer [masked:bearer]"}}


# -- the engines -----------------------------------------------------------------------------------------


def _all_positives() -> list[str]:
    texts = [t for t, _ in SECRETS] + [t for positives, _ in FAMILIES.values() for t, _s, _k in positives]
    texts += [text for name in NAMES for text, _ in _forms(name).values()]
    return texts


def test_the_gate_is_a_necessary_condition_in_both_engines() -> None:
    """RE2 (pyarrow) and Python's re read every gate alike, and every true positive passes the union gate."""
    import re

    texts = _all_positives()
    arr = pa.array(texts, type=pa.large_string())
    assert all(pc.match_substring_regex(arr, masking.GATE).to_pylist())
    python_gate = re.compile(masking.GATE, re.ASCII)
    assert all(python_gate.search(t) for t in texts)
    for family, gate in FAMILY_GATES.items():
        re2 = pc.match_substring_regex(arr, gate).to_pylist()
        py = [re.compile(gate, re.ASCII).search(t) is not None for t in texts]
        assert re2 == py, family


def test_vectorised_paths_give_what_mask_text_gives() -> None:
    texts = _all_positives() + HARMLESS + [n for _, (_, near) in FAMILIES.items() for n in near]
    expected = [mask_text(t) for t in texts]
    # a big column (grouped gate), the same as many small texts (Python gates), one batch (RE2 gates)
    column = pd.Series(texts * 40 + [None], dtype="string")
    assert mask_series(column).iloc[:-1].tolist() == expected * 40 and pd.isna(mask_series(column).iloc[-1])
    assert mask_texts(texts) == expected
    assert [mask_texts([t])[0] for t in texts] == expected
    # a column of few distinct values (masked once per value)
    few = pd.Series([texts[0], HARMLESS[0], texts[5]] * 5000, dtype="string")
    assert mask_series(few).tolist() == [expected[0], HARMLESS[0], expected[5]] * 5000
    # a long text is masked line by line: the same lines come out
    long_text = "\n".join(texts)
    assert mask_text(long_text) == "\n".join(mask_text(t) for t in long_text.split("\n")) or "PRIVATE KEY" in long_text


def test_masking_is_idempotent() -> None:
    for text in _all_positives():
        once = mask_text(text)
        assert mask_text(once) == once, once


def test_mask_frame_and_obj_keep_shape() -> None:
    df = pd.DataFrame(
        {"message": pd.array([SECRETS[0][0], HARMLESS[0], None], dtype="string"), "n": [1, 2, 3],
         "obj": [{"password": "x1y2"}, None, "token=abcdef123456"], "cat": pd.Categorical(["password=a1b2c3", "ok", "ok"])},
        index=[10, 20, 30],
    )
    df.attrs["query"] = {"pattern": "password=hunter22"}
    out = mask_frame(df)
    assert out["n"].tolist() == [1, 2, 3] and out.index.tolist() == [10, 20, 30]
    assert str(out["message"].dtype) == str(df["message"].dtype)
    assert SECRETS[0][1] not in out["message"][10] and out["message"][20] == HARMLESS[0]
    assert pd.isna(out["message"][30])
    assert out["obj"].tolist() == [{"password": "[masked:secret]"}, None, "token=[masked:secret]"]
    assert out["cat"].tolist() == ["password=[masked:secret]", "ok", "ok"]
    assert "hunter22" not in str(out.attrs)
    assert df["message"][10] == SECRETS[0][0] and df["obj"][10] == {"password": "x1y2"}, "the input frame must not be modified"
    assert mask_obj({"a": ["password=hunter22", 3]}) == {"a": ["password=[masked:secret]", 3]}
    assert mask_series(pd.Series([], dtype="string")).empty
    # a text kept as lines (nbformat) is masked as one text: a key block spans its lines; nothing to mask, nothing moves
    pem = ["login failed: -----BEGIN PRIVATE KEY-----\n", f"{PEM_BODY}\n", "-----END PRIVATE KEY-----\n", "next\n"]
    assert mask_obj({"text": pem}) == {"text": ["login failed: [masked:private-key]\n", "next\n"]}
    assert mask_obj({"text": ["x\n", ""]}) == {"text": ["x\n", ""]}


def test_card_number_check() -> None:
    assert card_number_ok(luhn("4", 16)) and card_number_ok(luhn("34", 15)) and card_number_ok(luhn("36", 14))
    assert not card_number_ok(luhn("1", 16)) and not card_number_ok("1772330400000") and not card_number_ok("4" * 12)
    assert not card_number_ok(luhn("4", 16), before='"trace_id":"')


# -- errors and logs -------------------------------------------------------------------------------------


def test_error_lines_warnings_and_logs_are_masked(tmp_path, caplog: pytest.LogCaptureFixture,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    import logging

    from click.testing import CliRunner

    from incidentkit import findings
    from incidentkit.cli import cli

    token = f"ghp_{fake(36, seed=11)}"
    result = CliRunner().invoke(cli, ["run", "triage", "-p", f"sample={token}"])
    assert result.exit_code == 2 and token not in result.output and "[masked:github-token]" in result.output
    result = CliRunner().invoke(cli, ["run", "triage", "--offline", "--evidence", str(tmp_path / "password=hunter22")])
    assert result.exit_code == 1 and "hunter22" not in result.output and "password=[masked:secret]" in result.output

    def broken(_inputs: object) -> None:
        raise ValueError(f"cannot parse line: Authorization: Bearer {token}")

    with caplog.at_level(logging.WARNING, logger="incidentkit"):
        found = findings.detect(findings.Inputs(), only=["broken"], extra={"broken": broken})
    assert "broken" in found.errors and token not in caplog.text and "[masked:" in caplog.text

    from incidentkit import cli as cli_module

    cli_module._show_warning(f"frame quotes {token}", UserWarning, "x.py", 1)  # what the CLI shows warnings with
    err = capsys.readouterr().err
    assert token not in err and "[masked:github-token]" in err


def test_the_lambda_handler_logs_its_error_masked(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    import logging

    from incidentkit.run import autorun
    from incidentkit.errors import IncidentKitError

    signature = fake(64, HEX, seed=12)

    def fail(event: object) -> None:
        raise IncidentKitError(f"upload refused: https://b.s3.amazonaws.com/k?X-Amz-Signature={signature}")

    monkeypatch.setattr(autorun, "run_from_event", fail)
    with caplog.at_level(logging.ERROR, logger="incidentkit"), pytest.raises(IncidentKitError):
        autorun.handler({}, None)
    assert "upload refused" in caplog.text and signature not in caplog.text and "X-Amz-Signature=[masked:secret]" in caplog.text
