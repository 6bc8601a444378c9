"""From the bytes of a query or body to text: size bound, charset, valid Unicode."""

from __future__ import annotations

from typing import Final

from ._codecs import DecodeError, decode_charset
from ._errors import MalformedPayloadError, quote
from ._limits import Limits

__all__ = ["charset_codec", "check_size", "payload_text"]

_DEFAULT_CHARSET: Final = "utf-8"


def charset_codec(charset: str | None) -> str:
    """The Python codec for a ``charset`` parameter; unsupported ones are a ``DlrError``.

    None or empty (a framework's "no charset parameter") is the default, UTF-8.
    """
    if charset == _DEFAULT_CHARSET or not charset:
        return _DEFAULT_CHARSET
    if not isinstance(charset, str):
        raise MalformedPayloadError(
            f"charset must be text, got {type(charset).__name__}", field="charset", value=charset
        )
    try:
        return decode_charset(charset)
    except DecodeError as error:
        raise MalformedPayloadError(
            f"charset {quote(charset)} is not supported: {error}",
            field="charset",
            value=charset,
            http_status=415,
        ) from None


def check_size(payload: object, max_size: int) -> None:
    size = len(payload) if isinstance(payload, (str, bytes, bytearray, memoryview)) else 0
    if size > max_size:
        raise MalformedPayloadError(
            f"payload of {size} bytes is over the limit of {max_size}",
            value=f"<{size} bytes>",
            http_status=413,
        )


def payload_text(payload: str | bytes, codec: str, limits: Limits) -> str:
    """*payload* as text: bytes decoded with *codec* (from :func:`charset_codec`).

    A ``str`` may hold lone surrogates, which no encoder accepts later (in a
    signature, in a store): it is refused at the door, as are bytes that are
    not valid in *codec*.
    """
    check_size(payload, limits.max_size)
    if isinstance(payload, str):
        if payload.isascii():
            return payload
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
        # applies to the escapes (see _urlencoded), not to these bytes.
        return data.decode("ascii")
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        raise MalformedPayloadError(
            f"payload is not valid {codec} (byte {exc.start})", value=data
        ) from None
