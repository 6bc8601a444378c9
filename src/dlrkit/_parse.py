"""Decoding the three wire forms of a receipt, and the one mapping parser.

Every encoding takes the same path: decode the payload to a ``str -> str``
mapping, then :func:`parse` that mapping. Only ``DlrError`` subclasses leave
this module, whatever the input.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Final, TypeAlias
from urllib.parse import unquote, unquote_to_bytes

from ._errors import InvalidFieldError, MalformedPayloadError, MissingFieldError, quote
from ._fields import ABSENT, FIELDS, REQUIRED, DecodeError, single_value
from ._limits import DEFAULT_LIMITS, Limits
from ._receipt import DeliveryReceipt, FrozenFields
from ._signature import DEFAULT_MAX_AGE, NonceCache, SignatureMethod, verify_signature
from ._status import DlrStatus

__all__ = [
    "DEFAULT_MAX_SIZE",
    "decode_fields",
    "decode_form",
    "decode_json",
    "decode_json_value",
    "decode_query",
    "decode_request",
    "parse",
    "parse_form",
    "parse_json",
    "parse_query",
    "parse_request",
]

DEFAULT_MAX_SIZE: Final = DEFAULT_LIMITS.max_size
"""Default limit, in bytes (characters for ``str`` input), of a query or body."""

FieldValue: TypeAlias = "str | Sequence[str]"
"""A field's value: a string, or a list of strings as frameworks give for queries."""

_NO_EXTRA: Final = FrozenFields()
# FIELDS unpacked for the hot loop of parse(): wire name -> (attr, decode, required).
_HANDLERS: Final = {wire: (s.attr, s.decode, s.required) for wire, s in FIELDS.items()}
_REQUIRED: Final = tuple((s.attr, s.wire) for s in REQUIRED)
_STATUS_WORDS: Final = frozenset(s.value for s in DlrStatus)


def parse(
    fields: Mapping[str, FieldValue], *, strict: bool = False, limits: Limits = DEFAULT_LIMITS
) -> DeliveryReceipt:
    """Parse a mapping of wire fields into a :class:`DeliveryReceipt`.

    *fields* is what a web framework gives: ``request.args``, ``request.POST``,
    a parsed JSON object, or a plain dict. A value may be a one-element list;
    an empty list counts as absent and a longer list is a repeated field,
    which is refused (see :func:`decode_query`). The strings ``""`` and
    ``"null"`` mean "absent" for an optional field. Fields dlrkit does not
    know are kept in ``extra``.

    With ``strict=True`` a ``status`` that is not one of the seven wire words
    is refused; by default it becomes ``DlrStatus.UNKNOWN`` and the raw word
    stays in ``to_wire()``. *limits* bounds the number of fields and the
    length of each; NUL characters are refused.

    Raises:
        MissingFieldError: ``messageId``, ``msisdn``, ``to``, ``status`` or
            ``err-code`` is absent or empty.
        InvalidFieldError: a field's value is malformed or repeated.
        MalformedPayloadError: *fields* is not a mapping.
    """
    _check_mapping(fields, limits)
    return _receipt(fields, strict)


def _check_mapping(fields: Mapping[str, FieldValue], limits: Limits) -> None:
    # What the payload decoders check as they decode, for a mapping that comes
    # from elsewhere (a framework's request.args, a message queue, ...).
    if not isinstance(fields, Mapping):
        return  # decode_fields() refuses it with a clear error
    if len(fields) > limits.max_fields:
        raise _too_many_fields(limits)
    longest = limits.max_value_length
    try:
        # All-string mappings (the usual case) are checked in C, at once: if
        # all the values together fit the limit, so does each one.
        names, values = "".join(fields), "".join(fields.values())  # type: ignore[arg-type]
        if (
            len(names) <= longest
            and len(values) <= longest
            and "\x00" not in names
            and "\x00" not in values
        ):
            return
    except TypeError:
        pass  # list values or odd names
    # Field by field: to name the offender, or when values are long together.
    for name, value in fields.items():
        for text in (name, *(value if isinstance(value, (list, tuple)) else (value,))):
            if isinstance(text, str) and (len(text) > longest or "\x00" in text):
                reason = (
                    "contains a NUL character"
                    if "\x00" in text
                    else f"longer than {longest} characters"
                )
                raise InvalidFieldError(str(name), value, reason)


def _receipt(fields: Mapping[str, FieldValue], strict: bool) -> DeliveryReceipt:
    values, raw, extra = decode_fields(fields, strict=strict)
    return DeliveryReceipt(
        **values,
        extra=_NO_EXTRA if extra is None else FrozenFields._adopt(extra),
        _raw=raw,
    )


