"""Hypothesis strategies for delivery receipts (extra ``dlrkit[testing]``).

Use them to property-test your own webhook handlers::

    from hypothesis import given
    from dlrkit.testing import strategies as dlr_st

    @given(dlr_st.wire_payloads("form"))
    def test_handler_accepts_every_valid_receipt(body): ...

Every strategy takes keyword arguments that narrow it. For receipts they are
``DeliveryReceipt`` attribute names, with a value (typed or a wire string) or a
strategy of values: ``receipts(status=DlrStatus.FAILED)``,
``receipts(err_code=st.sampled_from([2, 7]))``.
"""

from __future__ import annotations

import json
import string
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Final
from urllib.parse import urlencode

from hypothesis import strategies as st

from .._codes import ErrorCode
from .._concat import MessageState, Tracker
from .._fields import FIELDS, WIRE_NAMES
from .._parse import parse
from .._receipt import DeliveryReceipt
from .._send import parse_send_response
from .._signature import SignatureMethod, sign
from .._status import DlrStatus
from ._factories import ENCODINGS, Encoding

__all__ = [
    "SECRET",
    "SIGNATURE_METHOD",
    "malformed_payloads",
    "message_states",
    "message_statuses",
    "multipart_messages",
    "receipt_sequences",
    "receipts",
    "report_records",
    "send_responses",
    "smpp_receipt_texts",
    "wire_fields",
    "wire_payloads",
]

SECRET: Final = "dlrkit-testing-secret"
"""The secret that signed receipts from these strategies are signed with."""
SIGNATURE_METHOD: Final = SignatureMethod.SHA256
"""The method that signed receipts from these strategies are signed with."""

_WIRE_NAME: Final = WIRE_NAMES

# Text a wire encoding can carry: no surrogates.
_text = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=30)
_nonempty = _text.filter(lambda s: s not in ("", "null"))
_digits = string.digits
_datetimes = st.datetimes(datetime(2001, 1, 1), datetime(2098, 12, 31))

_message_ids = st.one_of(st.text("0123456789ABCDEF", min_size=16, max_size=18), st.uuids().map(str))
_msisdns = st.text(_digits, min_size=8, max_size=15)
_statuses = st.one_of(
    st.sampled_from([s.value for s in DlrStatus]),
    st.sampled_from(["DELIVERED", "Failed", "deleted", "undeliv"]),  # lenient spellings
)
_err_codes = st.one_of(
    st.sampled_from([str(int(c)) for c in ErrorCode]),
    st.integers(0, 10**9).map(str),  # codes the guide does not list
    st.sampled_from(["000", "007"]),
)

_REQUIRED: Final[Mapping[str, st.SearchStrategy[str]]] = {
    "messageId": _message_ids,
    "msisdn": _msisdns,
    "to": st.one_of(_msisdns, _nonempty),
    "status": _statuses,
    "err-code": _err_codes,
}
_OPTIONAL: Final[Mapping[str, st.SearchStrategy[str]]] = {
    "network-code": st.one_of(st.text(_digits, min_size=5, max_size=6), st.just("US-TOLL-FREE")),
    "price": st.decimals(0, 10, places=8).map(lambda d: format(d, "f")),
    "scts": st.one_of(
        _datetimes.map(lambda d: d.strftime("%y%m%d%H%M")),
        st.text(_digits, min_size=10, max_size=10),  # often not a date at all
    ),
    "message-timestamp": _datetimes.map(lambda d: d.strftime("%Y-%m-%d %H:%M:%S")),
    "client-ref": _nonempty,
    "api-key": _nonempty,
}
_SIGNING: Final = ("timestamp", "nonce", "sig")
# The provider's names never hold "&" or "=" (nor could they be signed).
_extra_names = _text.filter(lambda s: s not in FIELDS.specs and s and not {"&", "="} & set(s))


def _as_wire(attr: str, value: Any) -> str:
    if isinstance(value, str):
        return str.__str__(value)
    return FIELDS.specs[_WIRE_NAME[attr]].encode(value)


def _wire_writer(attr: str) -> Callable[[Any], str | None]:
    def write(value: Any) -> str | None:
        return None if value is None else _as_wire(attr, value)

    return write


def _narrowed(narrow: Mapping[str, Any]) -> dict[str, st.SearchStrategy[str | None]]:
    strategies: dict[str, st.SearchStrategy[str | None]] = {}
    for attr, value in narrow.items():
        if attr not in _WIRE_NAME:
            allowed = ", ".join(sorted(_WIRE_NAME))
            raise TypeError(f"unknown receipt field {attr!r}; expected one of {allowed}")
        if isinstance(value, st.SearchStrategy):
            strategies[_WIRE_NAME[attr]] = value.map(_wire_writer(attr))
        else:
            strategies[_WIRE_NAME[attr]] = st.just(None if value is None else _as_wire(attr, value))
    return strategies


