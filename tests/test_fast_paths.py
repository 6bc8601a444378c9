"""Every fast path is held to the general path it stands in for (issue 18)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from dlrkit import DeliveryReceipt
from dlrkit._fields import FIELDS
from dlrkit._receipt import FrozenFields, build_receipt
from dlrkit.testing.strategies import wire_fields

text = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=20)
odd_values = st.one_of(
    text,
    st.sampled_from(["", "null", "0", "007", "DELIVRD", "delivered", "1E-7", "2020-02-30 00:00:00",
                     "1234567890", "2020-07-17 02:34:35", "1385047698", "²", " 1"]),
)  # fmt: skip
# Mappings near the usual receipt: known names with odd values, and unknown names.
mappings = st.one_of(
    wire_fields(signed=False),
    st.builds(
        lambda base, changes: {**base, **changes},
        wire_fields(signed=False),
        st.dictionaries(st.sampled_from([*sorted(FIELDS.specs), "x", "type"]), odd_values),
    ),
)


@given(wire_fields(signed=False))
def test_build_receipt_is_the_attrs_init(fields: dict[str, str]) -> None:
    values, raw, extra = FIELDS.read(fields)
    built = build_receipt(values, raw, FrozenFields(extra or {}))
    init = DeliveryReceipt(**values, extra=extra or {}, _raw=raw)
    assert built == init and hash(built) == hash(init) and repr(built) == repr(init)
    assert built.to_wire() == init.to_wire() and vars(built) == vars(init)
