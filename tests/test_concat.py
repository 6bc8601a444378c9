"""Concatenated messages: the send response, the tracker's rules, and every store."""

from __future__ import annotations

import contextlib
import json
import tempfile
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import dlrkit
from dlrkit import (
    DeliveryReceipt,
    DlrError,
    DlrStatus,
    InvalidFieldError,
    MalformedPayloadError,
    MemoryStore,
    MessageState,
    MissingFieldError,
    SendStatus,
    SQLiteStore,
    Tracker,
    parse_send_response,
)
from dlrkit.testing import make_dlr
from dlrkit.testing import strategies as dlr_st

from .pg_server import reset_dlrkit_tables

UTC = timezone.utc
T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)

GUIDE_RESPONSE = {
    "message-count": "2",
    "messages": [
        {
            "to": "447700900000",
            "message-id": "0A0000000123ABCD1",
            "status": "0",
            "remaining-balance": "3.14159265",
            "message-price": "0.03330000",
            "network": "23410",
            "client-ref": "my-ref",
            "account-ref": "customer1234",
        },
        {
            "to": "447700900000",
            "message-id": "0A0000000123ABCD2",
            "status": "0",
            "remaining-balance": "3.10829265",
            "message-price": "0.03330000",
            "network": "23410",
            "client-ref": "my-ref",
            "account-ref": "customer1234",
        },
    ],
}


def response(*ids: str, price: str = "0.03330000") -> dlrkit.SendResponse:
    return parse_send_response(
        {
            "message-count": str(len(ids)),
            "messages": [
                {"to": "447700900000", "message-id": i, "status": "0", "message-price": price}
                for i in ids
            ],
        }
    )


def dlr(
    message_id: str, status: str, code: int = 0, second: int = 0, **more: Any
) -> DeliveryReceipt:
    stamp = T0 + timedelta(seconds=second)
    return make_dlr(
        message_id=message_id, status=status, err_code=code, message_timestamp=stamp, **more
    )


# -- parse_send_response ----------------------------------------------------------------------


@pytest.mark.parametrize("form", ["dict", "str", "bytes"])
def test_send_response_from_the_reference(form: str) -> None:
    body: Any = {
        "dict": GUIDE_RESPONSE,
        "str": json.dumps(GUIDE_RESPONSE),
        "bytes": json.dumps(GUIDE_RESPONSE).encode(),
    }[form]
    r = parse_send_response(body)
    assert r.message_count == 2 and len(r.messages) == 2
    first = r.messages[0]
    assert first.message_id == "0A0000000123ABCD1" and first.to == "447700900000"
    assert first.status_code == 0 and first.send_status is SendStatus.SUCCESS and first.is_sent
    assert first.remaining_balance == Decimal("3.14159265")
    assert first.message_price == Decimal("0.03330000")
    assert (first.network, first.client_ref, first.account_ref) == (
        "23410",
        "my-ref",
        "customer1234",
    )
    assert r.message_ids == ("0A0000000123ABCD1", "0A0000000123ABCD2")
    assert r.total_price == Decimal("0.06660000") and r.is_success


def test_send_response_with_a_failed_part() -> None:
    r = parse_send_response(
        {
            "message-count": 2,
            "messages": [
                {"to": "1", "message-id": "a", "status": 0, "message-price": "0.01"},
                {"to": "1", "status": "9", "error-text": "Partner quota exceeded"},
            ],
        }
    )
    failed = r.messages[1]
    assert failed.send_status is SendStatus.PARTNER_QUOTA_VIOLATION and not failed.is_sent
    assert failed.error_text == "Partner quota exceeded" and failed.message_id is None
    assert r.message_ids == ("a",) and not r.is_success
    assert SendStatus.lookup(13) is None
    assert SendStatus.ACCOUNT_NOT_ENABLED_FOR_HTTP.description == "Account not enabled for HTTP"


