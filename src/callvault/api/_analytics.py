"""Analytics rows: labels in clear for queries, everything about the person sealed.

A row keeps ``call_id``, ``duration_seconds``, ``outcome`` and ``sentiment`` in clear (the
store refuses anything but a number and short lower-case labels there, so no free text or
phone number can land in a clear column) and the caller's blind index, if a caller is
given. ``sealed_fields`` is a ``seal_for_subject`` value (see ``_transcripts``): the
subject part under the tenant key, then ``{"v": 1, "call_id": …, "caller": …, "notes": …}``
sealed with context (tenant, ANALYTICS, id, subject=caller), so erasing the caller destroys
the notes too while the clear statistics stay usable. Without a caller, both parts are under
the tenant key. The sealed call id and blind index are checked against the row's clear
columns on read.

Audit (``audit``, the request's ``Trail.point``): ``add`` logs after sealing and before the
INSERT, ``get`` once the row opened and before it is returned; the caller, if any, is the
entry's subject (its keyed HMAC only).
"""

from __future__ import annotations

import json

from callvault._ids import DataClass
from callvault._vault import Vault
from callvault.api._audit import AuditPoint, key_reference
from callvault.api._errors import NotFound
from callvault.api._schemas import AnalyticsCreate, AnalyticsOut
from callvault.api._transcripts import open_for_subject, seal_for_subject, split_subject_frame
from callvault.errors import OpenError
from callvault.storage.records import NewAnalytics, RecordNotFound, RecordStore, new_record_id

__all__ = ["Analytics"]


class Analytics:
    def __init__(self, vault: Vault, store: RecordStore, audit: AuditPoint | None = None) -> None:
        self._vault, self._store, self._audit = vault, store, audit

    def add(self, tenant: str, body: AnalyticsCreate) -> str:
        self._vault.tenants.get(tenant)
        record_id = new_record_id()
        sensitive = json.dumps(
            {"v": 1, "call_id": body.call_id, "caller": body.caller, "notes": body.notes}
        ).encode()
        blob = seal_for_subject(
            self._vault, tenant, DataClass.ANALYTICS, record_id, body.caller, sensitive
        )
        index = None
        if body.caller is not None:
            index = self._vault.keys.subject_key_id(tenant, body.caller)
        record = NewAnalytics(
            call_id=body.call_id,
            duration_seconds=body.duration_seconds,
            sealed_fields=blob,
            outcome=body.outcome,
            sentiment=body.sentiment,
            caller_index=index,
            id=record_id,
        )
        if self._audit is not None:
            key = key_reference(split_subject_frame(blob)[1])
            self._audit(record_id, subject=body.caller, key=key)
        return self._store.add_analytics(tenant, record)

    def get(self, tenant: str, record_id: str) -> AnalyticsOut:
        self._vault.tenants.get(tenant)
        try:
            row = self._store.get_analytics(tenant, record_id)
        except RecordNotFound:
            raise NotFound(f"no analytics row {record_id}") from None
        subject, plaintext = open_for_subject(
            self._vault, tenant, DataClass.ANALYTICS, row.id, row.sealed_fields, row.caller_index
        )
        try:
            fields = json.loads(plaintext)
            if (fields["v"], fields["call_id"], fields["caller"]) != (1, row.call_id, subject):
                raise OpenError
            notes = fields["notes"]
            if notes is not None and not isinstance(notes, str):
                raise OpenError
        except (ValueError, KeyError, TypeError):
            raise OpenError from None
        if self._audit is not None:
            key = key_reference(split_subject_frame(row.sealed_fields)[1])
            self._audit(row.id, subject=subject, key=key)
        return AnalyticsOut(
            id=row.id,
            call_id=row.call_id,
            caller=subject,
            duration_seconds=row.duration_seconds,
            outcome=row.outcome,
            sentiment=row.sentiment,
            notes=notes,
            created_at=row.created_at.isoformat(),
        )
