"""Rotate, rewrap, retire over a real home: recordings (with and without a subject) and their
sidecars in the object store, transcripts and analytics rows in SQLite and PostgreSQL, all
written through the API's own classes."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest

from callvault import DataClass
from callvault.envelope import header_of
from callvault.errors import InvalidRequest, KeyUnavailable
from callvault.lifecycle import RetirementBlocked, retire, rewrap

ACME_KEY = "dev/acme/default"
GLOBEX_KEY = "dev/globex/default"


def test_rotate_rewrap_retire(stores: Any, kit: ModuleType, events_vault: Any) -> None:
    vault, objects, records = stores.vault, stores.objects, stores.records
    pop = kit.populate(vault, objects, records)
    stale = vault.seal(vault.context("acme", DataClass.RECORDING, "kept-aside"), b"old")
    before = kit.sealed_values(objects, records)
    managed_before = kit.managed_versions(vault)
    vault.rotate_key("acme")

    acme_master = {k for k, v in kit.master_wrapped(before).items() if "acme" in k}
    acme_managed = {n for n in managed_before if n.startswith("acme/")}
    subject = {k for k, v in before.items() if v.header.subject_key_id}
    assert acme_master and acme_managed and subject  # the population covers every case

    # Retirement is refused while anything still needs v1, and names the count.
    with pytest.raises(RetirementBlocked, match=f"{len(acme_master) + len(acme_managed)} "):
        retire(vault, objects, records, tenant="acme", below=2)

    dry = rewrap(vault, objects, records, dry_run=True)
    assert dry.pending == len(acme_master) + len(acme_managed) and dry.rewrapped == 0
    assert dict(dry.versions[ACME_KEY]) == {1: len(acme_master) + len(acme_managed)}
    assert kit.sealed_values(objects, records) == before  # a dry run writes nothing
    assert kit.managed_versions(vault) == managed_before

    counted, sink = events_vault(vault)
    report = rewrap(counted, objects, records, batch=4)
    assert (report.failed, report.conflicts, report.resumed) == (0, 0, False)
    assert report.rewrapped == len(acme_master) + len(acme_managed)
    assert report.subject_wrapped == len(subject)
    assert report.examined == len(before) + len(managed_before)
    wraps = [e for e in sink.events if e.operation == "wrap"]
    assert len(wraps) == report.rewrapped and {e.key_version for e in wraps} == {2}

    after = kit.sealed_values(objects, records)
    assert after.keys() == before.keys()
    for label, value in after.items():
        assert value.body == before[label].body  # bodies byte-identical: no re-encryption
        if label in acme_master:
            assert value.header.key_ref.version == 2
            assert value.header.wrapped_dek != before[label].header.wrapped_dek
        else:  # globex's, and subject-wrapped headers: untouched, byte for byte
            assert value.header == before[label].header
    managed_after = kit.managed_versions(vault)
    for name, wrapped in managed_after.items():
        assert wrapped.version == (2 if name in acme_managed else 1)
        assert (wrapped == managed_before[name]) == (name not in acme_managed)

    # A second run finds everything current and asks the KMS for nothing.
    sink.clear()
    again = rewrap(counted, objects, records)
    assert again.rewrapped == 0 and again.already_current == report.rewrapped + len(
        kit.master_wrapped(before)
    ) - len(acme_master) + len(managed_before) - len(acme_managed)
    assert [e for e in sink.events if e.operation in ("wrap", "unwrap", "rewrap")] == []

    result = retire(vault, objects, records, tenant="acme", below=2)
    assert result.key.min_decrypt_version == 2 and result.below == 0
    kit.open_all(vault, objects, records, pop)  # everything opens, byte-exact, fresh cache
    with pytest.raises(KeyUnavailable):
        vault.open(vault.context("acme", DataClass.RECORDING, "kept-aside"), stale)


def test_retire_with_force_leaves_old_values_unreadable(
    sqlite_stores: Any, kit: ModuleType
) -> None:
    vault, objects, records = sqlite_stores.vault, sqlite_stores.objects, sqlite_stores.records
    pop = kit.populate(vault, objects, records, per_tenant=1, big=False)
    vault.rotate_key("acme")
    result = retire(vault, objects, records, tenant="acme", below=2, force=True)
    assert result.below > 0 and result.key.min_decrypt_version == 2
    with pytest.raises(KeyUnavailable):
        kit.open_all(vault, objects, records, pop)
    # Un-retiring is allowed (Vault Transit semantics), and everything opens again.
    vault.provider.set_min_decrypt_version(ACME_KEY, 1)
    kit.open_all(vault, objects, records, pop)


def test_retire_checks_its_arguments(sqlite_stores: Any) -> None:
    vault = sqlite_stores.vault
    with pytest.raises(InvalidRequest, match=r"must be 1\.\.1"):
        retire(vault, sqlite_stores.objects, sqlite_stores.records, tenant="acme", below=2)


def test_rewrap_of_one_tenant_leaves_the_other(sqlite_stores: Any, kit: ModuleType) -> None:
    vault, objects, records = sqlite_stores.vault, sqlite_stores.objects, sqlite_stores.records
    kit.populate(vault, objects, records, per_tenant=2, big=False)
    vault.rotate_key("acme")
    vault.rotate_key("globex")
    report = rewrap(vault, objects, records, tenant="globex")
    assert report.rewrapped > 0 and report.failed == 0
    versions = {
        (label.split()[1].split("/")[0], v.header.key_ref.version)
        for label, v in kit.master_wrapped(kit.sealed_values(objects, records)).items()
    }
    assert versions == {("acme", 1), ("globex", 2)}


def test_objects_on_s3(s3_objects: Any, vault: Any, kit: ModuleType, tmp_path: Any) -> None:
    """The object part against a real S3 server (radosgw): headers replaced in place,
    bodies streamed through unchanged, everything opens after retirement."""
    from callvault.api._recordings import ProcessClaims, Recordings

    recordings = Recordings(vault, s3_objects, kit.MAX_BYTES, ProcessClaims())
    audio = {f"s3-{i}": bytes([i]) * (1_100_000 if i == 0 else 30_000) for i in range(3)}
    for rid, data in audio.items():
        recordings.put("acme", rid, "+15550001111" if rid == "s3-1" else None, [data])
    before = {k: b"".join(s3_objects.get_stream(k)) for k in s3_objects.list("acme")}
    vault.rotate_key("acme")
    report = rewrap(vault, s3_objects, None, tenant="acme")
    # 5 master-wrapped objects (2 recordings, 3 sidecars) + the index and subject keys
    assert (report.rewrapped, report.subject_wrapped, report.failed) == (7, 1, 0)
    retire(vault, s3_objects, None, tenant="acme", below=2)
    vault.cache.clear()
    for rid, data in audio.items():
        opened = recordings.open("acme", rid)
        assert b"".join(opened.iter_plaintext(0, opened.length - 1)) == data
    for key, old in before.items():
        new = b"".join(s3_objects.get_stream(key))
        old_header, new_header = header_of(old), header_of(new)
        assert new[len(new_header.encode()) :] == old[len(old_header.encode()) :]
        assert new_header.key_ref.version == (1 if new_header.subject_key_id else 2)