@pytest.mark.parametrize(
    ("body", "error", "field"),
    [
        (b"not json", MalformedPayloadError, None),
        (b"[]", MalformedPayloadError, None),
        (b"{}", MissingFieldError, "message-count"),
        (b'{"message-count": "1"}', MissingFieldError, "messages"),
        (b'{"message-count": "x", "messages": []}', InvalidFieldError, "message-count"),
        (
            b'{"message-count": "2", "messages": [{"status": "0", "message-id": "a"}]}',
            InvalidFieldError,
            "message-count",
        ),
        (b'{"message-count": "1", "messages": "a"}', InvalidFieldError, "messages"),
        (b'{"message-count": "1", "messages": ["a"]}', InvalidFieldError, "messages[0]"),
        (
            b'{"message-count": "1", "messages": [{"message-id": "a"}]}',
            MissingFieldError,
            "messages[0].status",
        ),
        (
            b'{"message-count": "1", "messages": [{"status": "0"}]}',
            MissingFieldError,
            "messages[0].message-id",
        ),
        (
            b'{"message-count": "1", "messages": [{"status": "0", "message-id": "a",'
            b' "message-price": "free"}]}',
            InvalidFieldError,
            "messages[0].message-price",
        ),
        (
            b'{"message-count": "1", "messages": [{"status": "0", "message-id": ["a", "b"]}]}',
            InvalidFieldError,
            "messages[0].message-id",
        ),
    ],
)
def test_send_response_errors(body: bytes, error: type[DlrError], field: str | None) -> None:
    with pytest.raises(error) as info:
        parse_send_response(body)
    assert info.value.field == field


@given(dlr_st.send_responses())
def test_send_responses_from_the_strategy_parse(body: bytes) -> None:
    r = parse_send_response(body)
    assert r.message_count == len(r.messages)


@given(st.binary(max_size=200))
def test_send_response_raises_only_dlr_errors(body: bytes) -> None:
    with contextlib.suppress(DlrError):
        parse_send_response(body)


# -- stores ------------------------------------------------------------------------------------


StoreFactory = Callable[[], Any]


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    stores: list[Any] = []
    if request.param == "memory":
        shared = MemoryStore()

        def factory() -> Any:
            return shared
    elif request.param == "sqlite":
        path = tmp_path / "tracker.db"

        def factory() -> Any:
            stores.append(SQLiteStore(path, synchronous="NORMAL"))
            return stores[-1]
    else:
        dsn = request.getfixturevalue("postgres_dsn")
        from dlrkit.stores import PostgresStore

        first = PostgresStore(dsn)
        reset_dlrkit_tables(dsn)
        stores.append(first)

        def factory() -> Any:
            stores.append(PostgresStore(dsn))
            return stores[-1]

    yield factory
    for store in stores:
        store.close()


@pytest.fixture
def tracker(make_store: StoreFactory) -> Tracker:
    return Tracker(make_store())


def test_a_three_part_message_out_of_order(tracker: Tracker) -> None:
    key = tracker.expect(response("p1", "p2", "p3"), now=T0)
    assert key == "p1"
    state = tracker.get(key)
    assert state is not None and state.status is DlrStatus.ACCEPTED and not state.is_complete
    assert tracker.add(dlr("p3", "delivered", second=9)).status is DlrStatus.ACCEPTED
    assert tracker.add(dlr("p1", "buffered", second=1)).status is DlrStatus.BUFFERED
    assert tracker.add(dlr("p1", "delivered", second=8)).status is DlrStatus.ACCEPTED
    final = tracker.add(dlr("p2", "delivered", second=5))
    assert final is not None
    assert final.status is DlrStatus.DELIVERED and final.is_complete and final.is_final
    assert final.price == Decimal("0.03330000") * 3
    assert (final.first_at, final.last_at) == (T0 + timedelta(seconds=1), T0 + timedelta(seconds=9))
    assert final.verdict.action is dlrkit.Action.DONE
    assert final == tracker.get(key)


def test_a_state_is_a_read_only_snapshot(tracker: Tracker) -> None:
    tracker.expect(response("a", "b"), now=T0)
    early = tracker.add(dlr("a", "accepted", second=1))
    assert early is not None
    status, parts, last_at = early.status, dict(early.parts), early.last_at
    tracker.add(dlr("a", "delivered", second=2))
    tracker.add(dlr("b", "delivered", second=3))
    tracker.expire_stale(timedelta(0), now=T0 + timedelta(days=4))
    # Later receipts and expiries leave an earlier state as it was.
    assert (early.status, dict(early.parts), early.last_at) == (status, parts, last_at)
    assert early.expired_parts == frozenset() and early.first_at == T0 + timedelta(seconds=1)
    for name in ("key", "parts", "expired_parts", "first_at", "last_at", "sent_prices", "status"):
        with pytest.raises(AttributeError):
            setattr(early, name, None)
    with pytest.raises(TypeError):
        early.parts["a"] = None  # type: ignore[index]
    with pytest.raises(TypeError):
        early.sent_prices["a"] = None  # type: ignore[index]


