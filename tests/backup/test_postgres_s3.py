"""Backup and restore of a deployment at scale: records in PostgreSQL (TLS, row-level
security, the application role) and objects in S3 (radosgw over TLS 1.3), as
``[storage]`` names them. The restore goes into a fresh database and an empty bucket, and
a caller erased after the backup stays erased."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from callvault import Environment, KeyDestroyed, Vault
from callvault.api import ApiServices
from callvault.backup import create_backup, restore_backup
from callvault.erasure import Target
from callvault.errors import RestoreRefused

from .conftest import ALICE, BOB, Item, Stores, World

VaultFactory = Callable[..., Vault]


def _storage_env(monkeypatch: pytest.MonkeyPatch, database: Any, radosgw: Any, bucket: str) -> None:
    """Point ``[storage]`` at one PostgreSQL database and one bucket (environment
    overrides, as a deployment's secret manager would: the URL carries a password)."""
    url = database.app_url.render_as_string(hide_password=False)
    settings = {
        "RECORDS_URL": url,
        "OBJECTS": "s3",
        "S3__BUCKET": bucket,
        "S3__PREFIX": "calls/",
        "S3__ENDPOINT_URL": radosgw.endpoint,
        "S3__CA_BUNDLE": radosgw.ca,
        "S3__REGION": "us-east-1",
        "S3__ADDRESSING_STYLE": "path",
        "S3__SERVER_SIDE_ENCRYPTION": "false",  # radosgw ignores SSE-S3 (docs/storage.md)
    }
    for name, value in settings.items():
        monkeypatch.setenv(f"CALLVAULT_STORAGE__{name}", value)


def _stores(vault: Vault) -> Stores:
    from callvault.api._analytics import Analytics
    from callvault.api._recordings import Recordings
    from callvault.api._transcripts import Transcripts

    services = ApiServices.from_settings(vault)
    assert services.records is not None
    return Stores(
        vault,
        services,
        Recordings(vault, services.objects, 8 << 20, services.upload_claims),
        Transcripts(vault, services.records),
        Analytics(vault, services.records),
    )


@pytest.fixture
def second_bucket(radosgw_bucket: tuple[Any, Any, str]) -> Iterator[str]:
    _server, client, _bucket = radosgw_bucket
    name = f"cvt-{secrets.token_hex(5)}"
    client.create_bucket(Bucket=name)
    try:
        yield name
    finally:
        for item in client.list_objects_v2(Bucket=name).get("Contents", []):
            client.delete_object(Bucket=name, Key=item["Key"])
        client.delete_bucket(Bucket=name)


def test_postgres_and_s3_round_trip_with_a_later_erasure(
    tmp_path: Path,
    vault_factory: VaultFactory,
    pg_database: Callable[..., Any],
    radosgw_bucket: tuple[Any, Any, str],
    second_bucket: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server, client, bucket = radosgw_bucket
    for name, value in (
        ("AWS_ACCESS_KEY_ID", server.access_key),
        ("AWS_SECRET_ACCESS_KEY", server.secret_key),
    ):
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setattr("callvault.backup._records._BATCH", 1)  # every row its own page
    source_db, target_db = pg_database(), pg_database()

    _storage_env(monkeypatch, source_db, server, bucket)
    home = tmp_path / "home"
    vault_factory(home)
    world = World(_stores(Vault.open_home(home)))
    try:
        for tenant in ("acme", "globex"):
            world.add_call(tenant, ALICE, f"{tenant}-a1", 40_000)
            world.add_call(tenant, BOB, f"{tenant}-b1", 20_000)
        backup = tmp_path / "b.cvbk"
        summary = create_backup(world.vault, backup, world.stores.services.objects)
        assert summary.records == {"transcripts": 4, "analytics": 4}
        assert summary.objects == 8  # four recordings, each its body and its commit marker
        world.stores.erase("acme", Target(subject=ALICE))  # after the backup
    finally:
        world.stores.services.close()

    # Restoring into the same, non-empty stores is refused before anything is written.
    with pytest.raises(RestoreRefused):
        restore_backup(
            backup,
            tmp_path / "same",
            Environment.DEV,
            root_key_file=home / "root.key",
            tombstones=home / "tombstones",
        )
    assert not (tmp_path / "same").exists()

    _storage_env(monkeypatch, target_db, server, second_bucket)
    target = tmp_path / "restored"
    restored = restore_backup(
        backup,
        target,
        Environment.DEV,
        root_key_file=home / "root.key",
        tombstones=home / "tombstones",
    )
    assert restored.tombstones["tombstones"] == 1
    assert client.list_objects_v2(Bucket=second_bucket)["KeyCount"] == 8

    stores = _stores(Vault.open_home(target))
    try:
        survivors: list[Item] = world.of("acme", BOB) + world.of("globex", ALICE)
        survivors += world.of("globex", BOB)
        for item in survivors:  # bit-exact: the plaintext's SHA-256 as written
            assert stores.digest(item) == world.items[item], item
        for item in world.of("acme", ALICE):
            with pytest.raises(KeyDestroyed):
                stores.open_item(item)
    finally:
        stores.services.close()
