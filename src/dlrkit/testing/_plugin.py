"""The pytest plugin of dlrkit: fixtures that build receipts, payloads and requests.

Registered through the ``pytest11`` entry point; it imports only dlrkit's core,
so it loads even where the ``testing`` extra is not installed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from .._receipt import DeliveryReceipt
from ._factories import make_dlr as _make_dlr
from ._factories import make_dlr_payload as _make_dlr_payload
from ._factories import make_dlr_request as _make_dlr_request


@pytest.fixture
def make_dlr() -> Callable[..., DeliveryReceipt]:
    """Factory: ``make_dlr(status="failed", err_code=2) -> DeliveryReceipt``."""
    return _make_dlr


@pytest.fixture
def make_dlr_payload() -> Callable[..., bytes]:
    """Factory: ``make_dlr_payload("form", secret=..., status="failed") -> bytes``."""
    return _make_dlr_payload


@pytest.fixture
def make_dlr_request() -> Callable[..., dict[str, Any]]:
    """Factory: ``make_dlr_request("json") -> kwargs for dlrkit.parse_request``."""
    return _make_dlr_request
