"""A bounded cache of unwrapped keys.

Unwrapping costs a KMS round trip (milliseconds, and a bill); re-reading a recording or
serving range requests would pay it on every call. Entries expire by age and by number of
uses, and the cache holds a bounded number of entries, so a stolen process image exposes
only recently used keys. Destroying or revoking a key evicts it at once (``evict``).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from callvault.keys._material import KeyMaterial

__all__ = ["CachePolicy", "KeyCache"]


@dataclass(frozen=True, slots=True)
class CachePolicy:
    max_age_seconds: float = 300.0
    max_uses: int = 10_000
    max_entries: int = 4096

    def __post_init__(self) -> None:
        if self.max_age_seconds < 0 or self.max_uses < 0 or self.max_entries < 0:
            raise ValueError("cache limits must be >= 0")


@dataclass(slots=True)
class _Entry:
    key: KeyMaterial
    expires_at: float
    uses_left: int
    tags: frozenset[str]


class KeyCache:
    """LRU cache keyed by any hashable; ``tags`` (key ids) let a destroy evict every entry
    derived from one master or subject key."""

    def __init__(self, policy: CachePolicy, clock: Callable[[], float] = time.monotonic) -> None:
        self._policy = policy
        self._clock = clock
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, cache_key: Hashable) -> KeyMaterial | None:
        with self._lock:
            entry = self._entries.get(cache_key)
            if entry is None:
                return None
            if entry.uses_left <= 0 or self._clock() >= entry.expires_at:
                del self._entries[cache_key]
                return None
            entry.uses_left -= 1
            self._entries.move_to_end(cache_key)
            return entry.key

    def put(self, cache_key: Hashable, key: KeyMaterial, tags: frozenset[str]) -> None:
        policy = self._policy
        if policy.max_entries == 0 or policy.max_uses == 0 or policy.max_age_seconds == 0:
            return
        with self._lock:
            self._entries[cache_key] = _Entry(
                key, self._clock() + policy.max_age_seconds, policy.max_uses, tags
            )
            self._entries.move_to_end(cache_key)
            while len(self._entries) > policy.max_entries:
                self._entries.popitem(last=False)

    def evict(self, tag: str) -> None:
        with self._lock:
            for cache_key in [k for k, e in self._entries.items() if tag in e.tags]:
                del self._entries[cache_key]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
