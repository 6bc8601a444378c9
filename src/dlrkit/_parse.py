"""The receipt parsers: a mapping, a query string, a form body or a JSON body.

Every encoding takes the same path: decode the payload to a ``str -> str``
mapping (``_urlencoded``, ``_json``), then read that mapping with the
receipt's field table (``_fields``). Only ``DlrError`` subclasses leave here,
whatever the input.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final, TypeAlias

from ._fields import FIELDS, STRICT_FIELDS
from ._json import decode_json
from ._limits import DEFAULT_LIMITS, Limits
from ._receipt import DeliveryReceipt, FrozenFields, build_receipt
from ._table import check_mapping
from ._urlencoded import decode_query, url_query_fields

__all__ = [
    "decode_fields",
    "parse",
    "parse_form",
    "parse_json",
    "parse_query",
    "read_fields",
    "receipt",
]

FieldValue: TypeAlias = "str | Sequence[str]"
"""A field's value: a string, or a list of strings as frameworks give for queries."""

_NO_EXTRA: Final = FrozenFields()


def parse(
    fields: Mapping[str, FieldValue], *, strict: bool = False, limits: Limits = DEFAULT_LIMITS
) -> DeliveryReceipt:
    """Parse a mapping of wire fields into a :class:`DeliveryReceipt`.

    *fields* is what a web framework gives: ``request.args``, ``request.POST``,
    a parsed JSON object, or a plain dict. A value may be a one-element list;
    an empty list counts as absent and a longer list is a repeated field,
    which is refused (see :func:`~dlrkit.wire.decode_query`). An ``int`` is
    read as its decimal text. The strings ``""`` and ``"null"`` mean "absent"
    for an optional field. Fields dlrkit does not know are kept in ``extra``.

    With ``strict=True`` a ``status`` that is not one of the seven wire words
    is refused; by default it becomes ``DlrStatus.UNKNOWN`` (or the status an
    SMPP or Messages API word stands for) and the raw word stays in
    ``to_wire()``. *limits* bounds the number of fields and the length of
    each; NUL characters and lone surrogates are refused.

    Raises:
        MissingFieldError: ``messageId``, ``msisdn``, ``to``, ``status`` or
            ``err-code`` is absent or empty.
        InvalidFieldError: a field's value is malformed or repeated.
        MalformedPayloadError: *fields* is not a mapping.
    """
    check_mapping(fields, limits)
    return receipt(fields, strict)


def receipt(fields: Mapping[str, Any], strict: bool = False) -> DeliveryReceipt:
    """:func:`parse` for a mapping that a wire decoder has already checked."""
    values, raw, extra = (STRICT_FIELDS if strict else FIELDS).read(fields)
    return build_receipt(values, raw, _NO_EXTRA if extra is None else FrozenFields._adopt(extra))


def decode_fields(
    fields: Mapping[str, FieldValue], *, strict: bool = False, limits: Limits = DEFAULT_LIMITS
) -> tuple[dict[str, Any], dict[str, str], dict[str, str] | None]:
    """:func:`parse` without building the receipt: the checks and conversions alone.

    Returns the typed values by attribute name, the raw strings of the typed
    fields, and the unknown fields (None when there are none). For code that
    counts receipts by the million and never keeps them (``dlrkit report``);
    checks and raises exactly what :func:`parse` does, limits included.
    """
    check_mapping(fields, limits)
    return read_fields(fields, strict)


def read_fields(
    fields: Mapping[str, Any], strict: bool = False
) -> tuple[dict[str, Any], dict[str, str], dict[str, str] | None]:
    """:func:`decode_fields` for a mapping that a wire decoder has already checked."""
    return (STRICT_FIELDS if strict else FIELDS).read(fields)


def parse_query(
    query: str | bytes, *, strict: bool = False, limits: Limits = DEFAULT_LIMITS
) -> DeliveryReceipt:
    """Parse the query string of a ``GET`` webhook request (a leading ``?`` is ignored).

    >>> r = parse_query("messageId=0B00000127FDBC63&msisdn=447547232824&to=Vonage"
    ...                 "&status=delivered&err-code=0&message-timestamp=2020-07-17+02%3A34%3A35")
    >>> r.status, r.message_timestamp.isoformat()
    (<DlrStatus.DELIVERED: 'delivered'>, '2020-07-17T02:34:35+00:00')
    """
    return receipt(url_query_fields(query, limits), strict)


def parse_form(
    body: bytes | str,
    *,
    charset: str | None = "utf-8",
    strict: bool = False,
    limits: Limits = DEFAULT_LIMITS,
) -> DeliveryReceipt:
    """Parse an ``application/x-www-form-urlencoded`` ``POST`` body.

    *charset* is the ``charset`` parameter of the request's content type: the
    UTF-8 family, US-ASCII, ISO-8859-1 or windows-1252.
    """
    return receipt(decode_query(body, charset=charset, limits=limits), strict)


def parse_json(
    body: bytes | str, *, strict: bool = False, limits: Limits = DEFAULT_LIMITS
) -> DeliveryReceipt:
    """Parse an ``application/json`` ``POST`` body; see :func:`~dlrkit.wire.decode_json`."""
    return receipt(decode_json(body, limits=limits), strict)
