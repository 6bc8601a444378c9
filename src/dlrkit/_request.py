"""Whole webhook requests: choose the wire form by method and content type, verify, parse."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

from ._errors import MalformedPayloadError, quote
from ._json import decode_json
from ._limits import DEFAULT_LIMITS, Limits
from ._parse import receipt
from ._payload import charset_codec
from ._receipt import DeliveryReceipt
from ._signature import (
    DEFAULT_MAX_AGE,
    NonceCache,
    SignatureMethod,
    check_signing,
    verify_signature,
)
from ._urlencoded import decode_query, url_query_fields

__all__ = ["check_options", "decode_request", "parse_request"]

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
        return url_query_fields(query, limits)  # as parse_query: a leading "?" is ignored
    if verb != "POST":
        raise MalformedPayloadError(
            f"delivery receipts come by GET or POST, not {quote(method)}",
            field="method",
            value=method,
            http_status=405,
        )
    media_type, charset = _content_type(content_type, body)
    if media_type == _FORM:
        return decode_query(body, charset=charset, limits=limits)
    if media_type == "application/json" or media_type.endswith("+json"):
        if charset_codec(charset) != "utf-8":  # JSON is UTF-8 (RFC 8259)
            raise MalformedPayloadError(
                f"JSON with charset {quote(charset)}: JSON is UTF-8",
                field="charset",
                value=charset,
                http_status=415,
            )
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
        ValueError: *secret* without *signature_method*, *nonce_cache*
            without *secret*, and the programming errors listed for
            :func:`verify_signature`.
    """
    check_options(secret, signature_method, max_age, nonce_cache)
    fields = decode_request(
        method=method, content_type=content_type, query=query, body=body, limits=limits
    )
    if secret is not None:
        assert signature_method is not None  # check_options says so
        verify_signature(
            fields, secret, signature_method, max_age=max_age, now=now, nonce_cache=nonce_cache
        )
    return receipt(fields, strict)


def check_options(
    secret: str | bytes | None,
    signature_method: SignatureMethod | str | None,
    max_age: timedelta | None,
    nonce_cache: NonceCache | None,
) -> None:
    """ValueError for a mistake in :func:`parse_request`'s signing options.

    The framework helpers call it when they are set up, so that a mistake
    fails at start-up rather than as a 500 on every request.
    """
    if secret is not None:
        check_signing(secret, signature_method, max_age, nonce_cache)
    elif nonce_cache is not None:
        raise ValueError(
            "a nonce_cache without a secret guards nothing: only signed requests are "
            "recorded (pass secret= and signature_method=)"
        )
