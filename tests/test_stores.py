"""The stores' promises, each shown against real SQLite and a real PostgreSQL server.

Every test here failed on the stores before issue 16; the test's docstring
says how. Lock conflicts are staged with a second connection that holds a
lock, so that the interleaving is certain rather than a matter of timing.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

import dlrkit
from dlrkit import DeliveryReceipt, Limits, MemoryStore, SQLiteStore, Tracker
from dlrkit.stores import MessageRecord
from dlrkit.testing import make_dlr

from .pg_server import reset_dlrkit_tables, with_options

UTC = timezone.utc
T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def response(*ids: str) -> dlrkit.SendResponse:
    return dlrkit.parse_send_response(
        {
            "message-count": str(len(ids)),
            "messages": [{"to": "447700900000", "message-id": i, "status": "0"} for i in ids],
        }
    )


def dlr(
    message_id: str, status: str = "delivered", second: int = 0, **more: Any
) -> DeliveryReceipt:
    stamp = T0 + timedelta(seconds=second)
    code = 0 if status in ("delivered", "accepted", "buffered") else 6
    return make_dlr(
        message_id=message_id, status=status, err_code=code, message_timestamp=stamp, **more
    )


Opener = Callable[..., Any]


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Opener]:
    """Opens stores on one shared database (the memory store: one shared store)."""
    opened: list[Any] = []
    if request.param == "memory":
        shared = MemoryStore()

        def opener(**_: Any) -> Any:
            return shared
    elif request.param == "sqlite":

        def opener(**options: Any) -> Any:
            opened.append(SQLiteStore(tmp_path / "t.db", synchronous="NORMAL", **options))
            return opened[-1]
    else:
        dsn = request.getfixturevalue("postgres_dsn")
        from dlrkit.stores import PostgresStore

        reset_dlrkit_tables(dsn)

        def opener(**settings: Any) -> Any:
            opened.append(PostgresStore(with_options(dsn, **settings) if settings else dsn))
            return opened[-1]

    yield opener
    for store in opened:
        store.close()


@pytest.fixture
def sqlite_path(tmp_path: Path) -> str:
    path = str(tmp_path / "locks.db")
    SQLiteStore(path).close()  # the schema exists
    return path


@pytest.fixture
def pg(postgres_dsn: str) -> Iterator[Any]:
    """An autocommit connection of the test's own, for holding locks and killing backends."""
    import psycopg

    reset_dlrkit_tables(postgres_dsn)
    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        yield conn


def wait_until_blocked(conn: Any, application_name: str, timeout: float = 20.0) -> None:
    """Wait until the backend of *application_name* waits for a lock."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE application_name = %s AND wait_event_type = 'Lock'",
            (application_name,),
        ).fetchone()
        if row[0]:
            return
        time.sleep(0.02)
    raise AssertionError(f"{application_name} never waited for a lock")


def in_thread(func: Callable[[], Any]) -> Callable[[], Any]:
    """Run *func* in a thread now; the returned call joins it and gives its result (or raises)."""
    result: list[Any] = []

    def run() -> None:
        try:
            result.append(("ok", func()))
        except BaseException as error:  # handed to the test's thread
            result.append(("error", error))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()

    def join() -> Any:
        thread.join(60)
        assert result, "the thread did not finish"
        kind, value = result[0]
        if kind == "error":
            raise value
        return value

    return join


# -- MemoryStore: all or none ------------------------------------------------------------------


def test_a_memory_transaction_rolls_back_everything_on_an_exception() -> None:
    """Before: the loaded record was the stored one, so a change made before
    the exception stayed, and so did the orphans taken and the records saved."""
    store = MemoryStore()
    tracker = Tracker(store)
    tracker.expect(response("a", "b"), now=T0)
    assert tracker.add(dlr("x"), now=T0) is None  # an orphan
    before = tracker.get("a")
    with pytest.raises(RuntimeError), store.transaction() as tx:
        record = tx.load_for_part("a")
        assert record is not None
        record.apply(dlr("a"), T0.timestamp())
        tx.save(record)
        assert [r.message_id for r in tx.take_orphans(["x"], 0.0)] == ["x"]
        new = MessageRecord(key="n", parts={"n": None}, prices={}, created=0.0, updated=0.0)
        tx.save(new, ["n"])
        tx.add_orphans([dlr("y")], T0.timestamp(), 100, 0.0)
        raise RuntimeError("the application failed half-way")
    assert tracker.get("a") == before
    assert tracker.get("n") is None
    with store.transaction() as tx:
        assert tx.key_for("n") is None
    # The orphan x is back, y never came.
    tracker.expect(response("x", "y"), now=T0)
    state = tracker.get("x")
    assert state is not None and state.parts["x"] == dlr("x") and state.parts["y"] is None


def test_a_record_changed_but_not_saved_is_not_stored() -> None:
    """Before: a loaded record was the store's own object, so changing it changed the store."""
    store = MemoryStore()
    tracker = Tracker(store)
    tracker.expect(response("a"), now=T0)
    with store.transaction() as tx:
        record = tx.load("a")
        assert record is not None
        record.apply(dlr("a"), T0.timestamp())
    state = tracker.get("a")
    assert state is not None and state.parts["a"] is None


