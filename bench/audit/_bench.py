"""Durable audit appends: entries/s, against what the disk allows in the same run.

One throw-away home (dev, local KMS), its audit log with automatic checkpoints off (they
are timed separately). The entry is a realistic data-access entry: ``recording.read`` by
``service:acme`` with key id and version, object id, a subject given as
``subject=(tenant, caller)`` (so the tenant's HMAC is computed per append) and two detail
fields. Every append is durable when it returns (``fsync``), so the rate is bounded by the
disk's fsync rate; the **baseline** is that bound measured in the same directory: the same
number of frames of the same size written with ``os.write`` + ``os.fsync`` to a file opened
``O_APPEND``. Both are measured single-threaded and with 8 threads (the baseline's threads
share one file, as the log's appends do); the figure is the ratio to the baseline.

Then, at the log size reached: signing a checkpoint (tree root over every leaf, Ed25519
signed note, atomic file write) and computing an inclusion proof for the middle entry; each
the median of a few runs.
"""

from __future__ import annotations

import os
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from callvault import Vault
from callvault.audit import AuditEntry, AuditLog, AuditPolicy, verify_inclusion

__all__ = [
    "AUDIT_FULL",
    "AUDIT_QUICK",
    "THREADS",
    "AuditPlan",
    "audit_targets",
    "bench_audit",
    "print_audit",
]

THREADS = 8
BATCHING_TARGET = 2.0
"""Target: under 8 concurrent appenders, one fsync makes at least 2 entries durable (group
commit works). The rates against bare write+fsync are reported, not gated: a bare loop does
none of the per-entry work an audited action needs (HMAC, HKDF, AES-GCM, validation)."""


@dataclass(frozen=True)
class AuditPlan:
    name: str
    appends: int  # per measurement (single thread; split across the threads for 8)
    proof_reps: int


AUDIT_FULL = AuditPlan("full", 2000, 9)
AUDIT_QUICK = AuditPlan("quick", 200, 3)


def _entry(i: int) -> AuditEntry:
    return AuditEntry(
        time=datetime.now(UTC),
        actor="service:acme",
        action="recording.read",
        outcome="ok",
        tenant="acme",
        key_id="dev/acme/default",
        key_version=1,
        object_id=f"rec-2026-{i:08d}",
        detail={"bytes": "1048576", "range": "0-1048575"},
    )


def _threads(n: int, work: Callable[[int], None]) -> float:
    """Seconds for ``n`` appends, ``work(i)`` split across ``THREADS`` threads."""
    per = n // THREADS
    barrier = threading.Barrier(THREADS + 1)

    def run(t: int) -> None:
        barrier.wait()
        for i in range(t * per, (t + 1) * per):
            work(i)

    pool = [threading.Thread(target=run, args=(t,)) for t in range(THREADS)]
    for thread in pool:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in pool:
        thread.join()
    return time.perf_counter() - started


def _serial(n: int, work: Callable[[int], None]) -> float:
    started = time.perf_counter()
    for i in range(n):
        work(i)
    return time.perf_counter() - started


def _baseline(directory: Path, frame: bytes, n: int, threaded: bool) -> float:
    path = directory / f"baseline-{'mt' if threaded else 'st'}.bin"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    def write(_i: int) -> None:
        os.write(fd, frame)
        os.fsync(fd)

    try:
        return (_threads if threaded else _serial)(n, write)
    finally:
        os.close(fd)
        path.unlink()


