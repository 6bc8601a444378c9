"""SQLiteStore: a tracker's state in an SQLite file, safe for several processes."""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any, ClassVar, Final

from .._receipt import DeliveryReceipt
from ._sql import SQLStore, SQLTransaction, orphan_receipt

_flock: Callable[[int, int], Any] | None
try:
    from fcntl import LOCK_EX, LOCK_NB, LOCK_UN
    from fcntl import flock as _flock
except ImportError:  # pragma: no cover - Windows
    _flock, _LOCK_EX, _LOCK_NB, _LOCK_UN = None, 0, 0, 0
else:
    _LOCK_EX, _LOCK_NB, _LOCK_UN = LOCK_EX, LOCK_NB, LOCK_UN

__all__ = ["SQLiteStore"]

_SYNCHRONOUS: Final = ("OFF", "NORMAL", "FULL", "EXTRA")
_IDLE_THREAD_ENDS: Final = 60.0  # seconds without a writer waiting (see _WriterQueue)


class _SQLiteTransaction(SQLTransaction):
    def lock(self, message_ids: Sequence[str]) -> None:
        pass  # BEGIN IMMEDIATE already holds the database's write lock

    @staticmethod
    def in_list(column: str, values: Sequence[str]) -> tuple[str, Any]:
        return f"{column} IN (SELECT value FROM json_each(?))", json.dumps(list(values))

    def take_orphans(
        self, message_ids: Sequence[str], expired_before: float
    ) -> list[DeliveryReceipt]:
        condition, values = self.in_list("message_id", message_ids)
        rows = self._execute(
            f"SELECT receipt, received FROM dlrkit_orphans WHERE {condition} ORDER BY id",
            (values,),
        ).fetchall()
        if not rows:
            return []
        self._execute(f"DELETE FROM dlrkit_orphans WHERE {condition}", (values,))
        return [orphan_receipt(text) for text, received in rows if received >= expired_before]

    def prune_messages(self, updated_before: float, limit: int) -> int:
        # Under the write lock, the two deletes see the same messages.
        doomed = "SELECT key FROM dlrkit_messages WHERE updated < ? ORDER BY key LIMIT ?"
        self._execute(f"DELETE FROM dlrkit_parts WHERE key IN ({doomed})", (updated_before, limit))
        return int(
            self._execute(
                f"DELETE FROM dlrkit_messages WHERE key IN ({doomed})", (updated_before, limit)
            ).rowcount
        )