# -- records load again, whatever limits accepted them ----------------------------------------


def test_a_receipt_accepted_under_wider_limits_loads_again(open_store: Opener) -> None:
    """Before: records were re-parsed with the default limits, so on the SQL stores
    every later add or get of the message raised InvalidFieldError."""
    tracker = Tracker(open_store())
    wide = Limits(max_value_length=10_000)
    long_ref = "r" * 5_000
    big = dlrkit.parse({**dlr("a").to_wire(), "client-ref": long_ref}, limits=wide)
    big_orphan = dlrkit.parse({**dlr("o").to_wire(), "client-ref": long_ref}, limits=wide)
    tracker.expect(response("a", "b"), now=T0)
    assert tracker.add(big, now=T0) is not None
    state = tracker.add(dlr("b"), now=T0)
    assert state is not None and state.parts["a"] == big
    assert tracker.get("a") == state
    assert tracker.add(big_orphan, now=T0) is None
    tracker.expect(response("o"), now=T0)
    orphan_state = tracker.get("o")
    assert orphan_state is not None and orphan_state.parts["o"] == big_orphan


# -- readers do not take the write lock ------------------------------------------------------


def test_sqlite_reads_do_not_wait_for_the_write_lock(sqlite_path: str) -> None:
    """Before: get() and pending() began with BEGIN IMMEDIATE, so they waited behind
    any writer and, with a short timeout, raised 'database is locked'."""
    store = SQLiteStore(sqlite_path, timeout=0.2)
    tracker = Tracker(store)
    tracker.expect(response("a", "b"), now=T0)
    writer = sqlite3.connect(sqlite_path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    try:
        state = tracker.get("a")
        assert state is not None and state.parts == {"a": None, "b": None}
        assert store.pending(T0.timestamp() + 1) == ["a"]
    finally:
        writer.execute("ROLLBACK")
        writer.close()
        store.close()


def test_postgres_reads_take_no_row_lock(pg: Any, postgres_dsn: str) -> None:
    """Before: get() loaded the record with FOR UPDATE and so waited for writers."""
    from dlrkit.stores import PostgresStore

    store = PostgresStore(with_options(postgres_dsn, lock_timeout=1000))
    tracker = Tracker(store)
    tracker.expect(response("a", "b"), now=T0)
    with pg.transaction():
        pg.execute("SELECT key FROM dlrkit_messages WHERE key = 'a' FOR UPDATE")
        state = tracker.get("a")  # would wait and then raise LockNotAvailable
        assert state is not None and state.parts == {"a": None, "b": None}
        assert store.pending(T0.timestamp() + 1) == ["a"]
    store.close()


# -- opening a store takes no table lock -----------------------------------------------------


def test_opening_an_sqlite_store_does_not_need_the_write_lock(sqlite_path: str) -> None:
    """Before: every SQLiteStore() ran the CREATE statements in a write transaction,
    so a process starting while another wrote waited (and timed out)."""
    writer = sqlite3.connect(sqlite_path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    try:
        store = SQLiteStore(sqlite_path, timeout=0.2)
        store.close()
    finally:
        writer.execute("ROLLBACK")
        writer.close()


def test_opening_a_postgres_store_takes_no_table_lock(pg: Any, postgres_dsn: str) -> None:
    """Before: every PostgresStore() ran CREATE INDEX IF NOT EXISTS, which waits for a
    SHARE lock on the table even when the index exists: behind every open writer, and
    ahead of every later one."""
    from dlrkit.stores import PostgresStore

    PostgresStore(postgres_dsn).close()  # the schema exists
    with pg.transaction():
        pg.execute(
            "INSERT INTO dlrkit_messages (key, record, complete, created, updated)"
            " VALUES ('held', '{}', 0, 0, 0)"
        )
        for table in ("dlrkit_parts", "dlrkit_orphans"):
            pg.execute(f"LOCK TABLE {table} IN ROW EXCLUSIVE MODE")
        store = PostgresStore(with_options(postgres_dsn, lock_timeout=1000))
        store.close()
        pg.execute("DELETE FROM dlrkit_messages WHERE key = 'held'")


# -- one lock order (PostgreSQL) -------------------------------------------------------------


def test_expire_stale_and_add_take_their_locks_in_one_order(pg: Any, postgres_dsn: str) -> None:
    """Before: expire_stale locked the message's row, then its parts; add the reverse.
    Staged here: an add holds its part when expire_stale starts. Before, one of the
    two failed with DeadlockDetected."""
    from dlrkit.stores import PostgresStore

    adder = PostgresStore(postgres_dsn)
    expirer = PostgresStore(with_options(postgres_dsn, application_name="expirer"))
    Tracker(adder).expect(response("a", "b"), now=T0)
    later = T0 + timedelta(hours=80)
    with adder.transaction() as tx:
        tx.lock(["b"])  # an add of b has begun: it holds b's part lock
        expired = in_thread(lambda: Tracker(expirer).expire_stale(now=later))
        wait_until_blocked(pg, "expirer")
        record = tx.load_for_part("b")  # ... and now wants the message's row
        assert record is not None
        record.apply(dlr("b"), later.timestamp())
        tx.save(record)
    states = expired()
    assert [s.key for s in states] == ["a"] and states[0].expired_parts == {"a"}
    state = Tracker(adder).get("a")
    assert state is not None and state.parts["b"] == dlr("b") and state.expired_parts == {"a"}
    adder.close()
    expirer.close()


def test_prune_is_atomic_with_respect_to_add(pg: Any, postgres_dsn: str) -> None:
    """Before: prune deleted the parts, then the messages. A receipt committed in
    between kept the message (now recently updated) but lost its part index: the
    message's later receipts became orphans."""
    from dlrkit.stores import PostgresStore

    adder = PostgresStore(postgres_dsn)
    pruner = PostgresStore(with_options(postgres_dsn, application_name="pruner"))
    tracker = Tracker(adder)
    tracker.expect(response("a", "b"), now=T0)
    later = T0 + timedelta(days=40)
    with adder.transaction() as tx:
        record = tx.load_for_part("a")  # an add of a is under way
        assert record is not None
        pruned = in_thread(lambda: Tracker(pruner).prune(timedelta(days=30), now=later))
        wait_until_blocked(pg, "pruner")
        record.apply(dlr("a"), later.timestamp())
        tx.save(record)
    assert pruned() == 0  # the message was updated just now: it stays, whole
    assert tracker.get("a") is not None
    state = tracker.add(dlr("b"), now=later)
    assert state is not None and state.is_complete
    adder.close()
    pruner.close()


# -- a dropped connection -------------------------------------------------------------------


def kill(pg: Any, application_name: str) -> int:
    rows = pg.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
        (application_name,),
    ).fetchall()
    return len(rows)


def test_the_next_call_after_a_dropped_connection_succeeds(pg: Any, postgres_dsn: str) -> None:
    """Before: once the server had dropped the connection, every later call failed."""
    from dlrkit.stores import PostgresStore

    store = PostgresStore(with_options(postgres_dsn, application_name="victim"))
    tracker = Tracker(store)
    tracker.expect(response("a", "b"), now=T0)
    for receipt in (dlr("a"), dlr("b")):
        assert kill(pg, "victim") == 1
        assert tracker.add(receipt, now=T0) is not None
    assert kill(pg, "victim") == 1
    state = tracker.get("a")
    assert state is not None and state.is_complete
    store.close()


def test_a_transaction_cut_off_mid_way_is_run_again(pg: Any, postgres_dsn: str) -> None:
    """The connection dies while add waits for a row lock; add reconnects and runs again."""
    from dlrkit.stores import PostgresStore

    store = PostgresStore(with_options(postgres_dsn, application_name="victim"))
    tracker = Tracker(store)
    tracker.expect(response("a", "b"), now=T0)
    with pg.transaction():
        pg.execute("SELECT key FROM dlrkit_messages WHERE key = 'a' FOR UPDATE")
        added = in_thread(lambda: tracker.add(dlr("a"), now=T0))
        wait_until_blocked(pg, "victim")
        assert kill(pg, "victim") == 1
    state = added()
    assert state is not None and state.parts["a"] == dlr("a")
    store.close()


# -- orphans ----------------------------------------------------------------------------------


def test_evicted_orphans_are_counted(open_store: Opener) -> None:
    """Before: an orphan pushed out by the bound vanished without a trace."""
    tracker = Tracker(open_store(), max_orphans=2)
    for i in range(5):
        assert tracker.add(dlr(f"o{i}"), now=T0 + timedelta(seconds=i)) is None
    assert tracker.evicted_orphans == 3
    assert Tracker(open_store()).evicted_orphans == 3  # kept by the store, for every process
    tracker.expect(response("o0", "o3", "o4"), now=T0 + timedelta(seconds=9))
    state = tracker.get("o0")
    assert state is not None
    assert [m for m, r in state.parts.items() if r is not None] == ["o3", "o4"]


def sqlite_steps(conn: sqlite3.Connection, action: Callable[[], object]) -> int:
    """SQLite virtual machine steps (in hundreds) that *action* runs: a clock-free cost."""
    steps = [0]

    def tick() -> int:
        steps[0] += 1
        return 0

    conn.set_progress_handler(tick, 100)
    try:
        action()
    finally:
        conn.set_progress_handler(None, 0)
    return steps[0]


def fill_orphans(store: Any, count: int, received: float) -> None:
    """*count* orphans, inserted directly (adding them one by one is what is measured)."""
    wire = '{"messageId":"f","msisdn":"1","to":"x","status":"delivered","err-code":"0"}'
    rows = [(f"fill{i}", wire, received) for i in range(count)]
    sql = "INSERT INTO dlrkit_orphans (message_id, receipt, received) VALUES (?, ?, ?)"
    if isinstance(store, SQLiteStore):
        store._conn.executemany(sql, rows)
    else:
        import psycopg

        with psycopg.connect(store.dsn, autocommit=True) as conn, conn.cursor() as cur:
            cur.executemany(sql.replace("?", "%s"), rows)


@pytest.mark.parametrize("size", [1_000, 16_000])
def test_an_orphan_at_the_bound_costs_the_same_whatever_the_bound(
    tmp_path: Path, size: int
) -> None:
    """Before: each orphan counted the whole table (and scanned it for expired
    ones), so at the bound an orphan cost O(n): 16 times the work for 16 times
    the orphans. Counted in SQLite VM steps, which do not depend on the clock."""
    store = SQLiteStore(tmp_path / f"o{size}.db", synchronous="OFF")
    tracker = Tracker(store, max_orphans=size)
    fill_orphans(store, size, T0.timestamp())
    steps = sqlite_steps(store._conn, lambda: tracker.add(dlr("new"), now=T0))
    store.close()
    assert steps < 50, f"{steps} hundred VM steps for one orphan among {size}"


def test_a_postgres_orphan_at_the_bound_costs_little(pg: Any, postgres_dsn: str) -> None:
    """Before: 1.5 ms an orphan at the bound of 10,000 (count(*), and a scan for
    expired ones). Timed against an orphan in an empty table, best of 15 each."""
    from dlrkit.stores import PostgresStore

    store = PostgresStore(postgres_dsn)
    tracker = Tracker(store, max_orphans=20_000)

    def best(count: int) -> float:
        times = []
        for i in range(count):
            start = time.perf_counter()
            tracker.add(dlr(f"t{i}"), now=T0)
            times.append(time.perf_counter() - start)
        return min(times)

    empty = best(15)
    fill_orphans(store, 20_000, T0.timestamp())
    pg.execute("ANALYZE dlrkit_orphans")
    full = best(15)
    store.close()
    assert full < 3 * empty, f"{full * 1e3:.2f} ms at the bound, {empty * 1e3:.2f} ms when empty"


def test_a_record_copy_copies_every_field() -> None:
    """MessageRecord.copy() sets its fields one by one: it must know every one."""
    import attrs

    record = MessageRecord(
        key="k",
        parts={"a": dlr("a")},
        prices={"a": None},
        created=1.0,
        updated=2.0,
        expired={"a": 3.0},
        first_at=T0,
        last_at=T0,
    )
    copy = record.copy()
    assert copy == record and copy is not record
    assert copy.parts is not record.parts and copy.expired is not record.expired
    assert {f.name for f in attrs.fields(MessageRecord)} == {
        "key", "parts", "prices", "created", "updated", "expired", "first_at", "last_at"
    }  # fmt: skip


@given(st.from_type(DeliveryReceipt))
def test_a_stored_receipt_reads_back_the_same(receipt: DeliveryReceipt) -> None:
    """The store's encoding is lossless: the same receipt, the same wire fields."""
    from dlrkit.stores._record import decode_receipt, encode_receipt

    again = decode_receipt(json.loads(json.dumps(encode_receipt(receipt))))
    assert again == receipt and again.to_wire() == receipt.to_wire()
    # Built without __init__: every attribute, of the same types, as __init__ sets them.
    built = DeliveryReceipt(
        **{a.alias: getattr(receipt, a.name) for a in attrs.fields(DeliveryReceipt)}
    )
    assert {k: (type(v), v) for k, v in vars(again).items()} == {
        k: (type(v), v) for k, v in vars(built).items()
    }


_part_ids = st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=12)
_times = st.datetimes(timezones=st.just(UTC))


