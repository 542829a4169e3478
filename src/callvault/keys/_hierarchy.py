"""The key hierarchy: KMS master key → (subject key) → per-object data key.

``new_data_key`` makes a fresh DEK for an object and the header that carries it wrapped;
``data_key`` recovers the DEK from a header. Objects with a data subject have their DEK
wrapped by that subject's key (so erasing a caller destroys one small key), others by the
tenant's master key for the data class directly. Unwrapped keys are cached (``KeyCache``)
so repeated reads cost no KMS round trip.

Master keys usually live on the one configured provider; a class with a customer-managed
key (``Vault.set_customer_key``) has its master key on a *named* provider. Every header and
every managed record says which provider holds its key (the header's provider field: the
default provider's scheme, or the name from ``[kms_providers]``), so data written before and
after a change of key keeps opening under the key that really wraps it.

While a revocation re-keys a subject (``callvault.lifecycle.revoke``), the subject has a
*pending* key ``<name>#pending`` beside its current one. The hierarchy consults it in two
places only: new subject values are sealed under the pending key when there is one (so
nothing new lands under the key being replaced), and a subject header that the current key
does not open is tried with the pending key (values already re-encrypted). Once every
value is re-encrypted the pending record replaces the current one and both paths are back
to one key.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from callvault._ids import DataClass, Environment, check_subject, check_tenant_id
from callvault.errors import ConfigError, EnvironmentMismatch, KeyDestroyed, OpenError
from callvault.format import (
    Header,
    KeyReference,
    ObjectContext,
    body_context,
    encode_header,
    wrap_aad,
)
from callvault.format._encoding import encode_fields
from callvault.keys._cache import KeyCache
from callvault.keys._events import for_object
from callvault.keys._managed import PENDING_SUFFIX, ManagedKeyRecord, ManagedKeyStore
from callvault.keys._material import KeyMaterial
from callvault.keys._seal_plan import SealPlan
from callvault.keys.providers._base import KmsProvider, SealingKey, WrappedKey
from callvault.keys.providers._core import in_process_core

__all__ = ["Kek", "KekGeneration", "KekResolver", "KeyHierarchy"]

_K = TypeVar("_K")
_V = TypeVar("_V")


@dataclass(frozen=True, slots=True)
class Kek:
    """A master key: the provider that holds it (``""``: the default provider) and its id."""

    key_id: str
    provider: str = ""


KekResolver = Callable[[str, DataClass], Kek]
"""Maps (tenant, data class) to the master key that protects that class."""

KekGeneration = Callable[[], object]
"""Returns the same object for as long as the ``KekResolver``'s answers cannot change (the
tenant directory's document), and a new one after any change."""

_NONCE = 12
_LOCAL_WRAP_SIZE = _NONCE + 32 + 16
_MEMO_LIMIT = 1024
"""Bound of the per-key memos below: open reads key references from untrusted headers."""


