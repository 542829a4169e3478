"""The internal CA's two errors: its own files are unusable, or a peer was refused.

``CaError`` is a :class:`callvault.errors.ConfigError`: missing, inconsistent or unsafe CA
files are an operator problem, and nothing is issued or served. ``PeerRejected`` is raised
by :class:`PeerVerifier` and carries a machine-readable :class:`RejectReason`, so keyd can
audit *why* a peer was refused without parsing messages (and without echoing the peer's
certificate back to it).
"""

from __future__ import annotations

import enum

from callvault.errors import CallvaultError, ConfigError

__all__ = ["CaError", "PeerRejected", "RejectReason"]


class CaError(ConfigError):
    """The CA directory is missing, inconsistent or unsafe; nothing was issued."""


class RejectReason(enum.StrEnum):
    """Why a peer certificate was refused. Stable strings: they go into audit records."""

    NO_CERTIFICATE = "no-certificate"
    """The peer sent no certificate, or the context did not demand and verify one."""
    UNTRUSTED_ISSUER = "untrusted-issuer"
    """The chain does not lead to this CA's intermediate (another CA, self-signed, …)."""
    EXPIRED = "expired"
    """Outside its validity window (expired, or not yet valid)."""
    REVOKED = "revoked"
    """Listed in the CA's revocation list."""
    NOT_SPIFFE = "not-spiffe"
    """Not exactly one URI SAN, or that URI is not a well-formed ``spiffe://`` ID."""
    WRONG_TRUST_DOMAIN = "wrong-trust-domain"
    """A SPIFFE ID of another trust domain (refused by name constraints or by us)."""
    INVALID = "invalid"
    """Any other verification failure OpenSSL reported."""


class PeerRejected(CallvaultError):
    """A peer's certificate is not an acceptable service identity of this trust domain."""

    def __init__(self, reason: RejectReason, detail: str) -> None:
        super().__init__(f"peer refused ({reason.value}): {detail}")
        self.reason = reason
