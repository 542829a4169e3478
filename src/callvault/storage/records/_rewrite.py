"""Walking a tenant's sealed values and replacing them in place (the rewrap job's access).

After a master-key rotation the rewrap job replaces each row's sealed value by the same
value with new headers (docs/keys.md, "Rotation, rewrap and retirement"). This is the only
UPDATE of call data the store allows, and it is narrow on purpose:

* it changes one column, ``transcripts.sealed`` or ``analytics.sealed_fields`` (on
  PostgreSQL the application role holds ``UPDATE`` on that column alone);
* it is a compare-and-swap: ``WHERE tenant = … AND id = … AND <column> = <old value>``, so
  a row that was deleted or changed since it was read is left as it is (never resurrected,
  never overwritten with a stale copy), and the caller learns it (the id is not returned);
* it stays tenant-scoped like every other statement (tenant in the WHERE clause, and the
  transaction bound to the tenant for row-level security).

Rows are read in pages ordered by id (keyset pagination: ``id > after``), so a walk can
stop after any page and resume from the last id it finished.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from enum import StrEnum

from sqlalchemy import Column, Engine, LargeBinary, Table, bindparam, func, select, update

from callvault._ids import check_object_id
from callvault.storage.records._guards import tenant_transaction
from callvault.storage.records._records import MAX_SEALED_BYTES
from callvault.storage.records._schema import analytics, transcripts

__all__ = ["SealedTable", "count_sealed", "iter_sealed", "replace_sealed"]


class SealedTable(StrEnum):
    """The tables whose rows carry one sealed value each."""

    TRANSCRIPTS = "transcripts"
    ANALYTICS = "analytics"


def _table(which: SealedTable) -> tuple[Table, Column[bytes]]:
    table = transcripts if SealedTable(which) is SealedTable.TRANSCRIPTS else analytics
    column = table.c.sealed if table is transcripts else table.c.sealed_fields
    return table, column


def count_sealed(engine: Engine, tenant: str, which: SealedTable) -> int:
    table, _ = _table(which)
    with tenant_transaction(engine, tenant) as connection:
        statement = select(func.count()).select_from(table).where(table.c.tenant == tenant)
        return int(connection.execute(statement).scalar_one())


def iter_sealed(
    engine: Engine, tenant: str, which: SealedTable, *, after: str = "", page: int = 500
) -> Iterator[list[tuple[str, bytes]]]:
    """Pages of ``(id, sealed value)`` of ``tenant``'s rows, by id, from after ``after``.
    Each page is read in its own short transaction (no transaction spans the walk)."""
    if page < 1:
        raise ValueError("page must be >= 1")
    table, column = _table(which)
    while True:
        with tenant_transaction(engine, tenant) as connection:
            statement = (
                select(table.c.id, column)
                .where(table.c.tenant == tenant, table.c.id > after)
                .order_by(table.c.id)
                .limit(page)
            )
            rows = [(str(row[0]), bytes(row[1])) for row in connection.execute(statement)]
        if not rows:
            return
        yield rows
        after = rows[-1][0]


def replace_sealed(
    engine: Engine,
    tenant: str,
    which: SealedTable,
    changes: Sequence[tuple[str, bytes, bytes]],
) -> list[str]:
    """Compare-and-swap ``(id, old, new)`` in one transaction; return the ids replaced."""
    table, column = _table(which)
    for record_id, old, new in changes:
        check_object_id(record_id)
        if not old or not new or len(new) > MAX_SEALED_BYTES:
            raise ValueError("sealed values must be non-empty and bounded")
    # One statement, bound per row (built once: statement construction would cost more
    # than the UPDATE itself); each row's own rowcount says whether its swap happened.
    statement = (
        update(table)
        .where(
            table.c.tenant == tenant,
            table.c.id == bindparam("rid"),
            column == bindparam("old", type_=LargeBinary),
        )
        .values({column.name: bindparam("new", type_=LargeBinary)})
    )
    replaced = []
    with tenant_transaction(engine, tenant) as connection:
        for record_id, old, new in changes:
            result = connection.execute(statement, {"rid": record_id, "old": old, "new": new})
            if result.rowcount == 1:
                replaced.append(record_id)
    return replaced
