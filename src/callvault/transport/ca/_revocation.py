"""The revocation list: a small JSON file, written atomically, re-read when it changes.

Why not a CRL in the ``SSLContext``: Python's ``ssl`` can *add* CRLs to a context's store
(``load_verify_locations`` + ``VERIFY_CRL_CHECK_LEAF``) but never remove or replace one,
and a CRL must be re-signed by the (online) intermediate before it expires or every
handshake fails. A list checked after the handshake by :class:`PeerVerifier` takes effect
at the next handshake, in every process that shares the CA directory, without touching
live contexts. The file holds serials and SPIFFE IDs only: nothing secret.

Format (``version`` 1)::

    {"version": 1, "revoked": [{"serial": "<hex>", "spiffe_id": "spiffe://…",
                                "revoked_at": "<ISO 8601 UTC>", "reason": "<reason>"}]}
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from callvault._atomic import atomic_write
from callvault.transport.ca._errors import CaError

__all__ = ["RevocationList", "Revoked", "read_revocations", "write_revocations"]

_VERSION = 1


@dataclass(frozen=True, slots=True)
class Revoked:
    serial: str
    spiffe_id: str
    revoked_at: str
    reason: str


def read_revocations(path: Path) -> dict[str, Revoked]:
    """Serial → entry. A missing file is an empty list; an unreadable one is an error
    (fail closed: a corrupt list must not read as "nothing is revoked")."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    try:
        doc: Any = json.loads(raw)
        if doc.get("version") != _VERSION:
            raise ValueError("unknown version")
        entries = [Revoked(**e) for e in doc["revoked"]]
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise CaError(f"revocation list {path} is unreadable: {exc}") from None
    return {e.serial: e for e in entries}


def write_revocations(path: Path, entries: dict[str, Revoked]) -> None:
    doc = {
        "version": _VERSION,
        "revoked": [
            {
                "serial": e.serial,
                "spiffe_id": e.spiffe_id,
                "revoked_at": e.revoked_at,
                "reason": e.reason,
            }
            for e in sorted(entries.values(), key=lambda e: (e.revoked_at, e.serial))
        ],
    }
    atomic_write(path, json.dumps(doc, indent=2).encode() + b"\n", mode=0o644)


class RevocationList:
    """The revoked serials of one CA directory, re-read whenever the file changes.

    A ``stat`` per check (inode, size, mtime in ns) decides whether to re-read; atomic
    replace always gives a new inode, so a revocation is seen at the next check.
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._stamp: tuple[int, int, int] | None = None
        self._serials: frozenset[str] = frozenset()

    def _current_stamp(self) -> tuple[int, int, int] | None:
        try:
            st = os.stat(self._path)
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_size, st.st_mtime_ns)

    def serials(self) -> frozenset[str]:
        with self._lock:
            stamp = self._current_stamp()
            if stamp != self._stamp or stamp is None:
                self._serials = frozenset(read_revocations(self._path))
                self._stamp = stamp
            return self._serials

    def is_revoked(self, serial: str) -> bool:
        return serial in self.serials()
