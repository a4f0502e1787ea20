"""Fake secrets of every shape the masking rules know (generated, seeded): the corpus the masking and security tests share."""

from __future__ import annotations

import random
import string


ALNUM = string.ascii_letters + string.digits


HEX = "0123456789abcdef"


def fake(n: int, alphabet: str = ALNUM, seed: int = 0) -> str:
    """``n`` characters of ``alphabet``, the same every run."""
    return "".join(random.Random(f"{n}-{alphabet}-{seed}").choices(alphabet, k=n))


def luhn(prefix: str, length: int) -> str:
    """A ``length``-digit number starting with ``prefix`` whose Luhn check digit is right."""
    body = prefix + fake(length - len(prefix) - 1, string.digits, seed=len(prefix))
    total = 0
    for i, ch in enumerate(reversed(body + "0")):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return body + str((10 - total % 10) % 10)


# (text with a secret, the secret itself) — the corpus test_security.py also seeds into a run's logs.
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
    # issue 13: what stayed in clear before
    ("DB_PASSWORD=Tr0ub4dor/x;y9 LOG_LEVEL=info", "Tr0ub4dor/x;y9"),
    ('{"DB_PASSWORD": "Zq8;wE/rT5", "region": "eu-west-1"}', "Zq8;wE/rT5"),
    (f"STRIPE_SECRET_KEY=sk_live_{fake(24)} started", f"sk_live_{fake(24)}"),
    (f"GITHUB_TOKEN={fake(30, seed=1)} clone", fake(30, seed=1)),
    ('{"dbPassword":"m3lon-Pie","clientSecret":"cl-9xQ2"}', "m3lon-Pie"),
    ('{"dbPassword":"m3lon-Pie","clientSecret":"cl-9xQ2"}', "cl-9xQ2"),
    ("Cookie: session=Fe26.2**0c1a9e57b3; lang=en", "Fe26.2**0c1a9e57b3"),
    (f"clone with ghp_{fake(36)}", f"ghp_{fake(36)}"),
    (f"token github_pat_{fake(22)}_{fake(59)}", f"github_pat_{fake(22)}_{fake(59)}"),
    (f"slack xoxb-{fake(12, string.digits)}-{fake(13, string.digits)}-{fake(24)} posted", f"{fake(24)}"),
    (f"charge with sk_live_{fake(30, seed=2)}", f"sk_live_{fake(30, seed=2)}"),
    (f"maps key AIza{fake(35, ALNUM + '_-')}", f"AIza{fake(35, ALNUM + '_-')}"),
    (f"//registry.npmjs.org/:_authToken=npm_{fake(36, seed=3)}", f"npm_{fake(36, seed=3)}"),
    (f"GET /obj?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature={fake(64, HEX)}&x=1", fake(64, HEX)),
    (f"paid with card {luhn('4', 16)} ok", luhn("4", 16)),
    ("db password is set: password='p@ss/w;rd!' retry", "p@ss/w;rd!"),
]
