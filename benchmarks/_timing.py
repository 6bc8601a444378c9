"""Timing shared by the benchmarks: fair to both sides on a shared machine."""

from __future__ import annotations

import subprocess
import sys
import time
import timeit
from collections.abc import Callable, Sequence


def best_per_call(
    funcs: tuple[Callable[[], object], ...], rounds: int, number: int = 1
) -> list[float]:
    """Each function's best time per call, the rounds alternating between them.

    Alternating, so that a change in the machine's speed during the run (this
    one is shared) reaches both sides alike.
    """
    best = [float("inf")] * len(funcs)
    for _ in range(rounds):
        for i, func in enumerate(funcs):
            best[i] = min(best[i], timeit.timeit(func, number=number) / number)
    return best


def timed_writers(script: str, argvs: Sequence[Sequence[str]]) -> tuple[int, float]:
    """Run *script* once per argv, in processes started together; (their total, seconds).

    Each process prints "ready" once set up, waits for a line on stdin, does
    its work and prints how much it did. The time runs from the moment every
    one of them is ready (a start barrier) to the last one's report.
    """
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, *argv],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for argv in argvs
    ]
    for proc in procs:
        assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
    start = time.perf_counter()
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    total = 0
    for proc in procs:
        with proc:
            assert proc.stdout is not None
            total += int(proc.stdout.readline())
    return total, time.perf_counter() - start
