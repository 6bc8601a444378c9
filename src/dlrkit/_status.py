"""The DLR ``status`` table of the provider's "Delivery receipts" guide."""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Final

__all__ = ["DlrStatus"]


class DlrStatus(str, Enum):
    """The ``status`` of a delivery receipt; ``.value`` is the wire word.

    >>> DlrStatus("delivered").is_final
    True
    >>> DlrStatus.BUFFERED.description
    'Message has been buffered for later delivery'
    """

    ACCEPTED = "accepted"
    DELIVERED = "delivered"
    BUFFERED = "buffered"
    EXPIRED = "expired"
    FAILED = "failed"
    REJECTED = "rejected"
    UNKNOWN = "unknown"

    @property
    def description(self) -> str:
        """The guide's description of this status."""
        return _DESCRIPTIONS[self]

    @property
    def is_final(self) -> bool:
        """True for the statuses after which no further receipt follows."""
        return self in _FINAL

    @property
    def is_success(self) -> bool:
        """True only for ``delivered``."""
        return self is DlrStatus.DELIVERED

    def __str__(self) -> str:
        return self.value


# Verbatim from the guide's status table.
_DESCRIPTIONS: Final[Mapping[DlrStatus, str]] = {
    DlrStatus.ACCEPTED: "Message has been accepted for delivery, but has not yet been delivered",
    DlrStatus.DELIVERED: "Message has been delivered",
    DlrStatus.BUFFERED: "Message has been buffered for later delivery",
    DlrStatus.EXPIRED: (
        "Message was held at downstream carrier's retry scheme and could not be delivered "
        "within the expiry time"
    ),
    DlrStatus.FAILED: "Message not delivered",
    DlrStatus.REJECTED: "Downstream carrier refuses to deliver message",
    DlrStatus.UNKNOWN: "No useful information available",
}

_FINAL: Final = frozenset(
    {DlrStatus.DELIVERED, DlrStatus.EXPIRED, DlrStatus.FAILED, DlrStatus.REJECTED}
)
