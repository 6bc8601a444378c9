"""The codec layer: every decoder returns a value or raises DecodeError, for any text."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from decimal import Context, Decimal, localcontext
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from dlrkit import DlrStatus
from dlrkit._codecs import (
    CHARSETS,
    UTC,
    DecodeError,
    count_or_none,
    decode_amount,
    decode_charset,
    decode_count,
    decode_datetime,
    decode_err_code,
    decode_price,
    decode_status,
    decode_timestamp,
    decode_unix_time,
    err_code_or_none,
    exact_sum,
    int_text,
    price_text,
    scts_or_none,
    smpp_date_readings,
    text_problem,
)

# Every strict decoder, with the type it returns.
STRICT: dict[str, tuple[Callable[[str], Any], type]] = {
    "count": (decode_count, int),
    "err_code": (decode_err_code, int),
    "price": (decode_price, Decimal),
    "amount": (decode_amount, Decimal),
    "datetime": (decode_datetime, datetime),
    "unix_time": (decode_unix_time, datetime),
    "timestamp": (decode_timestamp, datetime),
    "charset": (decode_charset, str),
}
# Every lenient decoder: never raises.
LENIENT: dict[str, Callable[[str], Any]] = {
    "count_or_none": count_or_none,
    "err_code_or_none": err_code_or_none,
    "scts_or_none": scts_or_none,
    "smpp_date_readings": smpp_date_readings,
    "status": decode_status,
}

# Unicode decimal digits that are not ASCII: int() and Decimal() take them all.
NON_ASCII_DIGITS = [
    c for c in map(chr, range(0x80, 0x10000)) if unicodedata.category(c) == "Nd"
] + ["²", "³", "¹", "½", "Ⅻ"]

# The grammar's edges: digits of every script, signs, underscores, spaces,
# exponents of every size, dates at the ends of datetime's range with offsets.
edge_texts = st.one_of(
    st.text(),  # surrogates and control characters included
    st.text(st.sampled_from([*"0123456789", *NON_ASCII_DIGITS[:40], "-", "+", "_", ".", " "])),
    st.builds(
        lambda m, e: f"{m}E{e}",
        st.sampled_from(["1", "0.5", "9" * 25]),
        st.integers(-(10**9), 10**9),
    ),
    st.builds(
        lambda y, sign, h, m: (
            f"{y:04d}-{'01-01T00:00:00' if y < 5000 else '12-31T23:59:59'}{sign}{h:02d}:{m:02d}"
        ),
        st.sampled_from([0, 1, 2, 9998, 9999]),
        st.sampled_from("+-"),
        st.integers(0, 99),
        st.integers(0, 99),
    ),
    st.from_regex(
        r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}"
        r"(\.[0-9]{1,12})?(Z|[+-][0-9]{2}:?[0-9]{2})?\Z"
    ),
    st.from_regex(r"\A[0-9]{10,16}[+-]?\Z"),
)


@pytest.mark.parametrize("name", sorted(STRICT))
@given(text=edge_texts)
@example(text="0001-01-01T00:00:00+05:00")
@example(text="9999-12-31T23:59:59-05:00")
@example(text="1E+999999999")
@example(text="١٢")
@example(text="²")
@example(text="9" * 5000)
@example(text="rot13")
def test_strict_decoders_return_their_type_or_raise_decode_error(name: str, text: str) -> None:
    decode, kind = STRICT[name]
    try:
        value = decode(text)
    except DecodeError as error:
        assert str(error)  # a reason, in words
    else:
        assert isinstance(value, kind)
        if isinstance(value, datetime) and name != "charset":
            assert value.tzinfo is UTC


@pytest.mark.parametrize("name", sorted(LENIENT))
@given(text=edge_texts)
@example(text="1234567890")  # SDK fixtures' scts: not a date
@example(text="0000000000")
@example(text="991231235960")
def test_lenient_decoders_never_raise(name: str, text: str) -> None:
    LENIENT[name](text)


@given(st.text(st.sampled_from(NON_ASCII_DIGITS), min_size=1, max_size=4))
def test_numbers_are_ascii_digits_only(digits: str) -> None:
    for decode in (decode_count, decode_err_code, decode_price, decode_amount, decode_unix_time):
        with pytest.raises(DecodeError):
            decode(digits)
    for lenient in (count_or_none, err_code_or_none):
        assert lenient(digits) is None


@pytest.mark.parametrize("text", ["-1", "+1", "1_000", " 1", "1 ", "", "0x1", "1.0", "\uff11"])
def test_counts_refuse_signs_underscores_spaces(text: str) -> None:
    for decode in (decode_count, decode_err_code):
        with pytest.raises(DecodeError):
            decode(text)


def test_counts_are_bounded() -> None:
    assert decode_count("999999999") == 999_999_999
    assert decode_err_code("0000000007") == 7
    with pytest.raises(DecodeError):
        decode_count("1" * 10)
    with pytest.raises(DecodeError):
        decode_err_code("1" * 11)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0.03330000", Decimal("0.03330000")),
        ("0", Decimal(0)),
        ("12", Decimal(12)),
        (".5", Decimal("0.5")),
        ("5.", Decimal(5)),
        ("1E-7", Decimal("1E-7")),
        ("3.3e-05", Decimal("0.000033")),
        ("9" * 20 + "." + "9" * 20, Decimal("9" * 20 + "." + "9" * 20)),
    ],
)
def test_prices_read(text: str, value: Decimal) -> None:
    assert decode_price(text) == value


@pytest.mark.parametrize(
    "text",
    [
        "-1000",
        "-0.5",
        "+1",
        "1_000",
        "١٢",
        "NaN",
        "Infinity",
        "sNaN",
        "1E+999999999",
        "1e100",
        "9" * 21,
        "0." + "9" * 21,
        "1,5",
        " 1",
        ".",
        "",
        "0x10",
    ],
)
def test_prices_refused(text: str) -> None:
    with pytest.raises(DecodeError):
        decode_price(text)


PRICE_TEXTS = st.from_regex(r"\A[0-9]{1,20}(\.[0-9]{1,20})?([eE][+-]?[0-9]{1,2})?\Z")


@given(st.lists(PRICE_TEXTS, max_size=50))
def test_accepted_prices_store_as_fixed_point_and_sum_exactly(texts: list[str]) -> None:
    prices = []
    for text in texts:
        try:
            prices.append(decode_price(text))
        except DecodeError:
            continue  # an exponent that moves it out of range
    for price in prices:
        # What a store writes, it reads back: fixed-point text in the grammar.
        assert decode_price(price_text(price)) == price
    total = exact_sum(prices)
    assert total.is_finite() and total >= 0
    with localcontext(Context(prec=1000)):
        assert total == sum(prices, Decimal(0))  # no rounding


@pytest.mark.parametrize("text", ["0.1e-99", "1e-21", "1e20", "0E-99", "99999999999999999999e1"])
def test_exponents_cannot_move_a_price_out_of_range(text: str) -> None:
    with pytest.raises(DecodeError, match="out of range"):
        decode_price(text)
    assert decode_price("1e-20") == Decimal("1E-20")
    assert decode_price("9e19") == Decimal("9E19")


def test_amounts_may_be_negative() -> None:
    assert decode_amount("-3.14159265") == Decimal("-3.14159265")
    with pytest.raises(DecodeError):
        decode_amount("--1")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2020-07-17 02:34:35", datetime(2020, 7, 17, 2, 34, 35, tzinfo=UTC)),
        ("2020-07-17T02:34:35Z", datetime(2020, 7, 17, 2, 34, 35, tzinfo=UTC)),
        ("2020-07-17T02:34:35.123Z", datetime(2020, 7, 17, 2, 34, 35, 123000, tzinfo=UTC)),
        ("2020-07-17T02:34:35.1234567891Z", None),  # over nine digits of fraction
        ("2020-07-17T02:34:35.123456789Z", datetime(2020, 7, 17, 2, 34, 35, 123456, tzinfo=UTC)),
        ("2020-01-01 12:00:00 +0000", datetime(2020, 1, 1, 12, tzinfo=UTC)),
        ("2020-01-01T12:00:00+0200", datetime(2020, 1, 1, 10, tzinfo=UTC)),
        ("2020-01-01T12:00:00-05:30", datetime(2020, 1, 1, 17, 30, tzinfo=UTC)),
        ("2020-01-01", datetime(2020, 1, 1, tzinfo=UTC)),
        ("0001-01-01T00:00:00+05:00", None),  # before datetime.min once in UTC
        ("9999-12-31T23:59:59-05:00", None),  # after datetime.max once in UTC
        ("0001-01-01T05:00:00+05:00", datetime(1, 1, 1, tzinfo=UTC)),
        ("9999-12-31T23:59:59+00:00", datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)),
        ("0000-01-01 00:00:00", None),
        ("2020-02-30 00:00:00", None),
        ("2020-01-01T24:00:00", None),
        ("2020-06-30T23:59:60Z", None),  # leap seconds: datetime has none
        ("2020-01-01T12:00:00+24:00", None),
        ("2020-01-01T12:00:00+05:60", None),
        ("\uff12\uff10\uff12\uff10-01-01", None),
        ("2020-01-01T12:00:00+05:00:00", None),
        ("20200101T120000", None),
    ],
)
def test_datetimes(text: str, expected: datetime | None) -> None:
    if expected is None:
        with pytest.raises(DecodeError):
            decode_datetime(text)
    else:
        assert decode_datetime(text) == expected


@given(st.datetimes(datetime(1, 1, 2), datetime(9999, 12, 30)), st.integers(-23 * 60, 23 * 60))
def test_datetimes_agree_with_the_standard_library(moment: datetime, minutes: int) -> None:
    zone = timezone(timedelta(minutes=minutes))
    aware = moment.replace(tzinfo=zone)
    assert decode_datetime(aware.isoformat()) == aware.astimezone(UTC)
    text = moment.isoformat(" ", "seconds")  # the provider's own form
    assert decode_datetime(text) == datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_unix_times() -> None:
    assert decode_unix_time("1385047698") == datetime(2013, 11, 21, 15, 28, 18, tzinfo=UTC)
    assert decode_unix_time("0.5") == datetime(1970, 1, 1, 0, 0, 0, 500000, tzinfo=UTC)
    assert decode_unix_time("99999999999").year == 5138
    for bad in ("1" * 12, "-1", "1e9", "١٣٨٥٠٤٧٦٩٨", ""):
        with pytest.raises(DecodeError):
            decode_unix_time(bad)
    assert decode_timestamp("2013-11-21T15:28:18Z") == decode_unix_time("1385047698")


@pytest.mark.parametrize(
    ("text", "readings"),
    [
        ("2011171547", (datetime(2020, 11, 17, 15, 47),)),
        ("201117154859", (datetime(2020, 11, 17, 15, 48, 59),)),
        ("201506201641", (datetime(2015, 6, 20, 16, 41),)),  # YYYY...: month 15 is no month
        ("20110314181534", (datetime(2011, 3, 14, 18, 15, 34),)),
        ("200101010101", (datetime(2020, 1, 1, 1, 1, 1), datetime(2001, 1, 1, 1, 1))),
        ("180711070003912+", (datetime(2018, 7, 11, 4, 0, 3, 900000, tzinfo=UTC),)),
        ("180711070003900-", (datetime(2018, 7, 11, 7, 0, 3, 900000, tzinfo=UTC),)),
        ("180711070003949+", ()),  # 49 quarter hours is no offset
        ("180711070003912R", ()),  # relative time: not a date
        ("1234567890", ()),
        ("9999999999", ()),
        ("2002291200", (datetime(2020, 2, 29, 12, 0),)),
        ("2102291200", ()),
        ("\uff12\uff10\uff11\uff11\uff11\uff17\uff11\uff15\uff14\uff17", ()),
        ("", ()),
    ],
)
def test_smpp_dates(text: str, readings: tuple[datetime, ...]) -> None:
    assert smpp_date_readings(text) == readings


@given(st.datetimes(datetime(2000, 1, 1), datetime(2099, 12, 31)))
def test_smpp_dates_read_back_what_was_written(moment: datetime) -> None:
    moment = moment.replace(microsecond=0)
    for form in ("%y%m%d%H%M%S", "%Y%m%d%H%M%S", "%y%m%d%H%M", "%Y%m%d%H%M"):
        written = moment.strftime(form)
        expected = moment if "S" in form else moment.replace(second=0)
        assert expected in smpp_date_readings(written)


def test_scts_is_the_first_unzoned_reading() -> None:
    assert scts_or_none("1810251310") == datetime(2018, 10, 25, 13, 10)
    assert scts_or_none("1234567890") is None
    assert scts_or_none("180711070003912+") is None  # a zoned form is not an scts


@pytest.mark.parametrize(
    ("word", "status"),
    [
        *((s.value, s) for s in DlrStatus),
        ("DELIVERED", DlrStatus.DELIVERED),
        (" Failed ", DlrStatus.FAILED),
        ("submitted", DlrStatus.ACCEPTED),
        ("read", DlrStatus.DELIVERED),
        ("undeliverable", DlrStatus.FAILED),
        ("UNDELIVERABLE", DlrStatus.FAILED),
        ("DELIVRD", DlrStatus.DELIVERED),
        ("REJECTD", DlrStatus.REJECTED),
        ("deleted", DlrStatus.FAILED),
        ("something-new", DlrStatus.UNKNOWN),
        ("", DlrStatus.UNKNOWN),
    ],
)
def test_one_status_vocabulary(word: str, status: DlrStatus) -> None:
    assert decode_status(word) is status


@pytest.mark.parametrize(
    ("name", "codec"),
    [
        ("utf-8", "utf-8"),
        ("UTF-8", "utf-8"),
        ("utf8", "utf-8"),
        ('"utf-8"', "utf-8"),
        ("US-ASCII", "ascii"),
        ("ISO-8859-1", "latin-1"),
        ("latin1", "latin-1"),
        ("windows-1252", "cp1252"),
    ],
)
def test_charsets_accepted(name: str, codec: str) -> None:
    assert decode_charset(name) == codec


@pytest.mark.parametrize(
    "name",
    [
        "rot13",
        "rot_13",
        "hex",
        "base64",
        "zlib",
        "bz2",
        "uu",
        "quopri",
        "utf-7",
        "unicode_escape",
        "raw_unicode_escape",
        "utf-16",
        "utf-32",
        "idna",
        "punycode",
        "",
        "x" * 10_000,
        "utf-8\x00",
    ],
)
def test_charsets_refused(name: str) -> None:
    with pytest.raises(DecodeError):
        decode_charset(name)


@given(st.binary(), st.sampled_from(sorted(CHARSETS)))
def test_no_accepted_charset_can_make_a_lone_surrogate(data: bytes, codec: str) -> None:
    try:
        text = data.decode(codec)
    except UnicodeDecodeError:
        return
    text.encode("utf-8")  # would raise on a lone surrogate


def test_text_problems() -> None:
    assert text_problem("abc", 3) is None
    assert text_problem("abcd", 3) == "longer than 3 characters"
    assert text_problem("a\x00", 3) == "contains a NUL character"
    assert text_problem("a\ud800", 3) == "contains a lone surrogate"
    assert text_problem("é€😀", 3) is None


def test_int_text_is_bounded() -> None:
    assert int_text(-12) == "-12"
    with pytest.raises(DecodeError):
        int_text(10**5000)  # str() itself would raise ValueError
