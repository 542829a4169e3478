"""Tenant erasure at two sizes: the key-destruction part must not grow with the objects.

Two tenants in one throw-away home (dev, local KMS), ``small`` with 10 objects and ``large``
with 100 000 (quick plan: 3 000); each object is a real sealed 256-byte recording object
(subject-less, so its DEK is wrapped by the tenant's master key), plus one subject key per
tenant. Seeding writes the sealed bytes straight into the local object store's layout
without fsync (it is not what is measured). Then, per tenant, an erasure request with grace
0 is scheduled and ``run_due`` timed; the receipt carries the two durations measured inside
the run: *key destruction* (master keys scheduled and destroyed, managed keys tombstoned)
and *total* (plus deleting every object, each unlink followed by a directory fsync, and the
records rows). Afterwards a sealed copy taken before the erasure must fail with
``KeyDestroyed``, and the receipt must verify.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from callvault import DataClass, Vault
from callvault.erasure import Erasures, Target, verify_receipt
from callvault.errors import KeyDestroyed
from callvault.storage.objects import LocalObjectStore
from callvault.storage.records import (
    RecordStore,
    create_records_engine,
    embedded_url,
    run_migrations,
)

__all__ = [
    "ERASURE_FULL",
    "ERASURE_QUICK",
    "ErasurePlan",
    "bench_erasure",
    "erasure_targets",
    "print_erasure",
]

KEY_DESTRUCTION_RATIO = 3.0
"""Target: key destruction with many objects within 3x (+20 ms of noise) of with few."""
_NOISE_SECONDS = 0.020


@dataclass(frozen=True)
class ErasurePlan:
    name: str
    sizes: tuple[int, ...]


ERASURE_FULL = ErasurePlan("full", (10, 100_000))
ERASURE_QUICK = ErasurePlan("quick", (10, 3_000))


def _seed(vault: Vault, root: Path, tenant: str, n: int) -> bytes:
    """``n`` sealed objects of ``tenant``; returns one of them (a copy for the check)."""
    directory = root / tenant / DataClass.RECORDING.value
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    sample = b""
    for i in range(n):
        sealed = vault.seal(vault.context(tenant, DataClass.RECORDING, f"o{i}"), b"x" * 256)
        (directory / f"o{i}").write_bytes(sealed)
        sample = sample or sealed
    vault.seal(vault.context(tenant, DataClass.RECORDING, "s0", "+15550000000"), b"y")
    return sample


def bench_erasure(tmp: Path, *, quick: bool) -> dict[str, Any]:
    plan = ERASURE_QUICK if quick else ERASURE_FULL
    home = tmp / "erasure-home"
    Vault.init_home(home)
    vault = Vault.open_home(home)
    engine = create_records_engine(embedded_url(home))
    run_migrations(engine)
    records = RecordStore(engine)
    objects = LocalObjectStore(home / "objects")
    erasures = Erasures(vault, objects, records)
    results = []
    try:
        for n in plan.sizes:
            tenant = f"t{n}"
            vault.create_tenant(tenant)
            started = time.perf_counter()
            sample = _seed(vault, objects.root, tenant, n)
            seeding = time.perf_counter() - started
            erasures.schedule(tenant, Target(tenant=True), grace_days=0)
            started = time.perf_counter()
            (done,) = erasures.run_due()
            wall = time.perf_counter() - started
            assert done.receipt is not None
            body = verify_receipt(done.receipt.encode(), erasures.receipt_key.public_key()).body
            if body["deleted"]["objects"] != n or any(True for _ in objects.list(tenant)):
                raise RuntimeError(f"erasure of {tenant} left objects: {body['deleted']}")
            try:
                vault.open(vault.context(tenant, DataClass.RECORDING, "o0"), sample)
            except KeyDestroyed:
                pass
            else:
                raise RuntimeError(f"a copy of {tenant}'s data still opens")
            results.append(
                {
                    "objects": n,
                    "seeding_seconds": seeding,
                    "key_destruction_seconds": body["durations_ms"]["key_destruction"] / 1000,
                    "total_seconds": body["durations_ms"]["total"] / 1000,
                    "run_due_wall_seconds": wall,
                    "master_keys": len(body["destroyed"]["master_keys"]),
                    "managed_keys": len(body["destroyed"]["managed_keys"]),
                }
            )
    finally:
        records.close()
    return {"plan": asdict(plan), "results": results}


def erasure_targets(result: dict[str, Any]) -> list[dict[str, Any]]:
    few, many = result["results"][0], result["results"][-1]
    limit = few["key_destruction_seconds"] * KEY_DESTRUCTION_RATIO + _NOISE_SECONDS
    value = many["key_destruction_seconds"]
    return [
        {
            "name": "tenant erasure: key destruction independent of object count",
            "value": value,
            "threshold": limit,
            "passed": value <= limit,
            "text": f"tenant erasure key destruction: {value * 1000:.1f} ms with "
            f"{many['objects']:,} objects vs {few['key_destruction_seconds'] * 1000:.1f} ms "
            f"with {few['objects']:,} (target <= {KEY_DESTRUCTION_RATIO:.0f}x + "
            f"{_NOISE_SECONDS * 1000:.0f} ms); total {many['total_seconds']:.2f} s vs "
            f"{few['total_seconds']:.3f} s",
        }
    ]


def print_erasure(console: Any, result: dict[str, Any]) -> None:
    from rich.table import Table

    table = Table(title=f"tenant erasure, local provider ({result['plan']['name']} plan)")
    for column in ("objects", "key destruction ms", "total s", "run_due wall s", "keys"):
        table.add_column(column, justify="right")
    for r in result["results"]:
        table.add_row(
            f"{r['objects']:,}",
            f"{r['key_destruction_seconds'] * 1000:.1f}",
            f"{r['total_seconds']:.3f}",
            f"{r['run_due_wall_seconds']:.3f}",
            f"{r['master_keys']} master, {r['managed_keys']} managed",
        )
    console.print(table)