def test_a_state_pickles_and_evolves_like_the_other_records(tracker: Tracker) -> None:
    import pickle

    import attrs

    tracker.expect(response("a", "b"), now=T0)
    tracker.add(dlr("b", "delivered", second=2))
    state = tracker.add(dlr("a", "failed", 3, second=1))
    assert state is not None
    again = pickle.loads(pickle.dumps(state))
    assert again == state and again.status is state.status and again.price == state.price
    assert type(again.parts) is type(state.parts)  # still read-only
    other = attrs.evolve(state, key="other")
    assert other.key == "other" and other.parts == state.parts
    with pytest.raises(TypeError):
        other.parts["a"] = None  # type: ignore[index]


def test_failed_as_soon_as_one_part_finally_fails(tracker: Tracker) -> None:
    tracker.expect(response("a", "b"))
    state = tracker.add(dlr("a", "failed", 3))
    assert state is not None and state.status is DlrStatus.FAILED and not state.is_complete
    assert state.err_code == 3 and dlrkit.should_remove(state)
    later = tracker.add(dlr("b", "delivered"))
    assert later is not None and later.status is DlrStatus.FAILED and later.is_complete


def test_a_final_status_is_never_overwritten_by_an_interim_one(tracker: Tracker) -> None:
    tracker.expect(response("a"))
    tracker.add(dlr("a", "delivered", second=1))
    state = tracker.add(dlr("a", "accepted", second=30))
    assert state is not None and state.status is DlrStatus.DELIVERED
    assert state.parts["a"] is not None and state.parts["a"].status is DlrStatus.DELIVERED


def test_the_worst_final_outcome_wins(tracker: Tracker) -> None:
    tracker.expect(response("a"))
    for status in ("delivered", "expired", "rejected", "failed", "delivered"):
        state = tracker.add(dlr("a", status, 6 if status != "delivered" else 0))
    assert state is not None and state.status is DlrStatus.REJECTED


# (status, err-code, second) of two receipts of one part, and which one is kept.
ORDER_CASES = [
    pytest.param(("buffered", 0, 1), ("accepted", 0, 5), 1, id="interims: the later"),
    pytest.param(("accepted", 0, 3), ("buffered", 0, 3), 1, id="interims at once: the further"),
    pytest.param(("failed", 6, 1), ("failed", 7, 9), 1, id="same outcome: the later"),
    pytest.param(("rejected", 6, 1), ("failed", 7, 9), 0, id="finals: the worse"),
    pytest.param(("delivered", 0, 1), ("expired", 0, 9), 1, id="expired is worse than delivered"),
    pytest.param(("delivered", 0, 1), ("unknown", 0, 9), 0, id="a final beats a later interim"),
]


@pytest.mark.parametrize(("first", "second", "kept"), ORDER_CASES)
@pytest.mark.parametrize("reverse", [False, True], ids=["in order", "reversed"])
def test_which_receipt_a_part_keeps(
    tracker: Tracker,
    first: tuple[str, int, int],
    second: tuple[str, int, int],
    kept: int,
    reverse: bool,
) -> None:
    tracker.expect(response("a"))
    receipts = [dlr("a", status, code, second=at) for status, code, at in (first, second)]
    for receipt in reversed(receipts) if reverse else receipts:
        state = tracker.add(receipt)
    assert state is not None and state.parts["a"] == receipts[kept]


def test_whole_status_precedence(tracker: Tracker) -> None:
    tracker.expect(response("a", "b", "c"))
    tracker.add(dlr("a", "delivered"))
    assert tracker.add(dlr("b", "unknown")).status is DlrStatus.UNKNOWN  # type: ignore[union-attr]
    assert tracker.add(dlr("c", "expired", 2)).status is DlrStatus.EXPIRED  # type: ignore[union-attr]


def test_duplicates_change_nothing(tracker: Tracker) -> None:
    tracker.expect(response("a", "b"))
    once = tracker.add(dlr("a", "delivered"))
    assert tracker.add(dlr("a", "delivered")) == once


