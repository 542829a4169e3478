"""Transcripts over the records store: seal a JSON document per transcript, find by caller.

A transcript row (``RecordStore``) holds the call id and the caller's *blind index* in clear
and one ``sealed`` value, written by ``seal_for_subject``: two sealed parts framed together,

* the *subject part*: ``{"v": 1, "subject": S | null}`` sealed under the tenant's key with
  context (tenant, class, ``<id>:meta``), as the recordings sidecar. The subject is part of
  the document's context, so it is needed to open it, and it may never be stored in clear.
  It lives in the same row rather than in a sidecar object, so one INSERT commits both;
* the *document*: the whole transcript as JSON, sealed with context (tenant, TRANSCRIPT,
  ``<id>``, subject=caller), so erasing the caller (``destroy_subject``) destroys it.

The caller's number therefore exists in the database only as the blind index (HMAC-SHA256
under the tenant's index key, ``KeyHierarchy.subject_key_id``) and inside sealed data.
Until the erasure job deletes the row, the subject part still opens under the tenant key:
erasure must delete rows by ``caller_index`` (``delete_transcripts_by_caller_index``).

**Field-level layer.** Inside the document, the fields of ``SENSITIVE_FIELDS`` (the caller,
member and insurance numbers, card fragments) are each sealed again on their own, context
(tenant, TRANSCRIPT, ``<id>:<field>``, subject=caller), and stored base64. What this adds,
honestly: nothing against a database reader (the outer seal already stops them), and
nothing against a role that may read transcripts (the API opens both layers for it). It
keeps those values sealed wherever the *opened* document goes before the response is built
(memory dumps, a future export, search or redaction path, a debugging log of the document),
and gives each value its own authenticated binding to its record and field. The list is a
code constant: adding a field is one line plus its schema entry.

**Redaction.** Those fields are returned only to a principal that also holds
``transcripts:read-sensitive`` (``sensitive=True``). For everyone else they are not even
opened: they come back ``null``, and ``redacted_fields`` lists *every* field of
``SENSITIVE_FIELDS``, whether or not this record has a value for it, so a redacted answer
does not tell which of them a caller gave either. Free text (``text``, segments) is not
redacted: it is what ``transcripts:read`` is for, and whatever a caller said in it stays.

**Audit** (``audit``, the request's ``Trail.point``): ``add`` logs after sealing and before
the INSERT; ``get`` and ``find_by_caller`` log once everything is opened and before the
view is returned (so before any byte of the response), with the caller as the entry's
subject (stored as its keyed HMAC only).

On read, the row's clear columns are checked against the sealed document (call id) and the
subject part (blind index): a row whose clear columns were edited fails as ``OpenError``.
"""

from __future__ import annotations

import base64
import json
import struct
from typing import Any, Final

from pydantic import BaseModel, Field

from callvault._ids import DataClass
from callvault._vault import Vault
from callvault.api._audit import AuditPoint, key_reference
from callvault.api._errors import NotFound
from callvault.api._schemas import Segment, TranscriptCreate
from callvault.errors import OpenError
from callvault.format import ObjectContext
from callvault.storage.records import (
    NewTranscript,
    RecordNotFound,
    RecordStore,
    Transcript,
    new_record_id,
)

__all__ = [
    "SENSITIVE_FIELDS",
    "TranscriptView",
    "TranscriptViewList",
    "Transcripts",
    "join_subject_frame",
    "open_for_subject",
    "seal_for_subject",
    "split_subject_frame",
]

SENSITIVE_FIELDS: Final = ("caller", "member_number", "insurance_number", "card_last4")
_MAGIC: Final = b"cvr1"
_LENGTH = struct.Struct(">I")


def seal_for_subject(
    vault: Vault,
    tenant: str,
    data_class: DataClass,
    record_id: str,
    subject: str | None,
    plaintext: bytes,
) -> bytes:
    """The subject part (tenant key) and ``plaintext`` (subject key), framed as one value."""
    meta = json.dumps({"v": 1, "subject": subject}).encode()
    sealed_meta = vault.seal(vault.context(tenant, data_class, record_id + ":meta"), meta)
    sealed = vault.seal(vault.context(tenant, data_class, record_id, subject), plaintext)
    return join_subject_frame(sealed_meta, sealed)


def join_subject_frame(subject_part: bytes, document: bytes) -> bytes:
    """``cvr1 || u32(len(subject part)) || subject part || document``: one column value."""
    return _MAGIC + _LENGTH.pack(len(subject_part)) + subject_part + document


def split_subject_frame(blob: bytes) -> tuple[bytes, bytes]:
    """``(subject part, document)`` of a ``join_subject_frame`` value; ``OpenError`` if the
    frame is malformed. (The rewrap job replaces each part's header through these.)"""
    head = len(_MAGIC) + _LENGTH.size
    if len(blob) < head or not blob.startswith(_MAGIC):
        raise OpenError
    (size,) = _LENGTH.unpack_from(blob, len(_MAGIC))
    if size > len(blob) - head:
        raise OpenError
    return blob[head : head + size], blob[head + size :]


def open_for_subject(
    vault: Vault,
    tenant: str,
    data_class: DataClass,
    record_id: str,
    blob: bytes,
    caller_index: bytes | None,
) -> tuple[str | None, bytes]:
    """``(subject, plaintext)`` of a ``seal_for_subject`` value; ``OpenError`` if the frame,
    either seal, or the row's blind index does not match."""
    subject_part, document = split_subject_frame(blob)
    meta_context = vault.context(tenant, data_class, record_id + ":meta")
    try:
        subject = json.loads(vault.open(meta_context, subject_part))["subject"]
    except (ValueError, KeyError, TypeError):
        raise OpenError from None
    if subject is not None and not isinstance(subject, str):
        raise OpenError
    expected = None if subject is None else vault.keys.subject_key_id(tenant, subject)
    if expected != caller_index:
        raise OpenError
    context = vault.context(tenant, data_class, record_id, subject)
    return subject, vault.open(context, document)


