"""Admin commands in the audit log, through the real ``callvault`` command: one entry each,
as ``cli:<os user>``, with the outcome; the key events they cause are logged as that user;
and a command whose entry cannot be written fails instead of reporting success."""

from __future__ import annotations

import getpass
import json
import os
from pathlib import Path
from typing import Any

from .conftest import Run


def _entries(run: Run) -> list[dict[str, Any]]:
    exported = run("audit", "export", check=True)
    return [json.loads(line) for line in exported.stdout.decode().splitlines() if line]


def _actor() -> str:
    try:
        return "cli:" + getpass.getuser()
    except (KeyError, OSError):
        return f"cli:uid-{os.getuid()}"


def test_admin_commands_are_logged_with_the_os_user(initialised: Run) -> None:
    run = initialised
    run("keys", "rotate", "--tenant", "acme", check=True)
    token = run("token", "--role", "tenant-admin", "--tenant", "acme", check=True)
    assert token.stdout.decode().count(".") == 2
    refused = run("keys", "rotate", "--tenant", "nobody")
    assert refused.returncode == 1
    made = run("erase", "--tenant", "acme", "--all", "--grace-days", "7", "--json", check=True)
    erasure_id = json.loads(made.stdout)["id"]
    run("erasures", "cancel", erasure_id, check=True)
    run("erasures", "run-due", check=True)

    entries = _entries(run)
    admin = [
        (e["action"], e["tenant"], e["outcome"])
        for e in entries
        if e["action"].startswith(("admin.", "erasure."))
    ]
    assert admin == [
        ("admin.tenant.create", "acme", "ok"),
        ("admin.tenant.create", "globex", "ok"),
        ("admin.key.rotate", "acme", "ok"),
        ("admin.token.mint", "acme", "ok"),
        ("admin.key.rotate", "nobody", "KeyNotFound"),
        ("erasure.schedule", "acme", "ok"),
        ("erasure.cancel", "acme", "ok"),
        ("admin.erasures.run_due", None, "ok"),
    ]
    actor = _actor()
    assert all(e["actor"] == actor for e in entries if e["action"].startswith("admin."))
    # The KMS work those commands did is in the log too, as the same operator.
    rotations = [e for e in entries if e["action"] == "key.rotate"]
    assert [(e["key_id"], e["actor"]) for e in rotations] == [("dev/acme/default", actor)]
    assert next(e for e in entries if e["action"] == "admin.token.mint")["detail"] == {
        "role": "tenant-admin",
        "ttl": "900",
    }
    verified = run("audit", "verify", "--json", check=True)
    assert json.loads(verified.stdout)["ok"] is True


def test_a_command_whose_entry_cannot_be_written_fails(initialised: Run, cli_home: Path) -> None:
    run = initialised
    log = cli_home / "audit" / "log.cvl"
    data = log.read_bytes()
    log.write_bytes(data[: len(data) // 2])  # truncated below its index: appends refuse
    result = run("tenants", "create", "initech")
    assert result.returncode == 1
    assert b"created tenant" not in result.stdout
    assert result.stderr.startswith(b"error: ") and b"audit" in result.stderr
