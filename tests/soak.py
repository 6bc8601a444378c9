"""A soak of the SQL stores: the whole mix of a busy deployment at once.

Separate processes, each with its own store:

- **writers** (3): every message has 3 parts and writer *w* gets part *w*'s
  receipts (an interim one and a final one), shuffled, in batches of 1 to 40
  through ``Tracker.add_many`` (every fourth batch through ``add``, one by
  one); a batch is acknowledged (written to the writer's log) only once the
  call returned;
- **maintenance**: ``expire_stale`` and ``prune`` in a loop;
- **start-up**: opens a new store (the schema exists), reads, closes, again;
- **registrar**: ``expect`` for messages whose receipts are already flowing
  (so some arrive before it, as orphans);
- on PostgreSQL, this process **kills** a random one of their connections
  (``pg_terminate_backend``) every *kill_every* seconds.

The messages: B was sent now and registered first; A was sent 100 days
ago and is registered during the run (``expire_stale`` works on the very
messages the writers write to); E was sent and finally failed 100 days ago
(``prune`` deletes the very messages the writers write to, unless a receipt
touched them first); D is sent now and registered during the run; C never
is (orphans only). Checked at the end: no process raised; every
acknowledged receipt of B and D is applied; each A and E message is gone
whole or holds what the rules say; and the part index matches the messages
exactly.

Used by tests/test_store_soak.py (a few seconds) and benchmarks/soak_stores.py
(minutes): ``run_soak(kind, target, scale=...)``.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import dlrkit

from .pg_server import with_options

ROOT = Path(__file__).resolve().parent.parent
PARTS = WRITERS = 3
OLD = datetime.now(timezone.utc) - timedelta(days=100)
STAMP = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)


def sizes(scale: int) -> dict[str, int]:
    """Messages per group for a scale."""
    return {"A": 50 * scale, "B": 100 * scale, "C": 10 * scale, "D": 50 * scale, "E": 50 * scale}


def part_id(group: str, index: int, part: int) -> str:
    return f"{group}{index:06d}P{part}"


def key_of(group: str, index: int) -> str:
    return part_id(group, index, 0)


def send_response(group: str, index: int) -> dlrkit.SendResponse:
    return dlrkit.parse_send_response(
        {
            "message-count": str(PARTS),
            "messages": [
                {"message-id": part_id(group, index, p), "status": "0", "to": "447700900000"}
                for p in range(PARTS)
            ],
        }
    )


def receipt(mid: str, final: bool, status: str = "delivered") -> dlrkit.DeliveryReceipt:
    stamp = (OLD if status == "failed" else STAMP) + timedelta(minutes=1 if final else 0)
    return dlrkit.parse(
        {
            "messageId": mid,
            "msisdn": "447700900000",
            "to": "Acme",
            "network-code": "23410",
            "price": "0.03330000",
            "status": status if final else "accepted",
            "err-code": "0" if status == "delivered" else "6",
            "message-timestamp": f"{stamp:%Y-%m-%d %H:%M:%S}",
        }
    )


def writer_receipts(writer: int, scale: int) -> list[dlrkit.DeliveryReceipt]:
    """Writer *writer*'s receipts, shuffled (the same in every process)."""
    receipts = [
        receipt(part_id(group, i, writer), final)
        for group, count in sizes(scale).items()
        for i in range(count)
        for final in (False, True)
    ]
    random.Random(writer).shuffle(receipts)
    return receipts


def open_store(kind: str, target: str, role: str) -> Any:
    if kind == "sqlite":
        return dlrkit.SQLiteStore(target, synchronous="NORMAL")
    from dlrkit.stores import PostgresStore

    return PostgresStore(with_options(target, application_name=f"soak-{role}"))


# -- the roles, each run in a process of its own ------------------------------------------


# Pruned old messages turn their later receipts into orphans: at a large
# scale, more than the default bound. No orphan may be evicted here, so that
# every acknowledged receipt of D can be checked (run_soak checks the count).
MAX_ORPHANS = 10_000_000


