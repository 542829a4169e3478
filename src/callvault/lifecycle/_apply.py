"""Rewrapping each kind of stored value: managed key records, objects, record rows.

Every value is checked before anything is asked of the KMS: a header a subject key wraps
is skipped (its subject's managed record carries the master-key version it depends on),
one already at the primary version is counted as current. Only values below the primary
are rewrapped, and each is written with a compare-and-swap where the store offers one:

* managed records: ``ManagedKeyStore.replace_many`` (one atomic file write per batch);
* rows: ``RecordStore.replace_sealed_many`` (one transaction per batch, ``WHERE sealed =
  old``): a row deleted or rewritten meanwhile is left alone and counted as a conflict;
* objects: ``put_stream`` of the new header followed by the old body, streamed from the
  object's reader in 1 MiB pieces (constant memory; on S3 the reader is pinned to the
  version it opened, so a concurrent replacement fails the copy instead of mixing two).
  Object stores offer no conditional put, so the object's size is re-checked right before
  the write; the window that remains is documented in docs/keys.md.

A KMS that does not answer (``ProviderUnreachable``) and a store that fails
(``ObjectStoreError``, database errors) abort the run: the batch in progress is not
checkpointed, so a rerun redoes it. Anything wrong with one value (malformed, foreign,
retired or destroyed key) is counted as failed and the walk goes on.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

from callvault._ids import DataClass
from callvault._vault import Vault
from callvault.api._transcripts import join_subject_frame, split_subject_frame
from callvault.envelope import header_of, rewrap_header
from callvault.errors import CallvaultError, ProviderUnreachable
from callvault.format import PREFIX_SIZE, ObjectContext, header_length
from callvault.keys import ManagedKeyStore, rewrap_managed
from callvault.keys._managed import ManagedKeyRecord
from callvault.lifecycle._report import RewrapReport
from callvault.storage.objects import (
    ObjectNotFound,
    ObjectReader,
    ObjectStore,
    ObjectStoreError,
    split_key,
)
from callvault.storage.objects._base import STREAM_BLOCK  # the stores' own 1 MiB piece
from callvault.storage.records import RecordStore, SealedTable

__all__ = ["Rewrapper"]

_CLASS_OF_TABLE = {
    SealedTable.TRANSCRIPTS: DataClass.TRANSCRIPT,
    SealedTable.ANALYTICS: DataClass.ANALYTICS,
}


class Rewrapper:
    """Applies (or, with ``dry_run``, only counts) the rewrap of values handed to it."""

    def __init__(
        self,
        vault: Vault,
        managed: ManagedKeyStore,
        objects: ObjectStore | None,
        records: RecordStore | None,
        report: RewrapReport,
    ) -> None:
        self._vault, self._managed, self._objects, self._records = vault, managed, objects, records
        self.report = report
        self._primaries: dict[tuple[str, str], int] = {}

    def primary(self, key_id: str, provider: str = "") -> int:
        """The primary version of ``key_id`` on ``provider`` (default: the configured one;
        else a customer-managed key's named provider), asked once per run."""
        if (found := self._primaries.get((provider, key_id))) is None:
            kms = self._vault.keys.provider_for(provider)
            found = kms.describe_key(key_id).primary_version
            self._primaries[(provider, key_id)] = found
        return found

    # -- managed key records ------------------------------------------------------------

    def managed(self, page: list[ManagedKeyRecord]) -> None:
        report, changes = self.report, []
        for record in page:
            report.examined += 1
            report.saw(record.kek_id, record.wrapped.version)
            try:
                primary = self.primary(record.kek_id, record.provider)
                if record.wrapped.version >= primary:
                    report.already_current += 1
                    continue
                report.pending += 1
                if report.dry_run:
                    continue
                kms = self._vault.keys.provider_for(record.provider)
                new = rewrap_managed(kms, record, primary)
            except ProviderUnreachable:
                raise
            except CallvaultError as exc:
                report.fail(f"managed {record.name}", exc)
                continue
            if new is None:
                report.already_current += 1
            else:
                changes.append((record, new.wrapped))
        replaced = self._managed.replace_many(changes)
        report.rewrapped += len(replaced)
        report.conflicts += len(changes) - len(replaced)

    # -- objects --------------------------------------------------------------------------

    def object(self, key: str) -> None:
        assert self._objects is not None
        report = self.report
        try:
            tenant, data_class, object_id = split_key(key)
            context = ObjectContext(tenant, self._vault.environment, data_class, object_id)
            reader = self._objects.open_reader(key)
        except ObjectNotFound:
            return  # deleted since it was listed: nothing left to rewrap
        except CallvaultError as exc:
            report.examined += 1
            report.fail(f"object {key}", exc)
            return
        with reader:
            report.examined += 1
            try:
                header_bytes = _read_header(reader)
            except ObjectStoreError:
                raise
            except CallvaultError as exc:
                report.fail(f"object {key}", exc)
                return
            new = self._header(header_bytes, context, f"object {key}")
            if new is None:
                return
            if self._objects.stat(key).size != reader.size:
                report.conflicts += 1  # rewritten since we opened it
                return
            body = _body(reader, len(header_bytes))
            self._objects.put_stream(key, itertools.chain([new], body))
            report.rewrapped += 1

    # -- record rows ------------------------------------------------------------------------

    def rows(self, tenant: str, table: SealedTable, page: list[tuple[str, bytes]]) -> None:
        report, changes = self.report, []
        data_class = _CLASS_OF_TABLE[table]
        environment = self._vault.environment
        for record_id, blob in page:
            label = f"{table.value} {tenant}/{record_id}"
            try:
                subject_part, document = split_subject_frame(blob)
            except CallvaultError as exc:
                report.examined += 1
                report.fail(label, exc)
                continue
            meta = ObjectContext(tenant, environment, data_class, record_id + ":meta")
            new_part = self._value(subject_part, meta, label)
            doc = ObjectContext(tenant, environment, data_class, record_id)
            new_document = self._value(document, doc, label)
            parts = (new_part is not None) + (new_document is not None)
            if parts:
                new = join_subject_frame(new_part or subject_part, new_document or document)
                changes.append((record_id, blob, new, parts))
        if not changes or self._records is None:
            return
        done = set(self._records.replace_sealed_many(tenant, table, [c[:3] for c in changes]))
        for record_id, _old, _new, parts in changes:
            if record_id in done:
                report.rewrapped += parts
            else:
                report.conflicts += parts

    # -- one sealed value -------------------------------------------------------------------

    def _value(self, sealed: bytes, context: ObjectContext, label: str) -> bytes | None:
        """``sealed`` with its header rewrapped, or ``None`` (nothing to do, or failed)."""
        self.report.examined += 1
        try:
            header = header_of(sealed).encode()  # canonical: the exact bytes stored
        except CallvaultError as exc:
            self.report.fail(label, exc)
            return None
        new = self._header(header, context, label)
        return None if new is None else new + sealed[len(header) :]

    def _header(self, header_bytes: bytes, context: ObjectContext, label: str) -> bytes | None:
        report = self.report
        try:
            header = header_of(header_bytes)
            if header.subject_key_id:
                report.subject_wrapped += 1
                return None
            ref = header.key_ref
            report.saw(ref.key_id, ref.version)
            primary = self.primary(ref.key_id, ref.provider)
            if ref.version >= primary:
                report.already_current += 1
                return None
            report.pending += 1
            if report.dry_run:
                return None
            new = rewrap_header(self._vault.keys, header_bytes, context, primary=primary)
        except ProviderUnreachable:
            raise
        except CallvaultError as exc:
            report.fail(label, exc)
            return None
        if new is None:
            report.already_current += 1
        return new


def _read_header(reader: ObjectReader) -> bytes:
    size = header_length(reader.read_at(0, PREFIX_SIZE))
    header = reader.read_at(0, size)
    header_of(header)  # parse now: a malformed header fails here, not after a KMS call
    return header


def _body(reader: ObjectReader, start: int) -> Iterator[bytes]:
    offset = start
    while offset < reader.size:
        piece = reader.read_at(offset, STREAM_BLOCK)
        if not piece:
            raise ObjectStoreError(f"{reader.key!r} ended early while being rewrapped")
        yield piece
        offset += len(piece)
