"""Query strings and ``application/x-www-form-urlencoded`` bodies, to a ``str -> str`` mapping."""

from __future__ import annotations

import codecs
from collections.abc import Callable
from typing import Final
from urllib.parse import unquote, unquote_to_bytes

from ._errors import InvalidFieldError, MalformedPayloadError, quote
from ._limits import DEFAULT_LIMITS, Limits
from ._payload import charset_codec, payload_text
from ._table import too_many_fields

__all__ = ["decode_query", "url_query_fields"]


def decode_query(
    query: str | bytes, *, charset: str | None = "utf-8", limits: Limits = DEFAULT_LIMITS
) -> dict[str, str]:
    """Decode a query string or form body into a ``str -> str`` mapping.

    Splits on ``&``, turns ``+`` into spaces and undoes percent-escapes
    exactly as :func:`urllib.parse.parse_qsl` with ``keep_blank_values=True``
    does, but refuses what ``parse_qsl`` would silently mangle: bytes or
    escapes that are not valid in *charset*, and repeated keys. A receipt
    never repeats a key; a request that does is either broken or an attempt
    to make the signature check and the parser see different values.

    *charset* is one of the UTF-8 family (the default), US-ASCII, ISO-8859-1
    or windows-1252; any other is refused with a ``DlrError`` (HTTP 415).
    """
    codec = charset_codec(charset)
    return _decode_pairs(payload_text(query, codec, limits), codec, limits)


def url_query_fields(query: str | bytes, limits: Limits = DEFAULT_LIMITS) -> dict[str, str]:
    """:func:`decode_query` for a URL's query part, which may come with its ``?``.

    decode_query() itself stays exactly urllib's, where "?" would be part of
    the first name.
    """
    text = payload_text(query, "utf-8", limits)
    return _decode_pairs(text[1:] if text.startswith("?") else text, "utf-8", limits)


def _decode_pairs(text: str, charset: str, limits: Limits) -> dict[str, str]:
    if "\x00" in text:
        raise MalformedPayloadError("payload contains a NUL character", value=text)
    longest = limits.max_value_length
    if charset == "utf-8" and len(text) <= longest:  # else a value could be too long
        flat = _decode_flat(text)
        if flat is not None and len(flat) <= limits.max_fields:
            return flat
    return _decode_pieces(text, charset, limits)


def _decode_pieces(text: str, charset: str, limits: Limits) -> dict[str, str]:
    # Piece by piece: anything _decode_flat declines, and the errors.
    longest = limits.max_value_length
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
        raise too_many_fields(limits)
    return fields


# Every byte but "&" and "=": deleting them leaves a query's separators alone.
_NOT_SEPARATORS: Final = bytes(b for b in range(256) if b not in b"&=")


def _decode_flat(text: str) -> dict[str, str] | None:
    """A receipt's usual query in a few C-level passes, or None for the loop to do.

    The usual query is pieces "name=value", so its separators
    alone read "=&=&...=" (checked on the UTF-8 bytes, where no character
    holds a separator byte). When no escape decodes to "&" or "=" (the
    decoded text then splits into as many parts), decoding the whole text at
    once gives what decoding each name and value does (in UTF-8 a separator
    byte is never inside a character, so a bad escape is bad either way).
    None for other shapes, bad escapes, an escaped NUL and repeated names.
    (An empty name is a name: "=v" reads as {"": "v"}, as in urllib.)
    The caller has refused a raw NUL.
    """
    try:
        separators = text.encode("utf-8").translate(None, _NOT_SEPARATORS)
    except UnicodeEncodeError:
        return None
    if separators != b"=&" * (len(separators) >> 1) + b"=":
        return None
    if "%" in text:
        try:
            text = _unquote_plus(text, "utf-8")
        except UnicodeDecodeError:
            return None
        if "\x00" in text:
            return None
    elif "+" in text:
        text = text.replace("+", " ")
    parts = text.replace("=", "&").split("&")  # name, value, name, value, ...
    if len(parts) != len(separators) + 1:
        return None  # an escape decoded to "&" or "="
    pairs = iter(parts)
    fields = dict(zip(pairs, pairs, strict=False))
    return fields if 2 * len(fields) == len(parts) else None


def _unquote_plus(text: str, charset: str) -> str:
    # urllib.parse.unquote_plus with errors="strict", minus its per-character
    # regex for the common all-ASCII case.
    text = text.replace("+", " ")
    if "%" not in text:
        return text
    if text.isascii():
        if "\\" not in text and _escape_decode is not None:
            # Every "%XX" as "\xXX", undone in C: a "%" without two hex digits
            # after it is an error there, and kept as it is by urllib below.
            try:
                data: bytes = _escape_decode(text.replace("%", "\\x").encode("ascii"))[0]
            except ValueError:
                pass
            else:
                return data.decode(charset)
        return unquote_to_bytes(text.encode("ascii")).decode(charset)
    return unquote(text, charset, "strict")


# Undocumented, though in every CPython since 2.x; without it, urllib does the work.
_escape_decode: Final[Callable[[bytes], tuple[bytes, int]] | None] = getattr(
    codecs, "escape_decode", None
)
