"""``attach_audit``: one log per vault, fed by every provider stack of the vault."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from callvault import Vault
from callvault.audit import attach_audit
from callvault.errors import InvalidRequest
from callvault.keys import FanOutKeyEvents, KeyEvent, MemoryKeyEvents, acting_as
from callvault.keys.providers._audited import AuditedProvider


def test_key_use_after_attaching_is_in_the_log_with_its_actor(vault: Vault) -> None:
    log = attach_audit(vault)
    before = log.size()
    with acting_as("service:acme"):
        sealed = vault.seal(vault.context("acme", "recording", "call-1"), b"hello")
    vault.cache.clear()
    with acting_as("service:acme"):
        assert vault.open(vault.context("acme", "recording", "call-1"), sealed) == b"hello"
    new = list(log.entries())[before:]
    actions = [(e.action, e.actor, e.key_id) for e in new]
    assert ("key.generate", "service:acme", "dev/acme/default") in actions
    assert ("key.unwrap", "service:acme", "dev/acme/default") in actions


def test_attaching_twice_returns_the_same_log_and_writes_events_once(vault: Vault) -> None:
    log = attach_audit(vault)
    assert attach_audit(vault) is log
    before = log.size()
    vault.rotate_key("acme")
    rotations = [e for e in list(log.entries())[before:] if e.action == "key.rotate"]
    assert len(rotations) == 1


def test_an_unattached_vault_writes_nothing(vault: Vault) -> None:
    vault.rotate_key("acme")
    assert not (vault.home / "audit" / "log.cvl").exists()


def test_fan_out_reaches_every_enabled_sink_and_fails_loudly() -> None:
    first, second = MemoryKeyEvents(), MemoryKeyEvents()
    fan = FanOutKeyEvents(first, second)
    assert fan.enabled

    class Broken(MemoryKeyEvents):
        def emit(self, event: object) -> None:  # type: ignore[override]
            raise InvalidRequest("audit log unavailable")

    event = KeyEvent(datetime.now(UTC), "system", "unwrap", "local", "k", 1, None, None, "ok", 0.1)
    fan.emit(event)
    assert first.events == [event] and second.events == [event]
    with pytest.raises(InvalidRequest):
        FanOutKeyEvents(first, Broken()).emit(event)


def test_a_failing_audit_sink_fails_the_key_operation(vault: Vault) -> None:
    """Fail closed: a key operation the audit log cannot record fails for its caller, so
    an unwrap whose event is lost hands out no key."""
    assert isinstance(vault.provider, AuditedProvider)

    class Refusing(MemoryKeyEvents):
        def emit(self, event: object) -> None:  # type: ignore[override]
            raise InvalidRequest("audit log unavailable")

    vault.provider.add_sink(Refusing())
    with pytest.raises(InvalidRequest):
        vault.rotate_key("acme")
