"""Project Wycheproof's Cobblestone-256 vectors, applied to every way callvault decrypts a body.

The vectors live beside the repository (``<repo>/../shared/vectors``, see its README for
provenance); they are never copied in. How to apply them is Wycheproof's
``doc/c2sp_chunked_encryption.md``:

- streaming (``BodyDecryptor``): ``valid`` gives ``msgLength`` bytes hashing to
  ``msgSha512``; ``invalid`` fails; with ``PartialPlaintext`` at most the valid prefix may be
  released first, and the decoder keeps failing; otherwise nothing is released;
- random access (``RangeReader``): reading the whole message succeeds exactly for ``valid``;
  authenticating the length fails for ``invalid`` except ``ValidFinalChunk``; header
  failures are caught before any chunk is read;
- raw mode: ``aeadKey``/``baseNonce`` are what the key derivation gives, and re-encrypting
  a message reproduces the ciphertext after its 56-byte header.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from callvault.errors import InvalidRequest, OpenError
from callvault.format import BodyDecryptor, RangeReader
from callvault.format._cobblestone import derive, derive_raw

VECTORS = Path(__file__).resolve().parents[2].parent / "shared" / "vectors"
VECTOR_FILE = VECTORS / "wycheproof" / "c2sp_chunked_encryption_aes_256_gcm_test.json"

# The spec's constants, written out here so the tests do not trust the code under test.
HEADER = 56  # salt (24) || commitment (32)
CHUNK = 16384
ENCRYPTED = CHUNK + 16
KNOWN_FLAGS = {
    "ChunkReordering",
    "CounterRollover",
    "HeaderFailure",
    "InvalidKeySize",
    "ModifiedCiphertext",
    "PartialPlaintext",
    "TrailingData",
    "Truncation",
    "ValidFinalChunk",
    "WrongContext",
    "WrongKey",
}

if not VECTOR_FILE.is_file():
    pytest.skip(f"Wycheproof vectors not found at {VECTOR_FILE}", allow_module_level=True)

DOCUMENT = json.loads(VECTOR_FILE.read_text())


@dataclass(frozen=True)
class Vector:
    tc_id: int
    comment: str
    key: bytes
    ctx: bytes
    ct_hex: str
    valid: bool
    flags: frozenset[str]
    msg_length: int | None
    msg_sha512: str | None
    aead_key: bytes | None
    base_nonce: bytes | None

    @cached_property
    def ct(self) -> bytes:
        return zlib.decompress(bytes.fromhex(self.ct_hex))

    def reader(self) -> RangeReader:
        data = memoryview(self.ct)
        return RangeReader(
            lambda offset, size: bytes(data[offset : offset + size]),
            0,
            len(self.ct),
            self.key,
            self.ctx,
        )


def _load() -> list[Vector]:
    vectors = []
    for group in DOCUMENT["testGroups"]:
        for test in group["tests"]:
            vectors.append(
                Vector(
                    tc_id=test["tcId"],
                    comment=test["comment"],
                    key=bytes.fromhex(test["key"]),
                    ctx=bytes.fromhex(test["ctx"]),
                    ct_hex=test["ct"],
                    valid=test["result"] == "valid",
                    flags=frozenset(test["flags"]),
                    msg_length=test.get("msgLength"),
                    msg_sha512=test.get("msgSha512"),
                    aead_key=bytes.fromhex(test["aeadKey"]) if "aeadKey" in test else None,
                    base_nonce=bytes.fromhex(test["baseNonce"]) if "baseNonce" in test else None,
                )
            )
    return vectors


ALL = _load()
BY_ID = {v.tc_id: v for v in ALL}


def _params(vectors: list[Vector]) -> pytest.MarkDecorator:
    return pytest.mark.parametrize("vector", vectors, ids=[f"tc{v.tc_id}" for v in vectors])


params = _params(ALL)


# -- an independent raw-mode decoder (AESGCM only), to judge what callvault released ----------


def _nonce(base_nonce: bytes, index: int) -> bytes:
    return (int.from_bytes(base_nonce, "big") ^ index).to_bytes(12, "big")


def _raw_chunk(vector: Vector, index: int) -> bytes | None:
    """Chunk ``index`` of the body as the fixed layout places it, decrypted, or None."""
    assert vector.aead_key is not None and vector.base_nonce is not None
    body = vector.ct[HEADER:]
    start = index * ENCRYPTED
    try:
        return AESGCM(vector.aead_key).decrypt(
            _nonce(vector.base_nonce, index), body[start : start + ENCRYPTED], None
        )
    except (InvalidTag, ValueError):
        return None


def _raw_prefix(vector: Vector) -> bytes:
    """The longest prefix of whole chunks that authenticate at their own index."""
    out = bytearray()
    index = 0
    while (plaintext := _raw_chunk(vector, index)) is not None and len(plaintext) == CHUNK:
        out += plaintext
        index += 1
    return bytes(out)


def _sha(data: bytes) -> str:
    return hashlib.sha512(data).hexdigest()


# -- the file itself -----------------------------------------------------------------------


def test_vector_file_is_the_expected_one() -> None:
    assert DOCUMENT["algorithm"] == "Cobblestone-256"
    assert DOCUMENT["numberOfTests"] == len(ALL) > 0
    assert len(BY_ID) == len(ALL)
    for group in DOCUMENT["testGroups"]:
        assert group["type"] == "ChunkedEncryption"
        assert group["aead"] == "AEAD_AES_256_GCM"
        assert group["sha"] == "SHA-512"
    for vector in ALL:
        assert vector.flags <= KNOWN_FLAGS, vector.flags - KNOWN_FLAGS
        if vector.valid or "PartialPlaintext" in vector.flags:
            assert vector.msg_length is not None and vector.msg_sha512 is not None
        assert ("HeaderFailure" in vector.flags) == (vector.aead_key is None)
    # Both outcomes and the interesting shapes are present, or this file proves little.
    assert any(v.valid for v in ALL) and any(not v.valid for v in ALL)
    assert any("CounterRollover" in v.flags for v in ALL)
    assert any("PartialPlaintext" in v.flags for v in ALL)


# -- (a) streaming -------------------------------------------------------------------------


def _piece_sizes(vector: Vector) -> list[int]:
    sizes = [max(len(vector.ct), 1), 16399, ENCRYPTED, 16401, (1 << 20) + 3]
    if len(vector.ct) <= 64 * 1024:
        sizes += [1, 7, 57]
    else:
        sizes += [4093]
    return sizes


def _stream(
    vector: Vector, piece: int, *, into: bool
) -> tuple[bytes, OpenError | None, BodyDecryptor | None]:
    """Feed the ciphertext in ``piece``-byte pieces: (released output, error, decryptor)."""
    out = bytearray()
    try:
        decryptor = BodyDecryptor(vector.key, vector.ctx)
    except OpenError as exc:
        return b"", exc, None
    data = memoryview(vector.ct)
    buffer = bytearray(BodyDecryptor.output_bound(piece))
    try:
        for start in range(0, len(data), piece):
            if into:
                written = decryptor.update_into(data[start : start + piece], buffer)
                out += buffer[:written]
            else:
                out += decryptor.update(data[start : start + piece])
        out += decryptor.finalize()
    except OpenError as exc:
        return bytes(out), exc, decryptor
    return bytes(out), None, decryptor


def _assert_keeps_failing(decryptor: BodyDecryptor) -> None:
    buffer = bytearray(BodyDecryptor.output_bound(ENCRYPTED + 1))
    for _ in range(2):
        with pytest.raises(OpenError):
            decryptor.update(b"")
        with pytest.raises(OpenError):
            decryptor.update(bytes(ENCRYPTED + 1))
        with pytest.raises(OpenError):
            decryptor.update_into(bytes(ENCRYPTED + 1), buffer)
        with pytest.raises(OpenError):
            decryptor.finalize()


@params
def test_streaming(vector: Vector) -> None:
    for piece in _piece_sizes(vector):
        for into in (False, True):
            out, error, decryptor = _stream(vector, piece, into=into)
            where = f"piece={piece} into={into}"
            if vector.valid:
                assert error is None, where
                assert len(out) == vector.msg_length, where
                assert _sha(out) == vector.msg_sha512, where
                assert decryptor is not None
                _assert_keeps_failing(decryptor)  # no second clean end after finalize
                continue
            assert isinstance(error, OpenError), where
            assert type(error) is OpenError and str(error) == OpenError.MESSAGE, where
            if "PartialPlaintext" in vector.flags:
                assert vector.msg_length is not None
                prefix = _raw_prefix(vector)
                assert len(prefix) == vector.msg_length
                assert _sha(prefix) == vector.msg_sha512
                assert len(out) <= vector.msg_length, where
                assert out == prefix[: len(out)], where
            else:
                assert out == b"", where  # no valid prefix, so nothing may be released
            if decryptor is not None:
                _assert_keeps_failing(decryptor)


@_params([v for v in ALL if "InvalidKeySize" in v.flags])
def test_invalid_key_size_is_rejected_when_the_key_is_given(vector: Vector) -> None:
    assert len(vector.key) != 32
    with pytest.raises(OpenError):
        BodyDecryptor(vector.key, vector.ctx)  # before any ciphertext is given
    with pytest.raises(OpenError):
        derive_raw(vector.key, vector.ct[:24], vector.ctx)
    with pytest.raises(OpenError):
        vector.reader()


# -- (b) random access ---------------------------------------------------------------------


@params
def test_random_access(vector: Vector) -> None:
    try:
        vector.reader()
    except OpenError as exc:
        assert not vector.valid, "a valid vector must open for random access"
        assert str(exc) == OpenError.MESSAGE
        return
    assert "HeaderFailure" not in vector.flags, "header failures must be caught at construction"
    assert "InvalidKeySize" not in vector.flags

    # Reading the whole message.
    reader = vector.reader()
    if vector.valid:
        assert reader.length == vector.msg_length
        whole = reader.read(0, reader.length - 1) if reader.length else b""
        assert len(whole) == vector.msg_length
        assert _sha(whole) == vector.msg_sha512
    elif reader.length:
        with pytest.raises(OpenError):
            reader.read(0, reader.length - 1)
    else:
        with pytest.raises(OpenError):
            reader.authenticated_length()

    # Authenticating the length (decrypting the final chunk at its index).
    reader = vector.reader()
    if vector.valid or "ValidFinalChunk" in vector.flags:
        assert reader.authenticated_length() == reader.length
    else:
        with pytest.raises(OpenError):
            reader.authenticated_length()

    # Any chunk, read alone and in reverse order: either it fails, or it is exactly what an
    # independent AESGCM decryption of that chunk at that index gives. Never anything else.
    reader = vector.reader()
    chunks = []
    for index in reversed(range(reader.length // CHUNK + 1)):
        start = index * CHUNK
        end = min(start + CHUNK, reader.length) - 1
        if start > end:
            continue
        try:
            got = reader.read(start, end)
        except OpenError:
            assert not vector.valid
            continue
        expected = _raw_chunk(vector, index)
        assert expected is not None, f"chunk {index} released without authenticating"
        assert got == expected[: end - start + 1]
        chunks.append(got)
    if vector.valid:
        whole = b"".join(reversed(chunks))
        assert _sha(whole) == vector.msg_sha512

    # The valid prefix of a PartialPlaintext vector may be read; if so, it must be exact.
    if "PartialPlaintext" in vector.flags and vector.msg_length:
        try:
            prefix = vector.reader().read(0, vector.msg_length - 1)
        except (OpenError, InvalidRequest):
            pass
        else:
            assert _sha(prefix) == vector.msg_sha512


# -- (c) raw mode --------------------------------------------------------------------------


@params
def test_raw_mode_key_derivation(vector: Vector) -> None:
    if "HeaderFailure" in vector.flags:
        # The commitment check (or the key size, or the length) must refuse it.
        with pytest.raises(OpenError):
            derive(vector.key, vector.ct[:HEADER], vector.ctx)
        return
    key, base_nonce, commitment = derive_raw(vector.key, vector.ct[:24], vector.ctx)
    assert key == vector.aead_key
    assert base_nonce == vector.base_nonce
    assert commitment == vector.ct[24:HEADER]
    keys = derive(vector.key, vector.ct[:HEADER], vector.ctx)
    for index in (0, 1, 0xFF, 0x100, 0x101, 2**32 - 1, 2**32, 2**38 - 1):
        assert keys.nonce(index) == _nonce(base_nonce, index)


@_params([v for v in ALL if v.valid])
def test_raw_mode_reencryption_reproduces_the_body(vector: Vector) -> None:
    assert vector.aead_key is not None and vector.base_nonce is not None
    out, error, _ = _stream(vector, len(vector.ct), into=False)
    assert error is None and _sha(out) == vector.msg_sha512

    aead = AESGCM(vector.aead_key)
    keys = derive(vector.key, vector.ct[:HEADER], vector.ctx)
    pieces = [out[i : i + CHUNK] for i in range(0, len(out), CHUNK)]
    if not pieces or len(pieces[-1]) == CHUNK:
        pieces.append(b"")  # the final chunk is always short, so possibly empty
    independent = b"".join(
        aead.encrypt(_nonce(vector.base_nonce, i), piece, None) for i, piece in enumerate(pieces)
    )
    ours = b"".join(keys.encrypt_chunk(i, piece) for i, piece in enumerate(pieces))
    assert independent == vector.ct[HEADER:]
    assert ours == vector.ct[HEADER:]
