"""Every fast path is held to the general path it stands in for (issue 18)."""

from __future__ import annotations

import sys
from types import MappingProxyType
from typing import Any
from unittest import mock
from urllib.parse import unquote_plus

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from dlrkit import (
    DeliveryReceipt,
    DlrError,
    MemoryStore,
    MessageState,
    Tracker,
    _urlencoded,
    parse_send_response,
)
from dlrkit._codecs import _SCTS, _scts_basic, _scts_extended, scts_or_none, smpp_date_readings
from dlrkit._fields import FIELDS
from dlrkit._limits import DEFAULT_LIMITS
from dlrkit._receipt import FrozenFields, build_receipt
from dlrkit._report import _COUNTED
from dlrkit._table import Table
from dlrkit._urlencoded import _decode_flat, _decode_pieces, _unquote_plus
from dlrkit.testing.strategies import wire_fields
from tests.test_concat import T0, Case, receipt_batches

text = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=20)
odd_values = st.one_of(
    text,
    st.sampled_from(["", "null", "0", "007", "DELIVRD", "delivered", "1E-7", "2020-02-30 00:00:00",
                     "1234567890", "2020-07-17 02:34:35", "1385047698", "²", " 1"]),
)  # fmt: skip
# Mappings near the usual receipt: known names with odd values, and unknown names.
mappings = st.one_of(
    wire_fields(signed=False),
    st.builds(
        lambda base, changes: {**base, **changes},
        wire_fields(signed=False),
        st.dictionaries(st.sampled_from([*sorted(FIELDS.specs), "x", "type"]), odd_values),
    ),
)


@given(wire_fields(signed=False))
def test_build_receipt_is_the_attrs_init(fields: dict[str, str]) -> None:
    values, raw, extra = FIELDS.read(fields)
    built = build_receipt(values, raw, FrozenFields(extra or {}))
    init = DeliveryReceipt(**values, extra=extra or {}, _raw=raw)
    assert built == init and hash(built) == hash(init) and repr(built) == repr(init)
    assert built.to_wire() == init.to_wire() and vars(built) == vars(init)


def _first_scts_reading(text: str) -> object:
    # scts_or_none's specification, read with the general carrier-date code.
    readings = () if len(text) == 16 else smpp_date_readings(text)
    return readings[0] if readings else None


ten_digits = st.text(alphabet="0123456789", min_size=10, max_size=10)
# Near-dates: every month and day, the edges of the hour and minute, 29 February.
near_dates = st.builds(
    lambda yy, mm, dd, hh, mi: f"{yy:02}{mm:02}{dd:02}{hh:02}{mi:02}",
    st.integers(0, 99),
    st.integers(0, 13),
    st.integers(0, 32),
    st.integers(0, 24),
    st.integers(0, 60),
)


@given(st.one_of(ten_digits, near_dates, text, st.text(alphabet="0123456789²٣ +-", max_size=17)))
@example("2002290000")  # a leap day
@example("2102290000")  # no such day
@example("2004310000")
@example("2012312359")
@example("0001010000")
@example("1234567890")
@example("\uff12\uff10\uff10\uff17\uff11\uff17\uff10\uff12\uff13\uff14")  # fullwidth digits
def test_scts_fast_path_is_the_general_reading(value: str) -> None:
    assert scts_or_none(value) == _first_scts_reading(value)
    assert type(scts_or_none(value)) is type(_first_scts_reading(value))


def test_scts_fast_path_takes_every_minute_of_a_leap_year_and_others() -> None:
    # Exhaustive over the calendar's shapes: every month and day (and the ones
    # past the end) of 2000 and 2024 (leap years), 2023 and 2099, at the edge minutes.
    for yy in ("00", "23", "24", "99"):
        for mm in range(14):
            for dd in range(33):
                for hhmm in ("0000", "2359", "2400", "0060"):
                    value = f"{yy}{mm:02}{dd:02}{hhmm}"
                    assert scts_or_none(value) == _first_scts_reading(value), value
                    if _SCTS.fullmatch(value) and sys.version_info >= (3, 11):
                        assert _scts_basic(value) == _scts_extended(value)  # 3.10's branch


escapes = st.text(alphabet="%+\\x0123456789abcdefABCDEFgz é\x00", max_size=24)
queries = st.lists(
    st.tuples(escapes | text, escapes | text).map("=".join)
    | st.text(alphabet="%+&=abx0123456789ABCDEF", max_size=20),
    max_size=8,
).map("&".join)


