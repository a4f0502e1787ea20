"""The secret rules :mod:`incidentkit.masking` applies: what a secret looks like, by family.

The families are those of two maintained secret scanners, written here as patterns of our
own (their rule files are the reference, not copied): **gitleaks** (``config/gitleaks.toml``,
rule ids cited below) and **detect-secrets** (``detect_secrets/plugins``, plugin names cited).
Why not depend on one: see ``benchmarks/README.md`` (masking) and the commit that added this
module — in short, both scan a line for *findings* (rule by rule, ~25-200 regexes a line,
with entropy filters), while the kit must *rewrite* every text column it writes at
millions of lines, with one vectorised gate in front.

Families, in the order they are applied
---------------------------------------
``private-key``      PEM / OpenSSH / PGP private-key blocks, PuTTY key files
                     (gitleaks ``private-key``; detect-secrets ``PrivateKeyDetector``)
``jwt``              JSON Web Tokens (gitleaks ``jwt``; detect-secrets ``JwtTokenDetector``)
``<vendor>-token``   tokens with a documented shape: GitHub, GitLab, Slack, Stripe, Google,
                     npm, PyPI, OpenAI, Anthropic, Hugging Face, SendGrid, Mailgun,
                     Mailchimp, Shopify, DigitalOcean, Databricks, Vault, Terraform Cloud,
                     Atlassian, Square, Facebook, New Relic, Grafana, Sentry, Doppler, Linear,
                     Postman, Pulumi, PlanetScale, RubyGems, Heroku, age, 1Password, Alibaba,
                     Azure AD, Telegram, Discord and Slack webhooks, Dynatrace, Fly.io, Notion
                     (:data:`TOKEN_RULES`, each citing its gitleaks rule id)
``aws-*``            access key ids and session tokens by shape; secret access keys (40
                     base64 characters with upper, lower case and a digit) on a line that
                     says "secret" (``SecretAccessKey``, ``aws_secret_access_key``) or holds
                     an access key id (gitleaks ``aws-access-token``;
                     detect-secrets ``AWSKeyDetector``)
``password``         the password of a URL's user-info (detect-secrets ``BasicAuthDetector``)
``secret``           the value of a **keyword-named** key, in key=value, ``key: value``
                     (YAML, headers), JSON, escaped JSON, Python repr, XML and name/value
                     pair forms, at any nesting depth, whatever the prefix, suffix or case
                     style of the name (``DB_PASSWORD``, ``dbPassword``, ``x-api-key``,
                     ``STRIPE_SECRET_KEY``, ``clientSecret``, ``X-Amz-Signature``...):
                     :func:`name_kind` (gitleaks ``generic-api-key``; detect-secrets
                     ``KeywordDetector``); the values of an environment-variable map
                     (Lambda's ``environment.variables`` in CloudTrail) whatever their names
``cookie``           every value of a ``Cookie`` header, the value of a ``Set-Cookie``
``bearer``...        credentials after an ``Authorization`` scheme or the words Bearer,
                     Basic, Token, Secret (gitleaks ``curl-auth-header``)
``card-number``      payment card numbers: 13-19 digits (optionally grouped 4-4-4-4 or
                     4-6-5), a card network's prefix, and a valid Luhn checksum — so request
                     ids, trace ids, epoch milliseconds and CloudWatch event ids stay

Example
-------
>>> name_kind("DB_PASSWORD"), name_kind("dbPassword"), name_kind("token_type"), name_kind("max_tokens")
('secret', 'secret', None, None)
>>> card_number_ok("4111 1111 1111 1111"), card_number_ok("1772330400000")
(True, False)
"""

from __future__ import annotations

import functools
import re

__all__ = ["GATE", "FAMILY_GATES", "TOKEN_RULES", "KEYWORD", "KEYWORDS", "name_kind", "card_number_ok", "is_placeholder"]

# -- keyword-named values ------------------------------------------------------------------------

#: Substrings one of which every sensitive name holds (case-insensitive): the gate's part for
#: keyword-named values, so it must stay a superset of what :func:`name_kind` accepts.
KEYWORD = r"pass|pw|secret|token|cred|key|sess|sid|cookie|auth|sig|dsn|conn|cvv|cvc|otp|jwt|env|variables"
KEYWORDS = tuple(KEYWORD.split("|"))

