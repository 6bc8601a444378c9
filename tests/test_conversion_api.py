"""dlrkit.conversion_api: the Conversion API's request body."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from dlrkit.conversion_api import conversion_payload
from dlrkit.testing import make_dlr


def test_conversion_payload() -> None:
    receipt = make_dlr()
    assert conversion_payload(receipt, True) == {
        "message-id": "0B00000127FDBC63",
        "delivered": "true",
        "timestamp": "2018-10-25 12:10:29",
    }
    at = datetime(2026, 11, 20, 13, 0, tzinfo=timezone.utc).astimezone()
    assert conversion_payload("abc", False, at)["timestamp"] == "2026-11-20 13:00:00"
    assert conversion_payload("abc", False)["delivered"] == "false"
    with pytest.raises(ValueError):
        conversion_payload("", True)
