"""Public API as a user's type checker sees it; test_typing.py runs mypy --strict on it."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import dlrkit
from dlrkit.messages_api import parse_message_status
from dlrkit.smpp import SmppReceipt, parse_smpp_receipt
from dlrkit.stores import Store
from dlrkit.testing import make_dlr

receipt: dlrkit.DeliveryReceipt = dlrkit.parse(
    {"messageId": "m", "msisdn": "1", "to": "x", "status": "failed", "err-code": "2"}
)
code: int = receipt.err_code + 1
meaning: str | None = receipt.error.meaning if receipt.error is not None else None
price: Decimal | None = receipt.price
when: datetime | None = receipt.message_timestamp
wire: dict[str, str] = receipt.to_wire()
value: str = dlrkit.DlrStatus.DELIVERED.value
number: int = dlrkit.ErrorCode.HANDSET_BUSY.value + 0
action: dlrkit.Action = dlrkit.ErrorCode(7).action

verdict: dlrkit.Verdict = dlrkit.classify(receipt)
delay: timedelta | None = verdict.backoff(2)
policy: dlrkit.Policy = dlrkit.DEFAULT_POLICY.with_action(6, dlrkit.Action.FIX_REQUEST)
retry: bool = dlrkit.should_retry(receipt, policy)

signature: str = dlrkit.sign(wire, "secret", dlrkit.SignatureMethod.SHA256)
dlrkit.verify_signature({**wire, "sig": signature}, "secret", "sha256", max_age=None)

store: Store = dlrkit.SQLiteStore(":memory:")
tracker = dlrkit.Tracker(store)
key: str = tracker.expect(dlrkit.parse_send_response(b'{"message-count": "1", "messages": []}'))
state: dlrkit.MessageState | None = tracker.add(make_dlr())
status: dlrkit.DlrStatus | None = state.status if state is not None else None

smpp: SmppReceipt = parse_smpp_receipt("id:1 stat:DELIVRD err:000")
for record in (receipt, smpp, parse_message_status(b"{}"), state):
    if record is not None:
        dlrkit.classify(record)
limits = dlrkit.Limits(max_fields=32)
dlrkit.parse_query("a=b", limits=limits, strict=True)
failure: dlrkit.SignatureFailure = dlrkit.SignatureError("x", reason="mismatch").reason
status_word: str = failure.value
