"""Stores under real concurrency: separate writer processes, and a writer killed with SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable
from typing import Any

import pytest

from dlrkit import Tracker, parse_send_response

from .conftest import OPEN_STORE

MESSAGES, PARTS, WRITERS = 150, 3, 3

# A writer: opens its own store and adds the receipts of the parts given on
# stdin, printing "ack <part>" once add() has returned (the receipt is stored).
WRITER = OPEN_STORE + textwrap.dedent(
    """
    tracker = dlrkit.Tracker(store)
    print("ready", flush=True)
    for line in sys.stdin:
        mid = line.strip()
        receipt = dlrkit.parse({"messageId": mid, "msisdn": "447700900000", "to": "x",
                                "status": "delivered", "err-code": "0", "price": "0.01"})
        if tracker.add(receipt) is None:
            raise SystemExit(f"part {mid} unknown")
        print("ack", mid, flush=True)
    """
)


def part_ids(message: int) -> list[str]:
    return [f"M{message:03d}P{part}" for part in range(PARTS)]


def register(store: Any) -> Tracker:
    tracker = Tracker(store)
    for m in range(MESSAGES):
        tracker.expect(
            parse_send_response(
                {
                    "message-count": str(PARTS),
                    "messages": [
                        {"message-id": mid, "status": "0", "to": "447700900000"}
                        for mid in part_ids(m)
                    ],
                }
            )
        )
    return tracker


def start_writer(kind: str, target: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, kind, target],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_concurrent_writers_lose_no_update(backend: tuple[str, str, Any]) -> None:
    kind, target, open_store = backend
    store = open_store()
    tracker = register(store)
    # Each writer gets one part of every message: all writers contend on every message.
    writers = [start_writer(kind, target) for _ in range(WRITERS)]
    for writer in writers:  # a start barrier: every writer has its store open
        assert writer.stdout.readline() == "ready\n"  # type: ignore[union-attr]
    for part, writer in enumerate(writers):
        lines = "".join(f"{part_ids(m)[part]}\n" for m in range(MESSAGES))
        writer.stdin.write(lines)  # type: ignore[union-attr]
        writer.stdin.close()  # type: ignore[union-attr]
    for writer in writers:
        with writer:  # closes the pipes and waits
            writer.stdout.read()  # type: ignore[union-attr]
            errors = writer.stderr.read()  # type: ignore[union-attr]
        assert writer.returncode == 0, errors
    for m in range(MESSAGES):
        state = tracker.get(part_ids(m)[0])
        assert state is not None
        assert state.is_complete and state.status.value == "delivered", state
    store.close()


def test_a_killed_writer_loses_nothing_it_acknowledged(backend: tuple[str, str, Any]) -> None:
    kind, target, open_store = backend
    store = open_store()
    tracker = register(store)
    every_part = [mid for m in range(MESSAGES) for mid in part_ids(m)]
    acknowledged = []
    with start_writer(kind, target) as writer:
        writer.stdin.write("".join(f"{mid}\n" for mid in every_part))  # type: ignore[union-attr]
        writer.stdin.flush()  # type: ignore[union-attr]
        assert writer.stdout.readline() == "ready\n"  # type: ignore[union-attr]
        for line in writer.stdout:  # type: ignore[union-attr]
            acknowledged.append(line.split()[1])
            if len(acknowledged) == len(every_part) // 2:
                os.kill(writer.pid, signal.SIGKILL)
                break
        writer.wait(timeout=60)
    assert writer.returncode == -signal.SIGKILL
    fresh = Tracker(open_store())
    for mid in acknowledged:
        state = fresh.get(f"{mid[:4]}P0")
        assert state is not None and state.parts[mid] is not None, mid
    if kind == "sqlite":
        import sqlite3

        with sqlite3.connect(target) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    store.close()
    fresh.store.close()
    del tracker


def lock_and_load(tx: Any, part: str) -> Any:
    """What expect and expire_stale do: lock the parts, then load the message."""
    tx.lock([part])
    return tx.load(tx.key_for(part))


def load_for_part(tx: Any, part: str) -> Any:
    """What add does, in one step."""
    return tx.load_for_part(part)


@pytest.mark.parametrize("load", [lock_and_load, load_for_part])
def test_a_transaction_holds_off_other_writers_of_the_message(
    backend: tuple[str, str, Any], load: Callable[[Any, str], Any]
) -> None:
    """The lock that makes read-modify-write safe, shown directly: a second
    connection's transaction on another part of the same message waits for the
    first to end."""
    _, _, open_store = backend
    first, second = open_store(), open_store()
    register(first)
    events: list[str] = []

    def other_writer() -> None:
        with second.transaction() as tx:
            load(tx, "M000P1")
            events.append("second")

    thread = threading.Thread(target=other_writer)
    with first.transaction() as tx:
        assert load(tx, "M000P0") is not None
        thread.start()
        thread.join(0.5)
        assert thread.is_alive(), "the second transaction did not wait"
        events.append("first")
    thread.join(30)
    assert events == ["first", "second"]
    first.close()
    second.close()