#: A name word that makes the name sensitive wherever it stands (unless a word of
#: :data:`_METADATA` follows it: ``password_length``, ``token_type``).
_STRONG = frozenset({
    "password", "passwd", "passphrase", "passcode", "pass", "pwd", "pw", "secret", "secrets", "token",
    "credential", "credentials", "creds", "apikey", "privatekey", "secretkey", "accesskey", "authkey",
    "sessionid", "sessid", "jsessionid", "phpsessid", "sid", "cookie", "signature", "sig", "dsn", "connstr",
    "cvv", "cvc", "cvv2", "otp", "jwt", "session", "auth", "authorization",
})  # fmt: skip
#: Words that make ``<word> key`` (or ``<word>Key``) a secret: ``api_key``, ``SecretKey``...
_KEY_QUALIFIERS = frozenset({
    "api", "access", "secret", "private", "signing", "sign", "auth", "client", "account", "encryption", "enc",
    "master", "session", "service", "app", "application", "webhook", "consumer", "ssh", "gpg", "pgp", "hmac",
    "shared", "license", "licence", "deploy", "admin", "root", "crypto", "decryption", "storage", "subscription",
    "ingest", "write", "publishable", "restricted", "aws", "x",
})  # fmt: skip
#: One-word names in lower case whose end says what they hold (``dbpassword``, ``csrftoken``).
_SUFFIXES = ("password", "passwd", "passphrase", "secret", "token", "apikey", "secretkey", "accesskey",
             "privatekey", "credentials", "credential", "sessionid", "sessid")
#: Words after the sensitive one that make the name describe the secret, not hold it.
_METADATA = frozenset({
    "id", "ids", "arn", "name", "names", "type", "types", "kind", "count", "counts", "total", "num", "len", "length",
    "size", "bytes", "min", "max", "avg", "mean", "rate", "ratio", "share", "pct", "percent", "ms", "sec", "secs",
    "seconds", "s", "ttl", "age", "expiry", "expires", "expiration", "expired", "expire", "exp", "at", "time",
    "timestamp", "ts", "date", "created", "updated", "changed", "rotated", "rotation", "last", "version", "ver",
    "policy", "field", "param", "parameter", "path", "file", "filename", "dir", "provider", "manager", "store",
    "status", "state", "enabled", "disabled", "required", "strength", "reset", "hint", "label", "source", "format",
    "prefix", "suffix", "usage", "used", "remaining", "limit", "bucket", "budget", "errors", "error", "failures",
    "failed", "invalid", "valid", "missing", "endpoint", "url", "uri", "host", "scope", "scopes", "issuer",
    "audience", "algorithm", "alg", "region", "mode", "method", "duration", "timeout", "interval", "start", "end",
    "started", "ended", "p50", "p90", "p95", "p99", "hits", "misses", "cache", "metric", "description", "desc",
    "help", "message", "msg", "text", "location", "rule", "pattern", "regex", "check", "checks", "validation",
    "verified", "ok", "lifetime", "refresh", "renewal", "storage", "vault", "handler", "service", "timer",
})  # fmt: skip
#: ``<sensitive> id`` pairs that do hold a secret (``session_id``, Vault's ``secret_id``).
_SECRET_IDS = frozenset({"session", "sess", "secret"})
#: Names whose map or list value is a set of environment variables: every value is masked.
_CONTAINERS = frozenset({"variables", "environment", "env", "envvars", "environmentvariables"})
_SCHEMES = frozenset({"authorization", "proxyauthorization"})
_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")


