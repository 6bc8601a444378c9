"""DeliveryReceipt as a value: frozen, hashable, picklable, lossless."""

from __future__ import annotations

import pickle
from datetime import datetime, timezone
from decimal import Decimal

import attrs
import pytest

from dlrkit import DeliveryReceipt, DlrError, DlrStatus, MissingFieldError, parse
from dlrkit._receipt import FrozenFields

MINIMAL = {
    "messageId": "m1",
    "msisdn": "447700900000",
    "to": "x",
    "status": "failed",
    "err-code": "2",
}


def make(**overrides: object) -> DeliveryReceipt:
    fields: dict[str, object] = dict(
        message_id="m1", msisdn="447700900000", to="x", status=DlrStatus.FAILED, err_code=2
    )
    fields.update(overrides)
    return DeliveryReceipt(**fields)  # type: ignore[arg-type]


def test_frozen() -> None:
    r = make()
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        r.status = DlrStatus.DELIVERED  # type: ignore[misc]


def test_keyword_only() -> None:
    with pytest.raises(TypeError):
        DeliveryReceipt("m1", "447700900000", "x", DlrStatus.FAILED, 2)  # type: ignore[misc]


def test_extra_is_immutable_and_hashable() -> None:
    r = make(extra={"a": "1"})
    assert isinstance(r.extra, FrozenFields)
    assert r.extra == {"a": "1"}
    with pytest.raises(TypeError):
        r.extra["a"] = "2"  # type: ignore[index]
    assert hash(r) == hash(make(extra={"a": "1"}))
    assert r != make(extra={"a": "2"})
    assert {r, make(extra={"a": "1"})} == {r}


def test_pickle_round_trip_keeps_raw_strings() -> None:
    r = parse({**MINIMAL, "err-code": "002", "scts": "garbage", "x": "y"})
    clone = pickle.loads(pickle.dumps(r))
    assert clone == r
    assert clone.to_wire() == r.to_wire()


def test_canonical_wire_form_of_a_constructed_receipt() -> None:
    r = make(
        price=Decimal("1E-7"),
        scts=datetime(2018, 10, 25, 13, 10),
        message_timestamp=datetime(2018, 10, 25, 14, 10, 29, tzinfo=timezone.utc),
        timestamp=datetime(2013, 11, 21, 15, 28, 18, tzinfo=timezone.utc),
        network_code="23410",
    )
    assert r.to_wire() == {
        **MINIMAL,
        "network-code": "23410",
        "price": "0.0000001",
        "scts": "1810251310",
        "message-timestamp": "2018-10-25 14:10:29",
        "timestamp": "1385047698",
    }
    assert parse(r.to_wire()) == r


def test_evolve_writes_the_new_value_not_the_stale_raw_one() -> None:
    r = parse({**MINIMAL, "err-code": "002", "status": "FAILED"})
    assert r.to_wire()["err-code"] == "002"
    changed = attrs.evolve(r, err_code=5, status=DlrStatus.DELIVERED)
    assert changed.to_wire()["err-code"] == "5"
    assert changed.to_wire()["status"] == "delivered"
    # Unchanged fields keep their raw form.
    assert attrs.evolve(r, to="y").to_wire()["err-code"] == "002"


def test_equality_ignores_raw_spelling() -> None:
    assert parse({**MINIMAL, "err-code": "002"}) == parse(MINIMAL)


def test_frozen_fields_mapping_protocol() -> None:
    f = FrozenFields({"a": "1", "b": "2"})
    assert list(f) == ["a", "b"] and len(f) == 2 and "a" in f and f["b"] == "2"
    assert f == FrozenFields({"b": "2", "a": "1"})
    assert f != {"a": "1"}
    assert repr(f) == "FrozenFields({'a': '1', 'b': '2'})"
    assert FrozenFields() == {} and not FrozenFields()
    assert (f == 5) is False


def test_errors_pickle_with_their_context() -> None:
    with pytest.raises(DlrError) as info:
        parse({**MINIMAL, "price": "x"})
    clone = pickle.loads(pickle.dumps(info.value))
    assert type(clone) is type(info.value)
    assert (clone.field, clone.value, str(clone)) == ("price", "x", str(info.value))
    missing = pickle.loads(pickle.dumps(MissingFieldError("to")))
    assert missing.field == "to" and str(missing) == "missing required field 'to'"
