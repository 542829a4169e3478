"""Erasure steps in the tamper-evident audit log: schedule, cancel and execute each leave
one durable entry before they are acknowledged, naming the subject only by its HMAC."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from callvault.audit import AuditEntry, AuditLog, attach_audit
from callvault.erasure import Erasures, ErasureState, Target
from callvault.errors import ConfigError, InvalidRequest
from callvault.keys import acting_as

from .conftest import ALICE, BOB, World


def _erasure_entries(log: AuditLog) -> list[AuditEntry]:
    return [e for e in log.entries() if e.action.startswith("erasure.")]


def test_schedule_cancel_and_execute_are_logged(world: World) -> None:
    log = attach_audit(world.vault)
    with acting_as("admin:ops"):
        kept = world.erasures.schedule("acme", Target(subject=BOB), grace_days=7)
        world.erasures.cancel(kept.id)
        gone = world.erasures.schedule("acme", Target(subject=ALICE), grace_days=0)
    world.erasures.run_due()
    entries = _erasure_entries(log)
    assert [(e.action, e.detail["erasure_id"], e.outcome) for e in entries] == [
        ("erasure.schedule", kept.id, "ok"),
        ("erasure.cancel", kept.id, "ok"),
        ("erasure.schedule", gone.id, "ok"),
        ("erasure.execute", gone.id, "ok"),
    ]
    assert [e.actor for e in entries] == ["admin:ops"] * 3 + ["system"]
    assert all(e.tenant == "acme" and e.detail["kind"] == "subject" for e in entries)
    # The subject is its blind id: the log's HMAC at scheduling equals the stored target.
    assert [e.subject_hmac for e in entries] == [kept.target] * 2 + [gone.target] * 2
    executed = entries[-1].detail
    assert int(executed["destroyed_keys"]) >= 1 and executed["deleted_objects"] == "4"
    exported = json.dumps([e.as_json() for e in log.entries()])
    assert ALICE not in exported and BOB not in exported and "5550001111" not in exported


def test_refusals_are_logged_with_their_error_kind(world: World) -> None:
    log = attach_audit(world.vault)
    with pytest.raises(InvalidRequest):
        world.erasures.schedule("acme", Target(subject=ALICE), grace_days=3)
    request = world.erasures.schedule("acme", Target(subject=ALICE), grace_days=7)
    with pytest.raises(InvalidRequest):
        world.erasures.cancel(request.id, tenant="globex")
    outcomes = [(e.action, e.outcome) for e in _erasure_entries(log)]
    assert outcomes == [
        ("erasure.schedule", "InvalidRequest"),
        ("erasure.schedule", "ok"),
        ("erasure.cancel", "InvalidRequest"),
    ]
    assert world.erasures.get(request.id).state is ErasureState.SCHEDULED


class _FailingSink:
    """The real log, except that appends of ``fail_action`` raise (a full disk) while
    ``failures`` lasts."""

    def __init__(self, log: AuditLog, fail_action: str, failures: int = 1) -> None:
        self.log, self.fail_action, self.failures = log, fail_action, failures

    def append(self, entry: AuditEntry, subject: tuple[str, str] | None = None) -> int | None:
        if entry.action == self.fail_action and entry.outcome == "ok" and self.failures:
            self.failures -= 1
            raise ConfigError("audit log unavailable")
        return self.log.append(entry, subject)


def test_failing_execute_entry_leaves_the_request_running_then_it_completes(
    world: World,
) -> None:
    log = attach_audit(world.vault)
    sink = _FailingSink(log, "erasure.execute")
    erasures = Erasures(world.vault, world.services.objects, world.services.records, audit=sink)
    request = erasures.schedule("acme", Target(subject=ALICE), grace_days=0)
    with pytest.raises(ConfigError):
        erasures.run_due()
    stuck = erasures.get(request.id)
    assert stuck.state is ErasureState.RUNNING and stuck.receipt is None
    assert not [e for e in _erasure_entries(log) if e.action == "erasure.execute"]
    (done,) = erasures.run_due()
    assert done.id == request.id and done.state is ErasureState.DONE and done.receipt
    executed = [e for e in _erasure_entries(log) if e.action == "erasure.execute"]
    assert [(e.detail["erasure_id"], e.outcome) for e in executed] == [(request.id, "ok")]
    assert world.opens("acme", BOB)


def test_an_unloggable_schedule_or_cancel_changes_nothing(world: World) -> None:
    log = attach_audit(world.vault)
    erasures = Erasures(
        world.vault,
        world.services.objects,
        world.services.records,
        audit=_FailingSink(log, "erasure.schedule"),
    )
    with pytest.raises(ConfigError):
        erasures.schedule("acme", Target(subject=ALICE), grace_days=7)
    assert erasures.list_requests() == []
    request = world.erasures.schedule("acme", Target(subject=ALICE), grace_days=7)
    erasures = Erasures(
        world.vault,
        world.services.objects,
        world.services.records,
        audit=_FailingSink(log, "erasure.cancel"),
    )
    with pytest.raises(ConfigError):
        erasures.cancel(request.id)
    assert erasures.get(request.id).state is ErasureState.SCHEDULED
    # Not due yet, so nothing runs; once due, it does.
    assert world.erasures.run_due() == []
    later = datetime.now(UTC) + timedelta(days=8)
    assert [r.id for r in world.erasures.run_due(later)] == [request.id]
