"""``callvault ca …`` as a user runs it: the real executable, stdout, stderr, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

CALLVAULT = str(Path(sys.executable).with_name("callvault"))


def _run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLVAULT_")}
    env["CALLVAULT_HOME"] = str(home)
    return subprocess.run(
        [CALLVAULT, "ca", *args], capture_output=True, text=True, env=env, timeout=60
    )


def _ok(home: Path, *args: str) -> str:
    result = _run(home, *args)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_init_issue_list_revoke(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _ok(home, "init", "--trust-domain", "example.org")
    issued = json.loads(_ok(home, "issue", "api", "--ttl", "2h", "--dns", "localhost", "--json"))
    assert issued["spiffe_id"] == "spiffe://example.org/api"
    assert Path(issued["key"]).stat().st_mode & 0o777 == 0o600
    key_pem = Path(issued["key"]).read_text()
    plain = _ok(home, "issue", "worker")
    assert "PRIVATE KEY" not in plain and key_pem.splitlines()[1] not in plain
    assert "spiffe://example.org/worker" in plain

    inventory = json.loads(_ok(home, "list", "--json"))
    assert inventory["schema"] == "callvault.ca.inventory/v1"
    assert inventory["trust_domain"] == "example.org"
    certs = inventory["certificates"]
    assert [c["role"] for c in certs] == ["root", "intermediate", "service", "service"]
    assert {c["status"] for c in certs} == {"valid"}
    want = {
        "role",
        "subject",
        "issuer",
        "spiffe_id",
        "serial",
        "not_before",
        "not_after",
        "sha256",
        "key_algorithm",
        "status",
    }
    assert all(set(c) == want for c in certs)
    assert certs[2]["serial"] == issued["serial"] and len(certs[2]["sha256"]) == 64

    assert json.loads(_ok(home, "revoke", issued["serial"], "--json")) == {
        "revoked": [issued["serial"]]
    }
    table = _ok(home, "list")
    assert "revoked" in table and "spiffe://example.org/worker" in table


BAD = [
    ("issue", "api", "--ttl", "31d"),
    ("issue", "Bad/Name"),
    ("revoke", "nosuchservice"),
    ("revoke", "api", "--reason", "because"),
    ("init",),  # already initialised
]


def test_bad_input_is_one_line_and_exit_1(tmp_path: Path) -> None:
    """Each refused command prints one ``error:`` line, exits 1 and changes nothing.
    Independent failures run concurrently: each invocation pays the CLI's import time."""
    home = tmp_path / "home"
    _ok(home, "init")
    _ok(home, "issue", "api")
    before = (home / "ca" / "index.json").read_bytes()
    jobs = [(home, args) for args in BAD] + [(tmp_path / "empty", ("list",))]
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(lambda job: _run(job[0], *job[1]), jobs))
    for args, result in zip([*BAD, ("list",)], results, strict=True):
        assert result.returncode == 1, args
        assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, args
    assert "callvault ca init" in results[-1].stderr
    assert (home / "ca" / "index.json").read_bytes() == before
