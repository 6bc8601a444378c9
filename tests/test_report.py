"""The report: mergeable counts, --jobs, CSV and HTML output, progress, countries."""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dlrkit._cli as cli
import dlrkit._jobs as jobs
from dlrkit._cli import _progress, main
from dlrkit._geo import country_lookup
from dlrkit._render import CSV_COLUMNS
from dlrkit._report import Report
from dlrkit.testing.strategies import report_records, wire_fields

# A log line: a receipt as JSON or as a query, a bad line, or a blank one.
log_lines = st.one_of(
    wire_fields(signed=False).map(json.dumps),
    wire_fields(signed=False).map(urlencode),
    st.sampled_from(["not a receipt", '{"messageId": 1', "", "   ", "status=failed"]),
)


def snapshot(report: Report) -> dict[str, Any]:
    """Everything a report holds, comparable."""
    data = report.to_json()
    data["first_invalid"] = [(s, n, str(e)) for s, n, e in report.first_errors]
    data["counts"] = (dict(report._tally), dict(report._timeline), report.prices)
    return data


@settings(max_examples=60)
@given(st.lists(log_lines, max_size=40), st.data())
def test_two_partial_reports_combine_into_the_report_of_the_whole(
    lines: list[str], data: st.DataObject
) -> None:
    cut = data.draw(st.integers(0, len(lines)))
    whole = Report()
    whole.add_lines(lines, "log")
    first, second = Report(), Report()
    first.add_lines(lines[:cut], "log")
    second.add_lines(lines[cut:], "log")
    # Line numbers count from each part's start: shift the second part's.
    second.first_errors = [(s, n + first.lines, e) for s, n, e in second.first_errors]
    assert snapshot(first + second) == snapshot(whole)
    assert snapshot(Report() + whole) == snapshot(whole) == snapshot(whole + Report())


@settings(max_examples=30)
@given(st.lists(report_records(), min_size=1, max_size=20), st.data())
def test_a_csv_export_split_anywhere_merges_to_the_whole(
    rows: list[dict[str, str]], data: st.DataObject
) -> None:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    header, *body = out.getvalue().splitlines()
    cut = data.draw(st.integers(0, len(body)))
    whole = Report()
    whole.add_lines([header, *body])
    first, second = Report(), Report()
    first.add_lines([header, *body[:cut]])
    second.add_lines(body[cut:], csv_header=header)
    assert snapshot(first + second)["counts"] == snapshot(whole)["counts"]
    assert (first + second).receipts == whole.receipts == len(rows)


def write_log(path: Path, count: int) -> None:
    lines = []
    for n in range(count):
        status, code = [("delivered", "0"), ("failed", "3"), ("failed", "2"), ("accepted", "0")][
            n % 4
        ]
        lines.append(
            json.dumps(
                {
                    "messageId": f"{n:016X}",
                    "msisdn": f"4477009{n:05d}",
                    "to": "Acme",
                    "status": status,
                    "err-code": code,
                    "network-code": ["23410", "26201", "310260"][n % 3],
                    "price": "0.05",
                    "message-timestamp": f"2026-11-20 {n % 24:02d}:{n % 60:02d}:00",
                }
            )
        )
        if n % 97 == 0:
            lines.append(f"broken line {n}")
    path.write_text("\n".join(lines) + "\n")


