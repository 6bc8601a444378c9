"""Send a payload to your app through its framework's test client, raw bytes and all.

``dlrkit.testing.strategies.malformed_payloads("query")`` makes query strings
with bytes that are not UTF-8 (``b"%ff"`` is fine, a raw ``b"\\xff"`` too):
exactly what a hostile sender can put on the wire, and exactly what
Werkzeug's and httpx's test clients refuse to send, as they encode a query
themselves. These helpers hand the bytes over as a server would: in the WSGI
environ as Latin-1 text (PEP 3333), in the ASGI scope as bytes. None imports
a framework.

>>> import asyncio
>>> async def app(scope, receive, send):   # any ASGI app: FastAPI, Starlette, ...
...     await send({"type": "http.response.start", "status": 200, "headers": []})
...     await send({"type": "http.response.body", "body": scope["query_string"]})
>>> asgi_request(app, "GET", "/dlr", query=b"a=\\xff").body
b'a=\\xff'
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, NamedTuple

__all__ = ["AsgiResponse", "asgi_call", "asgi_request", "django_request", "werkzeug_request"]


def werkzeug_request(
    client: Any,
    method: str,
    path: str,
    *,
    query: bytes = b"",
    body: bytes = b"",
    content_type: str | None = None,
) -> Any:
    """A request through a Werkzeug test client (Flask's ``app.test_client()``).

    Returns the client's response.
    """
    headers = {"Content-Type": content_type} if content_type else {}
    return client.open(
        path,
        method=method,
        data=body,
        headers=headers,
        environ_overrides={"QUERY_STRING": query.decode("latin-1")},  # PEP 3333
    )


def django_request(
    client: Any,
    method: str,
    path: str,
    *,
    query: bytes = b"",
    body: bytes = b"",
    content_type: str | None = None,
) -> Any:
    """A request through Django's ``django.test.Client``, as its WSGI handler gets it."""
    return client.generic(
        method,
        path,
        data=body,
        content_type=content_type or "",
        QUERY_STRING=query.decode("latin-1"),  # PEP 3333
    )


class AsgiResponse(NamedTuple):
    """What an ASGI app answered."""

    status: int
    headers: Mapping[str, str]  # lower-case names, Latin-1 values
    body: bytes


async def asgi_call(
    app: Any,
    method: str,
    path: str,
    *,
    query: bytes = b"",
    body: bytes | Iterable[bytes] = b"",
    headers: Mapping[str, str] | None = None,
    disconnect: bool = False,
) -> AsgiResponse:
    """Call an ASGI *app* (FastAPI, Starlette, ...) once, without a server or httpx.

    *body* is the bytes of the body, or an iterable of chunks, sent one by one
    as a chunked body is (without ``content-length``). With *disconnect*, the
    client goes away after the chunks instead of ending the body.
    """
    sent_headers = dict(headers or {})
    if isinstance(body, (bytes, bytearray)):
        sent_headers.setdefault("content-length", str(len(body)))
        chunks: Iterator[bytes] = iter([bytes(body)])
    else:
        chunks = iter(body)
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": query,
        "headers": [
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in sent_headers.items()
        ],
        "server": ("testserver", 80),
        "client": ("testclient", 50000),
    }
    ended = False
    messages: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal ended
        chunk = None if ended else next(chunks, None)
        if chunk is not None:
            return {"type": "http.request", "body": chunk, "more_body": True}
        if ended or disconnect:
            return {"type": "http.disconnect"}
        ended = True
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    await app(scope, receive, send)
    start = next(m for m in messages if m["type"] == "http.response.start")
    answer = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
    names = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in start.get("headers", [])}
    return AsgiResponse(start["status"], names, answer)


def asgi_request(
    app: Any,
    method: str,
    path: str,
    *,
    query: bytes = b"",
    body: bytes | Iterable[bytes] = b"",
    headers: Mapping[str, str] | None = None,
    disconnect: bool = False,
) -> AsgiResponse:
    """:func:`asgi_call`, run to its end (for tests that are not themselves async)."""
    return asyncio.run(
        asgi_call(app, method, path, query=query, body=body, headers=headers, disconnect=disconnect)
    )
