"""Audit entries of erasure requests: ``erasure.schedule``, ``erasure.cancel``, ``erasure.execute``.

An erasure is the most consequential act callvault performs, so each step leaves one
durable entry in the tamper-evident log *before* the step is acknowledged: a crash can
leave a logged request that never took effect (the next ``run_due`` finishes it), never
an effect that was not logged. The subject enters only as its blind id: when scheduling,
through ``subject=(tenant, caller)`` so the log computes the HMAC itself; afterwards the
request's stored target *is* that blind id (``KeyHierarchy.subject_key_id``, the same
HMAC the log uses), so cancel and execute entries name the same id without the caller.

The actor is whoever the key-use context names (``acting_as``): the API sets the
authenticated principal, the CLI ``cli:<user>``, a worker ``system``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

from callvault.audit import AuditEntry
from callvault.erasure._model import ErasureKind, ErasureRequest
from callvault.keys._events import current_use

__all__ = ["AuditSink", "ErasureAudit"]


class AuditSink(Protocol):
    """Where erasure entries go: ``AuditLog`` (``attach_audit(vault)``) by default.

    ``append`` must be durable when it returns and raise when it cannot be.
    """

    def append(self, entry: AuditEntry, subject: tuple[str, str] | None = None) -> int | None: ...


def _count_keys(destroyed: Mapping[str, Any]) -> dict[str, str]:
    master = destroyed.get("master_keys", [])
    states = [m.get("state") for m in master]
    return {
        "destroyed_keys": str(len(destroyed.get("managed_keys", [])) + states.count("destroyed")),
        "pending_deletion_keys": str(states.count("pending_deletion")),
    }


class ErasureAudit:
    """Builds and appends the entries of one ``Erasures`` service."""

    def __init__(self, sink: AuditSink) -> None:
        self._sink = sink

    def schedule(
        self, at: datetime, request: ErasureRequest, subject: str | None, outcome: str = "ok"
    ) -> None:
        detail = self._detail(request.id, request.kind)
        detail.update(grace_days=str(request.grace_days), due_at=request.due_at.isoformat())
        entry = self._entry(at, "erasure.schedule", request.tenant, outcome, detail, request)
        self._sink.append(entry, subject=(request.tenant, subject) if subject is not None else None)

    def cancel(self, at: datetime, request: ErasureRequest, outcome: str = "ok") -> None:
        detail = self._detail(request.id, request.kind)
        self._sink.append(
            self._entry(at, "erasure.cancel", request.tenant, outcome, detail, request)
        )

    def execute(
        self,
        at: datetime,
        request: ErasureRequest,
        destroyed: Mapping[str, Any] | None,
        deleted: Mapping[str, int] | None,
        outcome: str = "ok",
    ) -> None:
        detail = self._detail(request.id, request.kind)
        if destroyed is not None:
            detail.update(_count_keys(destroyed))
        if deleted is not None:
            detail["deleted_objects"] = str(deleted.get("objects", 0))
            rows = sum(v for k, v in deleted.items() if k != "objects")
            detail["deleted_rows"] = str(rows)
        self._sink.append(
            self._entry(at, "erasure.execute", request.tenant, outcome, detail, request)
        )

    def execute_failed(self, at: datetime, request: ErasureRequest, exc: BaseException) -> None:
        """An execution that raised (the request stays running): best effort."""
        with contextlib.suppress(Exception):  # the caller re-raises the real failure
            self.execute(at, request, None, None, type(exc).__name__)

    def failed(self, at: datetime, action: str, tenant: str | None, exc: BaseException) -> None:
        """A refused or failed step (no request to name, or it did not change): best
        effort, never masking the original error."""
        with contextlib.suppress(Exception):  # the caller re-raises the real failure
            self._sink.append(
                AuditEntry(at, current_use().actor, action, type(exc).__name__, tenant=tenant)
            )

    @staticmethod
    def _detail(erasure_id: str, kind: ErasureKind) -> dict[str, str]:
        return {"erasure_id": erasure_id, "kind": kind.value}

    @staticmethod
    def _entry(
        at: datetime,
        action: str,
        tenant: str,
        outcome: str,
        detail: dict[str, str],
        request: ErasureRequest,
    ) -> AuditEntry:
        subject_hmac = object_id = None
        if request.kind is ErasureKind.SUBJECT:
            subject_hmac = request.target  # the blind id: the log's own HMAC of the caller
        elif request.kind is ErasureKind.RECORD:
            object_id = request.target
        return AuditEntry(
            time=at,
            actor=current_use().actor,
            action=action,
            outcome=outcome,
            tenant=tenant,
            object_id=object_id,
            subject_hmac=subject_hmac if action != "erasure.schedule" else None,
            detail=detail,
        )
