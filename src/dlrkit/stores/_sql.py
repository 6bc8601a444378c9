"""What the SQL stores share: transactions, the statements, reads and maintenance.

Statements are written once with ``?`` placeholders; each driver's class says
what its own placeholder is, how it names a list of values, and how it locks
(see the lock order in ``_base``). Every statement works on a whole batch:
a batch of receipts costs the same number of round trips as one receipt.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
import weakref
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager, suppress
from itertools import islice
from typing import Any, ClassVar, Final, NamedTuple

from .._receipt import DeliveryReceipt
from ._base import TransientError
from ._record import MessageRecord, ReceiptMemo, encoded, load_receipt
from ._schema import all_objects

__all__ = ["RecordCache", "SQLStore", "SQLTransaction", "orphan_json"]

_EVICTED: Final = "orphans_evicted"  # the counter's name in dlrkit_counters


def orphan_json(receipt: DeliveryReceipt) -> str:
    return json.dumps(receipt.to_wire(), separators=(",", ":"))


def orphan_receipt(text: str) -> DeliveryReceipt:
    return load_receipt(json.loads(text))


class RecordCache:
    """Parsed records by the exact text they were read from or written as.

    Parsing a record is most of a receipt's work. The text in the database
    says everything about the record, so when it is the text this process
    parsed or wrote before, the parse can be skipped: no staleness is
    possible. ``prefetch`` fills it outside any lock (so SQLite writers parse
    in parallel, not one after another under the write lock). Entries are
    templates: every load gets its own copy.
    """

    def __init__(self, size: int = 4096) -> None:
        self._size = size
        self._entries: OrderedDict[str, tuple[MessageRecord, ReceiptMemo]] = OrderedDict()

    def load(self, text: str, memo: ReceiptMemo) -> MessageRecord:
        """The record of *text*, a copy of its own; *memo* learns its receipts' encodings."""
        entry = self._entries.get(text)
        if entry is None:
            entry = self._parse(text)
        template, encodings = entry
        memo.update(encodings)
        return template.copy()

    def warm(self, text: str) -> None:
        if text not in self._entries:
            self._parse(text)

    def remember(self, text: str, record: MessageRecord, memo: ReceiptMemo) -> None:
        """*record* was just written as *text* (a copy is kept: the caller may change it)."""
        encodings = {id(r): memo[id(r)] for r in record.parts.values() if r is not None}
        self._add(text, (record.copy(), encodings))

    def _parse(self, text: str) -> tuple[MessageRecord, ReceiptMemo]:
        encodings: ReceiptMemo = {}
        entry = (MessageRecord.from_text(text, encodings), encodings)
        self._add(text, entry)
        return entry

    def _add(self, text: str, entry: tuple[MessageRecord, ReceiptMemo]) -> None:
        entries = self._entries
        entries[text] = entry
        if len(entries) > self._size:
            entries.popitem(last=False)  # the oldest


class Prepared(NamedTuple):
    """What :meth:`SQLStore.prefetch` made ahead for the next transaction."""

    # id(receipt) -> (the receipt, its encoding): the batch's receipts.
    memo: ReceiptMemo
    # key -> (the text a record was read as, the record after the batch, its
    # text): the dry run of the batch over the records as they were read.
    drafts: dict[str, tuple[str, MessageRecord, str]]


_NOTHING_PREPARED: Final = Prepared({}, {})


