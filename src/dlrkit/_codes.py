"""The DLR ``err-code`` table of the provider's "Delivery receipts" guide."""

from __future__ import annotations

from collections.abc import Mapping
from enum import IntEnum
from typing import Final, NamedTuple

__all__ = ["ErrorCode"]


class ErrorCode(IntEnum):
    """Every ``err-code`` the guide lists, named after its meaning.

    The provider adds codes over time: a receipt whose code is not here keeps
    the number in ``DeliveryReceipt.err_code`` and has ``error=None``.

    >>> ErrorCode(2).meaning
    'Absent Subscriber - Temporary'
    >>> ErrorCode.HANDSET_BUSY
    <ErrorCode.HANDSET_BUSY: 7>
    """

    DELIVERED = 0
    UNKNOWN = 1
    ABSENT_SUBSCRIBER_TEMPORARY = 2
    ABSENT_SUBSCRIBER_PERMANENT = 3
    CALL_BARRED_BY_USER = 4
    PORTABILITY_ERROR = 5
    ANTI_SPAM_REJECTION = 6
    HANDSET_BUSY = 7
    NETWORK_ERROR = 8
    ILLEGAL_NUMBER = 9
    ILLEGAL_MESSAGE = 10
    UNROUTABLE = 11
    DESTINATION_UNREACHABLE = 12
    SUBSCRIBER_AGE_RESTRICTION = 13
    NUMBER_BLOCKED_BY_CARRIER = 14
    PREPAID_INSUFFICIENT_FUNDS = 15
    GATEWAY_QUOTA_EXCEEDED = 16
    ILLEGAL_SENDER_ADDRESS_FOR_US_DESTINATION = 39
    DAILY_LIMIT_SURPASSED = 41
    ENTITY_FILTER = 50
    HEADER_FILTER = 51
    CONTENT_FILTER = 52
    CONSENT_FILTER = 53
    REGULATION_ERROR = 54
    GENERAL_ERROR = 99

    @property
    def meaning(self) -> str:
        """The guide's short meaning, e.g. ``"Handset Busy"``."""
        return _GUIDE[self].meaning

    @property
    def description(self) -> str:
        """The guide's description, verbatim (it may contain Markdown links)."""
        return _GUIDE[self].description

    @classmethod
    def lookup(cls, code: int) -> ErrorCode | None:
        """The member for *code*, or None for a code the guide does not list."""
        return _BY_CODE.get(code)


class _Row(NamedTuple):
    meaning: str
    description: str


_REGULATIONS = (
    "[More information on country specific regulations]"
    "(https://help.nexmo.com/hc/en-us/articles/115011781468)"
)

# The guide's err-code table, verbatim from its newer edition: the one place
# where this wording lives.
_GUIDE: Final[Mapping[ErrorCode, _Row]] = {
    ErrorCode.DELIVERED: _Row("Delivered", "Message was delivered successfully"),
    ErrorCode.UNKNOWN: _Row(
        "Unknown", "Message was not delivered, and no reason could be determined"
    ),
    ErrorCode.ABSENT_SUBSCRIBER_TEMPORARY: _Row(
        "Absent Subscriber - Temporary",
        "Message was not delivered because handset was temporarily unavailable - retry",
    ),
    ErrorCode.ABSENT_SUBSCRIBER_PERMANENT: _Row(
        "Absent Subscriber - Permanent",
        "The number is no longer active and should be removed from your database",
    ),
    ErrorCode.CALL_BARRED_BY_USER: _Row(
        "Call Barred by User",
        "This is a permanent error:the number should be removed from your database and the "
        "user must contact their network operator to remove the bar",
    ),
    ErrorCode.PORTABILITY_ERROR: _Row(
        "Portability Error",
        "There is an issue relating to portability of the number and you should contact the "
        "network operator to resolve it",
    ),
    ErrorCode.ANTI_SPAM_REJECTION: _Row(
        "Anti-Spam Rejection", "The message has been blocked by a carrier's anti-spam filter"
    ),
    ErrorCode.HANDSET_BUSY: _Row(
        "Handset Busy", "The handset was not available at the time the message was sent - retry"
    ),
    ErrorCode.NETWORK_ERROR: _Row(
        "Network Error", "The message failed due to a network error - retry"
    ),
    ErrorCode.ILLEGAL_NUMBER: _Row(
        "Illegal Number",
        "The user has specifically requested not to receive messages from a specific service",
    ),
    ErrorCode.ILLEGAL_MESSAGE: _Row(
        "Illegal Message", "There is an error in a message parameter, e.g. wrong encoding flag"
    ),
    ErrorCode.UNROUTABLE: _Row(
        "Unroutable",
        "Vonage cannot find a suitable route to deliver the message - contact "
        "<mailto:support@nexmo.com>",
    ),
    ErrorCode.DESTINATION_UNREACHABLE: _Row(
        "Destination Unreachable",
        "A route to the number cannot be found - confirm the recipient's number",
    ),
    ErrorCode.SUBSCRIBER_AGE_RESTRICTION: _Row(
        "Subscriber Age Restriction", "The target cannot receive your message due to their age"
    ),
    ErrorCode.NUMBER_BLOCKED_BY_CARRIER: _Row(
        "Number Blocked by Carrier",
        "The recipient should ask their carrier to enable SMS on their plan",
    ),
    ErrorCode.PREPAID_INSUFFICIENT_FUNDS: _Row(
        "Prepaid Insufficient Funds",
        "The recipient is on a prepaid plan and does not have enough credit to receive your "
        "message",
    ),
    ErrorCode.GATEWAY_QUOTA_EXCEEDED: _Row(
        "Gateway Quota Exceeded",
        "Message delivery failed because the allowed number of requests per period was "
        "exceeded. **NB:** This error is shown for accounts registered in the US and France "
        "only.",
    ),
    ErrorCode.ILLEGAL_SENDER_ADDRESS_FOR_US_DESTINATION: _Row(
        "Illegal sender address for US destination",
        "All SMS sent to the US must originate from either a U.S. pre-approved long number or "
        "short code that is associated with your Vonage account. [More information on US SMS "
        "Features and Restrictions](https://api.support.vonage.com/hc/en-us/articles/"
        "204017023-USA-SMS-Features-Restrictions)",
    ),
    ErrorCode.DAILY_LIMIT_SURPASSED: _Row(
        "Daily Limit Surpassed",
        "Submission Control throttled due to max volume reached for the period",
    ),
    ErrorCode.ENTITY_FILTER: _Row(
        "Entity Filter",
        f"The message failed due to `entity-id` being incorrect or not provided. {_REGULATIONS}",
    ),
    ErrorCode.HEADER_FILTER: _Row(
        "Header Filter",
        "The message failed because the header ID (`from` phone number) was incorrect or "
        f"missing. {_REGULATIONS}",
    ),
    ErrorCode.CONTENT_FILTER: _Row(
        "Content Filter",
        f"The message failed due to `content-id` being incorrect or not provided. {_REGULATIONS}",
    ),
    ErrorCode.CONSENT_FILTER: _Row(
        "Consent Filter",
        f"The message failed due to consent not being authorized. {_REGULATIONS}",
    ),
    ErrorCode.REGULATION_ERROR: _Row(
        "Regulation Error", "Unexpected regulation error - contact <mailto:support@nexmo.com>"
    ),
    ErrorCode.GENERAL_ERROR: _Row(
        "General Error",
        "Typically refers to an error in the route - contact <mailto:support@nexmo.com>",
    ),
}

_BY_CODE: Final[Mapping[int, ErrorCode]] = {int(code): code for code in ErrorCode}
