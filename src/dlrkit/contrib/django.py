"""Django: a receipt from an ``HttpRequest``, and a view decorator that answers 4xx.

::

    @receipt_view(secret=SECRET, signature_method="sha256")
    def delivery_receipt(request, receipt):
        ...
        return HttpResponse(status=204)
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from .._errors import DlrError
from .._receipt import DeliveryReceipt
from .._request import check_options, parse_request
from .._signature import DEFAULT_MAX_AGE
from ._common import (
    check_length,
    error_body,
    log_refusal,
    max_size,
    read_bounded,
    unreadable_body,
)

__all__ = ["error_response", "receipt_from_request", "receipt_view"]


def receipt_from_request(request: Any, **options: Any) -> DeliveryReceipt:
    """Parse a Django ``HttpRequest`` carrying a delivery receipt.

    Uses the raw query string and body, not ``request.GET``/``request.POST``,
    so that the parser, not Django, decides on charsets and repeated keys.
    A body announced over ``limits.max_size`` is refused before it is read.
    *options* go to :func:`dlrkit.parse_request`.

    Raises:
        DlrError: the request is malformed or forged (see :func:`receipt_view`).
    """
    limit = max_size(options)
    check_length(request.META.get("CONTENT_LENGTH"), limit)
    return parse_request(
        method=request.method,
        content_type=request.META.get("CONTENT_TYPE"),
        query=_query(request.META),
        body=_body(request, limit),
        **options,
    )


def _body(request: Any, limit: int) -> bytes:
    meta = request.META
    if not meta.get("CONTENT_LENGTH") and meta.get("wsgi.input_terminated"):
        # A chunked body (no length, as proxies forward one): Django reads an
        # empty body then, and the receipt would be refused and lost.
        return read_bounded(meta["wsgi.input"].read, limit)
    try:
        return bytes(request.body)  # Django reads no more than Content-Length
    except Exception as error:  # RequestDataTooBig, a client that went away, ...
        raise unreadable_body(error) from None


def _query(meta: Any) -> str | bytes:
    query: str = meta.get("QUERY_STRING", "")
    if "wsgi.input" in meta:
        # WSGI (PEP 3333) hands the query's bytes over as Latin-1 text: give the
        # parser those bytes, so that UTF-8 is read as UTF-8 ("café", not "cafÃ©").
        try:
            return query.encode("latin-1")
        except UnicodeEncodeError:
            return query  # a server that did not follow PEP 3333
    return query  # ASGI: Django has decoded it as UTF-8 already


def error_response(error: DlrError) -> Any:
    """A Django response for *error*: its ``http_status`` and a small JSON body."""
    from django.http import JsonResponse

    return JsonResponse(error_body(error), status=error.http_status)


def receipt_view(**options: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A view decorator: the view gets the receipt, and bad requests get their 4xx.

    The view is called as ``view(request, receipt, *args, **kwargs)``. A
    ``DlrError`` is logged and answered with :func:`error_response`. The view
    is exempt from CSRF checks, which the provider cannot pass: the
    signature does that job. *options* go to :func:`dlrkit.parse_request`,
    and are checked now, so that a mistake in them fails at start-up.
    """
    check_options(
        options.get("secret"),
        options.get("signature_method"),
        options.get("max_age", DEFAULT_MAX_AGE),
        options.get("nonce_cache"),
    )

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        from django.views.decorators.csrf import csrf_exempt

        @functools.wraps(view)
        def wrapper(request: Any, *args: Any, **kwargs: Any) -> Any:
            try:
                receipt = receipt_from_request(request, **options)
            except DlrError as error:
                log_refusal(error)
                return error_response(error)
            return view(request, receipt, *args, **kwargs)

        exempt: Callable[..., Any] = csrf_exempt(wrapper)
        return exempt

    return decorate
