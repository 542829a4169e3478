"""Upload leases: one holder per (tenant, object id) across every replica sharing the
database, expiry and take-over, and tenant isolation; on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import ProgrammingError

from callvault.storage.records import (
    RecordStore,
    UploadClaimed,
    UploadClaimLost,
    UploadClaims,
    create_records_engine,
    run_migrations,
)


class SettableClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 5, 6, 7, 8, 9, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    if request.param == "sqlite":
        sqlite = request.getfixturevalue("sqlite_engine")
        run_migrations(sqlite)
        yield sqlite
        return
    db = request.getfixturevalue("pg_db")
    app = create_records_engine(db.app_url)
    try:
        yield app
    finally:
        with app.begin() as connection:  # leave no lease behind for the next test
            for tenant in ("acme", "globex"):
                connection.execute(
                    text("SELECT set_config('callvault.tenant', :t, true)"), {"t": tenant}
                )
                connection.execute(text("DELETE FROM upload_claims"))
        app.dispose()


@pytest.fixture
def clock() -> SettableClock:
    return SettableClock()


@pytest.fixture
def claims(engine: Engine, clock: SettableClock) -> UploadClaims:
    return UploadClaims(engine, clock=clock, lease=timedelta(minutes=2))


def test_a_held_id_cannot_be_claimed_again_until_released(claims: UploadClaims) -> None:
    with claims.hold("acme", "rec-1"):
        with pytest.raises(UploadClaimed):
            claims.claim("acme", "rec-1")
        other = claims.claim("acme", "rec-2")  # other ids are free
        claims.release(other)
    claims.release(claims.claim("acme", "rec-1"))  # free again after the block


def test_the_same_id_in_another_tenant_is_a_different_claim(claims: UploadClaims) -> None:
    with (
        claims.hold("acme", "shared-id"),
        claims.hold("globex", "shared-id"),
        pytest.raises(UploadClaimed),
    ):
        claims.claim("globex", "shared-id")


def test_an_expired_lease_is_taken_over_and_its_old_holder_finds_out(
    claims: UploadClaims, clock: SettableClock
) -> None:
    stalled = claims.claim("acme", "rec-1")
    clock.now += timedelta(minutes=1)
    with pytest.raises(UploadClaimed):  # not yet expired
        claims.claim("acme", "rec-1")
    clock.now += timedelta(minutes=1, seconds=1)
    taker = claims.claim("acme", "rec-1")
    with pytest.raises(UploadClaimLost):
        stalled.renew(force=True)
    claims.release(stalled)  # a lost lease's release must not free the new holder's claim
    with pytest.raises(UploadClaimed):
        claims.claim("acme", "rec-1")
    taker.renew(force=True)
    claims.release(taker)


def test_renewal_keeps_a_slow_upload_alive(claims: UploadClaims, clock: SettableClock) -> None:
    lease = claims.claim("acme", "rec-1")
    for _ in range(5):  # ten minutes in all, renewed every ninety seconds
        clock.now += timedelta(seconds=90)
        lease.renew(force=True)
        with pytest.raises(UploadClaimed):
            claims.claim("acme", "rec-1")
    claims.release(lease)


def test_renew_writes_only_after_a_quarter_lease(
    claims: UploadClaims, clock: SettableClock
) -> None:
    lease = claims.claim("acme", "rec-1")
    clock.now += timedelta(minutes=3)  # expired on the clock, but renewed just now (monotonic)
    lease.renew()  # skipped: no database write, so no loss detected either
    taker = claims.claim("acme", "rec-1")
    with pytest.raises(UploadClaimLost):
        lease.renew(force=True)
    claims.release(taker)


def test_racing_claimers_get_exactly_one_winner(engine: Engine, clock: SettableClock) -> None:
    claims = UploadClaims(engine, clock=clock)
    barrier = threading.Barrier(8)
    won: list[object] = []
    refused: list[BaseException] = []

    def race() -> None:
        barrier.wait()
        try:
            won.append(claims.claim("acme", "contended"))
        except UploadClaimed as exc:
            refused.append(exc)

    threads = [threading.Thread(target=race) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(won) == 1 and len(refused) == 7


def test_record_store_exposes_claims_on_its_database(engine: Engine) -> None:
    store = RecordStore(engine)
    with store.claims.hold("acme", "rec-9"), pytest.raises(UploadClaimed):
        store.claims.claim("acme", "rec-9")


def test_postgres_app_role_may_update_only_the_expiry(app_engine: Engine) -> None:
    UploadClaims(app_engine).claim("acme", "privilege-probe")
    with pytest.raises(ProgrammingError, match="permission denied"), app_engine.begin() as conn:
        conn.execute(text("SELECT set_config('callvault.tenant', 'acme', true)"))
        conn.execute(text("UPDATE upload_claims SET holder = 'stolen'"))


def test_postgres_rls_hides_other_tenants_claims(app_engine: Engine) -> None:
    claims = UploadClaims(app_engine)
    lease = claims.claim("globex", "rls-probe")
    probe = "SELECT count(*) FROM upload_claims WHERE object_id = 'rls-probe'"
    with app_engine.begin() as conn:  # SQL without a tenant filter, bound to acme
        conn.execute(text("SELECT set_config('callvault.tenant', 'acme', true)"))
        assert conn.execute(text(probe)).scalar_one() == 0
        assert conn.execute(text(probe.replace("SELECT count(*)", "DELETE"))).rowcount == 0
    with pytest.raises(UploadClaimed):  # globex's lease survived acme's DELETE
        claims.claim("globex", "rls-probe")
    claims.release(lease)