def _median_seconds(reps: int, work: Callable[[], object]) -> float:
    samples = []
    for _ in range(reps):
        started = time.perf_counter()
        work()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def bench_audit(tmp: Path, *, quick: bool) -> dict[str, Any]:
    plan = AUDIT_QUICK if quick else AUDIT_FULL
    home = tmp / "audit-home"
    Vault.init_home(home)
    vault = Vault.open_home(home)
    vault.create_tenant("acme")
    log = AuditLog.for_vault(vault, AuditPolicy(checkpoint_every=0))
    subject = ("acme", "+15551234567")

    def append(i: int) -> None:
        log.append(_entry(i), subject=subject)

    append(0)  # unwrap the log key, create the files: not what is measured
    start_size, start_bytes = log.size(), log.store.log_path.stat().st_size
    n = plan.appends - plan.appends % THREADS
    single = _serial(n, append)
    frame_bytes = (log.store.log_path.stat().st_size - start_bytes) // (log.size() - start_size)
    frame = os.urandom(frame_bytes)
    single_base = _baseline(log.store.directory, frame, n, threaded=False)
    batches = log.store.batches
    multi = _threads(n, append)
    batches = log.store.batches - batches
    multi_base = _baseline(log.store.directory, frame, n, threaded=True)

    size = log.size()
    checkpoint = _median_seconds(plan.proof_reps, log.checkpoint)
    middle = size // 2
    proof: list[bytes] = []

    def prove() -> None:
        proof[:] = log.inclusion_proof(middle, size)

    inclusion = _median_seconds(plan.proof_reps, prove)
    leaves = log.leaf_hashes()
    if not verify_inclusion(leaves[middle], middle, size, proof, log.root(size)):
        raise RuntimeError("the inclusion proof does not verify")
    return {
        "plan": asdict(plan),
        "threads": THREADS,
        "frame_bytes": frame_bytes,
        "appends": n,
        "single_per_second": n / single,
        "single_baseline_per_second": n / single_base,
        "single_ratio": single_base / single,
        "threaded_per_second": n / multi,
        "threaded_baseline_per_second": n / multi_base,
        "threaded_ratio": multi_base / multi,
        "threaded_entries_per_fsync": n / batches,
        "log_size": size,
        "checkpoint_seconds": checkpoint,
        "inclusion_proof_seconds": inclusion,
        "proof_length": len(proof),
    }


def audit_targets(result: dict[str, Any]) -> list[dict[str, Any]]:
    batching = result["threaded_entries_per_fsync"]
    return [
        {
            "name": "audit: group commit under concurrent appends",
            "value": batching,
            "threshold": BATCHING_TARGET,
            "passed": batching >= BATCHING_TARGET,
            "text": f"audit durable appends: {THREADS} threads share one fsync between "
            f"{batching:.1f} entries (target >= {BATCHING_TARGET:.0f}); info: "
            f"{result['single_per_second']:,.0f}/s single thread = "
            f"{result['single_ratio']:.2f} x bare write+fsync of {result['frame_bytes']}-byte "
            f"frames, {THREADS} threads {result['threaded_per_second']:,.0f}/s = "
            f"{result['threaded_ratio']:.2f} x; checkpoint "
            f"{result['checkpoint_seconds'] * 1000:.1f} ms, inclusion proof "
            f"{result['inclusion_proof_seconds'] * 1000:.2f} ms at {result['log_size']:,} entries",
        }
    ]


def print_audit(console: Any, result: dict[str, Any]) -> None:
    from rich.table import Table

    table = Table(
        title=f"audit log, durable appends ({result['plan']['name']} plan, "
        f"{result['frame_bytes']}-byte frames)"
    )
    for column in ("measure", "audit log", "write+fsync baseline", "ratio"):
        table.add_column(column, justify="right")
    for label, key in (("1 thread", "single"), (f"{THREADS} threads", "threaded")):
        table.add_row(
            f"{label}, entries/s",
            f"{result[f'{key}_per_second']:,.0f}",
            f"{result[f'{key}_baseline_per_second']:,.0f}",
            f"{result[f'{key}_ratio']:.2f}",
        )
    table.add_row(
        f"{THREADS} threads, entries per fsync", f"{result['threaded_entries_per_fsync']:.1f}"
    )
    table.add_row(
        f"checkpoint at {result['log_size']:,}", f"{result['checkpoint_seconds'] * 1000:.1f} ms"
    )
    table.add_row(
        f"inclusion proof at {result['log_size']:,}",
        f"{result['inclusion_proof_seconds'] * 1000:.2f} ms",
    )
    console.print(table)
