"""Timing shared by the benchmarks: fair to both sides on a shared machine."""

from __future__ import annotations

import timeit
from collections.abc import Callable


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