def test_price_falls_back_to_the_send_response(tracker: Tracker) -> None:
    tracker.expect(response("a", "b", price="0.05"))
    state = tracker.add(dlr("a", "delivered", price=Decimal("0.07")))
    assert state is not None and state.price == Decimal("0.12")


def test_unknown_message_gives_none_and_becomes_an_orphan(tracker: Tracker) -> None:
    early = dlr("x2", "delivered", second=3)
    assert tracker.add(early) is None
    tracker.expect(response("x1", "x2"), now=T0)
    state = tracker.get("x1")
    assert state is not None and state.parts["x2"] == early
    # Applied once: the orphan is gone.
    tracker.expect(response("y1"), key="other")
    assert tracker.get("other") is not None


def test_orphans_expire_and_are_bounded(make_store: StoreFactory) -> None:
    tracker = Tracker(make_store(), max_orphans=2, orphan_ttl=timedelta(minutes=10))
    assert tracker.add(dlr("o1", "delivered"), now=T0) is None
    assert tracker.add(dlr("o2", "delivered"), now=T0 + timedelta(minutes=1)) is None
    assert tracker.add(dlr("o3", "delivered"), now=T0 + timedelta(minutes=2)) is None
    tracker.expect(response("o1", "o2", "o3"), now=T0 + timedelta(minutes=11, seconds=30))
    state = tracker.get("o1")
    assert state is not None
    # o1 was dropped for the bound, o2 expired, o3 is still fresh.
    assert [m for m, r in state.parts.items() if r is not None] == ["o3"]


def test_expect_is_idempotent_and_refuses_conflicts(tracker: Tracker) -> None:
    r = response("a", "b")
    assert tracker.expect(r) == tracker.expect(r) == "a"
    assert tracker.expect(response("c"), key="mine") == "mine"
    with pytest.raises(ValueError, match="already tracks other parts"):
        tracker.expect(response("d"), key="mine")
    with pytest.raises(ValueError, match="already belongs to message 'a'"):
        tracker.expect(response("b", "e"), key="new")
    failed_only = parse_send_response(
        {"message-count": "1", "messages": [{"status": "1", "error-text": "Throttled"}]}
    )
    with pytest.raises(ValueError, match="no part accepted"):
        tracker.expect(failed_only)
    assert tracker.get("nope") is None


def test_expire_stale(tracker: Tracker) -> None:
    tracker.expect(response("a", "b"), now=T0)
    tracker.expect(response("c"), now=T0 + timedelta(hours=80))
    tracker.add(dlr("a", "delivered"))
    assert tracker.expire_stale(now=T0 + timedelta(hours=71)) == []
    changed = tracker.expire_stale(now=T0 + timedelta(hours=73))
    assert [s.key for s in changed] == ["a"]
    state = changed[0]
    assert state.status is DlrStatus.EXPIRED and state.expired_parts == {"b"}
    assert state.is_complete and state.parts["b"] is None
    assert tracker.expire_stale(now=T0 + timedelta(hours=74)) == []  # nothing left
    # A late delivered receipt does not undo the expiry; a worse outcome does count.
    assert tracker.add(dlr("b", "delivered")).status is DlrStatus.EXPIRED  # type: ignore[union-attr]
    assert tracker.add(dlr("b", "rejected", 6)).status is DlrStatus.REJECTED  # type: ignore[union-attr]


def test_prune(tracker: Tracker) -> None:
    tracker.expect(response("a"), now=T0)
    tracker.expect(response("b"), now=T0 + timedelta(days=10))
    tracker.add(dlr("zz", "delivered"), now=T0)  # an orphan
    assert tracker.prune(timedelta(days=5), now=T0 + timedelta(days=11)) == 2
    assert tracker.get("a") is None and tracker.get("b") is not None
    assert tracker.add(dlr("a", "delivered")) is None  # forgotten: an orphan again


def test_state_survives_reopening_the_store(make_store: StoreFactory) -> None:
    first = Tracker(make_store())
    first.expect(response("a", "b"))
    first.add(dlr("a", "delivered", client_ref="ref"))
    again = Tracker(make_store()).get("a")
    assert again is not None and again.parts["a"] == dlr("a", "delivered", client_ref="ref")


# -- order independence ------------------------------------------------------------------------