def decode_fields(
    fields: Mapping[str, FieldValue], *, strict: bool = False
) -> tuple[dict[str, Any], dict[str, str], dict[str, str] | None]:
    """:func:`parse` without building the receipt: the checks and conversions alone.

    Returns the typed values by attribute name, the raw strings of the typed
    fields, and the unknown fields (None when there are none). For code that
    counts receipts by the million and never keeps them (``dlrkit report``);
    raises exactly what :func:`parse` raises.
    """
    try:
        items = fields.items()
    except AttributeError:
        raise MalformedPayloadError(
            f"expected a mapping of wire fields, got {type(fields).__name__}", value=fields
        ) from None
    values: dict[str, Any] = {}
    raw: dict[str, str] = {}
    extra: dict[str, str] | None = None
    for name, given in items:
        if type(given) is str:
            value = given
        else:
            single = single_value(name, given)
            if single is None:
                continue
            value = single
        handler = _HANDLERS.get(name)
        if handler is None:
            if type(name) is not str:
                raise InvalidFieldError(repr(name), name, "field names must be strings")
            if extra is None:
                extra = {}
            extra[name] = value
            continue
        attr, decode, required = handler
        if value in ABSENT:
            if required:
                raise MissingFieldError(name, value=value)
            raw[name] = value
        elif decode is None:
            values[attr] = value
        else:
            raw[name] = value
            try:
                values[attr] = decode(value)
            except DecodeError as exc:
                raise InvalidFieldError(name, value, str(exc)) from None
    for attr, wire in _REQUIRED:
        if attr not in values:
            raise MissingFieldError(wire)
    if strict and raw["status"] not in _STATUS_WORDS:
        raise InvalidFieldError(
            "status", raw["status"], f"expected one of {', '.join(sorted(_STATUS_WORDS))}"
        )
    return values, raw, extra


# -- query strings and form bodies ------------------------------------------------


def decode_query(
    query: str | bytes, *, charset: str = "utf-8", limits: Limits = DEFAULT_LIMITS
) -> dict[str, str]:
    """Decode a query string or form body into a ``str -> str`` mapping.

    Splits on ``&``, turns ``+`` into spaces and undoes percent-escapes
    exactly as :func:`urllib.parse.parse_qsl` with ``keep_blank_values=True``
    does, but refuses what ``parse_qsl`` would silently mangle: bytes or
    escapes that are not valid in *charset*, and repeated keys. A receipt
    never repeats a key; a request that does is either broken or an attempt
    to make the signature check and the parser see different values.
    """
    if charset != "utf-8":
        charset = _known_charset(charset)
    return _decode_pairs(_text(query, charset, limits), charset, limits)


def _decode_pairs(text: str, charset: str, limits: Limits) -> dict[str, str]:
    if "\x00" in text:
        raise MalformedPayloadError("payload contains a NUL character", value=text)
    longest = limits.max_value_length
    if charset == "utf-8" and len(text) <= longest:  # else a value could be too long
        flat = _decode_flat(text)
        if flat is not None and len(flat) <= limits.max_fields:
            return flat
    # Piece by piece: anything _decode_flat declines, and the errors.
    long_text = len(text) > longest  # else no piece of it can be too long
    fields: dict[str, str] = {}
    for piece in text.split("&"):
        if not piece:
            continue
        name, _, value = piece.partition("=")
        try:
            if "+" in name or "%" in name:
                name = _unquote_plus(name, charset)
                if "\x00" in name:
                    raise InvalidFieldError(name, value, "the name contains a NUL character")
            if "+" in value or "%" in value:
                value = _unquote_plus(value, charset)
                if "\x00" in value:
                    raise InvalidFieldError(name, value, "contains a NUL character")
        except UnicodeDecodeError:
            raise MalformedPayloadError(
                f"percent-escapes in {quote(piece)} are not valid {charset}", value=piece
            ) from None
        # Decoding never lengthens: a short piece has a short name and value.
        if long_text and len(piece) > longest and (len(value) > longest or len(name) > longest):
            raise InvalidFieldError(name, value, f"longer than {longest} characters")
        if name in fields:
            raise InvalidFieldError(name, [fields[name], value], "field is repeated")
        fields[name] = value
    if len(fields) > limits.max_fields:  # the loop's work is bounded by max_size
        raise _too_many_fields(limits)
    return fields


# Every piece "name=value", with one "=" and a name.
_FLAT_PAIRS: Final = re.compile(r"[^&=]+=[^&=]*(?:&[^&=]+=[^&=]*)*")


