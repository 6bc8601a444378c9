"""The enums carry the guide's tables, checked against a verbatim copy of the guide."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

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


def test_public_names() -> None:
    import dlrkit
    import dlrkit.stores

    assert len(set(dlrkit.__all__)) == len(dlrkit.__all__)
    for name in dlrkit.__all__:
        assert getattr(dlrkit, name) is not None, name
    # Nothing private leaks into the table of contents.
    assert not [n for n in dlrkit.__all__ if n.startswith("_") and n != "__version__"]
    assert dlrkit.stores.PostgresStore.__name__ == "PostgresStore"  # loaded lazily
    with pytest.raises(AttributeError):
        dlrkit.stores.NoSuchStore  # noqa: B018
