"""The backup body: named members, framed, then sealed as one Cobblestone-256 stream.

Plaintext of the body (docs/backup.md)::

    member   = u8 kind || u16 len(name) || name || piece* || u32 0
    piece    = u32 n || n bytes            (0 < n <= 1 MiB)
    body     = member(kind=1)* || member(kind=2, name="manifest")

The last member is the manifest: canonical JSON listing every earlier member's name, size
and SHA-256, in order. It comes *last* because the writer streams in one pass (an object's
digest is known only once it has been read) and because names and counts are metadata
that should not sit in a clear header; it is authenticated by the same AEAD stream, whose
context is the header, so it is bound to the header more strongly than AAD would bind it.

Pieces make a member's length unnecessary up front (an S3 object is streamed, not sized
first) and keep memory constant on both sides. The reader hands out plaintext only as the
AEAD releases it (chunk by chunk, after each tag verified); the *restore* treats nothing as
final until the stream has ended cleanly (``finish``), since a truncated stream is only
detected there.
"""

from __future__ import annotations

import hashlib
import json
import re
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from callvault.errors import BackupInvalid, OpenError
from callvault.format import IO_BLOCK, BodyDecryptor, BodyEncryptor

__all__ = ["FILE", "MANIFEST", "ArchiveReader", "ArchiveWriter", "Member", "check_name"]

FILE, MANIFEST = 1, 2
MANIFEST_FORMAT = "callvault-backup-manifest/v1"
_MAX_PIECE = IO_BLOCK
_MAX_NAME = 1024
_MAX_MANIFEST = 256 * 1024 * 1024
_HEAD = struct.Struct(">BH")
_U32 = struct.Struct(">I")
_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:+@=-]{0,254}")


def check_name(name: str) -> str:
    """A member name: ``/``-separated segments of a small alphabet, never ``.``/``..``,
    never absolute: a name can only ever map to a path inside the restore's staging."""
    parts = name.split("/")
    if len(name) > _MAX_NAME or not all(_SEGMENT.fullmatch(p) for p in parts):
        raise BackupInvalid(f"invalid member name {name[:80]!r}")
    return name


@dataclass(frozen=True, slots=True)
class Member:
    name: str
    size: int
    sha256: str

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "size": self.size, "sha256": self.sha256}


class ArchiveWriter:
    """Frames members and encrypts the framing into ``out`` as it goes."""

    def __init__(self, out: BinaryIO, dek: bytes, context: bytes) -> None:
        self._out = out
        self._enc = BodyEncryptor(dek, context)
        self._buffer = bytearray()
        self.members: list[Member] = []
        self.bytes_in = 0

    def add(self, name: str, pieces: Iterable[bytes]) -> Member:
        digest = hashlib.sha256()
        size = 0
        self._put(_HEAD.pack(FILE, len(check_name(name).encode())) + name.encode())
        for piece in pieces:
            for start in range(0, len(piece), _MAX_PIECE):
                part = piece[start : start + _MAX_PIECE]
                digest.update(part)
                size += len(part)
                self._put(_U32.pack(len(part)))
                self._put(part)
        self._put(_U32.pack(0))
        member = Member(name, size, digest.hexdigest())
        self.members.append(member)
        self.bytes_in += size
        return member

    def finish(self, extra: dict[str, Any]) -> None:
        """Append the manifest (``extra`` plus the member list) and end the stream."""
        manifest = {
            **extra,
            "format": MANIFEST_FORMAT,
            "members": [m.as_json() for m in self.members],
        }
        data = json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode()
        self._put(_HEAD.pack(MANIFEST, len(b"manifest")) + b"manifest")
        for start in range(0, len(data), _MAX_PIECE):
            part = data[start : start + _MAX_PIECE]
            self._put(_U32.pack(len(part)) + part)
        self._put(_U32.pack(0))
        self._flush(force=True)
        self._out.write(self._enc.finalize())

    def _put(self, data: bytes) -> None:
        self._buffer += data
        if len(self._buffer) >= IO_BLOCK:
            self._flush()

    def _flush(self, force: bool = False) -> None:
        if self._buffer or force:
            self._out.write(self._enc.update(bytes(self._buffer)))
            self._buffer.clear()


class ArchiveReader:
    """Decrypts and parses the body; every failure is ``BackupInvalid``."""

    def __init__(self, src: BinaryIO, dek: bytes, context: bytes) -> None:
        self._src = src
        try:
            self._dec = BodyDecryptor(dek, context)
        except OpenError:
            raise _invalid() from None
        self._buffer = bytearray()
        self._ended = False

    def members(self) -> Iterator[tuple[int, str, Iterator[bytes]]]:
        """``(kind, name, pieces)`` per member; consume ``pieces`` before the next one."""
        while True:
            kind, name_len = _HEAD.unpack(self._read(_HEAD.size))
            if kind not in (FILE, MANIFEST):
                raise _invalid()
            name = self._read(name_len).decode("utf-8", "strict")
            yield kind, check_name(name), self._pieces()
            if kind == MANIFEST:
                return

    def manifest(self, pieces: Iterator[bytes]) -> dict[str, Any]:
        data = bytearray()
        for piece in pieces:
            data += piece
            if len(data) > _MAX_MANIFEST:
                raise _invalid()
        try:
            manifest: dict[str, Any] = json.loads(data)
        except ValueError:
            raise _invalid() from None
        if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
            raise _invalid()
        return manifest

    def finish(self) -> None:
        """Require the clean end of the stream: nothing after the manifest, final chunk."""
        if self._buffer or self._fill(1):
            raise _invalid()
        if not self._ended:
            raise _invalid()

    def _pieces(self) -> Iterator[bytes]:
        while True:
            (size,) = _U32.unpack(self._read(_U32.size))
            if size == 0:
                return
            if size > _MAX_PIECE:
                raise _invalid()
            yield self._read(size)

    def _read(self, size: int) -> bytes:
        if not self._fill(size):
            raise _invalid()  # the stream ended inside a member: truncated
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data

    def _fill(self, size: int) -> bool:
        while len(self._buffer) < size and not self._ended:
            block = self._src.read(IO_BLOCK)
            try:
                if block:
                    self._buffer += self._dec.update(block)
                else:
                    self._buffer += self._dec.finalize()
                    self._ended = True
            except OpenError:
                raise _invalid() from None
        return len(self._buffer) >= size


def _invalid() -> BackupInvalid:
    return BackupInvalid(
        "the backup is corrupt, truncated or tampered with (or not for this key); "
        "nothing was restored"
    )