def _decode_flat(text: str) -> dict[str, str] | None:
    """A receipt's usual query in a few C-level passes, or None for the loop to do.

    When no escape decodes to "&" or "=", decoding the whole text at once
    gives what decoding each name and value does (in UTF-8 a separator byte
    is never inside a character, so a bad escape is bad either way). None for
    other shapes, bad escapes, an escaped NUL and repeated names.
    """
    if "%26" in text or "%3D" in text or "%3d" in text or not _FLAT_PAIRS.fullmatch(text):
        return None
    try:
        decoded = _unquote_plus(text, "utf-8")
    except UnicodeDecodeError:
        return None
    if "\x00" in decoded:
        return None
    parts = decoded.replace("=", "&").split("&")  # name, value, name, value, ...
    pairs = iter(parts)
    fields = dict(zip(pairs, pairs, strict=False))
    return fields if 2 * len(fields) == len(parts) else None


def _too_many_fields(limits: Limits) -> MalformedPayloadError:
    return MalformedPayloadError(
        f"payload has more than {limits.max_fields} fields", value=None, http_status=413
    )


def _unquote_plus(text: str, charset: str) -> str:
    # urllib.parse.unquote_plus with errors="strict", minus its per-character
    # regex for the common all-ASCII case.
    text = text.replace("+", " ")
    if "%" not in text:
        return text
    if text.isascii():
        return unquote_to_bytes(text.encode("ascii")).decode(charset)
    return unquote(text, charset, "strict")


def decode_form(
    body: bytes | str, *, charset: str = "utf-8", limits: Limits = DEFAULT_LIMITS
) -> dict[str, str]:
    """Decode an ``application/x-www-form-urlencoded`` body; see :func:`decode_query`."""
    return decode_query(body, charset=charset, limits=limits)


def _text(payload: str | bytes, charset: str, limits: Limits) -> str:
    _check_size(payload, limits.max_size)
    if isinstance(payload, str):
        if payload.isascii():
            return payload
        # A str can hold lone surrogates that no encoder accepts later
        # (signing, storage): refuse them at the door.
        try:
            payload.encode("utf-8")
        except UnicodeEncodeError:
            raise MalformedPayloadError(
                "payload contains characters that are not valid Unicode", value=payload
            ) from None
        return payload
    if not isinstance(payload, (bytes, bytearray, memoryview)):
        raise MalformedPayloadError(
            f"expected str or bytes, got {type(payload).__name__}", value=payload
        )
    data = payload if type(payload) is bytes else bytes(payload)
    if data.isascii():
        # Percent-encoded text is ASCII whatever the charset: the charset
        # applies to the escapes (see _unquote_plus), not to these bytes.
        return data.decode("ascii")
    try:
        return data.decode(charset)
    except UnicodeDecodeError as exc:
        raise MalformedPayloadError(
            f"payload is not valid {charset} (byte {exc.start})", value=data
        ) from None


def _known_charset(charset: str) -> str:
    try:
        return codecs.lookup(charset).name
    except LookupError:
        raise MalformedPayloadError(
            f"unknown charset {quote(charset)}", field="charset", value=charset, http_status=415
        ) from None


def _check_size(payload: object, max_size: int) -> None:
    size = len(payload) if isinstance(payload, (str, bytes, bytearray, memoryview)) else 0
    if size > max_size:
        raise MalformedPayloadError(
            f"payload of {size} bytes is over the limit of {max_size}",
            value=f"<{size} bytes>",
            http_status=413,
        )


def parse_query(
    query: str | bytes, *, strict: bool = False, limits: Limits = DEFAULT_LIMITS
) -> DeliveryReceipt:
    """Parse the query string of a ``GET`` webhook request (a leading ``?`` is ignored).

    >>> r = parse_query("messageId=0B00000127FDBC63&msisdn=447547232824&to=Vonage"
    ...                 "&status=delivered&err-code=0&message-timestamp=2020-07-17+02%3A34%3A35")
    >>> r.status, r.message_timestamp.isoformat()
    (<DlrStatus.DELIVERED: 'delivered'>, '2020-07-17T02:34:35+00:00')
    """
    return _receipt(url_query_fields(query, limits), strict)


def url_query_fields(query: str | bytes, limits: Limits = DEFAULT_LIMITS) -> dict[str, str]:
    """:func:`decode_query` for a URL's query part, which may come with its ``?``.

    decode_query() itself stays exactly urllib's, where "?" would be part of
    the first name.
    """
    text = _text(query, "utf-8", limits)
    return _decode_pairs(text[1:] if text.startswith("?") else text, "utf-8", limits)


