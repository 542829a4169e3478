"""No key, plaintext or caller number reaches a log, an error, CLI output or a metadata file."""

from __future__ import annotations

import base64
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from callvault import DataClass, KeyDestroyed, OpenError, Vault
from callvault.format import Header, header_length
from callvault.keys.providers import resolve_root_key
from callvault.keys.providers._keyring_file import KeyringFile

CALLER = "+15558675309"
PLAINTEXT = b"patient said her member number is XJ-4471-0092 " * 50


def _forms(secret: bytes) -> list[bytes]:
    """Every way a secret could plausibly be written out."""
    return [secret, secret.hex().encode(), secret.hex().upper().encode(),
            base64.b64encode(secret), base64.urlsafe_b64encode(secret).rstrip(b"=")]


def _secrets(vault: Vault, blobs: dict[str, tuple[object, bytes]]) -> list[bytes]:
    root = resolve_root_key(vault.home)
    secrets = [root.secret_bytes()]
    doc = KeyringFile(vault.home / "keys" / "keyring.cvkr", root, vault.environment).load()
    for entry in doc["keys"].values():
        secrets += [base64.b64decode(v["material"]) for v in entry["versions"].values()
                    if "material" in v]
    for ctx, blob in blobs.values():
        header = Header.parse(blob[: header_length(blob[:8])])
        secrets.append(vault.keys.data_key(header, ctx).secret_bytes())  # type: ignore[arg-type]
    return secrets


def test_library_logs_and_errors_carry_no_secrets(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    Vault.init_home(tmp_path / "home")
    vault = Vault.open_home(tmp_path / "home")
    vault.create_tenant("acme")
    rec = vault.context("acme", DataClass.RECORDING, "call-1", CALLER)
    tr = vault.context("acme", DataClass.TRANSCRIPT, "call-1")
    blobs = {"rec": (rec, vault.seal(rec, PLAINTEXT)), "tr": (tr, vault.seal(tr, PLAINTEXT))}
    secrets = _secrets(vault, blobs)
    messages: list[str] = []
    bad = bytearray(blobs["rec"][1])
    bad[-3] ^= 1
    for attempt in (
        lambda: vault.open(rec, bytes(bad)),
        lambda: vault.open(vault.context("acme", DataClass.RECORDING, "call-2", CALLER),
                           blobs["rec"][1]),
    ):
        with pytest.raises(OpenError) as info:
            attempt()
        messages.append(f"{info.value!r} {info.value}")
    vault.destroy_subject("acme", CALLER)
    with pytest.raises(KeyDestroyed) as destroyed:
        vault.open(rec, blobs["rec"][1])
    messages.append(str(destroyed.value))
    messages += [repr(k) for k in vault.list_keys()]
    text = ("\n".join(messages) + caplog.text).encode()
    assert CALLER.encode() not in text and b"XJ-4471" not in text
    for secret in secrets:
        for form in _forms(secret):
            assert form not in text
    # Metadata files beside the keyring hold neither secrets nor the caller.
    for name in ("tenants.json", "keys/managed.json", "callvault.toml"):
        content = (vault.home / name).read_bytes()
        assert CALLER.encode() not in content and CALLER[1:].encode() not in content
        for secret in secrets:
            for form in _forms(secret):
                assert form not in content, name


def test_cli_output_carries_no_secrets(tmp_path: Path) -> None:
    callvault = str(Path(sys.executable).with_name("callvault"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLVAULT_")}
    env["CALLVAULT_HOME"] = str(tmp_path / "home")
    transcript: list[bytes] = []

    def run(*args: str, data: bytes | None = None) -> bytes:
        result = subprocess.run([callvault, *args], input=data, capture_output=True, env=env)
        transcript.append(result.stderr)
        if args[0] != "open" and args[0] != "seal":
            transcript.append(result.stdout)
        return result.stdout

    run("init")
    run("tenants", "create", "acme")
    run("tenants", "list", "--json")
    run("keys", "list", "--json")
    run("keys", "rotate", "--tenant", "acme", "--json")
    ctx_args = ("--tenant", "acme", "--class", "recording", "--object-id", "c1",
                "--subject", CALLER)
    sealed = run("seal", *ctx_args, "-", "-", data=PLAINTEXT)
    run("open", "--tenant", "acme", "--class", "recording", "--object-id", "c2",
        "--subject", CALLER, "-", "-", data=sealed)
    vault = Vault.open_home(tmp_path / "home")
    rec = vault.context("acme", DataClass.RECORDING, "c1", CALLER)
    secrets = _secrets(vault, {"rec": (rec, sealed)})
    text = b"\n".join(transcript)
    assert b"cannot open" in text  # the failed open did report, opaquely
    assert CALLER.encode() not in text and b"XJ-4471" not in text
    for secret in secrets:
        for form in _forms(secret):
            assert form not in text
