"""`dlrkit report --jobs 2` against `--jobs 1` on one large log: the speed-up of --jobs.

Both sides are the same command (``dlrkit report --quiet --format json``) run
as separate processes on the same 1M-line plain log (made by
scripts/make_sample.py), alternating rounds; each prints the same report
(checked). The figure is the ratio of their wall times, median and spread
over the rounds. Target: --jobs 2 at least 1.6x faster on 2 cores.

Run:  python benchmarks/bench_jobs.py [--lines 1000000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
from make_sample import write_log

TARGET = 1.6


def run(log: Path, jobs: int) -> tuple[float, str]:
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "dlrkit", "report", "--quiet", "--format", "json",
         "--jobs", str(jobs), str(log)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return time.perf_counter() - started, result.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        log = Path(directory) / "dlr.jsonl"
        write_log(log, args.lines, seed=20261123, compress=False)
        print(f"{args.lines:,} lines, {log.stat().st_size / 1e6:,.0f} MB; {args.rounds} rounds")
        one, two, ratios = [], [], []
        for _ in range(args.rounds):
            t1, out1 = run(log, 1)
            t2, out2 = run(log, 2)
            assert out1 == out2, "--jobs 2 printed another report"
            one.append(t1)
            two.append(t2)
            ratios.append(t1 / t2)
    print(
        f"--jobs 1  median {statistics.median(one):6.2f} s  (spread {min(one):.2f}-{max(one):.2f})"
    )
    print(
        f"--jobs 2  median {statistics.median(two):6.2f} s  (spread {min(two):.2f}-{max(two):.2f})"
    )
    ratio = statistics.median(ratios)
    verdict = "ok" if ratio >= TARGET else "MISS"
    print(
        f"speed-up  median {ratio:.2f}x  (spread {min(ratios):.2f}-{max(ratios):.2f}), "
        f"target >= {TARGET}x: {verdict}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
