"""dlrkit: typed SMS delivery receipts (DLRs) for the Vonage (Nexmo) SMS API.

This is the table of contents of what a webhook handler needs. The
neighbouring formats have subpackages of their own (``dlrkit.smpp``,
``dlrkit.messages_api``, ``dlrkit.reports_api``, ``dlrkit.conversion_api``),
as do the stores (``dlrkit.stores``), the wire decoders (``dlrkit.wire``),
the framework helpers (``dlrkit.contrib``) and test support
(``dlrkit.testing``). Modules starting with ``_`` are private.
"""

from ._classify import (
    DEFAULT_POLICY,
    Policy,
    ReceiptLike,
    Verdict,
    classify,
    should_remove,
    should_retry,
)
from ._codes import Action, ErrorCode
from ._concat import MessageState, Tracker
from ._errors import (
    DlrError,
    InvalidFieldError,
    MalformedPayloadError,
    MissingFieldError,
    SignatureError,
    SignatureFailure,
)
from ._limits import Limits
from ._parse import parse, parse_form, parse_json, parse_query
from ._receipt import DeliveryReceipt
from ._request import parse_request
from ._send import SendResponse, SendStatus, SentPart, parse_send_response
from ._signature import (
    NonceCache,
    SignatureMethod,
    replay_key,
    sign,
    signing_string,
    verify_signature,
)
from ._status import DlrStatus
from ._version import __version__
from .stores import MemoryStore, SQLiteStore

__all__ = [
    "DEFAULT_POLICY",
    "Action",
    "DeliveryReceipt",
    "DlrError",
    "DlrStatus",
    "ErrorCode",
    "InvalidFieldError",
    "Limits",
    "MalformedPayloadError",
    "MemoryStore",
    "MessageState",
    "MissingFieldError",
    "NonceCache",
    "Policy",
    "ReceiptLike",
    "SQLiteStore",
    "SendResponse",
    "SendStatus",
    "SentPart",
    "SignatureError",
    "SignatureFailure",
    "SignatureMethod",
    "Tracker",
    "Verdict",
    "__version__",
    "classify",
    "parse",
    "parse_form",
    "parse_json",
    "parse_query",
    "parse_request",
    "parse_send_response",
    "replay_key",
    "should_remove",
    "should_retry",
    "sign",
    "signing_string",
    "verify_signature",
]