@st.composite
def records(draw: st.DrawFn) -> MessageRecord:
    ids = draw(st.lists(_part_ids, min_size=1, max_size=4, unique=True))
    parts: dict[str, DeliveryReceipt | None] = {}
    for mid in ids:
        receipt = draw(st.none() | st.from_type(DeliveryReceipt))
        parts[mid] = None if receipt is None else attrs.evolve(receipt, message_id=mid)
    return MessageRecord(
        key=draw(_part_ids),
        parts=parts,
        prices={m: draw(st.none() | st.decimals(places=8, min_value=0, max_value=99)) for m in ids},
        created=draw(st.floats(0, 2e9)),
        updated=draw(st.floats(0, 2e9)),
        expired={m: draw(st.floats(0, 2e9)) for m in ids if draw(st.booleans())},
        first_at=draw(st.none() | _times),
        last_at=draw(st.none() | _times),
    )


@given(records())
def test_a_stored_record_reads_back_the_same(record: MessageRecord) -> None:
    """A record's text is lines of JSON: ids with newlines, quotes or any
    character (and receipts with any field) read back the same, in order."""
    memo: dict[int, Any] = {}
    text = record.to_text(memo)
    again = MessageRecord.from_text(text, {})
    assert again == record and list(again.parts) == list(record.parts)
    assert MessageRecord.from_text(text).to_text() == text
    # Writing it again from what a load memoised gives the same text.
    loaded: dict[int, Any] = {}
    assert MessageRecord.from_text(text, loaded).to_text(loaded) == text


