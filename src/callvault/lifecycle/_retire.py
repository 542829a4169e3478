"""``retire``: raise a master key's minimum decryption version, once nothing needs the old.

Retiring versions below N makes every value still wrapped under them unreadable
(``KeyUnavailable``) until the minimum is lowered again. So before asking the provider,
``retire`` runs the rewrap job's dry run over the tenant and refuses while any managed
record or any header wrapped directly by the master key is below N, naming the counts;
``force`` overrides that (an operator who accepts losing access to those values, e.g.
stale test data). Headers that a subject key wraps are not counted: they depend on their
subject's managed record, which is.

Values that the dry run could not read (``failed``) are reported too; they block like
old versions do, because what they depend on is unknown.
"""

from __future__ import annotations

from dataclasses import dataclass

from callvault._ids import DataClass
from callvault._vault import Vault
from callvault.errors import InvalidRequest
from callvault.keys.providers import KeyDescription
from callvault.lifecycle._report import RewrapReport
from callvault.lifecycle._rewrap import rewrap
from callvault.storage.objects import ObjectStore
from callvault.storage.records import RecordStore

__all__ = ["RetireResult", "RetirementBlocked", "retire", "tenant_key_id"]


class RetirementBlocked(InvalidRequest):
    """Stored values still depend on a version that would be retired."""


@dataclass(frozen=True, slots=True)
class RetireResult:
    key: KeyDescription
    below: int
    """How many values still depended on versions below the new minimum (0 unless forced)."""
    unreadable: int
    scan: RewrapReport


def tenant_key_id(vault: Vault, tenant: str, data_class: DataClass | None) -> str:
    """The master key that protects ``data_class`` for ``tenant`` (as ``rotate`` picks it)."""
    record = vault.tenants.get(tenant)
    if data_class is not None and DataClass(data_class) in record.dedicated_classes:
        return vault.keys.master_key_id(tenant, DataClass(data_class).value)
    return vault.keys.master_key_id(tenant)


def retire(
    vault: Vault,
    objects: ObjectStore | None,
    records: RecordStore | None,
    *,
    tenant: str,
    below: int,
    data_class: DataClass | None = None,
    force: bool = False,
) -> RetireResult:
    """Set the minimum decryption version of the tenant's key to ``below``, after checking
    that no stored value needs an older version (``RetirementBlocked``) unless ``force``."""
    key_id = tenant_key_id(vault, tenant, data_class)
    current = vault.provider.describe_key(key_id)
    if not 1 <= below <= current.primary_version:
        raise InvalidRequest(
            f"--below must be 1..{current.primary_version} (the primary version of {key_id})"
        )
    scan = rewrap(vault, objects, records, tenant=tenant, dry_run=True)
    old = scan.below(key_id, below)
    if (old or scan.failed) and not force:
        raise RetirementBlocked(
            f"{old} stored value(s) are still wrapped under {key_id} below v{below}"
            f" and {scan.failed} could not be read; run `callvault keys rewrap --tenant"
            f" {tenant}` first (or pass --force to make them unreadable)"
        )
    key = vault.provider.set_min_decrypt_version(key_id, below)
    vault.cache.evict(key_id)  # cached keys of retired versions must not outlive the retirement
    return RetireResult(key, old, scan.failed, scan)