class TranscriptView(BaseModel):
    """A transcript as returned: the sensitive fields are ``null`` when redacted."""

    id: str = Field(description="Transcript id (assigned by the server)")
    call_id: str
    caller: str | None = Field(description="The caller's number; null when redacted")
    text: str
    segments: list[Segment]
    member_number: str | None = Field(default=None, description="null when redacted")
    insurance_number: str | None = Field(default=None, description="null when redacted")
    card_last4: str | None = Field(default=None, description="null when redacted")
    redacted_fields: list[str] = Field(
        description="Sensitive fields withheld because the credential lacks "
        "transcripts:read-sensitive: all of them, or none (empty list)",
        examples=[[], list(SENSITIVE_FIELDS)],
    )
    created_at: str = Field(description="When it was stored, ISO 8601 UTC")


class TranscriptViewList(BaseModel):
    transcripts: list[TranscriptView] = Field(description="Oldest first")


class Transcripts:
    def __init__(self, vault: Vault, store: RecordStore, audit: AuditPoint | None = None) -> None:
        self._vault, self._store, self._audit = vault, store, audit

    def add(self, tenant: str, body: TranscriptCreate) -> str:
        self._vault.tenants.get(tenant)
        record_id = new_record_id()
        document: dict[str, Any] = {
            "v": 1,
            "call_id": body.call_id,
            "text": body.text,
            "segments": [s.model_dump() for s in body.segments],
            "sealed": {},
        }
        for name in SENSITIVE_FIELDS:
            value = getattr(body, name)
            if value is not None:
                context = self._field_context(tenant, record_id, name, body.caller)
                sealed = self._vault.seal(context, value.encode())
                document["sealed"][name] = base64.b64encode(sealed).decode()
        blob = seal_for_subject(
            self._vault,
            tenant,
            DataClass.TRANSCRIPT,
            record_id,
            body.caller,
            json.dumps(document).encode(),
        )
        index = self._vault.keys.subject_key_id(tenant, body.caller)
        record = NewTranscript(call_id=body.call_id, caller_index=index, sealed=blob, id=record_id)
        if self._audit is not None:
            key = key_reference(split_subject_frame(blob)[1])
            self._audit(record_id, subject=body.caller, key=key)
        return self._store.add_transcript(tenant, record)

    def get(self, tenant: str, record_id: str, *, sensitive: bool) -> TranscriptView:
        """One transcript; its ``SENSITIVE_FIELDS`` only if ``sensitive`` (else redacted)."""
        self._vault.tenants.get(tenant)
        try:
            row = self._store.get_transcript(tenant, record_id)
        except RecordNotFound:
            raise NotFound(f"no transcript {record_id}") from None
        view, subject = self._open(row, sensitive)
        if self._audit is not None:
            self._audit(
                record_id, subject=subject, key=key_reference(split_subject_frame(row.sealed)[1])
            )
        return view

    def find_by_caller(self, tenant: str, caller: str, *, sensitive: bool) -> list[TranscriptView]:
        """The caller's transcripts, oldest first, redacted unless ``sensitive``."""
        self._vault.tenants.get(tenant)
        index = self._vault.keys.subject_key_id(tenant, caller)
        rows = self._store.find_transcripts_by_caller_index(tenant, index)
        views = [self._open(row, sensitive)[0] for row in rows]
        if self._audit is not None:
            self._audit(subject=caller, detail={"count": str(len(views))})
        return views

    def _open(self, row: Transcript, sensitive: bool) -> tuple[TranscriptView, str]:
        subject, plaintext = open_for_subject(
            self._vault, row.tenant, DataClass.TRANSCRIPT, row.id, row.sealed, row.caller_index
        )
        try:
            document = json.loads(plaintext)
            if document["v"] != 1 or document["call_id"] != row.call_id or subject is None:
                raise OpenError
            sealed_fields = document["sealed"]
            if not isinstance(sealed_fields, dict) or "caller" not in sealed_fields:
                raise OpenError
            fields = self._open_fields(row, subject, sealed_fields) if sensitive else {}
            view = TranscriptView(
                id=row.id,
                call_id=row.call_id,
                text=document["text"],
                segments=document["segments"],
                created_at=row.created_at.isoformat(),
                redacted_fields=[] if sensitive else list(SENSITIVE_FIELDS),
                **{name: fields.get(name) for name in SENSITIVE_FIELDS},
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            raise OpenError from None
        return view, subject

    def _open_fields(
        self, row: Transcript, subject: str, sealed_fields: dict[str, Any]
    ) -> dict[str, str]:
        fields = {
            name: self._vault.open(
                self._field_context(row.tenant, row.id, name, subject),
                base64.b64decode(sealed, validate=True),
            ).decode()
            for name, sealed in sealed_fields.items()
            if name in SENSITIVE_FIELDS
        }
        if fields.get("caller") != subject:
            raise OpenError
        return fields

    def _field_context(self, tenant: str, record_id: str, name: str, caller: str) -> ObjectContext:
        return self._vault.context(tenant, DataClass.TRANSCRIPT, f"{record_id}:{name}", caller)
