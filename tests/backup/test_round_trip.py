"""Backup and restore of the embedded default: bit-exact, apart from what must stay out."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from callvault import Environment, Vault
from callvault.backup import BackupHeader, RestoreRefused, TombstoneLedger
from callvault.errors import EnvironmentMismatch

from .conftest import Stores, World


def _leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if ".restore-" in p.name)


def test_round_trip_is_bit_exact(world: World, tmp_path: Path, opened: list[Stores]) -> None:
    backup = world.backup(tmp_path / "b.cvbk")
    target = tmp_path / "restored"
    summary = world.restore(backup, target)
    assert summary.objects == 2 * 6  # 6 recordings, each an object and its sidecar
    assert summary.records == {"transcripts": 5, "analytics": 6}
    assert summary.tombstones["tombstones"] == 0
    restored = Stores.over(Vault.open_home(target))
    opened.append(restored)
    for item, digest in world.items.items():
        assert restored.digest(item) == digest, item
    # The sealed objects themselves came back byte for byte.
    for path in (world.home / "objects").rglob("*"):
        if path.is_file():
            copy = target / path.relative_to(world.home)
            assert (
                hashlib.sha256(copy.read_bytes()).digest()
                == hashlib.sha256(path.read_bytes()).digest()
            )
    assert not _leftovers(tmp_path)


def test_what_stays_out_of_a_backup(world: World, tmp_path: Path) -> None:
    (world.home / "tls").mkdir()
    (world.home / "tls" / "ca.key").write_bytes(b"PRIVATE-KEY-MARKER")
    backup = world.backup(tmp_path / "b.cvbk")
    target = tmp_path / "restored"
    world.restore(backup, target, tombstones=world.home / "tombstones")
    names = {p.relative_to(target).as_posix() for p in target.rglob("*")}
    assert "tls/ca.key" not in names and not any(n.startswith("tls") for n in names)
    # root.key exists only because the operator handed it to restore (--root-key).
    assert (target / "root.key").read_bytes() == (world.home / "root.key").read_bytes()
    raw = backup.read_bytes()
    assert (world.home / "root.key").read_bytes().strip() not in raw
    with backup.open("rb") as handle:
        header, _ = BackupHeader.read_from(handle.read)
    assert header.key_id == "dev/platform/backup"
    assert header.environment is Environment.DEV
    # The restored home carries the ledger on: same entries, later erasures append to it.
    old = TombstoneLedger(world.home / "tombstones").lines()
    assert TombstoneLedger(target / "tombstones").lines() == old


def test_backup_of_another_environment_is_refused(world: World, tmp_path: Path) -> None:
    backup = world.backup(tmp_path / "b.cvbk")
    target = tmp_path / "restored"
    with pytest.raises(EnvironmentMismatch, match="'dev', not 'staging'"):
        from callvault.backup import restore_backup

        restore_backup(
            backup,
            target,
            Environment.STAGING,
            root_key_file=world.home / "root.key",
            tombstones=world.home / "tombstones",
        )
    assert not target.exists() and not _leftovers(tmp_path)


def test_restore_refuses_a_non_empty_home(world: World, tmp_path: Path) -> None:
    backup = world.backup(tmp_path / "b.cvbk")
    target = tmp_path / "restored"
    target.mkdir()
    (target / "keep.txt").write_text("mine")
    with pytest.raises(RestoreRefused, match="not empty"):
        world.restore(backup, target)
    assert [p.name for p in target.iterdir()] == ["keep.txt"]
    with pytest.raises(RestoreRefused, match="not empty"):
        world.restore(backup, world.home)


def test_restore_into_an_existing_empty_directory(
    world: World, tmp_path: Path, opened: list[Stores]
) -> None:
    backup = world.backup(tmp_path / "b.cvbk")
    target = tmp_path / "restored"
    target.mkdir(mode=0o700)
    world.restore(backup, target)
    restored = Stores.over(Vault.open_home(target))
    opened.append(restored)
    item = next(iter(world.items))
    assert restored.digest(item) == world.items[item]
