"""The sealing plan: what sealing objects under one tenant's data class resolves once.

Every sealed object gets a fresh DEK, wrapped under the master key its tenant and data
class map to. Most of that work gives the same answer object after object: which master
key (the tenant directory), the header's provider name and key reference, the constant
parts of the wrap's associated data, of the header and of the body context, and the
provider's wrapping state (``SealingKey``). At 1 MiB every microsecond per object is about
half a percent of streaming throughput, and the per-object work runs at two to three
times its warm cost after a megabyte of cipher has pushed its data out of the CPU caches;
so a plan keeps those answers, and an object costs two ``os.stat`` calls, one draw of
randomness, one AES-GCM wrap and three concatenations.

A plan is used only while both its sources are unchanged, checked on every object: the
tenant directory's document is the same object (the directory reloads it when the file
changes) and the sealing key still generates (it refuses once the keyring file has changed).
So a change made by any process (a customer key registered, a key disabled, destroyed or
rotated) applies to the very next seal, exactly as on the path without a plan; tests
compare the two paths byte for byte. A plan holds no key material: one left behind for a
class nobody seals any more keeps no destroyed key in memory.
"""

from __future__ import annotations

from dataclasses import dataclass

from callvault.keys.providers._base import SealingKey

__all__ = ["SealPlan"]


@dataclass(frozen=True, slots=True)
class SealPlan:
    """Sealing under one (tenant, data class) without a subject: ``seal`` gives the header
    bytes, the DEK and the body context ``new_data_key`` and its header would give."""

    kek_generation: object
    """The tenant directory's document the master key was resolved from (compared by
    identity: the directory hands out a new one after any change)."""
    key: SealingKey
    aad_prefix: bytes
    """The DEK wrap's associated data up to the object context's fields."""
    header_prefix: bytes
    """The header up to the wrapped DEK (its length is ``key.wrapped_size``)."""
    body_prefix: bytes
    """The body context up to the object context's fields."""

    def seal(self, context_tail: bytes) -> tuple[bytes, bytes, bytes] | None:
        """(header, DEK, body context) of a new object whose context encodes to
        ``context_tail`` (``ObjectContext.encoded_tail``); ``None`` when the sealing key no
        longer matches the stored key (a new plan is needed)."""
        made = self.key.generate(self.aad_prefix + context_tail)
        if made is None:
            return None
        secret, blob = made
        if len(blob) != self.key.wrapped_size:  # the header's length field would be wrong
            raise RuntimeError("the sealing key returned a wrap of an unexpected size")
        return self.header_prefix + blob, secret, self.body_prefix + context_tail