@st.composite
def _wire_fields(
    draw: st.DrawFn,
    chosen: Mapping[str, st.SearchStrategy[str | None]],
    signed: bool | None,
    extra: bool,
    absent_markers: bool,
    now: datetime | None,
) -> dict[str, str]:
    fields: dict[str, str] = {}
    for name, strategy in _REQUIRED.items():
        value = draw(chosen.get(name, strategy))
        if value is None:
            raise ValueError(f"{name} is required and cannot be narrowed to None")
        fields[name] = value
    for name, strategy in _OPTIONAL.items():
        if name in chosen:
            value = draw(chosen[name])
            if value is not None:
                fields[name] = value
            continue
        choice = draw(st.sampled_from(["absent", "value", "value", "marker"]))
        if choice == "value":
            fields[name] = draw(strategy)
        elif choice == "marker" and absent_markers:
            fields[name] = draw(st.sampled_from(["", "null"]))
    if extra:
        fields.update(draw(st.dictionaries(_extra_names, _text, max_size=3)))
    order = draw(st.permutations(list(fields)))
    fields = {name: fields[name] for name in order}
    if signed if signed is not None else draw(st.booleans()):
        # Now, as the provider signs: a handler's timestamp window accepts it.
        moment = now if now is not None else datetime.now(timezone.utc)
        fields["timestamp"] = draw(
            chosen.get("timestamp", st.just(str(int(moment.timestamp()))))
        ) or str(int(moment.timestamp()))
        fields["nonce"] = draw(chosen.get("nonce", st.uuids().map(str))) or "nonce"
        fields["sig"] = sign(fields, SECRET, SIGNATURE_METHOD)
    return fields


def wire_fields(
    *,
    signed: bool | None = None,
    extra: bool = True,
    absent_markers: bool = True,
    now: datetime | None = None,
    **narrow: Any,
) -> st.SearchStrategy[dict[str, str]]:
    """Mappings of wire fields the provider could send, in any order.

    Required fields always, optional ones sometimes (and sometimes as the
    absent markers ``""``/``"null"``), unknown extra fields sometimes, and odd
    but real values: codes outside the guide's table, upper-case statuses,
    ``scts`` that is not a date, ``network-code`` labels, UUID message ids.

    *signed*: True always adds ``timestamp``, ``nonce`` and a ``sig`` made with
    :data:`SECRET` and :data:`SIGNATURE_METHOD`; False never; None sometimes.
    A signed payload's ``timestamp`` is the time it is drawn, so that a
    handler with the default five-minute window accepts it; pass *now* (an
    aware ``datetime``) for a fixed clock, or narrow ``timestamp=``.
    """
    # Narrowing is checked now, where the mistake is, not at the first draw.
    return _wire_fields(_narrowed(narrow), signed, extra, absent_markers, now)


def receipts(
    *,
    signed: bool | None = None,
    extra: bool = True,
    now: datetime | None = None,
    **narrow: Any,
) -> st.SearchStrategy[DeliveryReceipt]:
    """Valid :class:`~dlrkit.DeliveryReceipt` objects, as parsed from the wire.

    Covers every status, tabled and untabled err-codes, optional fields present
    and absent, extra fields, signed and unsigned. Narrow with keywords:
    ``receipts(status=DlrStatus.FAILED, err_code=2)``.
    """
    return wire_fields(signed=signed, extra=extra, now=now, **narrow).map(parse)


def _encode(fields: Mapping[str, str], encoding: Encoding) -> bytes:
    if encoding == "json":
        return json.dumps(fields).encode("utf-8")
    return urlencode(fields).encode("ascii")


def wire_payloads(
    encoding: Encoding = "json",
    *,
    signed: bool | None = None,
    now: datetime | None = None,
    **narrow: Any,
) -> st.SearchStrategy[bytes]:
    """Bytes that the parser for *encoding* accepts: a query string, a form body or JSON.

    Signed ones are signed at the time they are drawn (or at *now*).
    """
    if encoding not in ENCODINGS:
        raise ValueError(f"unknown encoding {encoding!r}; expected one of {', '.join(ENCODINGS)}")
    return wire_fields(signed=signed, now=now, **narrow).map(lambda f: _encode(f, encoding))