class KeyHierarchy:
    def __init__(
        self,
        provider: KmsProvider,
        managed: ManagedKeyStore,
        kek_for: KekResolver,
        cache: KeyCache,
        named: Mapping[str, KmsProvider] | None = None,
        kek_generation: KekGeneration | None = None,
    ) -> None:
        self._provider = provider
        self._managed = managed
        self._kek_for = kek_for
        self._kek_generation = kek_generation  # None: no sealing plans (answers may change)
        self.scope_prefix = f"{provider.environment.value}/"
        """How every key id of this environment begins (``dev/``, ``prod/``...)."""
        self._cache = cache
        self._named = dict(named or {})
        if provider.scheme in self._named:
            raise ConfigError(f"provider name {provider.scheme!r} is the default provider's")
        # Constant per master key, built per object before: validated key references and
        # the part of the wrap AAD that precedes the object context (``_wrap_aad``).
        self._refs: dict[tuple[str, str, int], KeyReference] = {}
        self._aad_prefixes: dict[tuple[str, str, int, bytes, int], bytes] = {}
        self._seal_plans: dict[tuple[str, DataClass], SealPlan] = {}

    def provider_for(self, name: str) -> KmsProvider:
        """The provider a header or record names (``""`` or the default's scheme: default);
        ``OpenError`` for an unknown name: a header is attacker-controlled input."""
        if not name or name == self._provider.scheme:
            return self._provider
        found = self._named.get(name)
        if found is None:
            raise OpenError
        return found

    def _header_name(self, kek: Kek) -> str:
        return kek.provider or self._provider.scheme

    def _ref(self, provider: str, key_id: str, version: int) -> KeyReference:
        """A validated ``KeyReference`` (two regexes per construction), memoised."""
        memo = (provider, key_id, version)
        found = self._refs.get(memo)
        if found is None:
            found = KeyReference(provider, key_id, version)
            _bounded_put(self._refs, memo, found)
        return found

    def _wrap_aad(self, ref: KeyReference, subject_key_id: bytes, context: ObjectContext) -> bytes:
        """``format.wrap_aad(ref, subject_key_id, context)``, byte for byte: its encoding
        ends with the context's pre-encoded fields (``encode_fields_tail``), so the part
        before them is constant per key reference and is encoded once, not per object."""
        tail = context.encoded_tail()
        memo = (ref.provider, ref.key_id, ref.version, subject_key_id, len(context.fields()))
        prefix = self._aad_prefixes.get(memo)
        if prefix is None:
            prefix = _without_suffix(wrap_aad(ref, subject_key_id, context), tail)
            _bounded_put(self._aad_prefixes, memo, prefix)
        return prefix + tail

    @property
    def environment(self) -> Environment:
        return self._provider.environment

    @property
    def provider(self) -> KmsProvider:
        return self._provider

    def master_key_id(self, tenant: str, scope: str = "default") -> str:
        return f"{self.environment.value}/{check_tenant_id(tenant)}/{scope}"

    # -- per-object data keys ---------------------------------------------------------

    def new_data_key(self, context: ObjectContext) -> tuple[KeyMaterial, Header]:
        """A fresh random DEK for one object, and the header carrying it wrapped."""
        if not self._observed():
            return self._new_data_key(context)
        with for_object(context.object_id):  # key-access events name the object
            return self._new_data_key(context)

    def new_object_key(self, context: ObjectContext) -> tuple[bytes, bytes, bytes]:
        """For sealing one object: (its encoded header, its fresh DEK, its body context).

        What ``new_data_key`` and its header give, through a ``SealPlan`` when nothing
        observes the key call (no sink, no trace, no remote provider), no subject key is
        involved and the master key's provider is in-process: the same checks, the same
        bytes (tests compare both paths).
        """
        if context.subject is None and self._kek_generation is not None and not self._observed():
            self._check_environment(context)
            generation, tail = self._kek_generation(), context.encoded_tail()
            plan = self._seal_plans.get((context.tenant, context.data_class))
            if (
                plan is not None
                and plan.kek_generation is generation
                and (sealed := plan.seal(tail)) is not None
            ):
                return sealed
            plan = self._seal_plan(context, generation)  # none yet, or tenants or keys changed
            if plan is not None and (sealed := plan.seal(tail)) is not None:
                return sealed
        dek, header = self.new_data_key(context)
        return header.encode(), dek.secret_bytes(), header.body_context(context)

    def _seal_plan(self, context: ObjectContext, generation: object) -> SealPlan | None:
        """A plan for the context's (tenant, data class), or ``None`` when its master key's
        provider has no ``SealingKey`` (not in-process, or under an unknown wrapper: the
        caller has just checked that nothing observes the call, so the two known wrappers
        would only pass it on)."""
        kek = self._kek_for(context.tenant, context.data_class)
        core = in_process_core(self.provider_for(kek.provider))
        make: Callable[[str], SealingKey] | None = getattr(core, "sealing_key", None)
        if make is None:
            return None
        key = make(kek.key_id)
        ref = self._ref(self._header_name(kek), kek.key_id, key.version)
        tail = context.encoded_tail()
        probe = bytes(key.wrapped_size)
        plan = SealPlan(
            generation,
            key,
            _without_suffix(wrap_aad(ref, b"", context), tail),
            _without_suffix(encode_header(ref, b"", probe), probe),
            _without_suffix(body_context(ref, b"", context), tail),
        )
        _bounded_put(self._seal_plans, (context.tenant, context.data_class), plan)
        return plan

    def _observed(self) -> bool:
        """Whether a provider would report or forward the object a key call is for
        (``AuditedProvider.observed``; a provider that cannot tell is taken to)."""
        if getattr(self._provider, "observed", True):
            return True
        return bool(self._named) and any(
            getattr(named, "observed", True) for named in self._named.values()
        )

    def _new_data_key(self, context: ObjectContext) -> tuple[KeyMaterial, Header]:
        self._check_environment(context)
        kek = self._kek_for(context.tenant, context.data_class)
        if context.subject is None:
            name = self._header_name(kek)
            provider = self.provider_for(kek.provider)
            ref = self._ref(name, kek.key_id, 1)
            aad = self._wrap_aad(ref, b"", context)
            dek, wrapped = provider.generate_data_key(kek.key_id, aad)
            if wrapped.version != ref.version:  # the AAD above leaves the version out
                ref = self._ref(name, kek.key_id, wrapped.version)
            return dek, Header(ref, b"", wrapped.blob)
        subject_key_id = self.subject_key_id(context.tenant, context.subject)
        record = self._subject_record(context, kek, subject_key_id)
        subject_key = self._unwrap_managed(record)
        ref = self._ref(
            record.provider or self._provider.scheme, record.kek_id, record.wrapped.version
        )
        dek = KeyMaterial.generate(f"data key of {context.object_id}")
        nonce = os.urandom(_NONCE)
        blob = nonce + AESGCM(subject_key.secret_bytes()).encrypt(
            nonce, dek.secret_bytes(), self._wrap_aad(ref, subject_key_id, context)
        )
        return dek, Header(ref, subject_key_id, blob)

    def data_key(self, header: Header, context: ObjectContext) -> KeyMaterial:
        """Recover an object's DEK from its header; raises OpenError, KeyDestroyed,
        KeyUnavailable or EnvironmentMismatch."""
        self._check_environment(context)
        provider = self.provider_for(header.key_ref.provider)
        aad = self._wrap_aad(header.key_ref, header.subject_key_id, context)
        # The wrap as the KMS sees it: associated data (key id, context), blob, version.
        cache_key = ("dek", aad, header.wrapped_dek, header.key_ref.version)
        if (cached := self._cache.get(cache_key)) is not None:
            return cached  # no KMS call, so no key event to name the object in
        with for_object(context.object_id):
            return self._data_key(header, context, provider, aad, cache_key)

    def _data_key(
        self,
        header: Header,
        context: ObjectContext,
        provider: KmsProvider,
        aad: bytes,
        cache_key: tuple[str, bytes, bytes, int],
    ) -> KeyMaterial:
        if not header.subject_key_id:
            wrapped = WrappedKey(header.key_ref.version, header.wrapped_dek)
            dek = provider.unwrap(header.key_ref.key_id, wrapped, aad)
            tags = frozenset({header.key_ref.key_id})
        else:
            name = _subject_name(context.tenant, context.data_class, header.subject_key_id)
            record = self._managed.get(name)
            if record is None:  # the record may since have moved to another master key
                raise OpenError
            try:
                dek = _local_unwrap(self._unwrap_managed(record), header.wrapped_dek, aad)
            except OpenError:  # re-encrypted already by a revocation in progress?
                pending = self._managed.get(name + PENDING_SUFFIX)
                if pending is None:
                    raise
                dek = _local_unwrap(self._unwrap_managed(pending), header.wrapped_dek, aad)
            tags = frozenset({header.key_ref.key_id, name, name + PENDING_SUFFIX})
        self._cache.put(cache_key, dek, tags)
        return dek

    # -- subject and index keys -------------------------------------------------------

    def subject_key_id(self, tenant: str, subject: str) -> bytes:
        """The blind id of a subject: HMAC-SHA256 under the tenant's index key."""
        index_key = self._index_key(tenant)
        message = encode_fields(b"callvault/subject-id/v1", [check_subject(subject).encode()])
        return hmac.digest(index_key.secret_bytes(), message, "sha256")

    def ensure_index_key(self, tenant: str) -> None:
        self._index_key(tenant)

    def destroy_subject(self, tenant: str, subject: str) -> list[str]:
        """Destroy every key of one data subject, in every data class. Irreversible."""
        subject_key_id = self.subject_key_id(tenant, subject)
        names = [_subject_name(tenant, cls, subject_key_id) for cls in DataClass]
        names += [name + PENDING_SUFFIX for name in names]  # a re-key's replacement too
        destroyed = self._managed.destroy(names)
        for name in names:
            self._cache.evict(name)
        return destroyed

    def _index_key(self, tenant: str) -> KeyMaterial:
        name = f"{check_tenant_id(tenant)}/index"
        record = self._managed.get(name)
        if record is None:
            record = self._create_managed(name, Kek(self.master_key_id(tenant)))
        return self._unwrap_managed(record)

    def _subject_record(
        self, context: ObjectContext, kek: Kek, subject_key_id: bytes
    ) -> ManagedKeyRecord:
        name = _subject_name(context.tenant, context.data_class, subject_key_id)
        pending = self._managed.get(name + PENDING_SUFFIX)  # a re-key in progress
        if pending is not None:
            return pending
        record = self._managed.get(name)
        if record is None:
            record = self._create_managed(name, kek)
        return record

    def create_pending(self, name: str, kek: Kek) -> ManagedKeyRecord:
        """The pending replacement of managed key ``name`` (a fresh key under ``kek``'s
        primary version), created unless one exists: a rerun after a crash reuses it."""
        return self._create_managed(name + PENDING_SUFFIX, kek)

    def opens_with(self, record: ManagedKeyRecord, header: Header, context: ObjectContext) -> bool:
        """Whether the subject key of ``record`` wraps ``header``'s DEK (no DEK is kept)."""
        try:
            _local_unwrap(
                self._unwrap_managed(record), header.wrapped_dek, header.wrap_aad(context)
            )
        except OpenError:
            return False
        return True

    def _create_managed(self, name: str, kek: Kek) -> ManagedKeyRecord:
        provider = self.provider_for(kek.provider)
        _key, wrapped = provider.generate_data_key(kek.key_id, _managed_aad(name))
        record = ManagedKeyRecord(
            name,
            kek.key_id,
            wrapped,
            datetime.now(UTC).isoformat(),
            kek.provider,
            (wrapped.version,),
        )
        return self._managed.put_if_absent(record)

    def _unwrap_managed(self, record: ManagedKeyRecord) -> KeyMaterial:
        cache_key = ("managed", record.name, record.wrapped.version, record.wrapped.blob)
        if (cached := self._cache.get(cache_key)) is not None:
            return cached
        provider = self.provider_for(record.provider)
        key = provider.unwrap(record.kek_id, record.wrapped, _managed_aad(record.name))
        self._cache.put(cache_key, key, frozenset({record.kek_id, record.name}))
        return key

    def move_class_keys(self, tenant: str, data_class: DataClass, to: Kek) -> int:
        """Re-wrap every subject key of one tenant's class under ``to`` (a customer-managed
        key, or back to the tenant's own); returns how many moved. Each record is swapped
        only if unchanged meanwhile, so a concurrent writer's record is never overwritten;
        the swap is re-checked by unwrapping before it is written."""
        provider = self.provider_for(to.provider)
        moved = 0
        for name in self._managed.names_with_prefix(f"{tenant}/{data_class.value}/subject/"):
            try:
                record = self._managed.get(name)
            except KeyDestroyed:
                continue  # an erased subject stays erased
            if record is None or (record.provider, record.kek_id) == (to.provider, to.key_id):
                continue
            key = self._unwrap_managed(record)
            wrapped = provider.wrap(to.key_id, key, _managed_aad(name))
            if (
                provider.unwrap(to.key_id, wrapped, _managed_aad(name)).secret_bytes()
                != key.secret_bytes()
            ):
                raise OpenError
            new = ManagedKeyRecord(
                name, to.key_id, wrapped, record.created_at, to.provider, (wrapped.version,)
            )
            if self._managed.replace(record, new):
                self._cache.evict(name)
                moved += 1
        return moved

    def _check_environment(self, context: ObjectContext) -> None:
        if context.environment is not self.environment:
            raise EnvironmentMismatch(
                f"object belongs to environment {context.environment.value!r}, this system "
                f"is {self.environment.value!r}"
            )


