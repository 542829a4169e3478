"""The real ``callvault`` command: stdout, stderr and exit codes."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from callvault.errors import OpenError

Run = Callable[..., subprocess.CompletedProcess[bytes]]

SEAL = ("--tenant", "acme", "--class", "recording", "--object-id", "call-1")


def _one_line_error(stderr: bytes) -> str:
    text = stderr.decode()
    assert text.startswith("error: "), text
    assert text.count("\n") == 1, f"expected one line, got {text!r}"
    return text


def test_init_creates_home_with_private_root_key(run: Run, cli_home: Path) -> None:
    result = run("init", "--json", check=True)
    info = json.loads(result.stdout)
    assert info["environment"] == "dev"
    root_key = Path(info["root_key_file"])
    assert stat.S_IMODE(root_key.stat().st_mode) == 0o600
    assert (cli_home / "callvault.toml").exists()
    again = run("init")
    assert again.returncode == 1
    assert "already initialised" in _one_line_error(again.stderr)


def test_commands_refuse_an_uninitialised_home(run: Run) -> None:
    result = run("tenants", "list")
    assert result.returncode == 1
    assert "callvault init" in _one_line_error(result.stderr)


def test_tenants_create_and_list(initialised: Run) -> None:
    listed = json.loads(initialised("tenants", "list", "--json", check=True).stdout)
    assert [t["id"] for t in listed] == ["acme", "globex"]
    created = json.loads(
        initialised("tenants", "create", "initech", "--class", "transcript", "--json",
                    check=True).stdout
    )
    assert sorted(created["keys"]) == ["dev/initech/default", "dev/initech/transcript"]
    duplicate = initialised("tenants", "create", "acme")
    assert duplicate.returncode == 1
    assert "already exists" in _one_line_error(duplicate.stderr)
    bad = initialised("tenants", "create", "Not A Tenant")
    assert bad.returncode == 1
    assert "tenant id" in _one_line_error(bad.stderr)


def test_keys_list_and_rotate(initialised: Run) -> None:
    keys = json.loads(initialised("keys", "list", "--tenant", "acme", "--json", check=True).stdout)
    assert [k["key_id"] for k in keys] == ["dev/acme/default"]
    assert keys[0]["primary_version"] == 1
    assert "material" not in json.dumps(keys)
    rotated = json.loads(
        initialised("keys", "rotate", "--tenant", "acme", "--json", check=True).stdout
    )
    assert rotated["primary_version"] == 2
    assert rotated["versions"] == [1, 2]
    missing = initialised("keys", "rotate", "--tenant", "nobody")
    assert missing.returncode == 1
    _one_line_error(missing.stderr)


def test_seal_open_files_roundtrip(initialised: Run, tmp_path: Path) -> None:
    plain = tmp_path / "call.wav"
    plain.write_bytes(os.urandom(100_000))
    sealed, opened = tmp_path / "call.cvlt", tmp_path / "call.out"
    initialised("seal", *SEAL, "--subject", "+15551234567", str(plain), str(sealed), check=True)
    assert plain.read_bytes()[:64] not in sealed.read_bytes()
    initialised("open", *SEAL, "--subject", "+15551234567", str(sealed), str(opened), check=True)
    assert opened.read_bytes() == plain.read_bytes()
    assert stat.S_IMODE(opened.stat().st_mode) == 0o600


def test_seal_open_stdin_stdout(initialised: Run) -> None:
    data = os.urandom(40_000)
    sealed = initialised("seal", *SEAL, "-", "-", input=data, check=True).stdout
    assert len(sealed) > len(data)
    assert initialised("open", *SEAL, "-", "-", input=sealed, check=True).stdout == data


def test_open_range(initialised: Run, tmp_path: Path) -> None:
    data = os.urandom(50_000)
    sealed = tmp_path / "x.cvlt"
    sealed.write_bytes(initialised("seal", *SEAL, "-", "-", input=data, check=True).stdout)
    for spec, expected in [
        ("16380-16390", data[16380:16391]),
        ("0-0", data[:1]),
        ("49990-", data[49990:]),
        ("49990-99999", data[49990:]),  # END past the end is clamped, as in HTTP Range
    ]:
        out = initialised("open", *SEAL, "--range", spec, str(sealed), "-", check=True)
        assert out.stdout == expected, spec
    for bad in ["10-5", "abc", "60000-60001"]:
        result = initialised("open", *SEAL, "--range", bad, str(sealed), "-")
        assert result.returncode == 1, bad
        assert result.stdout == b""
        _one_line_error(result.stderr)


@pytest.mark.parametrize(
    "claimed",
    [
        ("--tenant", "globex", "--class", "recording", "--object-id", "call-1"),
        ("--tenant", "acme", "--class", "transcript", "--object-id", "call-1"),
        ("--tenant", "acme", "--class", "recording", "--object-id", "call-2"),
    ],
)
def test_open_with_wrong_context_fails_opaquely_and_writes_nothing(
    initialised: Run, tmp_path: Path, claimed: tuple[str, ...]
) -> None:
    sealed = tmp_path / "x.cvlt"
    out = tmp_path / "x.out"
    sealed_bytes = initialised("seal", *SEAL, "-", "-", input=b"secret words", check=True).stdout
    sealed.write_bytes(sealed_bytes)
    result = initialised("open", *claimed, str(sealed), str(out))
    assert result.returncode == 1
    assert _one_line_error(result.stderr) == f"error: {OpenError.MESSAGE}\n"
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home", "x.cvlt"]  # no temp file


def test_tampered_file_leaves_no_partial_plaintext(initialised: Run, tmp_path: Path) -> None:
    data = os.urandom(3 * 16384 + 10)
    sealed = bytearray(initialised("seal", *SEAL, "-", "-", input=data, check=True).stdout)
    sealed[-5] ^= 1  # last chunk: earlier chunks authenticate and would be written
    src, out = tmp_path / "t.cvlt", tmp_path / "t.out"
    src.write_bytes(bytes(sealed))
    result = initialised("open", *SEAL, str(src), str(out))
    assert result.returncode == 1
    assert _one_line_error(result.stderr) == f"error: {OpenError.MESSAGE}\n"
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home", "t.cvlt"]  # no temp file


def test_bad_arguments_exit_non_zero(initialised: Run, tmp_path: Path) -> None:
    bad_class = initialised("seal", "--tenant", "acme", "--class", "voicemail",
                            "--object-id", "x", "-", "-", input=b"")
    assert bad_class.returncode == 2
    missing = initialised("seal", *SEAL, str(tmp_path / "nope"), "-")
    assert missing.returncode == 1
    assert "No such file" in _one_line_error(missing.stderr)
    bad_id = initialised("seal", "--tenant", "acme", "--class", "recording",
                         "--object-id", "../etc/passwd", "-", "-", input=b"x")
    assert bad_id.returncode == 1
    assert "object id" in _one_line_error(bad_id.stderr)


@pytest.mark.parametrize(
    "command",
    [(), ("init",), ("seal",), ("open",), ("demo",), ("tenants",), ("tenants", "create"),
     ("tenants", "list"), ("keys",), ("keys", "list"), ("keys", "rotate")],
)
def test_every_command_has_help(run: Run, command: tuple[str, ...]) -> None:
    result = run(*command, "--help")
    assert result.returncode == 0
    assert b"Usage" in result.stdout


def test_demo_runs_end_to_end(run: Run) -> None:
    result = run("demo", "--minutes", "0.5")
    assert result.returncode == 0, result.stderr
    out = result.stdout.decode()
    assert "demo complete: every check held" in out
    assert "+15551234567" not in out  # the caller only ever appears as a blind id
    assert "key destroyed" in out
