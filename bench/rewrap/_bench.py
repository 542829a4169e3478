"""Rewrap rate: seed a home with many small sealed values, rotate, time ``rewrap``.

Three kinds of value, each in its own tenant so each is timed alone with ``--tenant``:

* ``rows``: analytics rows without a caller in the embedded SQLite records store; both
  parts of each row's ``cvr1`` frame are wrapped by the master key, so a row is two DEKs.
  This is the bulk path (the full plan rewraps 100 000 DEKs);
* ``managed``: subject keys in ``keys/managed.json``;
* ``objects``: small sealed objects in the local object store (each rewrite is a new file,
  fsynced and renamed: the object path is bounded by the disk, not by the KMS).

Seeding bypasses the API (bulk INSERT, one write of managed.json) so that it does not
dominate the run; the values are the real sealed formats. The rate is rewrapped DEKs
divided by the wall time of the whole job for that tenant (listing, batches, checkpoints,
verification unwrap included). Every value is checked afterwards: at the new version, and
a sample opens.
"""

from __future__ import annotations

import base64
import json
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from callvault import DataClass, Vault
from callvault.api._transcripts import open_for_subject, seal_for_subject
from callvault.keys._hierarchy import _managed_aad
from callvault.keys._managed import ManagedKeyStore
from callvault.lifecycle import rewrap
from callvault.storage.objects import LocalObjectStore, object_key
from callvault.storage.records import (
    RecordStore,
    create_records_engine,
    embedded_url,
    new_record_id,
    run_migrations,
)
from callvault.storage.records._schema import analytics

__all__ = ["REWRAP_FULL", "REWRAP_QUICK", "RewrapPlan", "bench_rewrap", "print_rewrap"]


@dataclass(frozen=True)
class RewrapPlan:
    name: str
    rows: int  # analytics rows (two DEKs each)
    managed: int  # subject keys
    objects: int  # small objects
    batch: int


REWRAP_FULL = RewrapPlan("full", rows=50_000, managed=5_000, objects=1_000, batch=500)
REWRAP_QUICK = RewrapPlan("quick", rows=1_500, managed=500, objects=200, batch=500)


def _home(tmp: Path) -> Vault:
    home = tmp / "rewrap-home"
    Vault.init_home(home)
    vault = Vault.open_home(home)
    for tenant in ("rows", "managed", "objects"):
        vault.create_tenant(tenant)
    return vault


def _seed_rows(vault: Vault, records: RecordStore, engine: Any, n: int) -> list[str]:
    ids, values = [], []
    for i in range(n):
        record_id = new_record_id()
        fields = json.dumps({"v": 1, "call_id": f"c{i}", "caller": None, "notes": "n"}).encode()
        sealed = seal_for_subject(vault, "rows", DataClass.ANALYTICS, record_id, None, fields)
        ids.append(record_id)
        values.append(
            {
                "id": record_id,
                "tenant": "rows",
                "call_id": f"c{i}",
                "caller_index": None,
                "duration_seconds": 1.0,
                "outcome": None,
                "sentiment": None,
                "sealed_fields": sealed,
                "created_at": _now(),
            }
        )
    with engine.begin() as connection:
        connection.execute(analytics.insert(), values)
    return ids


def _now() -> datetime:
    return datetime.now(UTC)


def _seed_managed(vault: Vault, n: int) -> None:
    kek = vault.keys.master_key_id("managed")
    store = ManagedKeyStore(vault.home / "keys" / "managed.json")
    with store._store.transaction() as doc:  # one write for all: seeding is not measured
        for i in range(n):
            name = f"managed/analytics/subject/{i:064x}"
            _key, wrapped = vault.provider.generate_data_key(kek, _managed_aad(name))
            doc["keys"][name] = {
                "kek_id": kek,
                "version": wrapped.version,
                "blob": base64.b64encode(wrapped.blob).decode(),
                "created_at": _now().isoformat(),
            }


def _seed_objects(vault: Vault, objects: LocalObjectStore, n: int) -> None:
    for i in range(n):
        context = vault.context("objects", DataClass.RECORDING, f"o{i}")
        objects.put_stream(
            object_key("objects", DataClass.RECORDING, f"o{i}"), [vault.seal(context, b"x" * 2048)]
        )


def _timed(vault: Vault, objects: Any, records: Any, tenant: str, batch: int) -> dict[str, Any]:
    started = time.perf_counter()
    report = rewrap(vault, objects, records, tenant=tenant, batch=batch)
    seconds = time.perf_counter() - started
    if report.failed or report.conflicts:
        raise RuntimeError(f"rewrap of {tenant} failed: {report.as_json()}")
    return {
        "deks": report.rewrapped,
        "seconds": seconds,
        "deks_per_second": report.rewrapped / seconds if seconds else 0.0,
    }


def bench_rewrap(tmp: Path, *, quick: bool) -> dict[str, Any]:
    plan = REWRAP_QUICK if quick else REWRAP_FULL
    vault = _home(tmp)
    engine = create_records_engine(embedded_url(vault.home))
    run_migrations(engine)
    records = RecordStore(engine)
    objects = LocalObjectStore(vault.home / "objects")
    started = time.perf_counter()
    ids = _seed_rows(vault, records, engine, plan.rows)
    _seed_managed(vault, plan.managed)
    _seed_objects(vault, objects, plan.objects)
    seeding = time.perf_counter() - started
    for tenant in ("rows", "managed", "objects"):
        vault.rotate_key(tenant)
    # The index keys are managed records too: each tenant's run rewraps its own.
    results = {
        "rows": _timed(vault, None, records, "rows", plan.batch),
        "managed": _timed(vault, None, None, "managed", plan.batch),
        "objects": _timed(vault, objects, None, "objects", plan.batch),
    }
    vault.cache.clear()
    for record_id in ids[:: max(1, len(ids) // 50)]:  # a sample opens, under v2 only
        row = records.get_analytics("rows", record_id)
        open_for_subject(vault, "rows", DataClass.ANALYTICS, record_id, row.sealed_fields, None)
    vault.provider.set_min_decrypt_version(vault.keys.master_key_id("rows"), 2)
    vault.cache.clear()
    row = records.get_analytics("rows", ids[-1])
    open_for_subject(vault, "rows", DataClass.ANALYTICS, ids[-1], row.sealed_fields, None)
    records.close()
    return {"plan": asdict(plan), "seeding_seconds": seeding, "results": results}


def print_rewrap(console: Any, result: dict[str, Any]) -> None:
    from rich.table import Table

    table = Table(title=f"rewrap rate, local provider ({result['plan']['name']} plan)")
    for column in ("values", "DEKs rewrapped", "seconds", "DEKs/s"):
        table.add_column(column, justify="right" if column != "values" else "left")
    labels = {
        "rows": "analytics rows, SQLite (2 DEKs each)",
        "managed": "subject keys, managed.json",
        "objects": "small objects, local store",
    }
    for name, r in result["results"].items():
        table.add_row(
            labels[name], f"{r['deks']:,}", f"{r['seconds']:.2f}", f"{r['deks_per_second']:,.0f}"
        )
    console.print(table)
