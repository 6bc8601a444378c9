"""Parsing receipts from mappings, query strings, form bodies, JSON and whole requests."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from decimal import Decimal
from urllib.parse import quote, urlencode

import pytest

import dlrkit
from dlrkit import (
    DeliveryReceipt,
    DlrError,
    DlrStatus,
    ErrorCode,
    InvalidFieldError,
    Limits,
    MalformedPayloadError,
    MissingFieldError,
    parse,
    parse_form,
    parse_json,
    parse_query,
    parse_request,
)
from dlrkit.messages_api import parse_message_status
from dlrkit.wire import decode_fields

UTC = timezone.utc

# The guide's sample receipt (newer edition).
GUIDE_SAMPLE = {
    "err-code": "0",
    "message-timestamp": "2018-10-25 12:10:29",
    "messageId": "0B00000127FDBC63",
    "msisdn": "447547232824",
    "network-code": "23410",
    "price": "0.03330000",
    "scts": "1810251310",
    "status": "delivered",
    "to": "Vonage",
}

MINIMAL = {
    "messageId": "0A0000000123ABCD1",
    "msisdn": "447700900000",
    "to": "AcmeInc",
    "status": "failed",
    "err-code": "2",
}


def test_guide_sample() -> None:
    r = parse(GUIDE_SAMPLE)
    assert r == DeliveryReceipt(
        message_id="0B00000127FDBC63",
        msisdn="447547232824",
        to="Vonage",
        status=DlrStatus.DELIVERED,
        err_code=0,
        network_code="23410",
        price=Decimal("0.03330000"),
        scts=datetime(2018, 10, 25, 13, 10),
        message_timestamp=datetime(2018, 10, 25, 12, 10, 29, tzinfo=UTC),
    )
    assert r.error is ErrorCode.DELIVERED
    assert (r.mcc, r.mnc) == ("234", "10")
    assert r.is_delivered and r.is_final
    assert r.extra == {}
    assert r.to_wire() == GUIDE_SAMPLE


def test_older_guide_interim_receipt() -> None:
    r = parse({**GUIDE_SAMPLE, "status": "accepted", "to": "Nexmo CLI", "scts": "1810251210"})
    assert r.status is DlrStatus.ACCEPTED
    assert not r.is_final and not r.is_delivered
    assert r.to == "Nexmo CLI"


def test_minimal_receipt_has_only_the_required_fields() -> None:
    r = parse(MINIMAL)
    assert r.err_code == 2 and r.error is ErrorCode.ABSENT_SUBSCRIBER_TEMPORARY
    assert r.price is None and r.scts is None and r.network_code is None
    assert r.mcc is None and r.mnc is None
    assert r.to_wire() == MINIMAL


def test_get_query_with_plus_and_percent_escapes() -> None:
    query = (
        "msisdn=447700900000&to=Acme+Inc&network-code=23410&messageId=0A0000001234567B"
        "&price=0.03330000&status=delivered&scts=2001011400&err-code=0"
        "&client-ref=order%2F12+%26+more%3D1&message-timestamp=2020-01-01+14%3A00%3A00"
        "&api-key=abcd1234"
    )
    r = parse_query(query)
    assert r.to == "Acme Inc"
    assert r.client_ref == "order/12 & more=1"
    assert r.message_timestamp == datetime(2020, 1, 1, 14, 0, tzinfo=UTC)
    assert r.api_key == "abcd1234"
    assert parse_query(query.encode()) == r
    assert parse_query("?" + query) == r


def test_percent_escaped_utf8() -> None:
    r = parse_query(urlencode({**MINIMAL, "to": "Café ☕", "client-ref": "ß"}))
    assert r.to == "Café ☕"
    assert r.client_ref == "ß"


def test_form_post_with_charset() -> None:
    body = urlencode({**GUIDE_SAMPLE, "to": "Jürgen"}, encoding="latin-1").encode()
    r = parse_form(body, charset="ISO-8859-1")
    assert r.to == "Jürgen"
    req = parse_request(
        method="POST",
        content_type="application/x-www-form-urlencoded; charset=ISO-8859-1",
        body=body,
    )
    assert req == r


def test_json_post() -> None:
    body = json.dumps({**GUIDE_SAMPLE, "custom": "kept"}).encode()
    r = parse_json(body)
    assert r.extra == {"custom": "kept"}
    assert r == parse_json(body.decode())
    assert r == parse_json(b"\xef\xbb\xbf" + body)  # a UTF-8 byte order mark


def test_json_numbers_are_taken_as_their_literal_text() -> None:
    body = '{"messageId": "a1", "msisdn": 447700900000, "to": "x", "status": "failed",'
    body += ' "err-code": 5, "price": 0.03330000}'
    r = parse_json(body)
    assert r.msisdn == "447700900000"
    assert r.err_code == 5
    assert r.price == Decimal("0.03330000")
    assert str(r.price) == "0.03330000"  # no float rounding


def test_json_null_means_absent() -> None:
    r = parse_json(json.dumps({**MINIMAL, "price": None, "note": None}))
    assert r.price is None
    assert r.extra == {"note": "null"}


@pytest.mark.parametrize("status", list(DlrStatus))
def test_every_status(status: DlrStatus) -> None:
    r = parse({**MINIMAL, "status": status.value})
    assert r.status is status
    assert r.is_final is status.is_final
    assert r.is_delivered is (status is DlrStatus.DELIVERED)


@pytest.mark.parametrize("code", list(ErrorCode))
def test_every_err_code(code: ErrorCode) -> None:
    r = parse({**MINIMAL, "err-code": str(int(code))})
    assert r.err_code == code
    assert r.error is code


@pytest.mark.parametrize("code", ["17", "42", "100", "9999"])
def test_codes_outside_the_table_are_kept(code: str) -> None:
    r = parse({**MINIMAL, "err-code": code})
    assert r.err_code == int(code)
    assert r.error is None


def test_leading_zeros_in_err_code_survive_the_round_trip() -> None:
    r = parse({**MINIMAL, "err-code": "000"})
    assert r.err_code == 0
    assert r.to_wire()["err-code"] == "000"


def test_unknown_status_is_lenient_by_default_and_kept_raw() -> None:
    r = parse({**MINIMAL, "status": "something-new"})
    assert r.status is DlrStatus.UNKNOWN
    assert r.to_wire()["status"] == "something-new"
    assert parse({**MINIMAL, "status": "DELIVERED"}).status is DlrStatus.DELIVERED
    # One vocabulary for every record type: SMPP's and the Messages API's words too.
    deleted = parse({**MINIMAL, "status": "deleted"})
    assert deleted.status is DlrStatus.FAILED and deleted.to_wire()["status"] == "deleted"
    assert parse({**MINIMAL, "status": "UNDELIV"}).status is DlrStatus.FAILED


def test_strict_refuses_unknown_status() -> None:
    with pytest.raises(InvalidFieldError) as info:
        parse({**MINIMAL, "status": "deleted"}, strict=True)
    assert info.value.field == "status"
    assert info.value.value == "deleted"
    assert "'deleted'" in str(info.value)
    with pytest.raises(InvalidFieldError):
        parse_query(urlencode({**MINIMAL, "status": "Delivered"}), strict=True)
    assert parse({**MINIMAL, "status": "unknown"}, strict=True).status is DlrStatus.UNKNOWN


# -- real traffic that peer SDKs choke on ------------------------------------------------


def test_failed_receipt_without_scts() -> None:
    r = parse({**MINIMAL, "price": "0.03330000", "network-code": "23410"})
    assert r.scts is None


def test_network_code_label() -> None:
    r = parse({**MINIMAL, "network-code": "US-TOLL-FREE"})
    assert r.network_code == "US-TOLL-FREE"
    assert r.mcc is None and r.mnc is None
    assert r.to_wire()["network-code"] == "US-TOLL-FREE"


def test_three_digit_mnc() -> None:
    r = parse({**MINIMAL, "network-code": "310004"})
    assert (r.mcc, r.mnc) == ("310", "004")


def test_uuid_message_id() -> None:
    r = parse({**MINIMAL, "messageId": "aaaaaaaa-bbbb-cccc-dddd-0123456789ab"})
    assert r.message_id == "aaaaaaaa-bbbb-cccc-dddd-0123456789ab"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1385047698", datetime(2013, 11, 21, 15, 28, 18, tzinfo=UTC)),
        ("2013-11-21T15:28:18Z", datetime(2013, 11, 21, 15, 28, 18, tzinfo=UTC)),
        ("2013-11-21T16:28:18+01:00", datetime(2013, 11, 21, 15, 28, 18, tzinfo=UTC)),
        ("2013-11-21 15:28:18", datetime(2013, 11, 21, 15, 28, 18, tzinfo=UTC)),
    ],
)
def test_timestamp_as_unix_seconds_or_iso_text(raw: str, expected: datetime) -> None:
    r = parse({**MINIMAL, "timestamp": raw})
    assert r.timestamp == expected
    assert r.timestamp is not None and r.timestamp.tzinfo is not None
    assert r.to_wire()["timestamp"] == raw


def test_signed_receipt_fields() -> None:
    fields = {**GUIDE_SAMPLE, "timestamp": "1385047698", "nonce": "abc-123", "sig": "d2e7b1dc"}
    r = parse(fields)
    assert r.nonce == "abc-123"
    assert r.sig == "d2e7b1dc"
    assert r.to_wire() == fields


@pytest.mark.parametrize("scts", ["1234567890", "9913321299", "18102513", "abcdefghij", "2"])
def test_unparseable_scts_is_none_and_kept_raw(scts: str) -> None:
    r = parse({**MINIMAL, "scts": scts})
    assert r.scts is None
    assert r.to_wire()["scts"] == scts


def test_scts_with_seconds() -> None:
    assert parse({**MINIMAL, "scts": "181025131059"}).scts == datetime(2018, 10, 25, 13, 10, 59)


@pytest.mark.parametrize("marker", ["null", ""])
def test_null_and_empty_mean_absent_for_optional_fields(marker: str) -> None:
    fields = {**MINIMAL, "price": marker, "scts": marker, "client-ref": marker}
    r = parse(fields)
    assert r.price is None and r.scts is None and r.client_ref is None
    assert r.to_wire() == fields
    assert parse_query(urlencode(fields)) == r


def test_list_values_from_frameworks() -> None:
    fields = {name: [value] for name, value in GUIDE_SAMPLE.items()}
    assert parse(fields) == parse(GUIDE_SAMPLE)
    assert parse({**MINIMAL, "price": []}).price is None


# -- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["messageId", "msisdn", "to", "status", "err-code"])
def test_missing_required_field(name: str) -> None:
    fields = dict(MINIMAL)
    del fields[name]
    with pytest.raises(MissingFieldError) as info:
        parse(fields)
    assert info.value.field == name
    assert repr(name) in str(info.value)


@pytest.mark.parametrize("marker", ["", "null"])
def test_required_field_with_absent_marker(marker: str) -> None:
    with pytest.raises(MissingFieldError) as info:
        parse({**MINIMAL, "msisdn": marker})
    assert info.value.field == "msisdn"
    assert info.value.value == marker


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("err-code", "x"),
        ("err-code", "-1"),
        ("err-code", "1.5"),
        ("err-code", "\u0661"),  # Arabic-Indic one: int() takes it, the provider never sends it
        ("err-code", "12345678901"),
        ("price", "cheap"),
        ("price", "NaN"),
        ("price", "Infinity"),
        ("message-timestamp", "yesterday"),
        ("message-timestamp", "2020-13-45 25:61:61"),
        ("timestamp", "soon"),
        ("timestamp", "999999999999999"),
    ],
)
def test_invalid_field(name: str, value: str) -> None:
    with pytest.raises(InvalidFieldError) as info:
        parse({**MINIMAL, name: value})
    error = info.value
    assert error.field == name
    assert error.value == value
    assert repr(name) in str(error) and repr(value) in str(error)
    assert error.http_status == 400


def test_repeated_query_key_is_refused() -> None:
    with pytest.raises(InvalidFieldError) as info:
        parse_query(urlencode(MINIMAL) + "&status=delivered")
    assert info.value.field == "status"
    assert info.value.value == ["failed", "delivered"]
    assert "repeated" in str(info.value)


def test_repeated_list_value_is_refused() -> None:
    with pytest.raises(InvalidFieldError, match="repeated"):
        parse({**MINIMAL, "status": ["failed", "delivered"]})


def test_repeated_json_key_is_refused() -> None:
    body = json.dumps(MINIMAL)[:-1] + ', "status": "delivered"}'
    with pytest.raises(InvalidFieldError) as info:
        parse_json(body)
    assert info.value.field == "status"


@pytest.mark.parametrize("value", [True, [1], {"a": "b"}])
def test_json_non_string_values_are_refused(value: object) -> None:
    with pytest.raises(InvalidFieldError) as info:
        parse_json(json.dumps({**MINIMAL, "price": value}))
    assert info.value.field == "price"


@pytest.mark.parametrize("value", [b"bytes", object(), 0.5, True, {"a": "b"}])
def test_mapping_values_must_be_strings(value: object) -> None:
    with pytest.raises(InvalidFieldError, match="expected a string") as info:
        parse({**MINIMAL, "client-ref": value})  # type: ignore[dict-item]
    assert info.value.field == "client-ref"


def test_mapping_int_values_are_their_decimal_text() -> None:
    # What json.loads gives for a number: read as the JSON decoder reads it.
    r = parse({**MINIMAL, "err-code": 7, "client-ref": 12})  # type: ignore[dict-item]
    assert (r.err_code, r.client_ref) == (7, "12")
    # Python refuses to print ints of more than 4,300 digits: a DlrError, not a ValueError.
    with pytest.raises(InvalidFieldError, match="integer out of range") as info:
        parse({**MINIMAL, "err-code": 10**5000})  # type: ignore[dict-item]
    assert info.value.field == "err-code"


def test_mapping_keys_must_be_strings() -> None:
    with pytest.raises(InvalidFieldError, match="names must be strings"):
        parse({**MINIMAL, 5: "x"})  # type: ignore[dict-item]


def test_not_a_mapping() -> None:
    with pytest.raises(MalformedPayloadError, match="expected a mapping"):
        parse([("messageId", "x")])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"[]",
        b'"a string"',
        b"{",
        b'{"a": NaN}',
        b"\xff\xfe{}",
        b"[" * 100_00 + b"]" * 100_00,
    ],
)
def test_malformed_json(body: bytes) -> None:
    with pytest.raises(MalformedPayloadError):
        parse_json(body)


@pytest.mark.parametrize(
    "to",
    [
        "\\ud800",
        "\\udc00x",
        # Found by fuzzing: a valid pair beside a lone one broke the error message.
        "\\u001f\\ud800\\udc00\\ud800]udc00",
    ],
)
def test_json_lone_surrogate_escapes_are_refused(to: str) -> None:
    body = '{"messageId": "m", "msisdn": "1", "to": "%s", "status": "failed", "err-code": "1"}'
    with pytest.raises(InvalidFieldError, match="surrogate") as info:
        parse_json(body % to)
    assert info.value.field == "to"
    assert "\\ud8" in info.value.value or "\\udc" in info.value.value


def test_json_valid_surrogate_pair_is_a_character() -> None:
    body = '{"messageId": "m", "msisdn": "1", "to": "\\ud83d\\ude00", "status": "failed",'
    assert parse_json(body + ' "err-code": "1"}').to == "\U0001f600"


def test_json_lone_surrogate_escape_is_refused() -> None:
    with pytest.raises(InvalidFieldError, match="surrogate"):
        parse_json(
            '{"messageId": "\\ud800", "msisdn": "1", "to": "x", "status": "failed",'
            ' "err-code": "1"}'
        )


def test_undecodable_query_bytes() -> None:
    with pytest.raises(MalformedPayloadError, match="not valid utf-8"):
        parse_query(b"messageId=\xff")


def test_undecodable_percent_escapes() -> None:
    with pytest.raises(MalformedPayloadError, match="not valid utf-8"):
        parse_query(urlencode(MINIMAL) + "&client-ref=%ff%fe")


def test_str_payload_with_lone_surrogate() -> None:
    with pytest.raises(MalformedPayloadError, match="not valid Unicode"):
        parse_query(urlencode(MINIMAL) + "&x=\ud800")


def test_unknown_charset() -> None:
    with pytest.raises(MalformedPayloadError) as info:
        parse_form(urlencode(MINIMAL).encode(), charset="no-such-charset")
    assert info.value.field == "charset"
    assert info.value.http_status == 415


@pytest.mark.parametrize(
    "charset",
    ["rot13", "hex", "base64", "zlib", "utf-7", "unicode_escape", "utf-16", "x" * 5000],
)
def test_charsets_that_are_text_transforms_or_make_surrogates_are_refused(charset: str) -> None:
    # rot13, hex, base64 and zlib are "codecs" to Python (LookupError on decode);
    # utf-7 and unicode_escape decode "+2FgA-" and "\\ud800" to lone surrogates.
    body = b"messageId=%2B2FgA-&msisdn=1&to=x&status=delivered&err-code=0&x=\\ud800"
    with pytest.raises(MalformedPayloadError) as info:
        parse_request(
            method="POST",
            content_type=f"application/x-www-form-urlencoded; charset={charset}",
            body=body,
        )
    assert (info.value.field, info.value.http_status) == ("charset", 415)


@pytest.mark.parametrize("charset", ["UTF-8", "utf8", "US-ASCII", "ISO-8859-1", "windows-1252"])
def test_charsets_accepted(charset: str) -> None:
    r = parse_request(
        method="POST",
        content_type=f"application/x-www-form-urlencoded; charset={charset}",
        body=urlencode({**MINIMAL, "client-ref": "abc"}).encode(),
    )
    assert r.client_ref == "abc"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({**MINIMAL, "client-ref": "a\x00b"}, "NUL"),
        ({**MINIMAL, "client-ref": "x" * 5000}, "longer than 4096"),
        ({**MINIMAL, "client-ref": "\ud800"}, "lone surrogate"),
        ({**MINIMAL, **{f"x{i}": "1" for i in range(64)}}, "more than 64 fields"),
    ],
)
def test_decode_fields_checks_what_parse_checks(fields: dict[str, str], message: str) -> None:
    for decoder in (parse, decode_fields):
        with pytest.raises(DlrError, match=message):
            decoder(fields)
    with pytest.raises(DlrError, match="longer than 3"):
        decode_fields(MINIMAL, limits=Limits(max_value_length=3))


@pytest.mark.parametrize("key", [5, b"messageId", 1.5, None, ("a",)])
def test_mapping_keys_that_are_not_strings(key: object) -> None:
    fields = {**MINIMAL, key: "x"}
    for parser in (parse, decode_fields):
        with pytest.raises(InvalidFieldError, match="names must be strings"):
            parser(fields)  # type: ignore[arg-type]
    with pytest.raises(DlrError, match="names must be strings"):
        dlrkit.signing_string({**fields, "sig": "x"})  # type: ignore[dict-item]
    with pytest.raises(dlrkit.SignatureError) as info:
        dlrkit.verify_signature({**fields, "sig": "x"}, "s", "sha256", max_age=None)  # type: ignore[dict-item]
    assert info.value.reason is dlrkit.SignatureFailure.MALFORMED


@pytest.mark.parametrize("parser", [parse_query, parse_form, parse_json])
def test_size_limit(parser: object) -> None:
    payload = urlencode({**MINIMAL, "client-ref": "x" * 70_000})
    with pytest.raises(MalformedPayloadError, match="over the limit of 65536") as info:
        parser(payload.encode())  # type: ignore[operator]
    assert info.value.http_status == 413
    # The limit is configurable.
    assert Limits().max_size == 65536
    with pytest.raises(MalformedPayloadError, match="over the limit of 50"):
        parser(urlencode(MINIMAL).encode(), limits=Limits(max_size=50))  # type: ignore[operator]


def test_payload_of_the_wrong_type() -> None:
    with pytest.raises(MalformedPayloadError, match="expected str or bytes"):
        parse_query(123)  # type: ignore[arg-type]


# -- parse_request ------------------------------------------------------------------------


def test_request_get() -> None:
    query = urlencode(GUIDE_SAMPLE)
    r = parse_request(method="get", content_type=None, query=query, body=b"")
    assert r == parse(GUIDE_SAMPLE)


@pytest.mark.parametrize(
    "content_type",
    [
        "application/x-www-form-urlencoded",
        "application/x-www-form-urlencoded; charset=UTF-8",
        "Application/X-WWW-Form-Urlencoded;charset=utf-8",
        'application/x-www-form-urlencoded; charset="utf-8"',
    ],
)
def test_request_form(content_type: str) -> None:
    body = urlencode(GUIDE_SAMPLE).encode()
    r = parse_request(method="POST", content_type=content_type, query="", body=body)
    assert r == parse(GUIDE_SAMPLE)


@pytest.mark.parametrize(
    "content_type", ["application/json", "application/json; charset=utf-8", "application/x+json"]
)
def test_request_json(content_type: str) -> None:
    body = json.dumps(GUIDE_SAMPLE).encode()
    r = parse_request(method="POST", content_type=content_type, query="", body=body)
    assert r == parse(GUIDE_SAMPLE)


def test_request_without_content_type_is_sniffed() -> None:
    as_json = json.dumps(GUIDE_SAMPLE).encode()
    as_form = urlencode(GUIDE_SAMPLE).encode()
    for body in (as_json, b"  " + as_json, as_form):
        assert parse_request(method="POST", content_type=None, body=body) == parse(GUIDE_SAMPLE)


def test_request_unsupported_content_type() -> None:
    with pytest.raises(MalformedPayloadError) as info:
        parse_request(method="POST", content_type="text/plain", body=b"x")
    assert info.value.field == "Content-Type"
    assert info.value.http_status == 415


def test_request_unsupported_method() -> None:
    with pytest.raises(MalformedPayloadError) as info:
        parse_request(method="PUT", content_type=None, query=urlencode(MINIMAL))
    assert info.value.field == "method"
    assert info.value.http_status == 405


def test_errors_are_value_errors_and_one_family() -> None:
    for cls in (MissingFieldError, InvalidFieldError, MalformedPayloadError, dlrkit.SignatureError):
        assert issubclass(cls, DlrError)
    assert issubclass(DlrError, ValueError)


def test_quoted_values_are_shortened() -> None:
    with pytest.raises(InvalidFieldError) as info:
        parse({**MINIMAL, "price": "9" * 10_000 + "x"})
    assert len(str(info.value)) < 200
    assert info.value.value == "9" * 10_000 + "x"  # the attribute keeps it whole


def test_quote_of_escapes() -> None:
    # A value with characters a log should not print raw is shown escaped.
    with pytest.raises(InvalidFieldError) as info:
        parse({**MINIMAL, "err-code": "1\n2"})
    assert "\\n" in str(info.value)
    assert quote("x")  # keep the import honest


def test_str_subclasses_are_read_as_their_text() -> None:
    class Markup(str):
        pass

    r = parse({**MINIMAL, "status": DlrStatus.DELIVERED, "to": Markup("Acme"), "x": [Markup("y")]})
    assert r.status is DlrStatus.DELIVERED
    assert type(r.to) is str and r.to == "Acme"
    assert type(r.extra["x"]) is str


# -- hostile input bounds ----------------------------------------------------------------------

ENCODERS = {
    "query": lambda f: parse_query(urlencode(f)),
    "form": lambda f: parse_form(urlencode(f).encode()),
    "json": lambda f: parse_json(json.dumps(f)),
    "mapping": parse,
}


@pytest.mark.parametrize("encoding", sorted(ENCODERS))
def test_too_many_fields(encoding: str) -> None:
    fields = {**MINIMAL, **{f"x{i}": "1" for i in range(Limits().max_fields)}}
    with pytest.raises(MalformedPayloadError, match="more than 64 fields") as info:
        ENCODERS[encoding](fields)
    assert info.value.http_status == 413
    just_enough = {**MINIMAL, **{f"x{i}": "1" for i in range(64 - len(MINIMAL))}}
    assert len(ENCODERS[encoding](just_enough).extra) == 64 - len(MINIMAL)


@pytest.mark.parametrize("encoding", sorted(ENCODERS))
def test_value_too_long(encoding: str) -> None:
    with pytest.raises(InvalidFieldError, match="longer than 4096 characters") as info:
        ENCODERS[encoding]({**MINIMAL, "client-ref": "x" * 4097})
    assert info.value.field == "client-ref"
    assert ENCODERS[encoding]({**MINIMAL, "client-ref": "x" * 4096}).client_ref == "x" * 4096
    with pytest.raises(InvalidFieldError):
        ENCODERS[encoding]({**MINIMAL, "n" * 4097: "1"})


@pytest.mark.parametrize("encoding", sorted(ENCODERS))
def test_nul_characters_are_refused(encoding: str) -> None:
    with pytest.raises(DlrError, match="NUL"):
        ENCODERS[encoding]({**MINIMAL, "client-ref": "a\x00b"})
    with pytest.raises(DlrError, match="NUL"):
        ENCODERS[encoding]({**MINIMAL, "x\x00": "1"})


def test_raw_nul_bytes_are_refused() -> None:
    with pytest.raises(MalformedPayloadError, match="NUL"):
        parse_query(urlencode(MINIMAL).encode() + b"&x=\x00")
    with pytest.raises(MalformedPayloadError):  # raw control characters are not JSON
        parse_json(json.dumps(MINIMAL)[:-1].encode() + b', "x": "\x00"}')


def test_limits_are_configurable_and_checked() -> None:
    small = Limits(max_fields=5, max_value_length=20)
    assert parse_query(urlencode(MINIMAL), limits=small).msisdn == "447700900000"
    with pytest.raises(MalformedPayloadError, match="more than 5 fields"):
        parse_query(urlencode({**MINIMAL, "x": "1"}), limits=small)
    with pytest.raises(InvalidFieldError, match="longer than 20"):
        parse_json(json.dumps({**MINIMAL, "to": "x" * 21}), limits=small)
    big = Limits(max_value_length=100_000, max_size=1_000_000)
    assert parse({**MINIMAL, "x": "y" * 50_000}, limits=big).extra["x"] == "y" * 50_000
    for bad in ({"max_size": 0}, {"max_fields": -1}, {"max_value_length": 0}, {"max_depth": 0}):
        with pytest.raises(ValueError, match="at least 1"):
            Limits(**bad)  # type: ignore[arg-type]


SEND_RESPONSE = {  # 3 levels: the object, "messages", each message
    "message-count": "1",
    "messages": [{"message-id": "0A0000000123ABCD1", "status": "0", "to": "447700900000"}],
}


def test_json_nesting_is_bounded() -> None:
    body = json.dumps(SEND_RESPONSE)
    assert dlrkit.parse_send_response(body, limits=Limits(max_depth=3)).message_count == 1
    with pytest.raises(MalformedPayloadError, match="more than 2 levels deep"):
        dlrkit.parse_send_response(body, limits=Limits(max_depth=2))
    deep = '{"a": ' * 33 + "1" + "}" * 33  # one level over the default
    with pytest.raises(MalformedPayloadError, match="more than 32 levels deep"):
        parse_message_status(deep)
    # Far deeper than Python's recursion limit: refused by the decoder itself.
    with pytest.raises(MalformedPayloadError, match="not valid JSON"):
        dlrkit.parse_send_response("[" * 20_000 + "]" * 20_000)
    # A receipt must be flat, whatever max_depth allows.
    with pytest.raises(InvalidFieldError, match="got a JSON object"):
        parse_json(json.dumps({**MINIMAL, "x": {}}), limits=Limits(max_depth=10))
