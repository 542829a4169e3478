"""A crash between an API action and its audit entry cannot leave an unlogged action.

A real server process (``test_crash_launcher.py``) is killed (``os._exit``) at the two
places that matter: right after the audit entry was appended (before the commit or the
delete) and inside the entry's fsync. Afterwards the home is opened cold: in the first
case the log holds the entry (the action may or may not have happened); in the second the
action did not happen.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from callvault import Vault
from callvault.api import OBJECTS_DIR
from callvault.audit import AuditLog, verify_log
from callvault.auth import SigningKeyRing, TokenService
from callvault.storage.objects import LocalObjectStore, object_key
from callvault.transport import TlsProfile, client_context

LAUNCHER = Path(__file__).with_name("test_crash_launcher.py")
CRASH_STATUS = 71
CALLER = "+15550001111"


class Crashing:
    def __init__(self, home: Path, mode: str) -> None:
        self.home = home
        self.proc = subprocess.Popen(
            [sys.executable, str(LAUNCHER), mode, str(home)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            err = self.proc.stderr.read() if self.proc.stderr else ""
            pytest.fail(f"launcher did not start: {err}")
        self.port = json.loads(line)["port"]

    def client(self) -> httpx.Client:
        vault = Vault.open_home(self.home)
        tokens = TokenService(SigningKeyRing(vault.home, vault.provider))
        token = tokens.mint("tenant-admin", "acme")
        ctx = client_context(TlsProfile.MODERN, ca=self.home / "tls" / "ca.pem")
        return httpx.Client(
            base_url=f"https://localhost:{self.port}",
            verify=ctx,
            timeout=30,
            headers={"authorization": f"Bearer {token}"},
        )

    def expect_crash(self, send: object) -> None:
        with pytest.raises(httpx.TransportError):
            send()  # type: ignore[operator]
        assert self.proc.wait(timeout=30) == CRASH_STATUS

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


@pytest.fixture
def launch(vault: Vault) -> Iterator[object]:
    started: list[Crashing] = []

    def start(mode: str) -> Crashing:
        started.append(Crashing(vault.home, mode))
        return started[-1]

    yield start
    for item in started:
        item.stop()


def _entries(home: Path, action: str) -> list[object]:
    vault = Vault.open_home(home)
    log = AuditLog.for_vault(vault)
    report = verify_log(log)
    assert report.ok, report.findings  # a crash leaves an intact, verifiable log
    return [e for e in log.entries() if e.action == action]


def _stored(home: Path, recording_id: str) -> bool:
    store = LocalObjectStore(home / OBJECTS_DIR)
    return store.exists(object_key("acme", "recording", recording_id + ":meta"))


def _seed(home: Path, recording_id: str) -> None:
    """A committed recording, written by a normal (unpatched) server path: the library."""
    from callvault.api import ApiServices
    from callvault.api._recordings import Recordings

    vault = Vault.open_home(home)
    services = ApiServices.embedded(vault, records=False)
    Recordings(vault, services.objects, 1 << 20, services.upload_claims).put(
        "acme", recording_id, None, [b"audio"]
    )


def test_crash_after_the_entry_before_the_commit_leaves_the_entry(launch, vault) -> None:
    server = launch("after-audit-commit")
    with server.client() as client:
        server.expect_crash(
            lambda: client.put(
                "/v1/tenants/acme/recordings/crash-1",
                params={"subject": CALLER},
                content=b"a" * 5000,
            )
        )
    found = _entries(vault.home, "recording.write")
    assert [(e.object_id, e.outcome) for e in found] == [("crash-1", "ok")]
    assert found[0].subject_hmac == vault.keys.subject_key_id("acme", CALLER).hex()
    assert not _stored(vault.home, "crash-1")  # the commit never ran: a logged non-action


def test_crash_after_the_entry_before_the_delete_leaves_the_entry(launch, vault) -> None:
    _seed(vault.home, "crash-2")
    server = launch("after-audit-delete")
    with server.client() as client:
        server.expect_crash(lambda: client.delete("/v1/tenants/acme/recordings/crash-2"))
    found = _entries(vault.home, "recording.delete")
    assert [(e.object_id, e.outcome) for e in found] == [("crash-2", "ok")]


def test_crash_inside_the_audit_append_means_no_upload(launch, vault) -> None:
    server = launch("in-audit-append")
    with server.client() as client:
        server.expect_crash(
            lambda: client.put("/v1/tenants/acme/recordings/crash-3", content=b"b" * 5000)
        )
    assert not _stored(vault.home, "crash-3")
    # The entry may be in the page cache (written, not yet fsynced): never acknowledged.
    assert [e.object_id for e in _entries(vault.home, "recording.write")] in ([], ["crash-3"])


def test_crash_inside_the_audit_append_means_no_delete(launch, vault) -> None:
    _seed(vault.home, "crash-4")
    server = launch("in-audit-append")
    with server.client() as client:
        server.expect_crash(lambda: client.delete("/v1/tenants/acme/recordings/crash-4"))
    assert _stored(vault.home, "crash-4")
