"""Revoking a compromised master-key version: every value it exposed gets a new key (the
thief's keys open nothing stored afterwards), everything still opens byte for byte, the
version is retired, a crash half-way resumes, a dry run writes nothing."""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from callvault.api._recordings import ProcessClaims, Recordings
from callvault.envelope import header_of
from callvault.errors import InvalidRequest
from callvault.keys import ManagedKeyStore
from callvault.keys.providers import WrappedKey
from callvault.lifecycle import revoke, rewrap
from callvault.storage.objects import ObjectInfo, ObjectStore

KEY = "dev/acme/default"


def _load_exposure() -> ModuleType:
    name = "callvault_tests_lifecycle_exposure"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, Path(__file__).with_name("_exposure.py")
        )
        assert spec is not None and spec.loader is not None
        sys.modules[name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules[name])
    return sys.modules[name]


exposure = _load_exposure()


class Crash(BaseException):
    """Stands for the process dying: not an Exception, so nothing may swallow it."""


class CrashingStore:
    """The real object store, dying right after its ``after``-th completed write."""

    def __init__(self, inner: ObjectStore, after: int) -> None:
        self._inner, self._left = inner, after

    def put_stream(self, key: str, chunks: Any) -> ObjectInfo:
        info = self._inner.put_stream(key, chunks)
        self._left -= 1
        if self._left == 0:
            raise Crash
        return info

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def _history(kit: ModuleType, vault: Any, objects: Any, records: Any, big: bool) -> list[Any]:
    """v1 data; rotate, v2 data, rewrap (v1 → v2, subject keys too); rotate, v3 data and a
    subject first seen under v3 (its key never was under v2). Returns the populations."""
    pops = [kit.populate(vault, objects, records, per_tenant=3, big=big, tag="a")]
    vault.rotate_key("acme")
    pops.append(kit.populate(vault, objects, records, per_tenant=2, big=False, tag="b"))
    assert rewrap(vault, objects, records, tenant="acme").failed == 0
    vault.rotate_key("acme")
    pops.append(kit.populate(vault, objects, records, per_tenant=2, big=False, tag="c"))
    late = kit.Population()
    recordings = Recordings(vault, objects, kit.MAX_BYTES, ProcessClaims())
    recordings.put("acme", "late", "+15559990000", [b"late audio" * 1000])
    late.recordings[("acme", "late")] = b"late audio" * 1000
    return [*pops, late]


def _open_everything(
    kit: ModuleType, vault: Any, objects: Any, records: Any, pops: list[Any]
) -> None:
    for pop in pops:
        kit.open_all(vault, objects, records, pop)


def test_revoke_gives_every_exposed_value_a_new_key(
    stores: Any, kit: ModuleType, events_vault: Any, tmp_path: Path
) -> None:
    vault, objects, records = stores.vault, stores.objects, stores.records
    pops = _history(kit, vault, objects, records, big=stores.backend == "sqlite")
    # The thief's haul: version 2's bytes, and copies of managed.json and every value.
    raw = exposure.raw_version(vault, KEY, 2)
    shutil.copy(vault.home / "keys" / "managed.json", tmp_path / "managed.json")
    old_values = list(exposure.walk(vault, objects, records))
    stolen, subject_keys = exposure.attacker_deks(
        raw, KEY, 2, tmp_path / "managed.json", old_values
    )
    before = exposure.current_deks(vault, objects, records)
    # The test can fail: before the revocation the thief's keys open live values, both
    # master-wrapped and subject-wrapped ones (documents and field-level seals).
    exposed = {label for label in before if before[label] == stolen.get(label)}
    assert any("document" in label for label in exposed)
    assert any("field" in label for label in exposed)
    assert any(label.startswith("object") for label in exposed)
    assert len(subject_keys) >= 4  # acme's index and subject keys rewrapped under v2

    counted, sink = events_vault(vault)
    report = revoke(counted, objects, records, tenant="acme", version=2)
    assert report.complete and report.failed == 0 and report.rotated_to is None
    assert report.min_decrypt_version == 3
    subjects = {n for n in subject_keys if "/subject/" in n}  # the index key is not one
    assert report.subjects == report.subjects_rekeyed == len(subjects)
    outer = {label for label in exposed if " field " not in label}  # fields go with documents
    assert report.reencrypt.rewrapped == report.reencrypt.pending == len(outer)
    assert [e.outcome for e in sink.events if e.operation == "revoke"] == ["ok"]

    _open_everything(kit, vault, objects, records, pops)  # byte-exact, fresh cache
    after = exposure.current_deks(vault, objects, records)
    assert after.keys() == before.keys()
    assert not set(after.values()) & set(stolen.values())  # no DEK the thief holds
    # With the stolen version and the old managed.json, the thief opens no current value:
    # neither a master-wrapped DEK nor one wrapped by a subject key it could unwrap.
    now = list(exposure.walk(vault, objects, records))
    assert exposure.attacker_deks(raw, KEY, 2, tmp_path / "managed.json", now)[0] == {}
    for label, _context, sealed in now:
        header = header_of(sealed)
        if not header.subject_key_id and header.key_ref.key_id == KEY:
            assert header.key_ref.version >= 3, label
        if label in exposed or "globex" in label:
            continue
        assert after[label] == before[label], label  # not exposed: only rewrapped, same DEK
    store = ManagedKeyStore(vault.home / "keys" / "managed.json")
    for record in store.live_records("acme/"):
        assert not record.name.endswith("#pending")
        if "/subject/" in record.name:
            assert not record.wrapped_under(2) and record.wrapped.version >= 3
            assert record.name not in subject_keys or record.history == (3,)
    late = next(
        r
        for r in store.live_records("acme/recording/subject/")
        if r.history == (3,) and r.name not in subject_keys
    )
    assert late  # the subject first seen under v3 kept its key
    assert vault.provider.describe_key(KEY).min_decrypt_version == 3
    assert vault.provider.describe_key("dev/globex/default").min_decrypt_version == 1