@functools.lru_cache(maxsize=65536)
def name_kind(name: str) -> str | None:
    """What the value of a key named ``name`` holds: ``"secret"``, ``"authorization"``,
    ``"cookie"``, ``"set-cookie"``, ``"container"`` (a map of environment variables) or None.

    Any case style (``DB_PASSWORD``, ``dbPassword``, ``db-password``, ``db.password``) and any
    prefix or suffix count, except a suffix that describes the secret (``password_length``,
    ``token_type``, ``secret_arn``).

    Example
    -------
    >>> [name_kind(n) for n in ("clientSecret", "X-Amz-Signature", "STRIPE_SECRET_KEY", "partition_key", "Cookie")]
    ['secret', 'secret', 'secret', None, 'cookie']
    """
    flat = re.sub(r"[^a-z0-9]", "", name.lower())
    if flat in ("cookie", "cookies"):
        return "cookie"
    if flat == "setcookie":
        return "set-cookie"
    if flat in _SCHEMES:
        return "authorization"
    if flat in _CONTAINERS:
        return "container"
    found = _WORDS.findall(name)
    if not found or (len(flat) >= 12 and flat == name.lower() and len(flat) < 3 * len(found)):
        return None  # no words, or a random string (``IhFR7HHhPwGr9m7``): its "Pw" is no password
    words = [w.lower() for w in found]
    if len(words) == 1 and words[0].endswith(_SUFFIXES) and words[0] not in _STRONG:
        return "secret"
    for i in range(len(words) - 1, -1, -1):
        word = words[i]
        strong = word in _STRONG or (word == "key" and i > 0 and words[i - 1] in _KEY_QUALIFIERS)
        if not strong:
            continue
        rest = words[i + 1 :]
        if rest and rest[0] == "id" and word in _SECRET_IDS:
            rest = rest[1:]
        if word in ("session", "auth") and rest and not rest[0].isdigit() and rest[0] not in ("key", "token", "cookie", "header"):
            return None  # session_duration, auth_errors: about the session, not its id
        if any(w in _METADATA for w in rest):
            return None
        return "secret"
    return None


#: Values that are not secrets whatever their key: empty, booleans, placeholders, masks.
_PLACEHOLDER = re.compile(
    r"(?i)(?:|true|false|null|none|nil|undefined|n/?a|x+|\*+|\.+|\?+|-+|redacted|\[redacted\]|<[^<>]*>|"
    r"\$\{[^}]*\}|\{\{.*\}\}|\$[A-Za-z_][A-Za-z0-9_]*|%s|%\([a-z_]+\)s|\[masked:[a-z0-9-]+\]|hidden_due_to_security_reasons|"
    r"arn:aws[a-z-]*:[^\s]*)"
)


#: A value already masked: masks with blanks or escaped line ends around them.
_MASKS_ONLY = re.compile(r"(?:\s|\\[nrt]|\[masked:[a-z0-9-]+\])+")


def is_placeholder(value: str) -> bool:
    """Whether ``value`` is a placeholder, a boolean, empty, already masked or an ARN.

    Example
    -------
    >>> is_placeholder("${DB_PASSWORD}"), is_placeholder("[masked:secret]"), is_placeholder("hunter2")
    (True, True, False)
    """
    return _PLACEHOLDER.fullmatch(value.strip()) is not None or _MASKS_ONLY.fullmatch(value) is not None


# -- card numbers --------------------------------------------------------------------------------

#: A card network's prefix and the lengths it issues (ISO/IEC 7812 IIN ranges): Visa, Mastercard,
#: American Express, Discover, JCB, Diners Club, UnionPay, Maestro.
_CARD_NETWORK = re.compile(
    r"4(?:[0-9]{12}|[0-9]{15}|[0-9]{18})|5[1-5][0-9]{14}|2(?:22[1-9]|2[3-9][0-9]|[3-6][0-9]{2}|7[01][0-9]|720)[0-9]{12}|"
    r"3[47][0-9]{13}|(?:6011|64[4-9][0-9]|65[0-9]{2})[0-9]{12,15}|35(?:2[89]|[3-8][0-9])[0-9]{12,15}|"
    r"3(?:0[0-5]|[689][0-9])[0-9]{11,16}|62[0-9]{14,17}|(?:50|5[6-8]|6304|6759|676[1-3])[0-9]{8,17}"
)
#: A label that makes the number after it an identifier (``SegmentId: ``, ``"order_id":"``, ``id=``).
_ID_LABEL = re.compile(r"(?:id|ids|ID|Id)[\"']?[ \t]*[:=]?[ \t]*[\"']?\Z")