def test_a_nested_memory_transaction_rolls_back_to_its_own_start() -> None:
    store = MemoryStore()
    tracker = Tracker(store)
    tracker.expect(response("a", "b"), now=T0)
    with store.transaction() as outer:
        record = outer.load("a")
        assert record is not None
        record.apply(dlr("a"), T0.timestamp())
        outer.save(record)
        with pytest.raises(RuntimeError), store.transaction() as inner:
            other = inner.load("a")
            assert other is not None
            other.apply(dlr("b"), T0.timestamp())
            inner.save(other)
            raise RuntimeError
    state = tracker.get("a")
    assert state is not None and state.parts == {"a": dlr("a"), "b": None}


def test_the_schema_is_created_once_and_a_new_feature_joins_it(
    tmp_path: Path, monkeypatch: Any
) -> None:
    """create_schema=False refuses a database without the schema; opening creates
    only what the catalog lacks, so a later feature's table is added alone."""
    from dlrkit.stores import _schema

    path = tmp_path / "schema.db"
    with pytest.raises(RuntimeError, match="dlrkit_messages, dlrkit_messages_pending"):
        SQLiteStore(path, create_schema=False)
    SQLiteStore(path).close()
    store = SQLiteStore(path, create_schema=False)
    store.create_schema()  # idempotent
    store.close()
    later = _schema.SchemaObject(  # a feature of a later release
        "dlrkit_later", "CREATE TABLE IF NOT EXISTS dlrkit_later (name TEXT PRIMARY KEY)"
    )
    monkeypatch.setattr(_schema, "FEATURES", [*_schema.FEATURES, (later,)])
    with pytest.raises(RuntimeError, match="lacks dlrkit_later:"):
        SQLiteStore(path, create_schema=False)
    statements: list[str] = []
    store = SQLiteStore(path)
    store._conn.set_trace_callback(statements.append)
    store.create_schema()
    assert not [s for s in statements if s.startswith("CREATE")]  # all there now
    store.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM dlrkit_later").fetchone() == (0,)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not json",
        '["k",1.0,2.0,{},null,null,{}]\n[',
        '["k",1.0,2.0,{},null,null,{}] x',
        '["k",1.0,2.0,{},null,null,{}]\n["a"]',
        '["k",1.0,2.0,{},null,null]',
    ],
)
def test_a_damaged_record_is_a_value_error(text: str) -> None:
    """The C scanner raises StopIteration for text that is not JSON: a
    damaged row must not leak that (a generator would turn it into a
    RuntimeError far away)."""
    with pytest.raises(ValueError, match="a stored record is damaged"):
        MessageRecord.from_text(text)