def run_tracker(store: Any, body: bytes, receipts: list[DeliveryReceipt], expect_at: int) -> Any:
    tracker = Tracker(store)
    sent = parse_send_response(body)
    for index, receipt in enumerate(receipts):
        if index == expect_at:
            tracker.expect(sent, now=T0)
        tracker.add(receipt, now=T0)
    if expect_at >= len(receipts):
        tracker.expect(sent, now=T0)
    return tracker.get(sent.message_ids[0])


@given(dlr_st.multipart_messages(), st.data())
def test_any_order_any_duplicates_same_state(
    message: tuple[bytes, list[DeliveryReceipt]], data: st.DataObject
) -> None:
    body, receipts = message
    reference = run_tracker(MemoryStore(), body, sorted(receipts, key=repr), 0)
    shuffled = data.draw(st.permutations(receipts))
    repeated = (
        shuffled + data.draw(st.lists(st.sampled_from(receipts), max_size=4)) if receipts else []
    )
    expect_at = data.draw(st.integers(0, len(repeated)))
    state = run_tracker(MemoryStore(), body, repeated, expect_at)
    assert state == reference
    assert isinstance(state, MessageState)
    delivered = all(r is not None and r.is_delivered for r in state.parts.values())
    assert (state.status is DlrStatus.DELIVERED) is delivered


@settings(max_examples=20)
@given(dlr_st.multipart_messages(), st.randoms(use_true_random=False))
def test_sqlite_agrees_with_memory(message: tuple[bytes, list[DeliveryReceipt]], rng: Any) -> None:
    body, receipts = message
    shuffled = list(receipts)
    rng.shuffle(shuffled)
    with tempfile.TemporaryDirectory() as tmp:  # one fresh database per example
        store = SQLiteStore(Path(tmp) / "agree.db", synchronous="OFF")
        try:
            assert run_tracker(store, body, shuffled, 0) == run_tracker(
                MemoryStore(), body, receipts, 0
            )
        finally:
            store.close()


# -- add_many ---------------------------------------------------------------------------------


def play(
    store: Any,
    known: list[bytes],
    late: list[bytes],
    receipts: list[DeliveryReceipt],
    batches: list[int] | None,
    max_orphans: int,
) -> tuple[list[Any], int]:
    """Register *known*, add the receipts (one by one, or add_many in batches of the
    given sizes), then register *late*: every message's state, and the evictions."""
    tracker = Tracker(store, max_orphans=max_orphans)
    keys = [tracker.expect(parse_send_response(body), now=T0) for body in known]
    if batches is None:
        for receipt in receipts:
            tracker.add(receipt, now=T0)
    else:
        start = 0
        for size in batches:
            batch = receipts[start : start + size]
            start += size
            states = tracker.add_many(batch, now=T0)
            touched = list(dict.fromkeys(s.key for s in states))
            assert [s.key for s in states] == touched  # one state per message
            for state in states:  # each is the state after the whole batch
                assert state == tracker.get(state.key)
        assert start >= len(receipts)
    keys += [tracker.expect(parse_send_response(body), now=T0) for body in late]
    return [tracker.get(key) for key in keys], tracker.evicted_orphans


@st.composite
def receipt_batches(
    draw: st.DrawFn,
) -> tuple[list[bytes], list[bytes], list[DeliveryReceipt], list[int], int]:
    """Messages known before the receipts and messages registered after (so that
    theirs are orphans), all their receipts shuffled together, and batch sizes."""
    messages = draw(st.lists(dlr_st.multipart_messages(), min_size=1, max_size=4))
    ids = [parse_send_response(body).message_ids for body, _ in messages]
    flat = [mid for message_ids in ids for mid in message_ids]
    assume(len(flat) == len(set(flat)))
    late = draw(st.lists(st.booleans(), min_size=len(messages), max_size=len(messages)))
    receipts = draw(st.permutations([r for _, rs in messages for r in rs]))
    receipts += draw(st.lists(st.sampled_from(receipts), max_size=3)) if receipts else []
    sizes = []
    while sum(sizes) < len(receipts):
        sizes.append(draw(st.integers(1, 8)))
    return (
        [body for (body, _), is_late in zip(messages, late, strict=True) if not is_late],
        [body for (body, _), is_late in zip(messages, late, strict=True) if is_late],
        receipts,
        sizes,
        draw(st.integers(1, 6)),
    )


