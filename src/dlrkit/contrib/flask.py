"""Flask (and any Werkzeug application): a receipt from the current request."""

from __future__ import annotations

from typing import Any

from .._receipt import DeliveryReceipt
from .._request import parse_request

__all__ = ["receipt_from_request"]


def receipt_from_request(request: Any = None, **options: Any) -> DeliveryReceipt:
    """Parse the webhook request Flask is handling (or *request*, a Werkzeug request).

    *options* go to :func:`dlrkit.parse_request`: ``secret=``,
    ``signature_method=``, ``strict=``, ``limits=``, ...
    """
    if request is None:
        from flask import request as current  # imported only when used

        request = current
    return parse_request(
        method=request.method,
        content_type=request.headers.get("Content-Type"),
        query=request.query_string,
        body=request.get_data(cache=True),
        **options,
    )
