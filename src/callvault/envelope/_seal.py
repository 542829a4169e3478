"""Sealing: fresh DEK from the hierarchy, header, then the Cobblestone-256 body.

Streaming runs in constant memory: it reads blocks of up to 1 MiB and encrypts them into
one reused output buffer (``_pump``), so memory does not grow with the object.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import BinaryIO

from callvault.envelope._pump import pump
from callvault.format import IO_BLOCK, BodyEncryptor, ObjectContext
from callvault.keys import KeyHierarchy

__all__ = ["Progress", "seal_bytes", "seal_iter", "seal_stream"]

Progress = Callable[[int], None]
"""Called with the number of plaintext bytes just processed (for progress bars)."""


def _start(hierarchy: KeyHierarchy, context: ObjectContext) -> tuple[bytes, BodyEncryptor]:
    header, dek, body_context = hierarchy.new_object_key(context)
    return header, BodyEncryptor(dek, body_context)


def seal_bytes(hierarchy: KeyHierarchy, context: ObjectContext, plaintext: bytes) -> bytes:
    header, encryptor = _start(hierarchy, context)
    # One output-sized allocation; ``a + b + c`` would make two full-size temporaries.
    return b"".join((header, encryptor.update(plaintext), encryptor.finalize()))


def seal_stream(
    hierarchy: KeyHierarchy,
    context: ObjectContext,
    src: BinaryIO,
    dst: BinaryIO,
    progress: Progress | None = None,
) -> int:
    """Seal everything readable from ``src`` into ``dst``; returns the plaintext size.

    Memory stays constant however long the stream (``_pump``). ``dst.write`` must consume
    what it is given before returning (files and ``BytesIO`` do): the view it gets is
    released, and its buffer reused, right after.
    """
    header, encryptor = _start(hierarchy, context)
    dst.write(header)
    total, _ = pump(encryptor, src.read(IO_BLOCK), src, dst, IO_BLOCK, progress)
    dst.write(encryptor.finalize())
    return total


def seal_iter(
    hierarchy: KeyHierarchy, context: ObjectContext, chunks: Iterable[bytes]
) -> Iterator[bytes]:
    """Seal an iterable of plaintext pieces, yielding ciphertext pieces as they are ready."""
    header, encryptor = _start(hierarchy, context)
    yield header
    for piece in chunks:
        out = encryptor.update(piece)
        if out:
            yield out
    yield encryptor.finalize()