def _between_prefetch_and_transaction(
    store: Any, monkeypatch: Any, act: Callable[..., None]
) -> None:
    """Run *act* after the store's prefetch, before the transaction that follows it."""
    prefetch = store.prefetch

    def then_act(receipts: Any, now: float) -> None:
        act(prefetch, receipts, now)

    monkeypatch.setattr(store, "prefetch", then_act)


def test_a_record_changed_after_the_prefetch_is_applied_again(
    open_store: Opener, monkeypatch: Any
) -> None:
    """prefetch() applies and encodes the batch ahead, outside the lock. A
    receipt that another writer stored in between must not be overwritten by
    that draft: the record is loaded, applied and encoded again."""
    store, other = open_store(), open_store()
    tracker, writer = Tracker(store), Tracker(other)
    tracker.expect(response("a1", "a2"))
    tracker.expect(response("b1", "b2"))

    def other_writer_first(prefetch: Any, receipts: Any, now: float) -> None:
        prefetch(receipts, now)
        writer.add(dlr("a2", "failed", 5), now=T0)  # changes message a1's record

    _between_prefetch_and_transaction(store, monkeypatch, other_writer_first)
    states = tracker.add_many([dlr("a1", second=3), dlr("b1", second=3)], now=T0)
    assert [s.status.value for s in states] == ["failed", "accepted"]
    for reader in (Tracker(open_store()), tracker):
        a, b = reader.get("a1"), reader.get("b1")
        assert a is not None and b is not None
        assert a.parts["a2"] is not None and a.parts["a2"].status.value == "failed"
        assert a.parts["a1"] is not None and b.parts["b1"] is not None


