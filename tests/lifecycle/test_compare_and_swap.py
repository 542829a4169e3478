"""The writes a rewrap makes are compare-and-swaps: a value changed, deleted or destroyed
since it was read is never overwritten or brought back; and a rewrap never writes a wrap
that does not open (adversarial providers)."""

from __future__ import annotations

import os
from types import ModuleType
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from callvault import DataClass, Vault
from callvault.envelope import header_of, rewrap_header
from callvault.errors import OpenError
from callvault.keys import KeyMaterial, ManagedKeyStore
from callvault.keys.providers import WrappedKey
from callvault.lifecycle import rewrap
from callvault.storage.records import RecordNotFound, SealedTable, create_records_engine


def test_row_replace_is_compare_and_swap(stores: Any, kit: ModuleType) -> None:
    vault, records = stores.vault, stores.records
    pop = kit.populate(vault, stores.objects, records, per_tenant=1, big=False)
    (tenant, tid), _text = next(iter(pop.transcripts.items()))
    old = records.get_transcript(tenant, tid).sealed
    assert not records.replace_sealed(tenant, SealedTable.TRANSCRIPTS, tid, b"stale", b"x")
    assert not records.replace_sealed("globex", SealedTable.TRANSCRIPTS, tid, old, b"x")
    assert records.get_transcript(tenant, tid).sealed == old
    records.delete_transcript(tenant, tid)
    assert not records.replace_sealed(tenant, SealedTable.TRANSCRIPTS, tid, old, b"x")
    with pytest.raises(RecordNotFound):  # deleted stays deleted
        records.get_transcript(tenant, tid)


def test_postgres_app_role_may_update_the_sealed_column_only(pg_database: Any) -> None:
    engine = create_records_engine(pg_database().app_url)
    with engine.begin() as connection, pytest.raises(DBAPIError, match="permission denied"):
        connection.execute(text("UPDATE transcripts SET call_id = 'x'"))
    with engine.begin() as connection, pytest.raises(DBAPIError, match="permission denied"):
        connection.execute(text("UPDATE analytics SET outcome = 'x'"))
    with engine.begin() as connection:  # granted, but RLS: an unbound session matches no row
        assert connection.execute(text("UPDATE transcripts SET sealed = '\\x00'")).rowcount == 0
    engine.dispose()


def test_managed_replace_never_revives_a_destroyed_key(vault: Vault) -> None:
    store = ManagedKeyStore(vault.home / "keys" / "managed.json")
    vault.seal(vault.context("acme", DataClass.RECORDING, "r", "+15550001"), b"x")
    record = next(r for r in store.live_records("acme/") if "/subject/" in r.name)
    new = WrappedKey(record.wrapped.version + 1, os.urandom(60))
    stale = type(record)(record.name, record.kek_id, WrappedKey(1, b"other"), record.created_at)
    assert store.replace_many([(stale, new)]) == []  # changed since read: left alone
    vault.destroy_subject("acme", "+15550001")
    assert store.replace_many([(record, new)]) == []
    assert record.name not in {r.name for r in store.live_records()}


