"""The shared replay guard: the latency it adds, and the webhook's throughput with it.

1. Added latency (``--latency-only`` runs just this). Two processes record
   keys into one shared guard (``NonceCache(SQLiteStore)``, WAL,
   ``synchronous=FULL``), each at --rate requests a second arriving at
   random (500 each by default: the 1,000 a second that part 2 measures
   for two workers), so that each sometimes waits for the other's commit as
   two workers do; each call is timed. Then again as fast as they can, the
   worst case. Peer, in the same processes and loop: the in-memory
   ``NonceCache``. Reported: p50 and p99 per call, and what the shared guard
   adds at p99 (target: at most 1 ms, at the paced rate).

2. End to end. gunicorn with two uvicorn workers serves one of the apps of
   ``webhook_apps.py``: ``handwritten`` (the peer: no dlrkit, fields read
   with the standard library, one SQLite insert and commit a request),
   ``dlrkit-memory`` (the FastAPI recipe with a ``Tracker`` on an
   ``SQLiteStore``, replay guard in memory) and ``dlrkit-shared`` (the same,
   guard on the shared store: the recipe as printed). A client in this
   process sends --requests unique signed receipts (the three wire forms in
   turn), 32 at a time, a connection each, plus --duplicates exact copies of
   some of them, mixed in; it counts the copies accepted twice. Reported:
   receipts/s, p50 and p99 latency, and the ratio of ``dlrkit-shared`` to
   ``handwritten`` (target: at least 0.5x).

Every figure is the median of --runs runs, with its spread (lowest to
highest); the apps alternate within each run.

Run:  python benchmarks/bench_replay.py [--runs 5] [--requests 6000] [--duplicates 600]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from dlrkit.testing import make_dlr_payload

HERE = Path(__file__).resolve().parent
SECRET = "bench-replay-secret"
PATH = "/webhooks/delivery-receipt"
APPS = ("handwritten", "dlrkit-memory", "dlrkit-shared")
CONCURRENCY = 32
HEADERS = "Host: bench\r\nConnection: close\r\n"

RECORDER = """
import random, sys, time
import dlrkit
path, count, name, rate = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
shared = dlrkit.NonceCache(dlrkit.SQLiteStore(path))
memory = dlrkit.NonceCache()
arrivals = random.Random(name)
print("ready", flush=True)
sys.stdin.readline()
timings = ([], [])
clock = time.perf_counter
due = clock()
for i in range(count):
    if rate:  # requests arrive at random (Poisson) at this rate
        due += arrivals.expovariate(rate)
        time.sleep(max(0.0, due - clock()))
    key = f"{name}-{i}"
    start = clock()
    assert shared.add(key)
    middle = clock()
    assert memory.add(key)
    timings[0].append(middle - start)
    timings[1].append(clock() - middle)
