"""Tenant isolation inside PostgreSQL: row-level security, forced, under a non-owner role.

The store always filters by tenant; these tests go around it with raw SQL that omits the
filter and show the database itself still confines a session to the tenant its transaction
is bound to — for reads, deletes and inserts — and that the application role cannot switch
the policy off or become the owner."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from callvault.storage.records import NewAnalytics, NewTranscript, RecordNotFound, RecordStore

Index = Callable[[int], bytes]
BIND = text("SELECT set_config('callvault.tenant', :tenant, true)")


def seed(store: RecordStore, index: Index) -> dict[str, str]:
    ids = {}
    for tenant in ("acme", "globex"):
        ids[tenant] = store.add_transcript(
            tenant, NewTranscript(call_id="c", caller_index=index(1), sealed=tenant.encode())
        )
        store.add_analytics(
            tenant,
            NewAnalytics(
                call_id="c", duration_seconds=2, sealed_fields=b"f", caller_index=index(1)
            ),
        )
    return ids


def tenants_visible(connection: Connection, table: str = "transcripts") -> list[str]:
    return list(connection.execute(text(f"SELECT tenant FROM {table} ORDER BY 1")).scalars())


def test_store_api_is_confined_to_its_tenant(pg_store: RecordStore, index: Index) -> None:
    ids = seed(pg_store, index)
    with pytest.raises(RecordNotFound):
        pg_store.get_transcript("globex", ids["acme"])
    assert [t.tenant for t in pg_store.find_transcripts_by_caller_index("globex", index(1))] == [
        "globex"
    ]
    assert pg_store.delete_transcript("globex", ids["acme"]) is False
    assert pg_store.delete_all_for_tenant("globex") == 2
    assert pg_store.get_transcript("acme", ids["acme"]).sealed == b"acme"
    assert len(pg_store.find_analytics_by_caller_index("acme", index(1))) == 1


@pytest.mark.parametrize("table", ["transcripts", "analytics"])
def test_raw_select_without_filter_sees_only_the_bound_tenant(
    pg_store: RecordStore, app_engine: Engine, index: Index, table: str
) -> None:
    seed(pg_store, index)
    with app_engine.begin() as connection:
        connection.execute(BIND, {"tenant": "globex"})
        assert tenants_visible(connection, table) == ["globex"]
        # Even asking for the other tenant by name finds nothing.
        rows = connection.execute(text(f"SELECT count(*) FROM {table} WHERE tenant = 'acme'"))
        assert rows.scalar_one() == 0


def test_raw_delete_without_filter_deletes_only_the_bound_tenant(
    pg_store: RecordStore, app_engine: Engine, index: Index
) -> None:
    ids = seed(pg_store, index)
    with app_engine.begin() as connection:
        connection.execute(BIND, {"tenant": "globex"})
        assert connection.execute(text("DELETE FROM transcripts")).rowcount == 1
        assert connection.execute(text("DELETE FROM analytics")).rowcount == 1
    assert pg_store.get_transcript("acme", ids["acme"]).sealed == b"acme"
    with pytest.raises(RecordNotFound):
        pg_store.get_transcript("globex", ids["globex"])


def test_raw_insert_into_another_tenant_is_refused(app_engine: Engine) -> None:
    with app_engine.begin() as connection:
        connection.execute(BIND, {"tenant": "globex"})
        with pytest.raises(DBAPIError, match="row-level security"):
            connection.execute(
                text(
                    "INSERT INTO transcripts (id, tenant, call_id, caller_index, sealed,"
                    " created_at) VALUES ('x', 'acme', 'c', '\\x00', '\\x00', now())"
                )
            )


def test_raw_update_is_not_even_granted(
    pg_store: RecordStore, app_engine: Engine, index: Index
) -> None:
    seed(pg_store, index)
    with app_engine.begin() as connection:
        connection.execute(BIND, {"tenant": "globex"})
        with pytest.raises(DBAPIError, match="permission denied"):
            connection.execute(text("UPDATE transcripts SET tenant = 'globex'"))


def test_unbound_session_sees_and_writes_nothing(
    pg_store: RecordStore, app_engine: Engine, index: Index
) -> None:
    seed(pg_store, index)
    with app_engine.begin() as connection:
        assert tenants_visible(connection) == []
        assert connection.execute(text("DELETE FROM transcripts")).rowcount == 0
    with app_engine.begin() as connection, pytest.raises(DBAPIError, match="row-level security"):
        connection.execute(
            text(
                "INSERT INTO analytics (id, tenant, call_id, duration_seconds, sealed_fields,"
                " created_at) VALUES ('x', 'acme', 'c', 1, '\\x00', now())"
            )
        )
    assert len(pg_store.find_transcripts_by_caller_index("acme", index(1))) == 1


def test_binding_ends_with_the_transaction(
    pg_store: RecordStore, app_engine: Engine, index: Index
) -> None:
    # One connection, two transactions: the tenant of one must not leak into the next (what a
    # pool would hand the next request).
    seed(pg_store, index)
    with app_engine.connect() as connection:
        with connection.begin():
            connection.execute(BIND, {"tenant": "acme"})
            assert tenants_visible(connection) == ["acme"]
        with connection.begin():
            assert tenants_visible(connection) == []


@pytest.mark.parametrize(
    ("statement", "refusal"),
    [
        ("ALTER TABLE transcripts DISABLE ROW LEVEL SECURITY", "must be owner"),
        ("ALTER TABLE transcripts NO FORCE ROW LEVEL SECURITY", "must be owner"),
        ("DROP POLICY tenant_isolation ON transcripts", "must be owner"),
        ("ALTER TABLE transcripts OWNER TO callvault_app", "must be owner"),
        ("SET ROLE callvault_owner", "permission denied"),
    ],
)
def test_application_role_cannot_switch_isolation_off(
    app_engine: Engine, statement: str, refusal: str
) -> None:
    with app_engine.begin() as connection, pytest.raises(DBAPIError, match=refusal):
        connection.execute(text(statement))


def test_row_security_off_makes_queries_fail_not_leak(
    pg_store: RecordStore, app_engine: Engine, index: Index
) -> None:
    seed(pg_store, index)
    with app_engine.begin() as connection:
        connection.execute(BIND, {"tenant": "globex"})
        connection.execute(text("SET LOCAL row_security = off"))
        with pytest.raises(DBAPIError, match="row-level security"):
            connection.execute(text("SELECT * FROM transcripts"))
