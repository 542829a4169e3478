"""Inventories for the bundle: master keys and their rotation status, certificates, egress.

Each is read through the owning package's public API (the same data ``callvault keys list
--json``, ``keys status --json``, ``ca list --json`` and ``egress report --json`` print), so
the bundle shows what the system itself reports. Only metadata: ids, versions, states,
dates, fingerprints. A piece that does not exist in this home (no internal CA yet) is
returned as a ``Missing`` with the reason, never silently dropped.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography import x509

from callvault._vault import Vault
from callvault.keys._cadence import rotation_status
from callvault.posture.evidence._manifest import Member, canonical_json

__all__ = ["Missing", "certificate_members", "egress_members", "key_members"]


@dataclass(frozen=True, slots=True)
class Missing:
    """A piece of evidence the bundle should hold but cannot, and why."""

    item: str
    reason: str

    def to_json(self) -> dict[str, str]:
        return {"item": self.item, "reason": self.reason}


def key_members(vault: Vault, now: datetime) -> list[Member]:
    keys = sorted(vault.list_keys(), key=lambda k: k.key_id)
    cadence = vault.settings.rotation.cadence()
    status = [item.as_json(now) for item in rotation_status(keys, cadence, now)]
    return [
        Member(
            "keys/inventory.json",
            canonical_json([k.as_json() for k in keys]),
            "master key inventory (callvault keys list --json): ids, versions, states",
        ),
        Member(
            "keys/rotation-status.json",
            canonical_json({"generated_at": now.isoformat(), "keys": status}),
            "rotation status of every live master key against the configured cadence",
        ),
    ]


def certificate_members(
    home: Path, now: datetime
) -> tuple[list[Member], list[Missing], str | None]:
    """The internal CA inventory and serve's TLS certificate; (members, missing, domain)."""
    from callvault.transport.ca import InternalCa

    members: list[Member] = []
    missing: list[Missing] = []
    domain: str | None = None
    if (home / "ca").is_dir():
        inventory = InternalCa.open(home / "ca", clock=lambda: now).inventory()
        domain = inventory.trust_domain
        members.append(
            Member(
                "certificates/internal-ca.json",
                canonical_json(inventory.to_json()),
                "internal CA certificate inventory (callvault ca list --json)",
            )
        )
    else:
        missing.append(Missing("internal CA inventory", "no internal CA (callvault ca init)"))
    server = home / "tls" / "server.pem"
    if server.is_file():
        chain = x509.load_pem_x509_certificates(server.read_bytes())
        members.append(
            Member(
                "certificates/serve-tls.json",
                canonical_json({"chain": [_certificate(c) for c in chain]}),
                "the HTTPS listener's certificate chain (serve)",
            )
        )
    else:
        missing.append(Missing("serve TLS certificate", "serve has not issued one yet"))
    return members, missing, domain


def _certificate(cert: x509.Certificate) -> dict[str, Any]:
    from cryptography.hazmat.primitives.serialization import Encoding

    try:
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = [str(getattr(n, "value", n)) for n in sans]
    except x509.ExtensionNotFound:
        names = []
    hash_name = cert.signature_hash_algorithm.name if cert.signature_hash_algorithm else None
    return {
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "serial": format(cert.serial_number, "x"),
        "not_before": cert.not_valid_before_utc.isoformat(),
        "not_after": cert.not_valid_after_utc.isoformat(),
        "subject_alt_names": names,
        "signature_hash": hash_name,
        "sha256": hashlib.sha256(cert.public_bytes(Encoding.DER)).hexdigest(),
    }


def egress_members(vault: Vault) -> list[Member]:
    from callvault.transport.egress import EVIDENCE_FORMAT, EvidenceStore

    settings = vault.settings.egress
    entries = EvidenceStore(vault.home, keep=settings.evidence_keep).read()
    configured = {
        name: {"base_url": p.base_url, "allow_tls12": p.allow_tls12, "pinned": bool(p.pins)}
        for name, p in sorted(settings.providers.items())
    }
    doc = {"format": EVIDENCE_FORMAT, "configured": configured, "providers": entries}
    return [
        Member(
            "egress/report.json",
            canonical_json(doc),
            "outbound TLS evidence per provider (callvault egress report --json)",
        )
    ]
