"""A crash never loses an acknowledged key and never leaves a keyring that does not load."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from callvault import DataClass, Vault

_ROTATOR = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from callvault import Vault
    vault = Vault.open_home(Path(sys.argv[1]))
    while True:
        version = vault.rotate_key("acme").primary_version
        print(version, flush=True)   # acknowledged: rotate_key returned
    """
)


@pytest.mark.parametrize("kill_after", [3, 17, 41])
def test_sigkill_during_rotation_loses_no_acknowledged_version(
    tmp_path: Path, kill_after: int
) -> None:
    home = tmp_path / "home"
    Vault.init_home(home)
    vault = Vault.open_home(home)
    vault.create_tenant("acme")
    ctx = vault.context("acme", DataClass.RECORDING, "call-1")
    sealed_v1 = vault.seal(ctx, b"sealed before the crash")
    proc = subprocess.Popen(
        [sys.executable, "-c", _ROTATOR, str(home)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    acknowledged = 0
    for line in proc.stdout:
        acknowledged = int(line)
        if acknowledged >= kill_after:
            time.sleep(0.001 * kill_after % 7)  # land somewhere inside the next write
            os.kill(proc.pid, signal.SIGKILL)
            break
    proc.wait(timeout=30)
    proc.stdout.close()
    reopened = Vault.open_home(home)
    described = reopened.provider.describe_key("dev/acme/default")
    assert described.primary_version >= acknowledged
    assert set(range(1, acknowledged + 1)) <= set(described.versions)
    assert reopened.open(ctx, sealed_v1) == b"sealed before the crash"
    fresh = reopened.seal(ctx, b"after")
    assert reopened.open(ctx, fresh) == b"after"


def test_failed_write_leaves_the_previous_keyring(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    Vault.init_home(home)
    vault = Vault.open_home(home)
    vault.create_tenant("acme")
    before = (home / "keys" / "keyring.cvkr").read_bytes()

    def broken_replace(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        vault.rotate_key("acme")
    monkeypatch.undo()
    assert (home / "keys" / "keyring.cvkr").read_bytes() == before
    assert [p.name for p in (home / "keys").iterdir() if p.name.endswith(".tmp")] == []
    assert Vault.open_home(home).provider.describe_key("dev/acme/default").primary_version == 1


_CREATOR = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from callvault import Vault
    vault = Vault.open_home(Path(sys.argv[1]))
    for i in range(8):
        vault.create_tenant(f"{sys.argv[2]}-{i}")
    """
)


def test_concurrent_processes_do_not_lose_each_others_writes(tmp_path: Path) -> None:
    home = tmp_path / "home"
    Vault.init_home(home)
    procs = [
        subprocess.Popen([sys.executable, "-c", _CREATOR, str(home), name])
        for name in ("left", "right")
    ]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    vault = Vault.open_home(home)
    assert len(vault.tenants.list()) == 16
    assert len(vault.provider.list_keys()) == 16
    for tenant in vault.tenants.list():
        ctx = vault.context(tenant.id, DataClass.TRANSCRIPT, "t", subject="+15550000000")
        assert vault.open(ctx, vault.seal(ctx, b"ok")) == b"ok"
