"""The audit log: round trip, caller values only as HMACs, durability, concurrent writers,
crash recovery, checkpoints by policy, and the key-event sink."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from callvault import InvalidRequest, Vault
from callvault.audit import AuditEntry, AuditKeyEvents, AuditLog, AuditPolicy, verify_log
from callvault.keys import KeyEvent

CALLER = "+14155550123"
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_append_and_read_back(audit_log: AuditLog, entry: Callable[..., AuditEntry]) -> None:
    assert audit_log.append(entry(0)) == 0
    assert audit_log.append(entry(1, tenant=None, action="platform.start")) == 1
    read = list(audit_log.entries())
    assert [e.seq for e in read] == [0, 1]
    assert read[0].object_id == "call-0" and read[0].detail == {"route": "/v1/recordings"}
    assert read[0].time == T0 and read[1].tenant is None
    assert audit_log.size() == 2


def test_export_range(audit_log: AuditLog, fill: Callable[[AuditLog, int], None]) -> None:
    fill(audit_log, 6)
    got = list(audit_log.entries(T0 + timedelta(minutes=2), T0 + timedelta(minutes=4)))
    assert [e.seq for e in got] == [2, 3]


def test_a_caller_is_stored_only_as_its_tenant_hmac(
    vault: Vault, audit_log: AuditLog, entry: Callable[..., AuditEntry]
) -> None:
    audit_log.append(entry(0), subject=("acme", CALLER))
    audit_log.append(entry(1, tenant="globex"), subject=("globex", CALLER))
    first, second = audit_log.entries()
    assert first.subject_hmac == vault.keys.subject_key_id("acme", CALLER).hex()
    assert second.subject_hmac == vault.keys.subject_key_id("globex", CALLER).hex()
    assert first.subject_hmac != second.subject_hmac  # per-tenant keys: not linkable
    for path in (vault.home / "audit").rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert CALLER.encode() not in data and b"call-0" not in data, path
            assert bytes.fromhex(first.subject_hmac) not in data  # encrypted at rest
    with pytest.raises(InvalidRequest):
        audit_log.append(entry(2), subject=("globex", CALLER))  # tenant must match


def test_entry_fields_are_validated(entry: Callable[..., AuditEntry]) -> None:
    with pytest.raises(InvalidRequest):
        entry(0, actor="has space")
    with pytest.raises(InvalidRequest):
        entry(0, detail={"k": 5})
    with pytest.raises(InvalidRequest):
        entry(0, time=T0.replace(tzinfo=None))


def test_append_fsyncs_the_log_before_returning(
    audit_log: AuditLog, monkeypatch: pytest.MonkeyPatch, entry: Callable[..., AuditEntry]
) -> None:
    synced: list[str] = []
    real_fsync = os.fsync

    def spy(fd: int) -> None:
        real_fsync(fd)
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))

    monkeypatch.setattr(os, "fsync", spy)
    audit_log.append(entry(0))
    assert str(audit_log.store.log_path) in synced


_CHILD = """
import sys, time
from datetime import datetime, UTC
from pathlib import Path
from callvault import Vault
from callvault.audit import AuditEntry, AuditLog, AuditPolicy
log = AuditLog.for_vault(Vault.open_home(Path(sys.argv[1])), AuditPolicy(checkpoint_every=0))
seq = log.append(AuditEntry(datetime.now(UTC), "system", "test.kill", "ok", object_id="call-7"))
print(seq, flush=True)
time.sleep(60)
"""


def test_an_acknowledged_entry_survives_a_kill(
    vault: Vault, audit_log: AuditLog, fill: Callable[[AuditLog, int], None]
) -> None:
    fill(audit_log, 2)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLVAULT_")}
    with subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(vault.home)],
        stdout=subprocess.PIPE,
        env=env,
    ) as child:
        assert child.stdout is not None
        line = child.stdout.readline()
        child.send_signal(signal.SIGKILL)  # no chance to flush or clean up
        child.wait()
    assert line.strip() == b"2"
    reopened = AuditLog.for_vault(Vault.open_home(vault.home))
    assert [e.object_id for e in reopened.entries()] == ["call-0", "call-1", "call-7"]
    assert verify_log(reopened).ok


def test_concurrent_writers_get_distinct_positions(
    audit_log: AuditLog, vault: Vault, entry: Callable[..., AuditEntry]
) -> None:
    other = AuditLog.for_vault(vault, AuditPolicy(checkpoint_every=0))  # a second opener

    def write(log: AuditLog, base: int) -> None:
        for i in range(15):
            log.append(entry(base + i))

    threads = [
        threading.Thread(target=write, args=(log, b))
        for log, b in ((audit_log, 0), (other, 100), (audit_log, 200))
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    read = list(audit_log.entries())
    assert [e.seq for e in read] == list(range(45))
    assert len({e.object_id for e in read}) == 45
    assert verify_log(audit_log).ok


def test_a_torn_final_frame_is_cut_and_the_log_continues(
    audit_log: AuditLog, entry: Callable[..., AuditEntry], fill: Callable[[AuditLog, int], None]
) -> None:
    fill(audit_log, 3)
    with open(audit_log.store.log_path, "ab") as handle:
        handle.write(b"\x00\x00\x01\x00partial")  # a crash in the middle of a write
    report = verify_log(audit_log)
    assert report.ok and [w.kind for w in report.warnings] == ["torn"]
    assert audit_log.append(entry(3)) == 3
    assert [e.seq for e in audit_log.entries()] == [0, 1, 2, 3]
    assert verify_log(audit_log).warnings == []


def test_checkpoints_follow_the_policy(vault: Vault, fill: Callable[[AuditLog, int], None]) -> None:
    log = AuditLog.for_vault(vault, AuditPolicy(checkpoint_every=4))
    fill(log, 9)
    sizes = [p.name for p, _ in log.checkpoint_notes()]
    assert sizes == [f"{4:016d}.note", f"{8:016d}.note"]
    assert verify_log(log).checkpoints == 2


def test_key_events_land_in_the_log(audit_log: AuditLog) -> None:
    sink = AuditKeyEvents(audit_log)
    assert sink.enabled
    sink.emit(
        KeyEvent(
            T0,
            "service:acme",
            "unwrap",
            "local",
            "dev/acme/default",
            3,
            "acme",
            "call-9",
            "ok",
            1.25,
        )
    )
    (got,) = audit_log.entries()
    assert (got.action, got.key_id, got.key_version, got.object_id) == (
        "key.unwrap",
        "dev/acme/default",
        3,
        "call-9",
    )
    assert got.detail == {"provider": "local", "latency_ms": "1.250"}


def test_key_events_raised_by_the_log_itself_are_deferred_not_lost(
    vault: Vault, entry: Callable[..., AuditEntry]
) -> None:
    """The first append unwraps the log key through the KMS; if that KMS reports to this
    log's sink, the re-entrant event is written right after, without deadlock."""
    log = AuditLog.for_vault(vault, AuditPolicy(checkpoint_every=0))
    sink = AuditKeyEvents(log)
    real_key = log.keys._key
    calls: list[int] = []

    def unwrap_with_event() -> object:
        if not calls:  # like the real unwrap: once, then cached
            calls.append(1)
            sink.emit(
                KeyEvent(
                    T0, "system", "unwrap", "local", "dev/platform/audit", 1, None, None, "ok", 0.1
                )
            )
        return real_key()

    log.keys._key = unwrap_with_event  # type: ignore[method-assign]
    assert log.append(entry(0)) == 0
    log.keys._key = real_key  # type: ignore[method-assign]
    assert [e.action for e in log.entries()] == ["recording.read", "key.unwrap"]


def test_entries_from_a_sequence_number_read_only_what_follows(
    audit_log: AuditLog, fill: Callable[[AuditLog, int], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    fill(audit_log, 7)
    every = list(audit_log.entries())
    opened: list[int] = []
    real_open = audit_log.keys.open

    def counting_open(seq: int, payload: bytes) -> bytes:
        opened.append(seq)
        return real_open(seq, payload)

    monkeypatch.setattr(audit_log.keys, "open", counting_open)
    assert [e.seq for e in audit_log.entries(start=5)] == [5, 6]
    assert opened == [5, 6]  # entries 0-4 were neither read nor decrypted
    assert list(audit_log.entries(start=5)) == every[5:]
    assert list(audit_log.entries(start=7)) == []
    with pytest.raises(InvalidRequest):
        list(audit_log.entries(start=8))
    with pytest.raises(InvalidRequest):
        list(audit_log.entries(start=-1))
