"""Customer-managed keys: a tenant's own key, on its own KMS, for one data class.

An enterprise customer may want the master key of (say) its recordings on its own HSM or
Vault, so that it alone can switch its data off. ``register`` records, for one tenant and
data class, a provider named in ``[kms_providers]`` and a key id on it. From then on:

* every new object of that class has its DEK wrapped under that key (directly, or through
  the subject key of its caller);
* the class's existing subject keys are re-wrapped under it at once (``move_class_keys``),
  so every caller's data in that class, old and new, depends on the customer's key;
* disabling the key on the customer's provider makes that data unreadable as soon as the
  unwrapped-key cache lets go of it (``[cache] max_age_seconds``), and re-enabling it
  restores access: nothing is deleted or re-encrypted either way.

Objects of the class sealed *before* registration without a subject keep their DEK under
the tenant's own master key (a header names its key and cannot change it without
re-encryption); docs/keys.md says so.

Guards: the key id must be in the tenant's own namespace (``<env>/<tenant>/…``), so a tenant
cannot point a class at another tenant's key; the provider must be a named one; and the key
must be enabled and able to wrap and unwrap (a round trip is made) before anything changes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from callvault._ids import DataClass
from callvault.errors import InvalidRequest, KeyUnavailable
from callvault.keys import Kek, KeyMaterial
from callvault.keys.providers import KeyState
from callvault.tenants import CustomerKey, Tenant

if TYPE_CHECKING:
    from callvault._vault import Vault

__all__ = ["CustomerKeys"]

_PROBE = b"callvault/customer-key-probe/v1"


class CustomerKeys:
    def __init__(self, vault: Vault) -> None:
        self._vault = vault

    def register(self, tenant: str, data_class: DataClass, provider: str, key_id: str) -> Tenant:
        vault = self._vault
        vault.tenants.get(tenant)
        data_class = DataClass(data_class)
        if provider not in vault.named_providers:
            known = ", ".join(sorted(vault.named_providers)) or "none configured"
            raise InvalidRequest(f"no KMS provider named {provider!r} in [kms_providers] ({known})")
        namespace = f"{vault.environment.value}/{tenant}/"
        if not key_id.startswith(namespace) or key_id.count("/") != 2:
            raise InvalidRequest(f"a customer key id must be {namespace}<name>")
        kms = vault.named_providers[provider]
        described = kms.describe_key(key_id)
        if described.state is not KeyState.ENABLED:
            raise KeyUnavailable(f"key {key_id} on {provider} is {described.state.value}")
        probe = KeyMaterial.generate("customer key probe")
        wrapped = kms.wrap(key_id, probe, _PROBE)
        if kms.unwrap(key_id, wrapped, _PROBE).secret_bytes() != probe.secret_bytes():
            raise KeyUnavailable(f"key {key_id} on {provider} does not round-trip")
        record = vault.tenants.set_customer_key(
            tenant, data_class, CustomerKey(provider, key_id, datetime.now(UTC).isoformat())
        )
        vault.keys.move_class_keys(tenant, data_class, Kek(key_id, provider))
        return record

    def remove(self, tenant: str, data_class: DataClass) -> Tenant:
        """Back to the tenant's own master key: the class's subject keys are re-wrapped
        under it first (which needs the customer's key to still be enabled)."""
        vault = self._vault
        data_class = DataClass(data_class)
        if data_class not in vault.tenants.get(tenant).customer_keys:
            return vault.tenants.get(tenant)
        record = vault.tenants.set_customer_key(tenant, data_class, None)
        own = vault.kek_for(tenant, data_class)
        vault.keys.move_class_keys(tenant, data_class, own)
        return record
