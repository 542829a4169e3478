"""Every kind of tampering with the audit log is detected by ``verify``, at the right entry."""

from __future__ import annotations

import base64
import struct
from collections.abc import Callable

import pytest

from callvault.audit import AuditEntry, AuditLog, verify_log
from callvault.audit._store import read_frames
from callvault.errors import AuditUnavailable, ConfigError

N = 8


def _frames(log: AuditLog) -> list[bytes]:
    return read_frames(log.store.log_path.read_bytes()).payloads


def _write(log: AuditLog, payloads: list[bytes], *, reindex: bool = True) -> None:
    log.store.log_path.write_bytes(b"".join(struct.pack(">I", len(p)) + p for p in payloads))
    if reindex:  # a careful attacker rebuilds the cache too, so only the log itself speaks
        log.store.index_path.unlink()
        log.store.recover()


def _kinds_at(log: AuditLog) -> dict[int | None, set[str]]:
    report = verify_log(log)
    assert not report.ok
    found: dict[int | None, set[str]] = {}
    for f in report.findings:
        found.setdefault(f.index, set()).add(f.kind)
    return found


@pytest.fixture
def full(audit_log: AuditLog, fill: Callable[[AuditLog, int], None]) -> AuditLog:
    fill(audit_log, N)
    assert verify_log(audit_log).ok
    return audit_log


def test_a_flipped_byte_is_found_at_its_entry(full: AuditLog) -> None:
    payloads = _frames(full)
    payloads[3] = payloads[3][:-5] + bytes([payloads[3][-5] ^ 1]) + payloads[3][-4:]
    _write(full, payloads)
    assert _kinds_at(full) == {3: {"modified"}}
    assert verify_log(full).first_bad_index() == 3


def test_a_flipped_byte_is_also_seen_by_the_index(full: AuditLog) -> None:
    payloads = _frames(full)
    payloads[5] = payloads[5][:20] + bytes([payloads[5][20] ^ 1]) + payloads[5][21:]
    _write(full, payloads, reindex=False)
    assert _kinds_at(full) == {5: {"modified", "index"}}


def test_an_inserted_forgery_is_found(full: AuditLog) -> None:
    payloads = _frames(full)
    forged = struct.pack(">Q", 4) + bytes(12) + b"forged entry, no key" + bytes(16)
    _write(full, [*payloads[:4], forged, *payloads[4:]])
    found = _kinds_at(full)
    assert found[4] == {"modified"}
    assert all(found[i] == {"sequence"} for i in range(5, N + 1))


def test_a_replayed_entry_is_found(full: AuditLog) -> None:
    payloads = _frames(full)
    _write(full, [*payloads[:6], payloads[2], *payloads[6:]])
    assert min(_kinds_at(full)) == 6


def test_a_deleted_entry_is_found(full: AuditLog) -> None:
    payloads = _frames(full)
    _write(full, payloads[:2] + payloads[3:])
    found = _kinds_at(full)
    assert min(found) == 2 and found[2] == {"sequence"}


def test_swapped_entries_are_found(full: AuditLog) -> None:
    payloads = _frames(full)
    payloads[1], payloads[6] = payloads[6], payloads[1]
    _write(full, payloads)
    assert _kinds_at(full) == {1: {"sequence"}, 6: {"sequence"}}


def test_swapped_entries_with_renumbered_frames_are_found(full: AuditLog) -> None:
    payloads = _frames(full)
    a, b = payloads[1], payloads[6]
    payloads[1] = struct.pack(">Q", 1) + b[8:]
    payloads[6] = struct.pack(">Q", 6) + a[8:]
    _write(full, payloads)
    assert _kinds_at(full) == {1: {"modified"}, 6: {"modified"}}


def test_truncation_after_a_checkpoint_is_found(
    full: AuditLog, fill: Callable[[AuditLog, int], None]
) -> None:
    full.checkpoint()  # signed at size 8
    fill(full, 2)
    _write(full, _frames(full)[:5])  # drop entries 5..9, index rebuilt to match
    found = _kinds_at(full)
    assert found == {5: {"truncated"}}


def test_truncation_without_rebuilding_the_index_is_found_and_appends_stop(
    full: AuditLog, entry: Callable[..., AuditEntry]
) -> None:
    _write(full, _frames(full)[:6], reindex=False)
    assert _kinds_at(full) == {6: {"truncated"}}
    with pytest.raises(AuditUnavailable, match="truncated") as refused:
        full.append(entry(99))
    assert isinstance(refused.value.__cause__, ConfigError)


def test_a_rewritten_prefix_breaks_consistency_with_the_checkpoint(full: AuditLog) -> None:
    full.checkpoint()
    payloads = _frames(full)
    payloads[2] = payloads[2][:-1] + bytes([payloads[2][-1] ^ 0x80])
    _write(full, payloads)
    report = verify_log(full)
    kinds = {(f.kind, f.index) for f in report.findings}
    assert ("modified", 2) in kinds and ("checkpoint", 2) in kinds


def test_a_forged_checkpoint_is_rejected(full: AuditLog) -> None:
    _, note = full.checkpoint()
    path = full.checkpoint_dir / f"{N:016d}.note"
    lines = note.split("\n")
    lines[1] = str(N + 5)  # claims a bigger tree: signature no longer verifies
    path.write_text("\n".join(lines))
    assert _kinds_at(full) == {None: {"checkpoint"}}


def test_a_substituted_checkpoint_key_is_refused(full: AuditLog) -> None:
    meta = full.keys._path
    text = meta.read_text()
    pub = full.keys._meta["signing"]["public_key"]
    other = base64.b64encode(bytes(31) + b"\x01").decode()
    meta.write_text(text.replace(pub, other))
    with pytest.raises(ConfigError):
        verify_log(AuditLog(full.store.directory.parent, full.keys._provider))


def test_a_deleted_metadata_file_is_not_silently_replaced(full: AuditLog) -> None:
    full.keys._path.unlink()
    with pytest.raises(ConfigError, match="missing"):
        AuditLog(full.store.directory.parent, full.keys._provider)