def run_report(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(["report", "--quiet", *args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.mark.parametrize("fmt", ["json", "text", "csv"])
def test_jobs_give_the_identical_report(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    fmt: str,
) -> None:
    monkeypatch.setattr(jobs, "_MIN_SPLIT", 1)  # split even small files
    plain, packed = tmp_path / "a.jsonl", tmp_path / "b.jsonl.gz"
    write_log(plain, 2_000)
    write_log(tmp_path / "b.jsonl", 500)
    packed.write_bytes(gzip.compress((tmp_path / "b.jsonl").read_bytes()))
    outputs = []
    for count in ("1", "3"):
        remove = tmp_path / f"remove-{count}.txt"
        args = ["--format", fmt, "--jobs", count, "--remove-list", str(remove)]
        outputs.append((run_report([*args, str(plain), str(packed)], capsys), remove.read_text()))
    assert outputs[0] == outputs[1]
    (status, _, err), numbers = outputs[0]
    assert status == 0 and f"{plain}:1:" not in err and f"{plain}:2:" in err  # global line numbers
    assert len(numbers.splitlines()) == 2_000 // 4 + 500 // 4  # one a failed err-code 3


def test_jobs_plan_cuts_plain_files_at_line_boundaries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jobs, "_MIN_SPLIT", 1)
    log = tmp_path / "log.jsonl"
    write_log(log, 300)
    parts = jobs.plan([("log", str(log)), ("-", "-"), ("gz", "x.gz")], 4)
    ranges = [p for p in parts if p.name == "log"]
    assert len(ranges) == 4 and ranges[0].start == 0 and ranges[-1].end == log.stat().st_size
    assert [p.path for p in parts if p.name != "log"] == ["-", "x.gz"]
    counted = Report()
    for part in ranges:
        piece = Report()
        assert jobs.count_part(part, piece) is None
        counted = counted + piece
    whole = Report()
    jobs.count_part(jobs.Part("log", str(log)), whole)
    assert counted.lines == whole.lines and counted.receipts == whole.receipts


def test_jobs_must_be_a_small_positive_number(capsys: pytest.CaptureFixture[str]) -> None:
    for bad in ("0", "-1", "many", "100000", "²"):
        with pytest.raises(SystemExit) as info:
            main(["report", "--jobs", bad, "--sample"])
        assert info.value.code == 2
    assert "number of processes" in capsys.readouterr().err


def test_csv_has_one_row_per_breakdown_entry(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run_report(["--sample", "--format", "csv"], capsys)
    assert status == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert tuple(rows[0]) == CSV_COLUMNS
    _, text, _ = run_report(["--sample", "--format", "json"], capsys)
    data = json.loads(text)
    by = {(r["section"], r["key"]): r for r in rows}
    assert int(by["summary", "receipts"]["count"]) == data["receipts"]
    for status_word, n in data["by_status"].items():
        assert int(by["status", status_word]["count"]) == n
    for code, entry in data["by_err_code"].items():
        assert int(by["err_code", code]["count"]) == entry["count"]
        assert by["err_code", code]["meaning"] == entry["meaning"]
    for network, n in data["by_network"].items():
        assert int(by["network", network]["count"]) == n
    assert (
        sum(int(r["count"]) for r in rows if r["section"] == "hour")
        == data["receipts"] - data["untimed"]
    )


def test_html_is_one_well_formed_page_with_the_same_numbers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = tmp_path / "report.html"
    status, out, _ = run_report(["--sample", "--format", "json", "--html", str(page)], capsys)
    assert status == 0
    text = page.read_text(encoding="utf-8")
    root = ElementTree.fromstring(text.split("\n", 1)[1])  # well-formed, past the DOCTYPE
    embedded = root.find(".//{*}script[@id='dlrkit-report']")
    assert embedded is not None and json.loads(embedded.text or "") == json.loads(out)
    cells = [c.text for c in root.iter("{http://www.w3.org/1999/xhtml}td")]
    for status_word, n in json.loads(out)["by_status"].items():
        assert status_word in cells and f"{n:,}" in cells
    assert len(list(root.iter("{http://www.w3.org/2000/svg}svg"))) >= 4
    # Self-contained: nothing is fetched.
    assert not re.search(r"""(src|href)\s*=\s*["'](?!#)""", text)
    assert "@import" not in text and "url(" not in text
    assert len(text) < 200_000


def test_html_escapes_what_senders_chose(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "log.jsonl"
    evil = '<script>alert(1)</script>"&\x1b[31m'
    log.write_text(
        json.dumps(
            {
                "messageId": "m",
                "msisdn": "1",
                "to": "x",
                "status": "failed",
                "err-code": "3",
                "network-code": evil,
            }
        )
        + "\n"
    )
    page = tmp_path / "page.html"
    assert run_report([str(log), "--html", str(page)], capsys)[0] == 0
    text = page.read_text()
    assert "<script>alert" not in text and "\x1b" not in text
    ElementTree.fromstring(text.split("\n", 1)[1])


def test_progress_shows_percent_and_time_left() -> None:
    assert _progress(1000, 2.0, 1000, lambda: 250) == (
        " 25% 1,000 lines (500/s), about 6 s left\x1b[K"
    )
    assert _progress(1000, 2.0, None, None) == "1,000 lines (500/s)\x1b[K"


def test_countries_with_the_geo_extra_and_nothing_without(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("phonenumbers")
    assert country_lookup() is not None
    _, with_geo, _ = run_report(["--sample", "--format", "json"], capsys)
    countries = json.loads(with_geo)["by_country"]
    assert countries["GB"]["receipts"] > 0 and "DE" in countries
    assert sum(c["receipts"] for c in countries.values()) == json.loads(with_geo)["receipts"]
    monkeypatch.setattr(cli, "country_lookup", lambda: None)
    _, without, _ = run_report(["--sample", "--format", "json"], capsys)
    data = json.loads(without)
    assert "by_country" not in data
    assert data == {k: v for k, v in json.loads(with_geo).items() if k != "by_country"}


def test_reports_api_currency_is_shown(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    export = tmp_path / "export.csv"
    export.write_text(
        '"message_id","status","total_price","currency"\n'
        '"a","delivered","1234.5","EUR"\n"b","failed","0.25","EUR"\n'
    )
    status, out, _ = run_report([str(export)], capsys)
    assert status == 0 and "1,234.75 EUR" in out


def test_text_polish(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    _, out, err = run_report(["--sample"], capsys)
    assert "in the sample on purpose" in out and "on purpose" in err
    assert "receipts            4,000" in out  # thousands separators
    assert "interim (accepted, buffered)" in out
    assert main(["explain", "11"]) == 0
    explained = capsys.readouterr().out
    assert "<mailto:" not in explained and "support@nexmo.com" in explained
    with pytest.raises(SystemExit):
        main(["report", "--help"])
    assert "csv for spreadsheets" in " ".join(capsys.readouterr().out.split())


def test_parse_says_when_its_input_looks_gzipped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    packed = tmp_path / "body.json.gz"
    packed.write_bytes(gzip.compress(b'{"messageId": "m"}'))
    assert main(["parse", str(packed)]) == 1
    assert "looks gzipped" in capsys.readouterr().err


class Terminal(io.TextIOWrapper):
    def isatty(self) -> bool:
        return True


def test_waiting_on_a_terminal_says_so(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", Terminal(io.BytesIO(b"")))
    assert main(["report", "-"]) == 0
    assert "reading receipts from stdin (Ctrl-D to end)" in capsys.readouterr().err
    monkeypatch.setattr(sys, "stdin", Terminal(io.BytesIO(b"")))
    assert main(["parse"]) == 1
    assert "reading one payload from stdin" in capsys.readouterr().err


@settings(max_examples=20, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(log_lines, max_size=30))
def test_by_err_code_never_counts_interim_receipts(lines: list[str]) -> None:
    report = Report()
    report.add_lines(lines)
    interim = report.by_status["accepted"] + report.by_status["buffered"]  # type: ignore[index]
    assert report.interim == interim
    assert sum(report.by_err_code.values()) == report.receipts - interim
