"""Property tests: round trips, equivalence with the standard library, fuzzing."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from urllib.parse import parse_qsl, urlencode

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from dlrkit import (
    DlrError,
    parse,
    parse_form,
    parse_json,
    parse_query,
    parse_request,
)
from dlrkit._fields import FIELDS
from dlrkit._urlencoded import _decode_flat
from dlrkit.testing.strategies import wire_fields
from dlrkit.wire import decode_query

text = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=30)


@given(wire_fields())
def test_to_wire_gives_back_what_was_parsed(fields: dict[str, str]) -> None:
    r = parse(fields)
    assert r.to_wire() == fields
    assert parse(r.to_wire()) == r
    assert hash(parse(r.to_wire())) == hash(r)


@given(wire_fields())
def test_the_three_encodings_agree(fields: dict[str, str]) -> None:
    r = parse(fields)
    query = urlencode(fields)
    assert parse_query(query) == r
    assert parse_query(query).to_wire() == fields
    assert parse_form(query.encode()) == r
    assert parse_json(json.dumps(fields).encode()) == r
    assert parse_json(json.dumps(fields, ensure_ascii=False).encode()).to_wire() == fields


@given(
    wire_fields(),
    st.sampled_from(["utf-8", "UTF8", "latin-1", "ISO-8859-1", "us-ascii", "windows-1252"]),
)
def test_form_charsets(fields: dict[str, str], charset: str) -> None:
    try:
        body = urlencode(fields, encoding=charset).encode("ascii")
    except UnicodeEncodeError:
        assume(False)
    assert parse_form(body, charset=charset).to_wire() == fields


# Queries of "name=value" pieces with any text, and pieces of separators and
# escapes (which may decode to separators, bad UTF-8 or NUL).
QUERIES = st.lists(
    st.tuples(text, text).map(lambda kv: f"{kv[0]}={kv[1]}")
    | st.text(alphabet="%+&=abcd0123456789ABCDEF", max_size=20),
    max_size=8,
).map("&".join)


@given(QUERIES)
@example("a=%zz&b=+%2B%20")
@example("a=%00")
@example("=&a&&b=")
@example("a=b=c&d")  # one piece with two "=", one with none
@example("a=%3D&b%3d=1&c=%26")  # escapes that decode to separators
@example("a=%C3&b=%A9")  # a character split across two pieces
@example("a=%C3%A9&b=1&a%3D=2&%61=3")  # "a" repeated, but only once decoded
def test_decode_query_equals_parse_qsl(query: str) -> None:
    """The fast query decoder is exactly urllib's, with strict errors."""
    try:
        expected = parse_qsl(query, keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        with pytest.raises(DlrError):
            decode_query(query)
        return
    if any("\x00" in name + value for name, value in expected):
        with pytest.raises(DlrError, match="NUL"):  # refused by design: see Limits
            decode_query(query)
        return
    if len({name for name, _ in expected}) < len(expected):
        with pytest.raises(DlrError, match="repeated"):
            decode_query(query)
        return
    assert decode_query(query) == dict(expected)
    assert decode_query(query.encode()) == dict(expected)


@given(QUERIES)
@example("a=b=c&d")
@example("a=%3D&b%3d=1&c=%26")
@example("a=x%26y=z")  # decoded at once, it would read as two fields
@example("n%3Dv=w%3dx")
@example("a=%C3&b=%A9")
@example("a=1&%61=2")
@example("messageId=0B00000127FDBC63&to=Vonage+APIs&ref=order+1234%2F5")
def test_the_one_pass_decoder_is_parse_qsl_or_declines(query: str) -> None:
    """decode_query's fast path, alone: urllib's answer, or None for the loop."""
    fast = _decode_flat(query)
    if fast is None:
        return
    expected = parse_qsl(query, keep_blank_values=True, errors="strict")
    assert fast == dict(expected) and len(fast) == len(expected)


def test_the_one_pass_decoder_takes_the_usual_receipt() -> None:
    query = urlencode(
        {
            "messageId": "0B00000127FDBC63",
            "to": "Vonage APIs",
            "status": "delivered",
            "message-timestamp": "2020-07-17 02:34:35",
            "client-ref": "order 1234/5",
        }
    )
    assert _decode_flat(query) == dict(parse_qsl(query))


PARSERS: list[Callable[[bytes], object]] = [
    parse_query,
    parse_form,
    parse_json,
    lambda b: parse_request(method="POST", content_type=None, body=b),
    lambda b: parse_request(method="GET", content_type=None, query=b),
]


def only_dlr_errors(parser: Callable[[bytes], object], payload: bytes) -> None:
    with contextlib.suppress(DlrError):
        parser(payload)


@pytest.mark.parametrize("parser", PARSERS)
@given(payload=st.binary(max_size=300))
def test_arbitrary_bytes_raise_only_dlr_errors(
    parser: Callable[[bytes], object], payload: bytes
) -> None:
    only_dlr_errors(parser, payload)


SPECIAL_BYTES = [b"%", b"%ff", b"&", b"=", b'"', b"{", b"\\ud800", b"null", b"\x00"]


@st.composite
def mutated_payloads(draw: st.DrawFn) -> bytes:
    fields = draw(wire_fields())
    encoding = draw(st.sampled_from(["query", "json"]))
    data = bytearray(
        urlencode(fields).encode() if encoding == "query" else json.dumps(fields).encode()
    )
    for _ in range(draw(st.integers(1, 6))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        operation = draw(st.sampled_from(["flip", "insert", "delete", "special"]))
        if operation == "flip":
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif operation == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=4))
        elif operation == "delete":
            del data[at : at + draw(st.integers(1, 8))]
        else:
            data[at:at] = draw(
                st.sampled_from(
                    [b"%", b"%ff", b"&", b"=", b'"', b"{", b"\\ud800", b"null", b"\x00"]
                )
            )
    return bytes(data)


@pytest.mark.parametrize("parser", PARSERS)
@given(payload=mutated_payloads())
def test_mutated_payloads_raise_only_dlr_errors(
    parser: Callable[[bytes], object], payload: bytes
) -> None:
    only_dlr_errors(parser, payload)


values = st.one_of(
    text,
    st.sampled_from(["", "null", "0", "-1", "NaN", "1e999999", "2020-02-30 00:00:00"]),
    st.lists(text, max_size=3),
    st.none(),
    st.integers(),
    st.binary(max_size=5),
)


@given(
    st.dictionaries(st.one_of(st.sampled_from(sorted(FIELDS.specs)), text, st.integers()), values)
)
def test_arbitrary_mappings_raise_only_dlr_errors(fields: dict[object, object]) -> None:
    with contextlib.suppress(DlrError):
        parse(fields)  # type: ignore[arg-type]
