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
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from enum import Enum
from typing import TYPE_CHECKING, Final

from ._codecs import DecodeError, decode_timestamp
from ._errors import (
    DlrError,
    InvalidFieldError,
    MalformedPayloadError,
    SignatureError,
    SignatureFailure,
    quote,
)
from ._table import refuse_repeats, single_value

if TYPE_CHECKING:
    from .stores import ReplayStore

__all__ = [
    "DEFAULT_MAX_AGE",
    "NonceCache",
    "SignatureMethod",
    "check_signing",
    "replay_key",
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
    if isinstance(secret, str):
        blank = not secret.strip()
        key = secret.encode("utf-8")
    else:
        key = bytes(secret)
        blank = not key.strip()
    if blank:
        # An empty secret would let anyone sign, and a blank one is a
        # configuration mistake (an unset variable, a stray newline): refuse
        # both rather than verify against them.
        raise ValueError("the signature secret is empty or only whitespace")
    return key


def signing_string(fields: Mapping[str, str | list[str]]) -> str:
    """The string the signature is computed over (without the secret).

    >>> signing_string({"b": "x=1&y", "a": "alphabet", "sig": "ignored"})
    '&a=alphabet&b=x_1_y'

    The provider replaces ``&`` and ``=`` in values, but not in names: a name
    holding either could make two different requests sign alike (a field
    named ``network-code=23410&nonce`` signs as two fields), so such names
    are refused. The provider's names never hold them.

    Raises:
        DlrError: a name is not a string or holds ``&`` or ``=``, a value is
            not a string, or a field is repeated (in a list, or in a
            framework's multi-valued mapping).
    """
    if not isinstance(fields, Mapping):
        raise MalformedPayloadError(
            f"expected a mapping of fields, got {type(fields).__name__}", value=fields
        )
    refuse_repeats(fields)
    for name in fields:
        if not isinstance(name, str):
            raise InvalidFieldError(quote(name), name, "field names must be strings")
        if "&" in name or "=" in name:
            raise InvalidFieldError(
                name, fields[name], "a signed field's name cannot contain '&' or '='"
            )
    parts = []
    for name in sorted(fields):
        if name == "sig":
            continue
        value = single_value(name, fields[name])
        if value is None:
            continue
        parts.append(f"&{name}={value.replace('&', '_').replace('=', '_')}")
    text = "".join(parts)
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise MalformedPayloadError(
                "a field holds a lone surrogate, which cannot be signed", value=text
            ) from None
    return text


def sign(
    fields: Mapping[str, str | list[str]],
    secret: str | bytes,
    method: SignatureMethod | str,
) -> str:
    """The signature of *fields* as lowercase hex.

    *method* is the one chosen for the account's signature secret in the
    dashboard (whose default is ``"sha256"``); there is no default here, as
    guessing it is the commonest cause of "invalid signature". Any ``sig``
    field is left out, so signing a received request gives what its ``sig``
    should be. Add ``timestamp`` (and a ``nonce``) before signing, as the
    provider does.

    >>> sign({"a": "alphabet", "b": "bananas", "timestamp": "2100"}, "abcde", "md5hash")
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
    method: SignatureMethod | str,
    *,
    max_age: timedelta | None = DEFAULT_MAX_AGE,
    now: datetime | None = None,
    nonce_cache: NonceCache | None = None,
) -> None:
    """Check the signature of a webhook request; return None or raise.

    *fields* is the request's fields: a framework's (multi-valued) mapping, a
    decoded body, or ``DeliveryReceipt.to_wire()``. It is not modified.

    The signature must match in *method*, the one chosen for the account's
    signature secret. Hex case does not matter, and the comparison takes
    constant time. With *max_age* (five minutes by default), the
    ``timestamp`` field must be unix seconds no further than that from *now*
    either way; ``max_age=None`` turns the check off. With *nonce_cache*, a
    request already accepted once is refused (see :class:`NonceCache` for
    what identifies a request). Only requests with a valid signature are
    recorded.

    Raises:
        SignatureError: its ``.reason``, a :class:`~dlrkit.SignatureFailure`,
            says what failed (``MISSING``, ``MALFORMED``, ``MISMATCH``,
            ``NO_TIMESTAMP``, ``EXPIRED``, ``FUTURE`` or ``REPLAYED``; and
            ``UNAVAILABLE``, with ``http_status`` 503, when the replay guard
            cannot record the request).
        ValueError: a programming error: an empty or blank secret, an
            unknown method, a naive *now*, a *nonce_cache* without *max_age*
            (a replay after the cache forgot the request would pass), or one
            that expires entries too early.
    """
    key, chosen = check_signing(secret, method, max_age, nonce_cache)
    if now is None:
        now = datetime.now(timezone.utc)
    elif now.tzinfo is None:
        raise ValueError("now must be a timezone-aware datetime")
    try:
        text = signing_string(fields)
        sig = single_value("sig", fields.get("sig"))
    except DlrError as exc:
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
    if nonce_cache is not None and not nonce_cache.add(replay_key(given, timestamp), now):
        raise SignatureError(
            f"request signed {quote(given)} at timestamp {quote(timestamp)} was already "
            "accepted once",
            reason=SignatureFailure.REPLAYED,
            field="sig",
            value=sig,
        )


def check_signing(
    secret: str | bytes,
    method: SignatureMethod | str | None,
    max_age: timedelta | None,
    nonce_cache: NonceCache | None,
) -> tuple[bytes, SignatureMethod]:
    """The key and method to verify with, or ValueError for a mistake in the options.

    Called by :func:`verify_signature` for each request, and by the framework
    helpers when they are set up, so that a mistake fails at start-up rather
    than as a 500 on every request.
    """
    if method is None:
        raise ValueError(
            "signature_method is needed with a secret: the method chosen for your "
            "account's signature secret (the dashboard's default is 'sha256')"
        )
    key, chosen = _secret(secret), _method(method)
    if nonce_cache is not None:
        if max_age is None:
            raise ValueError(
                "a nonce_cache needs max_age: without a timestamp window, a replay that "
                "comes after the cache has forgotten the request would be accepted"
            )
        if nonce_cache.ttl < 2 * max_age:
            raise ValueError(
                f"nonce_cache.ttl ({nonce_cache.ttl}) must be at least twice max_age "
                f"({max_age}): a replay inside the timestamp window would otherwise pass"
            )
    return key, chosen


def replay_key(sig: str, timestamp: str | None) -> str:
    """What identifies a signed request to the replay guard.

    The signature covers every other field, nonce included, so the request's
    canonical signature (lowercase hex: SDKs send either case) and its
    timestamp identify it; nothing an attacker can vary without the secret
    is left out, and nothing they can vary (the hex case, the nonce's
    absence) is let in.
    """
    return f"{sig.lower()}@{timestamp or ''}"


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
    try:
        moment = decode_timestamp(timestamp if timestamp is not None else "")
    except DecodeError:
        raise SignatureError(
            "signed request needs 'timestamp' in unix seconds (or ISO 8601), "
            f"got {quote(timestamp)}",
            reason=SignatureFailure.NO_TIMESTAMP,
            field="timestamp",
            value=timestamp,
        ) from None
    age = (now - moment).total_seconds()
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


@contextmanager
def _unavailable_on_failure(action: str) -> Iterator[None]:
    """Fail closed: a store's failure is a 503 for the provider to retry, never a pass."""
    try:
        yield
    except Exception as error:
        raise SignatureError(
            # The store's own message stays in __cause__, for the logs: it
            # may name hosts or tables, and this one is sent to the caller.
            f"the replay guard's store cannot {action} the request now: retry later",
            reason=SignatureFailure.UNAVAILABLE,
            http_status=503,
        ) from error


class NonceCache:
    """Remembers the signed requests accepted recently, to refuse replays.

    A request is identified by its canonical signature and its timestamp
    (see :func:`replay_key`): changing the hex case of ``sig`` or leaving out
    the ``nonce`` does not make a replay new. An entry is kept for *ttl*
    after it was added, which must be at least twice the ``max_age`` given
    to :func:`verify_signature`, so that a replay anywhere inside the
    timestamp window is still caught. Thread-safe.

    **By default it lives in this process's memory, and so protects one
    process only**: with several workers (gunicorn, uvicorn) or machines,
    each has its own cache, and a replay that reaches another one passes.
    Give it the *store* your workers share (a ``dlrkit.SQLiteStore`` for
    processes on one machine, a ``dlrkit.stores.PostgresStore`` for several
    machines; the store a ``Tracker`` uses will do) and every process that
    shares it refuses a replay: recording a request is one atomic
    insert-if-absent in the store's ``dlrkit_nonces`` table, and expired
    entries are deleted a couple at a time as requests are recorded.

    **It never accepts a request it could not record.** In memory, it never
    forgets an unexpired entry: when *max_size* entries are unexpired, a new
    request is refused with a ``SignatureError`` whose ``reason`` is
    ``UNAVAILABLE`` and whose ``http_status`` is 503, so that the provider
    retries it later. Size it for your peak: *max_size* at least the signed
    requests you accept per second times *ttl* in seconds (the default
    100,000 over 10 minutes is about 166 a second); an entry takes about 200
    bytes. With a *store*, the table grows as it needs (about that many
    rows), and a store that cannot be reached is refused the same way: 503.

    The provider retries a receipt your webhook did not acknowledge with
    2xx. If your handler fails after verification, the retry reaches the
    cache as a replay: call :meth:`discard` for the request before answering
    with an error.
    """

    def __init__(
        self,
        store: ReplayStore | None = None,
        *,
        max_size: int | None = None,
        ttl: timedelta = timedelta(minutes=10),
    ):
        if ttl <= timedelta(0):
            raise ValueError("ttl must be positive")
        if store is not None:
            if max_size is not None:
                raise ValueError("max_size bounds the in-memory cache: a store's table grows")
            if not callable(getattr(store, "record_once", None)):
                raise TypeError(
                    f"a NonceCache cannot keep its entries in a {type(store).__name__}: "
                    "give it a SQLiteStore or a PostgresStore (or none, for memory)"
                )
        max_size = 100_000 if max_size is None else max_size
        if max_size < 1:
            raise ValueError("max_size must be at least 1")
        self.store = store
        self.max_size = max_size
        self.ttl = ttl
        self._expiry: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        """Entries held (with a store: its table's rows, expired ones not pruned yet included)."""
        return self.store.replay_keys() if self.store is not None else len(self._expiry)

    def add(self, key: str, now: datetime | None = None) -> bool:
        """Record *key*; False if it is already there (a replay).

        Raises:
            SignatureError: ``UNAVAILABLE`` (HTTP 503) when the cache is full
                of unexpired entries, or its store cannot be reached.
        """
        moment = (now or datetime.now(timezone.utc)).timestamp()
        if self.store is not None:
            expires = moment + self.ttl.total_seconds()
            with _unavailable_on_failure("record"):
                return self.store.record_once(key, expires, moment)
        with self._lock:
            self._purge(moment)
            if key in self._expiry:
                return False
            if len(self._expiry) >= self.max_size:
                raise SignatureError(
                    f"the replay guard holds {self.max_size:,} unexpired requests and cannot "
                    "record another: retry later (size NonceCache(max_size=...) for the peak "
                    "rate times its ttl)",
                    reason=SignatureFailure.UNAVAILABLE,
                    http_status=503,
                )
            self._expiry[key] = moment + self.ttl.total_seconds()
            return True

    def discard(self, fields: Mapping[str, str | list[str]]) -> None:
        """Forget the request *fields*, so that the provider's retry is accepted.

        Raises:
            SignatureError: ``UNAVAILABLE`` (HTTP 503) when its store cannot
                be reached: answer 503 too, and the provider retries later.
        """
        key = replay_key(_single(fields, "sig") or "", _single(fields, "timestamp"))
        if self.store is not None:
            with _unavailable_on_failure("forget"):
                self.store.forget(key)
            return
        with self._lock:
            self._expiry.pop(key, None)

    def _purge(self, moment: float) -> None:
        # Entries are added in time order with one ttl, so the oldest expire
        # first; an entry added with an earlier "now" than a later one (a
        # clock stepping back) is kept a little longer, never dropped early.
        expiry = self._expiry
        while expiry:
            oldest = next(iter(expiry))
            if expiry[oldest] >= moment:  # kept through its last instant: the window's
                break  # edges are inclusive too
            del expiry[oldest]
