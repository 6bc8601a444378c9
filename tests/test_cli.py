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
from typing import Any
from urllib.parse import urlencode

import pytest

from dlrkit import DlrError, classify
from dlrkit._cli import _with_progress, main
from dlrkit._logs import log_lines, open_log, sample_path
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
    with sample_path() as path, open_log(path) as log:
        for line in log.stream:
            try:
                receipts.append(parse_line(line.decode()))
            except DlrError:
                invalid += 1
    assert (data["receipts"], data["invalid"]) == (len(receipts), invalid) == (4000, 3)
    assert data["by_status"] == dict(Counter(r.status.value for r in receipts))
    assert data["by_action"] == dict(Counter(classify(r).action.value for r in receipts))
    # Interim receipts (accepted, buffered) carry err-code 0 without meaning "Delivered".
    interim = ("accepted", "buffered")
    assert {k: v["count"] for k, v in data["by_err_code"].items()} == {
        str(k): v
        for k, v in Counter(r.err_code for r in receipts if r.status.value not in interim).items()
    }
    assert data["interim"] == sum(r.status.value in interim for r in receipts) > 0
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
    assert list(_with_progress(iter(lines), err=terminal, enabled=True, interval=0)) == lines
    assert "\r8,192 lines" in terminal.getvalue()
    quiet = FakeTerminal()
    assert list(_with_progress(iter(lines), err=quiet, enabled=False)) == lines
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


# -- issue 15: hostile logs and outputs ---------------------------------------------------------


