"""``Erasures``: schedule, cancel and execute erasure requests, and sign their receipts.

Execution order, per request: claim it (``running``), destroy the keys (the irreversible,
cryptographic step), delete objects and rows (housekeeping: the bytes are unreadable
already), report to the audit sink, then store the signed receipt (``done``). Every step is
idempotent, so a crash anywhere is repaired by the next ``run_due``.

What each kind erases:

* **subject**: every key of the subject in every class (``Vault.destroy_subject``), so every
  recording, transcript and analytics value sealed for that caller is unreadable wherever a
  copy lies; then its recordings (found by blind id) and rows (by caller index) are deleted.
* **record**: the record's bytes in the live stores (both objects of a recording, or the
  row). No key is destroyed: a subject's records share the subject key with the caller's
  other calls, and a subject-less record's DEK is wrapped by the tenant's master key in its
  own header. So a copy taken earlier (a backup, a dump) still opens while those keys live;
  erase the subject or the tenant for cryptographic erasure.
* **tenant**: every master key of the tenant and its managed keys (``_keys``), then every
  object and row of the tenant.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from callvault._ids import DataClass, check_subject
from callvault._vault import Vault
from callvault.audit import attach_audit
from callvault.erasure._audit import AuditSink, ErasureAudit
from callvault.erasure._claim import claim_lock
from callvault.erasure._data import Deleted, TargetData
from callvault.erasure._keys import destroy_tenant_keys
from callvault.erasure._model import (
    ErasureKind,
    ErasureRequest,
    ErasureState,
    check_grace_days,
)
from callvault.erasure._receipts import RECEIPT_FORMAT, ReceiptKey
from callvault.erasure._store import ErasureStore, new_erasure_id
from callvault.erasure._tombstones import record_tombstone
from callvault.errors import CallvaultError, InvalidRequest, KeyDestroyed
from callvault.format import ObjectContext
from callvault.storage.objects import ObjectStore
from callvault.storage.records import RecordStore

__all__ = ["Erasures", "Target"]

Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


class Target:
    """What to erase: exactly one of a subject, a record id, or the whole tenant."""

    def __init__(
        self, *, subject: str | None = None, record: str | None = None, tenant: bool = False
    ) -> None:
        if (subject is not None) + (record is not None) + bool(tenant) != 1:
            raise InvalidRequest("name exactly one of a subject, a record or the whole tenant")
        self.subject, self.record, self.tenant = subject, record, tenant


class Erasures:
    def __init__(
        self,
        vault: Vault,
        objects: ObjectStore,
        records: RecordStore | None,
        *,
        audit: AuditSink | None = None,
        clock: Clock = _now,
    ) -> None:
        self._vault, self._clock = vault, clock
        # Audited by default: every caller (API route, CLI, worker) gets the vault's log.
        self._audit = ErasureAudit(audit if audit is not None else attach_audit(vault))
        self.home = vault.home
        self._data = TargetData(objects, records)
        self.store = ErasureStore(vault.home)
        self.receipt_key = ReceiptKey(vault.home, vault.provider)

    def schedule(
        self, tenant: str, target: Target, grace_days: int | None = None
    ) -> ErasureRequest:
        """Store a request, logged (``erasure.schedule``) durably before it is stored: an
        audit log that cannot take the entry refuses the request. A refused request is
        logged too, with its error kind as outcome."""
        try:
            request, sealed, subject = self._prepare(tenant, target, grace_days)
        except CallvaultError as exc:
            self._audit.failed(self._clock(), "erasure.schedule", tenant, exc)
            raise
        self._audit.schedule(request.requested_at, request, subject)
        self.store.add(request, sealed)
        return request

    def _prepare(
        self, tenant: str, target: Target, grace_days: int | None
    ) -> tuple[ErasureRequest, bytes | None, str | None]:
        self._vault.tenants.get(tenant)
        days = check_grace_days(grace_days, self._vault.environment)
        erasure_id = new_erasure_id()
        sealed = subject = None
        record_kind = None
        if target.subject is not None:
            kind = ErasureKind.SUBJECT
            subject = check_subject(target.subject)
            name = self._vault.keys.subject_key_id(tenant, subject).hex()
            sealed = self._vault.seal(self._subject_context(tenant, erasure_id), subject.encode())
        elif target.record is not None:
            kind, name = ErasureKind.RECORD, target.record
            record_kind = self._data.record_kind(tenant, target.record)
        else:
            kind, name = ErasureKind.TENANT, tenant
        now = self._clock()
        request = ErasureRequest(
            erasure_id,
            tenant,
            kind,
            name,
            record_kind,
            ErasureState.SCHEDULED,
            days,
            now,
            now + timedelta(days=days),
        )
        return request, sealed, subject

    def list_requests(self, tenant: str | None = None) -> list[ErasureRequest]:
        return self.store.list_requests(tenant)

    def get(self, erasure_id: str) -> ErasureRequest:
        return self.store.get(erasure_id)

    def cancel(self, erasure_id: str, tenant: str | None = None) -> ErasureRequest:
        """Cancel within the grace period; ``tenant`` (when given) must own the request.
        Logged (``erasure.cancel``) under the store's lock, after the checks and before the
        new state is written."""
        now = self._clock()

        def allowed(request: ErasureRequest) -> str | None:
            if tenant is not None and request.tenant != tenant:
                return f"erasure {erasure_id} is not tenant {tenant}'s"
            if request.state is not ErasureState.SCHEDULED:
                return f"erasure {erasure_id} is {request.state.value}, not scheduled"
            if now >= request.due_at:
                return f"the grace period of erasure {erasure_id} is over"
            self._audit.cancel(now, request)
            return None

        try:
            return self.store.transition(erasure_id, allowed, ErasureState.CANCELLED, now)
        except CallvaultError as exc:
            self._audit.failed(now, "erasure.cancel", tenant, exc)
            raise

    def run_due(self, now: datetime | None = None) -> list[ErasureRequest]:
        """Execute every request due at ``now`` (and resume any left running by a crash).

        Safe to run from several threads and processes at once (``serve``'s worker and a
        cron job): each request is executed by whoever holds its claim lock (``_claim``);
        the others skip it. Returns the requests this call finished."""
        now = now or self._clock()
        done = []
        for request in self.store.list_requests():
            resumable = request.state is ErasureState.RUNNING
            if resumable or (request.state is ErasureState.SCHEDULED and request.due_at <= now):
                with claim_lock(self.home, request.id) as held:
                    if held is None:
                        continue  # another executor is on it
                    finished = self._execute(request.id)
                    if finished is not None:
                        done.append(finished)
                    held.release_done()  # done now, or finished elsewhere meanwhile
        return done

    def _execute(self, erasure_id: str) -> ErasureRequest | None:
        """Run one request; the caller holds its claim lock. ``None`` if it finished or
        was cancelled since it was listed (by another executor)."""

        def claim(request: ErasureRequest) -> str | None:
            ok = (ErasureState.SCHEDULED, ErasureState.RUNNING)
            return None if request.state in ok else f"erasure {erasure_id} is {request.state}"

        started = self._clock()
        try:
            request = self.store.transition(erasure_id, claim, ErasureState.RUNNING, started)
        except InvalidRequest:
            return None
        t0 = time.perf_counter()
        try:
            record_tombstone(self._vault, request)  # durable before any key goes (backup.md)
            destroyed, deleted = self._erase(request)
        except CallvaultError as exc:  # stays running: the next run_due retries it
            self._audit.execute_failed(self._clock(), request, exc)
            raise
        keys_s = destroyed.pop("_seconds")
        finished = self._clock()
        body = {
            "format": RECEIPT_FORMAT,
            "erasure_id": request.id,
            "environment": self._vault.environment.value,
            "tenant": request.tenant,
            "kind": request.kind.value,
            "target": self._target_json(request),
            "requested_at": request.requested_at.isoformat(),
            "due_at": request.due_at.isoformat(),
            "started_at": started.isoformat(),
            "completed_at": finished.isoformat(),
            "destroyed": destroyed,
            "deleted": deleted.as_json(),
            "durations_ms": {
                "key_destruction": round(keys_s * 1000, 3),
                "total": round((time.perf_counter() - t0) * 1000, 3),
            },
        }
        receipt = self.receipt_key.sign(body).decode()
        # Durable before the request is marked done; if it raises, it stays running.
        self._audit.execute(finished, request, destroyed, deleted.as_json())
        return self.store.transition(
            erasure_id, lambda _: None, ErasureState.DONE, finished, receipt
        )

    def _erase(self, request: ErasureRequest) -> tuple[dict[str, Any], Deleted]:
        tenant = request.tenant
        t0 = time.perf_counter()
        if request.kind is ErasureKind.SUBJECT:
            blind = bytes.fromhex(request.target)
            sealed = self.store.sealed_subject(request.id)
            names: list[str] = []
            try:
                if sealed is not None:
                    subject = self._vault.open(self._subject_context(tenant, request.id), sealed)
                    names = self._vault.destroy_subject(tenant, subject.decode())
            except KeyDestroyed:
                pass  # the whole tenant was erased meanwhile: its subject keys went with it
            destroyed: dict[str, Any] = {"master_keys": [], "managed_keys": names}
            seconds = time.perf_counter() - t0
            deleted = self._data.delete_subject(tenant, blind)
        elif request.kind is ErasureKind.RECORD:
            assert request.record_kind is not None
            destroyed = {"master_keys": [], "managed_keys": []}
            seconds = 0.0
            deleted = self._data.delete_record(tenant, request.record_kind, request.target)
        else:
            destroyed = destroy_tenant_keys(self._vault, tenant)
            seconds = time.perf_counter() - t0
            deleted = self._data.delete_tenant(tenant)
        destroyed["_seconds"] = seconds
        return destroyed, deleted

    @staticmethod
    def _target_json(request: ErasureRequest) -> dict[str, str]:
        if request.kind is ErasureKind.SUBJECT:
            return {"subject_blind_id": request.target}
        if request.kind is ErasureKind.RECORD:
            assert request.record_kind is not None
            return {"record": request.target, "record_kind": request.record_kind.value}
        return {"tenant": request.target}

    def _subject_context(self, tenant: str, erasure_id: str) -> ObjectContext:
        # The default (tenant-wide) key: the request must outlive the subject's own keys.
        return self._vault.context(tenant, DataClass.AUDIT, f"{erasure_id}:subject")
