"""Powertools for AWS Lambda structured logs (Python, TypeScript, Java, .NET): JSON with the
function's context keys (``function_request_id``, ``cold_start``, ``xray_trace_id`` ...).

Source: the Powertools *Logger* documentation of each language ("Standard structured keys",
"Capturing Lambda context info"). Read through the aliases like an app line
(:mod:`incidentkit.parse.formats.app_json`); the format says the line was logged inside a
Lambda invocation (the ``invocation`` tier of :func:`incidentkit.parse.requests`).

Example
-------
>>> from incidentkit import parse
>>> df = parse.parse(['{"level": "INFO", "message": "ok", "service": "cart", "cold_start": true,'
...                   ' "function_request_id": "r1", "timestamp": "2024-01-01 00:00:00,000+0000"}'])
>>> print(df.at[0, "format"], df.at[0, "request_id"], df.at[0, "cold_start"])
powertools r1 True
"""

from __future__ import annotations

from ._keys import Field, Keys
from .app_json import read_like_app

__all__ = ["FIELDS", "NAME", "PATHS", "RECOGNISE", "ROLE", "parse"]

NAME = "powertools"
ROLE = "function"
#: Keys only Powertools' Logger adds to a record beside ``service``.
_MARKERS = ("cold_start", "coldStart", "sampling_rate", "samplingRate", "function_name", "functionName", "xray_trace_id",
            "function_arn", "functionArn")  # fmt: skip
#: The Lambda request id under its Powertools name, or ``service`` with one of the context keys.
RECOGNISE = (Keys(any_of=(("function_request_id", "functionRequestId"),)), Keys(any_of=(("service", "serviceName"), _MARKERS)))

#: The Logger's standard keys, with the release that added them (Python names; TypeScript
#: and Java use the camelCase forms).
FIELDS: tuple[Field, ...] = (
    ("level", "Python 1.0 (2020-06)"),
    ("location", "Python 1.0 (2020-06)"),
    ("message", "Python 1.0 (2020-06)"),
    ("timestamp", "Python 1.0 (2020-06)"),
    ("service", "Python 1.0 (2020-06)"),
    ("sampling_rate", "Python 1.0 (2020-06)"),
    ("cold_start", "Python 1.0 (2020-06)"),
    ("function_name", "Python 1.0 (2020-06)"),
    ("function_memory_size", "Python 1.0 (2020-06)"),
    ("function_arn", "Python 1.0 (2020-06)"),
    ("function_request_id", "Python 1.0 (2020-06)"),
    ("xray_trace_id", "Python 1.x (2020, undated)"),
    ("exception", "Python 1.0 (2020-06)"),
    ("exception_name", "Python 1.x (2021, undated)"),
)
PATHS: list[str] = []

#: Read like app lines (the aliases, the error text of error lines).
parse = read_like_app("log")
