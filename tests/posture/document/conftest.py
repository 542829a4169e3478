"""Fixtures: a real home (local KMS, tenants acme and globex, an audit log with entries)
whose clock can be moved: ``rotate_at(home, key_id, when)`` rotates a master key as the
local KMS would at ``when`` (the way tests/keys/test_rotation_cadence.py fakes the clock),
and ``collect_facts(home, now=...)`` evaluates the cadence at any time."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from callvault import DataClass, Environment, Vault
from callvault.audit import attach_audit
from callvault.keys.providers import LocalKms
from callvault.keys.providers._root_key import resolve_root_key

VaultFactory = Callable[..., Vault]
CALLVAULT = str(Path(sys.executable).with_name("callvault"))


def run_cli(home: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    """The real ``callvault`` executable on ``home`` (no other CALLVAULT_* variable)."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("CALLVAULT_")}
    environ["CALLVAULT_HOME"] = str(home)
    return subprocess.run([CALLVAULT, *args], capture_output=True, env=environ, timeout=120)


@pytest.fixture
def home(tmp_path: Path, vault_factory: VaultFactory) -> Path:
    vault = vault_factory(tmp_path / "home")
    attach_audit(vault)
    ctx = vault.context("acme", DataClass.RECORDING, "call-1", subject="+15551234567")
    vault.seal(ctx, b"hello")  # key uses: entries in the audit log
    return vault.home


def rotate_at(home: Path, key_id: str, when: datetime) -> None:
    kms = LocalKms(
        home / "keys" / "keyring.cvkr", resolve_root_key(home), Environment.DEV, clock=lambda: when
    )
    kms.rotate_key(key_id)


_TICK = [0]


def _stamp() -> str:
    """Distinct, increasing report times: reports recorded within one second still have
    an order (the history orders by file time, then by the report's own time)."""
    _TICK[0] += 1
    return (datetime.now(UTC) + timedelta(seconds=_TICK[0])).strftime("%Y-%m-%dT%H:%M:%SZ")


def scan_report(target: str, *, passed: bool, hybrid: bool = False) -> dict[str, Any]:
    """A report in the shared ``callvault.scan/v1`` shape (what ``callvault scan`` records)."""
    findings = (
        []
        if passed
        else [{"rule": "protocol.tls10", "severity": "critical", "message": "TLS 1.0 accepted"}]
    )
    return {
        "format": "callvault.scan/v1",
        "target": target,
        "server_name": "localhost",
        "scanned_at": _stamp(),
        "protocols": {
            "SSLv3": False,
            "TLSv1": not passed,
            "TLSv1.1": False,
            "TLSv1.2": False,
            "TLSv1.3": True,
        },
        "suites": {"TLSv1.3": ["TLS_AES_256_GCM_SHA384"]},
        "groups": ["X25519"],
        "hybrid_pq": hybrid,
        "forward_secrecy": True,
        "certificate": {},
        "hsts": None,
        "grades": {
            "callvault-modern": {
                "grade": "A" if passed else "F",
                "passed": passed,
                "findings": findings,
            }
        },
    }


def lint_report(path: str, findings: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "format": "callvault.lint/v1",
        "path": path,
        "linted_at": _stamp(),
        "checks": [],
        "findings": findings,
    }
