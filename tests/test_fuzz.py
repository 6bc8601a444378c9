"""A short run of the fuzz harness (fuzz/fuzz_dlrkit.py runs the long one)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

HARNESS = Path(__file__).resolve().parent.parent / "fuzz" / "fuzz_dlrkit.py"


@pytest.fixture(scope="module")
def harness() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fuzz_dlrkit", HARNESS)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_every_seed_and_a_few_thousand_mutants(harness: ModuleType) -> None:
    assert len(harness.load_corpus()) >= 10
    assert harness.fuzz(3000, seed=1, quiet=True) == 3000


def test_the_harness_reports_what_escapes(harness: ModuleType) -> None:
    def broken(data: bytes) -> None:
        raise KeyError("a bug")

    with pytest.raises(AssertionError, match="broken raised KeyError"):
        harness.check(b"x", [("broken", broken)])


def test_mutation_is_deterministic(harness: ModuleType) -> None:
    import random

    corpus = harness.load_corpus()
    first = [harness.mutate(corpus[0], random.Random(7), corpus) for _ in range(3)]
    again = [harness.mutate(corpus[0], random.Random(7), corpus) for _ in range(3)]
    assert first == again
