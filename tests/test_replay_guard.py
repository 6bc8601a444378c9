"""The shared replay guard: a NonceCache on an SQLiteStore or a PostgresStore.

Its semantics against a model (the in-memory cache's, which it must match),
its failures (refused with 503, never accepted unchecked), and real processes
racing on one database, killed mid-insert and forked from a parent's store.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

import dlrkit
from dlrkit import NonceCache, SignatureError, SignatureFailure
from dlrkit.stores import TransientError

from .conftest import OPEN_STORE, open_backend
from .pg_server import reset_dlrkit_tables, with_options

SECRET = "replay-guard-secret"
TTL = timedelta(minutes=10)
T0 = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)


def signed_query(index: int, now: datetime | None = None) -> str:
    """The query string of a signed GET receipt, as the provider sends it."""
    fields = {
        "messageId": f"0A00000{index:09d}",
        "msisdn": "447700900000",
        "to": "AcmeInc",
        "status": "delivered",
        "err-code": "0",
        "timestamp": str(int((now or datetime.now(timezone.utc)).timestamp())),
        "nonce": f"nonce-{index}",
    }
    fields["sig"] = dlrkit.sign(fields, SECRET, "sha256")
    return urlencode(fields)


def receive(query: str, cache: NonceCache) -> dlrkit.DeliveryReceipt:
    return dlrkit.parse_request(
        method="GET",
        content_type=None,
        query=query,
        secret=SECRET,
        signature_method="sha256",
        nonce_cache=cache,
    )


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def open_cache(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Callable[[], NonceCache]]:
    """Opens NonceCaches that share one guard: each on its own store (connection)."""
    if request.param == "memory":
        cache = NonceCache(ttl=TTL)
        yield lambda: cache
        return
    _, _, open_store = open_backend(request.param, request, tmp_path)
    stores: list[Any] = []

    def opened() -> NonceCache:
        stores.append(open_store())
        return NonceCache(stores[-1], ttl=TTL)

    yield opened
    for store in stores:
        store.close()


# -- what it does, the same in memory and in a store --------------------------------------


def test_a_key_is_refused_until_it_expires(open_cache: Callable[[], NonceCache]) -> None:
    cache = open_cache()
    assert cache.add("a", T0)
    assert not cache.add("a", T0 + timedelta(minutes=9))
    # Kept through its last instant, and taken over after it.
    assert not cache.add("a", T0 + TTL)
    assert cache.add("a", T0 + TTL + timedelta(seconds=1))
    assert not cache.add("a", T0 + TTL + timedelta(seconds=2))


def test_discard_lets_the_retry_through(open_cache: Callable[[], NonceCache]) -> None:
    first, second = open_cache(), open_cache()
    query = signed_query(1)
    receive(query, first)
    with pytest.raises(SignatureError) as replay:
        receive(query, second)
    assert replay.value.reason is SignatureFailure.REPLAYED and replay.value.http_status == 401
    fields = dict(pair.split("=", 1) for pair in query.split("&"))
    second.discard(fields)
    receive(query, first)


def test_the_hex_case_of_the_signature_does_not_make_a_replay_new(
    open_cache: Callable[[], NonceCache],
) -> None:
    query = signed_query(2)
    receive(query, open_cache())
    sig = query.split("sig=")[1]
    with pytest.raises(SignatureError, match="already accepted"):
        receive(query.replace(sig, sig.upper()), open_cache())


def test_caches_on_one_database_share_their_entries(backend: tuple[str, str, Any]) -> None:
    _, _, open_store = backend
    one, two = open_store(), open_store()
    first, second = NonceCache(one, ttl=TTL), NonceCache(two, ttl=TTL)
    key = dlrkit.replay_key("ab12", "1700000000")
    assert first.add(key, T0)
    assert not second.add(key, T0)
    assert len(first) == len(second) == 1
    second.discard({"sig": "ab12", "timestamp": "1700000001"})  # another request
    assert len(first) == 1
    second.discard({"sig": "AB12", "timestamp": "1700000000"})  # this one, in upper case
    assert len(first) == 0
    assert first.add(key, T0) and not second.add(key, T0)
    one.close()
    two.close()


def test_expired_entries_are_pruned_as_requests_arrive(backend: tuple[str, str, Any]) -> None:
    _, _, open_store = backend
    store = open_store()
    cache = NonceCache(store, ttl=TTL)
    for i in range(60):
        assert cache.add(f"old-{i}", T0)
    later = T0 + TTL + timedelta(seconds=1)
    for i in range(30):  # each deletes up to two expired entries
        assert cache.add(f"new-{i}", later)
    assert len(cache) == 30
    for i in range(60):  # an expired entry is no longer a replay
        assert cache.add(f"old-{i}", later)
    store.close()


def test_a_store_cache_is_configured_as_a_store_cache(tmp_path: Path) -> None:
    store = dlrkit.SQLiteStore(tmp_path / "guard.db")
    with pytest.raises(ValueError, match="max_size bounds the in-memory cache"):
        NonceCache(store, max_size=10)
    with pytest.raises(TypeError, match="cannot keep its entries in a MemoryStore"):
        NonceCache(dlrkit.MemoryStore())  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="ttl must be positive"):
        NonceCache(store, ttl=timedelta(0))
    cache = NonceCache(store)
    assert cache.store is store and cache.ttl == TTL
    store.close()


class GuardMachine(RuleBasedStateMachine):
    """Two caches on one guard, against a model of what it must remember.

    Subclasses say how a guard is opened. The clock only moves forward, by
    steps that cross the ttl and land exactly on it.
    """

    open_pair: Callable[[], tuple[NonceCache, NonceCache]]

    @initialize()
    def start(self) -> None:
        self.caches = self.open_pair()
        self.now = T0
        self.model: dict[str, datetime] = {}  # key -> last instant it is refused

    @rule(
        key=st.sampled_from(["a", "b", "c", "d"]),
        which=st.integers(0, 1),
        step=st.sampled_from([0, 1, 60, 299, 300, 599, 600, 601]),
    )
    def add(self, key: str, which: int, step: int) -> None:
        self.now += timedelta(seconds=step)
        expected = key not in self.model or self.model[key] < self.now
        assert self.caches[which].add(dlrkit.replay_key(key, None), self.now) is expected
        if expected:
            self.model[key] = self.now + TTL

    @rule(key=st.sampled_from(["a", "b", "c", "d"]), which=st.integers(0, 1))
    def discard(self, key: str, which: int) -> None:
        self.caches[which].discard({"sig": key})
        self.model.pop(key, None)

    @invariant()
    def holds_every_unexpired_entry(self) -> None:
        if not hasattr(self, "caches"):
            return
        unexpired = sum(1 for end in self.model.values() if end >= self.now)
        assert unexpired <= len(self.caches[0]) <= len(self.model)

    def teardown(self) -> None:
        for cache in getattr(self, "caches", ()):
            if cache.store is not None:
                cache.store.close()  # type: ignore[attr-defined]


def run_machine(open_pair: Callable[[], tuple[NonceCache, NonceCache]], examples: int) -> None:
    machine = type("Machine", (GuardMachine,), {"open_pair": staticmethod(open_pair)})
    machine.TestCase.settings = settings(max_examples=examples, stateful_step_count=25)
    machine.TestCase().runTest()


def test_the_in_memory_guard_follows_the_model() -> None:
    def open_pair() -> tuple[NonceCache, NonceCache]:
        cache = NonceCache(ttl=TTL)
        return cache, cache

    run_machine(open_pair, 100)


def test_a_shared_guard_follows_the_model(backend: tuple[str, str, Any]) -> None:
    kind, target, open_store = backend

    def open_pair() -> tuple[NonceCache, NonceCache]:
        if kind == "sqlite":
            with sqlite3.connect(target) as conn:
                conn.execute("DELETE FROM dlrkit_nonces")
        else:
            reset_dlrkit_tables(target)
        return NonceCache(open_store(), ttl=TTL), NonceCache(open_store(), ttl=TTL)

    open_store().close()  # the schema
    run_machine(open_pair, 40 if kind == "sqlite" else 20)


# -- it fails closed -----------------------------------------------------------------------


def assert_unavailable(error: pytest.ExceptionInfo[SignatureError]) -> None:
    assert error.value.reason is SignatureFailure.UNAVAILABLE
    assert error.value.http_status == 503
    assert "retry later" in str(error.value)
    assert error.value.__cause__ is not None  # what the store said, for the logs


def test_sqlite_locked_too_long_is_a_503_not_a_pass(tmp_path: Path) -> None:
    path = tmp_path / "guard.db"
    store = dlrkit.SQLiteStore(path, timeout=0.2)
    cache = NonceCache(store)
    query = signed_query(3)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    with pytest.raises(SignatureError) as error:
        receive(query, cache)
    assert_unavailable(error)
    assert "locked" not in str(error.value)  # the store's words stay out of the answer
    with pytest.raises(SignatureError) as error:
        cache.discard({"sig": "x"})
    assert_unavailable(error)
    holder.execute("ROLLBACK")
    receive(query, cache)  # the provider's retry
    with pytest.raises(SignatureError, match="already accepted"):
        receive(query, cache)
    store.close()
    with pytest.raises(SignatureError) as error:  # a closed store records nothing
        receive(signed_query(4), cache)
    assert_unavailable(error)


STOPPED_IN_A_TRANSACTION = OPEN_STORE + textwrap.dedent(
    """
    import os, signal
    with store.transaction() as tx:  # a worker in a transaction, then stopped
        tx.record_once("held", 0.0, 0.0, "token")
        print("inside", flush=True)
        os.kill(os.getpid(), signal.SIGSTOP)
    """
)


def _wait_for_stopped_holder(path: str) -> subprocess.Popen[str]:
    holder = subprocess.Popen(
        [sys.executable, "-c", STOPPED_IN_A_TRANSACTION, "sqlite", path],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline() == "inside\n"
    return holder


def test_a_dlrkit_writer_stopped_mid_transaction_is_a_503_after_the_timeout(
    tmp_path: Path,
) -> None:
    """The writers' file lock is held by a process that is stopped (SIGSTOP, a
    debugger, a frozen VM): waiting for it must end at the store's timeout."""
    path = str(tmp_path / "guard.db")
    dlrkit.SQLiteStore(path).close()
    holder = _wait_for_stopped_holder(path)
    try:
        store = dlrkit.SQLiteStore(path, timeout=0.5)
        cache = NonceCache(store)
        outcome: list[BaseException | bool] = []

        def add() -> None:
            try:
                outcome.append(cache.add("waiting"))
            except BaseException as failure:
                outcome.append(failure)

        started = time.monotonic()
        waiter = threading.Thread(target=add, daemon=True)
        waiter.start()
        waiter.join(timeout=10)
        assert not waiter.is_alive(), "still waiting for a stopped process's lock"
        assert 0.4 < time.monotonic() - started < 5
        assert isinstance(outcome[0], SignatureError)
        assert outcome[0].reason is SignatureFailure.UNAVAILABLE
        assert outcome[0].http_status == 503
        receipt = {"messageId": "m", "msisdn": "1", "to": "x", "status": "delivered"}
        receipt["err-code"] = "0"
        with pytest.raises(sqlite3.OperationalError, match="database is locked"):
            dlrkit.Tracker(store).add(dlrkit.parse(receipt))
    finally:
        holder.kill()  # the kernel releases a dead holder's lock
        holder.communicate()
    assert cache.add("waiting")
    store.close()


