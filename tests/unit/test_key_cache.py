"""The unwrapped-key cache honours its age, use and size limits, and evicts on demand."""

from __future__ import annotations

from callvault.keys import CachePolicy, KeyCache, KeyMaterial


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _key(label: str) -> KeyMaterial:
    return KeyMaterial.generate(label)


def test_entries_expire_by_age() -> None:
    clock = _Clock()
    cache = KeyCache(CachePolicy(max_age_seconds=10, max_uses=100, max_entries=10), clock)
    key = _key("a")
    cache.put("a", key, frozenset())
    clock.now = 9.9
    assert cache.get("a") is key
    clock.now = 10.0
    assert cache.get("a") is None


def test_entries_expire_by_uses() -> None:
    cache = KeyCache(CachePolicy(max_age_seconds=100, max_uses=3, max_entries=10))
    cache.put("a", _key("a"), frozenset())
    assert [cache.get("a") is not None for _ in range(4)] == [True, True, True, False]


def test_least_recently_used_entry_is_dropped() -> None:
    cache = KeyCache(CachePolicy(max_age_seconds=100, max_uses=100, max_entries=2))
    cache.put("a", _key("a"), frozenset())
    cache.put("b", _key("b"), frozenset())
    assert cache.get("a") is not None
    cache.put("c", _key("c"), frozenset())
    assert cache.get("b") is None
    assert cache.get("a") is not None and cache.get("c") is not None


def test_evict_by_tag_and_disabled_cache() -> None:
    cache = KeyCache(CachePolicy())
    cache.put("a", _key("a"), frozenset({"kek-1", "subject-x"}))
    cache.put("b", _key("b"), frozenset({"kek-1"}))
    cache.put("c", _key("c"), frozenset({"kek-2"}))
    cache.evict("subject-x")
    assert cache.get("a") is None and cache.get("b") is not None
    cache.evict("kek-1")
    assert cache.get("b") is None and cache.get("c") is not None
    off = KeyCache(CachePolicy(max_age_seconds=0))
    off.put("a", _key("a"), frozenset())
    assert off.get("a") is None and len(off) == 0
