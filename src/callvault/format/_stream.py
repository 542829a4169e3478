"""Streaming body encryption and decryption over ``cryptography.cobblestone``.

Thin wrappers that (1) map every library failure to the one opaque ``OpenError``,
(2) stay failed once they have failed (a streaming reader must keep failing, never report
a clean end after an error), and (3) reuse one output buffer so large streams do not
allocate per call.
"""

from __future__ import annotations

from cryptography.cobblestone import Cobblestone256Decryptor, Cobblestone256Encryptor

from callvault.errors import OpenError
from callvault.format._cobblestone import CHUNK_SIZE, ENCRYPTED_CHUNK_SIZE, TAG_SIZE

__all__ = ["IO_BLOCK", "BodyDecryptor", "BodyEncryptor"]

IO_BLOCK = 64 * CHUNK_SIZE  # 1 MiB of plaintext per read: whole chunks, few Python calls


class BodyEncryptor:
    """Encrypts one body; ``update`` returns whole encrypted chunks as they fill."""

    __slots__ = ("_done", "_enc")

    def __init__(self, dek: bytes, context: bytes) -> None:
        self._enc = Cobblestone256Encryptor(dek, context)
        self._done = False

    def update(self, data: bytes | bytearray | memoryview) -> bytes:
        if self._done:
            raise RuntimeError("encryptor already finalized")
        return self._enc.update(data)

    def update_into(self, data: bytes | bytearray | memoryview, out: bytearray) -> int:
        """Encrypt into ``out`` (sized with ``output_bound``); returns bytes written."""
        if self._done:
            raise RuntimeError("encryptor already finalized")
        return int(self._enc.update_into(data, out))

    def finalize(self) -> bytes:
        self._done = True
        return self._enc.finalize()

    @staticmethod
    def output_bound(input_size: int) -> int:
        """Largest output one update of ``input_size`` bytes can produce (with the prefix)."""
        chunks = input_size // CHUNK_SIZE + 2
        return 56 + chunks * ENCRYPTED_CHUNK_SIZE


class BodyDecryptor:
    """Decrypts one body; releases a chunk's plaintext only after its tag verified.

    Once any call has failed, every later call fails too.
    """

    __slots__ = ("_dec", "_done", "_failed")

    def __init__(self, dek: bytes, context: bytes) -> None:
        try:
            self._dec = Cobblestone256Decryptor(dek, context)
        except Exception as exc:  # wrong key size
            raise OpenError from exc
        self._failed = False
        self._done = False

    def _guard(self) -> None:
        if self._failed or self._done:
            self._failed = True
            raise OpenError

    def update(self, data: bytes | bytearray | memoryview) -> bytes:
        self._guard()
        try:
            return self._dec.update(data)
        except Exception as exc:
            self._failed = True
            raise OpenError from exc

    def update_into(self, data: bytes | bytearray | memoryview, out: bytearray) -> int:
        self._guard()
        try:
            return int(self._dec.update_into(data, out))
        except Exception as exc:
            self._failed = True
            raise OpenError from exc

    def finalize(self) -> bytes:
        self._guard()
        try:
            out = self._dec.finalize()
        except Exception as exc:
            self._failed = True
            raise OpenError from exc
        self._done = True
        return out

    @staticmethod
    def output_bound(input_size: int) -> int:
        return (input_size // ENCRYPTED_CHUNK_SIZE + 2) * CHUNK_SIZE + TAG_SIZE