def test_postgres_row_held_too_long_is_a_503_then_the_retry_passes(postgres_dsn: str) -> None:
    import psycopg

    from dlrkit.stores import PostgresStore

    store = PostgresStore(with_options(postgres_dsn, lock_timeout=200))
    reset_dlrkit_tables(postgres_dsn)
    cache = NonceCache(store)
    query = signed_query(5)
    fields = dict(pair.split("=", 1) for pair in query.split("&"))
    key = dlrkit.replay_key(fields["sig"], fields["timestamp"])
    with psycopg.connect(postgres_dsn) as other:  # a transaction recording the same request
        other.execute(
            "INSERT INTO dlrkit_nonces (key, expires, token) VALUES (%s, 0, 'other')", (key,)
        )
        with pytest.raises(SignatureError) as error:
            receive(query, cache)
        assert_unavailable(error)
        other.rollback()
    receive(query, cache)
    store.close()


def test_postgres_unreachable_is_a_503_and_it_reconnects(postgres_dsn: str) -> None:
    import psycopg

    from dlrkit.stores import PostgresStore

    store = PostgresStore(postgres_dsn, connect_timeout=2)
    reset_dlrkit_tables(postgres_dsn)
    cache = NonceCache(store)
    assert cache.add("before", T0)
    with psycopg.connect(postgres_dsn, autocommit=True) as admin:
        pid = store._connection().info.backend_pid
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    store.dsn = "host=/nonexistent-socket-dir dbname=none"  # and the server is gone
    with pytest.raises(SignatureError) as error:
        cache.add("during", T0)
    assert_unavailable(error)
    with pytest.raises(SignatureError) as error:
        cache.discard({"sig": "before"})
    assert_unavailable(error)
    store.dsn = postgres_dsn  # the server is back
    assert not cache.add("before", T0)
    assert cache.add("during", T0)
    store.close()


