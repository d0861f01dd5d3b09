"""A bounded in-memory cache for what is computed once and served many times (rendered reader
pages, encoded counter answers). Owned by the Service, so each app has its own."""

from __future__ import annotations

from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class BoundedCache(Generic[K, V]):
    """A dict that empties itself when full: the keys are few in use (campaign, language,
    partner…), so a full cache means junk keys, and starting over costs one render each."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: dict[K, V] = {}

    def get(self, key: K) -> V | None:
        return self._items.get(key)

    def put(self, key: K, value: V) -> V:
        if len(self._items) >= self._size:
            self._items.clear()
        self._items[key] = value
        return value

    def clear(self) -> None:
        self._items.clear()

    def __len__(self) -> int:
        return len(self._items)
