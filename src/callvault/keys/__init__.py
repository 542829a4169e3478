"""Keys: handles that never show bytes, the hierarchy (master → subject → data key), a
bounded cache for unwrapped keys, and the KMS providers behind one interface."""

from callvault.keys._cache import CachePolicy, KeyCache
from callvault.keys._events import (
    FanOutKeyEvents,
    KeyEvent,
    KeyEventSink,
    LoggingKeyEvents,
    MemoryKeyEvents,
    acting_as,
    set_actor,
)
from callvault.keys._hierarchy import Kek, KekGeneration, KekResolver, KeyHierarchy
from callvault.keys._managed import ManagedKeyStore
from callvault.keys._material import KeyMaterial
from callvault.keys._rewrap import rewrap_key, rewrap_managed

__all__ = [
    "CachePolicy",
    "FanOutKeyEvents",
    "Kek",
    "KekGeneration",
    "KekResolver",
    "KeyCache",
    "KeyEvent",
    "KeyEventSink",
    "KeyHierarchy",
    "KeyMaterial",
    "LoggingKeyEvents",
    "ManagedKeyStore",
    "MemoryKeyEvents",
    "acting_as",
    "rewrap_key",
    "rewrap_managed",
    "set_actor",
]
