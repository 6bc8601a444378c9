"""The one place where wire text becomes an int, a Decimal, a datetime or an enum.

Every decoder here takes **any** ``str`` and either returns a value or raises
:class:`DecodeError`, whose message is the reason in words; the table loop
(``_table.py``) turns it into an ``InvalidFieldError`` naming the field. The
lenient decoders (``*_or_none``) never raise: they return None for text they
cannot read, and their callers keep the raw text.

The grammars are deliberately narrow, because what they refuse cannot reach
arithmetic, the clock or a database later:

* numbers are ASCII digits only (no ``"²"``, ``"١٢"``, ``"1_000"``, signs or
  spaces), with a bounded number of digits;
* a price is a non-negative decimal whose value has at most 20 digits before
  and 20 after the point (an exponent of at most two digits is read:
  ``"1E-7"``); it stores as fixed-point text, and sums of prices are exact in
  :data:`EXACT` arithmetic;
* a date and time is ISO 8601 as the provider writes it (``2020-07-17
  02:34:35``, ``T`` or space, optional fraction, ``Z``/``+0000``/``+00:00``),
  converted to UTC; dates that would leave ``datetime``'s range in UTC
  (``0001-01-01T00:00:00+05:00``) are refused, not an ``OverflowError``;
* charsets are the UTF-8 family, US-ASCII, ISO-8859-1 and windows-1252: none
  of them can produce a lone surrogate, and no "charset" can name a
  text transform such as ``rot13`` or ``base64``.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta, timezone
from decimal import Context, Decimal
from typing import Final

from ._status import DlrStatus

__all__ = [
    "EXACT",
    "UTC",
    "DecodeError",
    "count_or_none",
    "decode_amount",
    "decode_charset",
    "decode_count",
    "decode_datetime",
    "decode_err_code",
    "decode_price",
    "decode_status",
    "decode_strict_status",
    "decode_timestamp",
    "decode_unix_time",
    "err_code_or_none",
    "exact_sum",
    "int_text",
    "is_ascii_digits",
    "price_text",
    "scts_or_none",
    "smpp_date_readings",
    "stored_datetime",
    "stored_decimal",
    "text_problem",
]

UTC: Final = timezone.utc


class DecodeError(Exception):
    """A decoder could not read its text; the message says why, in words."""


# What dlrkit wrote itself (a store's records) is read back without checks:
# it passed them once, under whatever limits were in force then. The text is
# what str(Decimal) and datetime.isoformat() gave.
stored_decimal: Final[Callable[[str], Decimal]] = Decimal
stored_datetime: Final[Callable[[str], datetime]] = datetime.fromisoformat


def is_ascii_digits(text: str) -> bool:
    """True for a non-empty run of ``0-9`` (``str.isdigit`` alone admits ``"²"``)."""
    return text.isascii() and text.isdigit()


# -- integers ------------------------------------------------------------------------------

# int() of a long digit string is quadratic, and Python refuses more than
# 4,300 digits: every integer field has a small bound of its own.
_MAX_COUNT_DIGITS: Final = 9
_MAX_CODE_DIGITS: Final = 10


def decode_count(text: str) -> int:
    """A non-negative whole number of at most nine digits (counts, latencies)."""
    if is_ascii_digits(text) and len(text) <= _MAX_COUNT_DIGITS:
        return int(text)
    raise DecodeError("expected a whole number")


def count_or_none(text: str) -> int | None:
    """:func:`decode_count`, or None."""
    return int(text) if is_ascii_digits(text) and len(text) <= _MAX_COUNT_DIGITS else None


def decode_err_code(text: str) -> int:
    """An err-code: a non-negative integer of at most ten digits (``"000"`` is 0)."""
    if text.isascii() and text.isdigit() and len(text) <= _MAX_CODE_DIGITS:
        return int(text)
    raise DecodeError("expected a non-negative integer")


def err_code_or_none(text: str) -> int | None:
    """:func:`decode_err_code`, or None (vendors send ``err:21b``)."""
    return int(text) if is_ascii_digits(text) and len(text) <= _MAX_CODE_DIGITS else None


_MAX_INT: Final = 10**18


def int_text(value: int) -> str:
    """The decimal text of an ``int`` found in an already-decoded mapping.

    Bounded before ``str()``: Python refuses to print an int of more than
    4,300 digits, and no wire field holds more than a few.
    """
    if -_MAX_INT < value < _MAX_INT:
        return str(value)
    raise DecodeError("integer out of range")


# -- decimals ------------------------------------------------------------------------------

_PRICE: Final = re.compile(r"(?:\d{1,20}(?:\.\d{0,20})?|\.\d{1,20})(?:[eE][+-]?\d{1,2})?", re.ASCII)
_AMOUNT: Final = re.compile(r"-?" + _PRICE.pattern, re.ASCII)


def decode_price(text: str) -> Decimal:
    """A price: a non-negative decimal (``"0.03330000"``), never a float.

    Its value, written without an exponent, has at most 20 digits before and
    20 after the point (``"1E-7"`` is read; ``"1E+999999999"`` and
    ``"0.1e-99"`` are not), so it can be stored and read back as fixed-point
    text, and sums of prices are exact in :data:`EXACT` arithmetic.
    """
    whole, _, fraction = text.partition(".")
    if (
        len(whole) <= 20
        and len(fraction) <= 20
        and text.isascii()
        and whole.isdigit()
        and fraction.isdigit()
    ):
        return Decimal(text)  # "0.03330000", the provider's form: no regex needed
    if _PRICE.fullmatch(text):
        return _bounded(Decimal(text))
    raise DecodeError("expected a decimal number such as '0.03330000'")


def decode_amount(text: str) -> Decimal:
    """A signed amount (an account balance, an export's credit); as :func:`decode_price`."""
    if _AMOUNT.fullmatch(text):
        return _bounded(Decimal(text))
    raise DecodeError("expected a decimal number such as '3.14159265'")


def _bounded(value: Decimal) -> Decimal:
    # Only texts with an exponent (or a sign) get here: the grammar bounds the
    # digits, the exponent can still move them out of the fixed-point range.
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)  # the grammar admits finite numbers only
    if value.adjusted() >= _MAX_DIGITS or exponent < -_MAX_DIGITS:
        raise DecodeError(f"out of range: at most {_MAX_DIGITS} digits each side of the point")
    return value


