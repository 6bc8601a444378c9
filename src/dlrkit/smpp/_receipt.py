"""SMPP delivery receipt text (the short message of a carrier's deliver_sm)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Final

import attrs

from .._classify import Classifiable
from .._codecs import (
    count_or_none,
    decode_status,
    err_code_or_none,
    smpp_date_readings,
)
from .._codes import ErrorCode
from .._errors import InvalidFieldError, MalformedPayloadError, MissingFieldError
from .._limits import DEFAULT_LIMITS, Limits
from .._status import DlrStatus
from .._table import FieldSpec, Table

__all__ = ["SmppReceipt", "normalize_smpp_id", "parse_smpp_receipt", "smpp_ids_match"]

# The receipt's keys, in any order and case.
_KEYS: Final = re.compile(
    r"(?i)(?:^|(?<=\s))(id|sub|dlvrd|submit[ _]?date|done[ _]?date|stat|err|text)\s*:"
)
_KEY_NAMES: Final = {"submitdate": "submit date", "donedate": "done date"}

# The text's fields. Every codec here is lenient (vendors vary): what it
# cannot read is None, and the text stays in the receipt (``stat``, ``err``).
FIELDS: Final = Table(
    FieldSpec("id", "id"),
    FieldSpec("sub", "submitted", decode=count_or_none),
    FieldSpec("dlvrd", "delivered", decode=count_or_none),
    FieldSpec("submit date", "submit_readings", decode=smpp_date_readings),
    FieldSpec("done date", "done_readings", decode=smpp_date_readings),
    FieldSpec("stat", "status", decode=decode_status),
    FieldSpec("err", "err_code", decode=err_code_or_none),
    FieldSpec("text", "text"),
)

# The message_state TLV (SMPP 3.4 section 5.2.28).
_MESSAGE_STATE: Final = {
    0: DlrStatus.ACCEPTED,  # SCHEDULED (SMPP 5.0)
    1: DlrStatus.ACCEPTED,  # ENROUTE
    2: DlrStatus.DELIVERED,
    3: DlrStatus.EXPIRED,
    4: DlrStatus.FAILED,  # DELETED
    5: DlrStatus.FAILED,  # UNDELIVERABLE
    6: DlrStatus.ACCEPTED,
    7: DlrStatus.UNKNOWN,
    8: DlrStatus.REJECTED,
    9: DlrStatus.FAILED,  # SKIPPED
}
_UCS2: Final = 8  # data_coding of UCS-2 text, sent as UTF-16-BE


@attrs.frozen(kw_only=True)
class SmppReceipt(Classifiable):
    """An SMPP delivery receipt, read from its text (and TLVs when given).

    ``stat`` and ``err`` keep the words as sent; ``status`` maps ``stat`` to a
    :class:`~dlrkit.DlrStatus` and ``err_code`` reads ``err`` as a number
    (None when it is not one, such as ``err:21b``). ``submit_date`` and
    ``done_date`` are naive, the SMSC's time zone being unstated, unless the
    SMSC wrote the SMPP absolute time format, which states its offset: those
    are in UTC.
    """

    id: str
    stat: str | None
    status: DlrStatus
    err: str | None = None
    err_code: int | None = None
    submitted: int | None = None
    delivered: int | None = None
    submit_date: datetime | None = None
    done_date: datetime | None = None
    text: str | None = None
    network_error_code: int | None = None

    @property
    def error(self) -> ErrorCode | None:
        """``err_code`` as an :class:`~dlrkit.ErrorCode`, or None."""
        return None if self.err_code is None else ErrorCode.lookup(self.err_code)


def parse_smpp_receipt(
    text: str | bytes,
    *,
    receipted_message_id: str | None = None,
    message_state: int | None = None,
    network_error_code: bytes | int | None = None,
    data_coding: int | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> SmppReceipt:
    """Parse the text of an SMPP delivery receipt.

    ``id:IIII sub:001 dlvrd:001 submit date:YYMMDDhhmm done date:YYMMDDhhmm
    stat:DELIVRD err:000 text:...``, leniently: keys in any order and case
    (``text:`` included: it ends where a key not seen before begins),
    ``sub``/``dlvrd``/``text`` missing, ``err`` of any width or not numeric,
    dates in every form of :func:`dates <dlrkit._codecs.smpp_date_readings>`,
    ``stat`` words longer than seven letters, and trailing NUL characters
    (receipts carried in ``message_payload`` often end with one).

    A 12-digit date can be read two ways (``YYMMDDhhmmss`` and
    ``YYYYMMDDhhmm``); when both are valid dates, the reading closest to the
    receipt's other date wins, and ``YYMMDDhhmmss`` when that does not decide.

    *text* as bytes is decoded by its *data_coding*: 8 is UCS-2 (UTF-16-BE),
    anything else is read as Latin-1, which the receipt's ASCII keys and
    digits survive (with 0, the SMSC's GSM alphabet, a NUL inside the text
    is GSM's ``@``). Bytes that start with a UTF-16 byte order mark are read
    in its order; without a *data_coding*, bytes that start with a NUL are
    read as UCS-2.

    Where an SMPP library hands over the receipt's optional parameters, pass
    them: *receipted_message_id*, *message_state* (the TLV's integer) and
    *network_error_code* (the TLV's 3 bytes, or its error code as an int) are
    preferred over the text. A ``network_error_code`` that is not the binary
    form (its first byte is not a network type 1-3, such as the ASCII
    ``b"000"`` some SMSCs send) is ignored, and the text's ``err:`` decides.

    Raises:
        DlrError: the text has no ``id`` or no ``stat`` (and no TLV gives
            them), is longer than ``limits.max_size``, or holds a NUL
            character or undecodable bytes.
    """
    fields = _fields(_decoded(text, data_coding, limits), gsm=data_coding == 0)
    values, raw, _ = FIELDS.read(fields, limits)
    if receipted_message_id is not None:
        # A TLV, from the wire like the text: held to the same rules.
        tlv = FIELDS.read({"id": receipted_message_id}, limits, "receipted_message_")[0]
        values["id"] = tlv.get("id") or values.get("id")
    message_id = values.get("id")
    if not message_id:
        raise MissingFieldError("id", value=text if text else None)
    if message_state is not None:
        if type(message_state) is not int or message_state not in _MESSAGE_STATE:
            raise InvalidFieldError("message_state", message_state, "expected an SMPP state 0-9")
        status = _MESSAGE_STATE[message_state]
    elif "status" in values:
        status = values["status"]
    else:
        raise MissingFieldError("stat", value=text)
    network_error = _network_error(network_error_code)
    submit: tuple[datetime, ...] = values.get("submit_readings", ())
    done: tuple[datetime, ...] = values.get("done_readings", ())
    return SmppReceipt(
        id=message_id,
        stat=raw.get("stat"),
        status=status,
        err=raw.get("err"),
        err_code=network_error if network_error is not None else values.get("err_code"),
        submitted=values.get("submitted"),
        delivered=values.get("delivered"),
        submit_date=_closest(submit, done),
        done_date=_closest(done, submit),
        text=values.get("text"),
        network_error_code=network_error,
    )


def _decoded(text: str | bytes, data_coding: int | None, limits: Limits) -> str:
    if isinstance(text, str):
        if len(text) > limits.max_size:
            raise MalformedPayloadError(f"receipt text of {len(text)} characters is too long")
        return text
    if not isinstance(text, (bytes, bytearray, memoryview)):
        raise MalformedPayloadError(f"expected str or bytes, got {type(text).__name__}", value=text)
    data = bytes(text)
    if len(data) > limits.max_size:
        raise MalformedPayloadError(f"receipt text of {len(data)} bytes is too long")
    if data_coding is not None and data_coding not in range(256):
        raise InvalidFieldError("data_coding", data_coding, "expected an SMPP data_coding 0-255")
    codec = "latin-1"  # never fails
    if data_coding in (None, _UCS2) and data.startswith((b"\xfe\xff", b"\xff\xfe")):
        codec, data = ("utf-16-be" if data[0] == 0xFE else "utf-16-le"), data[2:]
    elif data_coding == _UCS2 or (data_coding is None and data[:1] == b"\x00"):
        codec = "utf-16-be"
    if codec == "latin-1":
        return data.decode(codec)
    try:
        return data.decode(codec)
    except UnicodeDecodeError as error:
        raise MalformedPayloadError(
            f"receipt text is not valid UCS-2 (byte {error.start})", value=data
        ) from None


def _fields(text: str, gsm: bool = False) -> dict[str, str]:
    """The text's ``key:value`` pairs (a repeated key keeps its first value).

    Every key ends the value before it, except, once ``text:`` has begun,
    keys already seen: so ``text:`` may come anywhere, and what it says
    (``text:stat: ok``) stays in it once ``stat`` has been read. Trailing
    NULs end a C string; with *gsm* (data_coding 0, the SMSC's default
    alphabet, GSM 03.38), a NUL inside is the GSM ``@``.
    """
    text = text.rstrip("\x00")
    if gsm:
        text = text.replace("\x00", "@")
    if "\x00" in text:
        raise MalformedPayloadError("receipt text contains a NUL character", value=text)
    starts: list[tuple[str, re.Match[str]]] = []
    seen: set[str] = set()
    for match in _KEYS.finditer(text):
        key = match.group(1).lower().replace("_", " ")
        key = _KEY_NAMES.get(key, key)
        if "text" in seen and key in seen:
            continue
        seen.add(key)
        starts.append((key, match))
    fields: dict[str, str] = {}
    for index, (key, match) in enumerate(starts):
        last = index + 1 == len(starts)
        value = text[match.end() : len(text) if last else starts[index + 1][1].start()]
        fields.setdefault(
            key, (value if last else value.rstrip()) if key == "text" else value.strip()
        )
    return fields


def _closest(own: tuple[datetime, ...], other: tuple[datetime, ...]) -> datetime | None:
    """The reading of a date nearest to any reading of the receipt's other date."""
    if len(own) < 2 or not other:
        return own[0] if own else None
    return min(own, key=lambda mine: min(_distance(mine, theirs) for theirs in other))


def _distance(a: datetime, b: datetime) -> timedelta:
    # Wall-clock distance: one side may state its offset and the other not.
    return abs(a.replace(tzinfo=None) - b.replace(tzinfo=None))


def _network_error(value: bytes | int | None) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, bytes, bytearray)):
        raise InvalidFieldError(
            "network_error_code", value, "expected the TLV's bytes or its error code"
        )
    if isinstance(value, int):
        if not 0 <= value <= 0xFFFF:
            raise InvalidFieldError("network_error_code", value, "expected a code 0-65535")
        return value
    if len(value) == 3 and value[0] in (1, 2, 3):  # network type (ANSI-136, IS-95, GSM)
        return int.from_bytes(value[1:], "big")
    return None


def normalize_smpp_id(message_id: str, base: int) -> str:
    """An SMPP message id as lowercase hex without leading zeros, read in *base* (10 or 16).

    Many SMSCs return the submit_sm_resp id in one base and the receipt's
    ``id:`` in the other; normalise both sides with the base each uses.

    >>> normalize_smpp_id("0A1B", 16) == normalize_smpp_id("2587", 10)
    True
    """
    if base not in (10, 16):
        raise ValueError("base must be 10 or 16")
    if not isinstance(message_id, str):
        raise InvalidFieldError("id", message_id, "expected a string")
    text = message_id.strip()
    digits = "0123456789" if base == 10 else "0123456789abcdefABCDEF"
    # int() alone would take "١٢", "1_000", "+7" and 5,000-digit ids.
    if not text or len(text) > 64 or text.strip(digits):
        raise InvalidFieldError("id", message_id, f"not a base-{base} number")
    return format(int(text, base), "x")


def smpp_ids_match(a: str, b: str) -> bool:
    """True when two SMPP ids name the same message, whichever base each side used.

    An id of decimal digits reads in both bases, so a match across bases can
    be a coincidence (``"1000"`` hex is ``"4096"`` decimal): when you know
    which base each side uses, compare :func:`normalize_smpp_id` of each.

    Raises:
        DlrError: an id is not a string.
    """
    for side in (a, b):
        if not isinstance(side, str):
            raise InvalidFieldError("id", side, "expected a string")
    if a.strip().lower() == b.strip().lower():
        return True
    for base_a, base_b in ((16, 10), (10, 16), (16, 16)):
        try:
            if normalize_smpp_id(a, base_a) == normalize_smpp_id(b, base_b):
                return True
        except InvalidFieldError:
            continue
    return False