def card_number_ok(text: str, before: str = "") -> bool:
    """Whether ``text`` (digits, optionally grouped with spaces or dashes) is a card number:
    a network's prefix and length, a valid Luhn checksum, and not labelled an id by the
    text ``before`` it (``SegmentId: 4...``).

    Example
    -------
    >>> card_number_ok("4242-4242-4242-4242"), card_number_ok("4242-4242-4242-4241")
    (True, False)
    >>> card_number_ok("4242424242424242", before="SegmentId: ")
    False
    """
    if before and _ID_LABEL.search(before[-12:]):
        return False
    digits = text.replace(" ", "").replace("-", "")
    if not digits.isdigit() or not 13 <= len(digits) <= 19 or not _CARD_NETWORK.fullmatch(digits):
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


# -- tokens with a known shape -------------------------------------------------------------------

#: (kind, literals one of which every match holds, pattern, the gitleaks rule ids / detect-secrets plugins it covers).
TOKEN_RULES: tuple[tuple[str, tuple[str, ...], str, str], ...] = (
    ("github-token", ('ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_', 'github_pat_'),
     r"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})",
     "github-pat, github-fine-grained-pat, github-oauth, github-app-token, github-refresh-token; GitHubTokenDetector"),
    ("gitlab-token", ('glpat-', 'glptt-', 'gldt-', 'glrt-', 'glsoat-', 'glcbt-', 'glimt-', 'glft-', 'gloas-', 'glagent-', 'GR1348941'),
     r"\b(?:gl(?:pat|ptt|dt|rt|soat|cbt|imt|ft|oas|agent)-[A-Za-z0-9_-]{20,}|GR1348941[A-Za-z0-9_-]{20,})",
     "gitlab-pat, gitlab-ptt, gitlab-deploy-token, gitlab-rrt, gitlab-*; GitLabTokenDetector"),
    ("slack-token", ('xoxa-', 'xoxb-', 'xoxp-', 'xoxo-', 'xoxs-', 'xoxr-', 'xoxe', 'xapp-'),
     r"\b(?:xox[abposr]-[A-Za-z0-9-]{10,}|xoxe(?:\.xox[bp])?-[A-Za-z0-9-]{10,}|xapp-[0-9]-[A-Za-z0-9-]{10,})",
     "slack-bot-token, slack-user-token, slack-app-token, slack-config-*-token, slack-legacy-*; SlackDetector"),
    ("slack-webhook", ('hooks.slack.com/',),
     r"(?<=hooks\.slack\.com/)(?:services|workflows|triggers)/[A-Za-z0-9+/_-]{20,}",
     "slack-webhook-url; SlackDetector"),
    ("stripe-key", ('sk_live_', 'sk_test_', 'sk_prod_', 'rk_live_', 'rk_test_', 'rk_prod_', 'pk_live_', 'pk_test_', 'pk_prod_', 'whsec_'),
     r"\b(?:(?:sk|rk|pk)_(?:live|test|prod)_[A-Za-z0-9]{10,247}|whsec_[A-Za-z0-9]{24,})",
     "stripe-access-token; StripeDetector"),
    ("google-api-key", ('AIza',),
     r"\bAIza[0-9A-Za-z_-]{35}",
     "gcp-api-key"),
    ("google-oauth-token", ('ya29.', 'GOCSPX-'),
     r"\b(?:ya29\.[0-9A-Za-z_-]{20,}|GOCSPX-[0-9A-Za-z_-]{28})",
     "gcp-api-key (OAuth), generic"),
    ("npm-token", ('npm_',),
     r"\bnpm_[A-Za-z0-9]{36}\b",
     "npm-access-token; NpmDetector"),
    ("pypi-token", ('pypi-AgEI',),
     r"\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,}",
     "pypi-upload-token; PypiTokenDetector"),
    ("openai-key", ('T3BlbkFJ', 'sk-proj-', 'sk-svcacct-', 'sk-admin-'),
     r"\bsk-(?:(?:proj|svcacct|admin)-)?[A-Za-z0-9_-]{20,}T3BlbkFJ[A-Za-z0-9_-]{20,}|\bsk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{40,}",
     "openai-api-key; OpenAIDetector"),
    ("anthropic-key", ('sk-ant-',),
     r"\bsk-ant-(?:api|admin)[0-9]{2}-[A-Za-z0-9_-]{80,}",
     "anthropic-api-key, anthropic-admin-api-key"),
    ("huggingface-token", ('hf_',),
     r"\bhf_[A-Za-z]{34}\b",
     "huggingface-access-token"),
    ("sendgrid-key", ('SG.',),
     r"\bSG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}\b",
     "sendgrid-api-token; SendGridDetector"),
    ("mailgun-key", ('key-',),
     r"\bkey-[0-9a-f]{32}\b",
     "mailgun-private-api-token"),
    ("mailchimp-key", ('-us',),
     r"\b[0-9a-f]{32}-us[0-9]{1,2}\b",
     "mailchimp-api-key; MailchimpDetector"),
    ("shopify-token", ('shpat_', 'shpca_', 'shppa_', 'shpss_'),
     r"\bshp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}\b",
     "shopify-access-token, shopify-custom-access-token, ..."),
    ("digitalocean-token", ('dop_v1_', 'doo_v1_', 'dor_v1_'),
     r"\bdo[opr]_v1_[a-f0-9]{64}\b",
     "digitalocean-pat, digitalocean-access-token, digitalocean-refresh-token"),
    ("databricks-token", ('dapi',),
     r"\bdapi[a-f0-9]{32}(?:-[0-9])?\b",
     "databricks-api-token"),
    ("vault-token", ('hvs.', 'hvb.', 'hvr.'),
     r"\bhv[sbr]\.[A-Za-z0-9_-]{24,}",
     "vault-service-token, vault-batch-token"),
    ("terraform-token", ('.atlasv1.',),
     r"\b[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=-]{60,70}",
     "hashicorp-tf-api-token"),
    ("atlassian-token", ('ATATT3',),
     r"\bATATT3[A-Za-z0-9_=-]{186}",
     "atlassian-api-token"),
    ("square-token", ('sq0atp-', 'sq0csp-', 'EAAA'),
     r"\b(?:sq0atp-[A-Za-z0-9_-]{22}|sq0csp-[A-Za-z0-9_-]{43}|EAAA[A-Za-z0-9_-]{60})",
     "square-access-token, square-secret; SquareOAuthDetector"),
    ("facebook-token", ('EAAM', 'EAAC'),
     r"\bEAA[MC][A-Za-z0-9]{100,}",
     "facebook-access-token"),
    ("newrelic-key", ('NRAK-', 'NRII-', 'NRJS-'),
     r"\bNR(?:AK|II|JS)-[A-Za-z0-9]{19,32}\b",
     "new-relic-user-api-key, new-relic-insert-key, new-relic-browser-api-token"),
    ("grafana-token", ('glc_', 'glsa_'),
     r"\b(?:glc_[A-Za-z0-9+/]{32,400}={0,2}|glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8})",
     "grafana-cloud-api-token, grafana-service-account-token"),
    ("sentry-token", ('sntrys_', 'sntryu_'),
     r"\bsntry[su]_[A-Za-z0-9+/=_-]{40,}",
     "sentry-org-token, sentry-user-token"),
    ("doppler-token", ('dp.pt.', 'dp.st.', 'dp.sa.', 'dp.ct.', 'dp.scim.', 'dp.audit.'),
     r"\bdp\.(?:pt|st|sa|ct|scim|audit)\.[A-Za-z0-9]{40,44}\b",
     "doppler-api-token"),
    ("linear-key", ('lin_api_',),
     r"\blin_api_[A-Za-z0-9]{40}\b",
     "linear-api-key"),
    ("postman-key", ('PMAK-',),
     r"\bPMAK-[a-f0-9]{24}-[a-f0-9]{34}\b",
     "postman-api-token"),
    ("pulumi-token", ('pul-',),
     r"\bpul-[a-f0-9]{40}\b",
     "pulumi-api-token"),
    ("planetscale-token", ('pscale_tkn_', 'pscale_pw_', 'pscale_oauth_'),
     r"\bpscale_(?:tkn|pw|oauth)_[A-Za-z0-9_=.-]{32,64}",
     "planetscale-api-token, planetscale-password, planetscale-oauth-token"),
    ("rubygems-key", ('rubygems_',),
     r"\brubygems_[a-f0-9]{48}\b",
     "rubygems-api-token"),
    ("heroku-key", ('HRKU-AA',),
     r"\bHRKU-AA[A-Za-z0-9_-]{58}",
     "heroku-api-key-v2"),
    ("age-key", ('AGE-SECRET-KEY-1',),
     r"\bAGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}\b",
     "age-secret-key"),
    ("1password-token", ('ops_eyJ',),
     r"\bops_eyJ[A-Za-z0-9+/]{250,}={0,3}",
     "1password-service-account-token"),
    ("alibaba-key", ('LTAI',),
     r"\bLTAI[A-Za-z0-9]{20}\b",
     "alibaba-access-key-id"),
    ("azure-client-secret", ('Q~',),
     r"(?<![A-Za-z0-9_~.-])[A-Za-z0-9_~.]{3}[0-9]Q~[A-Za-z0-9_~.-]{31,34}(?![A-Za-z0-9_~.-])",
     "azure-ad-client-secret"),
    ("telegram-token", (':AA',),
     r"(?<![0-9])[0-9]{8,10}:AA[A-Za-z0-9_-]{33}\b",
     "telegram-bot-api-token; TelegramBotTokenDetector"),
    ("discord-webhook", ('/api/webhooks/',),
     r"(?<=/api/webhooks/)[0-9]{17,20}/[A-Za-z0-9_-]{60,}",
     "discord webhook URL; DiscordBotTokenDetector"),
    ("dynatrace-token", ('dt0c01.',),
     r"\bdt0c01\.[A-Z0-9]{24}\.[A-Z0-9]{64}\b",
     "dynatrace-api-token"),
    ("flyio-token", ('fo1_', 'fm1_', 'fm2_', 'fm1a_', 'fm1r_', 'fm2a_', 'fm2r_'),
     r"\b(?:fo1_[A-Za-z0-9_-]{43}|fm[12][ar]?_[A-Za-z0-9+/]{100,}={0,3})",
     "flyio-access-token"),
    ("notion-token", ('ntn_',),
     r"\bntn_[0-9]{11}[A-Za-z0-9]{35}\b",
     "notion-api-token"),
)  # fmt: skip