_MAX_DIGITS: Final = 20
EXACT: Final = Context(prec=3 * _MAX_DIGITS)
"""Arithmetic in which sums of prices are exact: ``EXACT.add(total, price)``.

Precision for 20 + 20 digits, and 20 more for the count of terms: no sum of
parsed prices can round, where the default context (28 digits) would.
"""


def exact_sum(values: Iterable[Decimal]) -> Decimal:
    """The sum of *values* in :data:`EXACT` arithmetic: never rounded."""
    total = Decimal(0)
    for value in values:
        total = EXACT.add(total, value)
    return total


def price_text(value: Decimal) -> str:
    """A price or amount as the fixed-point text the provider writes, which decodes again."""
    return format(value, "f")


# -- dates and times -----------------------------------------------------------------------

_ISO: Final = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})"
    r"(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?"
    r" ?(?:([Zz]|UTC)|([+-])(\d{2})(?::?(\d{2}))?)?",
    re.ASCII,
)
_DATETIME_REASON: Final = "expected a date and time such as '2020-07-17 02:34:35'"


def decode_datetime(text: str) -> datetime:
    """An ISO 8601 date and time, as a UTC-aware ``datetime``.

    Text without an offset is read as UTC (the provider's timestamps are).
    """
    if (
        len(text) == 19
        and text[10] == " "
        and text[4] == "-"
        and text[7] == "-"
        and text[13] == ":"
        and text[16] == ":"
        and text.isascii()
    ):
        # The provider's own "YYYY-MM-DD HH:MM:SS", by far the commonest: with
        # the separators in place, fromisoformat (any Python version) takes
        # exactly the ASCII digits the grammar below does, ten times faster.
        try:
            return datetime.fromisoformat(text + "+00:00")
        except ValueError:
            pass  # no such date: the general path says so
    match = _ISO.fullmatch(text)
    if match is None:
        raise DecodeError(_DATETIME_REASON)
    year, month, day, hour, minute, second, fraction, _utc, sign, off_h, off_m = match.groups()
    micro = int(fraction[:6].ljust(6, "0")) if fraction else 0
    try:
        value = datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            micro,
            tzinfo=UTC,
        )
    except ValueError:
        raise DecodeError(f"{_DATETIME_REASON}: no such date or time") from None
    if sign is None:
        return value
    hours, minutes = int(off_h), int(off_m or 0)
    if hours > 23 or minutes > 59:
        raise DecodeError(f"{_DATETIME_REASON}: no such UTC offset")
    offset = timedelta(hours=hours, minutes=minutes)
    try:
        return value - offset if sign == "+" else value + offset
    except OverflowError:
        raise DecodeError("date and time out of range once converted to UTC") from None


