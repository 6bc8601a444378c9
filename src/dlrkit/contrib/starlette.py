"""Starlette (and FastAPI): a receipt from a ``Request``, and a 4xx for a ``DlrError``.

For FastAPI, ``dlrkit.contrib.fastapi`` wraps these as a dependency.
"""

from __future__ import annotations

from typing import Any

from .._errors import DlrError, MalformedPayloadError
from .._receipt import DeliveryReceipt
from .._request import parse_request
from ._common import check_length, error_body, log_refusal, max_size, unreadable_body

__all__ = ["error_response", "exception_handler", "receipt_from_request"]


async def receipt_from_request(request: Any, **options: Any) -> DeliveryReceipt:
    """Parse a Starlette/FastAPI ``Request`` carrying a delivery receipt.

    Uses the query string's raw bytes (not ``request.url.query``, which
    Starlette decodes itself) and reads no more of the body than
    ``limits.max_size`` allows. *options* go to :func:`dlrkit.parse_request`.

    With a shared replay guard (a ``NonceCache`` with a store), the request
    is parsed in Starlette's thread pool: recording it waits for a database,
    and the event loop goes on serving other requests meanwhile.

    Raises:
        DlrError: the request is malformed or forged.
    """
    limit = max_size(options)
    check_length(request.headers.get("content-length"), limit)
    fields = {
        "method": request.method,
        "content_type": request.headers.get("content-type"),
        "query": request.scope.get("query_string", b""),
        "body": await _body(request, limit),
        **options,
    }
    if getattr(options.get("nonce_cache"), "store", None) is None:
        return parse_request(**fields)
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(lambda: parse_request(**fields))


async def _body(request: Any, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise MalformedPayloadError(
                    f"payload of more than {limit} bytes is over the limit",
                    value=f"<more than {limit} bytes>",
                    http_status=413,
                )
            chunks.append(chunk)
    except DlrError:
        raise
    except Exception as error:  # ClientDisconnect: a 400 for nobody, and no traceback
        raise unreadable_body(error) from None
    return b"".join(chunks)


def error_response(error: DlrError) -> Any:
    """A Starlette response for *error*: its ``http_status`` and a small JSON body."""
    from starlette.responses import JSONResponse

    return JSONResponse(error_body(error), status_code=error.http_status)


async def exception_handler(request: Any, error: Exception) -> Any:
    """For ``app.add_exception_handler(DlrError, ...)``: log, and answer the 4xx as JSON."""
    assert isinstance(error, DlrError)
    log_refusal(error)
    return error_response(error)
