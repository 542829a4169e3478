"""``attach_audit``: the one audit log of a vault, with every key event of its providers.

A vault's KMS providers are built before any audit log exists (the log's own keys come from
them), so the log joins afterwards: ``attach_audit`` opens the home's log and adds an
``AuditKeyEvents`` sink to each provider stack. It is idempotent per vault, so the API, the
CLI and the erasure jobs of one process share one log and key events are written once.
"""

from __future__ import annotations

import threading
import weakref
from typing import TYPE_CHECKING

from callvault.audit._log import DEFAULT_AUDIT_POLICY, AuditLog, AuditPolicy
from callvault.audit._sink import AuditKeyEvents

if TYPE_CHECKING:
    from callvault._vault import Vault

__all__ = ["attach_audit"]

_LOGS: weakref.WeakKeyDictionary[Vault, AuditLog] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def attach_audit(vault: Vault, policy: AuditPolicy = DEFAULT_AUDIT_POLICY) -> AuditLog:
    """The audit log of ``vault.home``, receiving every key event of ``vault``'s providers."""
    with _LOCK:
        log = _LOGS.get(vault)
        if log is not None:
            return log
        log = AuditLog.for_vault(vault, policy)
        sink = AuditKeyEvents(log)
        for provider in (vault.provider, *vault.named_providers.values()):
            add_sink = getattr(provider, "add_sink", None)
            if add_sink is not None:  # bare providers (tests of a provider alone) have none
                add_sink(sink)
        _LOGS[vault] = log
        return log
