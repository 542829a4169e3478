"""``callvault audit``: the real executable against a real home."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from callvault import Vault
from callvault.audit import AuditLog, NoteVerifier

CALLVAULT = str(Path(sys.executable).with_name("callvault"))


def _run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLVAULT_")}
    env["CALLVAULT_HOME"] = str(home)
    return subprocess.run(
        [CALLVAULT, "audit", *args], capture_output=True, text=True, env=env, timeout=120
    )


def test_verify_checkpoint_export_and_tamper(
    vault: Vault, audit_log: AuditLog, fill: Callable[[AuditLog, int], None]
) -> None:
    fill(audit_log, 5)
    checkpoint = _run(vault.home, "checkpoint")
    assert checkpoint.returncode == 0, checkpoint.stderr
    vkey = _run(vault.home, "public-key").stdout.strip()
    assert NoteVerifier.from_string(vkey).open(checkpoint.stdout).split("\n")[1] == "5"

    ok = _run(vault.home, "verify", "--json", "--key", vkey)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["ok"] is True and json.loads(ok.stdout)["checkpoints"] == 1

    out = vault.home.parent / "export.jsonl"
    exported = _run(
        vault.home,
        "export",
        "--since",
        "2026-01-01T00:02:00+00:00",
        "--until",
        "2026-01-01T00:04:00Z",
        "--out",
        str(out),
    )
    assert exported.returncode == 0, exported.stderr
    assert [json.loads(x)["seq"] for x in out.read_text().splitlines()] == [2, 3]
    assert _run(vault.home, "export", "--since", "2026-01-01").returncode == 1  # no zone

    data = bytearray(audit_log.store.log_path.read_bytes())
    data[-3] ^= 1  # last entry (4)
    audit_log.store.log_path.write_bytes(bytes(data))
    bad = _run(vault.home, "verify")
    assert bad.returncode == 1
    assert "TAMPERED (modified) at entry 4" in bad.stdout
