"""dlrkit: typed SMS delivery receipts (DLRs) for the Vonage (Nexmo) SMS API.

Everything a user needs is importable from here; modules starting with ``_``
are private.
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
)
from ._parse import (
    DEFAULT_MAX_SIZE,
    decode_form,
    decode_json,
    decode_query,
    decode_request,
    parse,
    parse_form,
    parse_json,
    parse_query,
    parse_request,
)
from ._receipt import DeliveryReceipt, FrozenFields
from ._send import SendResponse, SendStatus, SentPart, parse_send_response
from ._signature import (
    DEFAULT_MAX_AGE,
    NonceCache,
    SignatureMethod,
    sign,
    signing_string,
    verify_signature,
)
from ._status import DlrStatus
from ._version import __version__
from .stores import MemoryStore, SQLiteStore

__all__ = [
    "DEFAULT_MAX_AGE",
    "DEFAULT_MAX_SIZE",
    "DEFAULT_POLICY",
    "Action",
    "DeliveryReceipt",
    "DlrError",
    "DlrStatus",
    "ErrorCode",
    "FrozenFields",
    "InvalidFieldError",
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
    "SignatureMethod",
    "Tracker",
    "Verdict",
    "__version__",
    "classify",
    "decode_form",
    "decode_json",
    "decode_query",
    "decode_request",
    "parse",
    "parse_form",
    "parse_json",
    "parse_query",
    "parse_request",
    "parse_send_response",
    "should_remove",
    "should_retry",
    "sign",
    "signing_string",
    "verify_signature",
]
