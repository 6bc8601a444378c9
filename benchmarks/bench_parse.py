"""Wire bytes -> typed receipt: dlrkit against a pydantic v2 model, as ratios.

Both sides do the same conversions: required strings, the status word to an
enum, err-code to int, price to Decimal, message-timestamp and timestamp to
aware UTC datetimes, scts (YYMMDDHHMM) to a datetime or None, unknown fields
kept. For query strings and form bodies pydantic first needs the standard
library's ``parse_qsl``; for JSON it gets its own fast ``model_validate_json``.

Run:  python benchmarks/bench_parse.py [--rounds N]
Needs the ``bench`` extra (pydantic).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections.abc import Callable
from datetime import datetime, timezone
from decimal import Decimal
from enum import Enum
from typing import Any
from urllib.parse import parse_qsl, urlencode

from _timing import best_per_call
from pydantic import BaseModel, ConfigDict, Field, field_validator

import dlrkit

TARGETS = {"query": 0.5, "form": 0.5, "mapping": 1.0, "json": 2.0}

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
        try:
            return datetime.strptime(value, "%y%m%d%H%M")
        except (TypeError, ValueError):
            return None

    @field_validator("message_timestamp", mode="after")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value


def cases() -> dict[str, tuple[Callable[[], object], Callable[[], object]]]:
    query = urlencode(FIELDS)
    form = query.encode()
    body = json.dumps(FIELDS).encode()
    mapping = dict(FIELDS)
    validate = PydanticReceipt.model_validate
    return {
        "query": (
            lambda: dlrkit.parse_query(query),
            lambda: validate(dict(parse_qsl(query, keep_blank_values=True))),
        ),
        "form": (
            lambda: dlrkit.parse_form(form),
            lambda: validate(dict(parse_qsl(form.decode(), keep_blank_values=True))),
        ),
        "mapping": (lambda: dlrkit.parse(mapping), lambda: validate(mapping)),
        "json": (
            lambda: dlrkit.parse_json(body),
            lambda: PydanticReceipt.model_validate_json(body),
        ),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--number", type=int, default=20_000)
    args = parser.parse_args(argv)

    # Sanity: both sides agree on what they parsed.
    for ours, theirs in cases().values():
        a, b = ours(), theirs()
        assert a.price == b.price and a.err_code == b.err_code, (a, b)  # type: ignore[attr-defined]
        assert a.message_timestamp == b.message_timestamp  # type: ignore[attr-defined]

    print(
        f"dlrkit {dlrkit.__version__} vs pydantic;"
        f" best of {args.rounds} alternating rounds x {args.number} calls"
    )
    print(f"{'encoding':<9} {'dlrkit µs':>10} {'pydantic µs':>12} {'ratio':>7} {'target':>7}")
    ratios = []
    for name, (ours, theirs) in cases().items():
        t_ours, t_theirs = best_per_call((ours, theirs), args.rounds, args.number)
        ratio = t_ours / t_theirs
        ratios.append(ratio)
        flag = "ok" if ratio <= TARGETS[name] else "MISS"
        print(
            f"{name:<9} {t_ours * 1e6:>10.2f} {t_theirs * 1e6:>12.2f} {ratio:>7.2f} "
            f"{TARGETS[name]:>6.1f}x {flag}"
        )
    print(f"geometric mean ratio: {statistics.geometric_mean(ratios):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
