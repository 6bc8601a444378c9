"""The command line, run as a user runs it: a real process."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

from dlrkit._cli import main


def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dlrkit", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_version() -> None:
    result = run("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("dlrkit ")


def test_no_command_prints_usage_and_fails() -> None:
    result = run()
    assert result.returncode == 2
    assert "report" in result.stderr


def test_report_sample() -> None:
    result = run("report", "--sample")
    assert result.returncode == 0, result.stderr
    assert "receipts: 4000   invalid lines: 3" in result.stdout
    assert "delivery rate:" in result.stdout
    assert "Absent Subscriber - Temporary" in result.stdout
    # The sample's broken lines are reported with their line numbers.
    assert result.stderr.count("dlrkit report: line ") == 3


def test_report_files_stdin_and_gzip(tmp_path: Path) -> None:
    line = json.dumps(
        {
            "messageId": "a",
            "msisdn": "1",
            "to": "x",
            "status": "delivered",
            "err-code": "0",
            "price": "0.05",
        }
    )
    query = "messageId=b&msisdn=1&to=x&status=failed&err-code=7&price=0.05"
    plain = tmp_path / "log.jsonl"
    plain.write_text(f"{line}\n\n{query}\nnot a receipt\n")
    packed = tmp_path / "log.jsonl.gz"
    packed.write_bytes(gzip.compress(f"{line}\n".encode()))
    result = run("report", str(plain), str(packed), "-", stdin=line + "\n")
    assert result.returncode == 0, result.stderr
    assert "receipts: 4   invalid lines: 1" in result.stdout
    assert "total price (final receipts): 0.20" in result.stdout
    assert "line 4:" in result.stderr


def test_report_missing_file_is_one_line_and_no_traceback(tmp_path: Path) -> None:
    result = run("report", str(tmp_path / "nope.jsonl"))
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0
    assert "cannot read" in result.stderr and "Traceback" not in result.stderr


def test_main_in_process(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--sample"]) == 0
    assert "receipts: 4000" in capsys.readouterr().out
