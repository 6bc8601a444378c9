"""Hypothesis' entry point: registers dlrkit's strategies for ``st.from_type``."""

from __future__ import annotations


def _hypothesis_setup_hook() -> None:
    # Imported here: Hypothesis calls every entry point as it starts, before
    # dlrkit itself may be importable without a cycle.
    from hypothesis import strategies as st

    from .. import (
        DeliveryReceipt,
        FrozenFields,
        Verdict,
        classify,
    )
    from . import strategies

    st.register_type_strategy(DeliveryReceipt, strategies.receipts())
    st.register_type_strategy(Verdict, strategies.receipts().map(classify))
    st.register_type_strategy(FrozenFields, st.dictionaries(st.text(), st.text()).map(FrozenFields))
