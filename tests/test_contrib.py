"""dlrkit.contrib: bounded bodies, raw queries, start-up checks and 4xx answers."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest

import dlrkit
from dlrkit.contrib._common import check_length, error_body, read_bounded
from dlrkit.testing import make_dlr_payload
from dlrkit.testing.clients import asgi_request

PAYLOAD = make_dlr_payload("form")
LIMIT = dlrkit.Limits().max_size


class CountingStream(io.RawIOBase):
    """An endless body that counts what is read of it."""

    def __init__(self) -> None:
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        size = min(len(buffer), 8192)
        buffer[:size] = b"x" * size
        self.read_bytes += size
        return size


def test_read_bounded_reads_at_most_the_limit_plus_one() -> None:
    stream = CountingStream()
    with pytest.raises(dlrkit.MalformedPayloadError) as info:
        read_bounded(stream.read, LIMIT)
    assert info.value.http_status == 413
    assert stream.read_bytes <= LIMIT + 8192
    assert read_bounded(io.BytesIO(b"abc").read, 3) == b"abc"
    with pytest.raises(dlrkit.MalformedPayloadError):
        read_bounded(io.BytesIO(b"abcd").read, 3)


@pytest.mark.parametrize("header", [None, "", "abc", "-1", "10", " 65536 "])
def test_content_length_within_or_unusable_is_left_to_the_reader(header: str | None) -> None:
    check_length(header, LIMIT)


@pytest.mark.parametrize("header", ["65537", "999999999999999999999999999999"])
def test_content_length_over_the_limit_is_refused_before_reading(header: str) -> None:
    with pytest.raises(dlrkit.MalformedPayloadError) as info:
        check_length(header, LIMIT)
    assert info.value.http_status == 413


def test_error_body_is_small_and_names_the_field() -> None:
    error = dlrkit.SignatureError("bad", reason="mismatch", field="sig", value="x")
    assert error_body(error) == {"error": "bad", "field": "sig", "reason": "mismatch"}


# -- Flask -------------------------------------------------------------------------------------


@pytest.fixture
def flask_app() -> Iterator[Any]:
    flask = pytest.importorskip("flask")
    from dlrkit.contrib.flask import init_app, receipt_from_request

    app = flask.Flask(__name__)
    init_app(app)

    @app.route("/dlr", methods=["GET", "POST"])
    def dlr() -> Any:
        return receipt_from_request().message_id

    yield app


def wsgi_post(app: Any, stream: CountingStream, length: str | None) -> tuple[str, bytes]:
    """POST an endless body to a WSGI *app*, chunked or with a Content-Length."""
    from werkzeug.test import EnvironBuilder

    environ = EnvironBuilder(
        path="/dlr", method="POST", content_type="application/x-www-form-urlencoded"
    ).get_environ()
    environ["wsgi.input"] = stream
    if length is None:
        environ.pop("CONTENT_LENGTH", None)
        environ["wsgi.input_terminated"] = True  # a chunked body, as servers announce it
    else:
        environ["CONTENT_LENGTH"] = length
    statuses: list[str] = []
    body = b"".join(app(environ, lambda status, headers: statuses.append(status)))
    return statuses[0], body


def test_flask_reads_no_more_than_the_limit_of_a_chunked_body(flask_app: Any) -> None:
    # It used to read the whole body first: 500 MiB in, 1 GiB of memory.
    stream = CountingStream()
    status, body = wsgi_post(flask_app, stream, None)
    assert status.startswith("413") and b"over the limit" in body
    assert stream.read_bytes <= LIMIT + 16384


def test_flask_refuses_an_announced_oversized_body_unread(flask_app: Any) -> None:
    stream = CountingStream()
    status, _ = wsgi_post(flask_app, stream, "600000000")
    assert status.startswith("413")
    assert stream.read_bytes == 0


def test_flask_init_app_answers_json(flask_app: Any) -> None:
    client = flask_app.test_client()
    assert client.post("/dlr", data=PAYLOAD, content_type="application/x-www-form-urlencoded")
    bad = client.get("/dlr?messageId=m")
    assert (bad.status_code, bad.mimetype) == (400, "application/json")
    assert bad.get_json()["field"] in ("msisdn", "to", "status", "err-code")


# -- Starlette and FastAPI ---------------------------------------------------------------------


def asgi(
    app: Any, method: str, query: bytes, headers: dict[str, str], chunks: Iterator[bytes]
) -> tuple[int, bytes, int]:
    """Call *app*, feeding the body chunk by chunk; returns status, body and chunks read."""
    read = 0

    def counted() -> Iterator[bytes]:
        nonlocal read
        for chunk in chunks:
            read += 1
            yield chunk

    answer = asgi_request(app, method, "/dlr", query=query, body=counted(), headers=headers)
    return answer.status, answer.body, read


def endless() -> Iterator[bytes]:
    while True:
        yield b"x" * 8192


@pytest.fixture
def fastapi_app() -> Any:
    fastapi = pytest.importorskip("fastapi")
    from dlrkit.contrib.fastapi import receipt

    app = fastapi.FastAPI()
    # No exception handler: the dependency's refusals are 4xx on their own.

    @app.api_route("/dlr", methods=["GET", "POST"])
    async def dlr(r: dlrkit.DeliveryReceipt = fastapi.Depends(receipt())) -> str:  # noqa: B008
        return r.message_id

    return app


def test_starlette_reads_no_more_than_the_limit_of_a_chunked_body(fastapi_app: Any) -> None:
    status, body, read = asgi(
        fastapi_app, "POST", b"", {"content-type": "application/x-www-form-urlencoded"}, endless()
    )
    assert status == 413 and b"over the limit" in body
    assert read * 8192 <= LIMIT + 2 * 8192


def test_starlette_takes_the_raw_query_bytes(fastapi_app: Any) -> None:
    # request.url.query raised UnicodeDecodeError on a raw 0xFF byte.
    query = b"messageId=m&msisdn=1&to=x&status=failed&err-code=1&client-ref=\xff"
    status, body, _ = asgi(fastapi_app, "GET", query, {}, iter(()))
    assert status == 400 and b"not valid utf-8" in body
    status, body, _ = asgi(fastapi_app, "GET", PAYLOAD, {}, iter(()))
    assert (status, body) == (200, b'"0B00000127FDBC63"')


def test_fastapi_dependency_answers_4xx_without_a_handler(fastapi_app: Any) -> None:
    # Depends(receipt_from_request) answered 422 to everything; a hand-written
    # dependency turned a malformed body into a 500.
    status, body, _ = asgi(
        fastapi_app, "POST", b"", {"content-type": "application/json"}, iter([b"{"])
    )
    assert status == 400 and b'"detail"' in body
    status, _, _ = asgi(fastapi_app, "POST", b"", {"content-type": "text/csv"}, iter([b"a"]))
    assert status == 415


def test_fastapi_options_are_checked_at_start_up() -> None:
    pytest.importorskip("fastapi")
    from dlrkit.contrib.fastapi import receipt

    with pytest.raises(ValueError, match="signature_method is needed"):
        receipt(secret="s")
    with pytest.raises(ValueError, match="empty or only whitespace"):
        receipt(secret=" ", signature_method="sha256")
    with pytest.raises(ValueError, match="guards nothing"):
        receipt(nonce_cache=dlrkit.NonceCache())
    with pytest.raises(ValueError, match="needs max_age"):
        receipt(
            secret="s", signature_method="sha256", nonce_cache=dlrkit.NonceCache(), max_age=None
        )
    with pytest.raises(TypeError):
        receipt(max_size=10)  # type: ignore[call-arg]


def test_fastapi_exception_handler_for_the_applications_own_errors() -> None:
    fastapi = pytest.importorskip("fastapi")
    from dlrkit.contrib.fastapi import exception_handler

    app = fastapi.FastAPI()
    app.add_exception_handler(dlrkit.DlrError, exception_handler)

    @app.get("/dlr")
    async def dlr() -> str:
        return dlrkit.parse({"messageId": "m"}).message_id

    status, body, _ = asgi(app, "GET", b"", {}, iter(()))
    assert status == 400 and b'"field":"msisdn"' in body


# -- Django ------------------------------------------------------------------------------------


def test_django_receipt_view_checks_its_options_at_start_up() -> None:
    pytest.importorskip("django")
    from dlrkit.contrib.django import receipt_view

    with pytest.raises(ValueError, match="signature_method is needed"):
        receipt_view(secret="s")
    with pytest.raises(ValueError, match="guards nothing"):
        receipt_view(nonce_cache=dlrkit.NonceCache())
