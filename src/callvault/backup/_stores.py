"""Putting staged objects and rows into the stores the restored configuration names.

Embedded default: objects move into ``<staging>/objects`` and rows go into a fresh
``<staging>/records.db`` (migrated to head), both inside the staging directory that becomes
the home in one rename. PostgreSQL or S3: the database must be migrated and hold no row of
any restored tenant, the bucket must be empty (a restore never merges into live data); rows
are inserted in one transaction, objects uploaded one by one, after every other check.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Table, func, select, text

from callvault._vault import Vault
from callvault.backup._records import TABLES, insert_rows, parse_row
from callvault.backup._spool import SPOOL_DIR, Spooled
from callvault.errors import RestoreRefused
from callvault.storage.objects import LocalObjectStore, ObjectStore, open_s3_store
from callvault.storage.records import (
    TENANT_SETTING,
    RecordStore,
    create_records_engine,
    embedded_url,
    run_migrations,
)

__all__ = ["load_objects", "load_records"]

_OBJECTS_DIR = "objects"  # api.OBJECTS_DIR: where the embedded default keeps objects


def load_objects(vault: Vault, staging: Path, spooled: Spooled) -> int:
    storage = vault.settings.storage
    spool_root = staging / SPOOL_DIR / "objects"
    present = [k for k in spooled.objects if Spooled.object_path(staging, k).exists()]
    if storage.objects == "local":
        target = staging / _OBJECTS_DIR
        if spool_root.exists():
            os.rename(spool_root, target)
        LocalObjectStore(target)  # creates it if there were no objects; checks its mode
        return len(present)
    assert storage.s3 is not None  # StorageSettings checks it
    store: ObjectStore = open_s3_store(storage.s3)
    if next(iter(store.list("")), None) is not None:
        raise RestoreRefused("the S3 bucket of the restored configuration is not empty")
    for key in present:
        with Spooled.object_path(staging, key).open("rb") as handle:
            store.put_stream(key, handle)
    return len(present)


def load_records(
    vault: Vault, staging: Path, spooled: Spooled, deleted: set[tuple[str, str, str]]
) -> dict[str, int]:
    url = vault.settings.storage.records_url
    engine = create_records_engine(embedded_url(staging) if url is None else url)
    try:
        if url is None:
            run_migrations(engine)
        else:
            RecordStore(engine)  # refuses an unmigrated database or an unsafe role
            _check_empty(engine, [t.id for t in vault.tenants.list()])
        counts = {table: 0 for table in TABLES}

        def rows() -> Iterator[tuple[Table, dict[str, Any]]]:
            for name in spooled.tables:
                table = TABLES[name]
                with Spooled.table_path(staging, name).open("rb") as handle:
                    for line in handle:
                        row = parse_row(table, line)
                        if (name, row["tenant"], row["id"]) in deleted:
                            continue
                        counts[name] += 1
                        yield table, row

        insert_rows(engine, rows())
    finally:
        engine.dispose()
    return counts


def _check_empty(engine: Engine, tenants: list[str]) -> None:
    bind = text("SELECT set_config(:name, :tenant, true)")
    with engine.begin() as connection:
        for tenant in tenants:
            connection.execute(bind, {"name": TENANT_SETTING, "tenant": tenant})
            for table in TABLES.values():
                statement = select(func.count()).select_from(table).where(table.c.tenant == tenant)
                if connection.execute(statement).scalar_one():
                    raise RestoreRefused(
                        f"the records database already holds {table.name} of tenant {tenant}; "
                        "restore only into an empty database"
                    )
