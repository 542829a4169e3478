"""The index of issued service certificates (``index.json``): the inventory's memory.

Certificates are recorded *before* their directory is announced to the caller and never
removed, so the inventory shows every certificate that could still be in use, including
expired and revoked ones. It holds public data only. Read-modify-write cycles happen under
the CA directory's exclusive lock; the file is replaced atomically.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from callvault._atomic import atomic_write
from callvault.transport.ca._errors import CaError
from callvault.transport.ca._inventory import CertificateInfo

__all__ = ["IndexEntry", "read_index", "write_index"]

_VERSION = 1

IndexEntry = tuple[str, CertificateInfo]
"""(service name, certificate description)."""


def read_index(path: Path) -> list[IndexEntry]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return []
    try:
        doc: Any = json.loads(raw)
        if doc.get("version") != _VERSION:
            raise ValueError("unknown version")
        return [(e["service"], CertificateInfo.from_json(e["certificate"])) for e in doc["issued"]]
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise CaError(f"certificate index {path} is unreadable: {exc}") from None


def write_index(path: Path, entries: list[IndexEntry]) -> None:
    doc = {
        "version": _VERSION,
        "issued": [{"service": s, "certificate": c.to_json()} for s, c in entries],
    }
    atomic_write(path, json.dumps(doc, indent=2).encode() + b"\n", mode=0o644)
