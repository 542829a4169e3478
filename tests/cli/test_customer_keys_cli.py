"""``callvault keys create --provider`` and ``callvault tenants customer-key set|list|remove``
over a home whose ``[kms_providers]`` names a second (local) KMS."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from callvault import Vault
from callvault.cli import app


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in list(os.environ):
        if name.startswith("CALLVAULT_"):
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    Vault.init_home(home)
    config = home / "callvault.toml"
    config.write_text(
        config.read_text() + '\n[kms_providers]\nacme-hsm = "local://keys/acme.cvkr"\n'
    )
    Vault.open_home(home).create_tenant("acme")
    return home


def test_customer_key_commands(home: Path) -> None:
    run = CliRunner().invoke
    where = ["--home", str(home)]
    made = run(
        app,
        ["keys", "create", "--provider", "acme-hsm", "--key-id", "dev/acme/cmk", "--json", *where],
    )
    assert made.exit_code == 0, made.output
    assert json.loads(made.output)["key_id"] == "dev/acme/cmk"
    assert (home / "keys" / "acme.cvkr").exists()
    args = [
        "tenants",
        "customer-key",
        "set",
        "-t",
        "acme",
        "-c",
        "recording",
        "--provider",
        "acme-hsm",
    ]
    bad = run(app, [*args, "--key-id", "dev/globex/cmk", *where])
    assert bad.exit_code == 1 and "dev/acme/" in bad.output
    done = run(app, [*args, "--key-id", "dev/acme/cmk", "--json", *where])
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)[0]["provider"] == "acme-hsm"
    listed = run(app, ["tenants", "customer-key", "list", "-t", "acme", "--json", *where])
    assert json.loads(listed.output) == json.loads(done.output)
    vault = Vault.open_home(home)
    ctx = vault.context("acme", "recording", "r1", "+15550001234")
    assert vault.open(ctx, vault.seal(ctx, b"x")) == b"x"
    removed = run(
        app,
        ["tenants", "customer-key", "remove", "-t", "acme", "-c", "recording", "--json", *where],
    )
    assert removed.exit_code == 0 and json.loads(removed.output) == []
    nowhere = run(app, ["keys", "create", "--provider", "nope", "--key-id", "dev/acme/x", *where])
    assert nowhere.exit_code == 1 and "no KMS provider named" in nowhere.output