def test_revoking_the_primary_rotates_first(sqlite_stores: Any, kit: ModuleType) -> None:
    vault, objects, records = sqlite_stores.vault, sqlite_stores.objects, sqlite_stores.records
    pop = kit.populate(vault, objects, records, per_tenant=2, big=False)
    before = exposure.current_deks(vault, objects, records)
    report = revoke(vault, objects, records, tenant="acme", version=1)
    assert report.rotated_to == 2 and report.complete and report.min_decrypt_version == 2
    kit.open_all(vault, objects, records, pop)
    after = exposure.current_deks(vault, objects, records)
    for label, dek in after.items():
        assert (dek == before[label]) == ("globex" in label), label  # all of acme's: new
    with pytest.raises(InvalidRequest, match=r"2\.\.2"):  # v1 is retired now
        revoke(vault, objects, records, tenant="acme", version=1)


def test_crash_half_way_then_rerun(sqlite_stores: Any, kit: ModuleType) -> None:
    vault, objects, records = sqlite_stores.vault, sqlite_stores.objects, sqlite_stores.records
    pops = _history(kit, vault, objects, records, big=False)
    before = exposure.current_deks(vault, objects, records)
    with pytest.raises(Crash):
        revoke(vault, CrashingStore(objects, after=3), records, tenant="acme", version=2)
    names = [r.name for r in ManagedKeyStore(vault.home / "keys" / "managed.json").live_records()]
    assert any(n.endswith("#pending") for n in names)  # cut short inside the re-key
    # Meanwhile everything opens: values re-encrypted already open with the pending keys.
    _open_everything(kit, vault, objects, records, pops)
    report = revoke(vault, objects, records, tenant="acme", version=2)
    assert report.complete and report.failed == 0
    assert 0 < report.reencrypt.rewrapped < report.reencrypt.examined
    _open_everything(kit, vault, objects, records, pops)
    names = [r.name for r in ManagedKeyStore(vault.home / "keys" / "managed.json").live_records()]
    assert not any(n.endswith("#pending") for n in names)
    after = exposure.current_deks(vault, objects, records)
    assert after.keys() == before.keys()
    assert vault.provider.describe_key(KEY).min_decrypt_version == 3


def test_dry_run_writes_nothing(sqlite_stores: Any, kit: ModuleType) -> None:
    vault, objects, records = sqlite_stores.vault, sqlite_stores.objects, sqlite_stores.records
    _history(kit, vault, objects, records, big=False)
    snapshot = exposure.everything(vault, objects, records)
    report = revoke(vault, objects, records, tenant="acme", version=3, dry_run=True)
    assert report.reencrypt.pending > 0 and report.reencrypt.rewrapped == 0
    assert report.subjects > 0 and report.subjects_rekeyed == 0 and not report.complete
    assert report.rotated_to is None
    assert exposure.everything(vault, objects, records) == snapshot


def test_managed_records_without_history_stay_readable(vault: Any) -> None:
    """managed.json written before the wrap history: read, counted conservatively, and
    given a history (all versions up to the current) by the next rewrap."""
    path = vault.home / "keys" / "managed.json"
    vault.seal(vault.context("acme", "recording", "r", "+15550001"), b"x")
    document = json.loads(path.read_bytes())
    for entry in document["keys"].values():
        entry.pop("history", None)
    path.write_text(json.dumps(document))
    store = ManagedKeyStore(path)
    record = next(r for r in store.live_records("acme/") if "/subject/" in r.name)
    assert record.history == () and record.wrapped_under(1) and not record.wrapped_under(2)
    vault.rotate_key("acme")
    vault.rotate_key("acme")
    blob = vault.provider.wrap(KEY, vault.keys._unwrap_managed(record), b"")  # any 3-wrap
    assert store.replace_many([(record, WrappedKey(3, blob.blob))]) == [record.name]
    assert store.get(record.name).history == (1, 3)  # type: ignore[union-attr]