print(repr(timings), flush=True)
"""


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def spread(values: list[float], scale: float = 1.0, digits: int = 2) -> str:
    low, mid, high = min(values), statistics.median(values), max(values)
    return f"{mid * scale:,.{digits}f} ({low * scale:,.{digits}f}-{high * scale:,.{digits}f})"


# -- 1. the latency the shared guard adds -----------------------------------------------


def latency_run(count: int, rate: float) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "guard.db")
        recorders = [
            subprocess.Popen(
                [sys.executable, "-c", RECORDER, path, str(count), f"w{n}", str(rate)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            for n in range(2)
        ]
        for recorder in recorders:
            assert recorder.stdout is not None and recorder.stdout.readline() == "ready\n"
        for recorder in recorders:
            assert recorder.stdin is not None
            recorder.stdin.write("go\n")
            recorder.stdin.flush()
        shared: list[float] = []
        memory: list[float] = []
        for recorder in recorders:
            output, _ = recorder.communicate()
            mine, theirs = eval(output)  # our own child's repr of two lists of floats
            shared += mine
            memory += theirs
    return {
        "shared_p50": percentile(shared, 0.50),
        "shared_p99": percentile(shared, 0.99),
        "memory_p50": percentile(memory, 0.50),
        "memory_p99": percentile(memory, 0.99),
        "added_p99": percentile(shared, 0.99) - percentile(memory, 0.99),
    }


# -- 2. end to end -----------------------------------------------------------------------


def start_server(kind: str, tmp: str) -> tuple[subprocess.Popen[bytes], int]:
    env = {
        **os.environ,
        "BENCH_APP": kind,
        "BENCH_DB": os.path.join(tmp, "state.db"),
        "DLR_SIGNATURE_SECRET": SECRET,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")])),
    }
    log = os.path.join(tmp, "server.log")
    with open(log, "w") as log_file:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--workers",
                "2",
                "--worker-class",
                "uvicorn.workers.UvicornWorker",
                "--bind",
                "127.0.0.1:0",
                "--log-level",
                "info",
                "webhook_apps:app",
            ],
            env=env,
            stderr=log_file,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        text = Path(log).read_text()
        port = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", text)
        if port and text.count("Application startup complete") >= 2:
            return server, int(port.group(1))
        if server.poll() is not None:
            raise RuntimeError(text)
        time.sleep(0.05)
    server.kill()
    raise RuntimeError("the server did not start:\n" + Path(log).read_text())


def wire_request(index: int) -> bytes:
    encoding = ("query", "form", "json")[index % 3]
    payload = make_dlr_payload(encoding, secret=SECRET, message_id=f"0B{index:014X}")  # type: ignore[arg-type]
    if encoding == "query":
        return f"GET {PATH}?{payload.decode()} HTTP/1.1\r\n{HEADERS}\r\n".encode()
    kind = "application/json" if encoding == "json" else "application/x-www-form-urlencoded"
    head = (
        f"POST {PATH} HTTP/1.1\r\n{HEADERS}Content-Type: {kind}\r\n"
        f"Content-Length: {len(payload)}\r\n\r\n"
    )
    return head.encode() + payload


async def load(port: int, requests: list[tuple[int, bytes]]) -> dict[str, Any]:
    """Send *requests*, CONCURRENCY at a time, each on a connection of its own.

    A connection a request, as webhooks arrive from many senders: the
    server's workers share them out as they accept them. (Over a few
    keep-alive connections, one worker can take all of them for a whole
    run, and the figure measures one worker.)
    """
    queue = list(reversed(requests))
    statuses: dict[int, list[int]] = {}
    latencies: list[float] = []

    async def sender() -> None:
        while queue:
            index, data = queue.pop()
            start = time.perf_counter()
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            try:
                writer.write(data)
                answer = await reader.read()  # the server closes: "Connection: close"
            finally:
                writer.close()
            latencies.append(time.perf_counter() - start)
            statuses.setdefault(index, []).append(int(answer.split(b" ", 2)[1]))

    start = time.perf_counter()
    await asyncio.gather(*(sender() for _ in range(CONCURRENCY)))
    return {"seconds": time.perf_counter() - start, "statuses": statuses, "latencies": latencies}


def end_to_end_run(kind: str, count: int, duplicates: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        server, port = start_server(kind, tmp)
        try:
            warm = [(-1 - i, wire_request(10_000_000 + i)) for i in range(200)]
            asyncio.run(load(port, warm))
            requests = [(i, wire_request(i)) for i in range(count)]
            copies = random.Random(count).sample(requests, duplicates)
            mixed = requests + copies
            random.Random(duplicates).shuffle(mixed)
            result = asyncio.run(load(port, mixed))
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
    statuses: dict[int, list[int]] = result["statuses"]
    accepted = sum(1 for got in statuses.values() for status in got if status == 204)
    errors = sum(1 for got in statuses.values() for status in got if status >= 500)
    twice = sum(1 for got in statuses.values() if got.count(204) > 1)
    lost = sum(1 for got in statuses.values() if 204 not in got)
    return {
        "per_second": accepted / result["seconds"],
        "p50": percentile(result["latencies"], 0.50),
        "p99": percentile(result["latencies"], 0.99),
        "accepted_twice": twice,
        "never_accepted": lost,
        "5xx": errors,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--latency-calls", type=int, default=5000)
    parser.add_argument("--rate", type=float, default=500, help="each process, for 1.")
    parser.add_argument("--requests", type=int, default=6000)
    parser.add_argument("--duplicates", type=int, default=600)
    parser.add_argument("--latency-only", action="store_true")
    args = parser.parse_args()

    for rate in (args.rate, 0):
        pace = f"{rate:,.0f} requests/s each" if rate else "as fast as they can (saturated)"
        calls = f"2 processes x {args.latency_calls:,} calls"
        print(f"1. added latency: {calls}, {pace}, {args.runs} runs")
        runs = [latency_run(args.latency_calls, rate) for _ in range(args.runs)]
        for name in ("shared_p50", "shared_p99", "memory_p50", "memory_p99", "added_p99"):
            print(f"   {name:11} {spread([r[name] for r in runs], 1000, 3)} ms")
        added = statistics.median(r["added_p99"] for r in runs) * 1000
        if rate:
            verdict = "met" if added <= 1 else "NOT met"
            print(f"   target: adds <= 1 ms at p99: {verdict} ({added:.3f} ms)")
    if args.latency_only:
        return

    print(
        f"\n2. end to end: gunicorn, 2 uvicorn workers, {args.requests:,} signed receipts"
        f" + {args.duplicates} duplicates, concurrency {CONCURRENCY}, {args.runs} runs"
    )
    results: dict[str, list[dict[str, float]]] = {kind: [] for kind in APPS}
    for run in range(args.runs):
        order = APPS[run % 3 :] + APPS[: run % 3]  # each app goes first once in three
        for kind in order:
            results[kind].append(end_to_end_run(kind, args.requests, args.duplicates))
        print(
            f"   run {run + 1}: "
            + json.dumps({k: round(v[-1]["per_second"]) for k, v in results.items()})
        )
    for kind in APPS:
        got = results[kind]
        print(
            f"   {kind:14} {spread([r['per_second'] for r in got], 1, 0)} receipts/s,"
            f" p50 {spread([r['p50'] for r in got], 1000, 1)} ms,"
            f" p99 {spread([r['p99'] for r in got], 1000, 1)} ms,"
            f" duplicates accepted twice {[int(r['accepted_twice']) for r in got]},"
            f" never accepted {[int(r['never_accepted']) for r in got]},"
            f" 5xx {[int(r['5xx']) for r in got]}"
        )
    ratios = [
        shared["per_second"] / peer["per_second"]
        for shared, peer in zip(results["dlrkit-shared"], results["handwritten"], strict=True)
    ]
    print(f"   dlrkit-shared / handwritten: {spread(ratios)}x (target >= 0.5x)")


if __name__ == "__main__":
    main()
