"""The order in which a rewrap visits everything stored: streams, and batches within them.

A run is a fixed sequence of *streams*: ``managed`` (the managed key records of the
tenants in scope), then per tenant ``objects:<t>``, ``transcripts:<t>`` and
``analytics:<t>``. Within a stream, items come in a stable order by key (record name,
object key, row id), so "the last item of the last completed batch" is a resumable cursor.
Streams are sized up front (a listing, a ``COUNT``) for the progress bar.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from callvault.keys import ManagedKeyStore
from callvault.storage.objects import ObjectStore
from callvault.storage.records import RecordStore, SealedTable

__all__ = ["Kind", "Stream", "plan_streams", "stream_batches"]


class Kind(StrEnum):
    MANAGED = "managed"
    OBJECTS = "objects"
    TRANSCRIPTS = "transcripts"
    ANALYTICS = "analytics"


@dataclass(frozen=True, slots=True)
class Stream:
    kind: Kind
    tenant: str | None
    size: int
    keys: tuple[Any, ...] = ()
    """What the stream walks when it is known up front (managed records, object keys)."""

    @property
    def name(self) -> str:
        return self.kind.value if self.tenant is None else f"{self.kind.value}:{self.tenant}"


def plan_streams(
    tenants: list[str],
    managed: ManagedKeyStore,
    objects: ObjectStore | None,
    records: RecordStore | None,
) -> list[Stream]:
    """The streams of one run over ``tenants`` (sorted), each with its size."""
    records_in_scope = [r for r in managed.live_records() if r.name.split("/", 1)[0] in tenants]
    streams = [Stream(Kind.MANAGED, None, len(records_in_scope), tuple(records_in_scope))]
    for tenant in sorted(tenants):
        if objects is not None:
            keys = tuple(objects.list(tenant))
            streams.append(Stream(Kind.OBJECTS, tenant, len(keys), keys))
        if records is not None:
            for kind, table in (
                (Kind.TRANSCRIPTS, SealedTable.TRANSCRIPTS),
                (Kind.ANALYTICS, SealedTable.ANALYTICS),
            ):
                streams.append(Stream(kind, tenant, records.count_sealed(tenant, table)))
    return streams


def _key_of(kind: Kind, item: Any) -> str:
    if kind is Kind.MANAGED:
        return str(item.name)
    if kind is Kind.OBJECTS:
        return str(item)
    return str(item[0])


def stream_batches(
    stream: Stream, records: RecordStore | None, after: str, size: int
) -> Iterator[tuple[str, list[Any]]]:
    """``(cursor, items)`` batches of ``stream`` strictly after ``after``; ``cursor`` is the
    key of the batch's last item (what a checkpoint stores)."""
    if stream.kind in (Kind.TRANSCRIPTS, Kind.ANALYTICS):
        assert records is not None and stream.tenant is not None
        table = SealedTable(stream.kind.value)
        for page in records.iter_sealed(stream.tenant, table, after=after, page=size):
            yield page[-1][0], page
        return
    pending = [item for item in stream.keys if _key_of(stream.kind, item) > after]
    for start in range(0, len(pending), size):
        batch = pending[start : start + size]
        yield _key_of(stream.kind, batch[-1]), batch