def _bounded_put(memo: dict[_K, _V], key: _K, value: _V) -> None:
    if len(memo) >= _MEMO_LIMIT:  # headers are untrusted: never grow without bound
        memo.clear()
    memo[key] = value


def _without_suffix(encoded: bytes, suffix: bytes) -> bytes:
    """``encoded`` without its last part, which must be ``suffix`` (never guess)."""
    if not encoded.endswith(suffix):
        raise AssertionError("an encoding no longer ends with the part a plan appends")
    return encoded[: len(encoded) - len(suffix)]


def _subject_name(tenant: str, data_class: DataClass, subject_key_id: bytes) -> str:
    return f"{tenant}/{data_class.value}/subject/{subject_key_id.hex()}"


def _managed_aad(name: str) -> bytes:
    """A managed key's wrap is bound to its name; a pending replacement's to the name it
    will replace (``promote`` moves the wrapped blob as is)."""
    return encode_fields(b"callvault/managed-key/v1", [name.removesuffix(PENDING_SUFFIX).encode()])


def _local_unwrap(key: KeyMaterial, blob: bytes, aad: bytes) -> KeyMaterial:
    if len(blob) != _LOCAL_WRAP_SIZE:
        raise OpenError
    try:
        raw = AESGCM(key.secret_bytes()).decrypt(blob[:_NONCE], blob[_NONCE:], aad)
    except InvalidTag:
        raise OpenError from None
    return KeyMaterial(raw, "data key")
