"""Wire bytes -> typed receipt, as ratios to the standard library measured in the same run.

The receipt is the provider's own, eleven fields as it sends them. Peers:

* ``parse_qsl``: bare ``dict(urllib.parse.parse_qsl(q, keep_blank_values=True))``,
  which only splits the string: no validation, no types.
* ``json.loads``: bare ``json.loads(body)`` of the same receipt as JSON.
* ``pydantic``: what a team would write with pydantic v2 for the same job
  (a model with aliases, the status as an enum, Decimal price, aware
  datetimes, and an ``scts`` validator by slicing, as a pydantic user would
  write it rather than calling ``strptime``); fed ``parse_qsl``'s dict for
  queries and ``model_validate_json`` for JSON.

Each round times every case back to back (alternating, so that a change in
the shared machine's speed reaches all alike); the figures are the median
and the spread (min-max) over the rounds of the per-call time, and of each
round's ratio. Targets (issue 18): ``parse_query``/``parse_form`` at most
0.70x ``parse_qsl``; ``parse_json`` at most 2.0x ``json.loads``;
``parse(mapping)`` at most 1.4x ``json.loads``; a receipt whose ``scts`` is
not a date at most 1.10x one whose ``scts`` is.

Run:  python benchmarks/bench_parse.py [--rounds 7] [--number 20000]
Needs the ``bench`` extra (pydantic).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import timeit
from collections.abc import Callable
from datetime import datetime, timezone
from decimal import Decimal
from enum import Enum
from typing import Any
from urllib.parse import parse_qsl, urlencode

from pydantic import BaseModel, ConfigDict, Field, field_validator

import dlrkit

FIELDS = {
    "err-code": "0",
    "message-timestamp": "2020-07-17 02:34:35",
    "messageId": "0B00000127FDBC63",
    "msisdn": "447547232824",
    "network-code": "23410",
    "price": "0.03330000",
    "scts": "2007170234",
    "status": "delivered",
    "to": "Vonage APIs",
    "client-ref": "order 1234/5",
    "api-key": "abcd1234",
}
NOT_A_DATE = {**FIELDS, "scts": "1234567890"}  # as SDK test captures carry


class Status(str, Enum):
    ACCEPTED = "accepted"
    DELIVERED = "delivered"
    BUFFERED = "buffered"
    EXPIRED = "expired"
    FAILED = "failed"
    REJECTED = "rejected"
    UNKNOWN = "unknown"


class PydanticReceipt(BaseModel):
    """The peer: what a team would write with pydantic v2 for the same job."""

    model_config = ConfigDict(extra="allow", frozen=True, populate_by_name=True)

    message_id: str = Field(alias="messageId")
    msisdn: str
    to: str
    status: Status
    err_code: int = Field(alias="err-code")
    network_code: str | None = Field(default=None, alias="network-code")
    price: Decimal | None = None
    scts: datetime | None = None
    message_timestamp: datetime | None = Field(default=None, alias="message-timestamp")
    client_ref: str | None = Field(default=None, alias="client-ref")
    api_key: str | None = Field(default=None, alias="api-key")
    timestamp: datetime | None = None
    nonce: str | None = None
    sig: str | None = None

    @field_validator("scts", mode="before")
    @classmethod
    def _scts(cls, value: Any) -> datetime | None:
        # YYMMDDHHMM by slicing: what a pydantic user would write for speed.
        try:
            return datetime(
                2000 + int(value[0:2]),
                int(value[2:4]),
                int(value[4:6]),
                int(value[6:8]),
                int(value[8:10]),
            )
        except (TypeError, ValueError, IndexError):
            return None

    @field_validator("message_timestamp", mode="after")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value


Case = dict[str, Callable[[], object]]


def cases() -> Case:
    query = urlencode(FIELDS)
    form = query.encode()
    body = json.dumps(FIELDS).encode()
    mapping = dict(FIELDS)
    odd = dict(NOT_A_DATE)
    validate = PydanticReceipt.model_validate
    return {
        "dlrkit query": lambda: dlrkit.parse_query(query),
        "dlrkit form": lambda: dlrkit.parse_form(form),
        "dlrkit json": lambda: dlrkit.parse_json(body),
        "dlrkit mapping": lambda: dlrkit.parse(mapping),
        "dlrkit mapping, scts no date": lambda: dlrkit.parse(odd),
        "parse_qsl": lambda: dict(parse_qsl(query, keep_blank_values=True)),
        "json.loads": lambda: json.loads(body),
        "pydantic query": lambda: validate(dict(parse_qsl(query, keep_blank_values=True))),
        "pydantic json": lambda: PydanticReceipt.model_validate_json(body),
    }


# (name, what, peer, target): what's time is at most target x peer's.
TARGETS = [
    ("query", "dlrkit query", "parse_qsl", 0.70),
    ("form", "dlrkit form", "parse_qsl", 0.70),
    ("json", "dlrkit json", "json.loads", 2.0),
    ("mapping", "dlrkit mapping", "json.loads", 1.4),
    ("scts no date", "dlrkit mapping, scts no date", "dlrkit mapping", 1.10),
    ("query vs pydantic", "dlrkit query", "pydantic query", None),
    ("json vs pydantic", "dlrkit json", "pydantic json", None),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--number", type=int, default=20_000)
    args = parser.parse_args(argv)

    # Sanity: the peers read the same receipt.
    ours = dlrkit.parse(FIELDS)
    theirs = PydanticReceipt.model_validate(FIELDS)
    assert (ours.price, ours.err_code, ours.scts) == (theirs.price, theirs.err_code, theirs.scts)
    assert ours.message_timestamp == theirs.message_timestamp

    funcs = cases()
    times: dict[str, list[float]] = {name: [] for name in funcs}
    for _ in range(args.rounds):
        for name, func in funcs.items():
            times[name].append(timeit.timeit(func, number=args.number) / args.number)

    print(
        f"dlrkit {dlrkit.__version__}, Python {sys.version.split()[0]}; "
        f"{args.rounds} alternating rounds x {args.number:,} calls: median (min-max) per call"
    )
    for name, samples in times.items():
        print(
            f"  {name:<30} {statistics.median(samples) * 1e6:6.2f} us "
            f"({min(samples) * 1e6:.2f}-{max(samples) * 1e6:.2f})"
        )
    print("ratios, each round's own, median (min-max):")
    for label, what, peer, target in TARGETS:
        ratios = [a / b for a, b in zip(times[what], times[peer], strict=True)]
        median = statistics.median(ratios)
        verdict = "" if target is None else (" ok" if median <= target else " MISS")
        goal = "" if target is None else f"  target <= {target:.2f}x"
        print(
            f"  {label:<18} {median:5.2f}x of {peer:<14} ({min(ratios):.2f}-{max(ratios):.2f})"
            f"{goal}{verdict}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
