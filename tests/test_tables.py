"""The enums carry the guide's tables, checked against a verbatim copy of the guide."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import dlrkit
from dlrkit import DlrStatus, ErrorCode

GUIDE = (Path(__file__).parent / "data" / "guide-tables.md").read_text(encoding="utf-8")


def table_rows(first_column: str) -> list[list[str]]:
    """Rows of the Markdown table whose rows start with *first_column* (a regex)."""
    rows = []
    for line in GUIDE.splitlines():
        if re.match(rf"^\|\s*{first_column}\s*\|", line):
            rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return rows


STATUS_ROWS = [row for row in table_rows(r"`[a-z]+`") if row[0] != "`status`"]
CODE_ROWS = table_rows(r"\d+")


def test_the_guide_copy_has_both_tables() -> None:
    assert len(STATUS_ROWS) == 7
    assert len(CODE_ROWS) == 25


@pytest.mark.parametrize(("word", "description"), STATUS_ROWS)
def test_status_rows(word: str, description: str) -> None:
    status = DlrStatus(word.strip("`"))
    assert status.value == word.strip("`")
    assert status.description == description
    assert str(status) == status.value


def test_every_status_is_in_the_guide() -> None:
    assert {s.value for s in DlrStatus} == {row[0].strip("`") for row in STATUS_ROWS}


def test_final_and_success_statuses() -> None:
    assert {s for s in DlrStatus if s.is_final} == {
        DlrStatus.DELIVERED,
        DlrStatus.EXPIRED,
        DlrStatus.FAILED,
        DlrStatus.REJECTED,
    }
    assert [s for s in DlrStatus if s.is_success] == [DlrStatus.DELIVERED]


@pytest.mark.parametrize(("code", "meaning", "description"), CODE_ROWS)
def test_err_code_rows(code: str, meaning: str, description: str) -> None:
    member = ErrorCode(int(code))
    assert member.meaning == meaning
    assert member.description == description
    # Members are named after the meaning.
    assert member.name == re.sub(r"[^A-Z0-9]+", "_", meaning.upper()).strip("_")


def test_error_code_is_exactly_the_guide_table() -> None:
    assert sorted(int(c) for c in ErrorCode) == sorted(int(row[0]) for row in CODE_ROWS)
    assert sorted(int(c) for c in ErrorCode) == [*range(17), 39, 41, 50, 51, 52, 53, 54, 99]


def test_lookup_of_codes_outside_the_table() -> None:
    assert ErrorCode.lookup(2) is ErrorCode.ABSENT_SUBSCRIBER_TEMPORARY
    assert ErrorCode.lookup(17) is None
    assert ErrorCode.lookup(-1) is None


PUBLIC_MODULES = [
    "dlrkit",
    "dlrkit.wire",
    "dlrkit.stores",
    "dlrkit.smpp",
    "dlrkit.messages_api",
    "dlrkit.reports_api",
    "dlrkit.conversion_api",
    "dlrkit.testing",
    "dlrkit.testing.strategies",
]


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_public_names(module_name: str) -> None:
    import importlib

    module = importlib.import_module(module_name)
    names = module.__all__
    assert len(set(names)) == len(names)
    for name in names:
        assert getattr(module, name) is not None, name
    # Nothing private leaks into a table of contents.
    assert not [n for n in names if n.startswith("_") and n != "__version__"]


def test_the_top_level_is_the_webhook_path_without_aliases() -> None:
    import dlrkit

    objects = [getattr(dlrkit, name) for name in dlrkit.__all__ if name != "__version__"]
    assert len({id(o) for o in objects}) == len(objects), "two names for one object"
    assert len(dlrkit.__all__) <= 40
    for moved in ("parse_smpp_receipt", "MessageStatus", "ReportRecord", "decode_form"):
        assert not hasattr(dlrkit, moved), moved


SRC = Path(dlrkit.__file__).parent


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            found.add("." * node.level + (node.module or ""))
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_layers() -> None:
    # The stores keep records; the tracker uses the stores, never the reverse.
    for path in (SRC / "stores").glob("*.py"):
        assert ".._concat" not in _imports(path), path
    # The report tallies; opening files is the command line's job.
    report = _imports(SRC / "_report.py")
    assert not {"gzip", "io", "importlib", "sys"} & report
    assert "open(" not in (SRC / "_report.py").read_text()
    # The neighbouring formats share the core, not each other.
    formats = ("smpp", "messages_api", "reports_api", "conversion_api")
    for name in formats:
        for path in (SRC / name).glob("*.py"):
            assert not [i for i in _imports(path) if i.lstrip(".") in formats], path
    # Text becomes a Decimal or a datetime in _codecs alone.
    for path in SRC.rglob("*.py"):
        if path.name != "_codecs.py" and path.parent.name != "testing":
            text = path.read_text()
            assert "fromisoformat" not in text, path
            assert not re.search(r"Decimal\((?!0\))", text), path
    assert dlrkit.stores.PostgresStore.__name__ == "PostgresStore"  # loaded lazily
    with pytest.raises(AttributeError):
        dlrkit.stores.NoSuchStore  # noqa: B018
