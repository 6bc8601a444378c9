"""`dlrkit report` over a large log against bare decoding of the same lines.

The peer is the least any report must do: decode every line with the standard
library (``json.loads`` for JSON lines, ``parse_qsl`` for query strings) and
nothing else. dlrkit does that plus validation, typing, classification and
counting. Target: at most 2.2x the peer's time (issue 18). The figures
are the median and spread (min-max) of alternating rounds, and of each
round's ratio.

Peak memory is measured on separate ``dlrkit report`` processes over a small
and a large log: it should not grow with the log.

Run:  python benchmarks/bench_report.py [--lines 1000000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import parse_qsl

import dlrkit
from dlrkit._report import Report

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
from _timing import best_per_call
from make_sample import write_log

TARGET = 2.2  # issue 18


def bare_decode(path: Path) -> int:
    count = 0
    with open(path, encoding="utf-8", errors="replace") as lines:
        for line in lines:
            text = line.strip()
            if not text:
                continue
            if text.startswith("{"):
                try:  # noqa: SIM105 - contextlib.suppress would slow the peer
                    json.loads(text)
                except ValueError:
                    pass
            else:
                parse_qsl(text, keep_blank_values=True)
            count += 1
    return count


def report(path: Path) -> Report:
    result = Report()
    with open(path, encoding="utf-8", errors="replace") as lines:
        result.add_lines(lines)
    return result


# The child reports its own high-water mark: the rusage a parent gets from
# wait4() counts the pages of the forked parent before exec.
_CHILD = """
import sys
from dlrkit._cli import main
code = main(["report", "--quiet", "--format", "json", sys.argv[1]])
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM:")][0]
print(int(hwm.split()[1]), file=sys.stderr)
sys.exit(code)
"""


def peak_rss_mib(path: Path) -> float:
    result = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=True,
    )
    return int(result.stderr.split()[-1]) / 1024  # VmHWM is in KiB


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        small, large = Path(tmp) / "small.jsonl", Path(tmp) / "large.jsonl"
        write_log(small, 10_000, seed=1, compress=False)
        write_log(large, args.lines, seed=2, compress=False)
        with open(large, encoding="utf-8") as log:
            lines = sum(1 for _ in log)
        bare_times: list[float] = []
        report_times: list[float] = []
        for _ in range(args.rounds):  # alternating, so that both see the same machine
            bare_times += best_per_call((lambda: bare_decode(large),), 1)
            report_times += best_per_call((lambda: report(large),), 1)
        ratios = [r / b for r, b in zip(report_times, bare_times, strict=True)]
        ratio = statistics.median(ratios)
        rss_small, rss_large = peak_rss_mib(small), peak_rss_mib(large)
    print(
        f"dlrkit {dlrkit.__version__}: report over {lines:,} lines, "
        f"{args.rounds} alternating rounds: median (min-max)"
    )
    for label, times in (
        ("bare decode (json.loads / parse_qsl)", bare_times),
        ("dlrkit report", report_times),
    ):
        seconds = statistics.median(times)
        print(
            f"  {label + ':':<38} {seconds:7.2f} s ({min(times):.2f}-{max(times):.2f})"
            f"  {lines / seconds:>10,.0f} lines/s"
        )
    print(
        f"  ratio, each round's own: {ratio:.2f}x ({min(ratios):.2f}-{max(ratios):.2f})"
        f" (target <= {TARGET:.1f}x) {'ok' if ratio <= TARGET else 'MISS'}"
    )
    print(f"  peak RSS: {rss_small:.1f} MiB for 10,000 lines, {rss_large:.1f} MiB for {lines:,}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
