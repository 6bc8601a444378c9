"""The Messages API's status webhook (SMS, MMS, WhatsApp, ...), in dlrkit's vocabulary.

``status`` is a :class:`~dlrkit.DlrStatus`, so ``dlrkit.classify`` accepts a
:class:`MessageStatus` like a receipt.
"""

from ._status import MessageError, MessageStatus, parse_message_status

__all__ = ["MessageError", "MessageStatus", "parse_message_status"]
