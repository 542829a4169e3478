"""keyd as its own process (``callvault keyd``), serving an api home whose ``kms`` is
``keyd://…``: tenants, sealing and opening work end to end over mTLS, and both audit logs
(keyd's and the api's) record the key use under the right identities."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from callvault import DataClass, Environment, KeyUnavailable, Vault
from callvault.audit import attach_audit
from callvault.testing import wait_for_line

from .conftest import TRUST_DOMAIN, make_keyd_home, open_log

CALLVAULT = str(Path(sys.executable).with_name("callvault"))
# The api provisions its tenants' keys in this deployment, so it may also create them.
GRANTS = (
    "[keyd.grants]\n"
    'api = ["generate_data_key", "wrap", "unwrap", "rewrap", "describe_key", "create_key"]\n'
    'ops = ["rotate_key", "describe_key", "list_keys"]\n'
)


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("CALLVAULT_")}


def _read_port(proc: subprocess.Popen[bytes], timeout: float = 30.0) -> int:
    """The port from keyd's stable banner line ``keyd listening on HOST:PORT``."""
    return int(wait_for_line(proc, b"keyd listening on ", timeout).rsplit(b":", 1)[1])


@pytest.fixture
def keyd_process(tmp_path: Path, clean_env: None) -> Iterator[tuple[Path, int]]:
    home = make_keyd_home(tmp_path / "keyd", GRANTS)
    proc = subprocess.Popen(
        [CALLVAULT, "keyd", "--home", str(home), "--host", "127.0.0.1", "--port", "0"],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        env=_env(),
    )
    try:
        yield home, _read_port(proc)
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        assert proc.stderr is not None
        proc.stderr.close()


def test_a_vault_on_keyd_seals_and_opens_end_to_end(
    keyd_process: tuple[Path, int], tmp_path: Path
) -> None:
    keyd_home, port = keyd_process
    api_home = tmp_path / "api"
    Vault.init_home(api_home, Environment.DEV)
    config = api_home / "callvault.toml"
    uri = f"keyd://127.0.0.1:{port}/?identity=api&ca={keyd_home / 'ca'}"
    config.write_text(config.read_text().replace('kms = "local://"', f'kms = "{uri}"'))
    vault = Vault.open_home(api_home)
    api_log = attach_audit(vault)
    vault.create_tenant("acme")
    context = vault.context("acme", DataClass.RECORDING, "call-1", subject="+15551234567")
    sealed = vault.seal(context, b"hello from the caller" * 1000)
    assert b"hello from the caller" not in sealed
    assert vault.open(context, sealed) == b"hello from the caller" * 1000
    with pytest.raises(KeyUnavailable):  # the api may not rotate: ops administers keys
        vault.rotate_key("acme")

    keyd_entries = [e for e in open_log(keyd_home).entries() if e.action.startswith("keyd.")]
    api_id = f"spiffe://{TRUST_DOMAIN}/api"
    by_action = {(e.action, e.outcome) for e in keyd_entries if e.actor == api_id}
    assert ("keyd.create_key", "ok") in by_action
    assert ("keyd.generate_data_key", "ok") in by_action
    assert ("keyd.unwrap", "ok") in by_action
    assert ("keyd.rotate_key", "KeyAccessDenied") in by_action
    api_side = {(e.action, e.outcome) for e in api_log.entries()}
    assert ("key.generate", "ok") in api_side and ("key.rotate", "KeyAccessDenied") in api_side
    vault.provider.inner.inner.close()  # type: ignore[attr-defined]


def test_keyd_refuses_to_start_without_a_ca(tmp_path: Path, clean_env: None) -> None:
    home = tmp_path / "bare"
    Vault.init_home(home, Environment.DEV)
    result = subprocess.run(
        [CALLVAULT, "keyd", "--home", str(home), "--port", "0"],
        capture_output=True,
        env=_env(),
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.decode().startswith("error: no internal CA")
    assert result.stderr.count(b"\n") == 1
