"""Recordings over the object store: seal on the way in, open ranges on the way out.

A recording is two sealed objects under ``tenant/recording/``:

* ``<id>``: the audio, sealed with context (tenant, RECORDING, id, subject), streamed
  through ``Vault.seal_iter`` straight into ``ObjectStore.put_stream`` (constant memory,
  plaintext never on disk);
* ``<id>:meta``: a small sealed JSON document ``{"v": 1, "subject": S | null}``, context
  (tenant, RECORDING, ``<id>:meta``, no subject), i.e. under the tenant's master key.

Why the sidecar: the subject is part of the recording's context, so it is needed to open
it again, and it must never be stored in clear (DESIGN.md). The recording's own header
carries only the subject's blind id. Recording ids exclude ``:``, so no recording can be
named like a sidecar.

The sidecar is also the *commit marker*: PUT writes the recording, then the sidecar; GET
and DELETE start from the sidecar; DELETE removes the sidecar first. A crash in between
leaves at worst an orphan sealed object (no plaintext), never a visible half-recording.
Ids are write-once (409 on reuse): overwriting would need both objects to change together.
Two concurrent PUTs of one id are refused with 409 by an upload lease (``UploadClaims``) in
the records database, which every API replica shares; the lease is renewed as bytes arrive
and checked once more before the marker is written, so a replica that stalled past its
lease and lost the id writes no marker. Without a records store (library use), the lease
is in-process (``ProcessClaims``).

Audit (``audit``, the request's ``Trail.point``): PUT logs after sealing both objects and
before the marker is written; DELETE after finding the marker and before removing it; a
read is logged by the route before the first byte leaves. A crash at any point therefore
leaves no recording or a logged one. The marker write and the deletion are methods of
their own (``_write_marker``, ``_delete_objects``) so the crash tests can stop there.

Erasure (later) finds a subject's recordings by the blind id in their headers and deletes
both objects; until then a subject's sidecar opens under the tenant key, so it is deleted
with the recording.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
from collections.abc import Generator, Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Protocol

from callvault._ids import DataClass, check_subject
from callvault._vault import Vault
from callvault.api._audit import AuditPoint, KeyTap
from callvault.api._errors import Conflict, NotFound, PayloadTooLarge
from callvault.errors import InvalidRequest, OpenError
from callvault.format import RangeReader
from callvault.storage.objects import ObjectNotFound, ObjectReader, ObjectStore, object_key
from callvault.storage.records import UploadClaimed, UploadClaimLost

__all__ = [
    "Claims",
    "OpenedRecording",
    "ProcessClaims",
    "RecordingInfo",
    "Recordings",
    "check_recording_id",
]

_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,122}")
_META = ":meta"
_GROUP = 256 * 1024  # plaintext handed to the server per write: few thread hops, bounded


def check_recording_id(recording_id: str) -> str:
    if not _ID.fullmatch(recording_id):
        raise InvalidRequest(
            "recording id must be 1-123 characters of A-Z, a-z, 0-9, '.', '_' and '-'"
        )
    return recording_id


@dataclass(frozen=True, slots=True)
class RecordingInfo:
    tenant: str
    id: str
    size: int
    sealed_size: int


@dataclass(slots=True)
class OpenedRecording:
    """An open recording: ``length`` is authenticated; close ``reader`` when done."""

    reader: ObjectReader
    ranges: RangeReader = field(repr=False)
    length: int
    subject: str | None = field(default=None, repr=False)

    def iter_plaintext(self, start: int, end: int) -> Generator[bytes]:
        """``start..end`` inclusive in pieces of about 256 KiB; closes the reader at the end."""
        try:
            if end < start:
                return
            buffered: list[bytes] = []
            size = 0
            for piece in self.ranges.iter_range(start, end):
                buffered.append(piece)
                size += len(piece)
                if size >= _GROUP:
                    yield b"".join(buffered)
                    buffered, size = [], 0
            if buffered:
                yield b"".join(buffered)
        finally:
            self.reader.close()


class Lease(Protocol):
    def renew(self, *, force: bool = False) -> None: ...


class Claims(Protocol):
    """Who may upload an id right now: ``storage.records.UploadClaims`` or ``ProcessClaims``."""

    def hold(self, tenant: str, object_id: str) -> AbstractContextManager[Lease]: ...


class ProcessClaims:
    """In-process leases, for a single process with no records store."""

    def __init__(self) -> None:
        self._held: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def hold(self, tenant: str, object_id: str) -> Iterator[Lease]:
        with self._lock:
            if (tenant, object_id) in self._held:
                raise UploadClaimed
            self._held.add((tenant, object_id))
        try:
            yield _HeldInProcess()
        finally:
            with self._lock:
                self._held.discard((tenant, object_id))


class _HeldInProcess:
    def renew(self, *, force: bool = False) -> None:
        """Nothing can take an in-process claim over."""


class Recordings:
    def __init__(
        self,
        vault: Vault,
        objects: ObjectStore,
        max_bytes: int,
        claims: Claims,
        audit: AuditPoint | None = None,
    ) -> None:
        self._vault, self._objects, self._max, self._claims = vault, objects, max_bytes, claims
        self._audit = audit

    def put(
        self, tenant: str, recording_id: str, subject: str | None, body: Iterable[bytes]
    ) -> RecordingInfo:
        self._vault.tenants.get(tenant)
        check_recording_id(recording_id)
        if subject is not None:
            check_subject(subject)
        try:
            with self._claims.hold(tenant, recording_id) as lease:
                return self._put(tenant, recording_id, subject, body, lease)
        except UploadClaimed:
            raise Conflict(f"recording {recording_id} is being uploaded") from None
        except UploadClaimLost:
            raise Conflict(f"upload of {recording_id} stalled and was taken over") from None

    def _put(
        self,
        tenant: str,
        recording_id: str,
        subject: str | None,
        body: Iterable[bytes],
        lease: Lease,
    ) -> RecordingInfo:
        meta_key = object_key(tenant, DataClass.RECORDING, recording_id + _META)
        if self._objects.exists(meta_key):
            raise Conflict(f"recording {recording_id} already exists")
        counted = _Counted(body, self._max, lease)
        context = self._vault.context(tenant, DataClass.RECORDING, recording_id, subject)
        tap = KeyTap(self._vault.seal_iter(context, counted))
        sealed = self._objects.put_stream(
            object_key(tenant, DataClass.RECORDING, recording_id), tap
        )
        meta = json.dumps({"v": 1, "subject": subject}).encode()
        meta_context = self._vault.context(tenant, DataClass.RECORDING, recording_id + _META)
        sealed_meta = self._vault.seal(meta_context, meta)
        lease.renew(force=True)  # still ours: only then may the commit marker be written
        if self._audit is not None:
            self._audit(recording_id, subject=subject, key=tap.key)
        self._write_marker(meta_key, sealed_meta)
        return RecordingInfo(tenant, recording_id, counted.total, sealed.size)

    def _write_marker(self, meta_key: str, sealed_meta: bytes) -> None:
        """The commit: from here on the recording exists."""
        self._objects.put_stream(meta_key, [sealed_meta])

    def open(self, tenant: str, recording_id: str) -> OpenedRecording:
        self._vault.tenants.get(tenant)
        subject = self._subject(tenant, check_recording_id(recording_id))
        context = self._vault.context(tenant, DataClass.RECORDING, recording_id, subject)
        try:
            reader = self._objects.open_reader(
                object_key(tenant, DataClass.RECORDING, recording_id)
            )
        except ObjectNotFound:
            raise OpenError from None  # committed but missing: integrity, not "not found"
        try:
            ranges = self._vault.range_reader(context, reader)
            length = ranges.authenticated_length()
        except BaseException:
            reader.close()
            raise
        return OpenedRecording(reader, ranges, length, subject)

    def delete(self, tenant: str, recording_id: str) -> None:
        self._vault.tenants.get(tenant)
        check_recording_id(recording_id)
        if not self._objects.exists(object_key(tenant, DataClass.RECORDING, recording_id + _META)):
            raise NotFound(f"no recording {recording_id}")
        if self._audit is not None:
            self._audit(recording_id)
        self._delete_objects(tenant, recording_id)

    def _delete_objects(self, tenant: str, recording_id: str) -> None:
        """The deletion: the marker first (that deletes the recording), then the audio."""
        try:
            self._objects.delete(object_key(tenant, DataClass.RECORDING, recording_id + _META))
        except ObjectNotFound:
            raise NotFound(f"no recording {recording_id}") from None
        with contextlib.suppress(ObjectNotFound):  # the marker is gone: that deleted it
            self._objects.delete(object_key(tenant, DataClass.RECORDING, recording_id))

    def _subject(self, tenant: str, recording_id: str) -> str | None:
        key = object_key(tenant, DataClass.RECORDING, recording_id + _META)
        try:
            sealed = b"".join(self._objects.get_stream(key))
        except ObjectNotFound:
            raise NotFound(f"no recording {recording_id}") from None
        context = self._vault.context(tenant, DataClass.RECORDING, recording_id + _META)
        try:
            meta = json.loads(self._vault.open(context, sealed))
            subject = meta["subject"]
        except (ValueError, KeyError, TypeError):
            raise OpenError from None
        if subject is not None and not isinstance(subject, str):
            raise OpenError
        return subject


class _Counted:
    """The request body, refused with 413 as soon as it passes the limit; keeps the upload
    lease alive while bytes keep arriving."""

    def __init__(self, body: Iterable[bytes], limit: int, lease: Lease) -> None:
        self._body, self._limit, self._lease, self.total = body, limit, lease, 0

    def __iter__(self) -> Iterator[bytes]:
        for piece in self._body:
            self.total += len(piece)
            if self.total > self._limit:
                raise PayloadTooLarge(f"recordings are limited to {self._limit} bytes")
            self._lease.renew()
            yield piece
