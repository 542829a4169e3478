"""Operational facts: erasure, the audit log, certificates, egress, backups, storage.

Each function reads one subsystem through its public API and returns a ``Section`` whose
checks fail closed: a subsystem that cannot be read gives ``fail`` (audit) or
``no-evidence`` (nothing recorded yet), never ``pass``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from callvault._vault import Vault
from callvault.errors import CallvaultError
from callvault.posture.facts._model import Check, CheckStatus, Section

__all__ = [
    "collect_audit",
    "collect_certificates",
    "collect_egress",
    "collect_erasure",
    "collect_storage",
]

_BACKLOG = timedelta(days=1)
_AUDIT_LOG_FILE = "log.cvl"  # audit._store: the frames of the log


def collect_erasure(vault: Vault, now: datetime) -> Section:
    from callvault.erasure import MAX_GRACE_DAYS, MIN_GRACE_DAYS, ErasureState, ErasureStore

    requests = ErasureStore(vault.home).list_requests()
    pending = [r for r in requests if r.state in (ErasureState.SCHEDULED, ErasureState.RUNNING)]
    late = [r.id for r in pending if now - r.due_at > _BACKLOG]
    by_state: dict[str, int] = {}
    for r in requests:
        by_state[r.state.value] = by_state.get(r.state.value, 0) + 1
    facts: dict[str, Any] = {
        "grace_days": {"min": MIN_GRACE_DAYS, "max": MAX_GRACE_DAYS},
        "auto": vault.settings.erasure.auto,
        "check_seconds": vault.settings.erasure.check_seconds,
        "tombstones_dir": str(vault.settings.backup.tombstones_path(vault.home)),
        "requests_by_state": dict(sorted(by_state.items())),
        "pending": [
            {
                "id": r.id,
                "tenant": r.tenant,
                "kind": r.kind.value,
                "state": r.state.value,
                "due_at": r.due_at.isoformat(),
            }
            for r in pending
        ],
    }
    check = Check(
        "erasure.crypto_shredding",
        "Erasure destroys keys after a 7-30 day grace period, with no overdue backlog",
        CheckStatus.FAIL if late else CheckStatus.PASS,
        f"overdue erasures: {', '.join(late)}"
        if late
        else f"{len(pending)} pending, none more than a day past due; {len(requests)} in total",
        "erasures.json",
    )
    return Section("erasure", facts, (check,))


def collect_audit(vault: Vault) -> Section:
    from callvault.audit import AUDIT_DIR, AuditLog, verify_log

    result: dict[str, Any] = {"ok": True, "entries": 0}
    error = None
    # Opening a log creates its key; a home that never logged has nothing to verify, and
    # reading posture must not change the home.
    if (vault.home / AUDIT_DIR / _AUDIT_LOG_FILE).exists():
        try:
            result = verify_log(AuditLog.for_vault(vault)).as_json()
        except CallvaultError as exc:
            result, error = {"ok": False, "entries": 0}, str(exc)
    if error is not None:
        status, evidence = CheckStatus.FAIL, f"the audit log cannot be verified: {error}"
    elif not result["ok"]:
        status = CheckStatus.FAIL
        evidence = (
            f"{result['total_findings']} finding(s), first bad entry {result['first_bad_index']}"
        )
    elif result["entries"] == 0:
        status, evidence = CheckStatus.NO_EVIDENCE, "the audit log has no entries yet"
    else:
        status = CheckStatus.PASS
        evidence = (
            f"{result['entries']} entries, root {result['root'][:16]}…, "
            f"{result['checkpoints']} signed checkpoint(s) consistent"
        )
    facts = {"verification": result, "error": error, "encrypted_at_rest": True}
    check = Check(
        "audit.verified",
        "The tamper-evident audit log verifies end to end",
        status,
        evidence,
        "callvault audit verify (same code)",
    )
    return Section("audit", facts, (check,))


def collect_certificates(vault: Vault, now: datetime) -> Section:
    from callvault.transport.ca import CertStatus, InternalCa

    horizon = timedelta(days=vault.settings.rotation.warn_days)
    try:
        inventory = InternalCa.open(vault.home / "ca").inventory()
    except CallvaultError as exc:
        facts: dict[str, Any] = {"inventory": None, "reason": str(exc)}
        check = Check(
            "mtls.internal_ca",
            "Internal services use mTLS with SPIFFE certificates from a valid internal CA",
            CheckStatus.NO_EVIDENCE,
            f"no internal CA: {exc}",
            "callvault ca list",
        )
        return Section("certificates", facts, (check,))
    document = inventory.to_json()
    anchors = [(i, s) for i, s in inventory.certificates if i.role in ("root", "intermediate")]
    bad = [
        f"{i.role} {i.serial}"
        for i, s in anchors
        if s is not CertStatus.VALID or i.not_after - now < horizon
    ]
    live = [i for i, s in inventory.certificates if i.role == "service" and s is CertStatus.VALID]
    nearest = min((i.not_after for i, _ in anchors), default=None)
    facts = {
        "inventory": document,
        "expiry_horizon_days": horizon.days,
        "valid_service_certificates": len(live),
        "ca_expires": nearest.isoformat() if nearest else None,
    }
    if not anchors:
        status, evidence = CheckStatus.NO_EVIDENCE, "the CA has no root or intermediate"
    elif bad:
        status, evidence = CheckStatus.FAIL, "expired, revoked or near expiry: " + ", ".join(bad)
    else:
        status = CheckStatus.PASS
        evidence = (
            f"trust domain {inventory.trust_domain}; root and intermediate valid "
            f"beyond {horizon.days} days; {len(live)} valid service certificate(s)"
        )
    check = Check(
        "mtls.internal_ca",
        "Internal services use mTLS with SPIFFE certificates from a valid internal CA",
        status,
        evidence,
        "callvault ca list",
    )
    return Section("certificates", facts, (check,))


def collect_egress(vault: Vault) -> Section:
    from callvault.transport.egress import EvidenceStore

    settings = vault.settings.egress
    entries = EvidenceStore(vault.home, keep=settings.evidence_keep).read()
    weak: list[str] = []
    accepted = 0
    for name, rows in entries.items():
        allow12 = name in settings.providers and settings.providers[name].allow_tls12
        for row in rows:
            if row["reason"] is not None:
                continue  # refused: the factory failed closed, which is the control working
            accepted += 1
            if row["protocol"] != "TLSv1.3" and not (allow12 and row["protocol"] == "TLSv1.2"):
                weak.append(f"{name} {row['protocol']}")
    facts = {
        "providers": {
            n: {"base_url": p.base_url, "allow_tls12": p.allow_tls12, "pinned": bool(p.pins)}
            for n, p in sorted(settings.providers.items())
        },
        "connections": {n: len(r) for n, r in sorted(entries.items())},
        "latest": {n: r[-1] for n, r in sorted(entries.items()) if r},
    }
    if weak:
        status, evidence = CheckStatus.FAIL, "below the floor: " + ", ".join(weak)
    elif accepted == 0:
        status, evidence = CheckStatus.NO_EVIDENCE, "no provider connection recorded yet"
    else:
        status, evidence = CheckStatus.PASS, f"{accepted} connection(s), all at the TLS floor"
    check = Check(
        "egress.tls",
        "Sub-processor links (STT/LLM/TTS) use TLS 1.3 with verification, recorded per connection",
        status,
        evidence,
        "callvault egress report",
    )
    return Section("egress", facts, (check,))


def collect_storage(vault: Vault) -> Section:
    from callvault.backup import _format as backup_format

    url = vault.settings.storage.records_url
    database = "sqlite (in the home, no network link)" if url is None else "postgresql"
    backup_keys = [k.key_id for k in vault.provider.list_keys() if k.key_id.endswith("/backup")]
    facts = {
        "records": database,
        "records_tls": None if url is None else "sslmode=verify-full, TLS 1.3 (enforced at load)",
        "objects": vault.settings.storage.objects,
        "backup_format": f"{backup_format.MAGIC.decode()} v{backup_format.VERSION}",
        "backup_keys": backup_keys,
    }
    checks = (
        Check(
            "storage.db_tls",
            "The records database link is TLS verify-full (or local)",
            CheckStatus.PASS,
            f"records store: {database}",
            "callvault.toml [storage] (weaker sslmode is refused at load)",
        ),
        Check(
            "backup.encrypted",
            "Backups are encrypted under dedicated backup keys",
            CheckStatus.PASS,
            f"format {facts['backup_format']} has no plaintext mode; "
            f"{len(backup_keys)} backup key(s) in the KMS",
            "callvault.backup format constants",
        ),
    )
    return Section("storage", facts, checks)