@st.composite
def _malformed(draw: st.DrawFn, encoding: Encoding) -> bytes:
    fields = draw(wire_fields(signed=False))
    problem = draw(
        st.sampled_from(
            ["missing", "empty", "err-code", "price", "timestamp", "repeated", "garbage"]
            + (["not-object", "nested", "truncated"] if encoding == "json" else ["escape"])
        )
    )
    if problem == "missing":
        del fields[draw(st.sampled_from(sorted(_REQUIRED)))]
    elif problem == "empty":
        fields[draw(st.sampled_from(sorted(_REQUIRED)))] = draw(st.sampled_from(["", "null"]))
    elif problem == "err-code":
        fields["err-code"] = draw(st.sampled_from(["x", "-1", "1.5", "2 ", "0x2"]))
    elif problem == "price":
        fields["price"] = draw(st.sampled_from(["cheap", "NaN", "Infinity", "1,5"]))
    elif problem == "timestamp":
        fields["timestamp"] = draw(st.sampled_from(["soon", "9" * 15]))
    elif problem == "garbage":
        return draw(st.sampled_from([b"\xff\xfe\x00", b"{" * 3, b"%" * 4 + b"\xc3"]))
    elif problem == "not-object":
        return json.dumps(list(fields.values())).encode()
    elif problem == "nested":
        return json.dumps({**fields, "price": {"amount": "1"}}).encode()
    elif problem == "truncated":
        body = json.dumps(fields).encode()
        return body[: draw(st.integers(1, len(body) - 1))]
    elif problem == "escape":
        return _encode(fields, encoding) + b"&client-ref=%ff%fe"
    body = _encode(fields, encoding)
    if problem == "repeated":
        name = draw(st.sampled_from(sorted(_REQUIRED)))
        if encoding == "json":
            return body[:-1] + b", " + json.dumps({name: fields[name]}).encode()[1:]
        return body + b"&" + urlencode({name: fields[name]}).encode()
    return body


def malformed_payloads(encoding: Encoding = "json") -> st.SearchStrategy[bytes]:
    """Bytes that the parser for *encoding* must refuse with a ``DlrError``.

    Missing or empty required fields, bad err-codes, prices and timestamps,
    repeated keys, undecodable bytes and escapes, truncated or nested JSON.
    """
    if encoding not in ENCODINGS:
        raise ValueError(f"unknown encoding {encoding!r}; expected one of {', '.join(ENCODINGS)}")
    return _malformed(encoding)


_prices = st.decimals(Decimal("0.001"), Decimal("0.2"), places=8)


@st.composite
def _send_response(
    draw: st.DrawFn, parts: st.SearchStrategy[int], failures: bool, msisdn: str | None
) -> dict[str, Any]:
    count = draw(parts)
    ids = draw(st.lists(_message_ids, min_size=count, max_size=count, unique=True))
    to = msisdn or draw(_msisdns)
    balance = draw(st.decimals(0, 1000, places=8))
    client_ref = draw(st.one_of(st.none(), _nonempty.map(lambda s: s[:40])))
    messages = []
    for message_id in ids:
        status = draw(st.sampled_from([0, 0, 0, 1, 9, 15]) if failures else st.just(0))
        part: dict[str, str] = {"to": to, "message-id": message_id, "status": str(status)}
        if status == 0:
            price = draw(_prices)
            balance = max(balance - price, Decimal(0))
            part.update(
                {
                    "remaining-balance": format(balance, "f"),
                    "message-price": format(price, "f"),
                    "network": draw(st.text(_digits, min_size=5, max_size=6)),
                }
            )
        else:
            part["error-text"] = draw(st.sampled_from(["Throttled", "Partner quota exceeded"]))
        if client_ref is not None:
            part["client-ref"] = client_ref
        messages.append(part)
    return {"message-count": str(count), "messages": messages}


def send_responses(
    *, parts: st.SearchStrategy[int] | None = None, failures: bool = True
) -> st.SearchStrategy[bytes]:
    """JSON bodies of the SMS API's reply to a send request.

    One entry per part, with a consistent ``message-count``; *failures* allows
    parts refused at sending (non-zero ``status`` with ``error-text``).
    """
    return _send_response(parts or st.integers(1, 4), failures, None).map(
        lambda r: json.dumps(r).encode()
    )


_FINAL_OUTCOMES: Final = [
    (DlrStatus.DELIVERED, st.just(0)),
    (DlrStatus.FAILED, st.sampled_from([int(c) for c in ErrorCode if c])),
    (DlrStatus.REJECTED, st.sampled_from([int(c) for c in ErrorCode if c])),
    (DlrStatus.EXPIRED, st.sampled_from([0, 2])),
]


