"""``Vault``: one home directory's tenants, keys and seal/open, behind one object.

This is the library's front door and what the CLI drives. It wires configuration, the KMS
provider, the tenant directory and the key hierarchy together; the work itself lives in
``envelope``, ``keys`` and ``format``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from callvault._customer_keys import CustomerKeys
from callvault._ids import DataClass, Environment, check_tenant_id
from callvault.config import CONFIG_FILE, Settings, load_settings
from callvault.envelope import (
    Progress,
    open_bytes,
    open_iter,
    open_stream,
    range_reader,
    seal_bytes,
    seal_iter,
    seal_stream,
)
from callvault.errors import ConfigError, KeyNotFound, TenantExists
from callvault.format import ObjectContext, RangeReader
from callvault.keys import CachePolicy, Kek, KeyCache, KeyHierarchy, ManagedKeyStore
from callvault.keys.providers import (
    KeyDescription,
    KmsProvider,
    ProviderSettings,
    create_root_key_file,
    open_provider,
)
from callvault.tenants import Tenant, TenantDirectory

__all__ = ["InitResult", "Vault"]


@dataclass(frozen=True, slots=True)
class InitResult:
    home: Path
    environment: Environment
    root_key_file: Path | None


class Vault:
    """Everything a home directory holds, opened with its configuration."""

    def __init__(
        self,
        home: Path,
        settings: Settings,
        provider: KmsProvider,
        named_providers: Mapping[str, KmsProvider] | None = None,
    ) -> None:
        self.home = home
        self.settings = settings
        self.provider = provider
        self.named_providers = dict(named_providers or {})
        """Providers of customer-managed keys, by their ``[kms_providers]`` name."""
        self.tenants = TenantDirectory(home / "tenants.json")
        # kek_for per tenant record: the directory hands out the same ``Tenant`` until its
        # file changes, so an unchanged record means an unchanged answer.
        self._keks: dict[tuple[str, DataClass | None], tuple[Tenant, Kek]] = {}
        policy = CachePolicy(**settings.cache.model_dump())
        self.cache = KeyCache(policy)
        self.keys = KeyHierarchy(
            provider,
            ManagedKeyStore(home / "keys" / "managed.json"),
            self.kek_for,
            self.cache,
            self.named_providers,
            self.tenants.generation,
        )
        self.customer_keys = CustomerKeys(self)

    # -- lifecycle --------------------------------------------------------------------

    @classmethod
    def init_home(
        cls, home: Path, environment: Environment = Environment.DEV, *, root_key_file: bool = True
    ) -> InitResult:
        """Create a home directory: config file and (unless a root key comes from the
        environment) a fresh 0600 root key file. Refuses to touch an existing home."""
        config = home / CONFIG_FILE
        if config.exists():
            raise ConfigError(f"{home} is already initialised ({config} exists)")
        home.mkdir(parents=True, exist_ok=True, mode=0o700)
        (home / "keys").mkdir(exist_ok=True, mode=0o700)
        key_path = create_root_key_file(home) if root_key_file else None
        config.write_text(
            "# callvault configuration. Secrets never go here: the root key is root.key (0600)\n"
            "# or CALLVAULT_ROOT_KEY / CALLVAULT_ROOT_PASSPHRASE.\n"
            f'environment = "{Environment(environment).value}"\n'
            'kms = "local://"\n\n[cache]\nmax_age_seconds = 300\nmax_uses = 10000\n'
        )
        return InitResult(home, Environment(environment), key_path)

    @classmethod
    def open_home(cls, home: Path) -> Vault:
        if not (home / CONFIG_FILE).exists():
            raise ConfigError(f"{home} is not a callvault home (run `callvault init`)")
        settings = load_settings(home)
        scope = ProviderSettings(home, settings.environment)
        provider = open_provider(settings.kms, scope)
        named = {name: open_provider(uri, scope) for name, uri in settings.kms_providers.items()}
        return cls(home, settings, provider, named)

    @property
    def environment(self) -> Environment:
        return self.settings.environment

    # -- tenants and master keys ------------------------------------------------------

    def create_tenant(
        self, tenant: str, dedicated_classes: Iterable[DataClass] = ()
    ) -> Tenant:
        """Register a tenant and create its master keys (default + any dedicated class).

        Keys come first and the directory entry last, so a failure part way (KMS down)
        leaves no tenant without keys; a retry reuses keys an earlier attempt created.
        """
        check_tenant_id(tenant)
        classes = frozenset(DataClass(c) for c in dedicated_classes)
        if any(t.id == tenant for t in self.tenants.list()):
            raise TenantExists(f"tenant {tenant} already exists")
        # "all" (not "*": AWS tag values allow no "*"): this key protects every other class.
        scopes = [("default", "all"), *sorted((c.value, c.value) for c in classes)]
        for scope, label in scopes:
            key_id = self.keys.master_key_id(tenant, scope)
            try:
                self.provider.describe_key(key_id)
            except KeyNotFound:
                self.provider.create_key(key_id, {"tenant": tenant, "class": label})
        self.keys.ensure_index_key(tenant)
        return self.tenants.add(tenant, classes)

    def list_keys(self, tenant: str | None = None) -> list[KeyDescription]:
        keys = self.provider.list_keys()
        if tenant is not None:
            self.tenants.get(tenant)
            keys = [k for k in keys if k.labels.get("tenant") == tenant]
        return keys

    def rotate_key(self, tenant: str, data_class: DataClass | None = None) -> KeyDescription:
        """New master key version for all new wraps; old versions still decrypt. A class
        with a customer-managed key rotates that key, on the customer's provider."""
        kek = self.kek_for(tenant, data_class)
        description = self.keys.provider_for(kek.provider).rotate_key(kek.key_id)
        self.cache.evict(kek.key_id)
        return description

    def kek_for(self, tenant: str, data_class: DataClass | None) -> Kek:
        """The master key of a tenant's class: its customer-managed key if one is
        registered, else the class's dedicated key, else the tenant's default key."""
        record = self.tenants.get(tenant)  # per call: sees another process's changes
        memo = (tenant, data_class)
        known = self._keks.get(memo)
        if known is not None and known[0] is record:
            return known[1]
        kek = self._resolve_kek(record, tenant, data_class)
        if len(self._keks) >= 4096:  # tenants x classes; bounded all the same
            self._keks.clear()
        self._keks[memo] = (record, kek)
        return kek

    def _resolve_kek(self, record: Tenant, tenant: str, data_class: DataClass | None) -> Kek:
        if data_class is not None:
            customer = record.customer_keys.get(data_class)
            if customer is not None:
                return Kek(customer.key_id, customer.provider)
            if data_class in record.dedicated_classes:
                return Kek(self.keys.master_key_id(tenant, data_class.value))
        return Kek(self.keys.master_key_id(tenant))

    # -- sealing and opening ----------------------------------------------------------

    def context(
        self, tenant: str, data_class: DataClass | str, object_id: str, subject: str | None = None
    ) -> ObjectContext:
        return ObjectContext(tenant, self.environment, DataClass(data_class), object_id, subject)

    def seal(self, context: ObjectContext, plaintext: bytes) -> bytes:
        return seal_bytes(self.keys, context, plaintext)

    def open(self, context: ObjectContext, sealed: bytes) -> bytes:
        return open_bytes(self.keys, context, sealed)

    def seal_stream(
        self, context: ObjectContext, src: BinaryIO, dst: BinaryIO, progress: Progress | None = None
    ) -> int:
        return seal_stream(self.keys, context, src, dst, progress)

    def open_stream(
        self, context: ObjectContext, src: BinaryIO, dst: BinaryIO, progress: Progress | None = None
    ) -> int:
        return open_stream(self.keys, context, src, dst, progress)

    def seal_iter(self, context: ObjectContext, chunks: Iterable[bytes]) -> Iterator[bytes]:
        return seal_iter(self.keys, context, chunks)

    def open_iter(self, context: ObjectContext, chunks: Iterable[bytes]) -> Iterator[bytes]:
        return open_iter(self.keys, context, chunks)

    def range_reader(
        self, context: ObjectContext, src: BinaryIO | bytes | bytearray | memoryview
    ) -> RangeReader:
        return range_reader(self.keys, context, src)

    def open_range(
        self,
        context: ObjectContext,
        src: BinaryIO | bytes | bytearray | memoryview,
        start: int,
        end: int,
    ) -> bytes:
        """Plaintext bytes ``start..end`` inclusive, decrypting only the covering chunks."""
        return self.range_reader(context, src).read(start, end)

    def destroy_subject(self, tenant: str, subject: str) -> list[str]:
        """Destroy a data subject's keys at once (erasure scheduling builds on this)."""
        self.tenants.get(tenant)
        return self.keys.destroy_subject(tenant, subject)


