"""Destination countries from numbers, with Google's ``phonenumbers`` (extra ``geo``).

Optional: without the extra, :func:`country_lookup` returns None and nothing
changes. With it, a number's country is looked up once for each prefix of
its first eight digits (enough to tell apart the countries that share a
calling code, such as the NANP's), in a bounded cache.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

__all__ = ["country_lookup"]

_PREFIX: Final = 8
_CACHE_LIMIT: Final = 20_000
UNKNOWN: Final = "(unknown)"


def country_lookup() -> Callable[[str], str] | None:
    """A function from an MSISDN to its ISO country code, or None without ``phonenumbers``."""
    try:
        import phonenumbers
    except ImportError:
        return None
    cache: dict[str, str] = {}

    def country(msisdn: str) -> str:
        prefix = msisdn[:_PREFIX]
        found = cache.get(prefix)
        if found is not None:
            return found
        region = None
        if msisdn.isascii() and msisdn.isdigit() and 7 <= len(msisdn) <= 17:
            try:
                number = phonenumbers.parse("+" + msisdn)
            except phonenumbers.NumberParseException:
                pass
            else:
                # A number outside every valid range (test numbers, new ranges)
                # still has a calling code: its main country.
                region = phonenumbers.region_code_for_number(
                    number
                ) or phonenumbers.region_code_for_country_code(number.country_code or 0)
        found = region if region and region != "ZZ" else UNKNOWN
        if len(cache) < _CACHE_LIMIT:  # bounded: a flood of odd prefixes is looked up each time
            cache[prefix] = found
        return found

    return country
