"""The certificate inventory: every certificate of the hierarchy, with its status.

``callvault ca list --json`` prints :meth:`Inventory.to_json`; the evidence bundle embeds
it. The schema (``callvault.ca.inventory/v1``, documented in docs/protocols/ca.md) is a
contract: fields are only ever added.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

__all__ = ["INVENTORY_SCHEMA", "CertStatus", "CertificateInfo", "Inventory", "describe"]

INVENTORY_SCHEMA = "callvault.ca.inventory/v1"


class CertStatus(enum.StrEnum):
    VALID = "valid"
    EXPIRED = "expired"
    NOT_YET_VALID = "not-yet-valid"
    REVOKED = "revoked"


@dataclass(frozen=True, slots=True)
class CertificateInfo:
    """One certificate, described without its key. ``serial`` is lower-case hex."""

    role: str
    """``root``, ``intermediate`` or ``service``."""
    subject: str
    issuer: str
    spiffe_id: str | None
    serial: str
    not_before: dt.datetime
    not_after: dt.datetime
    sha256: str
    """Hex SHA-256 of the DER certificate (what :func:`negotiated` reports for a peer)."""
    key_algorithm: str

    def status(self, now: dt.datetime, revoked: frozenset[str]) -> CertStatus:
        if self.serial in revoked:
            return CertStatus.REVOKED
        if now >= self.not_after:
            return CertStatus.EXPIRED
        if now < self.not_before:
            return CertStatus.NOT_YET_VALID
        return CertStatus.VALID

    def to_json(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "subject": self.subject,
            "issuer": self.issuer,
            "spiffe_id": self.spiffe_id,
            "serial": self.serial,
            "not_before": self.not_before.isoformat(),
            "not_after": self.not_after.isoformat(),
            "sha256": self.sha256,
            "key_algorithm": self.key_algorithm,
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> CertificateInfo:
        return cls(
            role=doc["role"],
            subject=doc["subject"],
            issuer=doc["issuer"],
            spiffe_id=doc["spiffe_id"],
            serial=doc["serial"],
            not_before=dt.datetime.fromisoformat(doc["not_before"]),
            not_after=dt.datetime.fromisoformat(doc["not_after"]),
            sha256=doc["sha256"],
            key_algorithm=doc["key_algorithm"],
        )


def _key_algorithm(cert: x509.Certificate) -> str:
    key = cert.public_key()
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "ed25519"
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        return "ecdsa-p256"
    return type(key).__name__  # never issued by us; shown as-is


def describe(cert: x509.Certificate, role: str) -> CertificateInfo:
    """The inventory entry of ``cert``; the SPIFFE ID is its first ``spiffe://`` URI."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        uris = san.get_values_for_type(x509.UniformResourceIdentifier)
    except x509.ExtensionNotFound:
        uris = []
    spiffe = next((u for u in uris if u.startswith("spiffe://")), None)
    der = cert.public_bytes(serialization.Encoding.DER)
    return CertificateInfo(
        role=role,
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
        spiffe_id=spiffe,
        serial=format(cert.serial_number, "x"),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        sha256=hashlib.sha256(der).hexdigest(),
        key_algorithm=_key_algorithm(cert),
    )


@dataclass(frozen=True, slots=True)
class Inventory:
    trust_domain: str
    generated_at: dt.datetime
    certificates: tuple[tuple[CertificateInfo, CertStatus], ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": INVENTORY_SCHEMA,
            "trust_domain": self.trust_domain,
            "generated_at": self.generated_at.isoformat(),
            "certificates": [
                {**info.to_json(), "status": status.value} for info, status in self.certificates
            ],
        }
