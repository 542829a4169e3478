"""Destroying the keys an erasure concerns: the cryptographic part of erasing.

A tenant's data is all wrapped, directly or through subject and index keys, under the
tenant's master keys (one per dedicated class plus the default). Destroying those few KMS
keys therefore erases every object and row of the tenant at once, wherever its ciphertext
lies (backups, dumps, copies): the cost depends on the number of master keys, not on the
number of objects. The managed keys (subject and index keys) are then tombstoned in one
write, so opening yields the explicit ``KeyDestroyed`` from them too, without a KMS call.

A KMS that cannot destroy on request (AWS KMS deletes a key 7 to 30 days after it is
scheduled) has the key *disabled* at once, so the KMS refuses it from this moment, and then
scheduled for deletion with the shortest window it allows. The receipt says exactly that:
``"outcome": "deletion_scheduled"`` with ``disabled_at`` and ``deletion_date``, never
``"destroyed"``, which only a provider that destroyed the key on request may report.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import Any

from callvault._vault import Vault
from callvault.errors import KeyNotFound, KeyUnavailable
from callvault.keys import ManagedKeyStore
from callvault.keys.providers import KeyState

__all__ = ["destroy_master_key", "destroy_tenant_keys", "tenant_master_key_ids"]

_FALLBACK_PENDING_DAYS = 7  # the shortest window AWS KMS accepts


def tenant_master_key_ids(vault: Vault, tenant: str) -> list[str]:
    """The tenant's own master keys (default and dedicated classes): not the customer's
    keys of a class with a customer-managed key, which callvault does not own."""
    record = vault.tenants.get(tenant)
    scopes = ["default", *sorted(c.value for c in record.dedicated_classes)]
    return [vault.keys.master_key_id(tenant, scope) for scope in scopes]


def destroy_master_key(vault: Vault, key_id: str) -> dict[str, Any]:
    """Schedule (0 days where the provider allows it) and destroy one master key;
    idempotent, so a resumed erasure passes over keys already gone."""
    provider = vault.provider
    try:
        description = provider.describe_key(key_id)
    except KeyNotFound:
        return {"key_id": key_id, "state": "absent", "outcome": "absent"}
    disabled_at = None
    if description.state not in (KeyState.PENDING_DELETION, KeyState.DESTROYED):
        try:
            description = provider.schedule_deletion(key_id, 0)
        except ValueError:  # the provider has a minimum window (AWS KMS: 7 days)
            if description.state is KeyState.ENABLED:
                provider.disable_key(key_id)  # refused by the KMS from now on
            disabled_at = datetime.now(UTC).isoformat()
            description = provider.schedule_deletion(key_id, _FALLBACK_PENDING_DAYS)
    if description.state is not KeyState.DESTROYED:
        with contextlib.suppress(KeyUnavailable):  # cannot destroy on request: keep pending
            description = provider.destroy(key_id)
    vault.cache.evict(key_id)
    deletion = description.deletion_date
    destroyed = description.state is KeyState.DESTROYED
    return {
        "key_id": key_id,
        "state": description.state.value,
        "outcome": "destroyed" if destroyed else "deletion_scheduled",
        "disabled_at": disabled_at,
        "deletion_date": deletion.isoformat() if deletion else None,
    }


def destroy_tenant_keys(vault: Vault, tenant: str) -> dict[str, Any]:
    """Destroy every master key of ``tenant``, then tombstone its managed keys."""
    master = [destroy_master_key(vault, key_id) for key_id in tenant_master_key_ids(vault, tenant)]
    managed = ManagedKeyStore(vault.home / "keys" / "managed.json")
    names = managed.names_with_prefix(f"{tenant}/")
    destroyed = managed.destroy(names)
    for name in destroyed:
        vault.cache.evict(name)
    customer = sorted(c.value for c in vault.tenants.get(tenant).customer_keys)
    return {"master_keys": master, "managed_keys": destroyed, "customer_key_classes": customer}