class SQLTransaction:
    """The StoreTransaction operations both SQL stores run the same way."""

    placeholder: ClassVar[str] = "?"
    # Appended to the SELECTs of a record, whose dlrkit_messages is "m".
    lock_clause: ClassVar[str] = ""
    # Appended to the SELECT of the orphans a statement deletes.
    skip_locked: ClassVar[str] = ""

    def __init__(self, conn: Any, cache: RecordCache, prepared: Prepared) -> None:
        self._conn = conn
        self._cache = cache
        # The encodings of the receipts loaded, and of those prefetched.
        self._memo: ReceiptMemo = dict(prepared.memo)
        self._drafts = prepared.drafts
        self._read_as: dict[str, str] = {}  # key -> the text its record was loaded from

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self._conn.execute(sql.replace("?", self.placeholder), params)

    def _executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with closing(self._conn.cursor()) as cursor:
            cursor.executemany(sql.replace("?", self.placeholder), rows)

    @staticmethod
    def in_list(column: str, values: Sequence[str]) -> tuple[str, Any]:
        """A condition that *column* is one of *values*, and its one parameter."""
        raise NotImplementedError

    def _record(self, text: str) -> MessageRecord:
        record = self._cache.load(text, self._memo)
        self._read_as[record.key] = text
        return record

    def _encode(self, record: MessageRecord) -> str:
        # The text prefetch() made, when this record was loaded from the
        # same text as the draft and came out the same: the encoding is a
        # function of the text read and the receipts applied, so only a
        # record that changed since the prefetch is encoded here, under the
        # transaction's locks. (Its parts are the same receipt objects, so
        # the comparison is cheap.)
        draft = self._drafts.get(record.key)
        if draft is not None:
            read_as, drafted, text = draft
            if read_as == self._read_as.get(record.key) and drafted == record:
                return text
        text = record.to_text(self._memo)
        self._cache.remember(text, record, self._memo)
        return text

    def key_for(self, message_id: str) -> str | None:
        row = self._execute(
            "SELECT key FROM dlrkit_parts WHERE message_id = ?", (message_id,)
        ).fetchone()
        return None if row is None else str(row[0])

    def load(self, key: str) -> MessageRecord | None:
        row = self._execute(
            "SELECT m.record FROM dlrkit_messages m WHERE m.key = ?" + self.lock_clause, (key,)
        ).fetchone()
        return None if row is None else self._record(row[0])

    def load_for_part(self, message_id: str) -> MessageRecord | None:
        self.lock((message_id,))
        row = self._execute(
            "SELECT m.record FROM dlrkit_parts p JOIN dlrkit_messages m ON m.key = p.key"
            " WHERE p.message_id = ?" + self.lock_clause,
            (message_id,),
        ).fetchone()
        return None if row is None else self._record(row[0])

    def load_for_parts(self, message_ids: Sequence[str]) -> dict[str, MessageRecord]:
        self.lock(message_ids)
        condition, values = self.in_list("p.message_id", sorted(set(message_ids)))
        # ORDER BY key: the rows are locked in key order (FOR UPDATE locks the
        # rows as the sorted result is read).
        rows = self._execute(
            "SELECT p.message_id, m.key, m.record FROM dlrkit_parts p"
            f" JOIN dlrkit_messages m ON m.key = p.key WHERE {condition}"
            " ORDER BY m.key" + self.lock_clause,
            (values,),
        ).fetchall()
        records: dict[str, MessageRecord] = {}
        found: dict[str, MessageRecord] = {}
        for mid, key, text in rows:
            record = records.get(key)
            if record is None:
                record = records[key] = self._record(text)
            found[mid] = record
        return found

    def lock(self, message_ids: Sequence[str]) -> None:
        raise NotImplementedError  # each driver locks its own way

    def save(self, record: MessageRecord, part_ids: Sequence[str] = ()) -> None:
        self._execute(
            "INSERT INTO dlrkit_messages (key, record, complete, created, updated) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET "
            "record = excluded.record, complete = excluded.complete, updated = excluded.updated",
            (
                record.key,
                self._encode(record),
                int(record.is_complete),
                record.created,
                record.updated,
            ),
        )
        if part_ids:
            self._executemany(
                "INSERT INTO dlrkit_parts (message_id, key) VALUES (?, ?)",
                [(mid, record.key) for mid in part_ids],
            )

    def save_many(self, records: Sequence[MessageRecord]) -> None:
        self._update_many(
            [
                (self._encode(r), int(r.is_complete), r.updated, r.key)
                for r in sorted(records, key=lambda r: r.key)
            ]
        )

    def _update_many(self, rows: list[tuple[str, int, float, str]]) -> None:
        """Set (record, complete, updated) of messages by key."""
        # executemany: one prepared statement, each row found by the primary
        # key (psycopg pipelines the rows in one round trip). One UPDATE ...
        # FROM unnest(...) measured 5 times slower on the benchmark's table,
        # whose rows are updated over and over (the plan was not pinned down).
        self._executemany(
            "UPDATE dlrkit_messages SET record = ?, complete = ?, updated = ? WHERE key = ?", rows
        )

    def _delete_orphans(self, condition: str, params: Sequence[Any]) -> int:
        # A subquery, so that PostgreSQL can skip the rows another transaction
        # is deleting rather than wait for them (lock order, level 3).
        return int(
            self._execute(
                "DELETE FROM dlrkit_orphans WHERE id IN"
                f" (SELECT id FROM dlrkit_orphans WHERE {condition}{self.skip_locked})",
                params,
            ).rowcount
        )

    def add_orphans(
        self, receipts: Sequence[DeliveryReceipt], now: float, limit: int, expired_before: float
    ) -> None:
        # O(1) amortised: both deletes find their rows by an index, and each
        # orphan is deleted once. The bound is by arrival number, not by a
        # count of the table: an orphan is evicted once `limit` orphans
        # arrived after it (its id is `limit` below the newest).
        self._delete_orphans("received < ?", (expired_before,))
        self._executemany(
            "INSERT INTO dlrkit_orphans (message_id, receipt, received) VALUES (?, ?, ?)",
            [(r.message_id, orphan_json(r), now) for r in receipts],
        )
        (newest,) = self._execute("SELECT max(id) FROM dlrkit_orphans").fetchone()
        evicted = self._delete_orphans("id <= ?", (newest - limit,))
        if evicted:
            self._execute(
                "INSERT INTO dlrkit_counters (name, value) VALUES (?, ?) ON CONFLICT (name)"
                " DO UPDATE SET value = dlrkit_counters.value + excluded.value",
                (_EVICTED, evicted),
            )

    def take_orphans(
        self, message_ids: Sequence[str], expired_before: float
    ) -> list[DeliveryReceipt]:
        raise NotImplementedError

    def prune_messages(self, updated_before: float, limit: int) -> int:
        """Delete up to *limit* messages not updated since a time, with their parts."""
        raise NotImplementedError

    def record_once(self, key: str, expires: float, now: float, token: str) -> bool:
        """Record a replay *key* until *expires*; False if it is there, unexpired.

        One atomic insert-if-absent: the primary key decides between
        concurrent transactions, and an expired entry of the same key is
        taken over. *token* names this attempt: a second run of the same
        attempt (after a connection lost at ``COMMIT``, when nobody knows
        whether the first one committed) finds its own row and is True again,
        so the retry neither refuses the request nor records it twice.

        Then up to two other expired entries are deleted, skipping rows that
        other transactions hold, so the table is pruned as it is used, a
        little at a time, with no batch job holding a lock. (Inserting first
        means a transaction waits only in its insert, for one that already
        inserted: never in a cycle.)
        """
        recorded = self._execute(
            "INSERT INTO dlrkit_nonces (key, expires, token) VALUES (?, ?, ?) ON CONFLICT (key)"
            " DO UPDATE SET expires = excluded.expires, token = excluded.token"
            " WHERE dlrkit_nonces.expires < ? OR dlrkit_nonces.token = excluded.token",
            (key, expires, token, now),
        ).rowcount
        self._execute(
            "DELETE FROM dlrkit_nonces WHERE key IN (SELECT key FROM dlrkit_nonces"
            f" WHERE expires < ? AND key <> ? ORDER BY expires LIMIT 2{self.skip_locked})",
            (now, key),
        )
        return bool(recorded == 1)

    def forget(self, key: str, token: str | None = None) -> None:
        """Delete a replay key (``NonceCache.discard``), or only its entry of *token*."""
        if token is None:
            self._execute("DELETE FROM dlrkit_nonces WHERE key = ?", (key,))
        else:
            self._execute("DELETE FROM dlrkit_nonces WHERE key = ? AND token = ?", (key, token))


