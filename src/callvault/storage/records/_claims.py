"""Upload leases in the records database, so several API replicas never write one id at once.

A recording upload takes minutes and writes two objects (the audio, then its commit
marker); two uploads of the same id racing on two replicas could leave a marker from one
and audio from the other. A row in ``upload_claims`` keyed ``(tenant, object_id)`` is the
lock: the primary key makes the insert the one atomic decision, in SQLite and PostgreSQL
alike, with no advisory locks or database-specific SQL.

A lease expires (``lease``, default two minutes) so a crashed replica cannot block an id
forever; the holder renews it as bytes arrive (``Lease.renew``: at most one write per
quarter lease) and checks it once more before committing. Taking over an expired lease is
a delete of that expired row and an insert in one transaction; a holder whose lease was
taken over finds out at its next renewal (``UploadClaimLost``) and abandons its upload.
Leases are measured on the application's clock: replicas must keep NTP time, and the lease
is long compared with any sane clock skew.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, Engine, delete, insert, update
from sqlalchemy.exc import IntegrityError

from callvault._ids import check_object_id
from callvault.storage.records._errors import UploadClaimed, UploadClaimLost
from callvault.storage.records._guards import tenant_transaction
from callvault.storage.records._schema import upload_claims

__all__ = ["DEFAULT_LEASE", "Lease", "UploadClaims"]

DEFAULT_LEASE = timedelta(minutes=2)
_c = upload_claims.c


class Lease:
    """A held claim. ``renew`` is cheap to call per received chunk: it writes only when a
    quarter of the lease has passed since the last write."""

    def __init__(self, claims: UploadClaims, tenant: str, object_id: str, holder: str) -> None:
        self._claims, self.tenant, self.object_id, self.holder = claims, tenant, object_id, holder
        self._renewed = time.monotonic()

    def renew(self, *, force: bool = False) -> None:
        """Extend the lease, or raise ``UploadClaimLost`` if another upload took it."""
        now = time.monotonic()
        if not force and now - self._renewed < self._claims.lease.total_seconds() / 4:
            return
        self._claims.renew(self)
        self._renewed = now


class UploadClaims:
    def __init__(
        self,
        engine: Engine,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        lease: timedelta = DEFAULT_LEASE,
    ) -> None:
        self._engine, self._clock, self.lease = engine, clock, lease

    @contextmanager
    def hold(self, tenant: str, object_id: str) -> Iterator[Lease]:
        """Hold the claim on ``object_id`` for the block; ``UploadClaimed`` if taken."""
        lease = self.claim(tenant, object_id)
        try:
            yield lease
        finally:
            self.release(lease)

    def claim(self, tenant: str, object_id: str) -> Lease:
        check_object_id(object_id)
        holder = secrets.token_hex(16)
        now = self._clock()
        try:
            with tenant_transaction(self._engine, tenant) as connection:
                # The delete takes the write lock first (SQLite) / locks the expired row
                # (PostgreSQL), so a concurrent claimer waits and then hits the primary key.
                connection.execute(
                    delete(upload_claims).where(
                        _c.tenant == tenant, _c.object_id == object_id, _c.expires_at <= now
                    )
                )
                connection.execute(
                    insert(upload_claims).values(
                        tenant=tenant,
                        object_id=object_id,
                        holder=holder,
                        expires_at=now + self.lease,
                    )
                )
        except IntegrityError:
            raise UploadClaimed from None
        return Lease(self, tenant, object_id, holder)

    def renew(self, lease: Lease) -> None:
        with tenant_transaction(self._engine, lease.tenant) as connection:
            renewed = connection.execute(
                update(upload_claims)
                .where(*_mine(lease))
                .values(expires_at=self._clock() + self.lease)
            ).rowcount
        if renewed != 1:
            raise UploadClaimLost

    def release(self, lease: Lease) -> None:
        """Drop the claim if still ours (a taken-over claim belongs to its new holder)."""
        with tenant_transaction(self._engine, lease.tenant) as connection:
            connection.execute(delete(upload_claims).where(*_mine(lease)))


def _mine(lease: Lease) -> tuple[ColumnElement[bool], ...]:
    return (
        _c.tenant == lease.tenant,
        _c.object_id == lease.object_id,
        _c.holder == lease.holder,
    )
