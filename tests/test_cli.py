"""The command line, run as a user runs it: a real process, and in-process where faster."""

from __future__ import annotations

import gzip
import io
import json
import subprocess
import sys
import tracemalloc
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlencode

import pytest

from dlrkit import DlrError, classify
from dlrkit._cli import _with_progress, main, sample_log
from dlrkit._report import Report, parse_line


def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dlrkit", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def receipt_line(n: int, status: str = "delivered", code: str = "0", **more: str) -> str:
    fields = {
        "messageId": f"{n:016X}",
        "msisdn": f"4477009{n:05d}",
        "to": "Acme",
        "status": status,
        "err-code": code,
        "network-code": "23410",
        "price": "0.05",
        **more,
    }
    return json.dumps(fields)


def test_version() -> None:
    result = run("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("dlrkit ")


def test_no_command_prints_usage_and_fails() -> None:
    result = run()
    assert result.returncode == 2
    assert "report" in result.stderr and "explain" in result.stderr


# -- report --------------------------------------------------------------------------------


def test_report_sample_text() -> None:
    result = run("report", "--sample")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for heading in (
        "by status",
        "by err-code",
        "by action",
        "by network (MCCMNC)",
        "top failing networks",
        "what to do",
    ):
        assert heading in out
    assert "Absent Subscriber - Temporary" in out
    assert "remove numbers" in out and "retries due" in out
    # The sample's broken lines are reported with their line numbers.
    assert result.stderr.count("dlrkit report: sample:") == 3


def test_report_sample_json_agrees_with_the_library() -> None:
    result = run("report", "--sample", "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    for key in (
        "receipts",
        "invalid",
        "by_status",
        "by_err_code",
        "by_action",
        "by_network",
        "total_price",
        "delivery_rate",
    ):
        assert key in data

    # Recount independently, line by line, with the public API.
    receipts, invalid = [], 0
    with sample_log() as lines:
        for line in lines:
            try:
                receipts.append(parse_line(line))
            except DlrError:
                invalid += 1
    assert (data["receipts"], data["invalid"]) == (len(receipts), invalid) == (4000, 3)
    assert data["by_status"] == dict(Counter(r.status.value for r in receipts))
    assert data["by_action"] == dict(Counter(classify(r).action.value for r in receipts))
    assert {k: v["count"] for k, v in data["by_err_code"].items()} == {
        str(k): v for k, v in Counter(r.err_code for r in receipts).items()
    }
    assert data["by_err_code"]["2"]["meaning"] == "Absent Subscriber - Temporary"
    assert data["by_err_code"]["73"]["meaning"] == "not in the guide's table"
    assert data["by_network"] == dict(Counter(r.network_code or "(none)" for r in receipts))
    final = [r for r in receipts if r.is_final]
    assert Decimal(data["total_price"]) == sum((r.price or 0 for r in final), Decimal(0))
    assert data["delivery_rate"] == pytest.approx(sum(r.is_delivered for r in final) / len(final))
    top = data["top_failing_networks"]
    assert [t["failed"] for t in top] == sorted((t["failed"] for t in top), reverse=True)
    for entry in top:
        of_network = [r for r in final if (r.network_code or "(none)") == entry["network"]]
        assert entry["final"] == len(of_network)
        assert entry["failed"] == sum(not r.is_delivered for r in of_network)
    assert data["to_do"]["remove_numbers"] == data["by_action"]["remove_number"]
    retries = Counter(str(r.err_code) for r in receipts if classify(r).action.value == "retry")
    assert data["to_do"]["retries_by_err_code"] == dict(retries)


def test_report_files_stdin_gzip_and_bad_lines(tmp_path: Path) -> None:
    query = urlencode(
        {
            "messageId": "b",
            "msisdn": "1",
            "to": "x",
            "status": "failed",
            "err-code": "7",
            "price": "0.05",
        }
    )
    plain = tmp_path / "log.jsonl"
    plain.write_text(f"{receipt_line(1)}\n\n{query}\nnot a receipt\n")
    packed = tmp_path / "log.jsonl.gz"
    packed.write_bytes(gzip.compress(f"{receipt_line(2)}\n".encode()))
    result = run(
        "report", "--format", "json", str(plain), str(packed), "-", stdin=receipt_line(3) + "\n"
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["receipts"], data["invalid"]) == (4, 1)
    assert data["total_price"] == "0.20"
    assert data["to_do"]["retries_due"] == 1
    assert f"{plain}:4:" in result.stderr


def test_report_reports_only_the_first_few_errors() -> None:
    result = run("report", "-", stdin="junk\n" * 50)
    assert result.returncode == 0
    assert result.stderr.count("dlrkit report: -:") == 5
    assert "50 invalid lines in all" in result.stderr


def test_report_missing_file_is_one_line_and_no_traceback(tmp_path: Path) -> None:
    for path in (tmp_path / "nope.jsonl", tmp_path):  # missing, and a directory
        result = run("report", str(path))
        assert result.returncode == 1
        assert len(result.stderr.strip().splitlines()) == 1
        assert "cannot read" in result.stderr and "Traceback" not in result.stderr


def test_report_remove_list(tmp_path: Path) -> None:
    log = tmp_path / "log.jsonl"
    log.write_text(
        "\n".join([receipt_line(1, "failed", "3"), receipt_line(2), receipt_line(3, "failed", "9")])
    )
    out = tmp_path / "remove.txt"
    result = run("report", str(log), "--remove-list", str(out))
    assert result.returncode == 0, result.stderr
    assert out.read_text().split() == ["447700900001", "447700900003"]
    bad = run("report", str(log), "--remove-list", str(tmp_path / "no" / "such" / "dir"))
    assert bad.returncode == 1 and "cannot write" in bad.stderr


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_only_on_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    lines = [receipt_line(n) + "\n" for n in range(9000)]
    terminal = FakeTerminal()
    assert list(_with_progress(iter(lines), terminal, enabled=True, interval=0)) == lines
    assert "\r8,192 lines" in terminal.getvalue()
    quiet = FakeTerminal()
    assert list(_with_progress(iter(lines), quiet, enabled=False)) == lines
    assert quiet.getvalue() == ""
    # main() enables it only for a terminal without --quiet: captured stderr is no terminal.
    assert main(["report", "--sample", "--format", "json"]) == 0
    assert "lines (" not in capsys.readouterr().err


def lazily(count: int) -> Iterator[str]:
    # Every number distinct: the worst case for anything kept per number.
    for n in range(count):
        status, code = [("delivered", "0"), ("failed", "3"), ("failed", "2")][n % 3]
        yield receipt_line(n, status, code, **{"client-ref": f"ref-{n}"})


def peak_memory(count: int) -> int:
    report = Report()
    tracemalloc.start()
    try:
        report.add_lines(lazily(count))
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_report_memory_does_not_grow_with_the_log() -> None:
    small, large = peak_memory(3_000), peak_memory(30_000)
    assert large < small * 1.5 + 64 * 1024, (small, large)


# -- parse ----------------------------------------------------------------------------------


def test_parse_json_from_stdin() -> None:
    result = run("parse", stdin=receipt_line(7, "failed", "7", scts="1810251310"))
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    receipt = data["receipt"]
    assert receipt["message_id"] == "0000000000000007"
    assert receipt["status"] == "failed" and receipt["err_code"] == 7
    assert receipt["error"] == {"name": "HANDSET_BUSY", "meaning": "Handset Busy"}
    assert receipt["price"] == "0.05" and receipt["scts"] == "2018-10-25T13:10:00"
    assert data["verdict"]["action"] == "retry"
    assert data["verdict"]["retry_after_seconds"] == 300


def test_parse_query_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "dlr.txt"
    path.write_text(
        "messageId=a1&msisdn=447700900000&to=Acme+Inc&status=delivered&err-code=0"
        "&message-timestamp=2020-01-01+14%3A00%3A00&campaign=x\n"
    )
    result = run("parse", str(path))
    assert result.returncode == 0, result.stderr
    receipt = json.loads(result.stdout)["receipt"]
    assert receipt["to"] == "Acme Inc"
    assert receipt["message_timestamp"] == "2020-01-01T14:00:00+00:00"
    assert receipt["extra"] == {"campaign": "x"}


@pytest.mark.parametrize("payload", ["", "status=failed", '{"messageId": 1', "\x00\xff"])
def test_parse_bad_input_is_one_line_and_no_traceback(payload: str) -> None:
    result = run("parse", "-", stdin=payload)
    assert result.returncode == 1
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith("dlrkit parse: ")


def test_parse_missing_file(tmp_path: Path) -> None:
    result = run("parse", str(tmp_path / "nope"))
    assert result.returncode == 1 and "cannot read" in result.stderr
