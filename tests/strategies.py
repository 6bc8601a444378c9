"""Hypothesis strategies for the test suite's own use: valid wire mappings."""

from __future__ import annotations

import string
from datetime import datetime, timezone

from hypothesis import strategies as st

from dlrkit import DlrStatus, ErrorCode
from dlrkit._fields import FIELDS

# Printable text without surrogates (which no wire encoding can carry).
text = st.text(st.characters(exclude_categories=("Cs",)), max_size=30)
nonempty = text.filter(lambda s: s not in ("", "null"))

hex_ids = st.text("0123456789ABCDEF", min_size=16, max_size=18)
message_ids = st.one_of(hex_ids, st.uuids().map(str))
msisdns = st.text(string.digits, min_size=8, max_size=15)
statuses = st.one_of(
    st.sampled_from([s.value for s in DlrStatus]),
    st.sampled_from(["DELIVERED", "Failed", "deleted", "undeliv"]),
)
err_codes = st.one_of(
    st.sampled_from([str(int(c)) for c in ErrorCode]),
    st.integers(0, 10**9).map(str),
    st.sampled_from(["000", "007"]),
)
datetimes = st.datetimes(datetime(2001, 1, 1), datetime(2098, 12, 31))
network_codes = st.one_of(st.text(string.digits, min_size=5, max_size=6), st.just("US-TOLL-FREE"))
prices = st.decimals(0, 10, places=8).map(lambda d: format(d, "f"))
scts = st.one_of(
    datetimes.map(lambda d: d.strftime("%y%m%d%H%M")),
    st.text(string.digits, min_size=10, max_size=10),
    st.just("1234567890"),
)
message_timestamps = datetimes.map(lambda d: d.strftime("%Y-%m-%d %H:%M:%S"))
timestamps = st.one_of(
    st.integers(0, 4_000_000_000).map(str),
    datetimes.map(lambda d: d.replace(tzinfo=timezone.utc).isoformat()),
)

REQUIRED = {
    "messageId": message_ids,
    "msisdn": msisdns,
    "to": st.one_of(msisdns, nonempty),
    "status": statuses,
    "err-code": err_codes,
}
OPTIONAL = {
    "network-code": network_codes,
    "price": prices,
    "scts": scts,
    "message-timestamp": message_timestamps,
    "client-ref": nonempty,
    "api-key": nonempty,
    "timestamp": timestamps,
    "nonce": nonempty,
    "sig": st.text("0123456789abcdef", min_size=32, max_size=32),
}
extra_names = text.filter(lambda s: s not in FIELDS and s != "")


@st.composite
def wire_fields(draw: st.DrawFn, *, absent_markers: bool = True) -> dict[str, str]:
    """A mapping the provider could send: required fields, some optional, some unknown."""
    fields = {name: draw(strategy) for name, strategy in REQUIRED.items()}
    for name, strategy in OPTIONAL.items():
        choice = draw(st.sampled_from(["absent", "value", "value", "marker"]))
        if choice == "value":
            fields[name] = draw(strategy)
        elif choice == "marker" and absent_markers:
            fields[name] = draw(st.sampled_from(["", "null"]))
    fields.update(draw(st.dictionaries(extra_names, text, max_size=3)))
    order = draw(st.permutations(list(fields)))
    return {name: fields[name] for name in order}
