"""Per-record and per-tenant erasure."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from callvault import DataClass
from callvault.api._errors import NotFound
from callvault.erasure import RecordKind, Target, verify_receipt
from callvault.erasure._keys import destroy_master_key
from callvault.errors import InvalidRequest, KeyDestroyed
from callvault.keys.providers import KeyState
from callvault.storage.records._rewrite import SealedTable

from .conftest import ALICE, BOB, World


def test_record_erasure_deletes_one_recording_only(world: World) -> None:
    first, second = world.calls[("acme", ALICE)].recordings
    request = world.erasures.schedule("acme", Target(record=first), grace_days=0)
    assert request.record_kind is RecordKind.RECORDING
    (done,) = world.erasures.run_due()
    with pytest.raises(NotFound):
        world.recordings.open("acme", first)
    assert not world.object_path("acme", first).exists()
    assert world.read_recording("acme", second)  # the caller's other call stays
    assert world.opens("acme", BOB)
    assert done.receipt is not None
    body = verify_receipt(done.receipt.encode(), world.erasures.receipt_key.public_key()).body
    assert body["deleted"]["objects"] == 2
    assert body["destroyed"] == {"master_keys": [], "managed_keys": []}


@pytest.mark.parametrize("kind", ["transcripts", "analytics"])
def test_record_erasure_deletes_one_row(world: World, kind: str) -> None:
    ids = getattr(world.calls[("acme", BOB)], kind)
    world.erasures.schedule("acme", Target(record=ids[0]), grace_days=0)
    world.erasures.run_due()
    with pytest.raises(NotFound):
        if kind == "transcripts":
            world.transcripts.get("acme", ids[0], sensitive=False)
        else:
            world.analytics.get("acme", ids[0])
    assert world.transcripts.get("acme", world.calls[("acme", BOB)].transcripts[1], sensitive=False)
    assert world.opens("acme", ALICE)


def test_record_must_exist_in_that_tenant(world: World) -> None:
    recording = world.calls[("globex", ALICE)].recordings[0]
    with pytest.raises(InvalidRequest):
        world.erasures.schedule("acme", Target(record=recording), grace_days=0)
    with pytest.raises(InvalidRequest):
        world.erasures.schedule("acme", Target(record="../../etc"), grace_days=0)
    assert world.erasures.list_requests() == []


def test_tenant_erasure(world: World, tmp_path: Path) -> None:
    recording = world.calls[("acme", None)].recordings[0]
    sealed_copy = world.object_path("acme", recording).read_bytes()
    db_copy = tmp_path / "before.db"
    with sqlite3.connect(world.vault.home / "records.db") as src, sqlite3.connect(db_copy) as dst:
        src.backup(dst)
    world.erasures.schedule("acme", Target(tenant=True), grace_days=0)
    (done,) = world.erasures.run_due()
    assert list(world.services.objects.list("acme")) == []
    assert world.services.records is not None
    assert world.services.records.count_sealed("acme", SealedTable.TRANSCRIPTS) == 0
    key_id = world.vault.keys.master_key_id("acme")
    assert world.vault.provider.describe_key(key_id).state is KeyState.DESTROYED
    context = world.vault.context("acme", DataClass.RECORDING, recording)
    with pytest.raises(KeyDestroyed):
        world.vault.open(context, sealed_copy)
    with sqlite3.connect(db_copy) as db:
        rows = db.execute(
            "SELECT id, sealed, caller_index FROM transcripts WHERE tenant = 'acme'"
        ).fetchall()
    assert len(rows) == 4
    for record_id, sealed, index in rows:
        with pytest.raises(KeyDestroyed):
            world.open_raw(DataClass.TRANSCRIPT, record_id, sealed, index)
    assert world.opens("globex", ALICE) and world.opens("globex", BOB)
    assert done.receipt is not None
    body = verify_receipt(done.receipt.encode(), world.erasures.receipt_key.public_key()).body
    assert [k["key_id"] for k in body["destroyed"]["master_keys"]] == [key_id]
    assert body["destroyed"]["master_keys"][0]["state"] == "destroyed"
    assert "acme/index" in body["destroyed"]["managed_keys"]
    assert body["deleted"]["objects"] == 10 and body["deleted"]["tenant_rows"] >= 9


def test_tenant_erasure_destroys_every_dedicated_class_key(world: World) -> None:
    world.vault.create_tenant("initech", [DataClass.RECORDING, DataClass.TRANSCRIPT])
    context = world.vault.context("initech", DataClass.RECORDING, "r1")
    sealed = world.vault.seal(context, b"call audio")
    world.erasures.schedule("initech", Target(tenant=True), grace_days=0)
    (done,) = world.erasures.run_due()
    assert done.receipt is not None
    body = verify_receipt(done.receipt.encode(), world.erasures.receipt_key.public_key()).body
    ids = sorted(k["key_id"] for k in body["destroyed"]["master_keys"])
    assert ids == ["dev/initech/default", "dev/initech/recording", "dev/initech/transcript"]
    for key_id in ids:
        assert world.vault.provider.describe_key(key_id).state is KeyState.DESTROYED
    with pytest.raises(KeyDestroyed):
        world.vault.open(context, sealed)
    assert world.opens("acme", ALICE)
    assert world.erasures.run_due() == []
    # A resumed run passes over keys already destroyed.
    assert destroy_master_key(world.vault, ids[0])["state"] == "destroyed"
