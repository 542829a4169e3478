"""Rewrap rate at the provider: N DEKs wrapped under version 1, rotate, rewrap them all.

This is the KMS half of ``callvault keys rewrap`` (bench/rewrap times the whole job on the
local provider, storage included): how many DEKs per second the provider stack moves to
the new primary version. Providers with a server-side ``rewrap`` (Vault Transit's
``rewrap``, AWS ``ReEncrypt``: the DEK never reaches this process) use it; the others pay
an unwrap and a wrap under the primary, as the rewrap job does. Calls go through the full
stack (``open_provider``: events + retries), as the job's do.

Seeding (``generate_data_key`` on the bare provider) and the check afterwards (every
rewrapped DEK unwraps, under the new version, to the very bytes it held before: compared
by SHA-256 so no plaintext key outlives its call here) are not timed. Over a network
provider the check may take an even sample (``verify``) to keep the run short: the
provider suite proves the rewrap's correctness there; here it guards the rate.

The baseline is raw ``AESGCM``: decrypt under one 256-bit key and encrypt under another,
same DEKs and associated data, ``AESGCM`` objects built once: what an unwrap + wrap costs
with no provider at all.
"""

from __future__ import annotations

import gc
import hashlib
import os
import time
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from bench.providers._latency import object_aad
from callvault import Environment
from callvault.keys.providers import KmsProvider, WrappedKey

__all__ = ["aesgcm_baseline", "rewrap_rate"]


def _digest(secret: bytes) -> bytes:
    return hashlib.sha256(secret).digest()


def _rewrapper(
    stack: KmsProvider, kek: str
) -> tuple[str, Callable[[WrappedKey, bytes], WrappedKey]]:
    native = getattr(stack, "rewrap", None)
    if callable(native):
        return "provider rewrap", lambda wrapped, aad: native(kek, wrapped, aad)

    def unwrap_wrap(wrapped: WrappedKey, aad: bytes) -> WrappedKey:
        return stack.wrap(kek, stack.unwrap(kek, wrapped, aad), aad)

    return "unwrap + wrap", unwrap_wrap


def _timed(call: Callable[[], Any]) -> tuple[Any, float]:
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter()
        result = call()
        return result, time.perf_counter() - start
    finally:
        gc.enable()


def rewrap_rate(
    bare: KmsProvider, stack: KmsProvider, kek: str, deks: int, verify: int | None = None
) -> dict[str, Any]:
    """Seed ``deks`` DEKs under ``kek`` (a fresh key at version 1), rotate, rewrap, verify
    every DEK (``verify=None``) or about ``verify`` of them, evenly spread."""
    stack.create_key(kek, {"tenant": kek.split("/")[1], "class": "all"})
    started = time.perf_counter()
    aads = [object_aad(bare.scheme, bare.environment, kek, i) for i in range(deks)]
    digests, wrapped = [], []
    for aad in aads:
        key, blob = bare.generate_data_key(kek, aad)
        digests.append(_digest(key.secret_bytes()))
        wrapped.append(blob)
    seeding = time.perf_counter() - started
    if {w.version for w in wrapped} != {1}:
        raise AssertionError("seeded DEKs are not all under version 1")
    primary = stack.rotate_key(kek).primary_version
    method, rewrap = _rewrapper(stack, kek)
    new, seconds = _timed(lambda: [rewrap(w, a) for w, a in zip(wrapped, aads, strict=True)])
    started = time.perf_counter()
    if {w.version for w in new} != {primary}:
        raise AssertionError(f"rewrapped DEKs are not all under version {primary}")
    step = 1 if verify is None else max(1, deks // verify)
    checked = range(0, deks, step)
    for i in checked:
        if _digest(bare.unwrap(kek, new[i], aads[i]).secret_bytes()) != digests[i]:
            raise AssertionError("a rewrapped DEK unwraps to different bytes")
    return {
        "deks": deks,
        "method": method,
        "from_version": 1,
        "to_version": primary,
        "seconds": seconds,
        "deks_per_second": deks / seconds,
        "seeding_seconds": seeding,
        "verify_seconds": time.perf_counter() - started,
        "verified": len(checked),
    }


def aesgcm_baseline(deks: int) -> dict[str, Any]:
    """Raw AES-256-GCM unwrap + wrap of ``deks`` DEKs, with the providers' associated data."""
    old, new = AESGCM(AESGCM.generate_key(256)), AESGCM(AESGCM.generate_key(256))
    aads = [object_aad("local", Environment.DEV, "dev/baseline/default", i) for i in range(deks)]
    blobs = []
    for aad in aads:
        nonce = os.urandom(12)
        blobs.append(nonce + old.encrypt(nonce, os.urandom(32), aad))

    def run() -> list[bytes]:
        out = []
        for blob, aad in zip(blobs, aads, strict=True):
            dek = old.decrypt(blob[:12], blob[12:], aad)
            nonce = os.urandom(12)
            out.append(nonce + new.encrypt(nonce, dek, aad))
        return out

    result, seconds = _timed(run)
    if len(result) != deks:
        raise AssertionError("baseline lost DEKs")
    return {"deks": deks, "seconds": seconds, "deks_per_second": deks / seconds}
