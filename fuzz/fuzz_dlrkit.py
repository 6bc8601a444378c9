"""Fuzz every dlrkit parser with generated and mutated inputs.

Every input is driven through every target: parse_query, parse_form,
parse_json, parse_request (GET and POST, with and without a content type, and
with a charset taken from the input), parse_send_response, verify_signature
(on a multi-valued mapping made from the input), the SMPP receipt parser (as
text and as UCS-2, with its TLVs), the Messages API and Reports API parsers,
the mapping parsers on what ``json.loads`` makes of the input (real ints,
floats and nesting), and the report's line counter. Pass means no exception
other than ``DlrError`` escapes, for any input. A failing input is
written to ``fuzz/crashes/`` and the run stops with exit status 1.

Two engines:

* the default, a deterministic mutational fuzzer in pure Python, seeded from
  ``fuzz/corpus/`` (bit flips, interesting bytes, insertions, deletions,
  duplications, splices and dictionary tokens such as ``%ff`` or ``\\ud800``);
* ``--atheris``: coverage-guided fuzzing with atheris (``pip install atheris``).

    python fuzz/fuzz_dlrkit.py --runs 1000000          # about 1M inputs
    python fuzz/fuzz_dlrkit.py --atheris -atheris_runs=1000000
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"
CRASHES = HERE / "crashes"
WORK = HERE / "work"  # atheris' growing corpus (not committed)

TOKENS = [
    b"%",
    b"%ff",
    b"%00",
    b"%C3%A9",
    b"%ED%A0%80",
    b"+",
    b"&",
    b"=",
    b"?",
    b'"',
    b"{",
    b"}",
    b"[",
    b"]",
    b":",
    b",",
    b"\\u",
    b"\\ud800",
    b"\\u0000",
    b"null",
    b"true",
    b"NaN",
    b"1e999",
    b"-0",
    b"\x00",
    b"\xff",
    b"\xef\xbb\xbf",
    b"messageId",
    b"msisdn",
    b"status",
    b"err-code",
    b"price",
    b"scts",
    b"sig",
    b"timestamp",
    b"nonce",
    b"message-count",
    b"messages",
    b"stat:",
    b"id:",
    b"err:",
    b"text:",
    b"delivered",
    b"9" * 20,
    b"9" * 5000,
    "²".encode(),
    "١٢".encode(),
    "\uff11".encode(),
    b"1_000",
    b"-1000",
    b"1E+999999999",
    b"1e-999999999",
    b"0001-01-01T00:00:00+05:00",
    b"9999-12-31T23:59:59-05:00",
    b"2020-06-30T23:59:60Z",
    b"+0000",
    b"+24:00",
    b"180711070003912+",
    b"20110314181534",
    b"201506201641",
    b"charset=rot13",
    b"charset=utf-7",
    b"charset=unicode_escape",
    b"charset=hex",
    b"charset=zlib",
    b"+2FY-",
    b"\\ud800",
    b"\x00\x00",
    b"\xfe\xff",
    b"network_code",
    b"usage",
    b"total_price",
    b"date_received",
    b'"message_id","status"',
]
INTERESTING = [0, 1, 0x7F, 0x80, 0xFF, ord("%"), ord("&"), ord("="), ord('"'), ord("\\")]


def targets() -> list[tuple[str, Callable[[bytes], object]]]:
    import dlrkit
    from dlrkit._report import Report
    from dlrkit.messages_api import parse_message_status
    from dlrkit.reports_api import parse_report_record
    from dlrkit.smpp import parse_smpp_receipt
    from dlrkit.wire import decode_fields

    def request(method: str, content_type: str | None) -> Callable[[bytes], object]:
        return lambda data: dlrkit.parse_request(
            method=method, content_type=content_type, query=data, body=data
        )

    def charset_request(data: bytes) -> object:
        # The content type's charset parameter is attacker-chosen too.
        charset = data[:24].decode("latin-1")
        return dlrkit.parse_request(
            method="POST",
            content_type=f"application/x-www-form-urlencoded; charset={charset}",
            body=data[24:],
        )

    def signature(data: bytes) -> object:
        # A framework's multi-valued mapping, as verify_signature receives it.
        fields = parse_qs(data.decode("utf-8", "replace"), keep_blank_values=True)
        return dlrkit.verify_signature(fields, "secret", "sha256", max_age=None)

    def smpp_with_tlvs(data: bytes) -> object:
        return parse_smpp_receipt(
            data[3:],
            receipted_message_id=data[:3].decode("latin-1"),
            network_error_code=data[:3],
            data_coding=data[0] if data else None,
        )

    def decoded_mappings(data: bytes) -> object:
        # What a caller's json.loads gives: real ints (any size), floats, nesting.
        try:
            value = json.loads(data)
        except (ValueError, RecursionError):
            return None  # not JSON for json.loads: nothing for dlrkit to do
        if isinstance(value, dict):
            for parser in (
                dlrkit.parse,
                decode_fields,
                dlrkit.parse_send_response,
                parse_message_status,
                parse_report_record,
            ):
                with contextlib.suppress(dlrkit.DlrError):
                    parser(value)
        return None

    def report_lines(data: bytes) -> object:
        report = Report()
        report.add_lines(data.decode("utf-8", "replace").splitlines())
        return report.to_json()

    return [
        ("parse_query", dlrkit.parse_query),
        ("parse_form", dlrkit.parse_form),
        ("parse_json", dlrkit.parse_json),
        ("parse_request GET", request("GET", None)),
        ("parse_request POST form", request("POST", "application/x-www-form-urlencoded")),
        ("parse_request POST json", request("POST", "application/json; charset=utf-8")),
        ("parse_request POST sniffed", request("POST", None)),
        ("parse_send_response", dlrkit.parse_send_response),
        ("verify_signature", signature),
        ("parse_request POST charset", charset_request),
        ("parse_smpp_receipt", parse_smpp_receipt),
        ("parse_smpp_receipt TLVs", smpp_with_tlvs),
        ("parse_message_status", parse_message_status),
        ("parse_report_record", parse_report_record),
        ("mappings from json.loads", decoded_mappings),
        ("report lines", report_lines),
    ]


def check(data: bytes, all_targets: list[tuple[str, Callable[[bytes], object]]]) -> None:
    """Run *data* through every target; raise AssertionError if anything but DlrError escapes."""
    from dlrkit import DlrError

    for name, target in all_targets:
        try:
            target(data)
        except DlrError:
            pass
        except Exception as error:
            raise AssertionError(f"{name} raised {type(error).__name__}: {error}") from error


def mutate(data: bytes, rng: random.Random, corpus: list[bytes]) -> bytes:
    buffer = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        operation = rng.randrange(7)
        at = rng.randrange(len(buffer) + 1)
        if operation == 0 and buffer:
            buffer[min(at, len(buffer) - 1)] ^= 1 << rng.randrange(8)
        elif operation == 1 and buffer:
            buffer[min(at, len(buffer) - 1)] = rng.choice(INTERESTING)
        elif operation == 2:
            buffer[at:at] = rng.randbytes(rng.randint(1, 8))
        elif operation == 3 and buffer:
            del buffer[at : at + rng.randint(1, 16)]
        elif operation == 4 and buffer:
            start = rng.randrange(len(buffer))
            buffer[at:at] = buffer[start : start + rng.randint(1, 32)]
        elif operation == 5:
            buffer[at:at] = rng.choice(TOKENS)
        else:
            other = rng.choice(corpus)
            cut = rng.randrange(len(other) + 1)
            buffer = buffer[:at] + bytearray(other[cut:])
    return bytes(buffer[: 70 * 1024])


def load_corpus() -> list[bytes]:
    return [path.read_bytes() for path in sorted(CORPUS.iterdir()) if path.is_file()]


def fuzz(runs: int, seed: int, *, report_every: float = 10.0, quiet: bool = False) -> int:
    """Mutational fuzzing: *runs* inputs through every target; returns the number run."""
    all_targets = targets()
    corpus = load_corpus()
    rng = random.Random(seed)
    started = last = time.monotonic()
    for run in range(1, runs + 1):
        data = mutate(rng.choice(corpus), rng, corpus) if run > len(corpus) else corpus[run - 1]
        try:
            check(data, all_targets)
        except AssertionError:
            CRASHES.mkdir(exist_ok=True)
            path = CRASHES / f"crash-{hashlib.sha1(data).hexdigest()[:16]}"
            path.write_bytes(data)
            print(f"crash after {run:,} inputs; input saved to {path}", file=sys.stderr)
            raise
        now = time.monotonic()
        if not quiet and now - last >= report_every:
            print(f"{run:,} inputs, {run / (now - started):,.0f}/s", file=sys.stderr, flush=True)
            last = now
    return runs


def run_atheris(argv: list[str]) -> None:  # pragma: no cover - needs atheris
    import atheris

    with atheris.instrument_imports():
        import dlrkit  # noqa: F401

    all_targets = targets()

    def one_input(data: bytes) -> None:
        check(data, all_targets)

    # libFuzzer adds what it finds to the first directory: a scratch one, so
    # the committed seeds stay as they are.
    WORK.mkdir(exist_ok=True)
    CRASHES.mkdir(exist_ok=True)
    options = [f"-artifact_prefix={CRASHES}/", *argv]
    atheris.Setup([sys.argv[0], *options, str(WORK), str(CORPUS)], one_input)
    atheris.Fuzz()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--atheris", action="store_true", help="coverage-guided, with atheris")
    args, rest = parser.parse_known_args()
    if args.atheris:
        run_atheris(rest)
        return 0
    started = time.monotonic()
    count = fuzz(args.runs, args.seed)
    elapsed = time.monotonic() - started
    per_input = len(targets())
    print(
        f"passed: {count:,} inputs x {per_input} targets = {count * per_input:,} executions "
        f"in {elapsed:,.0f} s, no exception but DlrError"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
