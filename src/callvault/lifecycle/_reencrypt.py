"""Re-encrypting the values a revoked master-key version exposes: fresh DEKs, same plaintext.

A value is *exposed* when the leaked version can recover its DEK:

* its header names the revoked key at the revoked version (the KMS wraps its DEK), or
* a subject key wraps its DEK and that subject key is being re-keyed (its managed record
  was once wrapped under the revoked version) and still opens it.

Each exposed value is opened and sealed again under the same context: ``seal`` makes a
fresh DEK, wrapped under the class's primary version, or under the subject's *pending*
key (the hierarchy prefers a pending key when one exists). Objects are streamed (opened
and sealed piece by piece, constant memory) and replaced with ``put_stream``; rows are
replaced with ``replace_sealed_many`` (compare-and-swap: a row changed meanwhile is a
conflict, left alone). A transcript's field-level seals inside its document are subject
values too: they are re-encrypted with the document, in the same row write.

Idempotent: a value re-encrypted already is no longer exposed (new version, or it opens
only with the pending key), so a rerun after a crash skips it.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

from callvault._ids import DataClass
from callvault._vault import Vault
from callvault.api._transcripts import SENSITIVE_FIELDS, join_subject_frame, split_subject_frame
from callvault.envelope import header_of, open_iter, seal_iter
from callvault.errors import CallvaultError, OpenError, ProviderUnreachable
from callvault.format import Header, ObjectContext
from callvault.keys._managed import ManagedKeyRecord
from callvault.lifecycle._apply import _body, _read_header
from callvault.lifecycle._report import RewrapReport
from callvault.storage.objects import ObjectNotFound, ObjectStore, ObjectStoreError, split_key
from callvault.storage.records import RecordStore, SealedTable

__all__ = ["Reencryptor"]

_TABLES = (
    (SealedTable.TRANSCRIPTS, DataClass.TRANSCRIPT),
    (SealedTable.ANALYTICS, DataClass.ANALYTICS),
)


class Reencryptor:
    """Finds and (unless ``report.dry_run``) re-encrypts one tenant's exposed values.

    ``subjects`` maps ``(data class, blind id)`` to the subject key being replaced. Counts
    go to ``report``, per sealed value (an object, a row's subject part, a row's document;
    a transcript's field-level seals travel with their document, uncounted): ``pending``
    (exposed, found), ``rewrapped`` (here: re-encrypted), ``conflicts``, ``failed``."""

    def __init__(
        self,
        vault: Vault,
        tenant: str,
        key_id: str,
        version: int,
        subjects: dict[tuple[DataClass, bytes], ManagedKeyRecord],
        report: RewrapReport,
    ) -> None:
        self._vault, self._tenant, self._key_id, self._version = vault, tenant, key_id, version
        self._subjects, self.report = subjects, report

    def _exposed(self, header: Header, context: ObjectContext) -> bool:
        if not header.subject_key_id:
            ref = header.key_ref
            return (
                ref.key_id == self._key_id
                and ref.version == self._version
                and self._vault.keys.provider_for(ref.provider) is self._vault.provider
            )
        old = self._subjects.get((context.data_class, header.subject_key_id))
        return old is not None and self._vault.keys.opens_with(old, header, context)

    def _reseal(self, context: ObjectContext, sealed: bytes) -> bytes:
        keys = self._vault.keys
        return b"".join(seal_iter(keys, context, open_iter(keys, context, [sealed])))

    # -- objects ----------------------------------------------------------------------------

    def objects(self, store: ObjectStore) -> None:
        for key in store.list(self._tenant):
            try:
                self._object(store, key)
            except (ProviderUnreachable, ObjectStoreError):
                raise
            except CallvaultError as exc:
                self.report.fail(f"object {key}", exc)

    def _object(self, store: ObjectStore, key: str) -> None:
        tenant, data_class, object_id = split_key(key)
        try:
            reader = store.open_reader(key)
        except ObjectNotFound:
            return
        with reader:
            header_bytes = _read_header(reader)
            header = header_of(header_bytes)
            subject = None
            if header.subject_key_id:
                if (data_class, header.subject_key_id) not in self._subjects:
                    return
                subject = self._sidecar_subject(store, tenant, object_id)
            context = self._vault.context(tenant, data_class, object_id, subject)
            self.report.examined += 1
            if not self._exposed(header, context):
                return
            self.report.pending += 1
            if self.report.dry_run:
                return
            if store.stat(key).size != reader.size:
                self.report.conflicts += 1
                return
            keys = self._vault.keys
            chunks = _with_header(header_bytes, _body(reader, len(header_bytes)))
            store.put_stream(key, seal_iter(keys, context, open_iter(keys, context, chunks)))
            self.report.rewrapped += 1

    def _sidecar_subject(self, store: ObjectStore, tenant: str, object_id: str) -> str:
        """A recording's subject, from its sidecar (``Recordings`` writes it first)."""
        meta_key = f"{tenant}/{DataClass.RECORDING.value}/{object_id}:meta"
        context = self._vault.context(tenant, DataClass.RECORDING, f"{object_id}:meta")
        meta = json.loads(self._vault.open(context, b"".join(store.get_stream(meta_key))))
        subject = meta.get("subject")
        if not isinstance(subject, str):
            raise OpenError
        return subject

    # -- rows -------------------------------------------------------------------------------

    def rows(self, records: RecordStore) -> None:
        for table, data_class in _TABLES:
            for page in records.iter_sealed(self._tenant, table):
                changes = []
                for record_id, blob in page:
                    try:
                        new = self._row(data_class, record_id, blob)
                    except ProviderUnreachable:
                        raise
                    except (CallvaultError, ValueError, KeyError, TypeError) as exc:
                        self.report.fail(f"{table.value} {self._tenant}/{record_id}", exc)
                        continue
                    if new is not None:
                        changes.append((record_id, blob, new[0], new[1]))
                if changes and not self.report.dry_run:
                    rows = [c[:3] for c in changes]
                    done = set(records.replace_sealed_many(self._tenant, table, rows))
                    for record_id, _old, _new, parts in changes:
                        if record_id in done:
                            self.report.rewrapped += parts
                        else:
                            self.report.conflicts += parts

    def _row(self, data_class: DataClass, record_id: str, blob: bytes) -> tuple[bytes, int] | None:
        """The row's new value and how many of its two parts changed, or ``None``."""
        part, document = split_subject_frame(blob)
        meta = self._vault.context(self._tenant, data_class, f"{record_id}:meta")
        self.report.examined += 2
        new_part = part
        if self._exposed(header_of(part), meta):
            new_part = part if self.report.dry_run else self._reseal(meta, part)
            self.report.pending += 1
        header, subject = header_of(document), None
        if header.subject_key_id:
            if (data_class, header.subject_key_id) not in self._subjects:
                return None if new_part is part else (join_subject_frame(new_part, document), 1)
            subject = json.loads(self._vault.open(meta, part))["subject"]
        context = self._vault.context(self._tenant, data_class, record_id, subject)
        new_document = document
        if self._exposed(header, context):
            self.report.pending += 1
            if not self.report.dry_run:
                new_document = self._reseal_document(context, subject, document)
        parts = (new_part is not part) + (new_document is not document)
        return (join_subject_frame(new_part, new_document), parts) if parts else None

    def _reseal_document(self, context: ObjectContext, subject: str | None, sealed: bytes) -> bytes:
        plaintext = b"".join(open_iter(self._vault.keys, context, [sealed]))
        if context.data_class is DataClass.TRANSCRIPT and subject is not None:
            plaintext = self._reseal_fields(context, subject, plaintext)
        return b"".join(seal_iter(self._vault.keys, context, [plaintext]))

    def _reseal_fields(self, context: ObjectContext, subject: str, plaintext: bytes) -> bytes:
        """A transcript's field-level seals, each re-encrypted (they share the subject key)."""
        document: dict[str, Any] = json.loads(plaintext)
        for name, value in list(document["sealed"].items()):
            if name not in SENSITIVE_FIELDS:
                raise OpenError
            field = self._vault.context(
                context.tenant, DataClass.TRANSCRIPT, f"{context.object_id}:{name}", subject
            )
            old = base64.b64decode(value, validate=True)
            document["sealed"][name] = base64.b64encode(self._reseal(field, old)).decode()
        return json.dumps(document).encode()


def _with_header(header: bytes, body: Iterator[bytes]) -> Iterator[bytes]:
    yield header
    yield from body
