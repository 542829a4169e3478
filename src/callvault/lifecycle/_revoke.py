"""``revoke``: a master-key version is compromised: give every value it exposes a new key.

Rewrapping does not help against a leaked version: its holder unwraps the DEKs (and the
subject keys) in every copy of the data made before the rewrap, and those keys would keep
protecting the live values. So the values themselves get new keys:

1. if the version is the primary, the key is rotated first (new wraps use a new version);
2. every subject key whose wrap history holds the version gets a *pending* replacement
   (``<name>#pending``, a fresh key under the primary);
3. ``Reencryptor`` re-encrypts every exposed value: those wrapped directly under the
   version, and every value of a subject being re-keyed (under the pending key);
4. each pending key is promoted in place of the old one (the old key's bytes are gone);
5. a check that nothing is left at the version, then the ordinary rewrap for the older
   versions (not compromised: their DEKs stay, only their wraps move);
6. a retirement check (a dry-run scan, as ``retire``), then the minimum decryption version
   is set to version + 1: the leaked version and everything below it are retired.

Crash-safe by construction: steps 2 and 3 are idempotent (a pending key is reused, a value
already re-encrypted is no longer exposed), step 4 is one atomic swap per subject, and the
version stays decryptable until step 6, so a rerun of the same command resumes. The
tenant's *index* key (blind ids) is rewrapped, not re-keyed: see docs/keys.md.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from callvault._ids import DataClass
from callvault._vault import Vault
from callvault.errors import InvalidRequest
from callvault.keys import Kek
from callvault.keys._events import KeyEvent, current_use
from callvault.keys._managed import PENDING_SUFFIX, ManagedKeyRecord
from callvault.lifecycle._reencrypt import Reencryptor
from callvault.lifecycle._report import RewrapReport
from callvault.lifecycle._retire import RetirementBlocked, tenant_key_id
from callvault.lifecycle._rewrap import managed_store, rewrap
from callvault.lifecycle._state import job_lock
from callvault.storage.objects import ObjectStore
from callvault.storage.records import RecordStore

__all__ = ["RevokeReport", "revoke"]


@dataclass(slots=True)
class RevokeReport:
    key_id: str
    version: int
    dry_run: bool
    rotated_to: int | None = None
    """The new primary version when the revoked one was the primary (else ``None``)."""
    subjects: int = 0
    """Subject keys whose wrap history holds the version (re-keyed, or to be)."""
    subjects_rekeyed: int = 0
    reencrypt: RewrapReport = field(default_factory=RewrapReport)
    rewrap: RewrapReport | None = None
    min_decrypt_version: int | None = None

    @property
    def complete(self) -> bool:
        """The version is retired: every value it exposed has a new key."""
        return self.min_decrypt_version is not None

    @property
    def failed(self) -> int:
        return self.reencrypt.failed + (self.rewrap.failed if self.rewrap else 0)

    def as_json(self) -> dict[str, Any]:
        return {
            "key_id": self.key_id,
            "version": self.version,
            "dry_run": self.dry_run,
            "rotated_to": self.rotated_to,
            "exposed": self.reencrypt.pending,
            "reencrypted": self.reencrypt.rewrapped,
            "rewrapped": self.rewrap.rewrapped if self.rewrap else 0,
            "subjects": self.subjects,
            "subjects_rekeyed": self.subjects_rekeyed,
            "conflicts": self.reencrypt.conflicts,
            "failed": self.failed,
            "complete": self.complete,
            "min_decrypt_version": self.min_decrypt_version,
            "failures": [
                {"item": f.item, "error": f.error}
                for f in self.reencrypt.failures + (self.rewrap.failures if self.rewrap else [])
            ],
        }


def exposed_subjects(
    vault: Vault, tenant: str, key_id: str, version: int
) -> list[ManagedKeyRecord]:
    """The tenant's live subject keys under ``key_id`` ever wrapped under ``version``."""
    return [
        record
        for record in managed_store(vault).live_records(f"{tenant}/")
        if "/subject/" in record.name
        and not record.name.endswith(PENDING_SUFFIX)
        and record.kek_id == key_id
        and vault.keys.provider_for(record.provider) is vault.provider
        and record.wrapped_under(version)
    ]


