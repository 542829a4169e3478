"""Describe a live TLS connection as evidence: what was negotiated and with whom.

Posture and egress reports record this for every connection they vouch for, so it names
the peer by certificate fingerprint (SHA-256 of the DER leaf, stable across re-encodings of
the PEM) and by URI SANs, which is where SPIFFE service identities live.
"""

from __future__ import annotations

import hashlib
import ssl
from typing import TypedDict

from cryptography import x509

from callvault.transport._errors import TlsPolicyError

__all__ = ["Negotiated", "negotiated"]


class Negotiated(TypedDict):
    protocol: str
    """``TLSv1.3`` or ``TLSv1.2``."""
    cipher: str
    """OpenSSL suite name, e.g. ``TLS_AES_256_GCM_SHA384``."""
    alpn: str | None
    peer_cert_sha256: str | None
    """Lower-case hex SHA-256 of the peer's DER leaf certificate; None if it sent none."""
    peer_uri_sans: list[str]
    """Every URI subjectAltName of the peer leaf, in certificate order."""
    peer_spiffe_ids: list[str]
    """The ``spiffe://`` subset of ``peer_uri_sans``."""


def _uri_sans(der: bytes) -> list[str]:
    cert = x509.load_der_x509_certificate(der)
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    return list(san.get_values_for_type(x509.UniformResourceIdentifier))


def negotiated(conn: ssl.SSLSocket | ssl.SSLObject) -> Negotiated:
    """The negotiated parameters of a connection whose handshake has completed."""
    protocol, cipher = conn.version(), conn.cipher()
    if protocol is None or cipher is None:
        raise TlsPolicyError("the TLS handshake has not completed")
    # Positional: httpcore hands out the C-level ``_ssl._SSLSocket``, whose methods are the
    # same but take no keywords.
    der = conn.getpeercert(True)
    uris = _uri_sans(der) if der else []
    return Negotiated(
        protocol=protocol,
        cipher=cipher[0],
        alpn=conn.selected_alpn_protocol(),
        peer_cert_sha256=hashlib.sha256(der).hexdigest() if der else None,
        peer_uri_sans=uris,
        peer_spiffe_ids=[u for u in uris if u.startswith("spiffe://")],
    )
