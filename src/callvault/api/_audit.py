"""One request's audit trail: the entry that makes an API action accountable.

Every guarded route names an ``Event`` (``recording.write``, ``tenant.create``…) next to its
permission (``require(Action.X, RECORDING_WRITE)``). ``require`` opens a ``Trail`` for the
request in ``request.state``; the route (or the domain code it calls) marks the point of no
return with ``trail.point(...)``, which appends the ``ok`` entry **durably, before** the act:

* a write: after validation and sealing, before the commit marker / row insert;
* a read: after opening, before the first plaintext byte is handed to the response;
* a delete or an admin action: after validation, before it is carried out.

A crash before ``point`` returns leaves no action; after it, a logged one. If the act fails
after its ``ok`` entry, the error handlers append a second entry for the same request
(``detail.request``) with the failure's kind; a request that fails *before* its point gets
one entry with that kind. Refusals by the permission table (403) are logged as ``denied``
on every guarded route; a 401 is not (an unauthenticated flood must not cost an fsync per
request). Metadata reads (lists, key metadata, proofs) log only their denials
(``Event.on_success`` is false). See docs/audit.md, "API".

An audit log that cannot take an entry makes the request fail closed with 503
(``AuditUnavailable``) and the action is not performed.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final, Protocol

from fastapi import Request

from callvault.audit import AuditEntry, AuditLog
from callvault.auth import AuthorizationError
from callvault.errors import AuditUnavailable, ConfigError, OpenError
from callvault.format import MAX_HEADER_SIZE, PREFIX_SIZE, Header, KeyReference, header_length

__all__ = [
    "AuditPoint",
    "AuditUnavailable",
    "Event",
    "KeyTap",
    "Trail",
    "key_reference",
    "open_trail",
    "outcome_of",
    "trail_of",
]

log = logging.getLogger("callvault.api")

_STATE: Final = "callvault_audit_trail"


@dataclass(frozen=True, slots=True)
class Event:
    """An audited action: its entry name and whether success is logged (else only denials)."""

    name: str
    on_success: bool = True


class AuditPoint(Protocol):
    """What domain code calls at its point of no return (``Trail.point``)."""

    def __call__(
        self,
        object_id: str | None = None,
        *,
        subject: str | None = None,
        key: KeyReference | None = None,
        detail: Mapping[str, str] | None = None,
    ) -> None: ...


def outcome_of(exc: BaseException) -> str:
    """``denied`` for a refusal, else the error's kind (never its message)."""
    return "denied" if isinstance(exc, AuthorizationError) else type(exc).__name__


@dataclass(slots=True)
class Trail:
    log: AuditLog
    actor: str
    event: Event
    tenant: str | None
    request_id: str = field(default_factory=lambda: secrets.token_hex(8))
    object_id: str | None = None
    subject: str | None = None
    key_id: str | None = None
    key_version: int | None = None
    detail: dict[str, str] = field(default_factory=dict)
    logged_ok: bool = False
    logged_failure: bool = False

    def check(self) -> None:
        """Fail fast (503) when the log refuses appends, before anything is touched."""
        if self.event.on_success:
            try:
                self.log.size()  # recovery under the lock: refuses a truncated log
            except (OSError, ConfigError, AuditUnavailable) as exc:
                raise _unavailable(exc) from None

    def point(
        self,
        object_id: str | None = None,
        *,
        subject: str | None = None,
        key: KeyReference | None = None,
        key_id: str | None = None,
        detail: Mapping[str, str] | None = None,
    ) -> None:
        """The ``ok`` entry, durable on return; raises ``AuditUnavailable`` if it is not.
        ``key`` (a sealed object's master key) or ``key_id`` (an admin action's key)."""
        self.object_id = object_id if object_id is not None else self.object_id
        self.subject = subject if subject is not None else self.subject
        if key is not None:
            self.key_id, self.key_version = key.key_id, key.version
        elif key_id is not None:
            self.key_id = key_id
        self.detail.update(detail or {})
        if self.event.on_success and not self.logged_ok:
            self._append("ok")
            self.logged_ok = True

    def failed(self, exc: BaseException) -> None:
        """Log how the request ended (once): always a denial, else only for logged events."""
        outcome = outcome_of(exc)
        if self.logged_failure or (outcome != "denied" and not self.event.on_success):
            return
        self.logged_failure = True
        self._append(outcome)

    def _append(self, outcome: str) -> None:
        entry = AuditEntry(
            time=datetime.now(UTC),
            actor=self.actor,
            action=self.event.name,
            outcome=outcome,
            tenant=self.tenant,
            key_id=self.key_id,
            key_version=self.key_version,
            object_id=self.object_id,
            detail={"request": self.request_id, **self.detail},
        )
        subject = (
            None if self.subject is None or self.tenant is None else (self.tenant, self.subject)
        )
        try:
            self.log.append(entry, subject=subject)
        except (OSError, ConfigError, AuditUnavailable) as exc:
            raise _unavailable(exc) from None


def _unavailable(exc: BaseException) -> AuditUnavailable:
    log.error("audit log refused an entry: %s", type(exc).__name__)
    return AuditUnavailable("the audit log is unavailable")


def open_trail(request: Request, trail: Trail) -> Trail:
    setattr(request.state, _STATE, trail)
    return trail


def trail_of(request: Request) -> Trail | None:
    found: Trail | None = getattr(request.state, _STATE, None)
    return found


class KeyTap:
    """Passes sealed pieces through and reads the master key reference off the header."""

    def __init__(self, pieces: Iterator[bytes]) -> None:
        self._pieces, self._head = pieces, b""
        self.key: KeyReference | None = None

    def __iter__(self) -> Iterator[bytes]:
        for piece in self._pieces:
            if self.key is None and len(self._head) < MAX_HEADER_SIZE:
                self._head += piece[:MAX_HEADER_SIZE]
                self.key = key_reference(self._head)
            yield piece


def key_reference(head: bytes) -> KeyReference | None:
    """The key reference of a sealed object's first bytes; None if they are too few or not
    a header (the entry then names no key: naming it is information, never a condition)."""
    if len(head) < PREFIX_SIZE:
        return None
    try:
        size = header_length(head[:PREFIX_SIZE])
        return Header.parse(head[:size]).key_ref if len(head) >= size else None
    except (OpenError, ValueError):
        return None