_REMEMBERED: Final = 10_000  # a store's recent or failed replay-guard attempts, at most
_SETTLED_AT_ONCE: Final = 20  # failed attempts' entries deleted by one recording

_LIVE_STORES: weakref.WeakSet[SQLStore] = weakref.WeakSet()


_REGISTRY_LOCK: Final = threading.Lock()
# What each forking thread holds from its "before" hook to its "after" one
# (two threads may fork at once).
_HELD_FOR_FORK: dict[int, list[Any]] = {}


def _hold_stores_for_fork() -> None:
    # The registry's lock is held across the fork (a child whose copy was
    # taken by another thread could never open a store), then released on
    # both sides.
    _REGISTRY_LOCK.acquire()
    stores = list(_LIVE_STORES)
    held = _HELD_FOR_FORK.setdefault(threading.get_ident(), [])
    for store in sorted(stores, key=id):  # one order, whichever thread forks
        try:
            lock = store._hold_for_fork()
        except Exception:  # a hook that raised would leave the others held
            continue
        if lock is not None:
            held.append(lock)


def _release_stores_after_fork() -> None:
    for lock in reversed(_HELD_FOR_FORK.pop(threading.get_ident(), [])):
        lock.release()
    _REGISTRY_LOCK.release()


def _reset_stores_after_fork() -> None:
    _HELD_FOR_FORK.clear()  # the child's stores get new locks
    for store in list(_LIVE_STORES):
        store._after_fork()
    _REGISTRY_LOCK.release()


