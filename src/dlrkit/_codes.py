"""The DLR ``err-code`` table of the provider's "Delivery receipts" guide."""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum, IntEnum
from typing import Final, NamedTuple

__all__ = ["Action", "ErrorCode"]


class Action(str, Enum):
    """What an application should do about a receipt.

    ``.value`` is a stable lowercase word for logs and JSON.
    """

    DONE = "done"
    WAIT = "wait"
    RETRY = "retry"
    REMOVE_NUMBER = "remove_number"
    FIX_REQUEST = "fix_request"
    CONTACT_SUPPORT = "contact_support"
    GIVE_UP = "give_up"

    @property
    def description(self) -> str:
        """What the action asks of the application, in a sentence."""
        return _ACTION_DESCRIPTIONS[self]

    def __str__(self) -> str:
        return self.value


_ACTION_DESCRIPTIONS: Final[Mapping[Action, str]] = {
    Action.DONE: "The message was delivered: nothing to do.",
    Action.WAIT: "Not final yet: a later receipt will follow.",
    Action.RETRY: "A temporary failure: send the message again later.",
    Action.REMOVE_NUMBER: "The number cannot receive messages: remove it from your list.",
    Action.FIX_REQUEST: (
        "The request or the sender's registration is wrong: fix it before resending."
    ),
    Action.CONTACT_SUPPORT: "Needs the network operator or the provider's support to resolve.",
    Action.GIVE_UP: "This message will not get through, and resending will not help.",
}


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

    @property
    def action(self) -> Action:
        """The default recommended action for this code (see ``DEFAULT_POLICY``)."""
        return _GUIDE[self].action

    @classmethod
    def lookup(cls, code: int) -> ErrorCode | None:
        """The member for *code*, or None for a code the guide does not list."""
        return _BY_CODE.get(code)


class _Row(NamedTuple):
    meaning: str
    description: str
    action: Action


_REGULATIONS = (
    "[More information on country specific regulations]"
    "(https://help.nexmo.com/hc/en-us/articles/115011781468)"
)

