"""``rewrap``: re-wrap every stored DEK and managed key under its master key's primary
version, in batches, resumable after a crash, without re-encrypting any body.

The job walks the streams of ``_walk`` in order, hands each batch to ``_apply.Rewrapper``
and, once the batch is written, saves a checkpoint (``_state``). A crash loses at most the
batch in progress; a rerun resumes after the last checkpoint and meets the cut-short batch
again, where every item already rewrapped is at the primary and is only counted. One job
per home at a time (a lock), and a dry run writes nothing at all (no lock, no checkpoint):
it counts the values per master-key version, which is what ``retire`` checks.

Progress goes to an observer callback (the CLI draws a bar from it): ``(advance, total)``
in items (records, objects, rows).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from callvault._ids import check_tenant_id
from callvault._vault import Vault
from callvault.keys import ManagedKeyStore
from callvault.lifecycle._apply import Rewrapper
from callvault.lifecycle._report import RewrapReport
from callvault.lifecycle._state import Checkpoint, job_lock
from callvault.lifecycle._walk import Kind, Stream, plan_streams, stream_batches
from callvault.storage.objects import ObjectStore
from callvault.storage.records import RecordStore, SealedTable

__all__ = ["DEFAULT_BATCH", "Observer", "rewrap"]

DEFAULT_BATCH = 500
Observer = Callable[[int, int], None]
"""``observer(advance, total)``: ``advance`` more items done out of ``total``."""


def managed_store(vault: Vault) -> ManagedKeyStore:
    return ManagedKeyStore(vault.home / "keys" / "managed.json")


def _primaries(vault: Vault, tenants: list[str]) -> dict[str, int]:
    """Primary versions of the master keys of ``tenants``: a checkpoint's validity."""
    prefixes = tuple(f"{vault.environment.value}/{t}/" for t in tenants)
    return {
        key.key_id: key.primary_version
        for key in vault.provider.list_keys()
        if key.key_id.startswith(prefixes)
    }


def rewrap(
    vault: Vault,
    objects: ObjectStore | None,
    records: RecordStore | None,
    *,
    tenant: str | None = None,
    batch: int = DEFAULT_BATCH,
    dry_run: bool = False,
    pause: float = 0.0,
    observer: Observer | None = None,
) -> RewrapReport:
    """Rewrap everything of ``tenant`` (default: every tenant) under the primary versions.

    ``objects`` / ``records`` may be ``None`` to leave that store out. ``pause`` sleeps
    between batches to spread the load on the KMS and the database. Raises
    ``RewrapInProgress`` if another job runs on this home, ``ProviderUnreachable`` and
    store errors as they come (after checkpointing what was completed).
    """
    if batch < 1:
        raise ValueError("batch must be >= 1")
    if tenant is not None:
        vault.tenants.get(check_tenant_id(tenant))
    tenants = [tenant] if tenant is not None else sorted(t.id for t in vault.tenants.list())
    report = RewrapReport(dry_run=dry_run)
    if dry_run:
        _run(vault, objects, records, tenants, report, batch, 0.0, observer, None)
        return report
    with job_lock(vault.home):
        scope, primaries = tenant or "*", _primaries(vault, tenants)
        checkpoint = Checkpoint.load(vault.home)
        if checkpoint is not None and checkpoint.applies_to(scope, primaries):
            report.add_counts(dict(checkpoint.counts))
            report.resumed = True
        else:
            checkpoint = Checkpoint(scope, primaries, "", "", {})
        _run(vault, objects, records, tenants, report, batch, pause, observer, checkpoint)
        Checkpoint.clear(vault.home)
    return report


def _run(
    vault: Vault,
    objects: ObjectStore | None,
    records: RecordStore | None,
    tenants: list[str],
    report: RewrapReport,
    batch: int,
    pause: float,
    observer: Observer | None,
    checkpoint: Checkpoint | None,
) -> None:
    managed = managed_store(vault)
    streams = plan_streams(tenants, managed, objects, records)
    total = sum(s.size for s in streams)
    names = [s.name for s in streams]
    resuming = checkpoint is not None and checkpoint.stream in names
    start = names.index(checkpoint.stream) if checkpoint is not None and resuming else 0
    if observer is not None and start:
        observer(sum(s.size for s in streams[:start]), total)
    worker = Rewrapper(vault, managed, objects, records, report)
    for index, stream in enumerate(streams[start:], start):
        after = checkpoint.after if checkpoint is not None and resuming and index == start else ""
        for cursor, items in stream_batches(stream, records, after, batch):
            _apply(worker, stream, items)
            if checkpoint is not None:
                checkpoint = Checkpoint(
                    checkpoint.scope, checkpoint.primaries, stream.name, cursor, report.counts()
                )
                checkpoint.save(vault.home)
            if observer is not None:
                observer(len(items), total)
            if pause:
                time.sleep(pause)


def _apply(worker: Rewrapper, stream: Stream, items: list[object]) -> None:
    if stream.kind is Kind.MANAGED:
        worker.managed(items)  # type: ignore[arg-type]
    elif stream.kind is Kind.OBJECTS:
        for key in items:
            worker.object(str(key))
    else:
        assert stream.tenant is not None
        worker.rows(stream.tenant, SealedTable(stream.kind.value), items)  # type: ignore[arg-type]