@st.composite
def _multipart(
    draw: st.DrawFn, parts: st.SearchStrategy[int], complete: bool | None
) -> tuple[bytes, list[DeliveryReceipt]]:
    msisdn = draw(_msisdns)
    response = draw(_send_response(parts, False, msisdn))
    receipts: list[DeliveryReceipt] = []
    start = draw(_datetimes).replace(tzinfo=timezone.utc)
    for second, part in enumerate(response["messages"]):
        base = {
            "messageId": part["message-id"],
            "msisdn": msisdn,
            "to": "Acme",
            "price": part["message-price"],
            "network-code": part["network"],
        }
        stamp = start.replace(second=second % 60)
        for interim in draw(st.lists(st.sampled_from(["accepted", "buffered"]), max_size=2)):
            receipts.append(
                parse(
                    {
                        **base,
                        "status": interim,
                        "err-code": "0",
                        "message-timestamp": f"{stamp:%Y-%m-%d %H:%M:%S}",
                    }
                )
            )
        has_final = complete if complete is not None else draw(st.booleans()) or draw(st.booleans())
        if has_final:
            status, codes = draw(st.sampled_from(_FINAL_OUTCOMES))
            receipts.append(
                parse(
                    {
                        **base,
                        "status": status.value,
                        "err-code": str(draw(codes)),
                        "message-timestamp": f"{stamp:%Y-%m-%d %H:%M:%S}",
                    }
                )
            )
    receipts += draw(st.lists(st.sampled_from(receipts), max_size=3)) if receipts else []
    return json.dumps(response).encode(), draw(st.permutations(receipts))


def multipart_messages(
    *, parts: st.SearchStrategy[int] | None = None, complete: bool | None = None
) -> st.SearchStrategy[tuple[bytes, list[DeliveryReceipt]]]:
    """A send response for a multi-part message, and the receipts it really gets.

    Per part: zero or more interim receipts (accepted/buffered), then a final
    one (unless *complete* is False, or sometimes when it is None), all
    shuffled, with duplicates.
    """
    return _multipart(parts or st.integers(1, 4), complete)


def receipt_sequences(
    *, parts: st.SearchStrategy[int] | None = None, complete: bool | None = None
) -> st.SearchStrategy[list[DeliveryReceipt]]:
    """The receipts of one multi-part message, shuffled, with duplicates.

    As :func:`multipart_messages`, without the send response.
    """
    return multipart_messages(parts=parts, complete=complete).map(lambda pair: pair[1])


def message_states(
    *, parts: st.SearchStrategy[int] | None = None, complete: bool | None = None
) -> st.SearchStrategy[MessageState]:
    """The :class:`~dlrkit.MessageState` a tracker reaches from :func:`multipart_messages`."""
    return multipart_messages(parts=parts, complete=complete).map(_tracked)


def _tracked(message: tuple[bytes, list[DeliveryReceipt]]) -> MessageState:
    response, receipts = message
    tracker = Tracker()
    key = tracker.expect(parse_send_response(response))
    for receipt in receipts:
        tracker.add(receipt)
    state = tracker.get(key)
    assert state is not None
    return state


_SMPP_STATS: Final = [
    "DELIVRD",
    "EXPIRED",
    "DELETED",
    "UNDELIV",
    "ACCEPTD",
    "UNKNOWN",
    "REJECTD",
    "FAILED",
    "DELIVERED",
]


@st.composite
def _smpp_text(draw: st.DrawFn) -> str:
    def date() -> str:
        stamp = draw(_datetimes)
        form = draw(st.sampled_from(["%y%m%d%H%M", "%y%m%d%H%M%S", "%Y%m%d%H%M", "%Y%m%d%H%M%S"]))
        if draw(st.integers(0, 4)) == 0:  # SMPP absolute time: tenths, quarter hours, sign
            quarters = draw(st.integers(0, 48))
            return stamp.strftime("%y%m%d%H%M%S") + f"0{quarters:02d}" + draw(st.sampled_from("+-"))
        return stamp.strftime(form)

    parts = {
        "id": draw(
            st.one_of(
                st.text("0123456789", min_size=1, max_size=20),
                st.text("0123456789abcdefABCDEF", min_size=1, max_size=20),
            )
        ),
        "sub": f"{draw(st.integers(0, 999)):03d}",
        "dlvrd": f"{draw(st.integers(0, 999)):03d}",
        "submit date": date(),
        "done date": date(),
        "stat": draw(st.sampled_from(_SMPP_STATS)),
        "err": draw(
            st.one_of(
                st.integers(0, 999).map(lambda n: f"{n:03d}"),
                st.integers(0, 9999).map(lambda n: f"{n:04d}"),
                st.sampled_from(["21b", "0x1"]),  # not numeric: kept as text
            )
        ),
        # Printable ASCII without ":", so that it cannot spell another key.
        "text": draw(st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=20))
        .replace(":", ";")
        .strip(),
    }
    keys = [k for k in parts if k in ("id", "stat") or draw(st.booleans())]
    keys = draw(st.permutations(keys))  # text: may come anywhere
    text = " ".join(f"{draw(st.sampled_from([k, k.upper()]))}:{parts[k]}" for k in keys)
    return text + draw(st.sampled_from(["", "", "\x00"]))  # message_payload's NUL


