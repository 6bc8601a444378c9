"""Starlette and FastAPI: a receipt from a ``Request`` (a coroutine)."""

from __future__ import annotations

from typing import Any

from .._receipt import DeliveryReceipt
from .._request import parse_request

__all__ = ["receipt_from_request"]


async def receipt_from_request(request: Any, **options: Any) -> DeliveryReceipt:
    """Parse a Starlette/FastAPI ``Request`` carrying a delivery receipt.

    *options* go to :func:`dlrkit.parse_request`.
    """
    return parse_request(
        method=request.method,
        content_type=request.headers.get("content-type"),
        query=request.url.query,
        body=await request.body(),
        **options,
    )
