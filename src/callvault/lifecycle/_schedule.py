"""The rotation schedule of one home: every key with a cadence, and when it is due.

Master and backup keys come from the KMS (``keys._cadence.rotation_status``); the JWT
signing key and ``serve``'s TLS certificate live outside it, so they are read here. One
function, so ``callvault keys status``, the posture document and the dashboard report the
same due dates.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from cryptography import x509

from callvault._vault import Vault
from callvault.keys._cadence import Cadence, KeyKind, ScheduledKey, rotation_status, scheduled

__all__ = ["certificate_schedule", "rotation_schedule", "signing_schedule"]

_TLS_CERT = Path("tls") / "server.pem"


def signing_schedule(vault: Vault, cadence: Cadence, now: datetime) -> list[ScheduledKey]:
    """The current JWT signing key (older ones only verify during their grace)."""
    from callvault.auth import SigningKeyRing  # auth imports the vault: load on use

    current = [k for k in SigningKeyRing(vault.home, vault.provider).list_keys() if k.current]
    return [
        scheduled(
            f"jwt-signing/{k.kid}",
            KeyKind.SIGNING,
            k.created_at,
            k.created_at,
            cadence,
            now,
            "automatic (next token minted or serve's timer), 7-day grace",
        )
        for k in current
    ]


def certificate_schedule(vault: Vault, cadence: Cadence, now: datetime) -> list[ScheduledKey]:
    """``serve``'s TLS certificate: due at its cadence, or ``warn_before`` its expiry."""
    path = vault.home / _TLS_CERT
    if not path.exists():
        return []
    leaf = x509.load_pem_x509_certificates(path.read_bytes())[0]
    issued, expires = leaf.not_valid_before_utc, leaf.not_valid_after_utc
    due = min(issued + cadence.tls_certificate, expires - cadence.warn_before)
    return [
        scheduled(
            f"tls/server.pem (expires {expires:%Y-%m-%d})",
            KeyKind.TLS,
            issued,
            issued,
            cadence,
            now,
            "automatic at serve start",
            due=due,
        )
    ]


def rotation_schedule(vault: Vault, now: datetime) -> list[ScheduledKey]:
    """Every scheduled key of the home under its configured cadence, as of ``now``."""
    cadence = vault.settings.rotation.cadence()
    return [
        *rotation_status(vault.provider.list_keys(), cadence, now),
        *signing_schedule(vault, cadence, now),
        *certificate_schedule(vault, cadence, now),
    ]
