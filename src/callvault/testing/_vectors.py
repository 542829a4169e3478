"""Deterministic sealing of v1 objects, for test vectors only.

TEST-ONLY. NEVER USE FOR REAL DATA. Every function here takes its DEK, salt and nonces as
arguments instead of drawing them from the operating system's CSPRNG. Real sealing draws a
fresh 256-bit DEK, a fresh 24-byte salt and fresh 96-bit nonces for every object; reusing
any of them across objects breaks confidentiality and integrity. This module exists so that
``tests/vectors/generate.py`` can write byte-exact vectors that anyone can replay.

It rebuilds, from ``cryptography`` primitives (HKDF-Expand via ``derive_raw``, AESGCM) and
``callvault.format``'s ``Header``, ``ObjectContext`` and ``wrap_aad``, exactly the bytes the
real sealer (``callvault.envelope`` over ``callvault.keys`` and the local KMS) writes. The
Cobblestone-256 chunking, the local KMS wrap AAD, the managed-key AAD and the subject blind
id are written out again here from docs/format.md on purpose, instead of being imported from
the modules that implement them: if either side changes, the vector tests (which also open
every vector with the real opener and ``cryptography.cobblestone``) fail.
"""

from __future__ import annotations

import hmac
import struct

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from callvault._ids import DataClass
from callvault.format import Header, KeyReference, ObjectContext, wrap_aad
from callvault.format._cobblestone import (
    CHUNK_SIZE,
    KEY_SIZE,
    MAX_CHUNKS,
    NONCE_SIZE,
    SALT_SIZE,
    derive_raw,
)
from callvault.format._encoding import encode_fields

__all__ = [
    "encrypt_body",
    "local_kms_wrap",
    "local_kms_wrap_aad",
    "managed_key_aad",
    "managed_key_name",
    "seal_v1",
    "subject_key_id",
    "subject_wrap",
]

LOCAL_PROVIDER = "local"


def _check(name: str, value: bytes, size: int) -> None:
    if not isinstance(value, bytes) or len(value) != size:
        raise ValueError(f"{name} must be {size} bytes")


def encrypt_body(dek: bytes, salt: bytes, body_context: bytes, plaintext: bytes) -> bytes:
    """Cobblestone-256 (c2sp.org/chunked-encryption, HKDF-Expand SHA-512, AES-256-GCM) with an
    injected salt: ``salt || commitment || chunk 0 || ... || final chunk``."""
    _check("dek", dek, KEY_SIZE)
    _check("salt", salt, SALT_SIZE)
    key, base_nonce, commitment = derive_raw(dek, salt, body_context)
    aead = AESGCM(key)
    base = int.from_bytes(base_nonce, "big")
    full = len(plaintext) // CHUNK_SIZE  # the final chunk is always short, maybe empty
    if full + 1 > MAX_CHUNKS:
        raise ValueError("message exceeds 2**38 chunks")
    parts = [salt, commitment]
    for index in range(full + 1):
        chunk = plaintext[index * CHUNK_SIZE : (index + 1) * CHUNK_SIZE]
        nonce = (base ^ index).to_bytes(NONCE_SIZE, "big")
        parts.append(aead.encrypt(nonce, chunk, None))
    return b"".join(parts)


def local_kms_wrap_aad(key_id: str, version: int, associated_data: bytes) -> bytes:
    """AAD of a local KMS wrap: the key id, the version and the caller's associated data."""
    return encode_fields(
        b"callvault/local-kms-wrap/v1",
        [key_id.encode(), struct.pack(">I", version), associated_data],
    )


def local_kms_wrap(
    master_key: bytes,
    key_id: str,
    version: int,
    nonce: bytes,
    key: bytes,
    associated_data: bytes,
) -> bytes:
    """A local KMS wrap blob: ``nonce(12) || AES-256-GCM(master key, key) (32 + 16)``."""
    _check("master_key", master_key, KEY_SIZE)
    _check("nonce", nonce, NONCE_SIZE)
    _check("key", key, KEY_SIZE)
    aad = local_kms_wrap_aad(key_id, version, associated_data)
    return nonce + AESGCM(master_key).encrypt(nonce, key, aad)


def subject_wrap(subject_key: bytes, nonce: bytes, dek: bytes, aad: bytes) -> bytes:
    """A DEK wrapped by a subject key: ``nonce(12) || AES-256-GCM(subject key, dek)``."""
    _check("subject_key", subject_key, KEY_SIZE)
    _check("nonce", nonce, NONCE_SIZE)
    _check("dek", dek, KEY_SIZE)
    return nonce + AESGCM(subject_key).encrypt(nonce, dek, aad)


def subject_key_id(index_key: bytes, subject: str) -> bytes:
    """A subject's blind id: HMAC-SHA256 under the tenant's index key."""
    _check("index_key", index_key, KEY_SIZE)
    message = encode_fields(b"callvault/subject-id/v1", [subject.encode()])
    return hmac.digest(index_key, message, "sha256")


def managed_key_name(tenant: str, data_class: DataClass, subject_id: bytes) -> str:
    """The managed-key store name of a subject key (one per tenant, class and subject)."""
    return f"{tenant}/{DataClass(data_class).value}/subject/{subject_id.hex()}"


def managed_key_aad(name: str) -> bytes:
    """Associated data under which the KMS wraps a managed (subject or index) key."""
    return encode_fields(b"callvault/managed-key/v1", [name.encode()])


def seal_v1(
    context: ObjectContext,
    plaintext: bytes,
    *,
    dek: bytes,
    salt: bytes,
    dek_wrap_nonce: bytes,
    key_id: str,
    key_version: int,
    master_key: bytes | None = None,
    subject_key: bytes | None = None,
    subject_id: bytes = b"",
) -> bytes:
    """A complete v1 sealed object (header || body), deterministically. TEST-ONLY.

    Without a subject key the DEK is wrapped by the local KMS master key ``master_key``
    (version ``key_version``). With one, the DEK is wrapped by ``subject_key`` and
    ``key_version`` is the master key version that wraps the subject key's record; the
    master key itself is then not needed here.
    """
    if (subject_key is None) != (subject_id == b""):
        raise ValueError("give subject_key and subject_id together, or neither")
    ref = KeyReference(LOCAL_PROVIDER, key_id, key_version)
    aad = wrap_aad(ref, subject_id, context)
    if subject_key is None:
        if master_key is None:
            raise ValueError("master_key is required when the DEK is not wrapped by a subject")
        wrapped = local_kms_wrap(master_key, key_id, key_version, dek_wrap_nonce, dek, aad)
    else:
        wrapped = subject_wrap(subject_key, dek_wrap_nonce, dek, aad)
    header = Header(ref, subject_id, wrapped)
    return header.encode() + encrypt_body(dek, salt, header.body_context(context), plaintext)