# Unix seconds fit in 11 digits until the year 5138.
_UNIX: Final = re.compile(r"(\d{1,11})(?:\.(\d{1,9}))?", re.ASCII)


def decode_unix_time(text: str) -> datetime:
    """Unix seconds (``"1385047698"``, a fraction allowed), as a UTC-aware ``datetime``."""
    match = _UNIX.fullmatch(text)
    if match is None:
        raise DecodeError("expected unix seconds such as '1385047698'")
    seconds, fraction = match.groups()
    micro = int(fraction[:6].ljust(6, "0")) if fraction else 0
    try:
        return datetime.fromtimestamp(int(seconds), UTC).replace(microsecond=micro)
    except (OverflowError, OSError, ValueError):  # pragma: no cover - platform limits
        raise DecodeError("unix time out of range") from None


def decode_timestamp(text: str) -> datetime:
    """A signed request's ``timestamp``: unix seconds, or ISO 8601 (seen in the wild)."""
    if _UNIX.fullmatch(text):
        return decode_unix_time(text)
    try:
        return decode_datetime(text)
    except DecodeError:
        raise DecodeError("expected unix seconds such as '1385047698', or an ISO date") from None


# The last day of each month ("29" for February: leap years are checked
# apart). Carrier dates are checked as text before anything is built, so an
# impossible date ("1234567890") costs no exception: ASCII digit pairs
# compare as strings as they do as numbers.
_LAST_DAY: Final = {
    "01": "31", "02": "29", "03": "31", "04": "30", "05": "31", "06": "30",
    "07": "31", "08": "31", "09": "30", "10": "31", "11": "30", "12": "31",
}  # fmt: skip


def _date(text: str, year: str, at: int) -> datetime | None:
    """The naive date of ASCII digits: *year*, then MMDDhhmm[ss] of *text* from *at*."""
    month, day, hour = text[at : at + 2], text[at + 2 : at + 4], text[at + 4 : at + 6]
    minute, second = text[at + 6 : at + 8], text[at + 8 : at + 10] or "00"
    last = _LAST_DAY.get(month)
    if last is None or not "01" <= day <= last or hour > "23" or minute > "59" or second > "59":
        return None
    if month == "02" and day == "29":
        number = int(year)
        if number % 4 or (number % 100 == 0 and number % 400):
            return None
    if year == "0000":
        return None
    return datetime.fromisoformat(f"{year}-{month}-{day}T{hour}:{minute}:{second}")


def _yy(text: str) -> datetime | None:  # YYMMDDhhmm[ss]
    return _date(text, "20" + text[0:2], 2)


