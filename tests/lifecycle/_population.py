"""A home full of call data written through the real API classes, and what to check on it.

Loaded by path (the test tree is not a package) from this directory's conftest and from
tests/cli. ``populate`` writes recordings with and without a subject (each with its
sidecar), transcripts, and analytics rows with and without a caller, for both tenants;
``open_all`` opens every one of them again and compares byte for byte; ``sealed_values``
lists every stored sealed value with its parsed header, for version and body checks.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from callvault import Vault
from callvault.api._analytics import Analytics
from callvault.api._recordings import ProcessClaims, Recordings
from callvault.api._schemas import AnalyticsCreate, TranscriptCreate
from callvault.api._transcripts import Transcripts, split_subject_frame
from callvault.envelope import header_of
from callvault.format import Header
from callvault.storage.objects import ObjectStore
from callvault.storage.records import RecordStore, SealedTable

TENANTS = ("acme", "globex")
MAX_BYTES = 8 * 1024 * 1024


@dataclass
class Population:
    recordings: dict[tuple[str, str], bytes] = field(default_factory=dict)
    transcripts: dict[tuple[str, str], str] = field(default_factory=dict)
    analytics: dict[tuple[str, str], str | None] = field(default_factory=dict)


def populate(
    vault: Vault,
    objects: ObjectStore,
    records: RecordStore,
    *,
    per_tenant: int = 3,
    big: bool = True,
    tag: str = "r",
) -> Population:
    out = Population()
    recordings = Recordings(vault, objects, MAX_BYTES, ProcessClaims())
    transcripts, analytics = Transcripts(vault, records), Analytics(vault, records)
    for tenant in TENANTS:
        for i in range(per_tenant):
            subject = f"+1555000{i:04d}" if i % 2 == 0 else None
            size = 1_300_000 if big and i == 0 else 20_000 + 7 * i  # one > 1 MiB: 2 pieces
            audio = os.urandom(size)
            rid = f"{tag}{i}"
            recordings.put(tenant, rid, subject, [audio[:5000], audio[5000:]])
            out.recordings[(tenant, rid)] = audio
            caller = f"+1555100{i:04d}"
            text = f"transcript {tenant} {i}"
            tid = transcripts.add(
                tenant,
                TranscriptCreate(call_id=f"c{i}", caller=caller, text=text, member_number="M-1"),
            )
            out.transcripts[(tenant, tid)] = text
            notes = f"notes {tenant} {i}"
            aid = analytics.add(
                tenant,
                AnalyticsCreate(
                    call_id=f"c{i}",
                    caller=caller if i % 2 else None,
                    duration_seconds=10.0 + i,
                    notes=notes,
                ),
            )
            out.analytics[(tenant, aid)] = notes
    return out


def open_all(vault: Vault, objects: ObjectStore, records: RecordStore, pop: Population) -> None:
    """Open everything in ``pop`` with a fresh cache and compare it byte for byte."""
    vault.cache.clear()
    recordings = Recordings(vault, objects, MAX_BYTES, ProcessClaims())
    for (tenant, rid), audio in pop.recordings.items():
        opened = recordings.open(tenant, rid)
        assert b"".join(opened.iter_plaintext(0, opened.length - 1)) == audio
    transcripts, analytics = Transcripts(vault, records), Analytics(vault, records)
    for (tenant, tid), text in pop.transcripts.items():
        view = transcripts.get(tenant, tid, sensitive=True)
        assert view.text == text and view.member_number == "M-1"
    for (tenant, aid), notes in pop.analytics.items():
        assert analytics.get(tenant, aid).notes == notes


@dataclass(frozen=True)
class Sealed:
    label: str
    header: Header
    body: bytes  # everything after the header


def sealed_values(objects: ObjectStore, records: RecordStore) -> dict[str, Sealed]:
    """Every sealed value in the stores, by a stable label."""
    found: dict[str, Sealed] = {}

    def add(label: str, value: bytes) -> None:
        header = header_of(value)
        found[label] = Sealed(label, header, value[len(header.encode()) :])

    for tenant in TENANTS:
        for key in objects.list(tenant):
            add(f"object {key}", b"".join(objects.get_stream(key)))
        for table in SealedTable:
            for page in records.iter_sealed(tenant, table):
                for record_id, blob in page:
                    part, document = split_subject_frame(blob)
                    add(f"{table} {tenant}/{record_id} subject-part", part)
                    add(f"{table} {tenant}/{record_id} document", document)
    return found


def master_wrapped(values: dict[str, Sealed]) -> dict[str, Sealed]:
    return {k: v for k, v in values.items() if not v.header.subject_key_id}


def managed_versions(vault: Vault) -> dict[str, Any]:
    from callvault.keys import ManagedKeyStore

    store = ManagedKeyStore(vault.home / "keys" / "managed.json")
    return {r.name: r.wrapped for r in store.live_records()}
