"""The in-process provider under the stack's wrappers, for calls nobody observes.

``AuditedProvider`` reports a call only when a sink is enabled or the call is traced, and
``ResilientProvider`` calls an in-process provider straight through: with neither in play
both layers only pass the call on. Sealing makes one generate call per object, so when the
hierarchy knows the call is unobserved (``AuditedProvider.observed``) it may take the
core's ``SealingKey`` for its sealing plan: the same wraps, two layers fewer. Only these
two known wrappers are looked through; anything else is never skipped.
"""

from __future__ import annotations

from callvault.keys.providers._audited import AuditedProvider
from callvault.keys.providers._base import KmsProvider
from callvault.keys.providers._resilient import ResilientProvider

__all__ = ["in_process_core"]


def in_process_core(provider: KmsProvider) -> KmsProvider | None:
    """The in-process provider ``provider`` wraps in ``AuditedProvider`` and/or
    ``ResilientProvider`` (or is), else ``None``."""
    current: object = provider
    while isinstance(current, AuditedProvider | ResilientProvider):
        current = current.inner
    if getattr(current, "in_process", False) is True:
        return current  # type: ignore[return-value]
    return None
