"""Tracker throughput: part-receipts per second in memory, SQLite and PostgreSQL.

Every message has three parts; each part gets an interim receipt and a final
one, in a shuffled order. For the SQL stores, 1 and 3 writer processes share
the work (each process opens its own store), timed from a start barrier to the
last acknowledgement. SQLite runs with its default synchronous=FULL (an fsync
per commit). PostgreSQL is a throwaway local cluster with default settings;
it is skipped when no server can be started.

The in-memory figure is the median of --rounds rounds, each a fresh tracker,
alternating with the same rounds through a hand-written peer (a dict and a lock,
last receipt wins: what the Tracker replaces), so the ratio is independent of
the machine.

Run:  python benchmarks/bench_tracker.py [--messages 3000] [--sql-messages 300] [--rounds 5]
      [--memory-only]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dlrkit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.pg_server import PostgresUnavailableError, throwaway_postgres  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import timed_writers  # noqa: E402

TARGET_MEMORY = 200_000
PARTS = 3

WRITER = """
import sys
import dlrkit
bench_dir, kind, target = sys.argv[1:4]
first, step, messages = map(int, sys.argv[4:])
sys.path.insert(0, bench_dir)
from bench_tracker import receipts_of
if kind == "sqlite":
    store = dlrkit.SQLiteStore(target)
else:
    from dlrkit.stores import PostgresStore
    store = PostgresStore(target)
tracker = dlrkit.Tracker(store)
receipts = [r for m in range(first, messages, step) for r in receipts_of(m)]
print("ready", flush=True)
sys.stdin.readline()
for r in receipts:
    tracker.add(r)
print(len(receipts), flush=True)
"""


def send_response(m: int) -> dlrkit.SendResponse:
    return dlrkit.parse_send_response(
        {
            "message-count": str(PARTS),
            "messages": [
                {"message-id": f"M{m}P{p}", "status": "0", "to": "447700900000"}
                for p in range(PARTS)
            ],
        }
    )


def receipts_of(m: int) -> list[dlrkit.DeliveryReceipt]:
    """Message *m*'s receipts: for each part an interim one, then a final one."""
    return [
        dlrkit.parse(
            {
                "msisdn": "447700900000",
                "to": "Acme",
                "network-code": "23410",
                "messageId": f"M{m}P{p}",
                "price": "0.03330000",
                "status": status,
                "scts": f"2611231{minute}00",
                "err-code": "0",
                "api-key": "abcd1234",
                "message-timestamp": f"2026-11-23 1{minute}:00:00",
            }
        )
        for p in range(PARTS)
        for minute, status in (("0", "accepted"), ("1", "delivered"))
    ]


class HandWrittenTracker:
    """The peer: the aggregation a team writes by hand, with none of the rules.

    A lock, a part -> message index, the last receipt a part got wins (so an
    interim receipt can overwrite a final one, and arrival order decides), and
    a copy of the message's parts back. No whole status, no orphans, no price.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.message_of: dict[str, dict[str, dlrkit.DeliveryReceipt | None]] = {}

    def expect(self, response: dlrkit.SendResponse) -> None:
        parts: dict[str, dlrkit.DeliveryReceipt | None] = dict.fromkeys(response.message_ids)
        for mid in parts:
            self.message_of[mid] = parts

    def add(self, receipt: dlrkit.DeliveryReceipt) -> dict[str, Any] | None:
        with self.lock:
            parts = self.message_of.get(receipt.message_id)
            if parts is None:
                return None
            parts[receipt.message_id] = receipt
            return dict(parts)


def memory(messages: int, tracker_class: Callable[[], Any] = dlrkit.Tracker) -> float:
    """One round: a fresh tracker, every receipt added once, in a shuffled order."""
    tracker = tracker_class()
    receipts = []
    for m in range(messages):
        tracker.expect(send_response(m))
        receipts += receipts_of(m)
    random.Random(1).shuffle(receipts)
    add = tracker.add
    start = time.perf_counter()
    for receipt in receipts:
        add(receipt)
    return len(receipts) / (time.perf_counter() - start)


def processes(kind: str, target: str, store: Any, messages: int, writers: int) -> float:
    tracker = dlrkit.Tracker(store)
    for m in range(messages):
        tracker.expect(send_response(m))
    here = str(Path(__file__).parent)
    total, elapsed = timed_writers(
        WRITER, [[here, kind, target, str(w), str(writers), str(messages)] for w in range(writers)]
    )
    complete = sum(1 for m in range(messages) if tracker.get(f"M{m}P0").is_complete)  # type: ignore[union-attr]
    assert complete == messages, f"only {complete} of {messages} messages complete"
    return total / elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--sql-messages", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5, help="in-memory rounds (the median)")
    parser.add_argument("--memory-only", action="store_true", help="skip SQLite and PostgreSQL")
    args = parser.parse_args()
    ours: list[float] = []
    peer: list[float] = []
    for _ in range(args.rounds):  # alternating, so that both see the same machine
        ours.append(memory(args.messages))
        peer.append(memory(args.messages, HandWrittenTracker))
    rate, peer_rate = statistics.median(ours), statistics.median(peer)
    ratios = [p / o for o, p in zip(ours, peer, strict=True)]  # each round's time ratio
    flag = "ok" if rate >= TARGET_MEMORY else "MISS"
    print(f"dlrkit {dlrkit.__version__}: part-receipts per second ({PARTS} parts a message)")
    print(
        f"  memory, 1 thread         {rate:>10,.0f}/s  (target >= {TARGET_MEMORY:,}/s) {flag}"
        f"  median of {args.rounds}, {min(ours):,.0f} to {max(ours):,.0f}"
    )
    print(
        f"  hand-written peer        {peer_rate:>10,.0f}/s  (dlrkit takes"
        f" {statistics.median(ratios):.2f}x its time per receipt, each round's own ratio,"
        f" {min(ratios):.2f}-{max(ratios):.2f}; target <= 2.2x)"
    )
    if args.memory_only:
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        for writers in (1, 3):
            path = str(Path(tmp) / f"bench-{writers}.db")
            store = dlrkit.SQLiteStore(path)
            rate = processes("sqlite", path, store, args.sql_messages, writers)
            store.close()
            print(f"  SQLite, {writers} writer process(es)  {rate:>10,.0f}/s")
    try:
        with throwaway_postgres() as dsn:
            from dlrkit.stores import PostgresStore

            for writers in (1, 3):
                store = PostgresStore(dsn)
                store._conn.execute("TRUNCATE dlrkit_messages, dlrkit_parts, dlrkit_orphans")
                rate = processes("postgres", dsn, store, args.sql_messages, writers)
                store.close()
                print(f"  PostgreSQL, {writers} writer process(es) {rate:>10,.0f}/s")
    except PostgresUnavailableError as why:
        print(f"  PostgreSQL: skipped ({why})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
