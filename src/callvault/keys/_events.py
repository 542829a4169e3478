"""Key-access events: one structured record per KMS operation, for the audit trail.

Every generate / wrap / unwrap / rotate / disable / delete on any provider becomes one
``KeyEvent`` (who, which key and version, which tenant and object, outcome, latency) handed
to a ``KeyEventSink``. The sink is an interface so the tamper-evident audit log (issue 5)
can take these events; until then the default sink writes them as structured log lines and
tests use ``MemoryKeyEvents``.

*Who* and *which object* are not provider arguments, so they travel in a context variable:
the API sets the actor when it authenticates a request (``acting_as``), the key hierarchy
sets the object around its provider calls (``for_object``). An event never carries key
bytes, wrapped blobs or associated data: only names.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from collections.abc import Iterator
from contextvars import ContextVar, Token
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Protocol

__all__ = [
    "FanOutKeyEvents",
    "KeyEvent",
    "KeyEventSink",
    "KeyUse",
    "LoggingKeyEvents",
    "MemoryKeyEvents",
    "acting_as",
    "current_use",
    "for_object",
    "set_actor",
]


@dataclass(frozen=True, slots=True)
class KeyUse:
    """Who is using keys, and for which object, in the current context."""

    actor: str = "system"
    object_id: str | None = None


_USE: ContextVar[KeyUse] = ContextVar("callvault_key_use", default=KeyUse())  # noqa: B039


def current_use() -> KeyUse:
    return _USE.get()


@contextlib.contextmanager
def acting_as(actor: str) -> Iterator[None]:
    """Attribute key operations in this block to ``actor`` (e.g. ``service:acme``)."""
    token = _USE.set(KeyUse(actor, _USE.get().object_id))
    try:
        yield
    finally:
        _USE.reset(token)


def set_actor(actor: str) -> None:
    """Name the actor for the rest of the current context (one request's task)."""
    _USE.set(KeyUse(actor, _USE.get().object_id))


class for_object:  # a lowercase name: it replaced a @contextmanager function of this name
    """Name ``object_id`` in key-access events of this block.

    Entered per object sealed or opened, so a class with slots rather than a generator
    ``contextlib.contextmanager`` (a third of the cost), and a plain ``KeyUse`` constructor
    rather than ``dataclasses.replace`` (3x slower)."""

    __slots__ = ("_object_id", "_token")
    _token: Token[KeyUse]

    def __init__(self, object_id: str) -> None:
        self._object_id = object_id

    def __enter__(self) -> None:
        self._token = _USE.set(KeyUse(_USE.get().actor, self._object_id))

    def __exit__(self, *exc: object) -> None:
        _USE.reset(self._token)


@dataclass(frozen=True, slots=True)
class KeyEvent:
    time: datetime
    actor: str
    operation: str
    """generate, wrap, unwrap, create, rotate, disable, enable, set-min-version,
    schedule-deletion, cancel-deletion, destroy."""
    provider: str
    key_id: str
    key_version: int | None
    tenant: str | None
    object_id: str | None
    outcome: str
    """``ok``, or the error kind (``KeyUnavailable``, ``OpenError``…): never its message."""
    latency_ms: float

    def as_json(self) -> dict[str, object]:
        data = asdict(self)
        data["time"] = self.time.isoformat()
        data["latency_ms"] = round(self.latency_ms, 3)
        return data


class KeyEventSink(Protocol):
    def emit(self, event: KeyEvent) -> None: ...

    @property
    def enabled(self) -> bool:
        """False when events would be dropped anyway, so none is built (per-object cost)."""
        ...


class MemoryKeyEvents:
    """Keeps events in memory (tests, and the audit issue's bridge)."""

    enabled = True

    def __init__(self) -> None:
        self._events: list[KeyEvent] = []
        self._lock = threading.Lock()

    def emit(self, event: KeyEvent) -> None:
        with self._lock:
            self._events.append(event)

    @property
    def events(self) -> list[KeyEvent]:
        with self._lock:
            return list(self._events)

    def clear(self) -> None:
        with self._lock:
            self._events.clear()


class LoggingKeyEvents:
    """One JSON line per event on the ``callvault.keys.events`` logger (INFO)."""

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self._log = logger or logging.getLogger("callvault.keys.events")

    @property
    def enabled(self) -> bool:
        return self._log.isEnabledFor(logging.INFO)

    def emit(self, event: KeyEvent) -> None:
        if self._log.isEnabledFor(logging.INFO):
            self._log.info("%s", json.dumps(event.as_json(), sort_keys=True))


class FanOutKeyEvents:
    """Several sinks as one: the log lines and the tamper-evident audit log both get each
    event. A sink that raises stops the fan-out: an event the audit log could not take must
    fail the operation, not pass silently."""

    def __init__(self, *sinks: KeyEventSink) -> None:
        self.sinks = tuple(sinks)

    @property
    def enabled(self) -> bool:
        return any(sink.enabled for sink in self.sinks)

    def emit(self, event: KeyEvent) -> None:
        for sink in self.sinks:
            if sink.enabled:
                sink.emit(event)