def parse_form(
    body: bytes | str,
    *,
    charset: str = "utf-8",
    strict: bool = False,
    limits: Limits = DEFAULT_LIMITS,
) -> DeliveryReceipt:
    """Parse an ``application/x-www-form-urlencoded`` ``POST`` body."""
    return _receipt(decode_query(body, charset=charset, limits=limits), strict)


# -- JSON ----------------------------------------------------------------------------


def _object_without_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for name, _ in pairs:
            if name in seen:
                values = [v for k, v in pairs if k == name]
                raise InvalidFieldError(name, values, "field is repeated")
            seen.add(name)
    return obj


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


# A JSON number is taken as its literal text ("err-code": 0 reads as "0"): the
# provider sends strings, but hand-written test payloads often do not, and
# the literal text never loses a price's digits to float rounding.
_JSON: Final = json.JSONDecoder(
    object_pairs_hook=_object_without_repeats,
    parse_float=str,
    parse_int=str,
    parse_constant=_refuse_constant,
)


_JSON_SPACE: Final = " \t\n\r"


def decode_json_value(body: bytes | str, *, limits: Limits = DEFAULT_LIMITS) -> Any:
    """Decode any JSON document with the receipt parsers' safety rules.

    Size-limited, nested at most ``limits.max_depth`` deep, UTF-8 only (a byte
    order mark is allowed), no repeated keys, no ``NaN``/``Infinity``, numbers
    kept as their literal text. Raises only ``DlrError``.
    """
    value = _decode_json_text(body, limits)[1]
    _check_depth(value, limits.max_depth)
    return value


def _check_depth(value: Any, limit: int) -> None:
    # Level by level, so that the check itself never recurses. Documents
    # deeper than Python's recursion limit never get here: the decoder
    # refuses them (RecursionError, in _decode_json_text).
    level = [value] if type(value) in (dict, list) else []
    depth = 0
    while level:
        depth += 1
        if depth > limit:
            raise MalformedPayloadError(
                f"JSON nested more than {limit} levels deep", value=f"<{depth}+ levels>"
            )
        level = [
            inner
            for outer in level
            for inner in (outer.values() if type(outer) is dict else outer)
            if type(inner) in (dict, list)
        ]


def _decode_json_text(body: bytes | str, limits: Limits) -> tuple[str, Any]:
    text = _text(body, "utf-8", limits)
    if text.startswith("\ufeff"):
        text = text[1:]
    # JSONDecoder.decode() less its two whitespace regexes: JSON's own four
    # whitespace characters are stripped here, trailing data refused below.
    text = text.strip(_JSON_SPACE)
    try:
        value, end = _JSON.raw_decode(text)
        if end != len(text):
            raise ValueError(f"extra data after the JSON value at position {end}")
        return text, value
    except (InvalidFieldError, MalformedPayloadError):
        raise
    except (ValueError, RecursionError) as exc:
        raise MalformedPayloadError(f"body is not valid JSON: {exc}", value=text) from None


def decode_json(body: bytes | str, *, limits: Limits = DEFAULT_LIMITS) -> dict[str, str]:
    """Decode a JSON body into a ``str -> str`` mapping.

    The body must be one flat JSON object. String values are kept, numbers
    become their literal text, ``null`` becomes the string ``"null"`` (which
    :func:`parse` reads as absent); booleans, arrays and objects are refused,
    as are repeated keys and escaped lone surrogates.
    """
    text, obj = _decode_json_text(body, limits)
    if type(obj) is not dict:
        raise MalformedPayloadError(
            f"JSON body must be an object, got {type(obj).__name__}", value=body
        )
    if len(obj) > limits.max_fields:
        raise _too_many_fields(limits)
    longest = limits.max_value_length
    # A lone surrogate or a NUL can only come from a "\\uD800"/"\\u0000"
    # escape: _text() refused raw surrogates and JSON refuses raw control
    # characters. Without escapes, no string needs those checks.
    escaped = "\\u" in text
    long_text = len(text) > longest  # else no name or value in it can be too long
    for name, value in obj.items():
        if type(value) is str:
            if long_text and (len(value) > longest or len(name) > longest):
                raise InvalidFieldError(name, value, f"longer than {longest} characters")
            if escaped:
                if not (value.isascii() and name.isascii()):
                    _check_encodable(name, value)
                if "\x00" in value or "\x00" in name:
                    raise InvalidFieldError(name, value, "contains a NUL character")
        elif value is None:
            obj[name] = "null"
        else:
            raise InvalidFieldError(
                name, value, f"expected a string, got a JSON {_json_kind(value)}"
            )
    return obj


def _json_kind(value: object) -> str:
    return {bool: "boolean", list: "array", dict: "object"}.get(type(value), type(value).__name__)


