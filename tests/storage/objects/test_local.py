"""``LocalObjectStore`` on a real directory: modes, atomic replacement, crash safety
(a writer killed with SIGKILL mid-write), concurrent writers, hostile directory contents."""

from __future__ import annotations

import hashlib
import os
import signal
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from callvault.storage.objects import LocalObjectStore, ObjectNotFound, ObjectStoreError

KEY = "acme/recording/call-1"

_KILLED_WRITER = """
import sys
from pathlib import Path
from callvault.storage.objects import LocalObjectStore

store = LocalObjectStore(Path(sys.argv[1]))

def pieces():
    for i in range(10_000):
        yield bytes([i % 251]) * 65536
        if i == 20:
            print("writing", flush=True)
            sys.stdin.read()  # hold the write open until the parent kills us

store.put_stream(sys.argv[2], pieces())
"""


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _kill_mid_write(root: Path, key: str) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", _KILLED_WRITER, str(root), key],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stdin is not None
    try:
        assert proc.stdout.readline() == b"writing\n"
        temporaries = list(root.glob("acme/recording/.*.tmp"))
        assert len(temporaries) == 1 and temporaries[0].stat().st_size > 0  # mid-write
        assert _mode(temporaries[0]) == 0o600
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=10) == -signal.SIGKILL
    finally:
        proc.stdin.close()
        proc.stdout.close()


def test_modes(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "objects")
    store.put_stream(KEY, [b"sealed"])
    assert _mode(tmp_path / "objects") == 0o700
    assert _mode(tmp_path / "objects" / "acme") == 0o700
    assert _mode(tmp_path / "objects" / "acme" / "recording") == 0o700
    assert _mode(tmp_path / "objects" / "acme" / "recording" / "call-1") == 0o600


def test_sigkill_mid_write_keeps_previous_version(tmp_path: Path) -> None:
    root = tmp_path / "objects"
    store = LocalObjectStore(root)
    previous = os.urandom(100_000)
    store.put_stream(KEY, [previous])
    _kill_mid_write(root, KEY)
    assert b"".join(store.get_stream(KEY)) == previous
    assert store.stat(KEY).size == len(previous)
    assert list(store.list()) == [KEY]  # the leftover temporary is never an object
    assert store.remove_stale_temporaries(older_than_seconds=3600) == 0  # too recent
    assert store.remove_stale_temporaries(older_than_seconds=-1) == 1
    assert sorted(p.name for p in (root / "acme" / "recording").iterdir()) == ["call-1"]


def test_sigkill_mid_first_write_leaves_nothing(tmp_path: Path) -> None:
    root = tmp_path / "objects"
    store = LocalObjectStore(root)
    _kill_mid_write(root, KEY)
    assert not store.exists(KEY)
    with pytest.raises(ObjectNotFound):
        store.open_reader(KEY)
    assert list(store.list()) == []


def test_concurrent_writers_never_tear(local_store: LocalObjectStore) -> None:
    versions = {bytes([n]) * 200_000 + os.urandom(16) for n in range(8)}
    digests = {hashlib.sha256(v).hexdigest() for v in versions}
    local_store.put_stream(KEY, [next(iter(versions))])
    seen: set[str] = set()
    stop = threading.Event()
    errors: list[BaseException] = []

    def write(version: bytes) -> None:
        try:
            for _ in range(5):
                half = len(version) // 2
                local_store.put_stream(KEY, iter([version[:half], version[half:]]))
        except BaseException as exc:
            errors.append(exc)

    def read() -> None:
        while not stop.is_set():
            seen.add(hashlib.sha256(b"".join(local_store.get_stream(KEY))).hexdigest())

    reader = threading.Thread(target=read)
    reader.start()
    writers = [threading.Thread(target=write, args=(v,)) for v in versions]
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join()
    stop.set()
    reader.join()
    assert not errors
    assert seen and seen <= digests  # every read saw one complete version
    assert hashlib.sha256(b"".join(local_store.get_stream(KEY))).hexdigest() in digests
    assert [p.name for p in local_store.root.joinpath("acme", "recording").iterdir()] == ["call-1"]


def test_open_reader_pins_the_version_it_opened(local_store: LocalObjectStore) -> None:
    local_store.put_stream(KEY, [b"A" * 1000])
    with local_store.open_reader(KEY) as reader:
        local_store.put_stream(KEY, [b"B" * 1000])
        assert reader.read_at(0, 1000) == b"A" * 1000  # never a splice of two versions
    assert b"".join(local_store.get_stream(KEY)) == b"B" * 1000


def test_reader_exposes_its_descriptor_for_pread(local_store: LocalObjectStore) -> None:
    local_store.put_stream(KEY, [b"0123456789"])
    with local_store.open_reader(KEY) as reader:
        assert os.pread(reader.fileno(), 3, 4) == b"456"


def test_symlink_in_place_of_an_object_is_refused(
    local_store: LocalObjectStore, tmp_path: Path
) -> None:
    secret = tmp_path / "elsewhere"
    secret.write_bytes(b"not an object")
    local_store.put_stream(KEY, [b"sealed"])
    target = local_store.root / "acme" / "recording" / "call-1"
    target.unlink()
    target.symlink_to(secret)
    with pytest.raises(ObjectStoreError):
        local_store.open_reader(KEY)
    with pytest.raises(ObjectStoreError):
        local_store.stat(KEY)
    assert KEY not in list(local_store.list())
    local_store.put_stream(KEY, [b"new"])  # replaces the link itself, not its target
    assert secret.read_bytes() == b"not an object"
    assert not target.is_symlink()


@pytest.mark.parametrize("mode", [0o777, 0o770, 0o702])
def test_root_writable_by_others_is_refused(tmp_path: Path, mode: int) -> None:
    root = tmp_path / "objects"
    root.mkdir()
    root.chmod(mode)
    with pytest.raises(ObjectStoreError, match="writable by group or others"):
        LocalObjectStore(root)


def test_root_that_is_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "objects").write_bytes(b"")
    with pytest.raises(ObjectStoreError):
        LocalObjectStore(tmp_path / "objects")


_FULL_DISK_WRITER = """
import resource, signal, sys
from pathlib import Path
from callvault.storage.objects import LocalObjectStore, ObjectStoreError

signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG
resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20))
try:
    LocalObjectStore(Path(sys.argv[1])).put_stream(sys.argv[2], [bytes(1 << 21)])
except ObjectStoreError as exc:
    print("ObjectStoreError", exc)
"""


def test_write_failure_is_a_store_error_and_commits_nothing(
    local_store: LocalObjectStore,
) -> None:
    # A full disk, simulated with a file-size limit (effective even for root).
    local_store.put_stream(KEY, [b"previous"])
    result = subprocess.run(
        [sys.executable, "-c", _FULL_DISK_WRITER, str(local_store.root), KEY],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert result.stdout.startswith("ObjectStoreError cannot store")
    assert b"".join(local_store.get_stream(KEY)) == b"previous"
    assert [p.name for p in local_store.root.joinpath("acme", "recording").iterdir()] == ["call-1"]


def test_blocked_directory_is_a_store_error(local_store: LocalObjectStore) -> None:
    (local_store.root / "globex").write_bytes(b"")  # a file where a tenant directory goes
    with pytest.raises(ObjectStoreError):
        local_store.put_stream("globex/recording/x", [b"sealed"])
