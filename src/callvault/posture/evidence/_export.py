"""``export_evidence``: gather the evidence of a home, write the manifest, sign it, zip it.

Order matters: the audit part goes first, because it signs a fresh checkpoint that every
extracted entry is proved against; the manifest is signed last, over the final bytes of
every member. Everything is metadata read through public APIs: no key material, no root
key, no plaintext call data, no bearer token can reach the bundle (the tests scan for them).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from callvault import __version__
from callvault._vault import Vault
from callvault.audit import AuditLog
from callvault.errors import InvalidRequest
from callvault.posture.evidence._audit import audit_members
from callvault.posture.evidence._inventory import (
    Missing,
    certificate_members,
    egress_members,
    key_members,
)
from callvault.posture.evidence._manifest import (
    KEY_MEMBER,
    MANIFEST_FORMAT,
    MANIFEST_MEMBER,
    RESERVED,
    SIGNATURE_MEMBER,
    Member,
    canonical_json,
    statement,
)
from callvault.posture.evidence._reports import (
    DocumentBuilder,
    document_members,
    history_members,
)
from callvault.posture.evidence._zip import write_bundle
from callvault.posture.history import PostureHistory

__all__ = ["ExportResult", "export_evidence"]


@dataclass(frozen=True, slots=True)
class ExportResult:
    path: Path
    manifest: dict[str, Any]
    verifier_key: str

    @property
    def missing(self) -> list[dict[str, str]]:
        return list(self.manifest["missing"])


def export_evidence(
    vault: Vault,
    out: Path,
    *,
    window: timedelta | None = None,
    now: datetime | None = None,
    document: DocumentBuilder | None = None,
) -> ExportResult:
    """Write the evidence bundle of ``vault``'s home to ``out`` (atomically)."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    posture = vault.settings.posture
    if window is None:
        window = timedelta(days=posture.evidence_window_days)
    if window <= timedelta(0):
        raise InvalidRequest("the key-access window must be positive")
    log = AuditLog.for_vault(vault)
    members: list[Member] = [*audit_members(log, now - window, now)]
    missing: list[Missing] = []
    members += key_members(vault, now)
    certs, absent, trust_domain = certificate_members(vault.home, now)
    members += certs
    missing += absent
    members += egress_members(vault)
    reports, absent = history_members(PostureHistory(vault.home, keep=posture.history_keep))
    members += reports
    missing += absent
    doc, absent = document_members(vault.home, document)
    members += doc
    missing += absent
    if any(m.path in RESERVED for m in members):
        raise InvalidRequest("an evidence member uses a reserved name")
    verifier = log.verifier()
    manifest = {
        "format": MANIFEST_FORMAT,
        "created_at": now.isoformat(),
        "generator": f"callvault {__version__}",
        "home": str(vault.home),
        "environment": vault.environment.value,
        "trust_domain": trust_domain,
        "key_access_window": {
            "since": (now - window).isoformat(),
            "until": now.isoformat(),
        },
        "signer": {
            "algorithm": "Ed25519 (C2SP signed-note)",
            "key_name": verifier.name,
            "key_id": verifier.key_id.hex(),
            "verifier_key": str(verifier),
            "public_key": base64.b64encode(verifier.public.public_bytes_raw()).decode(),
        },
        "files": sorted((m.entry() for m in members), key=lambda e: str(e["path"])),
        "missing": [m.to_json() for m in missing],
    }
    manifest_bytes = canonical_json(manifest)
    note = log.sign_statement(statement(manifest_bytes))
    files = [(m.path, m.data) for m in members]
    files += [
        (MANIFEST_MEMBER, manifest_bytes),
        (SIGNATURE_MEMBER, note.encode()),
        (KEY_MEMBER, (str(verifier) + "\n").encode()),
    ]
    write_bundle(out, files)
    return ExportResult(out, manifest, str(verifier))
