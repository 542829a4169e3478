"""Cobblestone-256 (C2SP chunked-encryption, HKDF-Expand SHA-512 + AES-256-GCM) constants
and the spec's key derivation, for the random-access reader and for deterministic vectors.

Streaming uses ``cryptography.cobblestone`` directly; this module exists because random
access needs the derived key and base nonce, which that API does not expose. Everything here
is built from ``cryptography``'s HKDFExpand and AESGCM, exactly as the spec says, and the
tests cross-check it against ``cryptography.cobblestone`` and Wycheproof.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand

from callvault.errors import OpenError

__all__ = [
    "BODY_PREFIX_SIZE",
    "CHUNK_SIZE",
    "COMMITMENT_SIZE",
    "ENCRYPTED_CHUNK_SIZE",
    "KEY_SIZE",
    "MAX_CHUNKS",
    "NONCE_SIZE",
    "SALT_SIZE",
    "TAG_SIZE",
    "BodyLayout",
    "DerivedKeys",
    "derive",
    "derive_raw",
]

KEY_SIZE = 32
NONCE_SIZE = 12
TAG_SIZE = 16
SALT_SIZE = 24
COMMITMENT_SIZE = 32
BODY_PREFIX_SIZE = SALT_SIZE + COMMITMENT_SIZE
CHUNK_SIZE = 16384
ENCRYPTED_CHUNK_SIZE = CHUNK_SIZE + TAG_SIZE
MAX_CHUNKS = 2**38
_INFO_PREFIX = b"c2sp.org/chunked-encryption@v1+AEAD_AES_256_GCM\x00"


@dataclass(frozen=True, slots=True, repr=False)
class DerivedKeys:
    """The per-message AEAD key and base nonce (secret), after the commitment matched."""

    aead: AESGCM
    base_nonce: bytes

    def nonce(self, chunk_index: int) -> bytes:
        if not 0 <= chunk_index < MAX_CHUNKS:
            raise OpenError
        return (int.from_bytes(self.base_nonce, "big") ^ chunk_index).to_bytes(NONCE_SIZE, "big")

    def decrypt_chunk(self, chunk_index: int, encrypted: bytes) -> bytes:
        try:
            return self.aead.decrypt(self.nonce(chunk_index), encrypted, None)
        except Exception as exc:  # InvalidTag, or a malformed length
            raise OpenError from exc

    def encrypt_chunk(self, chunk_index: int, plaintext: bytes) -> bytes:
        return self.aead.encrypt(self.nonce(chunk_index), plaintext, None)


def derive_raw(input_key: bytes, salt: bytes, context: bytes) -> tuple[bytes, bytes, bytes]:
    """HKDF-Expand(SHA-512) → (key, base nonce, commitment), per the spec's key derivation."""
    if len(input_key) != KEY_SIZE or len(salt) != SALT_SIZE:
        raise OpenError
    okm = HKDFExpand(
        hashes.SHA512(), KEY_SIZE + NONCE_SIZE + COMMITMENT_SIZE, _INFO_PREFIX + salt + context
    ).derive(input_key)
    return okm[:KEY_SIZE], okm[KEY_SIZE : KEY_SIZE + NONCE_SIZE], okm[KEY_SIZE + NONCE_SIZE :]


def derive(input_key: bytes, body_prefix: bytes, context: bytes) -> DerivedKeys:
    """Check the commitment in the 56-byte body prefix, then return the message keys."""
    if len(body_prefix) != BODY_PREFIX_SIZE:
        raise OpenError
    key, base_nonce, commitment = derive_raw(input_key, body_prefix[:SALT_SIZE], context)
    if not hmac.compare_digest(commitment, body_prefix[SALT_SIZE:]):
        raise OpenError
    return DerivedKeys(AESGCM(key), base_nonce)


@dataclass(frozen=True, slots=True)
class BodyLayout:
    """Where every chunk of a body of ``body_length`` bytes lives (C2SP fixed layout)."""

    body_length: int

    def __post_init__(self) -> None:
        if self.body_length < BODY_PREFIX_SIZE + TAG_SIZE:
            raise OpenError
        if self.final_chunk_size < TAG_SIZE or self.chunk_count > MAX_CHUNKS:
            raise OpenError

    @property
    def full_chunks(self) -> int:
        return (self.body_length - BODY_PREFIX_SIZE) // ENCRYPTED_CHUNK_SIZE

    @property
    def final_chunk_size(self) -> int:
        """Encrypted size of the final (short) chunk; 0..15 means truncated or invalid."""
        return (self.body_length - BODY_PREFIX_SIZE) % ENCRYPTED_CHUNK_SIZE

    @property
    def chunk_count(self) -> int:
        return self.full_chunks + 1

    @property
    def plaintext_length(self) -> int:
        return self.full_chunks * CHUNK_SIZE + self.final_chunk_size - TAG_SIZE

    def chunk_span(self, index: int) -> tuple[int, int]:
        """(offset within the body, encrypted size) of chunk ``index``."""
        offset = BODY_PREFIX_SIZE + index * ENCRYPTED_CHUNK_SIZE
        size = ENCRYPTED_CHUNK_SIZE if index < self.full_chunks else self.final_chunk_size
        return offset, size