def _yyyy(text: str) -> datetime | None:  # YYYYMMDDhhmm[ss]
    return _date(text, text[0:4], 4)


def _absolute(text: str) -> datetime | None:  # SMPP absolute time: YYMMDDhhmmsstnn[+-]
    local = _yy(text[:12])
    quarters = int(text[13:15])
    if local is None or quarters > 48:
        return None
    offset = timedelta(minutes=15 * quarters)
    utc = local - offset if text[15] == "+" else local + offset
    return utc.replace(microsecond=100_000 * int(text[12]), tzinfo=UTC)


def smpp_date_readings(text: str) -> tuple[datetime, ...]:
    """Every valid reading of a carrier date, most likely first; never raises.

    ``YYMMDDhhmm`` (10 digits), ``YYMMDDhhmmss`` or ``YYYYMMDDhhmm`` (12),
    ``YYYYMMDDhhmmss`` (14), and the SMPP absolute time ``YYMMDDhhmmsstnnp``
    (16: tenths, the offset in quarter hours, ``+`` or ``-``), which alone
    states its time zone and is returned in UTC; the others are naive. Two
    digits of year are 20YY. A 12-digit text can be valid both ways
    (``200101010101``): both readings are returned, ``YYMMDDhhmmss`` first.
    """
    size = len(text)
    if size == 16:
        if text[15] in "+-" and is_ascii_digits(text[:15]):
            value = _absolute(text)
            return () if value is None else (value,)
        return ()
    if not (size in (10, 12, 14) and is_ascii_digits(text)):
        return ()
    if size == 10:
        value = _yy(text)
        return () if value is None else (value,)
    if size == 14:
        value = _yyyy(text)
        return () if value is None else (value,)
    return tuple(v for v in (_yy(text), _yyyy(text)) if v is not None)


# The webhook's own scts, YYMMDDhhmm, when it is a date other than a 29th of
# February (the one day that needs the year): a C-level check for the hot path.
_SCTS: Final = re.compile(
    r"[0-9]{2}"
    r"(?:(?:0[1-9]|1[0-2])(?:0[1-9]|1[0-9]|2[0-8])|(?:0[13-9]|1[0-2])(?:29|30)|(?:0[13578]|1[02])31)"
    r"(?:[01][0-9]|2[0-3])[0-5][0-9]"
)


def _scts_extended(text: str) -> datetime:
    return datetime.fromisoformat(f"20{text[0:2]}-{text[2:4]}-{text[4:6]}T{text[6:8]}:{text[8:10]}")


def _scts_basic(text: str) -> datetime:  # ISO 8601's basic format: Python 3.11 and later
    return datetime.fromisoformat(f"20{text[:6]}T{text[6:]}")


_scts_date: Final = _scts_basic if sys.version_info >= (3, 11) else _scts_extended


def scts_or_none(text: str) -> datetime | None:
    """The ``scts`` of an SMS receipt: ``YYMMDDHHMM`` in the carrier's time zone, naive.

    Lenient, because carriers send odd values (``1234567890`` in SDK
    fixtures, which is not a date): the first reading of
    :func:`smpp_date_readings` other than the zoned 16-character form, or
    None. Raises nothing, so a non-date costs no exception.
    """
    if _SCTS.fullmatch(text):
        return _scts_date(text)  # the webhook's own form; a test holds it to _date's
    if len(text) == 10 and text.isascii() and text.isdigit():
        return _date(text, "20" + text[0:2], 2) if text[2:6] == "0229" else None
    if len(text) == 16:
        return None
    readings = smpp_date_readings(text)
    return readings[0] if readings else None


# -- the status vocabulary -----------------------------------------------------------------

