"""Signed webhooks: the provider's request signature, and a replay guard.

When signing is on for an account, each webhook request carries ``sig``,
``timestamp`` and usually ``nonce``. The signature covers every other field:
sorted by name, ``&`` and ``=`` in values replaced with ``_``, joined as
``&name=value``; then either MD5 of that string with the secret appended
(``md5hash``) or an HMAC of it keyed by the secret (``md5``, ``sha1``,
``sha256``, ``sha512``).
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from collections import OrderedDict
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from enum import Enum
from typing import Final

from ._codecs import unix_seconds_or_none
from ._errors import DlrError, InvalidFieldError, SignatureError, SignatureFailure, quote
from ._table import single_value

__all__ = [
    "DEFAULT_MAX_AGE",
    "NonceCache",
    "SignatureMethod",
    "sign",
    "signing_string",
    "verify_signature",
]

DEFAULT_MAX_AGE: Final = timedelta(minutes=5)
"""How far a signed request's ``timestamp`` may be from now, either way."""


class SignatureMethod(str, Enum):
    """How the account signs its webhooks (set in the dashboard's API settings).

    The dashboard's default for new secrets is HMAC-SHA256 (``SHA256``), while
    many examples hard-code ``MD5HASH``: a method that does not match the
    account's is the commonest cause of "invalid signature".
    """

    MD5HASH = "md5hash"
    MD5 = "md5"
    SHA1 = "sha1"
    SHA256 = "sha256"
    SHA512 = "sha512"

    def __str__(self) -> str:
        return self.value


_HMAC_DIGESTS: Final = {
    SignatureMethod.MD5: hashlib.md5,
    SignatureMethod.SHA1: hashlib.sha1,
    SignatureMethod.SHA256: hashlib.sha256,
    SignatureMethod.SHA512: hashlib.sha512,
}


def _method(method: SignatureMethod | str) -> SignatureMethod:
    try:
        return SignatureMethod(str(method).lower())
    except ValueError:
        allowed = ", ".join(m.value for m in SignatureMethod)
        raise ValueError(
            f"unknown signature method {quote(method)}; expected one of {allowed}"
        ) from None


def _secret(secret: str | bytes) -> bytes:
    key = secret.encode("utf-8") if isinstance(secret, str) else bytes(secret)
    if not key:
        # An empty secret would let anyone sign: refuse it rather than verify.
        raise ValueError("the signature secret is empty")
    return key


def signing_string(fields: Mapping[str, str | list[str]]) -> str:
    """The string the signature is computed over (without the secret).

    >>> signing_string({"b": "x=1&y", "a": "alphabet", "sig": "ignored"})
    '&a=alphabet&b=x_1_y'

    Raises:
        DlrError: a name is not a string, a value is not a string, or a field
            is repeated.
    """
    for name in fields:
        if not isinstance(name, str):
            raise InvalidFieldError(repr(name), name, "field names must be strings")
    parts = []
    for name in sorted(fields):
        if name == "sig":
            continue
        value = single_value(name, fields[name])
        if value is None:
            continue
        parts.append(f"&{name}={value.replace('&', '_').replace('=', '_')}")
    return "".join(parts)


def sign(
    fields: Mapping[str, str | list[str]],
    secret: str | bytes,
    method: SignatureMethod | str = SignatureMethod.MD5HASH,
) -> str:
    """The signature of *fields* as lowercase hex.

    Any ``sig`` field is left out, so signing a received request gives what its
    ``sig`` should be. Add ``timestamp`` (and a ``nonce``) before signing, as
    the provider does.

    >>> sign({"a": "alphabet", "b": "bananas", "timestamp": "2100"}, "abcde")
    '7d43241108912b32cc315b48ce681acf'
    """
    return _digest(signing_string(fields), _secret(secret), _method(method))


def _digest(text: str, key: bytes, method: SignatureMethod) -> str:
    message = text.encode("utf-8")
    if method is SignatureMethod.MD5HASH:
        return hashlib.md5(message + key).hexdigest()
    return hmac.new(key, message, _HMAC_DIGESTS[method]).hexdigest()


