"""Seal and open call data: the format (``format``) driven by the key hierarchy (``keys``)."""

from callvault.envelope._open import open_bytes, open_iter, open_stream, range_reader
from callvault.envelope._seal import Progress, seal_bytes, seal_iter, seal_stream

__all__ = [
    "Progress",
    "open_bytes",
    "open_iter",
    "open_stream",
    "range_reader",
    "seal_bytes",
    "seal_iter",
    "seal_stream",
]
