"""A rewrap cut short (a crash inside a batch, after some writes and before the checkpoint)
resumes, loses nothing and wraps nothing twice."""

from __future__ import annotations

import json
from collections import Counter
from types import ModuleType
from typing import Any

import pytest

from callvault.lifecycle import STATE_FILE, RewrapInProgress, rewrap
from callvault.lifecycle._state import job_lock
from callvault.storage.objects import ObjectInfo, ObjectStore


class Crash(BaseException):
    """Stands for the process dying: not an Exception, so nothing may swallow it."""


class CrashingStore:
    """The real store, dying right after its ``after``-th completed write."""

    def __init__(self, inner: ObjectStore, after: int) -> None:
        self._inner, self._left = inner, after

    def put_stream(self, key: str, chunks: Any) -> ObjectInfo:
        info = self._inner.put_stream(key, chunks)
        self._left -= 1
        if self._left == 0:
            raise Crash
        return info

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def _wraps_per_item(events: list[Any]) -> Counter[tuple[str | None, str | None]]:
    return Counter((e.tenant, e.object_id) for e in events if e.operation == "wrap")


def test_crash_inside_a_batch_then_resume(
    sqlite_stores: Any, kit: ModuleType, events_vault: Any
) -> None:
    vault, objects, records = sqlite_stores.vault, sqlite_stores.objects, sqlite_stores.records
    pop = kit.populate(vault, objects, records, per_tenant=4, big=False)
    before = kit.master_wrapped(kit.sealed_values(objects, records))
    managed = kit.managed_versions(vault)
    vault.rotate_key("acme")
    vault.rotate_key("globex")
    counted, sink = events_vault(vault)

    # Batches of 3: the managed stream checkpoints, then the crash lands on the 5th object
    # write, in the middle of the second objects batch (its first item already rewritten).
    with pytest.raises(Crash):
        rewrap(counted, CrashingStore(objects, after=5), records, batch=3)
    state = json.loads((vault.home / STATE_FILE).read_bytes())
    assert state["stream"] == "objects:acme" and state["after"]
    first_run = list(sink.events)

    resumed = rewrap(counted, objects, records, batch=3)
    assert resumed.resumed and resumed.failed == 0 and resumed.conflicts == 0
    assert not (vault.home / STATE_FILE).exists()  # a completed run clears its checkpoint
    # Counts carried over from the checkpoint plus the rest: every value exactly once.
    assert resumed.rewrapped + resumed.already_current == len(before) + len(managed)
    assert resumed.rewrapped == len(before) + len(managed) - 1  # the cut-short write: current

    # The KMS wrapped each value once across both runs, never twice.
    wraps = _wraps_per_item(sink.events)
    assert sum(wraps.values()) == len(before) + len(managed)
    object_wraps = {k: n for k, n in wraps.items() if k[1] is not None}
    assert set(object_wraps.values()) == {1}
    # ... and the second run never unwrapped what the first had finished.
    second_run = sink.events[len(first_run) :]
    done_first = {(e.tenant, e.object_id) for e in first_run if e.operation == "wrap"}
    assert not {(e.tenant, e.object_id) for e in second_run if e.object_id} & done_first

    after = kit.sealed_values(objects, records)
    assert {v.header.key_ref.version for v in kit.master_wrapped(after).values()} == {2}
    assert {w.version for w in kit.managed_versions(vault).values()} == {2}
    kit.open_all(vault, objects, records, pop)


def test_checkpoint_of_another_rotation_is_not_trusted(sqlite_stores: Any, kit: ModuleType) -> None:
    vault, objects, records = sqlite_stores.vault, sqlite_stores.objects, sqlite_stores.records
    kit.populate(vault, objects, records, per_tenant=2, big=False)
    vault.rotate_key("acme")
    with pytest.raises(Crash):
        rewrap(vault, CrashingStore(objects, after=2), records, batch=2)
    vault.rotate_key("acme")  # v3: what the checkpoint skipped is behind again
    report = rewrap(vault, objects, records, batch=2)
    assert not report.resumed
    versions = {
        v.header.key_ref.version
        for k, v in kit.master_wrapped(kit.sealed_values(objects, records)).items()
        if "acme" in k
    }
    assert versions == {3}


def test_one_job_per_home(sqlite_stores: Any) -> None:
    vault = sqlite_stores.vault
    with job_lock(vault.home), pytest.raises(RewrapInProgress):
        rewrap(vault, sqlite_stores.objects, sqlite_stores.records)
    # A dry run takes no lock: it may run beside a job.
    with job_lock(vault.home):
        assert rewrap(vault, sqlite_stores.objects, sqlite_stores.records, dry_run=True)