def verify_signature(
    fields: Mapping[str, str | list[str]],
    secret: str | bytes,
    method: SignatureMethod | str = SignatureMethod.MD5HASH,
    *,
    max_age: timedelta | None = DEFAULT_MAX_AGE,
    now: datetime | None = None,
    nonce_cache: NonceCache | None = None,
) -> None:
    """Check the signature of a webhook request; return None or raise.

    *fields* is the request's fields: a framework's (multi-valued) mapping, a
    decoded body, or ``DeliveryReceipt.to_wire()``. It is not modified.

    The signature must match in *method*. Hex case does not matter, and the
    comparison takes constant time. With *max_age* (five minutes by default),
    the ``timestamp`` field must be unix seconds no further than that from
    *now* either way; ``max_age=None`` turns the check off. With *nonce_cache*,
    a request whose ``nonce`` and ``timestamp`` were already accepted once is
    refused. Only requests with a valid signature are recorded.

    Raises:
        SignatureError: its ``.reason``, a :class:`~dlrkit.SignatureFailure`,
            says what failed (``MISSING``, ``MALFORMED``, ``MISMATCH``,
            ``NO_TIMESTAMP``, ``EXPIRED``, ``FUTURE`` or ``REPLAYED``).
        ValueError: a programming error: an empty secret, an unknown method,
            a naive *now*, or a *nonce_cache* that expires entries too early.
    """
    key = _secret(secret)
    chosen = _method(method)
    if now is None:
        now = datetime.now(timezone.utc)
    elif now.tzinfo is None:
        raise ValueError("now must be a timezone-aware datetime")
    if nonce_cache is not None and max_age is not None and nonce_cache.ttl < 2 * max_age:
        raise ValueError(
            f"nonce_cache.ttl ({nonce_cache.ttl}) must be at least twice max_age ({max_age}): "
            "a replay inside the timestamp window would otherwise pass"
        )
    try:
        sig = single_value("sig", fields.get("sig"))
        text = signing_string(fields)
        text.encode("utf-8")  # a lone surrogate cannot be signed
    except (DlrError, UnicodeEncodeError) as exc:
        raise SignatureError(
            f"request cannot be signature-checked: {exc}", reason=SignatureFailure.MALFORMED
        ) from None
    if not sig:
        raise SignatureError(
            "request has no 'sig' field", reason=SignatureFailure.MISSING, field="sig"
        )
    given = sig.lower()
    if not (given.isascii() and hmac.compare_digest(_digest(text, key, chosen), given)):
        raise SignatureError(
            _mismatch_message(text, key, chosen, given),
            reason=SignatureFailure.MISMATCH,
            field="sig",
            value=sig,
        )
    timestamp = _single(fields, "timestamp")
    if max_age is not None:
        _check_window(timestamp, max_age, now)
    if nonce_cache is not None:
        nonce = _single(fields, "nonce")
        if not nonce_cache.add((nonce or sig, timestamp or ""), now):
            raise SignatureError(
                f"request with nonce {quote(nonce)} and timestamp {quote(timestamp)} was "
                "already accepted once",
                reason=SignatureFailure.REPLAYED,
                field="nonce",
                value=nonce,
            )


def _single(fields: Mapping[str, str | list[str]], name: str) -> str | None:
    # Only called after signing_string() accepted every field.
    return single_value(name, fields.get(name))


def _mismatch_message(text: str, key: bytes, tried: SignatureMethod, given: str) -> str:
    message = f"signature does not match (checked with {tried.value})"
    if given.isascii():
        for other in SignatureMethod:
            if other is not tried and hmac.compare_digest(_digest(text, key, other), given):
                return (
                    f"{message}; it matches {other.value}: set signature_method="
                    f"{other.value!r} to the method your account uses"
                )
    return (
        f"{message}: check the secret, and that the method is the one chosen for your "
        "account's signature secret in the dashboard (its default is sha256)"
    )


def _check_window(timestamp: str | None, max_age: timedelta, now: datetime) -> None:
    seconds = None if timestamp is None else unix_seconds_or_none(timestamp)
    if seconds is None:
        raise SignatureError(
            f"signed request needs 'timestamp' in unix seconds, got {quote(timestamp)}",
            reason=SignatureFailure.NO_TIMESTAMP,
            field="timestamp",
            value=timestamp,
        )
    age = now.timestamp() - seconds
    limit = max_age.total_seconds()
    if age > limit:
        raise SignatureError(
            f"signed request is {age:.0f}s old, over the {limit:.0f}s allowed",
            reason=SignatureFailure.EXPIRED,
            field="timestamp",
            value=timestamp,
        )
    if -age > limit:
        raise SignatureError(
            f"signed request is dated {-age:.0f}s in the future, over the {limit:.0f}s allowed",
            reason=SignatureFailure.FUTURE,
            field="timestamp",
            value=timestamp,
        )


class NonceCache:
    """Remembers accepted ``(nonce, timestamp)`` pairs to refuse replays.

    Bounded (*max_size* entries; the oldest go first) and time-expiring (an
    entry is forgotten *ttl* after it was added). *ttl* must be at least twice
    the ``max_age`` given to :func:`verify_signature`, so that a replay inside
    the timestamp window is still caught. Thread-safe.

    It lives in one process's memory: with several processes or machines,
    each has its own and a replay may reach another one. Use a shared store
    there (a database table with a unique key on nonce and timestamp).

    Note that the provider retries a receipt your webhook did not acknowledge
    with 2xx. If your handler fails after verification, the retry reaches the
    cache as a replay: call :meth:`discard` for the request before answering
    with an error.
    """

    def __init__(self, *, max_size: int = 100_000, ttl: timedelta = timedelta(minutes=10)):
        if max_size < 1:
            raise ValueError("max_size must be at least 1")
        if ttl <= timedelta(0):
            raise ValueError("ttl must be positive")
        self.max_size = max_size
        self.ttl = ttl
        self._expiry: OrderedDict[tuple[str, str], float] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._expiry)

    def add(self, key: tuple[str, str], now: datetime | None = None) -> bool:
        """Record *key*; False if it was already there (a replay)."""
        moment = (now or datetime.now(timezone.utc)).timestamp()
        with self._lock:
            self._purge(moment)
            if key in self._expiry:
                return False
            self._expiry[key] = moment + self.ttl.total_seconds()
            while len(self._expiry) > self.max_size:
                self._expiry.popitem(last=False)
            return True

    def discard(self, fields: Mapping[str, str | list[str]]) -> None:
        """Forget the request *fields*, so that the provider's retry is accepted."""
        nonce = _single(fields, "nonce") or _single(fields, "sig") or ""
        with self._lock:
            self._expiry.pop((nonce, _single(fields, "timestamp") or ""), None)

    def _purge(self, moment: float) -> None:
        # Entries are added in time order with one ttl, so the oldest expire first.
        expiry = self._expiry
        while expiry:
            oldest = next(iter(expiry))
            if expiry[oldest] > moment:
                break
            del expiry[oldest]