def test_a_truncated_gzip_log_reports_what_was_read(tmp_path: Path) -> None:
    # It used to end in an EOFError traceback, with no report.
    packed = gzip.compress("".join(receipt_line(n) + "\n" for n in range(200)).encode())
    truncated = tmp_path / "cut.jsonl.gz"
    truncated.write_bytes(packed[: len(packed) // 2])
    whole = tmp_path / "whole.jsonl"
    whole.write_text(receipt_line(999) + "\n")
    result = run("report", "--format", "json", str(truncated), str(whole))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    problems = [line for line in result.stderr.splitlines() if str(truncated) in line]
    assert len(problems) == 1 and "ends too soon" in problems[0]
    data = json.loads(result.stdout)
    assert 0 < data["receipts"] < 201  # what was read, and the next file too


def test_a_corrupt_gzip_log_is_one_line_and_a_report(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl.gz"
    bad.write_bytes(b"\x1f\x8b\x08\x00garbage that is not deflate" * 10)
    notgz = tmp_path / "plain.gz"
    notgz.write_bytes(b"not gzip at all\n")
    for path in (bad, notgz):
        result = run("report", str(path))
        assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
        assert "gzip" in result.stderr or "ends too soon" in result.stderr
        assert "receipts" in result.stdout  # the (empty) report is still printed


class Stream(io.RawIOBase):
    """*size* bytes of one line (then a newline and a receipt), made as they are read."""

    def __init__(self, size: int) -> None:
        self.left = size
        self.tail = b"\n" + receipt_line(1).encode() + b"\n"

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.left > 0:
            size = min(len(buffer), self.left, 1 << 20)
            buffer[:size] = b"x" * size
            self.left -= size
            return size
        size = min(len(buffer), len(self.tail))
        buffer[:size], self.tail = self.tail[:size], self.tail[size:]
        return size


def test_a_huge_line_is_one_invalid_line_in_flat_memory() -> None:
    # A single 200 MB line took the report to 600-900 MB.
    report = Report()
    tracemalloc.start()
    try:
        report.add_lines(log_lines(io.BufferedReader(Stream(50_000_000))))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert (report.lines, report.invalid, report.receipts) == (2, 1, 1)
    assert "line of 50,000,000 bytes is longer than 65,536" in str(report.first_errors[0][2])
    assert peak < 2_000_000, peak


def test_a_gzip_bomb_line_is_one_invalid_line(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.jsonl.gz"
    with gzip.open(bomb, "wb", compresslevel=9) as out:
        for _ in range(400):
            out.write(b"x" * 100_000)  # one 40 MB line from a few KB
        out.write(b"\n" + receipt_line(1).encode() + b"\n")
    assert bomb.stat().st_size < 200_000
    result = run("report", "--format", "json", str(bomb))
    assert result.returncode == 0, result.stderr
    assert (json.loads(result.stdout)["invalid"], json.loads(result.stdout)["receipts"]) == (1, 1)


def test_parse_reads_no_more_than_one_payload(tmp_path: Path) -> None:
    # It read the whole file before its size check (421 MB).
    big = tmp_path / "big.json"
    with big.open("wb") as out:
        out.write(b'{"messageId": "' + b"x" * 30_000_000 + b'"}')
    tracemalloc.start()
    try:
        assert main(["parse", str(big)]) == 1
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2_000_000, peak


def test_one_receipt_is_one_line_of_the_remove_list(tmp_path: Path) -> None:
    # msisdn=...001%0A...002%0A...003 wrote three numbers from one receipt.
    log = tmp_path / "log.txt"
    query = urlencode({"messageId": "m", "msisdn": "447700900001\n447700900002\n447700900003",
                       "to": "x", "status": "failed", "err-code": "3"})  # fmt: skip
    log.write_text(query + "\n")
    out = tmp_path / "remove.txt"
    assert run("report", str(log), "--remove-list", str(out)).returncode == 0
    assert out.read_text().splitlines() == ["447700900001\\n447700900002\\n447700900003"]


def test_control_characters_never_reach_the_terminal(tmp_path: Path) -> None:
    log = tmp_path / "log.jsonl"
    log.write_text(
        receipt_line(1, "failed", "3", **{"network-code": "\x1b[2J\x1b[31mEVIL\u202e"}) + "\n"
        + "\x1b]0;title\x07 not a receipt\n"
    )  # fmt: skip
    result = run("report", str(log))
    assert result.returncode == 0
    for output in (result.stdout, result.stderr):
        assert "\x1b" not in output and "\x07" not in output and "\u202e" not in output
    assert "\\x1b[2J\\x1b[31mEVIL\\u202e" in result.stdout


def test_distinct_codes_and_networks_are_bounded() -> None:
    # Attacker-chosen network codes and err-codes grew the report without bound.
    def hostile(count: int) -> Iterator[str]:
        for n in range(count):
            yield receipt_line(n, "failed", str(1000 + n), **{"network-code": f"N{n}"})

    report = Report(max_keys=500)
    report.add_lines(hostile(5_000))
    assert report.receipts == 5_000
    assert len(report.networks) <= 501
    assert report.networks["(other)"].receipts == 4_500
    assert report.by_err_code[-1] == 4_500  # "other"
    text = report.to_json()
    assert text["by_err_code"]["other"]["count"] == 4_500
    small, large = peak_memory(3_000), peak_memory(30_000)
    assert large < small * 1.5 + 64 * 1024


@pytest.mark.parametrize(
    "args",
    [
        ["report", "--sample", "--remove-list", "/dev/full"],
        ["report", "--remove-list", "/"],
        ["report", "/"],
        ["parse", "/"],
        ["parse", "/dev/null"],
        ["explain", "\x1b[31m"],
        ["explain", "9" * 5000],
        ["report", "--format", "yaml"],
        ["nonsense"],
    ],
)
def test_no_traceback_ever_reaches_the_user(args: list[str]) -> None:
    result = run(*args, stdin="")
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode in (0, 1, 2), result.stderr
    assert "\x1b" not in result.stderr


def test_an_internal_error_is_one_line_and_exit_70(monkeypatch: pytest.MonkeyPatch) -> None:
    import dlrkit._cli as cli

    def broken(*args: object) -> int:
        raise KeyError("a bug\x1b[2J")

    monkeypatch.setattr(cli, "_explain", broken)  # main() builds its parser anew
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    assert main(["explain", "2"]) == 70
    message = err.getvalue()
    assert message.startswith("dlrkit: internal error (KeyError") and message.count("\n") == 1
    assert "\x1b" not in message
