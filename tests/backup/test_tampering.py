"""A corrupt, tampered or truncated backup is refused with a clear error, nothing written."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from callvault import Vault
from callvault.backup import BackupHeader, BackupInvalid

from .conftest import ALICE, Stores, World

Edit = Callable[[bytearray, BackupHeader, int], bytearray]


def _flip(offset: Callable[[bytearray, BackupHeader, int], int]) -> Edit:
    def edit(data: bytearray, header: BackupHeader, header_len: int) -> bytearray:
        data[offset(data, header, header_len)] ^= 0x01
        return data

    return edit


def _cut(keep: Callable[[bytearray, int], int]) -> Edit:
    def edit(data: bytearray, header: BackupHeader, header_len: int) -> bytearray:
        return data[: keep(data, header_len)]

    return edit


EDITS: dict[str, Edit] = {
    "magic": _flip(lambda d, h, n: 0),
    "version": _flip(lambda d, h, n: 4),
    "header length": _flip(lambda d, h, n: 8),
    "environment": _flip(lambda d, h, n: bytes(d).find(b"dev")),
    "wrapped DEK": _flip(lambda d, h, n: bytes(d).find(h.wrapped_dek) + 5),
    "creation time": _flip(lambda d, h, n: bytes(d).find(h.created_at.isoformat().encode())),
    "bootstrap keyring": _flip(lambda d, h, n: bytes(d).find(h.bootstrap_keyring) + 40),
    "last header byte": _flip(lambda d, h, n: n - 1),
    "first body byte": _flip(lambda d, h, n: n),
    "body middle": _flip(lambda d, h, n: (n + len(d)) // 2),
    "last byte": _flip(lambda d, h, n: len(d) - 1),
    "truncated by one byte": _cut(lambda d, n: len(d) - 1),
    "truncated at a chunk boundary": _cut(lambda d, n: n + 56 + 16400),
    "header only": _cut(lambda d, n: n),
    "half a header": _cut(lambda d, n: n // 2),
    "appended byte": lambda d, h, n: d + b"\x00",
}


@pytest.fixture(scope="module")
def backed_up(
    tmp_path_factory: pytest.TempPathFactory, vault_factory: Callable[..., Vault]
) -> Iterator[tuple[World, bytes]]:
    """One home and one backup of it, shared by the module (each test edits a copy)."""
    world = World(Stores.over(vault_factory(tmp_path_factory.mktemp("tamper") / "home")))
    world.add_call("acme", ALICE, "t1", 40_000)
    world.add_call("globex", None, "t2", 1_000)
    backup = world.backup(world.home.parent / "original.cvbk")
    yield world, backup.read_bytes()
    world.stores.services.close()


@pytest.mark.parametrize("name", sorted(EDITS))
def test_tampered_backup_is_refused_and_nothing_written(
    backed_up: tuple[World, bytes], tmp_path: Path, name: str
) -> None:
    world, original = backed_up
    backup = tmp_path / "b.cvbk"
    backup.write_bytes(original)
    with backup.open("rb") as handle:
        header, context = BackupHeader.read_from(handle.read)
    edited = EDITS[name](bytearray(original), header, len(context))
    assert bytes(edited) != original
    backup.write_bytes(bytes(edited))
    target = tmp_path / "restored"
    with pytest.raises(BackupInvalid):
        world.restore(backup, target)
    assert not target.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["b.cvbk"]


def test_the_untouched_copy_restores(backed_up: tuple[World, bytes], tmp_path: Path) -> None:
    """The control for the edits above: the same bytes, unedited, restore fine."""
    world, original = backed_up
    backup = tmp_path / "b.cvbk"
    backup.write_bytes(original)
    world.restore(backup, tmp_path / "restored")
    assert (tmp_path / "restored" / "callvault.toml").exists()


def test_wrong_root_key_is_refused(backed_up: tuple[World, bytes], tmp_path: Path) -> None:
    world, original = backed_up
    backup = tmp_path / "b.cvbk"
    backup.write_bytes(original)
    wrong = tmp_path / "wrong.key"
    wrong.write_text(os.urandom(32).hex() + "\n")
    wrong.chmod(0o600)
    from callvault import Environment
    from callvault.backup import restore_backup

    with pytest.raises(BackupInvalid, match="keyring"):
        restore_backup(
            backup,
            tmp_path / "restored",
            Environment.DEV,
            root_key_file=wrong,
            tombstones=world.home / "tombstones",
        )
    assert not (tmp_path / "restored").exists()
