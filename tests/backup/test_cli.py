"""The real ``callvault backup`` command: create, restore, and its one-line refusals."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from callvault import Vault
from callvault.audit import AuditEntry, attach_audit
from callvault.erasure import Target

from .conftest import ALICE, BOB, Stores, World

CALLVAULT = str(Path(sys.executable).with_name("callvault"))


def _run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLVAULT_")}
    return subprocess.run(
        [CALLVAULT, *args, "--home", str(home)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def _entries(home: Path) -> list[AuditEntry]:
    return list(attach_audit(Vault.open_home(home)).entries())


def test_cli_backup_erase_restore(world: World, tmp_path: Path) -> None:
    out = tmp_path / "b.cvbk"
    created = _run(world.home, "backup", "create", str(out), "--json")
    assert created.returncode == 0, created.stderr
    summary = json.loads(created.stdout)
    assert summary["backup_key"]["key_id"] == "dev/platform/backup"
    assert summary["records"] == {"transcripts": 5, "analytics": 6}
    assert oct(out.stat().st_mode & 0o777) == "0o600"

    world.stores.erase("acme", Target(subject=ALICE))  # the erasure CLI has its own tests

    target = tmp_path / "restored"
    restore = ["backup", "restore", str(out), "--environment", "dev"]
    refused = _run(target, *restore, "--root-key", str(world.home / "root.key"))
    assert refused.returncode == 1
    assert refused.stderr.startswith("error: no tombstone ledger")
    assert refused.stderr.count("\n") == 1
    assert not target.exists()

    restored = _run(
        target,
        *restore,
        "--root-key",
        str(world.home / "root.key"),
        "--tombstones",
        str(world.home / "tombstones"),
        "--json",
    )
    assert restored.returncode == 0, restored.stderr
    assert json.loads(restored.stdout)["tombstones_applied"]["tombstones"] == 1

    created_entries = [e for e in _entries(world.home) if e.action == "admin.backup.create"]
    assert [(e.outcome, e.detail["backup_id"]) for e in created_entries] == [
        ("ok", summary["backup_id"])
    ]
    (restored_entry,) = [e for e in _entries(target) if e.action == "admin.backup.restore"]
    assert restored_entry.detail["backup_id"] == summary["backup_id"]
    assert restored_entry.detail["tombstones"] == "1"

    stores = Stores.over(Vault.open_home(target))
    try:
        for item in world.of("acme", BOB) + world.of("globex", ALICE):
            assert stores.digest(item) == world.items[item]
        alice = next(i for i in world.of("acme", ALICE) if i[1] == "recording")
        try:
            stores.open_item(alice)
        except Exception as exc:
            assert type(exc).__name__ == "KeyDestroyed"
        else:
            raise AssertionError("an erased subject's recording opened after restore")
    finally:
        stores.services.close()


def test_cli_backup_bad_input(tmp_path: Path) -> None:
    missing = _run(tmp_path / "h", "backup", "create", str(tmp_path / "x.cvbk"))
    assert missing.returncode == 1 and missing.stderr.startswith("error: ")
    assert missing.stderr.count("\n") == 1 and not (tmp_path / "x.cvbk").exists()