@given(escapes | text, st.sampled_from(["utf-8", "latin-1", "ascii", "cp1252"]))
@example("%41%zz%4", "utf-8")  # kept as they are by urllib, an error to escape_decode
@example("\\x41%41", "utf-8")  # a backslash of its own
@example("%C3%A9+%2B", "utf-8")
@example("%C3", "utf-8")
@example("%e9", "latin-1")
@example("%81", "cp1252")  # not a character in windows-1252
def test_unquote_plus_is_urllibs(value: str, charset: str) -> None:
    for escape_decode in (_urlencoded._escape_decode, None):  # and without codecs' helper
        with mock.patch.object(_urlencoded, "_escape_decode", escape_decode):
            try:
                expected = unquote_plus(value, charset, "strict")
            except UnicodeDecodeError:
                with pytest.raises(UnicodeDecodeError):
                    _unquote_plus(value, charset)
                continue
            assert _unquote_plus(value, charset) == expected


@given(queries)
@example("a=%3D&b%3d=1&c=%26")  # escapes that decode to separators
@example("a=x%26y=z")
@example("a=x%26y%3Dz")  # decoded at once: two well-formed fields, a wrong answer
@example("a=b=c&d")
@example("=a&b=c")
@example("a=1&&b=2")
@example("a=1&")
@example("a=%00")
@example("a=%C3&b=%A9")
@example("a=1&%61=2")
@example("a=%zz&b=%41")
@example("err-code=0&message-timestamp=2020-07-17+02%3A34%3A35&client-ref=order+1234%2F5")
def test_decode_flat_is_the_loop_or_declines(query: str) -> None:
    assume("\x00" not in query)  # refused before either runs
    fast = _decode_flat(query)
    try:
        general = _decode_pieces(query, "utf-8", DEFAULT_LIMITS)
    except DlrError:
        assert fast is None
        return
    assert fast is None or (fast == general and list(fast) == list(general))


class _GeneralMemoryStore(MemoryStore):
    """A MemoryStore that Tracker.add treats as any store: the general path."""


def _every_add(store: MemoryStore, case: Case) -> tuple[list[Any], list[Any], Any]:
    known, late, receipts, _, max_orphans = case
    tracker = Tracker(store, max_orphans=max_orphans)
    keys = [tracker.expect(parse_send_response(body), now=T0) for body in known]
    added = [tracker.add(receipt, now=T0) for receipt in receipts]
    keys += [tracker.expect(parse_send_response(body), now=T0) for body in late]
    records = {key: store.read(key) for key in keys}
    return added, [tracker.get(key) for key in keys], (records, tracker.evicted_orphans)


@given(receipt_batches())
def test_memory_tracker_add_is_the_general_transaction(case: Case) -> None:
    fast = _every_add(MemoryStore(), case)
    assert fast == _every_add(_GeneralMemoryStore(), case)


@given(receipt_batches(), st.integers(0, 20))
def test_memory_tracker_add_inside_a_failed_transaction_is_undone(case: Case, cut: int) -> None:
    known, _, receipts, _, _ = case
    for store in (MemoryStore(), _GeneralMemoryStore()):
        tracker = Tracker(store)
        keys = [tracker.expect(parse_send_response(body), now=T0) for body in known]
        for receipt in receipts[:cut]:
            tracker.add(receipt, now=T0)
        before = [(tracker.get(key), store.read(key)) for key in keys]
        with pytest.raises(RuntimeError), store.transaction():
            for receipt in receipts[cut:]:
                tracker.add(receipt, now=T0)
            raise RuntimeError("the application failed after the adds")
        assert [(tracker.get(key), store.read(key)) for key in keys] == before


def _read_or_error(table: Table, fields: dict[str, str]) -> Any:
    try:
        return table.read(fields)[0]
    except DlrError as error:
        return type(error), str(error), [(p.field, p.value) for p in error.problems]


@given(mappings)
@example({"messageId": "a", "msisdn": "1", "to": "x", "status": "delivered", "err-code": "x",
          "scts": "1234567890"})  # fmt: skip
def test_the_reports_table_refuses_what_parse_does(fields: dict[str, str]) -> None:
    full, counted = _read_or_error(FIELDS, fields), _read_or_error(_COUNTED, fields)
    if type(full) is dict:
        assert type(counted) is dict
        assert full.pop("scts", None) == scts_or_none(counted.pop("scts", "") or "")
        assert full == counted
    else:
        assert counted == full


@given(receipt_batches())
def test_a_tracker_state_is_what_the_frozen_class_builds(case: Case) -> None:
    """_snapshot skips MessageState's __init__: it must build the same object."""
    known, _, receipts, _, _ = case
    store = MemoryStore()
    tracker = Tracker(store)
    for body in known:
        tracker.expect(parse_send_response(body), now=T0)
    for receipt in receipts:
        state = tracker.add(receipt, now=T0)
        if state is None:
            continue
        built = MessageState(
            state.key,
            dict(state.parts),
            set(state.expired_parts),
            state.first_at,
            state.last_at,
            dict(state.sent_prices),
        )
        assert vars(built) == vars(state) and built == state
        assert type(state.parts) is type(built.parts) is MappingProxyType
        assert type(state.sent_prices) is MappingProxyType
        assert type(state.expired_parts) is frozenset
        assert (state.status, state.err_code, state.price) == (
            built.status,
            built.err_code,
            built.price,
        )
