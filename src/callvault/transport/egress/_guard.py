"""The post-handshake check every new egress connection passes before it carries a byte.

OpenSSL has already verified the chain and the hostname and negotiated inside the
provider's profile; this reads the live connection back and decides again, so a pin, a
protocol or a suite outside policy fails closed even if a context were misbuilt. Every
decision, accepted or refused, becomes one :class:`EgressEvidence` entry.

Pins are checked against the *leaf* certificate's SPKI: Python 3.11 cannot return the
verified chain, and pinning the leaf key (with a backup pin for the next key) is what
``curl --pinnedpubkey`` does too.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import ssl
from collections.abc import Callable
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from callvault.transport._negotiated import negotiated
from callvault.transport._profiles import TlsProfile, profile_spec
from callvault.transport.egress._errors import EgressRefused, PinMismatch
from callvault.transport.egress._evidence import EgressEvidence, EvidenceStore, Outcome

__all__ = ["ProviderPolicy", "spki_pin"]

_REASON_LIMIT = 300


def spki_pin(cert_der: bytes) -> str:
    """The ``sha256/<base64>`` pin of a DER certificate's SubjectPublicKeyInfo."""
    spki = (
        x509.load_der_x509_certificate(cert_der)
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return "sha256/" + base64.b64encode(hashlib.sha256(spki).digest()).decode("ascii")


@dataclass(frozen=True)
class ProviderPolicy:
    """What one provider's connections must satisfy, and where their evidence goes."""

    name: str
    profile: TlsProfile
    pins: frozenset[str]
    context: ssl.SSLContext
    evidence: EvidenceStore
    clock: Callable[[], dt.datetime]

    @property
    def protocols(self) -> frozenset[str]:
        if profile_spec(self.profile).min_version == "TLSv1.2":
            return frozenset({"TLSv1.2", "TLSv1.3"})
        return frozenset({"TLSv1.3"})

    def check(self, conn: ssl.SSLSocket | ssl.SSLObject, host: str, port: int) -> None:
        """Record the connection; raise :class:`EgressRefused` unless it is in policy."""
        got = negotiated(conn)
        der = conn.getpeercert(binary_form=True)
        pin = spki_pin(der) if der else None
        not_after = (
            x509.load_der_x509_certificate(der).not_valid_after_utc.isoformat() if der else None
        )
        refusal: EgressRefused | None = None
        if der is None:  # cannot happen with CERT_REQUIRED; refuse rather than assume
            refusal = EgressRefused(f"egress provider {self.name!r} sent no certificate")
        elif got["protocol"] not in self.protocols:
            refusal = EgressRefused(
                f"egress provider {self.name!r} negotiated {got['protocol']}, outside its "
                f"{self.profile.value} profile"
            )
        elif got["cipher"] not in profile_spec(self.profile).suite_names:
            refusal = EgressRefused(
                f"egress provider {self.name!r} negotiated suite {got['cipher']}, "
                "not on the allowlist"
            )
        elif self.pins and pin not in self.pins:
            refusal = PinMismatch(
                f"egress provider {self.name!r} ({host}:{port}) presented key {pin}, "
                "which matches none of its pins; no request was sent"
            )
        reason = None
        if refusal is not None:
            reason = "pin-mismatch" if isinstance(refusal, PinMismatch) else str(refusal)
        self._record(
            host,
            port,
            "ok" if refusal is None else "refused",
            reason,
            protocol=got["protocol"],
            cipher=got["cipher"],
            peer_cert_sha256=got["peer_cert_sha256"],
            spki_sha256=pin,
            not_after=not_after,
        )
        if refusal is not None:
            raise refusal

    def handshake_failed(self, host: str, port: int, exc: BaseException) -> None:
        """Record a connection that never completed its handshake (nothing was verified)."""
        message = " ".join(str(exc).split())[:_REASON_LIMIT] or type(exc).__name__
        self._record(host, port, "refused", f"handshake: {message}")

    def _record(
        self,
        host: str,
        port: int,
        outcome: Outcome,
        reason: str | None,
        *,
        protocol: str | None = None,
        cipher: str | None = None,
        peer_cert_sha256: str | None = None,
        spki_sha256: str | None = None,
        not_after: str | None = None,
    ) -> None:
        self.evidence.record(
            EgressEvidence(
                provider=self.name,
                host=host,
                port=port,
                time=self.clock().astimezone(dt.UTC).isoformat(),
                outcome=outcome,
                reason=reason,
                protocol=protocol,
                cipher=cipher,
                peer_cert_sha256=peer_cert_sha256,
                spki_sha256=spki_sha256,
                not_after=not_after,
                pinned=bool(self.pins),
            )
        )