def revoke(
    vault: Vault,
    objects: ObjectStore | None,
    records: RecordStore | None,
    *,
    tenant: str,
    version: int,
    data_class: DataClass | None = None,
    dry_run: bool = False,
) -> RevokeReport:
    """Revoke ``version`` of the tenant's master key (of ``data_class``, as ``rotate``
    picks it). Raises ``InvalidRequest`` for a version that does not exist or is retired,
    ``RetirementBlocked`` when something still depends on it at the end; a report with
    failures (``failed``) stops before promotion and retirement: fix, then rerun."""
    key_id = tenant_key_id(vault, tenant, data_class)
    described = vault.provider.describe_key(key_id)
    if not described.min_decrypt_version <= version <= described.primary_version:
        raise InvalidRequest(
            f"--version must be {described.min_decrypt_version}..{described.primary_version}"
            f" (the decryptable versions of {key_id})"
        )
    report = RevokeReport(key_id, version, dry_run, reencrypt=RewrapReport(dry_run=dry_run))
    started = time.monotonic()
    try:
        _run(vault, objects, records, tenant, report, described.primary_version)
    except BaseException as exc:
        _emit(vault, report, type(exc).__name__, started)
        raise
    _emit(vault, report, "ok" if not report.failed else "Failed", started)
    return report


def _run(
    vault: Vault,
    objects: ObjectStore | None,
    records: RecordStore | None,
    tenant: str,
    report: RevokeReport,
    primary: int,
) -> None:
    key_id, version = report.key_id, report.version
    subjects = exposed_subjects(vault, tenant, key_id, version)
    report.subjects = len(subjects)
    by_blind_id = {
        (DataClass(r.name.split("/")[1]), bytes.fromhex(r.name.rsplit("/", 1)[1])): r
        for r in subjects
    }
    worker = Reencryptor(vault, tenant, key_id, version, by_blind_id, report.reencrypt)
    if report.dry_run:
        _walk(worker, objects, records)
        report.rewrap = rewrap(vault, objects, records, tenant=tenant, dry_run=True)
        return
    with job_lock(vault.home):
        if primary == version:
            report.rotated_to = vault.provider.rotate_key(key_id).primary_version
            vault.cache.evict(key_id)
        for record in subjects:
            vault.keys.create_pending(record.name, Kek(record.kek_id, record.provider))
        _walk(worker, objects, records)
        if report.reencrypt.failed or report.reencrypt.conflicts:
            return  # nothing promoted, nothing retired: a rerun resumes
        store = managed_store(vault)
        for record in subjects:
            if store.promote(record.name):
                report.subjects_rekeyed += 1
            vault.cache.evict(record.name)
            vault.cache.evict(record.name + PENDING_SUFFIX)
    # Nothing may be left *directly* under the version before the rewrap below would hide
    # it (by rewrapping it: its DEK would stay one the leak exposes). Managed records at
    # the version (the index key) are not values: the rewrap is what moves them.
    left = rewrap(vault, objects, records, tenant=tenant, dry_run=True)
    managed_at = sum(
        1
        for r in managed_store(vault).live_records(f"{tenant}/")
        if r.kek_id == key_id and r.wrapped.version == version
    )
    still = left.versions.get(key_id, Counter())[version] - managed_at
    if still or left.failed or exposed_subjects(vault, tenant, key_id, version):
        raise RetirementBlocked(
            f"{still} value(s) are still wrapped under {key_id} v{version}, {left.failed}"
            " could not be read: rerun `callvault keys revoke`"
        )
    report.rewrap = rewrap(vault, objects, records, tenant=tenant)
    if report.rewrap.failed:
        return
    scan = rewrap(vault, objects, records, tenant=tenant, dry_run=True)
    if scan.below(key_id, version + 1) or scan.failed:
        raise RetirementBlocked(
            f"{scan.below(key_id, version + 1)} value(s) still need {key_id} at or below"
            f" v{version}, {scan.failed} could not be read: rerun `callvault keys revoke`"
        )
    key = vault.provider.set_min_decrypt_version(key_id, version + 1)
    vault.cache.evict(key_id)
    report.min_decrypt_version = key.min_decrypt_version


def _walk(worker: Reencryptor, objects: ObjectStore | None, records: RecordStore | None) -> None:
    if objects is not None:
        worker.objects(objects)
    if records is not None:
        worker.rows(records)


def _emit(vault: Vault, report: RevokeReport, outcome: str, started: float) -> None:
    """One ``revoke`` key event on the provider stack's sink (the audited provider's), if it
    has one: the KMS calls of the run are events of their own already."""
    sink = getattr(vault.provider, "sink", None)
    if sink is None or report.dry_run or not sink.enabled:
        return
    use = current_use()
    sink.emit(
        KeyEvent(
            time=datetime.now(UTC),
            actor=use.actor,
            operation="revoke",
            provider=vault.provider.scheme,
            key_id=report.key_id,
            key_version=report.version,
            tenant=report.key_id.split("/")[1],
            object_id=None,
            outcome=outcome,
            latency_ms=(time.monotonic() - started) * 1000,
        )
    )