class SQLiteStore(SQLStore):
    """Keeps a tracker's state in an SQLite database file.

    The embedded choice for several processes on one machine (web workers,
    a queue consumer): every change is one ``BEGIN IMMEDIATE`` transaction,
    so writers are serialised and no update is lost; a receipt is
    acknowledged only after its transaction committed. The database runs in
    WAL mode, and reads (``Tracker.get``, ``pending``) run outside any write
    transaction, so readers never wait for writers. ``synchronous="FULL"``
    (the default) makes each commit durable against power loss as well as a
    killed process; ``"NORMAL"`` is faster and still loses nothing when only
    the process dies.

    Opening a store reads the schema catalog and creates only what is
    missing (see :meth:`create_schema`); with ``create_schema=False`` a
    missing table is an error instead.

    *timeout* (seconds) bounds a write's wait for other writers, in this
    process or another (one stopped in a debugger, say); past it the write
    fails with ``sqlite3.OperationalError("database is locked")``.

    One store object may be shared by threads; each process opens its own.
    A store opened before a fork gets a new connection in the child, and the
    fork waits for transactions other threads have open (see
    ``docs/signing.md``).
    """

    _transaction_class = _SQLiteTransaction
    _begin_sql = "BEGIN IMMEDIATE"
    _ddl: ClassVar[dict[str, str]] = {
        "serial": "INTEGER PRIMARY KEY AUTOINCREMENT",
        "bigint": "INTEGER",
    }
    _catalog_sql = "SELECT name FROM sqlite_master WHERE name IN (SELECT value FROM json_each(?))"

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        timeout: float = 30.0,
        synchronous: str = "FULL",
        create_schema: bool = True,
    ) -> None:
        if synchronous.upper() not in _SYNCHRONOUS:
            raise ValueError(f"synchronous must be one of {', '.join(_SYNCHRONOUS)}")
        super().__init__()
        self.path = os.fspath(path)
        self.timeout = timeout
        self.synchronous = synchronous.upper()
        self._closed = False
        self._deadline: float | None = None  # of the current holder of the store's lock
        # Held by every call into SQLite (see _hold_for_fork).
        self._open = threading.RLock()
        self._open_depth = 0
        # Set in a child forked while a transaction was open.
        self._open_at_fork = self._transaction_at_fork = False
        self._queue = _WriterQueue(self.path)
        self._register()
        with self._in_sqlite():
            self._conn = self._connect()
        self._open_schema(create_schema)

    def _connect(self) -> sqlite3.Connection:
        if self._closed:
            raise sqlite3.ProgrammingError("Cannot operate on a closed SQLiteStore.")
        if self._open_at_fork:
            raise sqlite3.ProgrammingError(
                f"this process was forked while a transaction on {self.path} was open (or a"
                " call into SQLite was under way), so SQLite in this process may never use it:"
                " fork outside store.transaction(), or open the store after the fork"
            )
        # isolation_level=None: transactions are begun explicitly.
        conn = sqlite3.connect(
            self.path, timeout=self.timeout, isolation_level=None, check_same_thread=False
        )
        if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            self._switch_to_wal(conn)  # once per database file
        conn.execute(f"PRAGMA synchronous={self.synchronous}")
        return conn

    def _switch_to_wal(self, conn: sqlite3.Connection) -> None:
        # SQLite answers "database is locked" at once, without waiting the
        # busy timeout, when another connection switches the same new file
        # at the same time (every worker of a server starting together). So
        # the switch waits its turn in the writer queue, and a refusal (from
        # a process outside dlrkit) is retried until the store's timeout.
        deadline = time.monotonic() + self.timeout
        pause = 0.001
        with self._locked(), self._queue.hold(deadline):
            while True:
                try:
                    conn.execute("PRAGMA journal_mode=WAL")
                    return
                except sqlite3.OperationalError as error:
                    if "locked" not in str(error) or time.monotonic() >= deadline:
                        raise
                time.sleep(pause)
                pause = min(pause * 2, 0.05)

    @contextmanager
    def _unflushed_transaction(self) -> Iterator[SQLTransaction]:
        # SQLite sets this per connection, outside a transaction: under the
        # store's lock, so no other thread's transaction runs with it.
        if self.synchronous in ("OFF", "NORMAL"):
            with super()._unflushed_transaction() as tx:
                yield tx
            return
        with self._locked():
            with self._in_sqlite():  # not held while the transaction waits its turn
                conn = self._connection()
                conn.execute("PRAGMA synchronous=NORMAL")
            try:
                with super()._unflushed_transaction() as tx:
                    yield tx
            finally:
                with self._in_sqlite():
                    try:
                        conn.execute(f"PRAGMA synchronous={self.synchronous}")
                    except Exception:  # never leave the Tracker's commits unflushed
                        conn.close()
                        self._conn = None  # the next use opens one with the setting

    @contextmanager
    def _locked(self) -> Iterator[None]:
        # Threads sharing the store wait for its lock at most the timeout,
        # and that wait counts in the timeout of the writers' file lock.
        start = time.monotonic()
        if not self._lock.acquire(timeout=max(self.timeout, 0.0)):
            raise sqlite3.OperationalError("database is locked")
        outermost = self._deadline is None
        if outermost:
            self._deadline = start + self.timeout
        try:
            yield
        finally:
            if outermost:
                self._deadline = None
            self._lock.release()

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        # A read holds SQLite's locks while it runs, too (see _hold_for_fork).
        with self._locked(), self._in_sqlite():
            return super()._query(sql, params)

    @contextmanager
    def _in_sqlite(self) -> Iterator[None]:
        with self._open:
            self._open_depth += 1
            try:
                yield
            finally:
                self._open_depth -= 1

    def _hold_for_fork(self) -> Any:
        # A transaction open at the fork leaves the child's SQLite library
        # believing that a connection of its own holds the write lock (the
        # inherited one, which nothing may touch), so no connection of the
        # child could ever write to this database; any call into SQLite at
        # the fork can leave one of its process-wide mutexes held in the
        # child, which then hangs. So a fork waits for other threads' calls
        # into SQLite and their open transactions (not for threads waiting
        # their turn: they hold nothing of SQLite's yet). It cannot wait for
        # the forking thread's own, nor past the store's timeout: that child
        # is told.
        if not self._open.acquire(timeout=max(self.timeout, 0.0)):
            self._transaction_at_fork = True
            return None
        self._transaction_at_fork = self._open_depth > 0
        return self._open

    def _after_fork(self) -> None:
        super()._after_fork()
        self._open_at_fork = self._transaction_at_fork
        self._open, self._open_depth, self._deadline = threading.RLock(), 0, None
        if not self._closed:  # the parent's lock file is the parent's: open our own
            self._queue.forget_after_fork()
            self._queue = _WriterQueue(self.path)

    @contextmanager
    def transaction(self) -> Iterator[SQLTransaction]:
        with (
            self._locked(),
            self._queue.hold(self._deadline or 0.0),
            self._in_sqlite(),
            self._busy_until_the_deadline(),
            super().transaction() as tx,
        ):
            yield tx

    @contextmanager
    def _busy_until_the_deadline(self) -> Iterator[None]:
        # BEGIN IMMEDIATE waits for a writer outside dlrkit for SQLite's busy
        # timeout: only what is left of this request's timeout, if it waited.
        left = (self._deadline or 0.0) - time.monotonic()
        if left > self.timeout - 0.01:
            yield
            return
        if left <= 0:
            raise sqlite3.OperationalError("database is locked")
        conn = self._connection()
        conn.execute(f"PRAGMA busy_timeout = {int(left * 1000)}")
        try:
            yield
        finally:
            with suppress(sqlite3.Error):
                conn.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")

    def close(self) -> None:
        with self._lock, self._in_sqlite():
            self._closed = True
            self._queue.close()
            super().close()


