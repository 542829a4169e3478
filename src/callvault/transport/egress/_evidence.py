"""Per-provider evidence of outbound TLS connections: ``<home>/egress/evidence.json``.

One entry per *new* connection (keep-alive reuse adds nothing: no new handshake happened),
accepted or refused, newest last, the latest ``keep`` per provider. What is recorded is
what an auditor needs to say "this provider was reached over TLS 1.3 with an allow-listed
suite, to this certificate": protocol, suite, the leaf's SHA-256 fingerprint, its SPKI pin,
its not-after, the host and port, and the time. Request and response bodies, headers, URLs
paths and query strings are never recorded (they can hold transcripts and API keys).

The file is non-secret metadata written with the home's atomic, locked JSON store.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from callvault._json_store import JsonStore
from callvault.errors import ConfigError

__all__ = ["EVIDENCE_FILE", "EVIDENCE_FORMAT", "EgressEvidence", "EvidenceStore", "Outcome"]

EVIDENCE_FILE = Path("egress") / "evidence.json"
EVIDENCE_FORMAT = "callvault-egress-evidence-v1"
Outcome = Literal["ok", "refused"]


@dataclass(frozen=True)
class EgressEvidence:
    """One new connection to a provider. Handshake failures have no negotiated fields."""

    provider: str
    host: str
    port: int
    time: str
    """ISO 8601 UTC time the handshake finished (or failed)."""
    outcome: Outcome
    reason: str | None
    """Why it was refused (``pin-mismatch``, ``protocol``, ``cipher``, ``handshake: …``)."""
    protocol: str | None
    cipher: str | None
    peer_cert_sha256: str | None
    """Lower-case hex SHA-256 of the DER leaf certificate."""
    spki_sha256: str | None
    """The leaf's SPKI pin, ``sha256/<base64>``: paste it into ``pins``."""
    not_after: str | None
    pinned: bool
    """Whether the provider has pins (and so this connection was checked against them)."""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _empty() -> dict[str, Any]:
    return {"format": EVIDENCE_FORMAT, "providers": {}}


class EvidenceStore:
    """Append-and-trim store of :class:`EgressEvidence`, shared by every process of a home."""

    def __init__(self, home: Path, *, keep: int = 50) -> None:
        if keep < 1:
            raise ConfigError("egress evidence must keep at least one entry per provider")
        self.path = home / EVIDENCE_FILE
        self._keep = keep
        self._store = JsonStore(self.path, _empty)

    def record(self, evidence: EgressEvidence) -> None:
        with self._store.transaction() as doc:
            self._check(doc)
            entries: list[dict[str, Any]] = doc["providers"].setdefault(evidence.provider, [])
            entries.append(evidence.to_json())
            del entries[: max(0, len(entries) - self._keep)]

    def read(self) -> dict[str, list[dict[str, Any]]]:
        """Provider name -> its entries, oldest first (a copy; safe to keep)."""
        doc = self._store.read()
        self._check(doc)
        return {name: [dict(e) for e in entries] for name, entries in doc["providers"].items()}

    def _check(self, doc: dict[str, Any]) -> None:
        if doc.get("format") != EVIDENCE_FORMAT or not isinstance(doc.get("providers"), dict):
            raise ConfigError(f"{self.path} is not a {EVIDENCE_FORMAT} document")


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
