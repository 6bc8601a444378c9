"""Django: a receipt from an ``HttpRequest``."""

from __future__ import annotations

from typing import Any

from .._receipt import DeliveryReceipt
from .._request import parse_request

__all__ = ["receipt_from_request"]


def receipt_from_request(request: Any, **options: Any) -> DeliveryReceipt:
    """Parse a Django ``HttpRequest`` carrying a delivery receipt.

    Uses the raw query string and body, not ``request.GET``/``request.POST``,
    so that the parser, not Django, decides on charsets and repeated keys.
    *options* go to :func:`dlrkit.parse_request`.
    """
    return parse_request(
        method=request.method,
        content_type=request.META.get("CONTENT_TYPE"),
        query=request.META.get("QUERY_STRING", ""),
        body=request.body,
        **options,
    )
