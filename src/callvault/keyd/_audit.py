"""One audit entry per keyd call, refusals included, written before the answer leaves.

Actions are ``keyd.<operation>`` for calls that reached the HTTP layer and
``keyd.connect`` for connections refused during or right after the TLS handshake (another
CA, expired, revoked, no certificate, not TLS 1.3). The actor is the caller's SPIFFE ID
once ``PeerVerifier`` accepted it, else ``unauthenticated`` (a presented but refused SPIFFE
ID goes to ``detail.presented``: a claim, not an identity). Outcomes are ``ok``, an error
kind, ``KeyAccessDenied`` (policy) or ``PeerRejected`` with ``detail.reason``.

Because ``AuditLog.append`` is durable before it returns and raises ``AuditUnavailable``
otherwise, keyd returns no key it could not account for: the handler answers 503 instead.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from cryptography import x509

from callvault.audit import AuditEntry, AuditLog
from callvault.errors import AuditUnavailable, InvalidRequest

__all__ = ["UNAUTHENTICATED", "KeydAudit", "presented_spiffe_id"]

UNAUTHENTICATED = "unauthenticated"
_WORD = re.compile(r"[\x21-\x7e]{1,256}")


def _word(value: Any) -> str | None:
    return value if isinstance(value, str) and _WORD.fullmatch(value) else None


def _tenant_of(key_id: str | None) -> str | None:
    parts = (key_id or "").split("/")
    return parts[1] if len(parts) == 3 else None


def presented_spiffe_id(der: bytes | None) -> str | None:
    """The URI SAN a refused certificate claims, if it has exactly one printable one."""
    if not der:
        return None
    try:
        cert = x509.load_der_x509_certificate(der)
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        uris = san.get_values_for_type(x509.UniformResourceIdentifier)
    except (ValueError, x509.ExtensionNotFound):
        return None
    return _word(uris[0]) if len(uris) == 1 else None


class KeydAudit:
    """Writes keyd's entries into the home's audit log."""

    def __init__(self, log: AuditLog) -> None:
        self.log = log

    def call(
        self,
        actor: str,
        operation: str,
        outcome: str,
        *,
        key_id: Any = None,
        key_version: int | None = None,
        peer: str | None = None,
        on_behalf_of: Any = None,
        reason: str | None = None,
        presented: str | None = None,
    ) -> None:
        detail: dict[str, str] = {}
        if presented:
            detail["presented"] = presented
        if peer:
            detail["peer"] = peer
        if reason:
            detail["reason"] = reason
        if isinstance(on_behalf_of, dict):
            for name in ("actor", "object_id"):
                value = _word(on_behalf_of.get(name))
                if value is not None:
                    detail[f"on_behalf_of.{name}"] = value
        key = _word(key_id)
        try:
            entry = AuditEntry(
                time=datetime.now(UTC),
                actor=_word(actor) or UNAUTHENTICATED,
                action=f"keyd.{operation}",
                outcome=outcome,
                tenant=_tenant_of(key),
                key_id=key,
                key_version=key_version,
                detail=detail,
            )
        except InvalidRequest:  # fail closed like an unwritable log: no answer unaccounted
            raise AuditUnavailable("keyd could not build its audit entry") from None
        self.log.append(entry)

    def refused_connection(self, reason: str, peer: str, presented: str | None) -> None:
        """A connection refused at (or right after) the handshake: no operation known."""
        detail = {"reason": reason, "peer": peer}
        if presented:
            detail["presented"] = presented
        self.log.append(
            AuditEntry(
                time=datetime.now(UTC),
                actor=UNAUTHENTICATED,
                action="keyd.connect",
                outcome="PeerRejected",
                detail=detail,
            )
        )
