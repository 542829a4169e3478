"""Fixtures: an audit log in a fresh vault home (local KMS, tenants acme and globex)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from callvault import Vault
from callvault.audit import AuditEntry, AuditLog, AuditPolicy

T0 = datetime(2026, 1, 1, tzinfo=UTC)

MakeEntry = Callable[..., AuditEntry]


@pytest.fixture
def audit_log(vault: Vault) -> AuditLog:
    return AuditLog.for_vault(vault, AuditPolicy(checkpoint_every=0))


def _entry(i: int, **overrides: object) -> AuditEntry:
    fields: dict[str, object] = {
        "time": T0 + timedelta(minutes=i),
        "actor": "service:acme",
        "action": "recording.read",
        "outcome": "ok",
        "tenant": "acme",
        "key_id": "dev/acme/default",
        "key_version": 1,
        "object_id": f"call-{i}",
        "detail": {"route": "/v1/recordings"},
    }
    fields.update(overrides)
    return AuditEntry(**fields)  # type: ignore[arg-type]


def _fill(log: AuditLog, n: int) -> None:
    for i in range(n):
        log.append(_entry(i))


@pytest.fixture
def entry() -> MakeEntry:
    """``entry(i, **overrides)``: entry ``i`` (object ``call-<i>``, time T0 + i min)."""
    return _entry


@pytest.fixture
def fill() -> Callable[[AuditLog, int], None]:
    """``fill(log, n)``: append entries 0..n-1."""
    return _fill
