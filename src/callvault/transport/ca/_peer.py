"""Decide whether the peer of a live mTLS connection is a service of our trust domain.

OpenSSL has already verified the chain to the root (``CERT_REQUIRED``), the validity
window, ``VERIFY_X509_STRICT`` and the intermediate's name constraints during the
handshake. :meth:`PeerVerifier.check` adds what OpenSSL cannot know, in order:

1. the context demanded a verified certificate and the peer sent one (``no-certificate``);
2. the leaf was signed by *this* CA's intermediate, not merely by something the context
   trusts (``untrusted-issuer``) — a context that also trusts a public store stays safe;
3. the validity window, against our clock (``expired``);
4. exactly one URI SAN, a well-formed SPIFFE ID (``not-spiffe``), of our trust domain
   (``wrong-trust-domain``);
5. the serial is not on the revocation list, re-read when the file changes (``revoked``).

It returns the :class:`SpiffeId` for authorisation. A failed *handshake* (another CA,
expired, name-constraint violation) never reaches ``check``; :meth:`PeerVerifier.explain`
maps that ``ssl.SSLError`` to the same reasons so both paths audit alike.

Python's ``ssl`` has no verification callback, so revocation is checked right after the
handshake, before the server reads a request. A connection already open when its
certificate is revoked is not cut by OpenSSL; callers that keep connections alive call
``check`` again per request (it is a ``stat`` and a signature check).
"""

from __future__ import annotations

import datetime as dt
import ssl
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature

from callvault.errors import InvalidRequest
from callvault.transport.ca._authority import Clock, InternalCa
from callvault.transport.ca._errors import PeerRejected, RejectReason
from callvault.transport.ca._files import CaLayout, load_cert
from callvault.transport.ca._revocation import RevocationList
from callvault.transport.ca._spiffe import SpiffeId

__all__ = ["PeerVerifier"]

# OpenSSL X509_V_ERR_* codes (x509_vfy.h) as Python reports them in verify_code.
_EXPIRED_CODES = frozenset({9, 10})  # CERT_NOT_YET_VALID, CERT_HAS_EXPIRED
_NAME_CONSTRAINT_CODES = frozenset({47, 48})  # PERMITTED_VIOLATION, EXCLUDED_VIOLATION
_ISSUER_CODES = frozenset({2, 7, 18, 19, 20, 21, 30})  # unknown/self-signed/bad signature


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class PeerVerifier:
    """Post-handshake identity check for one trust domain; thread-safe, cheap per call."""

    def __init__(self, ca_dir: Path, *, clock: Clock = _utcnow) -> None:
        ca = InternalCa.open(ca_dir, clock=clock)
        layout = CaLayout(ca_dir)
        self.trust_domain = ca.trust_domain
        self._intermediate = load_cert(layout.intermediate_cert)
        self._revoked = RevocationList(layout.revoked)
        self._clock = clock

    def check(self, conn: ssl.SSLSocket | ssl.SSLObject) -> SpiffeId:
        """The peer's SPIFFE ID, or :class:`PeerRejected` with the reason."""
        if conn.context.verify_mode != ssl.CERT_REQUIRED:
            raise PeerRejected(RejectReason.NO_CERTIFICATE, "the context does not verify peers")
        der = conn.getpeercert(binary_form=True)
        if not der:
            raise PeerRejected(RejectReason.NO_CERTIFICATE, "the peer sent no certificate")
        return self.check_certificate(x509.load_der_x509_certificate(der))

    def check_certificate(self, cert: x509.Certificate) -> SpiffeId:
        """Steps 2-5 on a certificate already verified by OpenSSL."""
        try:
            if cert.issuer != self._intermediate.subject:
                raise InvalidSignature
            cert.verify_directly_issued_by(self._intermediate)
        except (InvalidSignature, ValueError, TypeError):
            raise PeerRejected(
                RejectReason.UNTRUSTED_ISSUER, "not issued by this trust domain's CA"
            ) from None
        now = self._clock()
        if not cert.not_valid_before_utc <= now < cert.not_valid_after_utc:
            raise PeerRejected(RejectReason.EXPIRED, f"valid until {cert.not_valid_after_utc}")
        spiffe_id = self._spiffe_id(cert)
        serial = format(cert.serial_number, "x")
        if self._revoked.is_revoked(serial):
            raise PeerRejected(RejectReason.REVOKED, f"serial {serial} ({spiffe_id})")
        return spiffe_id

    def _spiffe_id(self, cert: x509.Certificate) -> SpiffeId:
        try:
            san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
            uris = san.get_values_for_type(x509.UniformResourceIdentifier)
        except x509.ExtensionNotFound:
            uris = []
        if len(uris) != 1:
            raise PeerRejected(RejectReason.NOT_SPIFFE, f"{len(uris)} URI SANs, want exactly 1")
        try:
            spiffe_id = SpiffeId.parse(uris[0])
        except InvalidRequest:
            raise PeerRejected(RejectReason.NOT_SPIFFE, "the URI SAN is not a SPIFFE ID") from None
        if spiffe_id.trust_domain != self.trust_domain:
            raise PeerRejected(
                RejectReason.WRONG_TRUST_DOMAIN,
                f"trust domain {spiffe_id.trust_domain!r}, want {self.trust_domain!r}",
            )
        return spiffe_id

    @staticmethod
    def explain(exc: ssl.SSLError) -> PeerRejected:
        """The reason behind a failed handshake, in :class:`RejectReason` terms."""
        code = getattr(exc, "verify_code", None)
        text = f"{exc.reason or ''} {getattr(exc, 'verify_message', '') or ''}".strip()
        if code in _EXPIRED_CODES:
            return PeerRejected(RejectReason.EXPIRED, text)
        if code in _NAME_CONSTRAINT_CODES:
            return PeerRejected(RejectReason.WRONG_TRUST_DOMAIN, text)
        if code in _ISSUER_CODES:
            return PeerRejected(RejectReason.UNTRUSTED_ISSUER, text)
        if exc.reason == "PEER_DID_NOT_RETURN_A_CERTIFICATE":
            return PeerRejected(RejectReason.NO_CERTIFICATE, text)
        return PeerRejected(RejectReason.INVALID, text or str(exc))
