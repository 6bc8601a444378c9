"""Signing and verifying webhooks: public vectors, tampering, windows, replays."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from dlrkit import (
    DlrError,
    InvalidFieldError,
    NonceCache,
    SignatureError,
    SignatureFailure,
    SignatureMethod,
    parse,
    parse_request,
    sign,
    signing_string,
    verify_signature,
)

text = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=30)

UTC = timezone.utc

# Public test vectors (see REFERENCE.md).
VECTOR_1 = {
    "message-timestamp": "2013-11-21 15:27:30",
    "messageId": "020000001B0FE827",
    "msisdn": "14843472194",
    "text": "Test again",
    "timestamp": "1385047698",
    "to": "13239877404",
    "type": "text",
}
SECRET_1 = "my_secret_key_for_testing"
VECTOR_2 = {"a": "alphabet", "b": "bananas", "timestamp": "2100"}
SECRET_2 = "abcde"
EXPECTED = {
    ("1", "md5hash"): "d2e7b1dc968737c5998ad624e02f90b7",
    ("1", "sha256"): "ddb8397c2b90aac7f3882d306475c9a5058c92322eef43c92b298b6e0fc0d330",
    ("2", "md5hash"): "7d43241108912b32cc315b48ce681acf",
    ("2", "sha256"): "8d1b0428276b6a070578225914c3502cc0687a454dfbbbb370c76a14234cb546",
}
VECTORS = {"1": (VECTOR_1, SECRET_1), "2": (VECTOR_2, SECRET_2)}
AT_1 = datetime.fromtimestamp(1385047698, UTC)
AT_2 = datetime.fromtimestamp(2100, UTC)


@pytest.mark.parametrize(("vector", "method"), sorted(EXPECTED))
def test_public_vectors(vector: str, method: str) -> None:
    fields, secret = VECTORS[vector]
    assert sign(fields, secret, method) == EXPECTED[vector, method]
    assert sign(fields, secret.encode(), SignatureMethod(method)) == EXPECTED[vector, method]


@pytest.mark.parametrize("method", list(SignatureMethod))
def test_every_method_round_trips_on_the_vectors(method: SignatureMethod) -> None:
    for fields, secret in VECTORS.values():
        signed = {**fields, "sig": sign(fields, secret, method)}
        now = datetime.fromtimestamp(int(fields["timestamp"]), UTC)
        verify_signature(signed, secret, method, now=now)
        verify_signature(signed, secret, method.value.upper(), now=now)


@pytest.mark.parametrize(
    ("method", "digest"),
    [
        ("md5", hashlib.md5),
        ("sha1", hashlib.sha1),
        ("sha256", hashlib.sha256),
        ("sha512", hashlib.sha512),
    ],
)
def test_hmac_methods_match_the_standard_library(method: str, digest: object) -> None:
    # The vectors cover md5hash and sha256; the other HMACs are checked against hmac itself.
    for fields, secret in VECTORS.values():
        text = signing_string(fields).encode()
        expected = hmac.new(secret.encode(), text, digest).hexdigest()  # type: ignore[arg-type]
        assert sign(fields, secret, method) == expected
    text = signing_string(VECTOR_1).encode()
    assert sign(VECTOR_1, SECRET_1, "md5hash") == hashlib.md5(text + SECRET_1.encode()).hexdigest()


def test_hmac_digest_lengths() -> None:
    lengths = {m: len(sign(VECTOR_2, SECRET_2, m)) for m in SignatureMethod}
    assert lengths == {
        SignatureMethod.MD5HASH: 32,
        SignatureMethod.MD5: 32,
        SignatureMethod.SHA1: 40,
        SignatureMethod.SHA256: 64,
        SignatureMethod.SHA512: 128,
    }


def test_signing_string() -> None:
    assert signing_string(VECTOR_2) == "&a=alphabet&b=bananas&timestamp=2100"
    assert signing_string({"z": "a&b=c", "sig": "x", "A": "1"}) == "&A=1&z=a_b_c"


def signed(fields: dict[str, str], method: str = "sha256", secret: str = SECRET_1) -> dict:
    return {**fields, "sig": sign(fields, secret, method)}


@pytest.mark.parametrize("name", sorted(VECTOR_1))
def test_tampering_with_any_field_fails(name: str) -> None:
    request = signed(VECTOR_1)
    verify_signature(request, SECRET_1, "sha256", now=AT_1)
    tampered = {**request, name: request[name] + "1"}
    with pytest.raises(SignatureError) as info:
        verify_signature(tampered, SECRET_1, "sha256", now=AT_1, max_age=None)
    assert info.value.reason == "mismatch"
    assert info.value.http_status == 401


def test_adding_or_removing_a_field_fails() -> None:
    request = signed(VECTOR_1)
    for changed in ({**request, "extra": "x"}, {k: v for k, v in request.items() if k != "to"}):
        with pytest.raises(SignatureError, match="does not match"):
            verify_signature(changed, SECRET_1, "sha256", max_age=None)


def test_wrong_secret_fails() -> None:
    with pytest.raises(SignatureError) as info:
        verify_signature(signed(VECTOR_1), "not the secret", "sha256", now=AT_1)
    assert info.value.reason == "mismatch"
    assert "check the secret" in str(info.value)


def test_wrong_method_is_named_in_the_error() -> None:
    request = signed(VECTOR_1, "sha256")
    with pytest.raises(SignatureError) as info:
        verify_signature(request, SECRET_1, "md5hash", now=AT_1)
    assert info.value.reason == "mismatch"
    assert "checked with md5hash" in str(info.value)
    assert "it matches sha256" in str(info.value)


def test_key_order_does_not_matter() -> None:
    request = signed(VECTOR_1)
    reordered = dict(reversed(list(request.items())))
    verify_signature(reordered, SECRET_1, "sha256", now=AT_1)


def test_ampersand_and_equals_in_values() -> None:
    fields = {**VECTOR_2, "text": "a=b&c"}
    same_after_replacement = {**VECTOR_2, "text": "a_b_c"}
    assert sign(fields, SECRET_2, "md5hash") == sign(same_after_replacement, SECRET_2, "md5hash")
    verify_signature(signed(fields, "md5hash", SECRET_2), SECRET_2, "md5hash", now=AT_2)


def test_upper_case_hex_is_accepted() -> None:
    request = signed(VECTOR_1, "sha512")
    request["sig"] = request["sig"].upper()
    verify_signature(request, SECRET_1, "sha512", now=AT_1)


def test_non_ascii_signature_is_a_mismatch_not_a_crash() -> None:
    request = {**VECTOR_1, "sig": "é" * 64}
    with pytest.raises(SignatureError) as info:
        verify_signature(request, SECRET_1, "sha256", now=AT_1)
    assert info.value.reason == "mismatch"


@pytest.mark.parametrize("sig", [None, ""])
def test_missing_signature(sig: str | None) -> None:
    request = dict(VECTOR_1) if sig is None else {**VECTOR_1, "sig": sig}
    with pytest.raises(SignatureError) as info:
        verify_signature(request, SECRET_1, "sha256", now=AT_1)
    assert info.value.reason == "missing"
    assert info.value.field == "sig"


def test_multi_valued_mappings_from_frameworks() -> None:
    request = {name: [value] for name, value in signed(VECTOR_1).items()}
    verify_signature(request, SECRET_1, "sha256", now=AT_1)
    request["to"] = ["13239877404", "1"]
    with pytest.raises(SignatureError) as info:
        verify_signature(request, SECRET_1, "sha256", now=AT_1)
    assert info.value.reason == "malformed"


def test_lone_surrogate_is_malformed_not_a_crash() -> None:
    with pytest.raises(SignatureError) as info:
        verify_signature({**signed(VECTOR_1), "to": "\ud800"}, SECRET_1, "sha256", now=AT_1)
    assert info.value.reason == "malformed"


def test_the_mapping_is_not_mutated() -> None:
    request = signed(VECTOR_1)
    before = dict(request)
    verify_signature(request, SECRET_1, "sha256", now=AT_1)
    sign(request, SECRET_1, "sha256")
    assert request == before


def test_works_on_a_receipts_to_wire() -> None:
    fields = {
        "messageId": "0B00000127FDBC63",
        "msisdn": "447547232824",
        "to": "Vonage",
        "status": "delivered",
        "err-code": "000",
        "scts": "1234567890",
        "timestamp": "1385047698",
        "nonce": "n-1",
    }
    receipt = parse(signed(fields))
    verify_signature(receipt.to_wire(), SECRET_1, "sha256", now=AT_1)


# -- the timestamp window --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("offset", "reason"),
    [
        (timedelta(0), None),
        (timedelta(minutes=5), None),
        (timedelta(minutes=-5), None),
        (timedelta(minutes=5, seconds=1), "expired"),
        (timedelta(minutes=-5, seconds=-1), "future"),
        (timedelta(days=-400), "future"),
    ],
)
def test_window_edges(offset: timedelta, reason: str | None) -> None:
    request = signed(VECTOR_1)
    if reason is None:
        verify_signature(request, SECRET_1, "sha256", now=AT_1 + offset)
    else:
        with pytest.raises(SignatureError) as info:
            verify_signature(request, SECRET_1, "sha256", now=AT_1 + offset)
        assert info.value.reason == reason
        assert info.value.field == "timestamp"


def test_window_can_be_changed_or_turned_off() -> None:
    request = signed(VECTOR_1)
    late = AT_1 + timedelta(hours=1)
    verify_signature(request, SECRET_1, "sha256", now=late, max_age=timedelta(hours=2))
    verify_signature(request, SECRET_1, "sha256", now=late, max_age=None)
    verify_signature(request, SECRET_1, "sha256", max_age=None)  # real clock


# An ISO 8601 timestamp is usable: real traffic carries them (see test_review_14).
@pytest.mark.parametrize("timestamp", [None, "soon", "-5", "1e9", "²", "0001-01-01T00:00:00+05:00"])
def test_no_usable_timestamp(timestamp: str | None) -> None:
    fields = {k: v for k, v in VECTOR_1.items() if k != "timestamp"}
    if timestamp is not None:
        fields["timestamp"] = timestamp
    request = signed(fields)
    with pytest.raises(SignatureError) as info:
        verify_signature(request, SECRET_1, "sha256", now=AT_1)
    assert info.value.reason == "no-timestamp"
    verify_signature(request, SECRET_1, "sha256", max_age=None)


def test_signature_is_checked_before_the_window() -> None:
    # A forged request learns nothing about the window: it is a mismatch.
    forged = {**VECTOR_1, "sig": "0" * 64}
    with pytest.raises(SignatureError) as info:
        verify_signature(forged, SECRET_1, "sha256", now=AT_1 + timedelta(days=1))
    assert info.value.reason == "mismatch"


# -- programming errors ------------------------------------------------------------------------


@pytest.mark.parametrize("secret", ["", b"", " ", "\t\n", b"  \r\n", "\u00a0\u2003"])
def test_empty_or_blank_secret_is_refused(secret: str | bytes) -> None:
    # An unset variable read as "" or a stray newline must not become the key.
    with pytest.raises(ValueError, match="secret is empty or only whitespace"):
        verify_signature(signed(VECTOR_1), secret, "sha256")
    with pytest.raises(ValueError, match="secret is empty or only whitespace"):
        sign(VECTOR_1, secret, "sha256")
    sign(VECTOR_1, " padded ", "sha256")  # surrounding spaces in a real secret are its own


def test_signing_names_the_method_explicitly() -> None:
    # The dashboard's default is sha256 while examples hard-code md5hash:
    # neither sign() nor verify_signature() guesses.
    with pytest.raises(TypeError, match="method"):
        sign(VECTOR_1, SECRET_1)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="method"):
        verify_signature(signed(VECTOR_1), SECRET_1)  # type: ignore[call-arg]


def test_unknown_method_names_the_allowed_ones() -> None:
    with pytest.raises(ValueError, match="md5hash, md5, sha1, sha256, sha512") as info:
        sign(VECTOR_1, SECRET_1, "sha3")
    assert not isinstance(info.value, SignatureError)


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        verify_signature(signed(VECTOR_1), SECRET_1, "sha256", now=datetime(2013, 11, 21))


# -- replays ---------------------------------------------------------------------------------


def test_nonce_cache_refuses_the_second_time() -> None:
    cache = NonceCache()
    request = signed({**VECTOR_1, "nonce": "abc"})
    verify_signature(request, SECRET_1, "sha256", now=AT_1, nonce_cache=cache)
    with pytest.raises(SignatureError) as info:
        verify_signature(request, SECRET_1, "sha256", now=AT_1, nonce_cache=cache)
    assert info.value.reason == "replayed"
    # Another nonce is another request.
    other = signed({**VECTOR_1, "nonce": "abd"})
    verify_signature(other, SECRET_1, "sha256", now=AT_1, nonce_cache=cache)


def test_nonce_cache_records_only_valid_requests() -> None:
    cache = NonceCache()
    request = signed({**VECTOR_1, "nonce": "abc"})
    forged = {**request, "sig": "0" * 64}
    with pytest.raises(SignatureError):
        verify_signature(forged, SECRET_1, "sha256", now=AT_1, nonce_cache=cache)
    assert len(cache) == 0
    verify_signature(request, SECRET_1, "sha256", now=AT_1, nonce_cache=cache)


def test_nonce_cache_discard_lets_a_retry_through() -> None:
    cache = NonceCache()
    request = signed({**VECTOR_1, "nonce": "abc"})
    verify_signature(request, SECRET_1, "sha256", now=AT_1, nonce_cache=cache)
    cache.discard(request)
    verify_signature(request, SECRET_1, "sha256", now=AT_1, nonce_cache=cache)


def test_nonce_cache_expires() -> None:
    cache = NonceCache(max_size=2, ttl=timedelta(minutes=10))
    assert cache.add("a", AT_1)
    assert not cache.add("a", AT_1 + timedelta(minutes=9))
    # Kept through its last instant (the window's edges are inclusive too) ...
    assert not cache.add("a", AT_1 + timedelta(minutes=10))
    # ... and forgotten after it.
    assert cache.add("a", AT_1 + timedelta(minutes=10, seconds=1))
    assert cache.add("b", AT_1 + timedelta(minutes=10, seconds=1))
    assert len(cache) == 2


def test_nonce_cache_never_forgets_an_unexpired_entry() -> None:
    # It used to evict the oldest entry above max_size, making it replayable:
    # full means refuse, with a status that makes the provider retry later.
    cache = NonceCache(max_size=3, ttl=timedelta(minutes=10))
    requests = [signed({**VECTOR_1, "nonce": f"n{i}"}) for i in range(4)]
    for request in requests[:3]:
        verify_signature(request, SECRET_1, "sha256", now=AT_1, nonce_cache=cache)
    with pytest.raises(SignatureError) as full:
        verify_signature(requests[3], SECRET_1, "sha256", now=AT_1, nonce_cache=cache)
    assert full.value.reason is SignatureFailure.UNAVAILABLE and full.value.http_status == 503
    for request in requests[:3]:
        with pytest.raises(SignatureError) as replay:
            verify_signature(request, SECRET_1, "sha256", now=AT_1, nonce_cache=cache)
        assert replay.value.reason is SignatureFailure.REPLAYED
    # Once the first entries expire, the provider's retry (signed anew) gets in.
    later = AT_1 + timedelta(minutes=10, seconds=1)
    retry = signed({**VECTOR_1, "nonce": "n3", "timestamp": str(int(later.timestamp()))})
    verify_signature(retry, SECRET_1, "sha256", now=later, nonce_cache=cache)
    assert len(cache) == 1


def test_hex_case_variants_of_a_signature_are_the_same_request() -> None:
    # Without a nonce, the guard keyed on the raw "sig": each of the case
    # variants of one request was accepted once more.
    request = signed(VECTOR_1)  # VECTOR_1 has no nonce
    cache = NonceCache()
    verify_signature(request, SECRET_1, "sha256", now=AT_1, nonce_cache=cache)
    sig = request["sig"]
    letters = [i for i, c in enumerate(sig) if c.isalpha()]
    variants = {sig.upper()} | {sig[:i] + sig[i].upper() + sig[i + 1 :] for i in letters}
    assert len(variants) >= 20
    for variant in variants:
        with pytest.raises(SignatureError) as info:
            verify_signature({**request, "sig": variant}, SECRET_1, "sha256", now=AT_1,
                             nonce_cache=cache)  # fmt: skip
        assert info.value.reason is SignatureFailure.REPLAYED


def test_renamed_fields_cannot_strip_the_nonce_or_signed_fields() -> None:
    # The signing string does not escape names: one field named
    # "network-code=23410&nonce" signs exactly as "network-code" plus "nonce".
    request = signed({**VECTOR_1, "network-code": "23410", "nonce": "abc", "price": "0.03"})
    forged = {k: v for k, v in request.items() if k not in ("network-code", "nonce")}
    forged["network-code=23410&nonce"] = "abc"
    assert signing_string(
        {k: v for k, v in request.items() if k != "sig"}
    ) == "".join(  # what the old code computed for the forged request
        f"&{k}={v}" for k, v in sorted(forged.items()) if k != "sig"
    )
    cache = NonceCache()
    verify_signature(request, SECRET_1, "sha256", now=AT_1, nonce_cache=cache)
    with pytest.raises(SignatureError) as info:
        verify_signature(forged, SECRET_1, "sha256", now=AT_1, nonce_cache=NonceCache())
    assert info.value.reason is SignatureFailure.MALFORMED
    assert "cannot contain '&' or '='" in str(info.value)
    # Stripping a signed optional field the same way (price) is refused too.
    stripped = {k: v for k, v in request.items() if k not in ("price", "sig")}
    stripped["nonce=abc&price"] = "0.03"
    with pytest.raises(SignatureError, match="cannot contain"):
        verify_signature({**stripped, "sig": request["sig"]}, SECRET_1, "sha256", now=AT_1)
    with pytest.raises(DlrError, match="cannot contain"):
        sign({"a=b": "c"}, SECRET_1, "sha256")


def test_a_nonce_cache_needs_the_timestamp_window() -> None:
    # With max_age=None, a replay after the cache forgot the request passed.
    with pytest.raises(ValueError, match="needs max_age"):
        verify_signature(
            signed(VECTOR_1), SECRET_1, "sha256", max_age=None, nonce_cache=NonceCache()
        )


@pytest.mark.parametrize("framework", ["werkzeug", "django", "starlette"])
def test_framework_multi_dicts_with_a_repeated_key_are_refused(framework: str) -> None:
    # Their items() show one value per key (Werkzeug and Starlette the first,
    # Django the last): the repeat must not hide from the check or the parser.
    request = signed({**VECTOR_1, "nonce": "abc"})
    pairs = [*request.items(), ("to", "someone-else")]
    mapping = multi_dict(framework, pairs)
    with pytest.raises(SignatureError) as info:
        verify_signature(mapping, SECRET_1, "sha256", now=AT_1)
    assert info.value.reason is SignatureFailure.MALFORMED and "repeated" in str(info.value)
    with pytest.raises(InvalidFieldError, match="repeated") as parsed:
        parse(mapping)
    assert parsed.value.field == "to"
    # Without the repeat, each works as a plain mapping.
    verify_signature(multi_dict(framework, list(request.items())), SECRET_1, "sha256", now=AT_1)


def multi_dict(framework: str, pairs: list[tuple[str, str]]) -> Any:
    if framework == "werkzeug":
        from werkzeug.datastructures import MultiDict

        return MultiDict(pairs)
    if framework == "starlette":
        from starlette.datastructures import ImmutableMultiDict

        return ImmutableMultiDict(pairs)
    import django
    from django.conf import settings

    if not settings.configured:
        settings.configure()
        django.setup()
    from django.http import QueryDict

    query = QueryDict(mutable=True)
    for name, value in pairs:
        query.appendlist(name, value)
    return query


def test_nonce_cache_ttl_must_cover_the_window() -> None:
    cache = NonceCache(ttl=timedelta(minutes=9))
    with pytest.raises(ValueError, match="twice max_age"):
        verify_signature(signed(VECTOR_1), SECRET_1, "sha256", now=AT_1, nonce_cache=cache)
    with pytest.raises(ValueError):
        NonceCache(max_size=0)
    with pytest.raises(ValueError):
        NonceCache(ttl=timedelta(0))


# -- parse_request --------------------------------------------------------------------------------

RECEIPT = {
    "messageId": "0B00000127FDBC63",
    "msisdn": "447547232824",
    "to": "Vonage",
    "status": "delivered",
    "err-code": "0",
    "timestamp": "1385047698",
    "nonce": "0f3e",
}


@pytest.mark.parametrize("encoding", ["query", "form", "json"])
def test_parse_request_verifies_every_encoding(encoding: str) -> None:
    good = signed(RECEIPT, "sha256")
    bad = {**good, "status": "failed"}

    def request(fields: dict[str, str]) -> dict[str, object]:
        if encoding == "query":
            return {"method": "GET", "content_type": None, "query": urlencode(fields)}
        if encoding == "form":
            return {
                "method": "POST",
                "content_type": "application/x-www-form-urlencoded",
                "body": urlencode(fields).encode(),
            }
        return {
            "method": "POST",
            "content_type": "application/json",
            "body": json.dumps(fields).encode(),
        }

    options = {"secret": SECRET_1, "signature_method": "sha256", "now": AT_1}
    receipt = parse_request(**request(good), **options)  # type: ignore[arg-type]
    assert receipt.sig == good["sig"]
    with pytest.raises(SignatureError) as info:
        parse_request(**request(bad), **options)  # type: ignore[arg-type]
    assert info.value.reason == "mismatch"
    with pytest.raises(SignatureError):
        parse_request(**request(good), secret=SECRET_1, signature_method="md5hash", now=AT_1)  # type: ignore[arg-type]


def test_parse_request_needs_the_method_with_a_secret() -> None:
    with pytest.raises(ValueError, match="signature_method"):
        parse_request(method="GET", content_type=None, query=urlencode(RECEIPT), secret="s")


# -- properties ------------------------------------------------------------------------------------

# Any name the provider could send: everything but "&" and "=", which the
# signing string cannot tell apart from its own separators.
names = st.text(
    st.characters(exclude_categories=["Cs"], exclude_characters="\x00&="), max_size=30
).filter(lambda s: s != "sig")
field_maps = st.dictionaries(names, text, min_size=1, max_size=8)


@given(field_maps, names, text)
def test_names_with_a_separator_are_refused_wherever_they_are(
    fields: dict[str, str], name: str, value: str
) -> None:
    for bad in (f"{name}&", f"={name}", f"{name}=x&y"):
        with pytest.raises(DlrError, match="cannot contain"):
            signing_string({**fields, bad: value})


@given(field_maps, st.sampled_from(list(SignatureMethod)), text.filter(str.strip))
def test_sign_then_verify_passes(
    fields: dict[str, str], method: SignatureMethod, secret: str
) -> None:
    request = {**fields, "sig": sign(fields, secret, method)}
    verify_signature(request, secret, method, max_age=None)


@given(field_maps, st.sampled_from(list(SignatureMethod)), st.data())
def test_changing_any_single_value_fails(
    fields: dict[str, str], method: SignatureMethod, data: st.DataObject
) -> None:
    request = {**fields, "sig": sign(fields, "s3cret", method)}
    name = data.draw(st.sampled_from(sorted(fields)))
    new_value = data.draw(text)
    # '&' and '=' are replaced by '_' before signing: those changes are invisible by design.
    normal = str.maketrans("&=", "__")
    assume(new_value.translate(normal) != fields[name].translate(normal))
    with pytest.raises(SignatureError) as info:
        verify_signature({**request, name: new_value}, "s3cret", method, max_age=None)
    assert info.value.reason == "mismatch"
