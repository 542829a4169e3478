"""Erasures made after a backup stay effective when that backup is restored (tombstones)."""

from __future__ import annotations

from pathlib import Path

import pytest

from callvault import Vault
from callvault.api import NotFound
from callvault.backup import RestoreRefused, TombstoneLedger
from callvault.erasure import Target
from callvault.errors import KeyDestroyed

from .conftest import ALICE, BOB, Stores, World


def _restored(world: World, backup: Path, tmp_path: Path, opened: list[Stores]) -> Stores:
    world.restore(backup, tmp_path / "restored")
    stores = Stores.over(Vault.open_home(tmp_path / "restored"))
    opened.append(stores)
    return stores


def _assert_opens(world: World, stores: Stores, tenant: str, caller: str | None) -> None:
    items = world.of(tenant, caller)
    assert items
    for item in items:
        assert stores.digest(item) == world.items[item]


def test_subject_erased_after_backup_stays_erased(
    world: World, tmp_path: Path, opened: list[Stores]
) -> None:
    backup = world.backup(tmp_path / "b.cvbk")
    world.stores.erase("acme", Target(subject=ALICE))
    restored = _restored(world, backup, tmp_path, opened)
    alice = [i for i in world.of("acme", ALICE) if i[1] != "analytics"]
    assert {i[1] for i in alice} == {"recording", "transcript"}
    for item in alice:
        with pytest.raises(KeyDestroyed):
            restored.open_item(item)
    # The same tenant's other caller, its anonymous call and the other tenant still open.
    _assert_opens(world, restored, "acme", BOB)
    _assert_opens(world, restored, "acme", None)
    _assert_opens(world, restored, "globex", ALICE)


def test_subject_erasure_is_effective_without_the_tombstone_only_before(
    world: World, tmp_path: Path, opened: list[Stores]
) -> None:
    """The control: the same backup restored with an empty ledger (a first-ever restore)
    brings Alice back. So it is the tombstone, not the backup, that keeps her erased."""
    backup = world.backup(tmp_path / "b.cvbk")
    world.stores.erase("acme", Target(subject=ALICE))
    world.restore(backup, tmp_path / "restored", tombstones=None, accept_empty_ledger=True)
    stores = Stores.over(Vault.open_home(tmp_path / "restored"))
    opened.append(stores)
    _assert_opens(world, stores, "acme", ALICE)


def test_tenant_erased_after_backup_stays_erased(
    world: World, tmp_path: Path, opened: list[Stores]
) -> None:
    backup = world.backup(tmp_path / "b.cvbk")
    world.stores.erase("acme", Target(tenant=True))
    restored = _restored(world, backup, tmp_path, opened)
    for caller in (ALICE, BOB, None):
        for item in world.of("acme", caller):
            with pytest.raises(KeyDestroyed):
                restored.open_item(item)
    states = {k.key_id: k.state.value for k in restored.vault.provider.list_keys()}
    assert states["dev/acme/default"] == "destroyed"
    _assert_opens(world, restored, "globex", ALICE)
    _assert_opens(world, restored, "globex", BOB)


def test_record_erased_after_backup_is_not_restored(
    world: World, tmp_path: Path, opened: list[Stores]
) -> None:
    backup = world.backup(tmp_path / "b.cvbk")
    recording = next(i for i in world.of("acme", BOB) if i[1] == "recording")
    transcript = next(i for i in world.of("acme", BOB) if i[1] == "transcript")
    world.stores.erase("acme", Target(record=recording[2]))
    world.stores.erase("acme", Target(record=transcript[2]))
    restored = _restored(world, backup, tmp_path, opened)
    for item in (recording, transcript):
        with pytest.raises(NotFound):
            restored.open_item(item)
    rest = [i for i in world.of("acme", BOB) if i not in (recording, transcript)]
    assert all(restored.digest(i) == world.items[i] for i in rest)


def test_restore_without_a_ledger_is_refused(world: World, tmp_path: Path) -> None:
    backup = world.backup(tmp_path / "b.cvbk")
    with pytest.raises(RestoreRefused, match="no tombstone ledger"):
        world.restore(backup, tmp_path / "restored", tombstones=None)
    with pytest.raises(RestoreRefused, match="no tombstone ledger"):
        world.restore(backup, tmp_path / "restored", tombstones=tmp_path / "elsewhere")
    assert not (tmp_path / "restored").exists()
    assert not [p for p in tmp_path.iterdir() if ".restore-" in p.name]


def _two_erasures_after(world: World, tmp_path: Path) -> tuple[Path, TombstoneLedger]:
    backup = world.backup(tmp_path / "b.cvbk")
    world.stores.erase("acme", Target(subject=ALICE))
    world.stores.erase("globex", Target(subject=BOB))
    ledger = TombstoneLedger(world.home / "tombstones")
    assert len(ledger.lines()) == 3  # genesis + two tombstones
    return backup, ledger


def test_a_tombstone_removed_from_the_middle_is_detected(world: World, tmp_path: Path) -> None:
    backup, ledger = _two_erasures_after(world, tmp_path)
    lines = ledger.lines()
    ledger.path.write_bytes(lines[0] + lines[2])
    with pytest.raises(RestoreRefused, match="entry 1 does not verify"):
        world.restore(backup, tmp_path / "restored")
    assert not (tmp_path / "restored").exists()


def test_an_edited_tombstone_is_detected(world: World, tmp_path: Path) -> None:
    backup, ledger = _two_erasures_after(world, tmp_path)
    lines = ledger.lines()
    edited = lines[1].replace(b'"tenant":"acme"', b'"tenant":"acmf"')
    assert edited != lines[1]
    ledger.path.write_bytes(lines[0] + edited + lines[2])
    with pytest.raises(RestoreRefused, match="entry 1 does not verify"):
        world.restore(backup, tmp_path / "restored")


def test_a_ledger_cut_below_the_backup_point_is_detected(world: World, tmp_path: Path) -> None:
    world.stores.erase("globex", Target(subject=BOB))  # before the backup: seq 1
    backup = world.backup(tmp_path / "b.cvbk")
    ledger = TombstoneLedger(world.home / "tombstones")
    ledger.path.write_bytes(ledger.lines()[0])
    with pytest.raises(RestoreRefused, match="shorter than when the backup was made"):
        world.restore(backup, tmp_path / "restored")


def test_another_homes_ledger_is_refused(
    world: World, vault_factory: object, tmp_path: Path
) -> None:
    backup = world.backup(tmp_path / "b.cvbk")
    other = Stores.over(vault_factory(tmp_path / "other"))  # type: ignore[operator]
    try:
        other.erase("acme", Target(subject=ALICE))
    finally:
        other.services.close()
    with pytest.raises(RestoreRefused, match="not this home's"):
        world.restore(backup, tmp_path / "restored", tombstones=tmp_path / "other" / "tombstones")


def test_the_removal_of_the_last_tombstone_is_the_documented_limit(
    world: World, tmp_path: Path, opened: list[Stores]
) -> None:
    """docs/backup.md: the ledger alone cannot show that its newest entries were cut off
    (hence: keep it on append-only storage). This pins the limit down, so a change that
    closes it is noticed here."""
    backup, ledger = _two_erasures_after(world, tmp_path)
    ledger.path.write_bytes(b"".join(ledger.lines()[:2]))
    restored = _restored(world, backup, tmp_path, opened)
    _assert_opens(world, restored, "globex", BOB)  # the cut-off erasure did not re-apply
    with pytest.raises(KeyDestroyed):
        restored.open_item(next(i for i in world.of("acme", ALICE) if i[1] == "recording"))
