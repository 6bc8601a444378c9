"""``DeliveryReceipt``: one SMS delivery receipt, typed and lossless."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Final, TypeGuard

import attrs

from ._classify import Classifiable
from ._codes import ErrorCode
from ._fields import FIELDS
from ._frozen import FrozenMap
from ._status import DlrStatus

__all__ = ["DeliveryReceipt", "FrozenFields", "build_receipt"]


class FrozenFields(FrozenMap[str, str]):
    """An immutable, hashable, picklable ``str -> str`` mapping.

    Holds ``DeliveryReceipt.extra`` so that a frozen receipt really is frozen.
    Compares equal to any mapping with the same items, dicts included.
    """

    __slots__ = ()


_NO_FIELDS: Final = FrozenFields()


def freeze_fields(fields: Mapping[str, str]) -> FrozenFields:
    if type(fields) is FrozenFields:
        return fields
    return FrozenFields(fields) if fields else _NO_FIELDS


@attrs.frozen(kw_only=True, slots=False)
class DeliveryReceipt(Classifiable):
    """One delivery receipt, as the SMS API's webhook sends it.

    Build one with :func:`dlrkit.parse` (or ``parse_query``, ``parse_form``,
    ``parse_json``, ``parse_request``); constructing it directly is for tests
    and for receipts that come from elsewhere.

    ``to_wire()`` gives back the string mapping that was parsed, so
    ``parse(r.to_wire()) == r``. The raw strings of typed fields are kept
    privately for that purpose and take no part in equality.
    """

    message_id: str
    msisdn: str
    to: str
    status: DlrStatus
    err_code: int
    network_code: str | None = None
    price: Decimal | None = None
    scts: datetime | None = None
    message_timestamp: datetime | None = None
    client_ref: str | None = None
    api_key: str | None = None
    timestamp: datetime | None = None
    nonce: str | None = None
    sig: str | None = None
    extra: Mapping[str, str] = attrs.field(factory=dict, converter=freeze_fields, hash=False)
    # Wire strings of the fields above as received, so to_wire() can repeat
    # them exactly ("000" for err-code 0, an unparseable scts, "null", ...).
    _raw: Mapping[str, str] = attrs.field(
        factory=dict, eq=False, hash=False, repr=False, alias="_raw"
    )

    @property
    def error(self) -> ErrorCode | None:
        """The err-code as an :class:`ErrorCode`, or None if the guide does not list it."""
        return ErrorCode.lookup(self.err_code)

    @property
    def mcc(self) -> str | None:
        """Mobile country code: the first 3 digits of an MCCMNC ``network_code``."""
        return self.network_code[:3] if _is_mccmnc(self.network_code) else None

    @property
    def mnc(self) -> str | None:
        """Mobile network code: the 2 or 3 digits after the MCC."""
        return self.network_code[3:] if _is_mccmnc(self.network_code) else None

    @property
    def is_delivered(self) -> bool:
        """True when the status is ``delivered``."""
        return self.status is DlrStatus.DELIVERED

    @property
    def is_final(self) -> bool:
        """True when no further receipt will follow for this message part."""
        return self.status.is_final

    def to_wire(self) -> dict[str, str]:
        """The receipt as the string mapping the provider sends.

        For a parsed receipt this is exactly the mapping that was parsed
        (``null`` placeholders, leading zeros and unparseable ``scts`` values
        included). A field changed with ``attrs.evolve`` is written in its
        canonical form.
        """
        wire: dict[str, str] = {}
        raw = self._raw
        for name, spec in FIELDS.specs.items():
            value = getattr(self, spec.attr)
            text = raw.get(name)
            if text is not None and spec.matches(text, value):
                wire[name] = text
            elif value is not None:
                wire[name] = spec.encode(value)
        wire.update(self.extra)
        return wire


def _is_mccmnc(network_code: str | None) -> TypeGuard[str]:
    return (
        network_code is not None
        and len(network_code) in (5, 6)
        and network_code.isdigit()
        and network_code.isascii()
    )


# Every attribute's value when a wire field is absent (the required have none).
_ABSENT_VALUES: Final[dict[str, object]] = {
    a.name: a.default
    for a in attrs.fields(DeliveryReceipt)
    if a.default is None and a.name not in ("extra", "_raw")
}


def build_receipt(
    values: dict[str, object], raw: dict[str, str], extra: FrozenFields
) -> DeliveryReceipt:
    """A receipt from a parser's checked values: what ``DeliveryReceipt(**values, ...)``
    gives (a test holds the two alike), without the per-field cost of ``__init__``."""
    receipt = object.__new__(DeliveryReceipt)
    state = receipt.__dict__
    state.update(_ABSENT_VALUES)
    state.update(values)
    state["extra"] = extra
    state["_raw"] = raw
    return receipt
