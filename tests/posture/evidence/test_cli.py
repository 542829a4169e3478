"""The real ``callvault evidence`` command: export, verify (exit 0 / 1 / 2, trust sources,
``--json``) and run-checks, in subprocesses, with the real posture document builder."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

CALLVAULT = str(Path(sys.executable).with_name("callvault"))


def run(*args: str, home: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLVAULT_")}
    if home is not None:
        env["CALLVAULT_HOME"] = str(home)
    return subprocess.run([CALLVAULT, *args], capture_output=True, text=True, env=env, timeout=120)


def ok(*args: str, home: Path | None = None) -> str:
    result = run(*args, home=home)
    assert result.returncode == 0, (args, result.stderr)
    return result.stdout


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("cli")
    home = base / "home"
    ok("init", home=home)
    ok("tenants", "create", "acme", home=home)
    (base / "in.txt").write_text("hello caller")
    ok(
        "seal", "--tenant", "acme", "--class", "transcript", "--object-id", "o1",
        str(base / "in.txt"), str(base / "out.bin"), home=home,
    )  # fmt: skip
    ok("ca", "init", home=home)
    ok("ca", "issue", "keyd", home=home)
    out = json.loads(ok("evidence", "export", str(base / "bundle.zip"), "--json", home=home))
    assert out["path"] == str(base / "bundle.zip") and out["files"] >= 10
    (base / "audit.vkey").write_text(ok("audit", "public-key", home=home))
    return home, base / "bundle.zip"


def test_export_is_audited(exported: tuple[Path, Path]) -> None:
    home, _ = exported
    actions = [json.loads(line)["action"] for line in ok("audit", "export", home=home).splitlines()]
    assert "admin.evidence.export" in actions


def test_verify_with_the_homes_key(exported: tuple[Path, Path]) -> None:
    home, bundle = exported
    result = run("evidence", "verify", str(bundle), "--json", home=home)  # $CALLVAULT_HOME
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["ok"] is True and doc["trust"] == "home" and doc["audit_proofs_checked"] > 0


def test_verify_with_a_public_key_file(exported: tuple[Path, Path]) -> None:
    home, bundle = exported
    key = home.parent / "audit.vkey"
    out = ok("evidence", "verify", str(bundle), "--public-key", str(key))
    assert out.startswith("verified:")


def test_verify_with_only_the_embedded_key_says_so(exported: tuple[Path, Path]) -> None:
    _, bundle = exported
    result = run("evidence", "verify", str(bundle))
    assert result.returncode == 0
    assert result.stdout.startswith("verified:")
    assert "embedded in the bundle only" in result.stderr


def test_verify_against_another_homes_key_fails(
    exported: tuple[Path, Path], tmp_path: Path
) -> None:
    _, bundle = exported
    other = tmp_path / "other"
    ok("init", home=other)
    ok("audit", "checkpoint", home=other)  # creates its audit log and key
    result = run("evidence", "verify", str(bundle), "--home", str(other))
    assert result.returncode == 1
    assert "FAILED (signature) manifest.sig" in result.stdout


def test_verify_names_a_tampered_member(exported: tuple[Path, Path], tmp_path: Path) -> None:
    home, bundle = exported
    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(bundle) as src, zipfile.ZipFile(tampered, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "keys/inventory.json":
                data = data.replace(b'"enabled"', b'"ENABLED"')
            dst.writestr(info, data)
    result = run("evidence", "verify", str(tampered), "--home", str(home))
    assert result.returncode == 1
    assert "FAILED (hash-mismatch) keys/inventory.json" in result.stdout
    doc = json.loads(run("evidence", "verify", str(tampered), "--json", home=home).stdout)
    assert doc["ok"] is False
    assert {"code": "hash-mismatch", "member": "keys/inventory.json"}.items() <= (
        doc["failures"][0].items()
    )


def test_verify_usage_errors_exit_2(exported: tuple[Path, Path], tmp_path: Path) -> None:
    home, bundle = exported
    key = str(home.parent / "audit.vkey")
    (tmp_path / "bogus").write_text("not a key\n")
    (tmp_path / "empty").mkdir()
    for args in (
        ("--public-key", key, "--home", str(home)),  # two trust sources
        ("--public-key", str(tmp_path / "bogus")),  # not a verifier key
        ("--home", str(tmp_path / "empty")),  # a home without an audit log
    ):
        result = run("evidence", "verify", str(bundle), *args)
        assert result.returncode == 2, (args, result.stderr)
    assert run("evidence", "verify", str(tmp_path / "absent.zip")).returncode == 2


def test_run_checks(tmp_path: Path) -> None:
    home = tmp_path / "home"
    ok("init", home=home)
    unconfigured = run("evidence", "run-checks", home=home)
    assert unconfigured.returncode == 1
    assert unconfigured.stderr.startswith("error: nothing to check")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / "app.env").write_text("CALLVAULT_ENVIRONMENT=prod\n")
    with (home / "callvault.toml").open("a") as config:
        config.write(
            f'\n[posture]\nscan_targets = ["127.0.0.1:{port}"]\n'
            f'lint_paths = ["{tmp_path / "deploy"}"]\n'
        )
    result = run("evidence", "run-checks", "--json", home=home)
    assert result.returncode == 1  # the scan of a closed port failed, and was recorded
    doc = json.loads(result.stdout)
    assert len(doc["recorded"]) == 2
    assert [f["kind"] for f in doc["failures"]] == ["scan"]
    scans = list((home / "posture" / "history" / "scan").glob("*.json"))
    assert len(scans) == 1 and json.loads(scans[0].read_text())["error"]
