"""Hypothesis' entry point: registers dlrkit's strategies for ``st.from_type``.

Every public record type gets a strategy that builds it the way real traffic
does (by parsing generated wire payloads), so its values are consistent: a
``SendResponse``'s ``message_count`` matches its parts, a ``MessageState``
is the tracker's own aggregate of real receipts.
"""

from __future__ import annotations


def _hypothesis_setup_hook() -> None:
    # Imported here: Hypothesis calls every entry point as it starts, before
    # dlrkit itself may be importable without a cycle.
    from hypothesis import strategies as st

    from .. import (
        DeliveryReceipt,
        MessageState,
        SendResponse,
        SentPart,
        Verdict,
        classify,
        parse_send_response,
    )
    from ..messages_api import MessageError, MessageStatus, parse_message_status
    from ..reports_api import ReportRecord, parse_report_record
    from ..smpp import SmppReceipt, parse_smpp_receipt
    from . import strategies

    send_responses = strategies.send_responses().map(parse_send_response)
    st.register_type_strategy(DeliveryReceipt, strategies.receipts())
    st.register_type_strategy(Verdict, strategies.receipts().map(classify))
    st.register_type_strategy(SendResponse, send_responses)
    st.register_type_strategy(
        SentPart, send_responses.flatmap(lambda response: st.sampled_from(response.messages))
    )
    st.register_type_strategy(MessageState, strategies.message_states())
    st.register_type_strategy(
        MessageStatus, strategies.message_statuses().map(parse_message_status)
    )
    st.register_type_strategy(
        MessageError,
        strategies.message_statuses(failed=True).map(lambda b: parse_message_status(b).error),
    )
    st.register_type_strategy(ReportRecord, strategies.report_records().map(parse_report_record))
    st.register_type_strategy(SmppReceipt, strategies.smpp_receipt_texts().map(parse_smpp_receipt))
