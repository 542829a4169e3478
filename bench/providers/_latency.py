"""Per-call latency of provider operations, bare vs through the stack, and of the key
hierarchy's unwrap with a warm and a cold cache.

Unlike ``bench._timing`` (which times batches of calls and reports the median batch),
every call is timed on its own here: a KMS round trip is long enough (10 µs to
milliseconds) for ``perf_counter`` to resolve it, and the spread of single calls, the p90,
is part of what a provider costs. Variants that are compared are interleaved call by call
(A B, B A, A B, ...) so that drift on a shared machine hits both alike, and each variant's
untimed ``prepare(i)`` runs right before its timed ``run(i)`` (e.g. clearing the cache).
The garbage collector is paused while timing, as in the other sections.
"""

from __future__ import annotations

import gc
import math
import os
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from callvault import DataClass, Environment, Vault
from callvault.format import KeyReference, ObjectContext, wrap_aad
from callvault.keys import KeyMaterial
from callvault.keys.providers import KmsProvider

__all__ = [
    "Timed",
    "hierarchy_latency",
    "object_aad",
    "provider_latency",
    "summarise",
    "time_interleaved",
]


def _nothing(i: int) -> None:
    del i


@dataclass(frozen=True)
class Timed:
    name: str
    run: Callable[[int], object]
    prepare: Callable[[int], object] = _nothing


def summarise(samples: Sequence[float]) -> dict[str, float]:
    """Median, p90 (nearest rank), mean and best of per-call seconds, in µs."""
    ordered = sorted(samples)
    p90 = ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]
    return {
        "calls": len(ordered),
        "median_us": statistics.median(ordered) * 1e6,
        "p90_us": p90 * 1e6,
        "mean_us": statistics.fmean(ordered) * 1e6,
        "best_us": ordered[0] * 1e6,
    }


def time_interleaved(variants: Sequence[Timed], calls: int, warmup: int) -> dict[str, Any]:
    """``calls`` timed calls of each variant, interleaved; ``warmup`` untimed ones first."""
    for i in range(warmup):
        for v in variants:
            v.prepare(i)
            v.run(i)
    samples: dict[str, list[float]] = {v.name: [] for v in variants}
    gc.collect()
    gc.disable()
    try:
        for i in range(calls):
            for v in variants if i % 2 == 0 else reversed(variants):
                v.prepare(i)
                start = time.perf_counter()
                v.run(i)
                samples[v.name].append(time.perf_counter() - start)
    finally:
        gc.enable()
    return {name: summarise(s) for name, s in samples.items()}


def object_aad(scheme: str, environment: Environment, kek: str, i: int) -> bytes:
    """The associated data the hierarchy binds to the DEK wrap of a plausible object (the
    same size and shape as in production: key reference and object context)."""
    tenant = kek.split("/")[1]
    context = ObjectContext(tenant, environment, DataClass.RECORDING, f"o{i:08d}")
    return wrap_aad(KeyReference(scheme, kek, 1), b"", context)


def provider_latency(
    bare: KmsProvider, stack: KmsProvider, kek: str, calls: int, pool: int
) -> dict[str, Any]:
    """generate_data_key, wrap and unwrap: bare provider vs the full stack, per call."""
    aads = [object_aad(bare.scheme, bare.environment, kek, i) for i in range(pool)]
    deks = [KeyMaterial(os.urandom(32), "bench data key") for _ in range(pool)]
    wrapped = [bare.wrap(kek, deks[i], aads[i]) for i in range(pool)]
    warmup = max(3, calls // 20)
    ops: dict[str, Callable[[KmsProvider], Callable[[int], object]]] = {
        "generate_data_key": lambda p: lambda i: p.generate_data_key(kek, aads[i % pool]),
        "wrap": lambda p: lambda i: p.wrap(kek, deks[i % pool], aads[i % pool]),
        "unwrap": lambda p: lambda i: p.unwrap(kek, wrapped[i % pool], aads[i % pool]),
    }
    out: dict[str, Any] = {}
    for op, bind in ops.items():
        timed = time_interleaved(
            [Timed("bare", bind(bare)), Timed("stack", bind(stack))], calls, warmup
        )
        timed["overhead_us"] = timed["stack"]["median_us"] - timed["bare"]["median_us"]
        out[op] = timed
    return out


def hierarchy_latency(vault: Vault, tenant: str, calls: int, pool: int) -> dict[str, Any]:
    """``vault.keys.data_key(header, context)``: DEK in the cache (warm) vs cache cleared
    before the call (cold: one unwrap through the provider stack). Clearing is untimed;
    the warm variant makes sure its own header is cached first, whatever ran before."""
    contexts = [vault.context(tenant, DataClass.RECORDING, f"h{i}") for i in range(pool)]
    headers = [vault.keys.new_data_key(c)[1] for c in contexts]
    expected = [vault.keys.data_key(headers[i], contexts[i]).secret_bytes() for i in range(pool)]

    def unwrap(i: int) -> KeyMaterial:
        return vault.keys.data_key(headers[i % pool], contexts[i % pool])

    timed = time_interleaved(
        [
            Timed("cold", unwrap, prepare=lambda i: vault.cache.clear()),
            Timed("warm", unwrap, prepare=unwrap),
        ],
        calls,
        max(3, calls // 20),
    )
    vault.cache.clear()
    if [unwrap(i).secret_bytes() for i in range(pool)] != expected:
        raise AssertionError("the hierarchy's unwrap returned a different DEK")
    timed["cold_over_warm"] = timed["cold"]["median_us"] / timed["warm"]["median_us"]
    return timed