class LyingProvider:
    """Wraps a *different* key than asked: the kind of bug a rewrap must catch before it
    replaces anything."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.scheme, self.environment = inner.scheme, inner.environment

    def wrap(self, key_id: str, key: KeyMaterial, associated_data: bytes) -> WrappedKey:
        return self._inner.wrap(key_id, KeyMaterial.generate("wrong"), associated_data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class RewrappingProvider(LyingProvider):
    """Has the optional ``rewrap`` (as Vault Transit does), honestly implemented."""

    calls = 0

    def wrap(self, key_id: str, key: KeyMaterial, associated_data: bytes) -> WrappedKey:
        raise AssertionError("rewrap must be preferred to unwrap + wrap")

    def rewrap(self, key_id: str, wrapped: WrappedKey, associated_data: bytes) -> WrappedKey:
        type(self).calls += 1
        key = self._inner.unwrap(key_id, wrapped, associated_data)
        return self._inner.wrap(key_id, key, associated_data)  # type: ignore[no-any-return]


def _swap_provider(vault: Vault, provider: Any) -> Vault:
    return Vault(vault.home, vault.settings, provider)


def test_a_wrap_that_does_not_open_is_never_written(sqlite_stores: Any, kit: ModuleType) -> None:
    vault, objects, records = sqlite_stores.vault, sqlite_stores.objects, sqlite_stores.records
    pop = kit.populate(vault, objects, records, per_tenant=1, big=False)
    before = kit.sealed_values(objects, records)
    managed = kit.managed_versions(vault)
    vault.rotate_key("acme")
    lying = _swap_provider(vault, LyingProvider(vault.provider))
    report = rewrap(lying, objects, records, tenant="acme")
    assert report.rewrapped == 0 and report.failed == report.pending > 0
    assert {f.error for f in report.failures} == {"OpenError"}
    assert kit.sealed_values(objects, records) == before
    assert kit.managed_versions(vault) == managed
    kit.open_all(vault, objects, records, pop)


def test_provider_rewrap_is_used_when_offered(sqlite_stores: Any, kit: ModuleType) -> None:
    vault, objects, records = sqlite_stores.vault, sqlite_stores.objects, sqlite_stores.records
    pop = kit.populate(vault, objects, records, per_tenant=1, big=False)
    vault.rotate_key("acme")
    honest = _swap_provider(vault, RewrappingProvider(vault.provider))
    report = rewrap(honest, objects, records, tenant="acme")
    assert report.failed == 0 and report.rewrapped == RewrappingProvider.calls > 0
    kit.open_all(vault, objects, records, pop)


def test_rewrap_header_cases(vault: Vault) -> None:
    plain = vault.context("acme", DataClass.RECORDING, "p")
    with_subject = vault.context("acme", DataClass.RECORDING, "s", "+15550002")
    sealed_plain, sealed_subject = vault.seal(plain, b"a"), vault.seal(with_subject, b"b")
    head_plain = header_of(sealed_plain).encode()
    head_subject = header_of(sealed_subject).encode()
    assert rewrap_header(vault.keys, head_plain, plain) is None  # already at the primary
    vault.rotate_key("acme")
    assert rewrap_header(vault.keys, head_subject, with_subject) is None  # subject-wrapped
    new = rewrap_header(vault.keys, head_plain, plain)
    assert new is not None and header_of(new).key_ref.version == 2
    assert vault.open(plain, new + sealed_plain[len(head_plain) :]) == b"a"
    # Another object's context: the old wrap does not authenticate, nothing is returned.
    with pytest.raises(OpenError):
        rewrap_header(vault.keys, head_plain, vault.context("acme", DataClass.RECORDING, "q"))
    tampered = bytearray(head_plain)
    tampered[-1] ^= 1
    with pytest.raises(OpenError):
        rewrap_header(vault.keys, bytes(tampered), plain)


def test_unreadable_values_are_failures_not_aborts(sqlite_stores: Any, kit: ModuleType) -> None:
    vault, objects, records = sqlite_stores.vault, sqlite_stores.objects, sqlite_stores.records
    kit.populate(vault, objects, records, per_tenant=1, big=False)
    objects.put_stream("acme/recording/garbage", [b"not a sealed object at all"])
    engine = create_records_engine(f"sqlite:///{vault.home / 'records.db'}")
    with engine.begin() as connection:
        connection.execute(text("UPDATE analytics SET sealed_fields = x'00' WHERE tenant='acme'"))
    engine.dispose()
    vault.rotate_key("acme")
    report = rewrap(vault, objects, records, tenant="acme")
    labels = {f.item.split()[0] for f in report.failures}
    assert report.failed == 2 and labels == {"object", "analytics"}
    assert report.rewrapped > 0
