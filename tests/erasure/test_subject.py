"""Erasure by data subject: exactly that caller's data goes, in every store and class, and
copies taken before (object files, the SQLite database) fail with ``KeyDestroyed``."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from callvault import DataClass
from callvault.api._errors import NotFound
from callvault.erasure import ErasureState, Target, verify_receipt
from callvault.errors import KeyDestroyed, OpenError

from .conftest import ALICE, BOB, World


def _erase_alice(world: World) -> None:
    request = world.erasures.schedule("acme", Target(subject=ALICE), grace_days=0)
    assert [r.id for r in world.erasures.run_due()] == [request.id]


def test_subject_erasure_removes_exactly_that_subjects_data(world: World) -> None:
    alice = world.calls[("acme", ALICE)]
    _erase_alice(world)
    for recording_id in alice.recordings:
        with pytest.raises(NotFound):
            world.recordings.open("acme", recording_id)
        assert not world.object_path("acme", recording_id).exists()
        assert not world.object_path("acme", recording_id + ":meta").exists()
    assert world.transcripts.find_by_caller("acme", ALICE, sensitive=True) == []
    blind = world.vault.keys.subject_key_id("acme", ALICE)
    assert world.services.records is not None
    assert world.services.records.find_analytics_by_caller_index("acme", blind) == []
    # Everything else still opens: the other caller, the anonymous call, the other tenant.
    assert world.opens("acme", BOB)
    assert world.opens("acme", None)
    assert world.opens("globex", ALICE)
    assert world.opens("globex", BOB)


def test_copies_taken_before_fail_with_key_destroyed(world: World, tmp_path: Path) -> None:
    alice = world.calls[("acme", ALICE)]
    recording = alice.recordings[0]
    sealed_copy = world.object_path("acme", recording).read_bytes()
    db_copy = tmp_path / "records-before.db"
    with sqlite3.connect(world.vault.home / "records.db") as src, sqlite3.connect(db_copy) as dst:
        src.backup(dst)
    _erase_alice(world)
    context = world.vault.context("acme", DataClass.RECORDING, recording, ALICE)
    with pytest.raises(KeyDestroyed):
        world.vault.open(context, sealed_copy)
    with sqlite3.connect(db_copy) as db:
        rows = db.execute(
            "SELECT id, sealed, caller_index FROM transcripts WHERE tenant = 'acme'"
        ).fetchall()
        analytics = db.execute(
            "SELECT id, sealed_fields, caller_index FROM analytics WHERE caller_index = ?",
            (world.vault.keys.subject_key_id("acme", ALICE),),
        ).fetchall()
    outcomes = []
    for record_id, sealed, index in rows:
        try:
            world.open_raw_transcript("acme", record_id, sealed, index)
            outcomes.append("opened")
        except KeyDestroyed:
            outcomes.append("destroyed")
    assert sorted(outcomes) == ["destroyed", "destroyed", "opened", "opened"]  # Alice's, Bob's
    assert len(analytics) == 2
    for record_id, sealed, index in analytics:
        with pytest.raises(KeyDestroyed):
            world.open_raw(DataClass.ANALYTICS, record_id, sealed, index)
    # An attacker's edit of the copy gets the opaque OpenError, not a hint: still fail closed.
    with pytest.raises((OpenError, KeyDestroyed)):
        world.vault.open(context, sealed_copy[:-1])


def test_receipt_names_blind_ids_never_the_caller(world: World) -> None:
    request = world.erasures.schedule("acme", Target(subject=ALICE), grace_days=0)
    stored = (world.vault.home / "erasures.json").read_text()
    assert ALICE not in stored and "sealed_subject" in stored
    (done,) = world.erasures.run_due()
    assert done.state is ErasureState.DONE and done.receipt is not None
    stored = (world.vault.home / "erasures.json").read_text()
    assert ALICE not in stored and "sealed_subject" not in stored  # not even sealed now
    body = verify_receipt(done.receipt.encode(), world.erasures.receipt_key.public_key()).body
    blind = world.vault.keys.subject_key_id("acme", ALICE).hex()
    assert body["erasure_id"] == request.id
    assert body["target"] == {"subject_blind_id": blind}
    names = body["destroyed"]["managed_keys"]
    assert f"acme/recording/subject/{blind}" in names
    assert f"acme/transcript/subject/{blind}" in names
    assert body["deleted"]["objects"] == 4  # two recordings, each with its sidecar
    assert (body["deleted"]["transcripts"], body["deleted"]["analytics"]) == (2, 2)
    assert ALICE not in json.dumps(body) and "5550001111" not in done.receipt


def test_rerun_after_crash_is_idempotent(world: World) -> None:
    request = world.erasures.schedule("acme", Target(subject=ALICE), grace_days=0)
    # A crash after the claim: the request stays running; the next run finishes it.
    world.erasures.store.transition(
        request.id, lambda _: None, ErasureState.RUNNING, request.requested_at
    )
    (done,) = world.erasures.run_due()
    assert done.state is ErasureState.DONE
    assert world.erasures.run_due() == []
    assert world.opens("acme", BOB)
