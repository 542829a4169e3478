"""The fast append path: group commit shares one fsync between concurrent threads (each
append still returns only once its own entry is durable), open files follow a replaced log,
several processes still get distinct gap-free positions, and every failure to make an
entry durable is ``AuditUnavailable``, chained to its cause, naming no entry content."""

from __future__ import annotations

import dataclasses
import errno
import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable

import pytest

from callvault import Vault
from callvault.audit import AuditEntry, AuditLog, AuditPolicy, verify_log
from callvault.audit._frames import read_frames
from callvault.audit._log import _with_hmac
from callvault.errors import AuditUnavailable, ConfigError, InvalidRequest, KeyUnavailable

MakeEntry = Callable[..., AuditEntry]
THREADS = 8


def _log_fsyncs(log: AuditLog, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Spy on fsyncs of the log file: each records the log's size once it completed."""
    durable: list[int] = []
    real = os.fsync
    log_path = str(log.store.log_path)

    def spy(fd: int) -> None:
        real(fd)
        if os.readlink(f"/proc/self/fd/{fd}") == log_path:
            durable.append(os.fstat(fd).st_size)

    monkeypatch.setattr(os, "fsync", spy)
    return durable


def _entries_within(log: AuditLog, size: int) -> int:
    return len(read_frames(log.store.read_log()[:size]).payloads)


def test_threads_appending_during_an_fsync_share_the_next_one(
    audit_log: AuditLog, entry: MakeEntry, monkeypatch: pytest.MonkeyPatch
) -> None:
    audit_log.append(entry(0))
    durable = _log_fsyncs(audit_log, monkeypatch)
    real_fsync = os.fsync  # the spy

    def first_fsync_waits_for_the_others(fd: int) -> None:
        # The first caller leads a batch of one; hold its fsync until the 7 others queue.
        if not durable:
            deadline = time.monotonic() + 10
            while len(audit_log.store._commit._queue) < THREADS - 1:
                assert time.monotonic() < deadline, "the other appends never queued"
                time.sleep(0.001)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", first_fsync_waits_for_the_others)
    got: dict[int, int] = {}
    covered: dict[int, int] = {}

    def append(i: int) -> None:
        seq = audit_log.append(entry(i + 1))
        assert seq is not None
        got[i] = seq
        covered[i] = _entries_within(audit_log, max(durable))  # durable when it returned

    threads = [threading.Thread(target=append, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(got.values()) == list(range(1, THREADS + 1))  # distinct, gap-free
    assert all(covered[i] > got[i] for i in got)  # each returned after its own fsync
    assert len(durable) == 2  # 8 entries, 2 fsyncs: the 7 waiting ones shared one
    read = list(audit_log.entries())
    assert [e.seq for e in read] == list(range(THREADS + 1))
    assert sorted(e.object_id for e in read[1:]) == sorted(f"call-{i + 1}" for i in range(8))
    assert verify_log(audit_log).ok


def test_readers_and_appenders_interleave_without_losing_entries(
    audit_log: AuditLog, entry: MakeEntry
) -> None:
    stop = threading.Event()
    sizes: list[int] = []

    def read() -> None:
        while not stop.is_set():
            sizes.append(audit_log.size())  # recovery under exclusive(), between batches

    def write(base: int) -> None:
        for i in range(20):
            audit_log.append(entry(base + i))

    reader = threading.Thread(target=read)
    reader.start()
    writers = [threading.Thread(target=write, args=(b * 100,)) for b in range(4)]
    for t in writers:
        t.start()
    for t in writers:
        t.join()
    stop.set()
    reader.join()
    assert sizes == sorted(sizes) and audit_log.size() == 80
    assert [e.seq for e in audit_log.entries()] == list(range(80))


_CHILD = """
import sys
from datetime import UTC, datetime
from pathlib import Path
from callvault import Vault
from callvault.audit import AuditEntry, AuditLog, AuditPolicy
log = AuditLog.for_vault(Vault.open_home(Path(sys.argv[1])), AuditPolicy(checkpoint_every=0))
print("ready", flush=True)
sys.stdin.readline()  # start together
for i in range(100):
    log.append(AuditEntry(datetime.now(UTC), "system", "test.child", "ok",
                          object_id=f"{sys.argv[2]}-{i}"))
"""


def test_processes_appending_at_once_get_distinct_gap_free_positions(
    vault: Vault, audit_log: AuditLog, entry: MakeEntry
) -> None:
    audit_log.append(entry(0))  # the children open an existing log
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLVAULT_")}
    children = [
        subprocess.Popen(
            [sys.executable, "-c", _CHILD, str(vault.home), name],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
        )
        for name in ("a", "b")
    ]
    try:
        for child in children:
            assert child.stdout is not None and child.stdout.readline() == b"ready\n"
        for child in children:
            assert child.stdin is not None
            child.stdin.write(b"go\n")
            child.stdin.flush()
        for i in range(1, 101):
            audit_log.append(entry(i))  # this process appends meanwhile, files kept open
        for child in children:
            assert child.wait(timeout=60) == 0
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
            child.wait()
            for stream in (child.stdin, child.stdout):
                if stream is not None:
                    stream.close()
    read = list(audit_log.entries())
    assert [e.seq for e in read] == list(range(301))
    ids = [e.object_id for e in read]
    assert len(set(ids)) == 301
    for name in ("a", "b"):  # each writer's own entries in its order
        mine = [i for i in ids if i and i.startswith(f"{name}-")]
        assert mine == [f"{name}-{i}" for i in range(100)]
    assert audit_log.size() == 301 and verify_log(audit_log).ok


def test_a_replaced_log_file_is_followed_not_written_as_an_orphan(
    audit_log: AuditLog, entry: MakeEntry, fill: Callable[[AuditLog, int], None]
) -> None:
    fill(audit_log, 3)
    path = audit_log.store.log_path
    copy = path.with_name("copy.cvl")
    copy.write_bytes(path.read_bytes())
    os.replace(copy, path)  # same content, another inode: the open descriptor is stale
    assert audit_log.append(entry(3)) == 3
    assert [e.object_id for e in audit_log.entries()] == [f"call-{i}" for i in range(4)]
    assert verify_log(audit_log).ok


def test_a_failed_fsync_is_audit_unavailable_and_leaves_no_entry(
    audit_log: AuditLog, entry: MakeEntry, monkeypatch: pytest.MonkeyPatch
) -> None:
    audit_log.append(entry(0))
    real = os.fsync

    def broken(fd: int) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "fsync", broken)
    secret = entry(1, object_id="rec-secret-object", actor="service:secret-actor")
    with pytest.raises(AuditUnavailable) as refused:
        audit_log.append(secret, subject=("acme", "+14155550199"))
    assert isinstance(refused.value.__cause__, OSError)
    message = str(refused.value)
    assert "secret" not in message and "4155550199" not in message
    monkeypatch.setattr(os, "fsync", real)
    assert audit_log.append(entry(2)) == 1  # the refused entry took no position
    assert [e.object_id for e in audit_log.entries()] == ["call-0", "call-2"]
    assert verify_log(audit_log).ok


@pytest.mark.parametrize("how", ["truncated", "unwritable"])
def test_a_log_that_cannot_take_entries_fails_closed_with_one_kind(
    audit_log: AuditLog, entry: MakeEntry, fill: Callable[[AuditLog, int], None], how: str
) -> None:
    fill(audit_log, 4)
    path = audit_log.store.log_path
    if how == "truncated":  # shorter than its index, under a process that keeps it open
        with open(path, "r+b") as handle:
            handle.truncate(path.stat().st_size - 10)
        cause: type[BaseException] = ConfigError
    else:  # the log's name now names a directory
        path.unlink()
        path.mkdir()
        cause = OSError
    for _ in range(2):  # and stays refused, not silently restarted
        with pytest.raises(AuditUnavailable) as refused:
            audit_log.append(entry(9, object_id="rec-never-logged"))
        assert isinstance(refused.value.__cause__, cause)
        assert "rec-never-logged" not in str(refused.value)


def test_a_failure_before_the_store_is_audit_unavailable_too(
    audit_log: AuditLog, entry: MakeEntry, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_kms() -> None:
        raise KeyUnavailable("kms down")

    monkeypatch.setattr(audit_log.keys, "ready", no_kms)
    with pytest.raises(AuditUnavailable) as refused:
        audit_log.append(entry(0))
    assert isinstance(refused.value.__cause__, KeyUnavailable)


def test_the_subject_hmac_copy_equals_a_validated_replace(entry: MakeEntry) -> None:
    original = entry(5)
    digest = "ab" * 32
    assert _with_hmac(original, digest) == dataclasses.replace(original, subject_hmac=digest)
    assert original.subject_hmac is None  # the caller's entry is untouched
    with pytest.raises(InvalidRequest):
        _with_hmac(original, "ab" * 31 + " x")


def test_nothing_is_created_by_reading_an_empty_home(vault: Vault) -> None:
    log = AuditLog.for_vault(vault, AuditPolicy(checkpoint_every=0))
    assert log.size() == 0
    assert not log.store.log_path.exists()
    assert not log.store.index_path.exists()


def test_a_forked_child_does_not_share_the_parents_lock(
    audit_log: AuditLog, entry: MakeEntry
) -> None:
    """A child inherits the open lock file; locking through it would not exclude the parent
    (same open file description), so the child must open its own and wait."""
    audit_log.append(entry(0))  # the parent's lock and files are open now
    go_r, go_w = os.pipe()
    done_r, done_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: wait for the parent to hold the lock, then append
        code = 1
        try:
            os.read(go_r, 1)
            audit_log.append(entry(1))
            os.write(done_w, b"x")
            code = 0
        finally:
            os._exit(code)
    try:
        with audit_log.store.locked():
            os.write(go_w, b"x")
            waited, _, _ = select.select([done_r], [], [], 0.5)
            assert not waited, "the child appended while the parent held the lock"
        _, status = os.waitpid(pid, 0)
        pid = 0
        assert os.waitstatus_to_exitcode(status) == 0
    finally:
        if pid:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        for fd in (go_r, go_w, done_r, done_w):
            os.close(fd)
    assert [e.object_id for e in audit_log.entries()] == ["call-0", "call-1"]