# The guide's err-code table, verbatim from its newer edition: the one place
# where this wording lives. The last column is dlrkit's default recommendation,
# taken from the guide's own words: "retry", "should be removed from your
# database", "contact the network operator" / "contact support".
_GUIDE: Final[Mapping[ErrorCode, _Row]] = {
    ErrorCode.DELIVERED: _Row("Delivered", "Message was delivered successfully", Action.DONE),
    ErrorCode.UNKNOWN: _Row(
        "Unknown", "Message was not delivered, and no reason could be determined", Action.GIVE_UP
    ),
    ErrorCode.ABSENT_SUBSCRIBER_TEMPORARY: _Row(
        "Absent Subscriber - Temporary",
        "Message was not delivered because handset was temporarily unavailable - retry",
        Action.RETRY,
    ),
    ErrorCode.ABSENT_SUBSCRIBER_PERMANENT: _Row(
        "Absent Subscriber - Permanent",
        "The number is no longer active and should be removed from your database",
        Action.REMOVE_NUMBER,
    ),
    ErrorCode.CALL_BARRED_BY_USER: _Row(
        "Call Barred by User",
        "This is a permanent error:the number should be removed from your database and the "
        "user must contact their network operator to remove the bar",
        Action.REMOVE_NUMBER,
    ),
    ErrorCode.PORTABILITY_ERROR: _Row(
        "Portability Error",
        "There is an issue relating to portability of the number and you should contact the "
        "network operator to resolve it",
        Action.CONTACT_SUPPORT,
    ),
    ErrorCode.ANTI_SPAM_REJECTION: _Row(
        "Anti-Spam Rejection",
        "The message has been blocked by a carrier's anti-spam filter",
        Action.GIVE_UP,
    ),
    ErrorCode.HANDSET_BUSY: _Row(
        "Handset Busy",
        "The handset was not available at the time the message was sent - retry",
        Action.RETRY,
    ),
    ErrorCode.NETWORK_ERROR: _Row(
        "Network Error", "The message failed due to a network error - retry", Action.RETRY
    ),
    ErrorCode.ILLEGAL_NUMBER: _Row(
        "Illegal Number",
        "The user has specifically requested not to receive messages from a specific service",
        Action.REMOVE_NUMBER,
    ),
    ErrorCode.ILLEGAL_MESSAGE: _Row(
        "Illegal Message",
        "There is an error in a message parameter, e.g. wrong encoding flag",
        Action.FIX_REQUEST,
    ),
    ErrorCode.UNROUTABLE: _Row(
        "Unroutable",
        "Vonage cannot find a suitable route to deliver the message - contact "
        "<mailto:support@nexmo.com>",
        Action.CONTACT_SUPPORT,
    ),
    ErrorCode.DESTINATION_UNREACHABLE: _Row(
        "Destination Unreachable",
        "A route to the number cannot be found - confirm the recipient's number",
        Action.GIVE_UP,
    ),
    ErrorCode.SUBSCRIBER_AGE_RESTRICTION: _Row(
        "Subscriber Age Restriction",
        "The target cannot receive your message due to their age",
        Action.GIVE_UP,
    ),
    ErrorCode.NUMBER_BLOCKED_BY_CARRIER: _Row(
        "Number Blocked by Carrier",
        "The recipient should ask their carrier to enable SMS on their plan",
        Action.GIVE_UP,
    ),
    ErrorCode.PREPAID_INSUFFICIENT_FUNDS: _Row(
        "Prepaid Insufficient Funds",
        "The recipient is on a prepaid plan and does not have enough credit to receive your "
        "message",
        Action.GIVE_UP,
    ),
    ErrorCode.GATEWAY_QUOTA_EXCEEDED: _Row(
        "Gateway Quota Exceeded",
        "Message delivery failed because the allowed number of requests per period was "
        "exceeded. **NB:** This error is shown for accounts registered in the US and France "
        "only.",
        Action.RETRY,
    ),
    ErrorCode.ILLEGAL_SENDER_ADDRESS_FOR_US_DESTINATION: _Row(
        "Illegal sender address for US destination",
        "All SMS sent to the US must originate from either a U.S. pre-approved long number or "
        "short code that is associated with your Vonage account. [More information on US SMS "
        "Features and Restrictions](https://api.support.vonage.com/hc/en-us/articles/"
        "204017023-USA-SMS-Features-Restrictions)",
        Action.FIX_REQUEST,
    ),
    ErrorCode.DAILY_LIMIT_SURPASSED: _Row(
        "Daily Limit Surpassed",
        "Submission Control throttled due to max volume reached for the period",
        Action.RETRY,
    ),
    ErrorCode.ENTITY_FILTER: _Row(
        "Entity Filter",
        f"The message failed due to `entity-id` being incorrect or not provided. {_REGULATIONS}",
        Action.FIX_REQUEST,
    ),
    ErrorCode.HEADER_FILTER: _Row(
        "Header Filter",
        "The message failed because the header ID (`from` phone number) was incorrect or "
        f"missing. {_REGULATIONS}",
        Action.FIX_REQUEST,
    ),
    ErrorCode.CONTENT_FILTER: _Row(
        "Content Filter",
        f"The message failed due to `content-id` being incorrect or not provided. {_REGULATIONS}",
        Action.FIX_REQUEST,
    ),
    ErrorCode.CONSENT_FILTER: _Row(
        "Consent Filter",
        f"The message failed due to consent not being authorized. {_REGULATIONS}",
        Action.FIX_REQUEST,
    ),
    ErrorCode.REGULATION_ERROR: _Row(
        "Regulation Error",
        "Unexpected regulation error - contact <mailto:support@nexmo.com>",
        Action.CONTACT_SUPPORT,
    ),
    ErrorCode.GENERAL_ERROR: _Row(
        "General Error",
        "Typically refers to an error in the route - contact <mailto:support@nexmo.com>",
        Action.CONTACT_SUPPORT,
    ),
}

_BY_CODE: Final[Mapping[int, ErrorCode]] = {int(code): code for code in ErrorCode}
