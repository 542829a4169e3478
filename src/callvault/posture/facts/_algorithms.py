"""Algorithms in use and why, read from the code's own constants (not restated claims).

The envelope body is Cobblestone-256 (C2SP chunked encryption with AES-256-GCM); the
numbers below come from ``callvault.format`` so a change to the format changes the
document. ``algo.envelope`` passes only if the constants still say 256-bit AES-GCM with
key commitment, and ``algo.library`` only if the primitives come from pyca/cryptography
at the version DESIGN.md requires (>= 50, which ships ``cryptography.cobblestone``).
"""

from __future__ import annotations

import importlib.util
from typing import Any

import cryptography

from callvault.backup import _format as backup_format
from callvault.format import _cobblestone as body
from callvault.format import _header as header
from callvault.posture.facts._model import Check, CheckStatus, Section

__all__ = ["collect_algorithms"]

_SOURCE = "callvault.format constants"


def _primitives() -> list[dict[str, str]]:
    aead = body._INFO_PREFIX.split(b"+")[-1].rstrip(b"\x00").decode()
    return [
        {
            "use": "object bodies (recordings, transcripts, analytics, audit, backups)",
            "algorithm": f"Cobblestone-256: C2SP chunked-encryption, {aead}, "
            f"HKDF-Expand SHA-512, {body.CHUNK_SIZE // 1024} KiB chunks",
            "why": "key commitment, truncation and reordering protection, constant-memory "
            "streaming and random access by chunk",
        },
        {
            "use": "per-object data key (DEK)",
            "algorithm": f"{body.KEY_SIZE * 8}-bit random key, fresh per object",
            "why": "a leaked DEK exposes one object; erasure destroys the key above it",
        },
        {
            "use": "key wrapping (DEK under subject key, subject key under master key)",
            "algorithm": "AES-256-GCM with the header and object context as associated data",
            "why": "a wrapped key moved to another tenant, class or object does not unwrap",
        },
        {
            "use": "object header",
            "algorithm": f"magic {header.MAGIC.decode()} version {header.FORMAT_VERSION}, "
            "bound through the chunked encryption's context",
            "why": "an edited header or a ciphertext moved elsewhere does not open",
        },
        {
            "use": "caller identifiers (blind index)",
            "algorithm": "HMAC-SHA256 under a per-tenant index key",
            "why": "search by caller without storing the number in clear",
        },
        {
            "use": "audit checkpoints, erasure receipts, JWTs",
            "algorithm": "Ed25519 signatures (C2SP signed notes for checkpoints)",
            "why": "small, fast, deterministic signatures a witness can check",
        },
        {
            "use": "backups",
            "algorithm": f"archive format {backup_format.MAGIC.decode()} "
            f"v{backup_format.VERSION}, bodies sealed under backup-class keys",
            "why": "a backup is never plaintext; erased keys stay erased after a restore",
        },
    ]


def collect_algorithms() -> Section:
    facts: dict[str, Any] = {
        "primitives": _primitives(),
        "library": f"cryptography {cryptography.__version__}",
        "chunk_size": body.CHUNK_SIZE,
        "key_size_bits": body.KEY_SIZE * 8,
        "commitment_bytes": body.COMMITMENT_SIZE,
        "format_version": header.FORMAT_VERSION,
    }
    aes256 = body.KEY_SIZE == 32 and b"AES_256_GCM" in body._INFO_PREFIX
    committed = body.COMMITMENT_SIZE >= 32
    envelope = Check(
        "algo.envelope",
        "Data at rest is sealed with AES-256-GCM (Cobblestone-256, key-committing)",
        CheckStatus.PASS if aes256 and committed else CheckStatus.FAIL,
        f"key size {body.KEY_SIZE * 8} bits, AEAD {body._INFO_PREFIX[:-1].decode()}, "
        f"{body.COMMITMENT_SIZE}-byte commitment",
        _SOURCE,
    )
    major = int(cryptography.__version__.split(".")[0])
    has_cobblestone = importlib.util.find_spec("cryptography.cobblestone") is not None
    library = Check(
        "algo.library",
        "Primitives come from pyca/cryptography >= 50, never hand-written",
        CheckStatus.PASS if major >= 50 and has_cobblestone else CheckStatus.FAIL,
        f"cryptography {cryptography.__version__}; cryptography.cobblestone "
        f"{'present' if has_cobblestone else 'missing'}",
        "installed cryptography package",
    )
    return Section("algorithms", facts, (envelope, library))
