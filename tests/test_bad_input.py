"""Bad input, crafted: log lines that break naive parsers, times and parameters people mistype, CLI misuse.

Every case has an id. The rules checked:

* the parsers never raise on what a log group can hold; every input line gives exactly one
  row, in order, with its raw text kept, and is either parsed or counted as a parse error
  (``parsed + errors == events``) with a reason;
* a bad time, window, template parameter or command-line argument gives one line naming the
  value and what is accepted, a non-zero exit code, no traceback, and nothing written.

Random inputs (hypothesis) are in ``test_properties_parsers.py``; this file holds the shapes
known to hurt: invalid UTF-8, 1 MB lines, JSON nested 10,000 deep, numbers as strings,
NaN/Infinity, missing fields.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner

from incidentkit import parse as parsers, schema
from incidentkit.run import templates
from incidentkit.cli import EXIT_USAGE, cli
from incidentkit.errors import BadWindowError, ParameterError
from incidentkit.window import Window, parse_time

REF = pd.Timestamp("2026-03-01T03:00:00Z")
MB = 1 << 20

# =============================================================================================
# parsers: the lines that hurt
# =============================================================================================

REPORT = (
    "REPORT RequestId: 6bc28136-xmpl-4365-b021-0ce6b2e64ab0\tDuration: 198.50 ms\tBilled Duration: 200 ms\t"
    "Memory Size: 512 MB\tMax Memory Used: 90 MB\tInit Duration: 524.75 ms"
)
ALB = (
    'h2 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 10.0.1.252:48160 10.0.0.66:9000 0.000 0.002 0.000 '
    '200 200 5 257 "GET https://10.0.2.105:773/ HTTP/2.0" "curl/7.46.0" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 '
    "arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "
    '"Root=1-58337327-72bd00b0343d75b906739c42" "-" "-" 1 2018-07-02T22:22:48.364000Z "redirect" '
    '"https://example.com:80/" "-" "10.0.0.66:9000" "200" "-" "-"'
)
INVALID_UTF8 = b"GET /\xff\xfe\x80 status=500 \xc3\x28 \xe2\x82 done"

BAD_LINES: dict[str, list[Any]] = {
    # bytes the fetcher decodes with errors="replace"
    "invalid-utf8-replaced": [INVALID_UTF8.decode("utf-8", errors="replace"), b'{"status": 5\xff00}'.decode("utf-8", "replace")],
    "nul-and-control-chars": ["a\x00b\x01c\x1b[31mred\x1b[0m", '{"status": 500, "msg": "\\u0000\x07"}', "\x00"],
    "bom-and-bidi": ['\ufeff{"status": 200}', "\u202eevil\u202c text", "\ufeffREPORT RequestId: x Duration: 1 ms"],
    "crlf-and-multiline": ["line1\r\nline2\r\n", '{"a": 1}\n{"b": 2}', "Traceback (most recent call last):\r\n  File \"x\"\r\nValueError: x"],
    "huge-text-line-1mb": ["x" * MB, "ERROR " + "y" * MB],
    "huge-json-line-1mb": [json.dumps({"level": "ERROR", "message": "z" * MB, "status": 500}), '{"status": 200, "pad": "' + "p" * MB],
    "huge-report-line-1mb": [REPORT + " " + "9" * MB],
    "deep-json-objects-10k": ['{"a":' * 10_000 + "1" + "}" * 10_000],
    # (an array 10,000 deep inside an object parses too, but takes ~20 s a line in pyarrow's JSON reader:
    # reported; 2,000 deep keeps this file fast)
    "deep-json-arrays-10k": ["[" * 10_000 + "]" * 10_000, '{"status": 500, "x": ' + "[" * 2_000 + "]" * 2_000 + "}"],
    "deep-json-unclosed-10k": ['{"a":' * 10_000],
    "numbers-as-strings": ['{"status": "503", "latency_ms": "12.5", "timestamp": "1772334000"}',
                           '{"statusCode": " 404 ", "duration": "1e3"}', '{"status": "five hundred", "latency_ms": "fast"}'],
    "nan-and-infinity": ['{"latency_ms": NaN, "status": 200}', '{"latency_ms": Infinity}', '{"duration": -Infinity, "status": "503"}',
                         '{"latency_ms": "NaN", "status": "Infinity"}'],
    "numbers-out-of-range": ['{"status": 99999999999999999999999999999, "latency_ms": 1e400}', '{"status": -1, "latency_ms": -5}',
                             '{"timestamp": 1e300, "status": 200}'],
    "missing-fields": ['{"level": "ERROR"}', "{}", "REPORT RequestId: abc", "REPORT RequestId: abc Duration: xx ms",
                       "START RequestId:", "END"],
    "truncated-records": ['{"status": 500, "message": "cut', ALB[:80], REPORT[:60], '{"_aws": {"CloudWatchMetrics": [{"Namesp'],
    "json-scalars-and-arrays": ["123", "null", "true", '"just a string"', "[1, 2, 3]", "[]", '[{"status": 500}]'],
    "wrong-types": ['{"status": [500], "latency_ms": {"v": 1}, "level": 3, "requestId": {"a": 1}}', '{"message": null, "status": true}'],
    "duplicate-and-odd-keys": ['{"status": 200, "status": 500}', '{"": 1, " ": 2, "\\u0000": 3}', '{"ünïcödé": "✓", "🚨": 1}'],
    "ten-thousand-keys": [json.dumps({f"k{i}": i for i in range(10_000)})],
    "emf-garbage": ['{"_aws": {"Timestamp": "x", "CloudWatchMetrics": "nope"}, "Latency": "slow"}',
                    '{"_aws": {"CloudWatchMetrics": [{"Namespace": 1, "Metrics": [{"Name": null}], "Dimensions": [[1]]}]}}'],
    "alb-mangled": [ALB.replace("0.000 0.002 0.000", "x y z"), ALB.replace('"GET', "GET"), ALB + ' "extra" "fields"', "h2 " * 40],
    "user-agents": ['{"status": 200, "userAgent": "' + "A/1 " * 5_000 + '"}', '{"status": 200, "userAgent": "MyApp/9999999999999999999.0"}',
                    '{"status": 200, "user_agent": "\\u0000/\\u0000"}'],
    "empty-none-whitespace": [None, "", " ", "\t\n", float("nan")],
}


def _check_invariants(df: pd.DataFrame, lines: list[Any]) -> None:
    n = len(lines)
    assert len(df) == n, "one row per input line"
    assert tuple(df.columns) == schema.PARSED_COLUMNS
    st = df.attrs["parse_stats"]
    assert st["events"] == n and st["parsed"] + st["errors"] == n
    assert int(df["parse_error"].sum()) == st["errors"]
    errors = df[df["parse_error"]]
    assert errors["parse_error_reason"].notna().all(), "a parse error says why"
    assert sum(st["by_format"].values()) == n and set(df["format"].dropna()) <= set(parsers.FORMATS)
    for i, line in enumerate(lines):  # raw text kept, in input order
        if isinstance(line, str):
            assert df.at[i, "message"] == line, i
        else:
            assert pd.isna(df.at[i, "message"]), i


@pytest.mark.parametrize("case", list(BAD_LINES))
def test_parsers_never_raise_and_count_every_line(case: str) -> None:
    lines = BAD_LINES[case]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = parsers.parse(lines)
    _check_invariants(df, lines)
    parsers.requests(df)  # and the request view of it does not raise either


def test_numbers_as_strings_are_read_as_numbers() -> None:
    df = parsers.parse(BAD_LINES["numbers-as-strings"][:1])
    assert df.at[0, "status"] == 503 and df.at[0, "latency_ms"] == pytest.approx(12.5)


def test_a_logs_frame_keeps_its_event_columns_through_bad_lines() -> None:
    lines = [line for case in ("invalid-utf8-replaced", "nan-and-infinity", "truncated-records") for line in BAD_LINES[case]]
    n = len(lines)
    frame = pd.DataFrame(
        {
            "timestamp": pd.Series(pd.date_range("2026-03-01T03:00Z", periods=n, freq="s"), dtype=schema.UTC_NS),
            "ingestion_time": pd.Series([pd.NaT] * n, dtype=schema.UTC_NS),
            "log_group": pd.Series(["/aws/lambda/api"] * n, dtype="string"),
            "log_stream": pd.Series([f"s{i % 2}" for i in range(n)], dtype="string"),
            "event_id": pd.Series([f"e{i:04d}" for i in range(n)], dtype="string"),
            "message": pd.Series(lines, dtype="string"),
        }
    )
    frame.attrs = {"source": "logs.events", "complete": True}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = parsers.parse(frame)
    _check_invariants(df, lines)
    assert df["event_id"].tolist() == frame["event_id"].tolist()
    assert (df["timestamp"] == frame["timestamp"]).all()
    assert df.attrs["source"] == "logs.events"  # the fetch's provenance survives
    assert (df["function_name"].dropna() == "api").all()


LONE_SURROGATES = {
    # Python text can hold halves of UTF-16 pairs: json.loads("\"\\ud83d\"") from a JSON API,
    # or bytes read with errors="surrogateescape" (the default for undecodable file names).
    "lone-surrogate-from-json": ["broken emoji \ud83d here", json.loads('{"m": "\\udc00"}')["m"]],
    "surrogateescape-decoded-bytes": [INVALID_UTF8.decode("utf-8", errors="surrogateescape")],
}


@pytest.mark.parametrize("case", list(LONE_SURROGATES))
def test_parsers_take_text_with_lone_surrogates(case: str) -> None:
    lines = LONE_SURROGATES[case]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = parsers.parse(lines)
    assert len(df) == len(lines) and df.attrs["parse_stats"]["parsed"] + df.attrs["parse_stats"]["errors"] == len(lines)


def test_fetcher_repairs_a_message_with_a_lone_surrogate() -> None:
    from _helpers.fake_aws import FakeAws, recent_window

    from incidentkit.fetch import logs

    win = recent_window()
    fake = FakeAws()
    fake.handlers["FilterLogEvents"] = lambda params: {"events": [
        {"logStreamName": "s", "timestamp": win.start_ms + 5, "ingestionTime": win.start_ms + 9,
         "message": "broken \ud83d emoji", "eventId": "1"}]}  # fmt: skip
    df = logs.events("/aws/lambda/api", win, session=fake.session())
    assert df["message"].tolist() == ["broken \ufffd emoji"]


# =============================================================================================
# times and windows
# =============================================================================================

BAD_TIMES = {
    "garbage": "garbage",
    "empty": "",
    "blank": "   ",
    "month-13": "2026-13-45T00:00:00Z",
    "relative-with-space": "-2 hours",
    "relative-unknown-unit": "-2x",
    "now-ish": "now-ish",
    "trailing-command": "2026-03-01T03:00Z\nrm -rf /",
    "epoch-too-big": "1e30",
    "epoch-negative": -5,
    "nan-float": float("nan"),
    "inf-float": float("inf"),
    "nan-text": "nan",
    "bool": True,
    "list": ["2026-03-01T03:00Z"],
    "sql-ish": "'; DROP TABLE incidents; --",
    "very-long": "9" * 10_000,
}


@pytest.mark.parametrize("case", list(BAD_TIMES))
def test_bad_time_is_one_line_naming_the_value_and_the_forms(case: str) -> None:
    value = BAD_TIMES[case]
    with pytest.raises(BadWindowError) as info:
        parse_time(value, now=REF, name="start")
    text = str(info.value)
    assert "\n" not in text and text.startswith("start:")
    assert "ISO-8601" in text and "-2h" in text, "say what is accepted"
    shown = repr(value) if isinstance(value, str) and value.strip() else None
    if shown and len(shown) < 100:
        assert shown in text or repr(float(value)) in text, f"the value {shown} is not named: {text}"
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        assert repr(float(value)) in text


@pytest.mark.parametrize(
    "start, end, words",
    [
        ("2026-03-01T04:00Z", "2026-03-01T03:00Z", ["not after start", "2026-03-01T03:00:00"]),
        ("2026-03-01T03:00Z", "2026-03-01T03:00Z", ["not after start"]),
        ("2126-03-01T00:00Z", "2126-03-01T01:00Z", ["in the future", "2126-03-01"]),
        ("garbage", "now", ["start:", "'garbage'"]),
        ("-2h", "later", ["end:", "'later'"]),
    ],
    ids=["end-before-start", "empty-window", "future", "bad-start", "bad-end"],
)
def test_bad_windows(start: str, end: str, words: list[str]) -> None:
    with pytest.raises(BadWindowError) as info:
        Window.parse(start, end, now=REF)
    text = str(info.value)
    assert "\n" not in text
    for w in words:
        assert w in text, text


# =============================================================================================
# template parameters
# =============================================================================================

BAD_PARAMETERS = {
    "int-word": ("int", "seven", "whole number"),
    "int-fraction": ("int", "2.5", "whole number"),
    "int-list": ("int", "[1]", "whole number"),
    "float-word": ("float", "fast", "a number"),
    "float-nan": ("float", "nan", "a number"),
    "float-inf": ("float", "-inf", "a number"),
    "bool-maybe": ("bool", "perhaps", "true or false"),
    "bool-2": ("bool", "2", "true or false"),
    "list-object": ("list", '{"a": 1}', "JSON list"),
    "list-nested": ("list", "[[1], 2]", "JSON list"),
    "list-bad-json": ("list", '["a", ', "JSON list"),
    "list-null-item": ("list", '["a", null]', "JSON list"),
    "time-garbage": ("time", "yesterday-ish", "ISO-8601"),
    "time-trailing-command": ("time", "2026-03-01T03:00Z\n$(id)", "ISO-8601"),
    "str-dict": ("str", {"a": 1}, "give text"),
}


@pytest.mark.parametrize("case", list(BAD_PARAMETERS))
def test_bad_template_parameter_is_one_line_naming_it(case: str) -> None:
    typ, value, expected = BAD_PARAMETERS[case]
    with pytest.raises(ParameterError) as info:
        templates.Parameter("limit_value", typ).coerce(value)
    text = str(info.value)
    assert "\n" not in text and "limit_value" in text
    assert repr(value) in text or (typ == "time" and repr(value) in text.replace("\\\\", "\\")), text
    assert expected in text, text


def test_unknown_template_parameter_suggests_the_close_name() -> None:
    tpl = templates.get("triage")
    with pytest.raises(ParameterError) as info:
        tpl.coerce({"log_group": "/aws/lambda/api"})
    text = str(info.value)
    assert "\n" not in text and "'log_group'" in text and "did you mean 'log_groups'" in text


# =============================================================================================
# the command line (click's CliRunner: no subprocess, no AWS)
# =============================================================================================

CLI_CASES = {
    # id: (argv, exit code, words in the error line)
    "run-bad-start": (["run", "triage", "--start", "garbage", "--end", "now"], EXIT_USAGE, ["'garbage'", "ISO-8601"]),
    "run-end-before-start": (["run", "triage", "--start", "2026-03-01T04:00Z", "--end", "2026-03-01T03:00Z"], EXIT_USAGE,
                             ["not after start"]),
    "run-future-window": (["run", "triage", "--start", "2126-03-01T00:00Z", "--end", "2126-03-01T01:00Z"], EXIT_USAGE, ["future"]),
    "run-epoch-out-of-range": (["run", "triage", "--start", "1e30", "--end", "now"], EXIT_USAGE, ["'1e30'"]),
    "run-unknown-template": (["run", "triag", "--start", "-2h", "--end", "now"], EXIT_USAGE, ["'triag'", "did you mean 'triage'"]),
    "run-param-without-value": (["run", "triage", "-p", "log_groups"], EXIT_USAGE, ["'log_groups'", "name=value"]),
    "run-param-without-name": (["run", "triage", "-p", "=x"], EXIT_USAGE, ["'=x'", "no name"]),
    "run-param-twice": (["run", "triage", "-p", "sample=a", "-p", "sample=b"], EXIT_USAGE, ["sample", "twice"]),
    "run-unknown-param": (["run", "triage", "-p", "log_group=/a"], EXIT_USAGE, ["'log_group'", "did you mean 'log_groups'"]),
    "run-bad-list-param": (["run", "triage", "--start", "-2h", "--end", "now", "-p", 'log_groups={"a": 1}'], EXIT_USAGE,
                           ["log_groups", "JSON list"]),
    "run-unknown-sample": (["run", "triage", "-p", "sample=cold-start-tale", "--offline"], EXIT_USAGE,
                           ["'cold-start-tale'", "did you mean 'cold-start-tail'"]),
    "run-window-given-twice": (["run", "triage", "--start", "-2h", "--end", "now", "-p", "start=-3h"], EXIT_USAGE, ["start once"]),
    "run-region-as-param": (["run", "triage", "-p", "region=eu-west-1"], EXIT_USAGE, ["--region"]),
    "run-half-baseline": (["run", "triage", "--start", "-2h", "--end", "now", "--baseline-start", "-4h"], EXIT_USAGE,
                          ["--baseline-end"]),
    "run-offline-without-evidence": (["run", "triage", "--start", "-2h", "--end", "now", "--offline", "-p", "sample=none"],
                                     EXIT_USAGE, ["--offline needs --evidence"]),
    "run-missing-evidence": (["run", "triage", "--offline", "--evidence", "/nonexistent/bundle"], 1, ["/nonexistent/bundle"]),
    "audit-bad-observed": (["audit", "-r", "table_name=orders", "--observed", "p99_ms=abc"], EXIT_USAGE, ["p99_ms", "'abc'"]),
    "audit-bad-resource": (["audit", "-r", "table_name"], EXIT_USAGE, ["'table_name'", "name=value"]),
}

CLICK_CASES = {
    # validated by click itself, said in the kit's one line: it names the option, the value and the range
    "run-timeout-zero": (["run", "triage", "--timeout", "0"], ["--timeout", "0", "x>=1"]),
    "run-timeout-word": (["run", "triage", "--timeout", "soon"], ["--timeout", "'soon'", "integer"]),
    "demo-jobs-zero": (["demo", "--jobs", "0"], ["--jobs", "0", "1<=x<=64"]),
    "audit-fail-on-bogus": (["audit", "--fail-on", "bogus"], ["--fail-on", "'bogus'", "critical", "info"]),
    "unknown-command": (["investigate"], ["investigate"]),
    "unknown-option": (["run", "triage", "--sart", "-2h"], ["--sart", "--start"]),
}


def _invoke(argv: list[str], tmp_path: Path) -> Any:
    out = tmp_path / "runs"
    if argv[0] == "run":
        argv = [*argv, "--out", str(out)]
    result = CliRunner().invoke(cli, argv, catch_exceptions=False)
    assert not out.exists(), "a refused run must write nothing"
    return result


@pytest.mark.parametrize("case", list(CLI_CASES))
def test_cli_bad_arguments_give_one_error_line(case: str, tmp_path: Path) -> None:
    argv, code, words = CLI_CASES[case]
    result = _invoke(argv, tmp_path)
    assert result.exit_code == code, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("incidentkit: error:")]
    assert len(errors) == 1, result.stderr
    for w in words:
        assert w in errors[0], errors[0]
    assert "Traceback" not in result.output and result.stdout == ""


@pytest.mark.parametrize("case", list(CLICK_CASES))
def test_cli_options_validated_by_click(case: str, tmp_path: Path) -> None:
    argv, words = CLICK_CASES[case]
    result = _invoke(argv, tmp_path)
    assert result.exit_code == EXIT_USAGE
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("incidentkit: error:"), result.stderr  # not click's three lines
    for w in words:
        assert w in lines[0], lines[0]
    assert lines[0].endswith("--help)") and "Traceback" not in result.output