@given(receipt_batches())
def test_add_many_is_add_one_by_one(
    case: tuple[list[bytes], list[bytes], list[DeliveryReceipt], list[int], int],
) -> None:
    known, late, receipts, sizes, max_orphans = case
    one_by_one = play(MemoryStore(), known, late, receipts, None, max_orphans)
    assert play(MemoryStore(), known, late, receipts, sizes, max_orphans) == one_by_one


Case = tuple[list[bytes], list[bytes], list[DeliveryReceipt], list[int], int]


def batches_agree_with_memory(store: Any, case: Case) -> None:
    """add_many in *store* gives what add one by one gives in memory; closes *store*."""
    known, late, receipts, sizes, max_orphans = case
    one_by_one = play(MemoryStore(), known, late, receipts, None, max_orphans)
    try:
        assert play(store, known, late, receipts, sizes, max_orphans) == one_by_one
    finally:
        store.close()


@settings(max_examples=25)
@given(receipt_batches())
def test_sql_add_many_is_memory_add_one_by_one(case: Case) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        batches_agree_with_memory(SQLiteStore(Path(tmp) / "batches.db", synchronous="OFF"), case)


def test_postgres_add_many_is_memory_add_one_by_one(postgres_dsn: str) -> None:
    from dlrkit.stores import PostgresStore

    @settings(max_examples=15)
    @given(receipt_batches())
    def check(case: Case) -> None:
        reset_dlrkit_tables(postgres_dsn)
        batches_agree_with_memory(PostgresStore(postgres_dsn), case)

    check()


def test_add_many_is_all_or_none(make_store: StoreFactory, monkeypatch: Any) -> None:
    tracker = Tracker(make_store())
    tracker.expect(response("a", "b"), now=T0)
    before = tracker.get("a")
    calls = []

    def apply_then_fail(record: Any, receipt: DeliveryReceipt, now: float) -> bool:
        calls.append(receipt.message_id)
        if len(calls) == 2:
            raise RuntimeError("half-way")
        return real_apply(record, receipt, now)

    real_apply = dlrkit.stores.MessageRecord.apply
    monkeypatch.setattr(dlrkit.stores.MessageRecord, "apply", apply_then_fail)
    with pytest.raises(RuntimeError):
        tracker.add_many([dlr("a", "delivered"), dlr("zz", "delivered"), dlr("b", "delivered")])
    monkeypatch.undo()
    assert calls == ["a", "b"]
    assert tracker.get("a") == before
    tracker.expect(response("zz"), now=T0)  # the orphan was not kept either
    assert tracker.get("zz").parts["zz"] is None  # type: ignore[union-attr]
    assert tracker.add_many([]) == []


def test_add_many_is_one_transaction_of_a_few_statements(tmp_path: Path) -> None:
    """A batch costs the same statements whatever its size: no statement per receipt."""
    store = SQLiteStore(tmp_path / "statements.db", synchronous="OFF")
    tracker = Tracker(store)
    for m in range(200):
        tracker.expect(response(f"m{m}a", f"m{m}b", f"m{m}c"), now=T0)

    def statements(batch: list[DeliveryReceipt]) -> list[str]:
        seen: list[str] = []
        store._conn.set_trace_callback(seen.append)
        try:
            states = tracker.add_many(batch, now=T0)
        finally:
            store._conn.set_trace_callback(None)
        assert len(states) == len({r.message_id[:-1] for r in batch if r.message_id[0] == "m"})
        return [s.split()[0] for s in seen]

    small = statements([dlr(f"m{m}a", "delivered") for m in range(3)] + [dlr("x1", "accepted")])
    big = statements(
        [dlr(f"m{m}{p}", "delivered") for m in range(3, 103) for p in "abc"]
        + [dlr(f"x{i}", "accepted") for i in range(2, 50)]
    )
    assert small.count("BEGIN") == 1 and small[-1] == "COMMIT"  # the read ahead, then one
    # executemany runs one prepared statement over every row: it is traced per
    # row, but it is one call from Python and no round trip in SQLite.
    assert [s for s in small if s not in ("UPDATE", "INSERT")] == [
        s for s in big if s not in ("UPDATE", "INSERT")
    ]
    store.close()
