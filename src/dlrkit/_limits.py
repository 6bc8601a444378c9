"""Bounds on hostile input, in one place."""

from __future__ import annotations

from typing import Final

import attrs

__all__ = ["DEFAULT_LIMITS", "Limits"]


def _positive(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if value < 1:
        raise ValueError(f"{attribute.name} must be at least 1, got {value}")


@attrs.frozen(kw_only=True)
class Limits:
    """How much a parser accepts before it refuses a payload as hostile.

    The defaults are far above anything the provider sends (a real receipt
    has at most 15 fields, none longer than a few dozen characters) and far
    below what would hurt a webhook.

    >>> Limits(max_fields=32).max_size
    65536
    """

    max_size: int = attrs.field(default=64 * 1024, validator=_positive)
    """Bytes in a query string or body (characters for ``str`` input)."""
    max_fields: int = attrs.field(default=64, validator=_positive)
    """Fields in one receipt or JSON object."""
    max_value_length: int = attrs.field(default=4096, validator=_positive)
    """Characters in one field name or value, after decoding."""
    max_depth: int = attrs.field(default=32, validator=_positive)
    """Nesting of JSON objects and arrays (1 for a flat object).

    Receipts are flat whatever this says (a nested value is refused); it
    bounds the documents that may nest: send responses, Messages API status
    webhooks and Reports API records, which nest 2 or 3 deep.
    """


DEFAULT_LIMITS: Final = Limits()
