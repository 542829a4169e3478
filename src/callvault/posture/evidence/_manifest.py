"""The bundle's manifest and its signature: what each file is, its SHA-256, and who says so.

``manifest.json`` lists every other member (path, sha256, size, description) except the
three signature members below, plus what is *missing* and why (a bundle never pretends a
piece of evidence exists). It is canonical JSON (sorted keys, one-space indent), so its
bytes are reproducible from its content.

``manifest.sig`` is a C2SP signed note by the audit log's Ed25519 checkpoint key, under the
log's key name (its origin), over the two-line statement::

    callvault.evidence/v1
    manifest sha256:<64 hex>

``audit-key.vkey`` is that key's verifier string (``<name>+<id>+<base64>``), the same one
``callvault audit public-key`` prints. It is a convenience only: a verifier that trusts the
key *inside* the bundle learns that the bundle is intact, not who made it.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from callvault.errors import InvalidRequest

__all__ = [
    "KEY_MEMBER",
    "MANIFEST_FORMAT",
    "MANIFEST_MEMBER",
    "RESERVED",
    "SIGNATURE_MEMBER",
    "Member",
    "canonical_json",
    "parse_statement",
    "statement",
]

MANIFEST_FORMAT = "callvault.evidence/v1"
MANIFEST_MEMBER = "manifest.json"
SIGNATURE_MEMBER = "manifest.sig"
KEY_MEMBER = "audit-key.vkey"
RESERVED = frozenset({MANIFEST_MEMBER, SIGNATURE_MEMBER, KEY_MEMBER})
_STATEMENT = re.compile(re.escape(MANIFEST_FORMAT) + r"\nmanifest sha256:([0-9a-f]{64})\n")


def canonical_json(doc: Any) -> bytes:
    """Reproducible JSON bytes: sorted keys, fixed indent, final newline."""
    return json.dumps(doc, sort_keys=True, indent=1, ensure_ascii=False).encode() + b"\n"


@dataclass(frozen=True, slots=True)
class Member:
    """One file of the bundle and what it is evidence of."""

    path: str
    data: bytes
    description: str

    def entry(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "sha256": hashlib.sha256(self.data).hexdigest(),
            "size": len(self.data),
            "description": self.description,
        }


def statement(manifest: bytes) -> str:
    """The text the audit key signs for a manifest."""
    return f"{MANIFEST_FORMAT}\nmanifest sha256:{hashlib.sha256(manifest).hexdigest()}\n"


def parse_statement(text: str) -> str:
    """The manifest digest (hex) a verified statement names."""
    match = _STATEMENT.fullmatch(text)
    if match is None:
        raise InvalidRequest("the signed statement is not a callvault.evidence/v1 statement")
    return match.group(1)
