"""A small thread-safe least-recently-used map, shared by the window engine and the page memo."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any


class LRU:
    """A thread-safe least-recently-used map holding at most `size` values (0: keep nothing)."""

    def __init__(self, size: int):
        if size < 0:
            raise ValueError("An LRU size cannot be negative.")
        self.size = size
        self.hits = 0
        self.misses = 0
        self._values: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._values)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._values

    def get_or_build(self, key: Hashable, build: Callable[[], Any]) -> Any:
        """The value stored under `key`, or `build()`'s, stored. Two threads missing the same key
        at once both build it (building is pure, so the second result simply replaces the first)."""
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                self.hits += 1
                return self._values[key]
            self.misses += 1
        value = build()
        if self.size:
            with self._lock:
                self._values[key] = value
                self._values.move_to_end(key)
                while len(self._values) > self.size:
                    self._values.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
