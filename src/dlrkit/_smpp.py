"""SMPP delivery receipt text (the short message of a carrier's deliver_sm)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Final

import attrs

from ._classify import Classifiable
from ._codes import ErrorCode
from ._errors import InvalidFieldError, MalformedPayloadError, MissingFieldError
from ._fields import decode_scts
from ._status import DlrStatus

__all__ = ["SmppReceipt", "normalize_smpp_id", "parse_smpp_receipt", "smpp_ids_match"]

# The receipt's keys, in any order and case; "text:" takes the rest of the line.
_KEYS: Final = re.compile(
    r"(?i)(?:^|(?<=\s))(id|sub|dlvrd|submit[ _]?date|done[ _]?date|stat|err|text)\s*:"
)
_MAX_TEXT: Final = 4096

# stat words to DlrStatus, by their first seven letters: vendors send both the
# SMPP abbreviations and longer words (FAILED, DELIVERED, UNDELIVERABLE).
_STAT: Final[Mapping[str, DlrStatus]] = {
    "DELIVRD": DlrStatus.DELIVERED,
    "DELIVER": DlrStatus.DELIVERED,
    "EXPIRED": DlrStatus.EXPIRED,
    "DELETED": DlrStatus.FAILED,
    "UNDELIV": DlrStatus.FAILED,
    "FAILED": DlrStatus.FAILED,
    "REJECTD": DlrStatus.REJECTED,
    "REJECTE": DlrStatus.REJECTED,
    "ACCEPTD": DlrStatus.ACCEPTED,
    "ACCEPTE": DlrStatus.ACCEPTED,
    "ENROUTE": DlrStatus.ACCEPTED,
    "BUFFERE": DlrStatus.BUFFERED,
    "UNKNOWN": DlrStatus.UNKNOWN,
}
# The message_state TLV (SMPP 3.4 section 5.2.28).
_MESSAGE_STATE: Final[Mapping[int, DlrStatus]] = {
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


def _date(raw: str | None) -> datetime | None:
    # YYMMDDhhmm or YYMMDDhhmmss, the SMSC's time zone unstated: the DLR's scts grammar.
    return None if raw is None else decode_scts(raw)


def _count(raw: str | None) -> int | None:
    if raw is None or not (raw.isdigit() and raw.isascii()) or len(raw) > 9:
        return None
    return int(raw)


@attrs.frozen(kw_only=True)
class SmppReceipt(Classifiable):
    """An SMPP delivery receipt, read from its text (and TLVs when given).

    ``submit_date``/``done_date`` are naive: the SMSC's time zone is not stated.
    ``stat`` keeps the word as sent; ``status`` maps it to :class:`DlrStatus`.
    """

    id: str
    stat: str
    status: DlrStatus
    err: int | None = None
    submitted: int | None = None
    delivered: int | None = None
    submit_date: datetime | None = None
    done_date: datetime | None = None
    text: str | None = None
    network_error_code: int | None = None

    @property
    def dlr_status(self) -> DlrStatus:
        return self.status

    @property
    def err_code(self) -> int | None:
        """The ``err:`` code (or the network_error_code TLV's error, when given)."""
        return self.err

    @property
    def error(self) -> ErrorCode | None:
        return None if self.err is None else ErrorCode.lookup(self.err)


def parse_smpp_receipt(
    text: str | bytes,
    *,
    receipted_message_id: str | None = None,
    message_state: int | None = None,
    network_error_code: bytes | int | None = None,
) -> SmppReceipt:
    """Parse the text of an SMPP delivery receipt.

    ``id:IIII sub:001 dlvrd:001 submit date:YYMMDDhhmm done date:YYMMDDhhmm
    stat:DELIVRD err:000 text:...``, leniently: keys in any order and case,
    ``sub``/``dlvrd``/``text`` missing, ``err`` of any width, 10- or 12-digit
    dates, ``stat`` words longer than seven letters.

    Where an SMPP library hands over the receipt's optional parameters, pass
    them: *receipted_message_id*, *message_state* (the TLV's integer) and
    *network_error_code* (the TLV's 3 bytes, or its error code as an int) are
    preferred over the text.

    Raises:
        DlrError: the text has no ``id`` or no ``stat`` (and no TLV gives them).
    """
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("latin-1")  # SMSCs send GSM/ASCII; never fails
    if not isinstance(text, str):
        raise MalformedPayloadError(f"expected str or bytes, got {type(text).__name__}", value=text)
    if len(text) > _MAX_TEXT:
        raise MalformedPayloadError(f"receipt text of {len(text)} characters is too long")
    fields: dict[str, str] = {}
    matches = list(_KEYS.finditer(text))
    for index, match in enumerate(matches):
        key = match.group(1).lower().replace("_", " ")
        key = {"submitdate": "submit date", "donedate": "done date"}.get(key, key)
        if key == "text":
            fields["text"] = text[match.end() :]
            break
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        fields.setdefault(key, text[match.end() : end].strip())
    message_id = receipted_message_id or fields.get("id")
    if not message_id:
        raise MissingFieldError("id", value=text if text else None)
    stat = fields.get("stat", "")
    if message_state is not None:
        if message_state not in _MESSAGE_STATE:
            raise InvalidFieldError("message_state", message_state, "expected an SMPP state 1-9")
        status = _MESSAGE_STATE[message_state]
    elif stat:
        status = _STAT.get(stat.upper()[:7], DlrStatus.UNKNOWN)
    else:
        raise MissingFieldError("stat", value=text)
    err = _count(fields.get("err"))
    network_error = _network_error(network_error_code)
    return SmppReceipt(
        id=message_id,
        stat=stat,
        status=status,
        err=network_error if network_error is not None else err,
        submitted=_count(fields.get("sub")),
        delivered=_count(fields.get("dlvrd")),
        submit_date=_date(fields.get("submit date")),
        done_date=_date(fields.get("done date")),
        text=fields.get("text"),
        network_error_code=network_error,
    )


def _network_error(value: bytes | int | None) -> int | None:
    if value is None:
        return None
    if isinstance(value, int):
        return value
    if len(value) != 3:
        raise InvalidFieldError(
            "network_error_code", value, "expected 3 bytes: network type and 2-byte error code"
        )
    return int.from_bytes(value[1:], "big")


def normalize_smpp_id(message_id: str, base: int) -> str:
    """An SMPP message id as lowercase hex without leading zeros, read in *base* (10 or 16).

    Many SMSCs return the submit_sm_resp id in one base and the receipt's
    ``id:`` in the other; normalise both sides with the base each uses.

    >>> normalize_smpp_id("0A1B", 16) == normalize_smpp_id("2587", 10)
    True
    """
    if base not in (10, 16):
        raise ValueError("base must be 10 or 16")
    try:
        return format(int(message_id.strip(), base), "x")
    except ValueError:
        raise InvalidFieldError("id", message_id, f"not a base-{base} number") from None


def smpp_ids_match(a: str, b: str) -> bool:
    """True when two SMPP ids name the same message, whichever base each side used."""
    if a.strip().lower() == b.strip().lower():
        return True
    for base_a, base_b in ((16, 10), (10, 16), (16, 16)):
        try:
            if normalize_smpp_id(a, base_a) == normalize_smpp_id(b, base_b):
                return True
        except InvalidFieldError:
            continue
    return False
