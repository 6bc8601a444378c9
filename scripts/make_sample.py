"""Generate the sample receipt log bundled with dlrkit (``dlrkit report --sample``).

The log is made up but plausible: a day of traffic to a handful of networks,
mostly delivered, with interim ``accepted``/``buffered`` receipts, the err-codes
real traffic shows most (absent subscribers, busy handsets, anti-spam, barred
and dead numbers), a few codes the guide does not list, some lines as raw
query strings (as found in access logs) and a few broken lines.

Deterministic: the same seed gives the same bytes.

    python scripts/make_sample.py            # rewrites src/dlrkit/data/sample-dlr.jsonl.gz
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import random
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

OUT = Path(__file__).resolve().parent.parent / "src" / "dlrkit" / "data" / "sample-dlr.jsonl.gz"

# (MCCMNC, price per part, weight)
NETWORKS = [
    ("23410", "0.03330000", 30),  # UK O2
    ("23415", "0.03330000", 20),  # UK Vodafone
    ("26201", "0.07150000", 12),  # DE Telekom
    ("20801", "0.06800000", 10),  # FR Orange
    ("310260", "0.00680000", 15),  # US T-Mobile
    ("US-TOLL-FREE", "0.00680000", 3),
    ("40410", "0.00520000", 10),  # IN Airtel
]
# (status, err-code, weight) for final outcomes.
OUTCOMES = [
    ("delivered", "0", 860),
    ("failed", "2", 30),
    ("expired", "2", 10),
    ("failed", "3", 18),
    ("rejected", "4", 6),
    ("failed", "5", 2),
    ("rejected", "6", 12),
    ("failed", "7", 10),
    ("failed", "8", 9),
    ("rejected", "9", 5),
    ("rejected", "10", 3),
    ("rejected", "11", 2),
    ("failed", "12", 4),
    ("failed", "15", 3),
    ("rejected", "16", 2),
    ("rejected", "39", 4),
    ("rejected", "41", 2),
    ("rejected", "51", 3),
    ("failed", "99", 2),
    ("unknown", "1", 5),
    ("failed", "73", 1),  # a code the guide does not list
]
BROKEN = [
    '{"messageId": "0B000001", "msisdn": "447700900123", "status": "delivered"}',
    "messageId=0B000002&msisdn=447700900124&to=Acme&status=delivered&err-code=zero",
    '{"truncated": "line',
]


def receipts(count: int, rng: random.Random) -> list[str]:
    lines: list[str] = []
    start = datetime(2026, 11, 20, 6, 0, 0)
    nets, net_weights = zip(*[(n[:2], n[2]) for n in NETWORKS], strict=True)
    outcomes, outcome_weights = zip(*[(o[:2], o[2]) for o in OUTCOMES], strict=True)
    while len(lines) < count:
        sent = start + timedelta(seconds=rng.randrange(16 * 3600))
        (network, price), = rng.choices(nets, net_weights)
        msisdn = {"234": "447", "262": "4915", "208": "336", "310": "1", "404": "9198"}.get(
            network[:3], "1"
        ) + "".join(rng.choice("0123456789") for _ in range(9))
        parts = rng.choices([1, 2, 3], [85, 12, 3])[0]
        client_ref = f"order-{rng.randrange(10**6):06d}" if rng.random() < 0.4 else None
        for _ in range(parts):
            message_id = f"{rng.getrandbits(64):016X}"
            (status, err_code), = rng.choices(outcomes, outcome_weights)
            base = {
                "msisdn": msisdn,
                "to": rng.choice(["AcmeShop", "12025550123", "Acme Alerts"]),
                "network-code": network,
                "messageId": message_id,
                "price": price,
                "api-key": "a1b2c3d4",
            }
            if client_ref:
                base["client-ref"] = client_ref
            if rng.random() < 0.25:
                stamp = sent + timedelta(seconds=rng.randrange(1, 5))
                lines.append(encode(rng, {**base, "status": rng.choice(["accepted", "buffered"]),
                                          "err-code": "0", "scts": stamp.strftime("%y%m%d%H%M"),
                                          "message-timestamp": f"{stamp:%Y-%m-%d %H:%M:%S}"}))
            done = sent + timedelta(seconds=rng.randrange(3, 900))
            final = {**base, "status": status, "err-code": err_code,
                     "message-timestamp": f"{done:%Y-%m-%d %H:%M:%S}"}
            if status == "delivered" or rng.random() < 0.5:  # failed receipts often lack scts
                final["scts"] = done.strftime("%y%m%d%H%M")
            lines.append(encode(rng, final))
    lines = lines[:count]
    for broken in BROKEN:
        lines.insert(rng.randrange(len(lines)), broken)
    return lines


def encode(rng: random.Random, fields: dict[str, str]) -> str:
    if rng.random() < 0.1:
        return urlencode(fields)  # as an access log would show a GET webhook
    return json.dumps(fields, separators=(",", ":"))


def write_log(path: Path, lines: int, *, seed: int, compress: bool) -> int:
    """Write a log of *lines* receipts (plus a few broken lines); returns its size."""
    text = "\n".join(receipts(lines, random.Random(seed))) + "\n"
    data = text.encode()
    if compress:
        buffer = io.BytesIO()
        # mtime=0 and no file name: the same seed gives the same bytes.
        with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0) as gz:
            gz.write(data)
        data = buffer.getvalue()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return len(data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    size = write_log(args.out, args.lines, seed=args.seed, compress=args.out.suffix == ".gz")
    print(f"wrote {args.out} ({size} bytes)")


if __name__ == "__main__":
    main()
