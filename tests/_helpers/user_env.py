"""The environment of ``incidentkit`` run as a user would: fake credentials, a private HOME, no AWS config."""

from __future__ import annotations

import os
import sys
from pathlib import Path


INCIDENTKIT = str(Path(sys.executable).with_name("incidentkit"))


REGION = "us-east-1"


#: The fake credentials of the runs' environment (AWS's documented example values, not the corpus's).
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "AKIAI44QH8DHBEXAMPLE",
    "AWS_SECRET_ACCESS_KEY": "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
    "AWS_SESSION_TOKEN": "IQoJb3JpZ2luX2VjEFAKEsessionTOKENforINCIDENTKITtests0123456789abcdefEXAMPLE==",
}


def user_env(tmp: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(CREDENTIALS)
    env.update(
        AWS_DEFAULT_REGION=REGION, HOME=str(tmp / "home"), AWS_CONFIG_FILE=str(tmp / "none"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp / "none"), AWS_EC2_METADATA_DISABLED="true", INCIDENTKIT_PROGRESS="0",
        **extra,
    )  # fmt: skip
    return env
