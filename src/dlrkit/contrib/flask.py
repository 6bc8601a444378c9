"""Flask (and any Werkzeug application): a receipt from the current request.

``receipt_from_request`` parses the request Flask is handling; ``init_app``
makes every ``DlrError`` a 4xx JSON answer (and logs it), so that a malformed
or forged request never becomes a 500::

    app = Flask(__name__)
    init_app(app)

    @app.route("/webhooks/delivery-receipt", methods=["GET", "POST"])
    def delivery_receipt():
        receipt = receipt_from_request(secret=SECRET, signature_method="sha256")
        ...
        return "", 204
"""

from __future__ import annotations

import json
from typing import Any

from .._errors import DlrError
from .._receipt import DeliveryReceipt
from .._request import parse_request
from ._common import check_length, error_body, log_refusal, max_size, read_bounded

__all__ = ["error_response", "init_app", "receipt_from_request"]


def receipt_from_request(request: Any = None, **options: Any) -> DeliveryReceipt:
    """Parse the webhook request Flask is handling (or *request*, a Werkzeug request).

    *options* go to :func:`dlrkit.parse_request`: ``secret=``,
    ``signature_method=``, ``nonce_cache=``, ``strict=``, ``limits=``, ...
    The raw query string and body are used, not ``request.args``/``form``,
    and no more of the body is read than ``limits.max_size`` allows.

    Raises:
        DlrError: the request is malformed or forged (see :func:`init_app`).
    """
    if request is None:
        from flask import request as current  # imported only when used

        request = current
    return parse_request(
        method=request.method,
        content_type=request.headers.get("Content-Type"),
        query=request.query_string,
        body=_body(request, max_size(options)),
        **options,
    )


def _body(request: Any, limit: int) -> bytes:
    check_length(request.headers.get("Content-Length"), limit)
    # From the stream, bounded: Werkzeug's get_data() would read whatever
    # length the client announces. The stream is consumed (request.form and
    # get_data() are then empty); the receipt holds what it carried.
    return read_bounded(request.stream.read, limit)


def error_response(error: DlrError) -> Any:
    """A Flask response for *error*: its ``http_status`` and a small JSON body."""
    from flask import Response

    return Response(
        json.dumps(error_body(error)), status=error.http_status, mimetype="application/json"
    )


def _handle(error: DlrError) -> Any:
    log_refusal(error)
    return error_response(error)


def init_app(app: Any) -> None:
    """Answer every ``DlrError`` a view raises with its 4xx as JSON, and log it."""
    app.register_error_handler(DlrError, _handle)
