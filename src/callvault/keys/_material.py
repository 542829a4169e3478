"""Handles for secret key bytes that never show them.

repr and str print only what the key is, never its bytes; pickling is refused so a key
cannot leak through a cache, a queue or a crash dump of a pickled object. The raw bytes are
reachable only through ``secret_bytes()``, which library internals call right before
handing them to a ``cryptography`` primitive.
"""

from __future__ import annotations

import os
from typing import Any, NoReturn

__all__ = ["KeyMaterial"]


class KeyMaterial:
    """A 256-bit secret key with a non-secret label for logs and errors."""

    __slots__ = ("_bytes", "label")

    def __init__(self, secret: bytes, label: str) -> None:
        if len(secret) != 32:
            raise ValueError("key material must be 32 bytes")
        self._bytes = secret if type(secret) is bytes else bytes(secret)  # immutable: no copy
        self.label = label

    @classmethod
    def generate(cls, label: str) -> KeyMaterial:
        return cls(os.urandom(32), label)

    def secret_bytes(self) -> bytes:
        return self._bytes

    def __repr__(self) -> str:
        return f"KeyMaterial({self.label!r})"

    __str__ = __repr__

    def __reduce__(self) -> NoReturn:
        raise TypeError("key material cannot be pickled")

    def __reduce_ex__(self, protocol: Any) -> NoReturn:
        raise TypeError("key material cannot be pickled")

    def __eq__(self, other: object) -> bool:
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]
