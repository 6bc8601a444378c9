"""The Conversion API: tell the provider whether a message really arrived.

In countries without reliable receipts, the application knows better than
the carrier (the user typed the code the message carried). This builds the
request body; it is pure data, so send it with your own HTTP client.
"""

from __future__ import annotations

from datetime import datetime, timezone

from .._receipt import DeliveryReceipt

__all__ = ["conversion_payload"]


def conversion_payload(
    receipt_or_message_id: DeliveryReceipt | str,
    delivered: bool,
    timestamp: datetime | None = None,
) -> dict[str, str]:
    """The body the Conversion API expects for one message: pure data, no HTTP.

    In countries without reliable receipts, tell the provider whether a
    message really arrived (e.g. the user typed the code it carried).
    *timestamp* is when it was delivered (UTC); by default the receipt's
    ``message_timestamp``, else now.

    >>> conversion_payload("0B00000127FDBC63", True, datetime(2026, 11, 20, 12, 0))
    {'message-id': '0B00000127FDBC63', 'delivered': 'true', 'timestamp': '2026-11-20 12:00:00'}
    """
    if isinstance(receipt_or_message_id, DeliveryReceipt):
        message_id = receipt_or_message_id.message_id
        timestamp = timestamp or receipt_or_message_id.message_timestamp
    else:
        message_id = receipt_or_message_id
    if not message_id:
        raise ValueError("a message id is needed")
    when = timestamp or datetime.now(timezone.utc)
    if when.tzinfo is not None:
        when = when.astimezone(timezone.utc)
    return {
        "message-id": message_id,
        "delivered": "true" if delivered else "false",
        "timestamp": when.strftime("%Y-%m-%d %H:%M:%S"),
    }