class _WriterQueue:
    """Writers of one database file wait for each other on a file lock.

    SQLite's own wait for the write lock polls, sleeping up to 100 ms between
    tries: with several busy writers the lock is often free while they all
    sleep. Writers here take a ``flock`` first, so ``BEGIN IMMEDIATE`` finds
    the database free. A writer that finds the lock held has a thread of the
    store wait for it in a blocking ``flock``, which wakes the moment the
    lock is released, while the writer waits for that thread until the
    store's *timeout*, then gives up with SQLite's own "database is locked":
    the lock's holder may be a process that is stopped, or stuck in a
    transaction, and no request may wait on it for ever. (The thread, when
    it gets the lock for a writer that gave up, releases it at once; the
    next writer waits for the same thread.) The kernel releases a killed
    holder's lock. Where there is no ``flock`` (Windows) or no file
    (``:memory:``), SQLite's wait is all there is.
    """

    def __init__(self, path: str) -> None:
        self._fd: int | None = None
        self.depth = 0  # entered again by the holder (a connection opened in a transaction)
        # The waiting thread's state, under _state. (The lock belongs to the
        # file description, which every thread shares: so a writer tries it
        # itself only while that thread is not waiting for it.)
        self._state = threading.Lock()
        self._wanted = threading.Event()  # a writer waits: the thread takes the lock
        self._granted = threading.Event()  # the thread took it for the writer
        self._waiting = False  # the thread is waiting for the lock
        self._abandoned = False  # the writer it waits for gave up
        self._closing = False
        self._thread: threading.Thread | None = None
        self._finalizer: weakref.finalize[Any, Any] | None = None
        if _flock is not None and path != ":memory:" and not path.startswith("file:"):
            self._fd = os.open(path + ".dlrkit-lock", os.O_RDWR | os.O_CREAT, 0o644)
            # A store dropped without close(): the file is closed with it.
            self._finalizer = weakref.finalize(self, os.close, self._fd)

    @contextmanager
    def hold(self, deadline: float) -> Iterator[None]:
        """Hold the lock, waiting for it until *deadline* (``time.monotonic()``) at most.

        Always entered under the store's lock: one writer at a time per queue.
        """
        if self.depth == 0 and self._fd is not None:
            self._wait(self._fd, deadline)
        self.depth += 1
        try:
            yield
        finally:
            self.depth -= 1
            if self.depth == 0 and self._fd is not None and _flock is not None:
                _flock(self._fd, _LOCK_UN)

    def _wait(self, fd: int, deadline: float) -> None:
        with self._state:
            if not self._waiting and _try_flock(fd):
                return
            self._abandoned = False
            if not self._waiting:
                if self._thread is None:
                    thread = threading.Thread(
                        target=self._take_for_writers,
                        args=(fd,),
                        name="dlrkit-sqlite-writers",
                        daemon=True,
                    )
                    try:
                        thread.start()
                    except RuntimeError as error:  # "can't start new thread"
                        raise sqlite3.OperationalError("database is locked") from error
                    self._thread = thread
                self._waiting = True
                self._granted.clear()
                self._wanted.set()
        if self._granted.wait(max(deadline - time.monotonic(), 0.0)):
            self._granted.clear()
            return
        with self._state:
            if self._granted.is_set():  # as the wait ended
                self._granted.clear()
                return
            self._abandoned = True
        raise sqlite3.OperationalError("database is locked")

    def _take_for_writers(self, fd: int) -> None:
        assert _flock is not None
        while True:
            if not self._wanted.wait(_IDLE_THREAD_ENDS):
                with self._state:
                    if not self._wanted.is_set():  # the next writer that waits starts one
                        self._thread = None
                        return
            self._wanted.clear()
            with self._state:
                closing = self._closing
            if closing:
                return
            _flock(fd, _LOCK_EX)  # as long as it takes: the writer has its deadline
            with self._state:
                self._waiting = False
                if self._closing or self._abandoned:
                    _flock(fd, _LOCK_UN)
                    if self._closing:
                        os.close(fd)
                        return
                else:
                    self._granted.set()

    def close(self) -> None:
        if self._finalizer is not None:
            self._finalizer.detach()
        with self._state:
            fd, self._fd = self._fd, None
            self._closing = True
            if fd is not None and not self._waiting:
                os.close(fd)  # else the thread closes it when its wait ends
            self._wanted.set()  # an idle thread ends

    def forget_after_fork(self) -> None:
        """In a forked child: close this process's copy of the file, touching no lock."""
        if self._finalizer is not None:
            self._finalizer.detach()
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _try_flock(fd: int) -> bool:
    assert _flock is not None
    try:
        _flock(fd, _LOCK_EX | _LOCK_NB)
    except BlockingIOError:
        return False
    return True
