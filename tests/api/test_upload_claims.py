"""Two API replicas over one home and one records database: an id being uploaded through
one replica is refused (409) by the other until the upload commits, and then it is taken
for good; a stalled upload that lost its lease writes no commit marker."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from callvault import DataClass, Vault
from callvault.api import ApiServices
from callvault.api._errors import Conflict
from callvault.api._recordings import Recordings
from callvault.config import StorageSettings
from callvault.storage.objects import LocalObjectStore, object_key
from callvault.storage.records import (
    UploadClaims,
    create_records_engine,
    embedded_url,
    run_migrations,
)
from callvault.storage.records._guards import tenant_transaction
from callvault.storage.records._schema import upload_claims

AUDIO = bytes(range(256)) * 4096  # 1 MiB


@pytest.fixture(params=["sqlite", "postgres"])
def shared_vault(
    request: pytest.FixtureRequest, tmp_path: Any, vault_factory: Callable[..., Vault]
) -> Vault:
    vault = vault_factory(tmp_path / "home")
    if request.param == "sqlite":
        return vault  # both replicas use home/records.db
    db = request.getfixturevalue("pg_database")()
    url = db.app_url.render_as_string(hide_password=False)
    settings = vault.settings.model_copy(update={"storage": StorageSettings(records_url=url)})
    return Vault(vault.home, settings, vault.provider)


class HeldBody:
    """A request body that sends its first piece, then waits until released."""

    def __init__(self) -> None:
        self.started, self.release = threading.Event(), threading.Event()

    def __iter__(self) -> Iterator[bytes]:
        yield AUDIO[:65536]
        self.started.set()
        assert self.release.wait(timeout=30)
        yield AUDIO[65536:]


def test_an_id_in_flight_on_one_replica_is_refused_by_another(
    shared_vault: Vault, start_server: Callable[..., Any]
) -> None:
    one = start_server(shared_vault, ApiServices.from_settings(shared_vault))
    two = start_server(shared_vault, ApiServices.from_settings(shared_vault))
    token = one.token("service", "acme")
    path = "/v1/tenants/acme/recordings/contended"
    body = HeldBody()
    answers: list[httpx.Response] = []

    def first_upload() -> None:
        with one.client(token) as client:
            answers.append(client.put(path, content=body))

    uploader = threading.Thread(target=first_upload)
    uploader.start()
    try:
        assert body.started.wait(timeout=30)
        _wait_for_lease(shared_vault, "acme", "contended")  # the server took the id
        with two.client(token) as client:
            refused = client.put(path, content=b"other bytes")
            assert refused.status_code == 409, refused.text
            assert "being uploaded" in refused.json()["error"]["message"]
            assert client.get(path).status_code == 404  # nothing visible mid-upload
    finally:
        body.release.set()
        uploader.join(timeout=30)
    assert answers[0].status_code == 201, answers[0].text
    with two.client(token) as client:
        assert client.put(path, content=b"other bytes").status_code == 409  # write-once
        assert client.get(path).content == AUDIO


def _wait_for_lease(vault: Vault, tenant: str, object_id: str) -> None:
    url = vault.settings.storage.records_url or embedded_url(vault.home)
    engine = create_records_engine(url)
    deadline = time.monotonic() + 30
    try:
        while True:
            with tenant_transaction(engine, tenant) as connection:
                found = connection.execute(
                    select(upload_claims.c.holder).where(
                        upload_claims.c.tenant == tenant, upload_claims.c.object_id == object_id
                    )
                ).first()
            if found is not None:
                return
            assert time.monotonic() < deadline, "the first upload never took its lease"
            time.sleep(0.02)
    finally:
        engine.dispose()


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def test_an_upload_that_lost_its_lease_writes_no_commit_marker(vault: Vault) -> None:
    engine = create_records_engine(embedded_url(vault.home))
    run_migrations(engine)
    clock = Clock()
    claims = UploadClaims(engine, clock=clock, lease=timedelta(seconds=60))
    objects = LocalObjectStore(vault.home / "objects")
    recordings = Recordings(vault, objects, 1 << 30, claims)

    def stalling_body() -> Iterator[bytes]:
        yield AUDIO[:1000]
        clock.now += timedelta(minutes=5)  # stalled far past the lease
        claims.claim("acme", "stalled")  # another replica takes the id over
        yield AUDIO[1000:2000]

    with pytest.raises(Conflict, match="taken over"):
        recordings.put("acme", "stalled", None, stalling_body())
    assert not objects.exists(object_key("acme", DataClass.RECORDING, "stalled:meta"))
    engine.dispose()