def test_a_draft_made_for_another_time_is_not_written(open_store: Opener, monkeypatch: Any) -> None:
    """A draft is used only when the transaction's record came out the same:
    one made at another time (another `updated`) is not."""
    store = open_store()
    tracker = Tracker(store)
    tracker.expect(response("c1"), now=T0)

    def wrong_time(prefetch: Any, receipts: Any, now: float) -> None:
        prefetch(receipts, now - 3600)

    _between_prefetch_and_transaction(store, monkeypatch, wrong_time)
    later = T0 + timedelta(minutes=5)
    tracker.add_many([dlr("c1", second=1)], now=later)
    record = Tracker(open_store()).store.read("c1")
    assert record is not None and record.updated == later.timestamp()


def test_a_draft_is_not_written_over_a_record_rewritten_to_an_equal_one(
    open_store: Opener, monkeypatch: Any
) -> None:
    """Receipts compare by value, not by their wire text ("000" and "0" are
    the same err-code): a record that another writer rewrote in between with
    an equal receipt of other wire text compares equal to the draft, yet the
    draft's text would put back the old wire text. The draft is used only
    for a record loaded from the very text it was made from."""
    store, other = open_store(), open_store()
    tracker = Tracker(store)
    tracker.expect(response("d1", "d2"))
    tracker.add(dlr("d2", "failed", 5), now=T0)
    first = dlr("d2", "failed", 5)
    again = dlrkit.parse({**first.to_wire(), "err-code": "006"})
    assert again == first and again.to_wire() != first.to_wire()

    def rewrite(prefetch: Any, receipts: Any, now: float) -> None:
        prefetch(receipts, now)
        with other.transaction() as tx:
            record = tx.load_for_part("d2")
            record.parts["d2"] = again
            tx.save_many([record])

    _between_prefetch_and_transaction(store, monkeypatch, rewrite)
    tracker.add_many([dlr("d1", second=3)], now=T0)
    state = Tracker(open_store()).get("d1")
    assert state is not None and state.parts["d2"] is not None
    assert state.parts["d2"].to_wire() == again.to_wire()
