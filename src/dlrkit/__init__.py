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
    verdict_for,
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
from ._limits import DEFAULT_LIMITS, Limits
from ._messages_api import MessageError, MessageStatus, parse_message_status
from ._parse import (
    DEFAULT_MAX_SIZE,
    decode_fields,
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
from ._reports import REPORT_COLUMNS, ReportRecord, conversion_payload, parse_report_record
from ._send import SendResponse, SendStatus, SentPart, parse_send_response
from ._signature import (
    DEFAULT_MAX_AGE,
    NonceCache,
    SignatureMethod,
    sign,
    signing_string,
    verify_signature,
)
from ._smpp import SmppReceipt, normalize_smpp_id, parse_smpp_receipt, smpp_ids_match
from ._status import DlrStatus
from ._version import __version__
from .stores import MemoryStore, SQLiteStore

__all__ = [
    "DEFAULT_LIMITS",
    "DEFAULT_MAX_AGE",
    "DEFAULT_MAX_SIZE",
    "DEFAULT_POLICY",
    "REPORT_COLUMNS",
    "Action",
    "DeliveryReceipt",
    "DlrError",
    "DlrStatus",
    "ErrorCode",
    "FrozenFields",
    "InvalidFieldError",
    "Limits",
    "MalformedPayloadError",
    "MemoryStore",
    "MessageError",
    "MessageState",
    "MessageStatus",
    "MissingFieldError",
    "NonceCache",
    "Policy",
    "ReceiptLike",
    "ReportRecord",
    "SQLiteStore",
    "SendResponse",
    "SendStatus",
    "SentPart",
    "SignatureError",
    "SignatureMethod",
    "SmppReceipt",
    "Tracker",
    "Verdict",
    "__version__",
    "classify",
    "conversion_payload",
    "decode_fields",
    "decode_form",
    "decode_json",
    "decode_query",
    "decode_request",
    "normalize_smpp_id",
    "parse",
    "parse_form",
    "parse_json",
    "parse_message_status",
    "parse_query",
    "parse_report_record",
    "parse_request",
    "parse_send_response",
    "parse_smpp_receipt",
    "should_remove",
    "should_retry",
    "sign",
    "signing_string",
    "smpp_ids_match",
    "verdict_for",
    "verify_signature",
]
