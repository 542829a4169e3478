"""``collect_facts``: one snapshot of the live system, every collector in turn.

Opening the home is the only thing that may raise (a home that is not a callvault home has
no posture). After that every collector reads and nothing writes key material: the vault is
opened without the audit sink, like ``callvault keys status``, because reading posture is
not a key use.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import callvault
from callvault._vault import Vault
from callvault.posture.facts._algorithms import collect_algorithms
from callvault.posture.facts._history import collect_history
from callvault.posture.facts._keys import collect_keys
from callvault.posture.facts._model import Check, CheckStatus, PostureFacts, Section
from callvault.posture.facts._operations import (
    collect_audit,
    collect_certificates,
    collect_egress,
    collect_erasure,
    collect_storage,
)
from callvault.posture.facts._pqc import collect_pqc
from callvault.posture.facts._tls import collect_tls

__all__ = ["collect_facts"]


def _identity() -> Section:
    from callvault.auth import load_permission_table

    table = load_permission_table()
    roles = {
        role.value: {"tenant_bound": rule.tenant_bound, "actions": len(rule.actions)}
        for role, rule in sorted(table.roles.items())
    }
    plaintext = sorted(a.value for a, rule in table.actions.items() if rule.plaintext)
    # DESIGN.md: the platform operator can never read tenant plaintext.
    operator = next(rule for role, rule in table.roles.items() if role.value == "platform-admin")
    operator_plaintext = sorted(a.value for a in operator.actions if table.actions[a].plaintext)
    admin = not operator_plaintext
    facts = {
        "roles": roles,
        "plaintext_actions": plaintext,
        "api": "HTTPS only, bearer JWT (Ed25519) checked per route against the table",
        "keyd": "mTLS: client certificate with a SPIFFE ID required, per-service grants",
    }
    check = Check(
        "identity.admin_binding",
        "Administrative interfaces require strong identity (JWT roles, mTLS for keyd)",
        CheckStatus.PASS if admin else CheckStatus.FAIL,
        f"{len(roles)} roles in permissions.json v{table.version}; platform-admin reads no "
        f"plaintext{': ' + ', '.join(operator_plaintext) if operator_plaintext else ''}; "
        "keyd demands client certificates",
        "callvault.auth permissions.json",
    )
    return Section("identity", facts, (check,))


def collect_facts(home: Path, *, now: datetime | None = None) -> PostureFacts:
    """Read the home's live posture. ``now`` is the clock the rotation, certificate and
    erasure checks use (injected by tests; the document's timestamp)."""
    now = now or datetime.now(UTC)
    vault = Vault.open_home(home)
    tls = collect_tls(vault.settings.tls_profile)
    history = collect_history(home, vault.settings.tls_profile)
    sections = (
        collect_algorithms(),
        tls,
        collect_keys(vault, now),
        _identity(),
        collect_certificates(vault, now),
        collect_erasure(vault, now),
        collect_audit(vault),
        collect_egress(vault),
        collect_storage(vault),
        history,
        collect_pqc(tls.facts, history.facts),
    )
    return PostureFacts(
        generated_at=now,
        home=str(home),
        environment=vault.environment.value,
        version=callvault.__version__,
        sections=sections,
    )