def lose_a_commit(
    store: Any, monkeypatch: pytest.MonkeyPatch, then_the_server: bool = False
) -> dict[str, str]:
    """The next commit is made, but its answer is lost; *then_the_server*: the
    store's retry cannot reach the server either (a crash, a failover, a
    network cut). Returns the state: "commit" is "done" once it was lost."""
    end, begin = store._end, store._begin
    state = {"commit": "lose", "begin": "ok"}

    def end_then_lose_the_answer(conn: Any, statement: str, error: Any) -> None:
        end(conn, statement, error)
        if statement == "COMMIT" and state["commit"] == "lose":
            state["commit"] = "done"
            if then_the_server:
                state["begin"] = "fail"
            raise TransientError("the connection was lost at COMMIT")

    def begin_unless_the_server_is_gone() -> Any:
        if state["begin"] == "fail":
            state["begin"] = "ok"
            raise TransientError("connection refused")
        return begin()

    monkeypatch.setattr(store, "_end", end_then_lose_the_answer)
    monkeypatch.setattr(store, "_begin", begin_unless_the_server_is_gone)
    return state


def test_a_commit_lost_on_the_way_back_is_retried_without_refusing_the_request(
    backend: tuple[str, str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The connection drops after the server committed, before it said so: the
    retry must find the row it wrote itself, not call its own request a replay."""
    _, _, open_store = backend
    store = open_store()
    cache = NonceCache(store, ttl=TTL)
    state = lose_a_commit(store, monkeypatch)
    assert cache.add("k", T0)
    assert state["commit"] == "done"  # one COMMIT's answer was lost
    assert not cache.add("k", T0)  # and it is recorded once
    assert len(cache) == 1
    store.close()


@pytest.mark.parametrize("retry_reaches", ["this worker", "another worker"])
def test_a_503_after_a_commit_it_could_not_confirm_does_not_refuse_the_retry(
    backend: tuple[str, str, Any], monkeypatch: pytest.MonkeyPatch, retry_reaches: str
) -> None:
    """The entry was committed, but the guard answered 503 ("retry later"): the
    provider's retry must be accepted, not refused as a replay."""
    _, _, open_store = backend
    store, other_store = open_store(), open_store()
    worker, other_worker = NonceCache(store, ttl=TTL), NonceCache(other_store, ttl=TTL)
    lose_a_commit(store, monkeypatch, then_the_server=True)
    with pytest.raises(SignatureError) as error:
        worker.add("k", T0)
    assert_unavailable(error)
    assert store.replay_keys() == 1  # it did commit
    if retry_reaches == "this worker":
        assert worker.add("k", T0 + timedelta(seconds=30))
    else:
        assert worker.add("another request", T0 + timedelta(seconds=1))  # the server is back
        assert other_worker.add("k", T0 + timedelta(seconds=30))
    # Once accepted, it is a replay everywhere.
    assert not worker.add("k", T0 + timedelta(seconds=31))
    assert not other_worker.add("k", T0 + timedelta(seconds=31))
    store.close()
    other_store.close()


def test_a_refusal_for_our_own_failure_is_logged_as_an_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from dlrkit.contrib._common import log_refusal

    store = dlrkit.SQLiteStore(tmp_path / "guard.db")
    store.close()
    try:
        receive(signed_query(6), NonceCache(store))
    except SignatureError as error:
        log_refusal(error)
    (record,) = caplog.records
    assert record.levelname == "ERROR" and record.exc_info is not None
    assert "503" in record.getMessage()


# -- real processes --------------------------------------------------------------------------

# A receiver: opens its own store and guard, waits for "go" on stdin, then
# receives every signed request of the file, printing "ok N" or "replayed N".
RECEIVER = OPEN_STORE + textwrap.dedent(
    """
    import json
    requests = sys.argv[3]
    cache = dlrkit.NonceCache(store)
    queries = json.loads(open(requests).read())
    print("ready", flush=True)
    sys.stdin.readline()
    for index, query in queries:
        try:
            dlrkit.parse_request(method="GET", content_type=None, query=query,
                                 secret=sys.argv[4], signature_method="sha256",
                                 nonce_cache=cache)
        except dlrkit.SignatureError as error:
            print(error.reason.value, index, flush=True)
        else:
            print("ok", index, flush=True)
    """
)


def start(script: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", script, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_processes_racing_on_one_database_accept_each_request_once(
    backend: tuple[str, str, Any], tmp_path: Path
) -> None:
    kind, target, open_store = backend
    requests = [(i, signed_query(i)) for i in range(200)]
    # Half of them were seen long ago: their expired entries are taken over,
    # which races through the update path rather than the insert.
    store = open_store()
    old = NonceCache(store, ttl=timedelta(seconds=1))
    past = datetime.now(timezone.utc) - timedelta(hours=1)
    for _, query in requests[::2]:
        fields = dict(pair.split("=", 1) for pair in query.split("&"))
        assert old.add(dlrkit.replay_key(fields["sig"], fields["timestamp"]), past)
    store.close()
    receivers = []
    for seed in range(4):  # every receiver gets every request, in its own order
        order = requests[:]
        random.Random(seed).shuffle(order)
        path = tmp_path / f"requests-{seed}.json"
        path.write_text(json.dumps(order))
        receivers.append(start(RECEIVER, kind, target, str(path), SECRET))
    for receiver in receivers:
        assert receiver.stdout.readline() == "ready\n", receiver.stderr.read()  # type: ignore[union-attr]
    for receiver in receivers:  # the start barrier: all open, then all go
        receiver.stdin.write("go\n")  # type: ignore[union-attr]
        receiver.stdin.flush()  # type: ignore[union-attr]
    answers: dict[str, list[str]] = {}
    for receiver in receivers:
        output, errors = receiver.communicate(timeout=120)
        assert receiver.returncode == 0, errors
        for line in output.splitlines():
            answer, index = line.split()
            answers.setdefault(index, []).append(answer)
    assert len(answers) == len(requests)
    for index, got in answers.items():
        assert sorted(got) == ["ok", "replayed", "replayed", "replayed"], (index, got)


# A recorder: records keys k0, k1, ... printing "ack kN" once add() returned True.
RECORDER = OPEN_STORE + textwrap.dedent(
    """
    cache = dlrkit.NonceCache(store)
    print("ready", flush=True)
    for i in range(100_000):
        if not cache.add(f"k{i}"):
            raise SystemExit(f"k{i} refused")
        print("ack", f"k{i}", flush=True)
    """
)


def test_a_process_killed_mid_insert_loses_nothing_and_double_accepts_nothing(
    backend: tuple[str, str, Any],
) -> None:
    kind, target, open_store = backend
    acknowledged: list[str] = []
    with start(RECORDER, kind, target) as recorder:
        assert recorder.stdout.readline() == "ready\n", recorder.stderr.read()  # type: ignore[union-attr]
        for line in recorder.stdout:  # type: ignore[union-attr]
            acknowledged.append(line.split()[1])
            if len(acknowledged) == 300:
                os.kill(recorder.pid, signal.SIGKILL)
                break
        recorder.wait(timeout=60)
        # Acknowledgements it wrote before it died, that were not read yet.
        rest = recorder.stdout.read()  # type: ignore[union-attr]
        acknowledged += [
            line.split()[1] for line in rest.splitlines(keepends=True) if line.endswith("\n")
        ]
    assert recorder.returncode == -signal.SIGKILL
    if kind == "sqlite":
        with sqlite3.connect(target) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    store = open_store()  # the killed process's locks are gone: this does not wait
    fresh = NonceCache(store)
    for key in acknowledged:  # nothing acknowledged was lost: each is still refused
        assert not fresh.add(key), key
    # What the process was recording when it died was committed or not, never
    # half: its key is one or the other, and every later one is new.
    count = int(acknowledged[-1][1:]) + 1
    fresh.add(f"k{count}")
    assert not fresh.add(f"k{count}")
    assert all(fresh.add(f"k{i}") for i in range(count + 1, count + 50))
    store.close()


def _add_keys_in_child(store: Any, keys: list[str], queue: Any) -> None:
    cache = NonceCache(store)
    queue.put([key for key in keys if cache.add(key)])


def test_a_store_opened_before_a_fork_works_in_every_child(
    backend: tuple[str, str, Any],
) -> None:
    """gunicorn --preload, a multiprocessing pool: the store was opened in the
    parent. Each child must open its own connection (sharing one corrupts it)."""
    _, _, open_store = backend
    store = open_store()
    cache = NonceCache(store)
    assert cache.add("parent")
    keys = [f"key-{i}" for i in range(150)]
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    children = [
        context.Process(target=_add_keys_in_child, args=(store, keys, queue)) for _ in range(3)
    ]
    for child in children:
        child.start()
    accepted = [queue.get(timeout=60) for _ in children]
    for child in children:
        child.join(timeout=60)
        assert child.exitcode == 0
    assert sorted(key for got in accepted for key in got) == sorted(keys)  # each once
    assert not cache.add("parent") and not cache.add("key-0")  # the parent's connection works
    assert cache.add("parent-after")
    store.close()


def _add_keys_and_report(
    store: Any, keys: list[str], queue: Any, at: datetime | None = None
) -> None:
    cache = NonceCache(store, ttl=TTL)
    outcome: list[bool | str] = []
    for key in keys:
        try:
            outcome.append(cache.add(key, at))
        except SignatureError as error:
            outcome.append(f"{error.http_status}: {error.__cause__}")
    queue.put(outcome)


def test_a_fork_while_another_thread_is_in_a_transaction_gives_a_working_child(
    backend: tuple[str, str, Any],
) -> None:
    """SQLite in a child forked mid-transaction believes the inherited
    connection holds the write lock for ever: the fork waits for the end of
    the other thread's transaction instead."""
    _, _, open_store = backend
    store = open_store()
    cache = NonceCache(store)
    inside = threading.Event()

    def a_request_in_another_thread() -> None:
        with store.transaction() as tx:
            tx.record_once("parent-thread", time.time() + 600, time.time(), "token")
            inside.set()
            time.sleep(0.3)

    thread = threading.Thread(target=a_request_in_another_thread)
    thread.start()
    inside.wait()
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_add_keys_and_report, args=(store, ["c1", "c2"], queue))
    child.start()  # while the other thread's transaction is open
    assert queue.get(timeout=60) == [True, True]
    child.join(timeout=60)
    thread.join()
    assert not cache.add("parent-thread") and not cache.add("c1")
    assert cache.add("parent-after")
    store.close()


def test_a_fork_inside_a_transaction_gives_a_child_that_says_so(tmp_path: Path) -> None:
    store = dlrkit.SQLiteStore(tmp_path / "forked.db", timeout=1)
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    with store.transaction():
        child = context.Process(target=_add_keys_and_report, args=(store, ["c1"], queue))
        child.start()
    (outcome,) = queue.get(timeout=60)
    child.join(timeout=60)
    assert isinstance(outcome, str) and outcome.startswith("503: this process was forked while")
    assert NonceCache(store).add("the parent is unaffected")
    store.close()


def test_threads_sharing_one_store_accept_each_request_once(
    backend: tuple[str, str, Any],
) -> None:
    _, _, open_store = backend
    store = open_store()
    cache = NonceCache(store)
    accepted: list[str] = []
    barrier = threading.Barrier(4)

    def worker() -> None:
        barrier.wait()
        accepted.extend(key for key in (f"t{i}" for i in range(100)) if cache.add(key))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(accepted) == sorted(f"t{i}" for i in range(100))
    store.close()


def test_starlette_waits_for_the_database_off_the_event_loop(tmp_path: Path) -> None:
    """An async helper that blocked on the guard's database would stall every
    other request of its worker for as long as the database is locked."""
    import asyncio

    pytest.importorskip("starlette")
    from starlette.requests import Request

    from dlrkit.contrib.starlette import receipt_from_request

    path = tmp_path / "guard.db"
    cache = NonceCache(dlrkit.SQLiteStore(path))
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/",
        "headers": [],
        "query_string": signed_query(7).encode(),
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another worker's transaction, for 0.3 s

    async def scenario() -> tuple[dlrkit.DeliveryReceipt, int]:
        ticks = 0

        async def other_requests() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        ticker = asyncio.create_task(other_requests())
        loop = asyncio.get_running_loop()
        loop.call_later(0.3, holder.execute, "ROLLBACK")
        receipt = await receipt_from_request(
            Request(scope, receive), secret=SECRET, signature_method="sha256", nonce_cache=cache
        )
        ticker.cancel()
        return receipt, ticks

    receipt, ticks = asyncio.run(scenario())
    holder.close()
    assert receipt.message_id == "0A00000000000007"
    assert ticks >= 10, ticks  # the loop ran while the guard waited


OPENER = textwrap.dedent(
    """
    import sys, time
    import dlrkit
    start = float(sys.argv[2])
    while time.time() < start:  # all at the same instant
        pass
    cache = dlrkit.NonceCache(dlrkit.SQLiteStore(sys.argv[1]))
    print(sum(cache.add(f"k{i}") for i in range(20)), flush=True)
    """
)


def test_workers_opening_a_new_sqlite_database_together_all_start(tmp_path: Path) -> None:
    """Every worker of a server starts at once, on a database file that does
    not exist yet: switching it to WAL was refused with "database is locked"."""
    import time

    for attempt in range(10):
        path = str(tmp_path / f"new-{attempt}.db")
        at = str(time.time() + 0.5)
        openers = [start(OPENER, path, at) for _ in range(4)]
        results = [(opener.communicate(timeout=60), opener.returncode) for opener in openers]
        for (_, errors), returncode in results:
            assert returncode == 0, errors
        assert sum(int(output) for (output, _), _ in results) == 20  # each key once


def test_the_guard_commits_unflushed_and_leaves_the_store_durable(
    backend: tuple[str, str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The guard's commit does not wait for the disk (the Tracker's next
    durable commit flushes it); every other transaction of the store still does."""
    from dlrkit.stores._sql import SQLTransaction

    kind, _, open_store = backend
    store = open_store()
    cache = NonceCache(store)
    seen: list[str] = []
    if kind == "sqlite":
        store._conn.set_trace_callback(seen.append)
    else:
        execute = SQLTransaction._execute

        def traced(tx: Any, sql: str, params: Any = ()) -> Any:
            seen.append(sql)
            return execute(tx, sql, params)

        monkeypatch.setattr(SQLTransaction, "_execute", traced)
    assert cache.add("k")
    if kind == "sqlite":
        assert "PRAGMA synchronous=NORMAL" in seen
        assert store._conn.execute("PRAGMA synchronous").fetchone() == (2,)  # FULL again
    else:
        assert "SET LOCAL synchronous_commit = off" in seen
        with store.transaction() as tx:
            assert tx._execute("SHOW synchronous_commit").fetchone() == ("on",)
    receipt = {"messageId": "m", "msisdn": "1", "to": "x", "status": "delivered", "err-code": "0"}
    dlrkit.Tracker(store).add(dlrkit.parse(receipt))
    store.close()


def _lock_is_free(fd: int) -> bool:
    """Whether another open file (another process, say) could take the writers' lock."""
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    fcntl.flock(fd, fcntl.LOCK_UN)
    return True


def test_the_writer_queue_is_held_until_its_outermost_exit(tmp_path: Path) -> None:
    """A connection opened inside a transaction (a forked child's first one)
    enters the queue again: its exit must not release the transaction's lock."""

    from dlrkit.stores._sqlite import _WriterQueue

    path = str(tmp_path / "queued.db")
    queue = _WriterQueue(path)
    other = os.open(path + ".dlrkit-lock", os.O_RDWR)

    def free() -> bool:
        return _lock_is_free(other)

    with queue.hold(time.monotonic() + 5):
        with queue.hold(time.monotonic() + 5):
            assert not free()
        assert not free()  # still the transaction's
    assert free()
    os.close(other)
    queue.close()


# -- the second outside review's finds ------------------------------------------------------


def test_a_forked_child_does_not_act_on_the_parents_failed_attempts(
    backend: tuple[str, str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The child of a worker with a remembered attempt must neither reuse its
    token (both would accept the retry) nor delete its entry once the parent
    accepted the retry with it (a replay would pass elsewhere)."""
    _, _, open_store = backend
    store, third_worker = open_store(), NonceCache(open_store(), ttl=TTL)
    worker = NonceCache(store, ttl=TTL)
    lose_a_commit(store, monkeypatch, then_the_server=True)
    with pytest.raises(SignatureError):
        worker.add("k", T0)
    monkeypatch.undo()
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    retry = T0 + timedelta(seconds=30)
    child = context.Process(target=_add_keys_and_report, args=(store, ["k"], queue, retry))
    child.start()
    child.join(timeout=60)
    assert queue.get(timeout=10) == [False]  # the child has no token: a replay to it
    assert worker.add("k", retry)  # the parent's own attempt: accepted, once
    child = context.Process(target=_add_keys_and_report, args=(store, ["other"], queue, retry))
    child.start()  # the child records another request ...
    child.join(timeout=60)
    assert queue.get(timeout=10) == [True]
    assert not third_worker.add("k", retry)  # ... without deleting the parent's entry
    assert third_worker.store is not None
    third_worker.store.close()  # type: ignore[attr-defined]
    store.close()


@pytest.mark.parametrize("retry_reaches", ["this worker", "another worker"])
def test_a_discard_that_failed_does_not_refuse_the_retry(
    backend: tuple[str, str, Any], monkeypatch: pytest.MonkeyPatch, retry_reaches: str
) -> None:
    """The handler failed, and so did discard (503): the provider's retry must pass."""
    _, _, open_store = backend
    store, other_store = open_store(), open_store()
    worker, other_worker = NonceCache(store, ttl=TTL), NonceCache(other_store, ttl=TTL)
    fields = {"sig": "ab12", "timestamp": str(int(T0.timestamp()))}
    key = dlrkit.replay_key(fields["sig"], fields["timestamp"])
    assert worker.add(key, T0)

    def unreachable() -> Any:
        raise TransientError("connection refused")

    monkeypatch.setattr(store, "_begin", unreachable)
    with pytest.raises(SignatureError) as error:
        worker.discard(fields)
    assert_unavailable(error)
    monkeypatch.undo()
    retry = T0 + timedelta(seconds=20)
    if retry_reaches == "this worker":
        assert worker.add(key, retry)
    else:
        assert worker.add("another request", retry)  # deletes the entry
        assert other_worker.add(key, retry)
    assert not worker.add(key, retry) and not other_worker.add(key, retry)
    store.close()
    other_store.close()


def _refused_waits(cache: NonceCache, count: int, stagger: float = 0.0) -> list[float]:
    """Seconds that *count* threads recording at once each waited for their 503."""
    waited: list[float] = []

    def request(i: int) -> None:
        started = time.monotonic()
        with pytest.raises(SignatureError):
            cache.add(f"k{i}")
        waited.append(time.monotonic() - started)

    threads = [threading.Thread(target=request, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
        time.sleep(stagger)
    for thread in threads:
        thread.join(timeout=30)
    return waited


def test_threads_sharing_a_store_each_wait_the_timeout_at_most(tmp_path: Path) -> None:
    path = str(tmp_path / "guard.db")
    dlrkit.SQLiteStore(path).close()
    holder = _wait_for_stopped_holder(path)
    try:
        cache = NonceCache(dlrkit.SQLiteStore(path, timeout=0.5))
        waited = _refused_waits(cache, 5)
        assert len(waited) == 5 and max(waited) < 1.5, waited  # not 0.5, 1.0, ... 2.5 s
    finally:
        holder.kill()
        holder.communicate()


def test_a_fork_while_threads_wait_their_turn_gives_a_working_child(tmp_path: Path) -> None:
    """Threads waiting for the writers' lock hold nothing of SQLite's: a fork
    then must not wait for them, nor give a child that cannot write."""
    path = str(tmp_path / "guard.db")
    dlrkit.SQLiteStore(path).close()
    holder = _wait_for_stopped_holder(path)
    store = dlrkit.SQLiteStore(path, timeout=3)
    cache = NonceCache(store)
    outcome: list[object] = []

    def wait_for_the_holder() -> None:
        try:
            outcome.append(cache.add("waiter"))
        except SignatureError as error:
            outcome.append(error.reason)

    waiter = threading.Thread(target=wait_for_the_holder)
    try:
        waiter.start()
        time.sleep(0.3)  # it waits for the stopped holder
        context = multiprocessing.get_context("fork")
        queue = context.Queue()
        started = time.monotonic()
        child = context.Process(target=_add_keys_and_report, args=(store, ["child"], queue, T0))
        child.start()
        assert time.monotonic() - started < 1.5  # the fork did not wait for the waiter
    finally:
        holder.kill()  # then the database is free again
        holder.communicate()
    assert queue.get(timeout=30) == [True]
    child.join(timeout=30)
    waiter.join(timeout=30)
    assert outcome == [True]
    store.close()


def test_a_postgres_store_notices_a_server_that_stops_answering(postgres_dsn: str) -> None:
    """Over TCP, only keepalives and tcp_user_timeout end a call to a frozen
    server: the store sets them, unless the DSN does."""
    from dlrkit.stores import PostgresStore

    def options(dsn: str) -> dict[str, str]:
        store = PostgresStore(dsn)
        info = store._connection().pgconn.info
        store.close()
        return {o.keyword.decode(): (o.val or b"").decode() for o in info}

    default = options(postgres_dsn)
    assert default["keepalives"] == "1" and default["keepalives_idle"] == "30"
    assert default["keepalives_interval"] == "10" and default["keepalives_count"] == "3"
    assert default["tcp_user_timeout"] == "60000"
    own = options(postgres_dsn + " keepalives_idle=7 tcp_user_timeout=5000")
    assert own["keepalives_idle"] == "7" and own["tcp_user_timeout"] == "5000"


def test_the_writer_queue_lets_go_of_a_lock_taken_for_a_writer_that_gave_up(
    tmp_path: Path,
) -> None:
    """Its thread waits for the lock in a blocking flock: when it gets it for
    a writer that timed out, it must release it at once (or every other
    process would wait), and a later writer gets it from the same thread."""
    import fcntl

    from dlrkit.stores._sqlite import _WriterQueue

    path = str(tmp_path / "queued.db")
    queue = _WriterQueue(path)
    other = os.open(path + ".dlrkit-lock", os.O_RDWR)  # another process's lock, say

    def free() -> bool:
        return _lock_is_free(other)

    fcntl.flock(other, fcntl.LOCK_EX)
    with (
        pytest.raises(sqlite3.OperationalError, match="database is locked"),
        queue.hold(time.monotonic() + 0.2),
    ):
        pass
    fcntl.flock(other, fcntl.LOCK_UN)  # the queue's thread gets it now, and lets go
    deadline = time.monotonic() + 5
    while queue._waiting:  # until its flock returned
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert free(), "the queue kept a lock nobody waits for"
    fcntl.flock(other, fcntl.LOCK_EX)
    with pytest.raises(sqlite3.OperationalError), queue.hold(time.monotonic() + 0.1):
        pass
    got: list[float] = []

    def writer() -> None:
        with queue.hold(time.monotonic() + 10):  # waits for the same thread's wait
            got.append(time.monotonic())
            assert not free()

    thread = threading.Thread(target=writer)
    thread.start()
    time.sleep(0.2)
    released = time.monotonic()
    fcntl.flock(other, fcntl.LOCK_UN)
    thread.join(timeout=10)
    assert got and got[0] - released < 0.5
    assert free()
    os.close(other)
    queue.close()


def test_the_writer_queues_thread_ends_when_idle_and_comes_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import fcntl

    from dlrkit.stores import _sqlite

    monkeypatch.setattr(_sqlite, "_IDLE_THREAD_ENDS", 0.2)
    path = str(tmp_path / "queued.db")
    queue = _sqlite._WriterQueue(path)
    other = os.open(path + ".dlrkit-lock", os.O_RDWR)
    for _ in range(2):
        fcntl.flock(other, fcntl.LOCK_EX)
        threading.Timer(0.1, fcntl.flock, (other, fcntl.LOCK_UN)).start()
        with queue.hold(time.monotonic() + 5):  # granted by the queue's thread
            thread = queue._thread
            assert thread is not None and thread.is_alive()
        thread.join(timeout=5)
        assert not thread.is_alive() and queue._thread is None  # idle: it ended
    os.close(other)
    queue.close()


def test_a_writer_outside_dlrkit_is_waited_for_the_timeout_at_most(tmp_path: Path) -> None:
    """A thread that waited for another (itself waiting in BEGIN IMMEDIATE)
    waits in BEGIN IMMEDIATE only what is left of its timeout, not all of it."""
    path = tmp_path / "guard.db"
    dlrkit.SQLiteStore(path).close()
    holder = sqlite3.connect(path, isolation_level=None)  # the sqlite3 shell, a migration
    holder.execute("BEGIN IMMEDIATE")
    cache = NonceCache(dlrkit.SQLiteStore(path, timeout=0.5))
    # The second gets the store's lock with 0.1 s of its timeout left.
    waited = _refused_waits(cache, 2, stagger=0.1)
    holder.execute("ROLLBACK")
    assert len(waited) == 2 and max(waited) < 0.8, waited  # not 0.9 (0.4 + 0.5)
    assert cache.add("after")  # the busy timeout is the store's again
    assert cache.store is not None
    cache.store.close()  # type: ignore[attr-defined]


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="reads /proc/self/fd")
def test_a_store_dropped_without_close_leaves_no_file_open(tmp_path: Path) -> None:
    import gc

    path = tmp_path / "guard.db"
    dlrkit.SQLiteStore(path).close()

    def lock_files() -> int:
        return sum(
            os.readlink(f"/proc/self/fd/{fd}").endswith(".dlrkit-lock")
            for fd in os.listdir("/proc/self/fd")
            if os.path.exists(f"/proc/self/fd/{fd}")
        )

    before = lock_files()
    for i in range(20):
        store = dlrkit.SQLiteStore(path)
        assert NonceCache(store).add(f"k{i}")
        del store
    gc.collect()
    assert lock_files() == before


FORK_WHILE_THREADS_USE_THE_STORE = textwrap.dedent(
    """
    import faulthandler, os, sys, threading
    import dlrkit
    path, mode, forks = sys.argv[1], sys.argv[2], int(sys.argv[3])
    store = dlrkit.SQLiteStore(path, timeout=2)
    cache = dlrkit.NonceCache(store)
    stop = False

    def busy(j):  # the process's other request threads, sharing the store
        i = 0
        while not stop:
            i += 1
            if mode == "read":
                store.read("nope")
                store.pending(0.0)
            else:
                cache.add(f"p{j}-{i}")

    threads = [threading.Thread(target=busy, args=(j,)) for j in range(2)]
    for thread in threads:
        thread.start()
    failed = 0
    for i in range(forks):
        pid = os.fork()
        if pid == 0:
            faulthandler.dump_traceback_later(5, exit=True)  # a hung child exits 1
            os._exit(0 if cache.add(f"child-{i}") else 2)
        failed += os.waitpid(pid, 0)[1] != 0
    stop = True
    for thread in threads:
        thread.join()
    print(failed)
    """
)


@pytest.mark.parametrize("mode", ["read", "write"])
def test_children_forked_while_threads_use_the_store_never_hang(tmp_path: Path, mode: str) -> None:
    """A call into SQLite at the fork can leave one of its process-wide mutexes
    held in the child (a few children in a hundred hung for ever). It is a
    race: this catches it most runs, never passes a hang off as an answer."""
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            FORK_WHILE_THREADS_USE_THE_STORE,
            str(tmp_path / "g.db"),
            mode,
            "60",
        ],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "0", done.stdout + done.stderr


def test_a_thread_that_cannot_start_leaves_the_store_working(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import fcntl

    path = tmp_path / "guard.db"
    dlrkit.SQLiteStore(path).close()
    store = dlrkit.SQLiteStore(path, timeout=0.3)
    cache = NonceCache(store)
    other = os.open(str(path) + ".dlrkit-lock", os.O_RDWR)  # another worker writes
    fcntl.flock(other, fcntl.LOCK_EX)
    real_start = threading.Thread.start

    def cannot_start(thread: threading.Thread) -> None:
        monkeypatch.setattr(threading.Thread, "start", real_start)  # once
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(threading.Thread, "start", cannot_start)
    with pytest.raises(SignatureError) as error:
        cache.add("first")
    assert_unavailable(error)
    fcntl.flock(other, fcntl.LOCK_UN)
    os.close(other)
    assert cache.add("first")  # the provider's retry
    store.close()