def run_writer(kind: str, target: str, writer: int, scale: int, log: str) -> None:
    store = open_store(kind, target, f"writer-{writer}")
    tracker = dlrkit.Tracker(store, max_orphans=MAX_ORPHANS)
    receipts = writer_receipts(writer, scale)
    rng = random.Random(100 + writer)
    done = 0
    with open(log, "w") as acks:
        while done < len(receipts):
            batch = receipts[done : done + rng.randint(1, 40)]
            if rng.random() < 0.25:
                for r in batch:
                    tracker.add(r)
            else:
                tracker.add_many(batch)
            done += len(batch)
            acks.write(f"{done}\n")  # acknowledged: the call returned
            acks.flush()
    tracker.store.close()


def run_maintenance(kind: str, target: str, stop: str, log: str) -> None:
    tracker = dlrkit.Tracker(open_store(kind, target, "maintenance"))
    runs = expired = pruned = 0
    while not os.path.exists(stop):
        expired += len(tracker.expire_stale(timedelta(hours=72)))
        pruned += tracker.prune(timedelta(days=30))
        runs += 1
    Path(log).write_text(json.dumps({"runs": runs, "expired": expired, "pruned": pruned}))
    tracker.store.close()


def run_startup(kind: str, target: str, stop: str, log: str) -> None:
    opened = 0
    while not os.path.exists(stop):
        store = open_store(kind, target, "startup")
        dlrkit.Tracker(store).get(key_of("B", opened % 10))
        store.close()
        opened += 1
    Path(log).write_text(json.dumps({"opened": opened}))


def run_registrar(kind: str, target: str, scale: int, pause: float) -> None:
    tracker = dlrkit.Tracker(open_store(kind, target, "registrar"))
    for i in range(max(sizes(scale)["A"], sizes(scale)["D"])):
        if i < sizes(scale)["A"]:
            tracker.expect(send_response("A", i), now=OLD)
        if i < sizes(scale)["D"]:
            tracker.expect(send_response("D", i))
        time.sleep(pause)
    tracker.store.close()


ROLES = {
    "writer": lambda kind, target, writer, scale, log: run_writer(
        kind, target, int(writer), int(scale), log
    ),
    "maintenance": run_maintenance,
    "startup": run_startup,
    "registrar": lambda kind, target, scale, pause: run_registrar(
        kind, target, int(scale), float(pause)
    ),
}


# -- the conductor -------------------------------------------------------------------------