#: The token rules' literals, for the gate.
_TOKEN_GATE = "|".join(re.escape(literal) for _kind, literals, _p, _s in TOKEN_RULES for literal in literals)

# -- the gate ------------------------------------------------------------------------------------
# Each family's gate is a *necessary* condition of its patterns (a line the gate does not match
# cannot be changed by that family), written in the syntax both RE2 (pyarrow's vectorised
# kernels) and Python's ``re`` read the same way: no look-around, no back-references, ASCII
# classes. tests/test_masking.py checks both engines on every true positive.

FAMILY_GATES: dict[str, str] = {
    "private-key": r"-----BEGIN|PuTTY-User-Key-File",
    "jwt": r"eyJ",
    "token": _TOKEN_GATE,
    "aws-id": r"A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA|IQoJ|FwoG|FQoG|AQoD",
    "url-password": r"://[^/\s@]*:[^\s@]*@",
    "keyword": r"(?i:(?:" + KEYWORD + r")[A-Za-z0-9_.-]*\\*[\"']?[ \t]*(?:[:=>]|,[ \t]*\\*[\"']?(?:parameter)?value))",
    "scheme": r"(?i:(?:bearer|basic|token|secret)\s+[A-Za-z0-9._~+/=-]{8})",
    "card-number": r"\b[2-6][0-9]{3}(?:[0-9]{9,15}|[ -][0-9]{4}[ -][0-9]{4}[ -][0-9]{1,7}|[ -][0-9]{6}[ -][0-9]{4,5})\b",
    "aws-secret-key": r"(?i:secret)|AKIA|ASIA",
}

#: One pattern for the whole gate: a text it does not match holds no secret the kit masks.
GATE = "|".join(f"(?:{g})" for g in FAMILY_GATES.values())
