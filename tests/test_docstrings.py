"""Every example in dlrkit's docstrings runs, as the docs in docs/ do."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import dlrkit

MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(dlrkit.__path__, "dlrkit.")
    if not info.name.startswith(("dlrkit.contrib.", "dlrkit.__main__"))
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    flags = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=flags)
    for test in finder.find(module, module.__name__, globs=vars(module).copy()):
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"


def test_the_examples_are_found() -> None:
    finder = doctest.DocTestFinder(exclude_empty=True)
    found = sum(
        len(test.examples)
        for name in MODULES
        for test in finder.find(importlib.import_module(name))
    )
    assert found >= 20
