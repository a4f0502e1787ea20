"""Blameless wording: who made a change, without naming a person.

A postmortem (and every view of the change timeline) attributes a change to the kind of
principal that made it ("an IAM user", "role deploy-pipeline"), which is what a reader
needs to fix the process.

Example
-------
>>> blameless_text("by arn:aws:sts::123456789012:assumed-role/deploy/GitHubActions.")
'by role deploy.'
"""

from __future__ import annotations

import math
import re
from typing import Any

import pandas as pd

__all__ = ["blameless_actor", "blameless_text"]


_ARN_ROLE = re.compile(r"assumed-role/([^/]+)/")
_ARN_USER = re.compile(r":user/")
#: IAM Identity Center roles end in a 16-hex suffix that is noise to a reader: ``AWSReservedSSO_FinOps``.
_SSO_SUFFIX = re.compile(r"\b(AWSReservedSSO_[A-Za-z0-9+=,.@-]+?)_[0-9a-f]{16}\b")


def blameless_actor(actor: Any) -> str:
    """Who made a change, without naming a person.

    Example
    -------
    >>> blameless_actor("arn:aws:sts::123456789012:assumed-role/deploy-pipeline/build-4711")
    'role deploy-pipeline'
    >>> blameless_actor("arn:aws:iam::123456789012:user/alice")
    'an IAM user'
    >>> blameless_actor("codedeploy.amazonaws.com")
    'codedeploy.amazonaws.com'
    >>> blameless_actor("arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_FinOps_7d1e0c2b5a9f3e64/jane@example.com")
    'role AWSReservedSSO_FinOps'
    """
    if actor is None or (isinstance(actor, float) and math.isnan(actor)) or actor is pd.NA:
        return "unknown principal"
    text = str(actor)
    m = _ARN_ROLE.search(text)
    if m:
        return "role " + _SSO_SUFFIX.sub(r"\1", m.group(1))
    if _ARN_USER.search(text) or text.startswith("user/") or text.startswith("IAMUser"):
        return "an IAM user"
    if ":root" in text or text == "Root":
        return "the account root user"
    if "amazonaws.com" in text or text.startswith("role ") or text in ("", "unknown"):
        return text or "unknown principal"
    if text.startswith("role/"):
        return "role " + text.split("/", 1)[1]
    # a bare name (a user name, an SSO e-mail): do not repeat it
    if "@" in text or re.fullmatch(r"[A-Za-z][\w.+-]*", text):
        return "a person (name withheld)"
    return text


_PRINCIPAL_ARN = re.compile(r"arn:aws[a-z-]*:(?:iam|sts)::\d{12}:(?:user|assumed-role|root|federated-user)[^\s,;)'\"]*")


def blameless_text(text: Any) -> str:
    """Free text with every IAM principal ARN replaced by :func:`blameless_actor`'s wording.

    Example
    -------
    >>> blameless_text("change by arn:aws:iam::123456789012:user/alice (03:12 UTC)")
    'change by an IAM user (03:12 UTC)'
    """
    def repl(m: "re.Match[str]") -> str:
        arn = m.group(0)
        core = arn.rstrip(".:")  # the end of a sentence is not part of the ARN
        return blameless_actor(core) + arn[len(core):]

    return _PRINCIPAL_ARN.sub(repl, str(text))
