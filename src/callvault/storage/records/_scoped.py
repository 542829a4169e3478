"""Tenant-scoped statements: the only way the store builds SQL for a tenant table.

Each builder takes the tenant as a required argument and puts ``tenant = :tenant`` into the
WHERE clause (or the inserted values), so a query that forgets the tenant cannot be written
through this module. On PostgreSQL, row-level security enforces the same rule a second time,
inside the database, for any SQL at all.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Delete, Insert, Select, Table, delete, insert, select

__all__ = ["delete_where", "insert_row", "select_where"]


def _scope(table: Table, tenant: str, criteria: tuple[ColumnElement[bool], ...]) -> list[Any]:
    if not tenant:
        raise ValueError("tenant is required")
    return [table.c.tenant == tenant, *criteria]


def select_where(table: Table, tenant: str, *criteria: ColumnElement[bool]) -> Select[Any]:
    return (
        select(table)
        .where(*_scope(table, tenant, criteria))
        .order_by(table.c.created_at, table.c.id)
    )


def delete_where(table: Table, tenant: str, *criteria: ColumnElement[bool]) -> Delete:
    return delete(table).where(*_scope(table, tenant, criteria))


def insert_row(table: Table, tenant: str, values: dict[str, Any]) -> Insert:
    if not tenant:
        raise ValueError("tenant is required")
    if "tenant" in values:
        raise ValueError("the tenant comes from the argument, not the values")
    return insert(table).values(tenant=tenant, **values)