# One vocabulary for every record type, by whole word in any case: the SMS
# receipt's seven words; the Messages API's (which the Reports API's rows for
# other channels use too), where "read" is a delivery that went further; and
# SMPP's stat words, in their seven-letter forms and in full, with the
# message states of SMPP 5.0. Only whole words: "DELIVERY_FAILED" is no
# delivery, and stays UNKNOWN with its word kept.
_EXACT: Final[Mapping[str, DlrStatus]] = {s.value: s for s in DlrStatus}
_WORDS: Final[Mapping[str, DlrStatus]] = {
    **_EXACT,
    # Messages API
    "submitted": DlrStatus.ACCEPTED,
    "read": DlrStatus.DELIVERED,
    "undeliverable": DlrStatus.FAILED,
    # SMPP stat words and message states
    "delivrd": DlrStatus.DELIVERED,
    "undeliv": DlrStatus.FAILED,
    "deleted": DlrStatus.FAILED,
    "skipped": DlrStatus.FAILED,
    "rejectd": DlrStatus.REJECTED,
    "acceptd": DlrStatus.ACCEPTED,
    "enroute": DlrStatus.ACCEPTED,
    "scheduled": DlrStatus.ACCEPTED,
}
STATUS_WORDS: Final = frozenset(_EXACT)
"""The seven status words of the SMS receipt (``strict=True`` accepts only these)."""


def decode_strict_status(text: str) -> DlrStatus:
    """One of the SMS receipt's seven status words, exactly as the provider writes it."""
    status = _EXACT.get(text)
    if status is None:
        raise DecodeError(f"expected one of {', '.join(sorted(STATUS_WORDS))}")
    return status


def decode_status(text: str) -> DlrStatus:
    """Any status word, in any case, as a :class:`DlrStatus`; never raises.

    The receipt's seven words, the Messages API's (``submitted``, ``read``,
    ``undeliverable``) and SMPP's (``DELIVRD``, ``UNDELIV``, ``DELETED``,
    ``REJECTD``, ``ACCEPTD``, ``ENROUTE``, ...). Any other word is
    ``UNKNOWN``; callers keep the word as sent.
    """
    status = _EXACT.get(text)
    if status is not None:
        return status
    return _WORDS.get(text.strip().lower(), DlrStatus.UNKNOWN)


# -- text ----------------------------------------------------------------------------------


def text_problem(text: str, longest: int) -> str | None:
    """Why *text* may not be a field name or value, or None if it may.

    Too long, a NUL character (C strings and databases cut there), or a lone
    surrogate (no encoder accepts one: it would fail later, in a signature
    or a store).
    """
    if len(text) > longest:
        return f"longer than {longest} characters"
    if "\x00" in text:
        return "contains a NUL character"
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return "contains a lone surrogate"
    return None


# -- charsets ------------------------------------------------------------------------------

_CHARSETS: Final[Mapping[str, str]] = {
    **dict.fromkeys(("utf-8", "utf8"), "utf-8"),
    **dict.fromkeys(("us-ascii", "ascii", "iso-ir-6", "ansi_x3.4-1968", "646"), "ascii"),
    **dict.fromkeys(
        ("iso-8859-1", "iso8859-1", "iso_8859-1", "latin-1", "latin1", "l1", "cp819"), "latin-1"
    ),
    **dict.fromkeys(("windows-1252", "cp1252"), "cp1252"),
}
CHARSETS: Final = frozenset(_CHARSETS.values())


def decode_charset(name: str) -> str:
    """The Python codec for a ``charset`` parameter, from a closed list.

    The UTF-8 family, US-ASCII, ISO-8859-1 and windows-1252 (what browsers
    send under the ISO-8859-1 label), case-insensitively. None of them can
    yield a lone surrogate, and no name reaches Python's codec registry,
    where ``rot13``, ``hex`` or ``zlib`` are "codecs" too.
    """
    codec = _CHARSETS.get(name.strip().strip('"').lower())
    if codec is None:
        raise DecodeError("expected utf-8, us-ascii, iso-8859-1 or windows-1252")
    return codec
