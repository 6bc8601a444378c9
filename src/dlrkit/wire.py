"""The wire decoders under the parsers: a payload to a ``str -> str`` mapping.

``dlrkit.parse_query``, ``parse_form``, ``parse_json`` and ``parse_request``
are these decoders followed by ``dlrkit.parse``. Use them directly for code
that needs the request's fields as strings: to look at a field before
parsing, to verify a signature on its own (``dlrkit.verify_signature``), or
to count receipts without building them (:func:`decode_fields`).

Each raises only ``DlrError``, with the same rules and ``limits=`` as the
parsers.
"""

from ._json import decode_json
from ._parse import decode_fields
from ._request import decode_request
from ._urlencoded import decode_query

__all__ = ["decode_fields", "decode_json", "decode_query", "decode_request"]
