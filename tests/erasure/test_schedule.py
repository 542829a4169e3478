"""Scheduling: grace periods (7..30, 0 only in dev), cancellation within the grace period."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from callvault import Environment
from callvault.api import ApiServices
from callvault.erasure import (
    DEFAULT_GRACE_DAYS,
    Erasures,
    ErasureState,
    Target,
    check_grace_days,
)
from callvault.errors import InvalidRequest

from .conftest import ALICE, BOB, World


@pytest.mark.parametrize("days", [7, 8, 30])
def test_grace_within_window_everywhere(days: int) -> None:
    for environment in Environment:
        assert check_grace_days(days, environment) == days


@pytest.mark.parametrize("days", [-1, 1, 6, 31, 365])
def test_grace_outside_window_refused(days: int) -> None:
    for environment in Environment:
        with pytest.raises(InvalidRequest):
            check_grace_days(days, environment)


def test_zero_only_in_dev() -> None:
    assert check_grace_days(None, Environment.STAGING) == DEFAULT_GRACE_DAYS == 7
    assert check_grace_days(0, Environment.DEV) == 0
    for environment in (Environment.STAGING, Environment.PROD):
        with pytest.raises(InvalidRequest, match="only in dev"):
            check_grace_days(0, environment)


def test_staging_home_refuses_zero(tmp_path: Path, vault_factory: Any) -> None:
    vault = vault_factory(tmp_path / "home", Environment.STAGING)
    services = ApiServices.embedded(vault)
    try:
        erasures = Erasures(vault, services.objects, services.records)
        with pytest.raises(InvalidRequest):
            erasures.schedule("acme", Target(tenant=True), grace_days=0)
        assert erasures.list_requests() == []
        request = erasures.schedule("acme", Target(tenant=True))
        assert request.due_at - request.requested_at == timedelta(days=7)
    finally:
        services.close()


def test_not_due_before_grace_and_cancel_keeps_everything(world: World) -> None:
    request = world.erasures.schedule("acme", Target(subject=ALICE))
    assert world.erasures.run_due(request.due_at - timedelta(seconds=1)) == []
    cancelled = world.erasures.cancel(request.id, tenant="acme")
    assert cancelled.state is ErasureState.CANCELLED
    assert world.erasures.run_due(request.due_at + timedelta(days=30)) == []
    assert world.opens("acme", ALICE) and world.opens("acme", BOB)
    with pytest.raises(InvalidRequest):  # once only
        world.erasures.cancel(request.id)
    assert ALICE not in (world.vault.home / "erasures.json").read_text()


def test_cancel_refused_after_grace_and_for_another_tenant(world: World) -> None:
    request = world.erasures.schedule("acme", Target(tenant=True), grace_days=0)
    with pytest.raises(InvalidRequest, match="grace period"):
        world.erasures.cancel(request.id)
    other = world.erasures.schedule("acme", Target(subject=BOB), grace_days=7)
    with pytest.raises(InvalidRequest, match="not tenant globex"):
        world.erasures.cancel(other.id, tenant="globex")
    assert world.erasures.get(other.id).state is ErasureState.SCHEDULED


def test_exactly_one_target() -> None:
    for kwargs in ({}, {"subject": ALICE, "record": "r1"}, {"record": "r1", "tenant": True}):
        with pytest.raises(InvalidRequest):
            Target(**kwargs)  # type: ignore[arg-type]


def test_unknown_tenant_and_bad_subject_refused(world: World) -> None:
    with pytest.raises(Exception, match="initech"):
        world.erasures.schedule("initech", Target(tenant=True), grace_days=0)
    with pytest.raises(InvalidRequest):
        world.erasures.schedule("acme", Target(subject="\x00"), grace_days=0)
    assert world.erasures.list_requests() == []
