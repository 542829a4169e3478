"""Admin commands in the audit log: one entry per command, durable before it reports.

Every CLI command opens its vault through ``open_vault``, which attaches the home's audit
log (``attach_audit``: every KMS key event is logged) and names the actor
``cli:<os user>`` for those events. An *admin* command (creating tenants, rotating and
retiring keys, erasing, minting tokens, migrating the database…) also runs inside
``admin_action``, which appends one entry for the command itself: ``ok`` after the work and
*before* the command prints its result, or the error kind when it failed. If the log cannot
take the entry, the command fails (exit 1) rather than report an unlogged success.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime

from callvault import CallvaultError, Vault
from callvault.audit import AuditEntry, attach_audit
from callvault.keys import acting_as

__all__ = ["admin_action", "cli_actor"]

_UNPRINTABLE = re.compile(r"[^\x21-\x7e]")


def cli_actor() -> str:
    """``cli:<login name>``, or ``cli:uid-<n>`` where the name cannot be looked up."""
    try:
        name = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (a container's arbitrary uid)
        name = f"uid-{os.getuid()}"
    return "cli:" + (_UNPRINTABLE.sub("_", name)[:200] or f"uid-{os.getuid()}")


@contextlib.contextmanager
def admin_action(
    vault: Vault,
    action: str,
    *,
    tenant: str | None = None,
    key_id: str | None = None,
    object_id: str | None = None,
) -> Iterator[dict[str, str]]:
    """Log ``action`` once the block ends; the block may add short ``detail`` strings."""
    log = attach_audit(vault)
    actor = cli_actor()
    detail: dict[str, str] = {}

    def entry(outcome: str) -> AuditEntry:
        return AuditEntry(
            time=datetime.now(UTC),
            actor=actor,
            action=action,
            outcome=outcome,
            tenant=tenant,
            key_id=key_id,
            object_id=object_id,
            detail=detail,
        )

    with acting_as(actor):
        try:
            yield detail
        except CallvaultError as exc:
            with contextlib.suppress(Exception):  # never hide the real failure
                log.append(entry(type(exc).__name__))
            raise
        log.append(entry("ok"))
