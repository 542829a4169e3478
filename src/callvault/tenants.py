"""The tenant directory: which tenants exist and which key protects each of their data classes.

A tenant's data classes share its ``default`` master key unless the tenant asked for a
dedicated one (``dedicated_classes``) or registered a customer-managed key for the class
(``customer_keys``: a named KMS provider and a key id on it); the directory is what the key
hierarchy consults to pick the master key for an object.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from callvault._ids import DataClass, check_tenant_id
from callvault._json_store import JsonStore
from callvault.errors import KeyNotFound, TenantExists

__all__ = ["CustomerKey", "Tenant", "TenantDirectory"]


@dataclass(frozen=True, slots=True)
class CustomerKey:
    """A key the customer controls: ``provider`` names an entry of ``[kms_providers]``."""

    provider: str
    key_id: str
    registered_at: str


@dataclass(frozen=True, slots=True)
class Tenant:
    id: str
    created_at: str
    dedicated_classes: frozenset[DataClass]
    customer_keys: Mapping[DataClass, CustomerKey] = field(default_factory=dict)


class TenantDirectory:
    def __init__(self, path: Path) -> None:
        self._store = JsonStore(path, lambda: {"format": "callvault-tenants/v1", "tenants": {}})
        # Tenants parsed from one document, replaced together with it: every seal looks up
        # its tenant, and the document changes only when a tenant is added.
        self._parsed: tuple[object, dict[str, Tenant]] = (None, {})

    def add(self, tenant: str, dedicated_classes: frozenset[DataClass]) -> Tenant:
        check_tenant_id(tenant)
        with self._store.transaction() as doc:
            if tenant in doc["tenants"]:
                raise TenantExists(f"tenant {tenant} already exists")
            entry = {
                "created_at": datetime.now(UTC).isoformat(),
                "dedicated_classes": sorted(c.value for c in dedicated_classes),
            }
            doc["tenants"][tenant] = entry
        return _tenant(tenant, entry)

    def generation(self) -> object:
        """The same object while the directory is unchanged, a new one after any change by
        any process (one ``os.stat``): what ``get`` answers can change only with it."""
        return self._store.read()

    def get(self, tenant: str) -> Tenant:
        document = self._store.read()
        source, parsed = self._parsed
        if source is not document:
            parsed = {}
            self._parsed = (document, parsed)
        if (found := parsed.get(tenant)) is not None:
            return found
        entry = document["tenants"].get(check_tenant_id(tenant))
        if entry is None:
            raise KeyNotFound(f"no tenant {tenant}")
        found = parsed[tenant] = _tenant(tenant, entry)
        return found

    def list(self) -> list[Tenant]:
        return [_tenant(t, e) for t, e in sorted(self._store.read()["tenants"].items())]

    def set_customer_key(
        self, tenant: str, data_class: DataClass, key: CustomerKey | None
    ) -> Tenant:
        """Register (or with ``None`` remove) the customer-managed key of one class."""
        with self._store.transaction() as doc:
            entry = doc["tenants"].get(check_tenant_id(tenant))
            if entry is None:
                raise KeyNotFound(f"no tenant {tenant}")
            keys = dict(entry.get("customer_keys", {}))
            if key is None:
                keys.pop(data_class.value, None)
            else:
                keys[data_class.value] = {
                    "provider": key.provider,
                    "key_id": key.key_id,
                    "registered_at": key.registered_at,
                }
            entry["customer_keys"] = keys
        return _tenant(tenant, entry)


def _tenant(tenant: str, entry: Mapping[str, Any]) -> Tenant:
    classes = entry.get("dedicated_classes", [])
    assert isinstance(classes, list)
    customer = {
        DataClass(name): CustomerKey(str(k["provider"]), str(k["key_id"]), str(k["registered_at"]))
        for name, k in entry.get("customer_keys", {}).items()
    }
    return Tenant(
        tenant, str(entry["created_at"]), frozenset(DataClass(c) for c in classes), customer
    )
