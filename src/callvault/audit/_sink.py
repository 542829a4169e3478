"""``AuditKeyEvents``: a ``KeyEventSink`` that writes every key event into the audit log.

Each KMS operation becomes one durable entry (action ``key.<operation>``), so key use lands
in the tamper-evident log. Events raised while the log itself is using the KMS (unwrapping
its own key) are deferred by ``AuditLog.append`` and written right after, not lost.
"""

from __future__ import annotations

from callvault.audit._entry import AuditEntry
from callvault.audit._log import AuditLog
from callvault.keys._events import KeyEvent

__all__ = ["AuditKeyEvents"]


class AuditKeyEvents:
    enabled = True

    def __init__(self, log: AuditLog) -> None:
        self._log = log

    def emit(self, event: KeyEvent) -> None:
        self._log.append(
            AuditEntry(
                time=event.time,
                actor=event.actor,
                action=f"key.{event.operation}",
                outcome=event.outcome,
                tenant=event.tenant,
                key_id=event.key_id,
                key_version=event.key_version,
                object_id=event.object_id,
                detail={"provider": event.provider, "latency_ms": f"{event.latency_ms:.3f}"},
            )
        )