def _check_encodable(name: str, value: str) -> None:
    for text in (name, value):
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidFieldError(
                _printable(name), _printable(value), "contains a lone surrogate escape"
            ) from None


def _printable(text: str) -> str:
    # Lone surrogates as \udXXX escapes; every other character kept.
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def parse_json(
    body: bytes | str, *, strict: bool = False, limits: Limits = DEFAULT_LIMITS
) -> DeliveryReceipt:
    """Parse an ``application/json`` ``POST`` body; see :func:`decode_json`."""
    return _receipt(decode_json(body, limits=limits), strict)


# -- whole requests --------------------------------------------------------------------

_FORM: Final = "application/x-www-form-urlencoded"


def decode_request(
    *,
    method: str,
    content_type: str | None,
    query: str | bytes = "",
    body: bytes | str = b"",
    limits: Limits = DEFAULT_LIMITS,
) -> dict[str, str]:
    """The wire fields of a webhook request, whichever way it was sent.

    ``GET`` reads the query string. ``POST`` reads the body by its content
    type: ``application/x-www-form-urlencoded`` (any ``charset`` parameter is
    honoured) or ``application/json`` (also ``+json`` types). A ``POST``
    without a content type is read as JSON if the body starts with ``{``, as a
    form otherwise.
    """
    verb = method.upper() if isinstance(method, str) else method  # type: ignore[redundant-expr]
    if verb == "GET":
        return decode_query(query, limits=limits)
    if verb != "POST":
        raise MalformedPayloadError(
            f"delivery receipts come by GET or POST, not {quote(method)}",
            field="method",
            value=method,
            http_status=405,
        )
    media_type, charset = _content_type(content_type, body)
    if media_type == _FORM:
        return decode_form(body, charset=charset, limits=limits)
    if media_type == "application/json" or media_type.endswith("+json"):
        return decode_json(body, limits=limits)
    raise MalformedPayloadError(
        f"unsupported content type {quote(content_type)}; expected {_FORM} or application/json",
        field="Content-Type",
        value=content_type,
        http_status=415,
    )


def _first_char(body: object) -> str:
    if isinstance(body, str):
        return body.lstrip()[:1]
    if isinstance(body, (bytes, bytearray, memoryview)):
        return bytes(body[:64]).lstrip()[:1].decode("latin-1")
    return ""


def _content_type(content_type: str | None, body: bytes | str) -> tuple[str, str]:
    if not content_type:
        return ("application/json" if _first_char(body) == "{" else _FORM), "utf-8"
    if not isinstance(content_type, str):
        raise MalformedPayloadError(
            "content type must be a string", field="Content-Type", value=content_type
        )
    media_type, _, params = content_type.partition(";")
    charset = "utf-8"
    for param in params.split(";"):
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            charset = value.strip().strip('"') or charset
    return media_type.strip().lower(), charset


def parse_request(
    *,
    method: str,
    content_type: str | None,
    query: str | bytes = "",
    body: bytes | str = b"",
    strict: bool = False,
    limits: Limits = DEFAULT_LIMITS,
    secret: str | bytes | None = None,
    signature_method: SignatureMethod | str | None = None,
    max_age: timedelta | None = DEFAULT_MAX_AGE,
    now: datetime | None = None,
    nonce_cache: NonceCache | None = None,
) -> DeliveryReceipt:
    """Parse a webhook request, whichever of the three wire forms it uses.

    Give it what any framework has: the method, the ``Content-Type`` header,
    the raw query string and the raw body. See :func:`decode_request` for how
    the form is chosen.

    With a *secret*, the request's signature is verified before anything is
    parsed (see :func:`verify_signature`; *max_age*, *now* and *nonce_cache*
    are passed on). *signature_method* must then be given: it is the method
    chosen for your account's signature secret in the dashboard (whose default
    is ``"sha256"``), and guessing it wrong is the commonest cause of
    "invalid signature".

    Raises:
        SignatureError: the request is not correctly signed.
        DlrError: the request is malformed (see :func:`parse`).
        ValueError: *secret* without *signature_method*, and the programming
            errors listed for :func:`verify_signature`.
    """
    fields = decode_request(
        method=method, content_type=content_type, query=query, body=body, limits=limits
    )
    if secret is not None:
        if signature_method is None:
            raise ValueError(
                "parse_request(secret=...) needs signature_method=: the method chosen for "
                "your account's signature secret (the dashboard's default is 'sha256')"
            )
        verify_signature(
            fields, secret, signature_method, max_age=max_age, now=now, nonce_cache=nonce_cache
        )
    return _receipt(fields, strict)
