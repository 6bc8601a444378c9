"""FastAPI: a dependency that gives the receipt, and 4xx for what is refused.

::

    app = FastAPI()
    app.add_exception_handler(DlrError, exception_handler)
    webhook_receipt = receipt(secret=SECRET, signature_method="sha256", nonce_cache=NonceCache())

    @app.api_route("/webhooks/delivery-receipt", methods=["GET", "POST"])
    async def delivery_receipt(receipt: DeliveryReceipt = Depends(webhook_receipt)):
        ...
        return Response(status_code=204)

A refused request gets its ``http_status`` (400, 401, 405, 413, 415, or 503
when the replay guard cannot record it) with the JSON body
``{"detail": {"error": ..., "field": ..., "reason": ...}}``, whether or not
the exception handler is installed: the dependency raises FastAPI's own
``HTTPException``. The handler is for ``DlrError`` raised by your own code.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from fastapi import HTTPException, Request
from fastapi.responses import JSONResponse

from .._errors import DlrError
from .._limits import DEFAULT_LIMITS, Limits
from .._receipt import DeliveryReceipt
from .._request import check_options
from .._signature import DEFAULT_MAX_AGE, NonceCache, SignatureMethod
from ._common import error_body, log_refusal
from .starlette import receipt_from_request

__all__ = ["exception_handler", "receipt"]


def receipt(
    *,
    secret: str | bytes | None = None,
    signature_method: SignatureMethod | str | None = None,
    nonce_cache: NonceCache | None = None,
    max_age: timedelta | None = DEFAULT_MAX_AGE,
    limits: Limits = DEFAULT_LIMITS,
    strict: bool = False,
) -> Callable[[Request], Awaitable[DeliveryReceipt]]:
    """A dependency that parses (and, with a *secret*, verifies) the webhook request.

    The options are :func:`dlrkit.parse_request`'s. They are checked now, so
    that a mistake in them (a secret without its method, say) fails at
    start-up rather than as a 500 on every request.
    """
    check_options(secret, signature_method, max_age, nonce_cache)
    options: dict[str, Any] = {
        "secret": secret,
        "signature_method": signature_method,
        "nonce_cache": nonce_cache,
        "max_age": max_age,
        "limits": limits,
        "strict": strict,
    }

    async def delivery_receipt(request: Request) -> DeliveryReceipt:
        try:
            return await receipt_from_request(request, **options)
        except DlrError as error:
            log_refusal(error)
            raise HTTPException(error.http_status, detail=error_body(error)) from None

    return delivery_receipt


async def exception_handler(request: Request, error: Exception) -> JSONResponse:
    """For ``app.add_exception_handler(DlrError, exception_handler)``.

    Logs the error and answers its ``http_status`` with the JSON body the
    dependency's refusals have.
    """
    assert isinstance(error, DlrError)
    log_refusal(error)
    return JSONResponse({"detail": error_body(error)}, status_code=error.http_status)
