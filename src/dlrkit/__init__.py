"""dlrkit: typed SMS delivery receipts (DLRs) for the Vonage (Nexmo) SMS API.

Everything a user needs is importable from here; modules starting with ``_``
are private.
"""

from ._codes import ErrorCode
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

__all__ = [
    "DEFAULT_MAX_AGE",
    "DEFAULT_MAX_SIZE",
    "DeliveryReceipt",
    "DlrError",
    "DlrStatus",
    "ErrorCode",
    "FrozenFields",
    "InvalidFieldError",
    "MalformedPayloadError",
    "MissingFieldError",
    "NonceCache",
    "SignatureError",
    "SignatureMethod",
    "__version__",
    "decode_form",
    "decode_json",
    "decode_query",
    "decode_request",
    "parse",
    "parse_form",
    "parse_json",
    "parse_query",
    "parse_request",
    "sign",
    "signing_string",
    "verify_signature",
]
