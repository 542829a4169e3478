"""The store on SQLite (the embedded default): round trips, tenant scoping, validation, and
what is left on disk."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event

from callvault.errors import ConfigError, InvalidRequest
from callvault.storage.records import (
    NewAnalytics,
    NewTranscript,
    RecordExists,
    RecordNotFound,
    RecordStore,
    create_records_engine,
    embedded_url,
    run_migrations,
)

Index = Callable[[int], bytes]
SEALED = bytes(range(256)) * 3 + b"\x00\x00"  # every byte value, NULs included


def test_transcript_round_trip_keeps_sealed_bytes_exactly(
    sqlite_store: RecordStore, index: Index
) -> None:
    rid = sqlite_store.add_transcript(
        "acme", NewTranscript(call_id="call-1", caller_index=index(1), sealed=SEALED)
    )
    got = sqlite_store.get_transcript("acme", rid)
    assert (got.id, got.tenant, got.call_id) == (rid, "acme", "call-1")
    assert got.sealed == SEALED
    assert got.caller_index == index(1)
    assert got.created_at.tzinfo is UTC
    assert got.created_at.year == 2026  # the injected clock, not the wall clock


def test_caller_supplied_id_is_kept(sqlite_store: RecordStore, index: Index) -> None:
    record = NewTranscript(id="t-42", call_id="c", caller_index=index(1), sealed=b"s")
    assert sqlite_store.add_transcript("acme", record) == "t-42"
    assert sqlite_store.get_transcript("acme", "t-42").sealed == b"s"


def test_analytics_round_trip(sqlite_store: RecordStore, index: Index) -> None:
    row = NewAnalytics(
        call_id="call-1",
        duration_seconds=61.5,
        outcome="resolved",
        sentiment="positive",
        sealed_fields=SEALED,
        caller_index=index(7),
    )
    rid = sqlite_store.add_analytics("acme", row)
    got = sqlite_store.get_analytics("acme", rid)
    assert (got.duration_seconds, got.outcome, got.sentiment) == (61.5, "resolved", "positive")
    assert got.sealed_fields == SEALED and got.caller_index == index(7)
    bare = sqlite_store.add_analytics(
        "acme", NewAnalytics(call_id="c2", duration_seconds=0, sealed_fields=b"x")
    )
    got = sqlite_store.get_analytics("acme", bare)
    assert got.caller_index is None and got.outcome is None and got.duration_seconds == 0.0


def test_find_by_caller_index_returns_that_caller_only_in_order(
    sqlite_store: RecordStore, index: Index
) -> None:
    ids = [
        sqlite_store.add_transcript(
            "acme", NewTranscript(call_id=f"c{n}", caller_index=index(n % 2), sealed=b"s")
        )
        for n in range(5)
    ]
    found = sqlite_store.find_transcripts_by_caller_index("acme", index(0))
    assert [t.id for t in found] == [ids[0], ids[2], ids[4]]
    assert sqlite_store.find_transcripts_by_caller_index("acme", index(9)) == []


def test_tenants_cannot_reach_each_others_rows(sqlite_store: RecordStore, index: Index) -> None:
    rid = sqlite_store.add_transcript(
        "acme", NewTranscript(call_id="c", caller_index=index(1), sealed=b"acme-secret")
    )
    aid = sqlite_store.add_analytics(
        "acme",
        NewAnalytics(call_id="c", duration_seconds=1, sealed_fields=b"a", caller_index=index(1)),
    )
    with pytest.raises(RecordNotFound):
        sqlite_store.get_transcript("globex", rid)
    with pytest.raises(RecordNotFound):
        sqlite_store.get_analytics("globex", aid)
    assert sqlite_store.find_transcripts_by_caller_index("globex", index(1)) == []
    assert sqlite_store.find_analytics_by_caller_index("globex", index(1)) == []
    assert sqlite_store.delete_transcript("globex", rid) is False
    assert sqlite_store.delete_analytics("globex", aid) is False
    assert sqlite_store.delete_transcripts_by_caller_index("globex", index(1)) == 0
    assert sqlite_store.delete_all_for_tenant("globex") == 0
    assert sqlite_store.get_transcript("acme", rid).sealed == b"acme-secret"
    assert sqlite_store.get_analytics("acme", aid).sealed_fields == b"a"


def test_same_id_in_two_tenants_is_no_conflict(sqlite_store: RecordStore, index: Index) -> None:
    # A global primary key would make this fail and so reveal the id exists elsewhere.
    for tenant in ("acme", "globex"):
        record = NewTranscript(
            id="shared", call_id="c", caller_index=index(1), sealed=tenant.encode()
        )
        sqlite_store.add_transcript(tenant, record)
    assert sqlite_store.get_transcript("acme", "shared").sealed == b"acme"
    assert sqlite_store.get_transcript("globex", "shared").sealed == b"globex"


def test_duplicate_id_is_refused_and_changes_nothing(
    sqlite_store: RecordStore, index: Index
) -> None:
    sqlite_store.add_transcript(
        "acme", NewTranscript(id="dup", call_id="c", caller_index=index(1), sealed=b"first")
    )
    with pytest.raises(RecordExists):
        sqlite_store.add_transcript(
            "acme", NewTranscript(id="dup", call_id="c", caller_index=index(2), sealed=b"second")
        )
    assert sqlite_store.get_transcript("acme", "dup").sealed == b"first"


def test_deletes(sqlite_store: RecordStore, index: Index) -> None:
    def add(tenant: str, n: int) -> str:
        return sqlite_store.add_transcript(
            tenant, NewTranscript(call_id="c", caller_index=index(n), sealed=b"s")
        )

    one, _, _ = add("acme", 1), add("acme", 1), add("acme", 2)
    add("globex", 1)
    sqlite_store.add_analytics(
        "acme",
        NewAnalytics(call_id="c", duration_seconds=1, sealed_fields=b"a", caller_index=index(1)),
    )
    assert sqlite_store.delete_transcript("acme", one) is True
    assert sqlite_store.delete_transcript("acme", one) is False  # idempotent
    with pytest.raises(RecordNotFound):
        sqlite_store.get_transcript("acme", one)
    assert sqlite_store.delete_transcripts_by_caller_index("acme", index(1)) == 1
    assert sqlite_store.delete_analytics_by_caller_index("acme", index(1)) == 1
    assert sqlite_store.delete_all_for_tenant("acme") == 1  # the index(2) transcript
    assert len(sqlite_store.find_transcripts_by_caller_index("globex", index(1))) == 1


@pytest.mark.parametrize(
    "make",
    [
        lambda i: NewTranscript(call_id="c", caller_index=i(1)[:31], sealed=b"s"),
        lambda i: NewTranscript(call_id="c", caller_index=i(1) + b"x", sealed=b"s"),
        lambda i: NewTranscript(call_id="c", caller_index=i(1), sealed=b""),
        lambda i: NewTranscript(call_id="bad id", caller_index=i(1), sealed=b"s"),
        lambda i: NewTranscript(id="../x", call_id="c", caller_index=i(1), sealed=b"s"),
        lambda i: NewAnalytics(call_id="c", duration_seconds=float("nan"), sealed_fields=b"s"),
        lambda i: NewAnalytics(call_id="c", duration_seconds=-1, sealed_fields=b"s"),
        lambda i: NewAnalytics(call_id="c", duration_seconds=True, sealed_fields=b"s"),
        lambda i: NewAnalytics(
            call_id="c", duration_seconds=1, sealed_fields=b"s", outcome="Caller said hi"
        ),
        lambda i: NewAnalytics(
            call_id="c", duration_seconds=1, sealed_fields=b"s", sentiment="+15551234567"
        ),
    ],
)
def test_bad_records_fail_at_construction(make: Callable[[Index], Any], index: Index) -> None:
    with pytest.raises(InvalidRequest):
        make(index)


def test_bad_arguments_are_refused(sqlite_store: RecordStore, index: Index) -> None:
    good = NewTranscript(call_id="c", caller_index=index(1), sealed=b"s")
    with pytest.raises(InvalidRequest):
        sqlite_store.add_transcript("ACME; DROP TABLE", good)
    with pytest.raises(InvalidRequest):
        sqlite_store.get_transcript("acme", "no such/id")
    with pytest.raises(InvalidRequest):
        sqlite_store.find_transcripts_by_caller_index("acme", b"short")
    assert sqlite_store.delete_all_for_tenant("acme") == 0  # nothing was written


def test_repr_hides_sealed_bytes_and_blind_index(sqlite_store: RecordStore, index: Index) -> None:
    marker = b"SEALED-MARKER"
    rid = sqlite_store.add_transcript(
        "acme", NewTranscript(call_id="c", caller_index=b"I" * 32, sealed=marker)
    )
    for text in (
        repr(sqlite_store.get_transcript("acme", rid)),
        repr(NewAnalytics(call_id="c", duration_seconds=1, sealed_fields=marker)),
    ):
        assert "SEALED-MARKER" not in text and "IIII" not in text


def test_every_statement_on_a_tenant_table_carries_the_tenant(
    sqlite_store: RecordStore, sqlite_engine: Engine, index: Index
) -> None:
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        seen.append((statement, params))

    event.listen(sqlite_engine, "before_cursor_execute", record)
    t = sqlite_store.add_transcript(
        "acme", NewTranscript(call_id="c", caller_index=index(1), sealed=b"s")
    )
    a = sqlite_store.add_analytics(
        "acme", NewAnalytics(call_id="c", duration_seconds=1, sealed_fields=b"s")
    )
    sqlite_store.get_transcript("acme", t)
    sqlite_store.get_analytics("acme", a)
    sqlite_store.find_transcripts_by_caller_index("acme", index(1))
    sqlite_store.find_analytics_by_caller_index("acme", index(1))
    sqlite_store.delete_transcript("acme", t)
    sqlite_store.delete_analytics("acme", a)
    sqlite_store.delete_transcripts_by_caller_index("acme", index(1))
    sqlite_store.delete_analytics_by_caller_index("acme", index(1))
    sqlite_store.delete_all_for_tenant("acme")
    event.remove(sqlite_engine, "before_cursor_execute", record)
    on_tables = [(s, p) for s, p in seen if "transcripts" in s or "analytics" in s]
    assert len(on_tables) >= 12
    for statement, params in on_tables:
        assert "tenant" in statement, statement
        if not statement.startswith("INSERT"):
            assert "WHERE" in statement and "tenant = ?" in statement, statement
        assert "acme" in params, (statement, params)


def test_database_file_is_owner_only(tmp_path: Path) -> None:
    engine = create_records_engine(embedded_url(tmp_path))
    engine.dispose()
    assert stat.S_IMODE(os.stat(tmp_path / "records.db").st_mode) == 0o600


def test_missing_home_directory_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        create_records_engine(embedded_url(tmp_path / "nope"))


def test_deleted_rows_leave_no_bytes_in_the_file(sqlite_store: RecordStore, index: Index) -> None:
    # secure_delete: a deleted row's bytes are overwritten, not left in a free page.
    path = Path(str(sqlite_store._engine.url.database))
    marker = b"ERASE-ME-" * 64
    rid = sqlite_store.add_transcript(
        "acme", NewTranscript(call_id="c", caller_index=index(3), sealed=marker)
    )
    assert marker in path.read_bytes()
    assert sqlite_store.delete_transcript("acme", rid)
    assert marker not in path.read_bytes()


def test_store_refuses_an_unmigrated_database(sqlite_engine: Engine) -> None:
    with pytest.raises(ConfigError, match="callvault db migrate"):
        RecordStore(sqlite_engine)
    run_migrations(sqlite_engine)
    RecordStore(sqlite_engine)  # now ready
