"""Seal and open call data: the format (``format``) driven by the key hierarchy (``keys``);
and rewrap a sealed value's header after a master-key rotation."""

from callvault.envelope._open import open_bytes, open_iter, open_stream, range_reader
from callvault.envelope._rewrap import header_of, rewrap_header
from callvault.envelope._seal import Progress, seal_bytes, seal_iter, seal_stream

__all__ = [
    "Progress",
    "header_of",
    "open_bytes",
    "open_iter",
    "open_stream",
    "range_reader",
    "rewrap_header",
    "seal_bytes",
    "seal_iter",
    "seal_stream",
]
