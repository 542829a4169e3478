"""The rotation cadence: which keys are due, rotating exactly the overdue ones (once, even
when run twice), the timer ``serve`` uses, and ``callvault keys status``."""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from callvault import Environment, Vault
from callvault.cli import app
from callvault.keys import KeyMaterial
from callvault.keys._cadence import Cadence, DueState, KeyKind, rotate_due, rotation_status
from callvault.keys._rotation_timer import RotationTimer
from callvault.keys.providers import LocalKms

T0 = datetime(2025, 1, 1, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
def kms(tmp_path: Path, clock: Clock) -> LocalKms:
    kms = LocalKms(
        tmp_path / "k.cvkr", KeyMaterial(os.urandom(32), "root"), Environment.DEV, clock=clock
    )
    for key_id in (
        "dev/acme/default",
        "dev/acme/backup",
        "dev/platform/backup",
        "dev/platform/jwt-signing",
    ):
        kms.create_key(key_id, {})
    clock.now = T0 + timedelta(days=200)
    kms.create_key("dev/globex/default", {})  # a younger key
    return kms


SEED = Cadence()


def _states(kms: LocalKms, now: datetime, cadence: Cadence = SEED) -> dict[str, Any]:
    return {k.name: (k.kind, k.state) for k in rotation_status(kms.list_keys(), cadence, now)}


def test_status_follows_the_seed_cadence(kms: LocalKms) -> None:
    assert _states(kms, T0 + timedelta(days=300)) == {
        "dev/acme/backup": (KeyKind.BACKUP, DueState.OK),
        "dev/acme/default": (KeyKind.MASTER, DueState.OK),
        "dev/globex/default": (KeyKind.MASTER, DueState.OK),
        "dev/platform/backup": (KeyKind.BACKUP, DueState.OK),
        "dev/platform/jwt-signing": (KeyKind.PLATFORM, DueState.OK),
    }
    soon = _states(kms, T0 + timedelta(days=340))
    assert soon["dev/acme/default"][1] is DueState.DUE_SOON
    assert soon["dev/globex/default"][1] is DueState.OK
    late = _states(kms, T0 + timedelta(days=366))
    assert late["dev/acme/default"][1] is late["dev/acme/backup"][1] is DueState.OVERDUE
    assert late["dev/globex/default"][1] is DueState.OK
    shorter = Cadence(backup_key=timedelta(days=30))
    short = _states(kms, T0 + timedelta(days=31), shorter)
    assert short["dev/acme/backup"][1] is short["dev/platform/backup"][1] is DueState.OVERDUE


def test_rotate_due_rotates_only_overdue_enabled_keys_once(kms: LocalKms, clock: Clock) -> None:
    kms.disable_key("dev/acme/backup")  # disabled: left alone, still reported
    clock.now = T0 + timedelta(days=366)
    rotated = rotate_due(kms, Cadence(), now=clock)
    assert sorted(k.key_id for k in rotated) == [
        "dev/acme/default",
        "dev/platform/backup",
        "dev/platform/jwt-signing",
    ]
    assert kms.describe_key("dev/acme/default").primary_version == 2
    assert rotate_due(kms, Cadence(), now=clock) == []  # a second run (another replica)
    assert kms.describe_key("dev/acme/default").primary_version == 2
    after = _states(kms, clock.now)
    assert after["dev/acme/default"][1] is DueState.OK
    assert after["dev/acme/backup"][1] is DueState.OVERDUE


def test_destroyed_keys_have_no_schedule(kms: LocalKms) -> None:
    kms.schedule_deletion("dev/globex/default", 7)
    assert "dev/globex/default" not in _states(kms, T0)


def test_the_timer_rotates_and_survives_failures(kms: LocalKms, clock: Clock) -> None:
    clock.now = T0 + timedelta(days=400)
    evicted: list[str] = []
    calls: list[int] = []

    def signing() -> bool:
        calls.append(1)
        return len(calls) == 1

    timer = RotationTimer(
        kms,
        Cadence(),
        timedelta(hours=1),
        on_rotated=lambda k: evicted.append(k.key_id),
        extra=[signing],
    )
    done = timer.run_once()
    assert "dev/acme/default" in done and "extra[0]" in done
    assert sorted(evicted) == sorted(d for d in done if not d.startswith("extra"))
    assert timer.run_once() == []

    class Down:
        scheme, environment = kms.scheme, kms.environment

        def list_keys(self) -> list[Any]:
            from callvault import ProviderUnreachable

            raise ProviderUnreachable("down")

    assert RotationTimer(Down(), Cadence(), timedelta(hours=1)).run_once() == []  # type: ignore[arg-type]


def test_the_timer_thread_runs_and_stops(kms: LocalKms, clock: Clock) -> None:
    clock.now = T0 + timedelta(days=400)
    timer = RotationTimer(kms, Cadence(), timedelta(milliseconds=10))
    timer.start()
    try:
        deadline = datetime.now(UTC) + timedelta(seconds=10)
        while kms.describe_key("dev/acme/default").primary_version == 1:
            assert datetime.now(UTC) < deadline
            time.sleep(0.01)
    finally:
        timer.stop()
    assert not timer._thread.is_alive()  # type: ignore[union-attr]


def test_keys_status_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("CALLVAULT_"):
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    Vault.init_home(home)
    Vault.open_home(home).create_tenant("acme")
    runner = CliRunner()
    ok = runner.invoke(app, ["keys", "status", "--json", "--check", "--home", str(home)])
    assert ok.exit_code == 0, ok.output
    rows = json.loads(ok.output)
    assert {r["name"]: r["state"] for r in rows} == {"dev/acme/default": "ok"}

    class Later(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> datetime:  # type: ignore[override]
            return datetime.now(tz) + timedelta(days=400)

    monkeypatch.setattr("callvault.cli._rotation.datetime", Later)
    late = runner.invoke(app, ["keys", "status", "--json", "--check", "--home", str(home)])
    assert late.exit_code == 1
    assert json.loads(late.output)[0]["overdue"] is True
    assert runner.invoke(app, ["keys", "status", "--home", str(home)]).exit_code == 0