def spawn(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.soak", *args],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


@contextmanager
def killer(kind: str, target: str, every: float | None) -> Iterator[list[int]]:
    """Kill a random soak connection every *every* seconds, in a thread."""
    kills: list[int] = []
    if kind != "postgres" or not every:
        yield kills
        return
    import psycopg

    stop = threading.Event()

    def run() -> None:
        rng = random.Random(7)
        with psycopg.connect(target, autocommit=True) as conn:
            while not stop.wait(every):
                pids = [
                    pid
                    for (pid,) in conn.execute(
                        "SELECT pid FROM pg_stat_activity WHERE application_name LIKE 'soak-%'"
                    )
                ]
                if pids:
                    conn.execute("SELECT pg_terminate_backend(%s)", (rng.choice(pids),))
                    kills.append(1)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield kills
    finally:
        stop.set()
        thread.join(30)


def run_soak(
    kind: str, target: str, *, scale: int = 1, kill_every: float | None = 0.4
) -> dict[str, Any]:
    """Run the mix once; return what happened, raise AssertionError on any loss or error."""
    groups = sizes(scale)
    setup = dlrkit.Tracker(open_store(kind, target, "setup"))
    try:
        return _run_soak(kind, target, setup, groups, scale, kill_every)
    finally:
        setup.store.close()


def _run_soak(
    kind: str,
    target: str,
    setup: dlrkit.Tracker,
    groups: dict[str, int],
    scale: int,
    kill_every: float | None,
) -> dict[str, Any]:
    for i in range(groups["B"]):
        setup.expect(send_response("B", i))
    for i in range(groups["E"]):
        setup.expect(send_response("E", i), now=OLD)
        failed = [receipt(part_id("E", i, p), True, "failed") for p in range(PARTS)]
        setup.add_many(failed, now=OLD)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp, killer(kind, target, kill_every) as kills:
        stop = os.path.join(tmp, "stop")
        logs = {name: os.path.join(tmp, name) for name in ("maintenance", "startup")}
        writer_logs = [os.path.join(tmp, f"writer-{w}") for w in range(WRITERS)]
        workers = [
            spawn("writer", kind, target, str(w), str(scale), writer_logs[w])
            for w in range(WRITERS)
        ]
        workers.append(spawn("registrar", kind, target, str(scale), "0.02"))
        loops = [
            spawn("maintenance", kind, target, stop, logs["maintenance"]),
            spawn("startup", kind, target, stop, logs["startup"]),
        ]
        errors = [proc.communicate(timeout=600)[1] for proc in workers]
        Path(stop).touch()
        errors += [proc.communicate(timeout=600)[1] for proc in loops]
        elapsed = time.perf_counter() - started
        failed = [
            f"{' '.join(map(str, proc.args[3:5]))}: exit {proc.returncode}\n{error}"
            for proc, error in zip(workers + loops, errors, strict=True)
            # psycopg logs (does not raise) "error ignored terminating Pipeline"
            # when a connection dies under executemany: only tracebacks count.
            if proc.returncode != 0 or "Traceback" in error
        ]
        assert not failed, "\n".join(failed)
        acknowledged = [
            int(Path(log).read_text().split()[-1]) if Path(log).read_text() else 0
            for log in writer_logs
        ]
        summary: dict[str, Any] = {
            **json.loads(Path(logs["maintenance"]).read_text()),
            **json.loads(Path(logs["startup"]).read_text()),
        }
    summary.update(seconds=round(elapsed, 2), killed=len(kills))
    receipts = [writer_receipts(w, scale) for w in range(WRITERS)]
    summary["receipts"] = sum(acknowledged)
    assert acknowledged == [len(r) for r in receipts], (acknowledged, summary)
    assert setup.evicted_orphans == 0, summary
    check(setup, groups)
    check_index(kind, target)
    return summary


def check(tracker: dlrkit.Tracker, groups: dict[str, int]) -> None:
    """Every acknowledged receipt is applied (each part's final receipt wins)."""
    for group in "BD":
        for i in range(groups[group]):
            state = tracker.get(key_of(group, i))
            assert state is not None, key_of(group, i)
            for p in range(PARTS):
                mid = part_id(group, i, p)
                assert state.parts[mid] == receipt(mid, True), (mid, state)
    for i in range(groups["A"]):
        state = tracker.get(key_of("A", i))
        if state is None:
            continue  # pruned, whole (check_index checks the parts went too)
        for p in range(PARTS):
            mid = part_id("A", i, p)
            assert state.parts[mid] == receipt(mid, True) or mid in state.expired_parts, state
    for i in range(groups["E"]):
        state = tracker.get(key_of("E", i))
        if state is not None:  # else pruned, whole; a failure beats a delivery
            assert [state.parts[part_id("E", i, p)] for p in range(PARTS)] == [
                receipt(part_id("E", i, p), True, "failed") for p in range(PARTS)
            ], state


def check_index(kind: str, target: str) -> None:
    """Each message's parts are indexed to it, and nothing else is indexed."""
    if kind == "sqlite":
        import sqlite3

        conn: Any = sqlite3.connect(target)
    else:
        import psycopg

        conn = psycopg.connect(target)
    try:
        index = dict(conn.execute("SELECT message_id, key FROM dlrkit_parts").fetchall())
        indexed = {}
        for key, text in conn.execute("SELECT key, record FROM dlrkit_messages"):
            for mid in dlrkit.stores.MessageRecord.from_text(text).parts:
                assert index.get(mid) == key, f"part {mid} of {key} is not indexed to it"
                indexed[mid] = key
        assert index == indexed, "parts indexed to no message"
    finally:
        conn.close()


if __name__ == "__main__":
    ROLES[sys.argv[1]](*sys.argv[2:])
