"""Finding and deleting a target's bytes in the object and records stores.

Only sealed bytes are handled here: nothing is decrypted. A subject's recordings are found
by the blind id in their *headers* (``subject_key_id``), which needs no key at all, so the
search works even after the subject's keys are gone (a resumed erasure). The recording
layout (object ``<id>`` plus sealed sidecar ``<id>:meta``, sidecar deleted first as the
commit marker) is the one ``api._recordings`` writes; this module repeats the two names
rather than importing the API layer.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from callvault._ids import DataClass
from callvault.erasure._model import RecordKind
from callvault.errors import InvalidRequest, OpenError
from callvault.format import PREFIX_SIZE, Header, header_length
from callvault.storage.objects import ObjectNotFound, ObjectStore, object_key
from callvault.storage.records import RecordNotFound, RecordStore

__all__ = ["Deleted", "TargetData"]

META = ":meta"


@dataclass(slots=True)
class Deleted:
    objects: int = 0
    transcripts: int = 0
    analytics: int = 0
    tenant_rows: int = 0
    """Rows of every table deleted by a tenant erasure (one statement per table)."""

    def as_json(self) -> dict[str, int]:
        return {
            "objects": self.objects,
            "transcripts": self.transcripts,
            "analytics": self.analytics,
            "tenant_rows": self.tenant_rows,
        }


class TargetData:
    def __init__(self, objects: ObjectStore, records: RecordStore | None) -> None:
        self._objects, self._records = objects, records

    # -- per record -------------------------------------------------------------------

    def record_kind(self, tenant: str, record_id: str) -> RecordKind:
        """Which store holds ``record_id``; ``InvalidRequest`` if none does."""
        with contextlib.suppress(InvalidRequest):
            if self._objects.exists(object_key(tenant, DataClass.RECORDING, record_id + META)):
                return RecordKind.RECORDING
        if self._records is not None:
            with contextlib.suppress(RecordNotFound, InvalidRequest):
                self._records.get_transcript(tenant, record_id)
                return RecordKind.TRANSCRIPT
            with contextlib.suppress(RecordNotFound, InvalidRequest):
                self._records.get_analytics(tenant, record_id)
                return RecordKind.ANALYTICS
        raise InvalidRequest(
            f"tenant {tenant} has no recording, transcript or analytics row {record_id}"
        )

    def delete_record(self, tenant: str, kind: RecordKind, record_id: str) -> Deleted:
        deleted = Deleted()
        if kind is RecordKind.RECORDING:
            deleted.objects = self._delete_recording(tenant, record_id)
        elif kind is RecordKind.TRANSCRIPT:
            deleted.transcripts = int(self._need_records().delete_transcript(tenant, record_id))
        else:
            deleted.analytics = int(self._need_records().delete_analytics(tenant, record_id))
        return deleted

    # -- per subject ------------------------------------------------------------------

    def subject_recordings(self, tenant: str, blind_id: bytes) -> list[str]:
        """Ids of the recordings whose header names ``blind_id`` as their subject."""
        found = []
        for key in self._objects.list(f"{tenant}/{DataClass.RECORDING.value}"):
            recording_id = key.rsplit("/", 1)[1]
            if recording_id.endswith(META):
                continue
            if self._header_subject(key) == blind_id:
                found.append(recording_id)
        return found

    def delete_subject(self, tenant: str, blind_id: bytes) -> Deleted:
        deleted = Deleted()
        for recording_id in self.subject_recordings(tenant, blind_id):
            deleted.objects += self._delete_recording(tenant, recording_id)
        if self._records is not None:
            deleted.transcripts = self._records.delete_transcripts_by_caller_index(tenant, blind_id)
            deleted.analytics = self._records.delete_analytics_by_caller_index(tenant, blind_id)
        return deleted

    # -- per tenant -------------------------------------------------------------------

    def delete_tenant(self, tenant: str) -> Deleted:
        deleted = Deleted()
        for key in self._objects.list(tenant):
            with contextlib.suppress(ObjectNotFound):
                self._objects.delete(key)
                deleted.objects += 1
        if self._records is not None:
            deleted.tenant_rows = self._records.delete_all_for_tenant(tenant)
        return deleted

    # -- shared -----------------------------------------------------------------------

    def _delete_recording(self, tenant: str, recording_id: str) -> int:
        count = 0
        for object_id in (recording_id + META, recording_id):  # the commit marker first
            with contextlib.suppress(ObjectNotFound):
                self._objects.delete(object_key(tenant, DataClass.RECORDING, object_id))
                count += 1
        return count

    def _header_subject(self, key: str) -> bytes | None:
        try:
            with self._objects.open_reader(key) as reader:
                length = header_length(reader.read_at(0, PREFIX_SIZE))
                return Header.parse(reader.read_at(0, length)).subject_key_id
        except (ObjectNotFound, OpenError):
            return None  # gone meanwhile, or not a sealed object: not this subject's

    def _need_records(self) -> RecordStore:
        if self._records is None:
            raise InvalidRequest("no records store is configured")
        return self._records
