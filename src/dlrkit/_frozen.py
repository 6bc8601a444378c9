"""An immutable mapping, for the frozen value objects' mapping attributes."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, TypeVar

__all__ = ["FrozenMap", "frozen_json"]

K = TypeVar("K")
V = TypeVar("V")


class FrozenMap(Mapping[K, V]):
    """An immutable, hashable, picklable mapping.

    Compares equal to any mapping with the same items, dicts included.
    """

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[K, V] | None = None) -> None:
        self._data: dict[K, V] = dict(data) if data else {}

    @classmethod
    def _adopt(cls, data: dict[K, V]) -> Any:
        # For callers that built *data* themselves and drop it: no copy.
        self = cls.__new__(cls)
        self._data = data
        return self

    def __getitem__(self, key: K) -> V:
        return self._data[key]

    def __iter__(self) -> Iterator[K]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FrozenMap):
            return self._data == other._data
        if isinstance(other, Mapping):
            return self._data == dict(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(frozenset(self._data.items()))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._data!r})"

    def __reduce__(self) -> tuple[type[FrozenMap[K, V]], tuple[dict[K, V]]]:
        return (type(self), (self._data,))


def frozen_json(data: Mapping[str, Any] | None = None) -> Mapping[str, Any]:
    """*data* as a :class:`FrozenMap`: the converter of the records' ``extra``."""
    return data if type(data) is FrozenMap else FrozenMap(data)