if hasattr(os, "register_at_fork"):  # POSIX
    os.register_at_fork(
        before=_hold_stores_for_fork,
        after_in_parent=_release_stores_after_fork,
        after_in_child=_reset_stores_after_fork,
    )


class SQLStore:
    """Transactions, reads, schema and maintenance, the same for both SQL stores."""

    _transaction_class: ClassVar[type[SQLTransaction]] = SQLTransaction
    _begin_sql: ClassVar[str] = "BEGIN"
    _prune_batch: ClassVar[int] = 1000
    # How each database spells what the portable DDL leaves open (see _schema).
    _ddl: ClassVar[dict[str, str]] = {}
    _catalog_sql: ClassVar[str] = ""  # names of the tables and indexes that exist

    _conn: Any

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._cache = RecordCache()
        self._conn = None
        # Connections a forked child inherited: kept, never used nor closed
        # (closing one would act on the parent's session or files).
        self._inherited: list[Any] = []
        # Replay keys whose recording failed without knowing whether it had
        # committed (the connection lost at COMMIT, then the retry failed too),
        # with the token of that attempt: see record_once.
        self._uncertain: dict[str, str] = {}
        self._recorded: dict[str, str] = {}  # the latest keys recorded, with their tokens
        self._commit_unknown = False  # set when a COMMIT failed (see record_once)
        self._prepared = _NOTHING_PREPARED  # by prefetch(), for the next transaction

    def _register(self) -> None:
        """Called by a store's __init__ once its attributes are set: forks now reset it."""
        with _REGISTRY_LOCK:
            _LIVE_STORES.add(self)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """The store's lock, for one use of its connection."""
        with self._lock:
            yield

    # -- the connection (PostgreSQL reconnects; a forked child opens its own) -------------

    def _connect(self) -> Any:
        """A new connection to the database."""
        raise NotImplementedError

    def _connection(self) -> Any:
        if self._conn is None:
            self._conn = self._connect()
        return self._conn

    def _hold_for_fork(self) -> Any:
        """In the parent, just before a fork: a lock it took, to release after; or None.

        A store whose connection must not be inside a transaction at the
        fork (SQLite's) waits here for other threads' transactions to end.
        """
        return None

    def _after_fork(self) -> None:
        """In a forked child: leave the parent's connection alone, open a new one on use.

        A store opened before a fork (an app imported by gunicorn's master
        with ``--preload``, a ``multiprocessing`` pool) would otherwise share
        one connection between processes, which corrupts it. The lock may
        have been held by a thread that does not exist in the child.
        """
        self._lock = threading.RLock()
        # The parent's attempts: a child that deleted or reused their entries
        # would undo what the parent does with them.
        self._uncertain, self._recorded = {}, {}
        if self._conn is not None:
            self._inherited.append(self._conn)
            self._conn = None

    def _lost(self, conn: Any) -> bool:
        """True when *conn* is gone for good (the next transaction reconnects)."""
        return False

    def _drop(self) -> None:
        """Forget a lost connection."""

    def _is_transient(self, conn: Any, error: Exception) -> bool:
        return self._lost(conn)

    def _begin(self) -> Any:
        conn = self._connection()
        try:
            conn.execute(self._begin_sql)
            return conn
        except Exception:
            if not self._lost(conn):
                raise
        # The connection died while idle (a server restart, an administrator,
        # a proxy's timeout): nothing of this transaction ran, so begin again.
        self._drop()
        conn = self._connection()
        conn.execute(self._begin_sql)
        return conn

    @contextmanager
    def transaction(self) -> Iterator[SQLTransaction]:
        with self._locked():
            conn = self._begin()
            prepared, self._prepared = self._prepared, _NOTHING_PREPARED
            try:
                yield self._transaction_class(conn, self._cache, prepared)
            except BaseException as error:
                self._end(conn, "ROLLBACK", error)
                raise
            try:
                self._end(conn, "COMMIT", None)
            except BaseException:
                self._commit_unknown = True
                if not self._lost(conn):  # SQLite keeps a transaction whose COMMIT failed
                    with suppress(Exception):
                        conn.execute("ROLLBACK")
                raise

    def _unusable(self, conn: Any, failure: Exception) -> bool:
        """True when *conn* cannot go on after *failure* of its COMMIT or ROLLBACK."""
        return self._lost(conn)

    def _end(self, conn: Any, statement: str, error: BaseException | None) -> None:
        try:
            conn.execute(statement)
        except Exception as failure:
            if not self._unusable(conn, failure):
                raise
            self._drop()
            if error is None:
                raise TransientError(f"the connection was lost at {statement}") from failure
        if isinstance(error, Exception) and self._is_transient(conn, error):
            if self._lost(conn):
                self._drop()
            raise TransientError(str(error)) from error

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """Rows of one read outside any write transaction (a lost connection is replaced once)."""
        sql = sql.replace("?", self._transaction_class.placeholder)
        with self._locked():
            conn = self._connection()
            try:
                return list(conn.execute(sql, params).fetchall())
            except Exception:
                if not self._lost(conn):
                    raise
            self._drop()
            return list(self._connection().execute(sql, params).fetchall())

    # -- the schema --------------------------------------------------------------------

    def _missing(self) -> list[str]:
        names = [obj.name for obj in all_objects()]
        found = {str(name) for (name,) in self._query(self._catalog_sql, (json.dumps(names),))}
        return [name for name in names if name not in found]

    def _open_schema(self, create: bool) -> None:
        missing = self._missing()  # the catalog only: no lock on a live table
        if not missing:
            return
        if not create:
            raise RuntimeError(
                f"the database lacks {', '.join(missing)}: run the store's create_schema()"
            )
        self.create_schema()

    def _lock_schema(self, tx: SQLTransaction) -> None:
        """Serialise schema changes (SQLite's BEGIN IMMEDIATE already does)."""

    def create_schema(self) -> None:
        """Create the tables and indexes the database lacks; idempotent.

        A store does this when it is opened on a database that lacks part of
        its schema (unless opened with ``create_schema=False``). Creating an
        index locks its table for the time it takes, so on a busy database run
        this once, as a migration step, before the application starts.
        """
        with self.transaction() as tx:
            self._lock_schema(tx)
            missing = set(self._missing())
            for obj in all_objects():
                if obj.name in missing:
                    tx._execute(obj.statement.format(**self._ddl))

    # -- reads and maintenance -----------------------------------------------------------

    def read(self, key: str) -> MessageRecord | None:
        rows = self._query("SELECT record FROM dlrkit_messages WHERE key = ?", (key,))
        return MessageRecord.from_text(rows[0][0]) if rows else None

    def prefetch(self, receipts: Sequence[DeliveryReceipt], now: float) -> None:
        """Do the next transaction's work ahead, outside any transaction and lock.

        Reads and parses the records of these receipts' parts, encodes the
        receipts, and applies them to the records as read (as
        ``Tracker.add_many`` will, at *now*), encoding what changed. The
        transaction that loads the records next only checks that their text
        is still the same (see :class:`RecordCache`), and writes a record's
        text made here when it was loaded from the same text and came out
        the same (see ``SQLTransaction._encode``): otherwise it does the
        work itself. So SQLite's writers hold the database's one write lock
        for the statements, and parse and encode in parallel.
        """
        condition, values = self._transaction_class.in_list(
            "p.message_id", sorted({r.message_id for r in receipts})
        )
        rows = self._query(
            "SELECT p.message_id, m.key, m.record FROM dlrkit_parts p JOIN dlrkit_messages m"
            f" ON m.key = p.key WHERE {condition}",
            (values,),
        )
        memo: ReceiptMemo = {}
        for receipt in receipts:
            encoded(receipt, memo)
        with self._locked():  # the cache is shared by the store's threads
            records: dict[str, MessageRecord] = {}
            read_as: dict[str, str] = {}
            by_part: dict[str, MessageRecord] = {}
            for mid, key, text in rows:
                record = records.get(key)
                if record is None:
                    record = records[key] = self._cache.load(text, memo)
                    read_as[key] = text
                by_part[mid] = record
            changed: dict[str, MessageRecord] = {}
            for receipt in receipts:
                record = by_part.get(receipt.message_id)
                if record is not None and record.apply(receipt, now):
                    changed[record.key] = record
            drafts = {}
            for key, record in changed.items():
                text = record.to_text(memo)
                self._cache.remember(text, record, memo)
                drafts[key] = (read_as[key], record, text)
            self._prepared = Prepared(memo, drafts)

    def pending(self, created_before: float) -> list[str]:
        rows = self._query(
            "SELECT key FROM dlrkit_messages WHERE complete = 0 AND created < ? ORDER BY key",
            (created_before,),
        )
        return [str(key) for (key,) in rows]

    # -- the replay guard (NonceCache(store=...)) -----------------------------------------

    def record_once(self, key: str, expires: float, now: float) -> bool:
        """Record a replay *key* until *expires*; False if it is there, unexpired.

        One transaction of its own (see :meth:`SQLTransaction.record_once`),
        run once more after a :class:`TransientError`: the attempt's token
        makes the second run find the first one's row if it did commit.

        When the second run fails too (the server is gone for a while), the
        caller refuses the request with 503, yet the first run may have
        committed its entry. The key and token are kept in memory, so that
        the provider's retry is not refused as a replay: a retry that reaches
        this store is recorded with the same token (its own entry, if there
        is one, is taken over), and this store's next recording deletes the
        entry of that token, for a retry reaching another process.
        """
        with self._locked():
            earlier = self._uncertain.pop(key, None)
            token = earlier or secrets.token_hex(8)
            self._commit_unknown = False
            try:
                try:
                    recorded = self._record_once(key, expires, now, token)
                except TransientError:
                    recorded = self._record_once(key, expires, now, token)
            except BaseException:
                if self._commit_unknown or earlier:
                    # The caller answers 503: the provider's retry must not
                    # meet this attempt's entry, if it committed, as a replay.
                    self._remember(self._uncertain, key, token)
                raise
            if recorded:
                self._remember(self._recorded, key, token)
            return recorded

    def _record_once(self, key: str, expires: float, now: float, token: str) -> bool:
        with self._unflushed_transaction() as tx:
            recorded = tx.record_once(key, expires, now, token)
            # Then the entries of attempts that failed, if they committed
            # after all (a few at a time: after an outage there can be many).
            settled = list(islice(self._uncertain.items(), _SETTLED_AT_ONCE))
            for other, other_token in settled:
                tx.forget(other, other_token)
        for other, _ in settled:
            del self._uncertain[other]
        return recorded

    @staticmethod
    def _remember(memory: dict[str, str], key: str, token: str) -> None:
        memory[key] = token
        if len(memory) > _REMEMBERED:
            del memory[next(iter(memory))]  # the oldest

    def forget(self, key: str) -> None:
        """Delete a replay key's entry (``NonceCache.discard``).

        If that fails and this store recorded the key, the attempt is
        remembered as :meth:`record_once` remembers a failed one: its entry
        is deleted later, and a retry of the request here takes it over.
        """
        with self._locked():
            token = self._recorded.pop(key, None) or self._uncertain.pop(key, None)
            try:
                with self._unflushed_transaction() as tx:
                    tx.forget(key)
            except BaseException:
                if token is not None:
                    self._remember(self._uncertain, key, token)
                raise

    _unflushed_sql: ClassVar[str] = ""

    @contextmanager
    def _unflushed_transaction(self) -> Iterator[SQLTransaction]:
        """A transaction whose commit does not wait for the disk: the replay guard's.

        Its entries survive the process (a kill, a crash): the database has
        them once the commit returns. A power cut (or a PostgreSQL server
        crash) can lose the last moments' entries, unless a durable commit
        followed: that commit flushes the log up to itself, the guard's
        entries included. A webhook that stores its receipt (``Tracker.add``)
        before answering makes exactly that commit. The flush is what makes a
        commit slow (SQLite's ``synchronous=FULL`` waits for it), and the
        guard commits once for every request.
        """
        with self.transaction() as tx:
            if self._unflushed_sql:
                tx._execute(self._unflushed_sql)
            yield tx

    def replay_keys(self) -> int:
        """How many replay keys the table holds (expired ones not pruned yet included)."""
        return int(self._query("SELECT count(*) FROM dlrkit_nonces")[0][0])

    def evicted_orphans(self) -> int:
        rows = self._query("SELECT value FROM dlrkit_counters WHERE name = ?", (_EVICTED,))
        return int(rows[0][0]) if rows else 0

    def prune(self, updated_before: float) -> int:
        deleted = 0
        while True:  # in batches, each one transaction
            with self.transaction() as tx:
                batch = tx.prune_messages(updated_before, self._prune_batch)
            deleted += batch
            if not batch:
                break
        with self.transaction() as tx:
            deleted += tx._delete_orphans("received < ?", (updated_before,))
        return deleted

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