def smpp_receipt_texts() -> st.SearchStrategy[str]:
    """SMPP receipt texts as vendors send them.

    Keys in any order (``text:`` too) and case; ``sub``, ``dlvrd``, the dates,
    ``err`` and ``text`` optional; 3- or 4-digit or non-numeric ``err``; dates
    of 10, 12 or 14 digits or in the SMPP absolute time format; sometimes a
    trailing NUL.
    """
    return _smpp_text()


@st.composite
def _message_status(draw: st.DrawFn, failed: bool | None) -> dict[str, Any]:
    words = ["submitted", "delivered", "rejected", "undeliverable", "read"]
    if failed is not None:
        words = ["rejected", "undeliverable"] if failed else ["submitted", "delivered", "read"]
    body: dict[str, Any] = {
        "message_uuid": str(draw(st.uuids())),
        "to": draw(_msisdns),
        "from": draw(_msisdns),
        "timestamp": draw(_datetimes).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "status": draw(st.sampled_from(words)),
        "channel": draw(st.sampled_from(["sms", "whatsapp", "mms"])),
    }
    if draw(st.booleans()):
        body["client_ref"] = draw(_nonempty)
    if body["status"] in ("rejected", "undeliverable"):
        body["error"] = {
            "type": "https://developer.nexmo.com/api-errors/messages-olympus#1000",
            "title": "1000",
            "detail": "Throttled",
            "instance": str(draw(st.uuids())),
        }
    if draw(st.booleans()):
        body["usage"] = {"currency": "EUR", "price": format(draw(_prices), "f")}
        body["destination"] = {"network_code": draw(st.text(_digits, min_size=5, max_size=6))}
        body["sms"] = {"count_total": str(draw(st.integers(1, 4)))}
    return body


def message_statuses(*, failed: bool | None = None) -> st.SearchStrategy[bytes]:
    """JSON bodies of Messages API status webhooks.

    *failed*: True gives only ``rejected``/``undeliverable`` statuses (which
    carry an ``error`` object), False only the others, None either.
    """
    return _message_status(failed).map(lambda b: json.dumps(b).encode())


@st.composite
def _report_record(draw: st.DrawFn) -> dict[str, str]:
    # "" is a message still in flight; "read" a WhatsApp row of the same export.
    status = draw(
        st.sampled_from(
            ["delivered", "failed", "rejected", "expired", "accepted", "DELIVERED", "", "read"]
        )
    )
    received = draw(_datetimes)
    row = {
        "account_id": "abcd1234",
        "message_id": draw(_message_ids),
        "client_ref": draw(st.sampled_from(["", "ref-1"])),
        "direction": "outbound",
        "from": "Acme",
        "to": draw(_msisdns),
        "network": draw(st.text(_digits, min_size=5, max_size=6)),
        "network_name": "Some Network",
        "country": draw(st.sampled_from(["GB", "DE", "US"])),
        "date_received": received.strftime("%Y-%m-%dT%H:%M:%S+0000"),
        "date_finalized": ""
        if not status
        else draw(st.sampled_from(["", received.strftime("%Y-%m-%dT%H:%M:%S+0000")])),
        "latency": str(draw(st.integers(0, 10**6))),
        "status": status,
        "error_code": "0" if status.lower() == "delivered" else draw(_err_codes),
        "error_code_description": "",
        "currency": "EUR",
        "total_price": format(draw(_prices), "f") if status else "",
    }
    return row


def report_records() -> st.SearchStrategy[dict[str, str]]:
    """Reports API SMS records as CSV rows (``csv.DictReader`` dicts).

    Some are for messages still in flight (empty status, date and price
    cells) or for other channels (``read``).
    """
    return _report_record()
