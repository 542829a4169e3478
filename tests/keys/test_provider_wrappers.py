"""The provider stack's two wrappers: retries + circuit breaker (``ResilientProvider``) and
key-access events (``AuditedProvider``), around the real local KMS with faults injected in
between (the real servers' outages are exercised in the provider suite)."""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from callvault import (
    DataClass,
    Environment,
    KeyUnavailable,
    OpenError,
    ProviderUnreachable,
    Vault,
)
from callvault.keys import KeyEvent, KeyMaterial, LoggingKeyEvents, MemoryKeyEvents, acting_as
from callvault.keys.providers import LocalKms, WrappedKey
from callvault.keys.providers._audited import AuditedProvider
from callvault.keys.providers._resilient import ResilientProvider, RetryPolicy

KEY = "dev/acme/default"


class Flaky:
    """The real local KMS behind a switch that makes it 'unreachable' for N calls."""

    def __init__(self, inner: LocalKms) -> None:
        self.inner, self.failures_left, self.calls = inner, 0, 0
        self.scheme, self.environment = inner.scheme, inner.environment

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.inner, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            if self.failures_left:
                self.failures_left -= 1
                raise ProviderUnreachable("connection refused")
            return method(*args, **kwargs)

        return call


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def flaky(tmp_path: Path) -> Flaky:
    kms = LocalKms(tmp_path / "k.cvkr", KeyMaterial(os.urandom(32), "root"), Environment.DEV)
    kms.create_key(KEY, {})
    return Flaky(kms)


def _resilient(flaky: Flaky, clock: Clock, **policy: Any) -> tuple[ResilientProvider, list]:
    slept: list[float] = []
    provider = ResilientProvider(
        flaky,
        RetryPolicy(**policy),
        clock=clock,
        sleep=slept.append,  # type: ignore[arg-type]
    )
    return provider, slept


def test_transient_failures_are_retried_with_bounded_backoff(flaky: Flaky) -> None:
    provider, slept = _resilient(flaky, Clock(), attempts=3, base_delay=0.1, max_delay=0.15)
    flaky.failures_left = 2
    key, wrapped = provider.generate_data_key(KEY, b"ad")
    assert flaky.calls == 3 and len(slept) == 2
    assert all(0 <= s <= 0.15 for s in slept)
    flaky.failures_left = 3
    with pytest.raises(ProviderUnreachable):
        provider.unwrap(KEY, wrapped, b"ad")
    flaky.failures_left = 0
    assert provider.unwrap(KEY, wrapped, b"ad").secret_bytes() == key.secret_bytes()


def test_refusals_are_not_retried(flaky: Flaky) -> None:
    provider, slept = _resilient(flaky, Clock())
    _, wrapped = provider.generate_data_key(KEY, b"ad")
    flaky.calls = 0
    with pytest.raises(OpenError):
        provider.unwrap(KEY, wrapped, b"other")
    provider.disable_key(KEY)
    with pytest.raises(KeyUnavailable) as raised:
        provider.unwrap(KEY, wrapped, b"ad")
    assert not isinstance(raised.value, ProviderUnreachable)
    assert flaky.calls == 3 and slept == []  # once each


def test_administrative_changes_are_attempted_once(flaky: Flaky) -> None:
    provider, _ = _resilient(flaky, Clock())
    flaky.failures_left = 1
    with pytest.raises(ProviderUnreachable):
        provider.rotate_key(KEY)  # a lost answer may mean it happened: never twice
    assert flaky.calls == 1
    assert provider.describe_key(KEY).primary_version == 1


def test_the_breaker_opens_fails_fast_then_half_opens(flaky: Flaky) -> None:
    clock = Clock()
    provider, _ = _resilient(flaky, clock, attempts=1, breaker_failures=3, breaker_cooldown=10)
    _, wrapped = provider.generate_data_key(KEY, b"ad")
    flaky.failures_left = 100
    for _ in range(3):
        with pytest.raises(ProviderUnreachable):
            provider.unwrap(KEY, wrapped, b"ad")
    assert provider.circuit_open
    before = flaky.calls
    with pytest.raises(ProviderUnreachable, match="circuit open"):
        provider.unwrap(KEY, wrapped, b"ad")
    assert flaky.calls == before  # failed fast, the KMS was not asked
    clock.now += 10
    with pytest.raises(ProviderUnreachable):  # the half-open trial fails: open again
        provider.unwrap(KEY, wrapped, b"ad")
    assert flaky.calls == before + 1
    with pytest.raises(ProviderUnreachable, match="circuit open"):
        provider.unwrap(KEY, wrapped, b"ad")
    clock.now += 10
    flaky.failures_left = 0
    provider.unwrap(KEY, wrapped, b"ad")  # the trial succeeds: closed
    assert not provider.circuit_open


def test_every_key_operation_is_one_event_without_secrets(flaky: Flaky) -> None:
    sink = MemoryKeyEvents()
    provider = AuditedProvider(ResilientProvider(flaky), sink)
    with acting_as("service/acme/jti-1"):
        key, wrapped = provider.generate_data_key(KEY, b"secret-associated-data")
        provider.unwrap(KEY, wrapped, b"secret-associated-data")
        with pytest.raises(OpenError):
            provider.unwrap(KEY, WrappedKey(1, bytes(60)), b"x")
    provider.rotate_key(KEY)
    provider.describe_key(KEY)  # a read: no event
    events = sink.events
    assert [(e.operation, e.outcome, e.key_version) for e in events] == [
        ("generate", "ok", 1),
        ("unwrap", "ok", 1),
        ("unwrap", "OpenError", 1),
        ("rotate", "ok", 2),
    ]
    assert [e.actor for e in events] == ["service/acme/jti-1"] * 3 + ["system"]
    assert all(e.tenant == "acme" and e.key_id == KEY and e.latency_ms >= 0 for e in events)
    text = repr(events) + str([e.as_json() for e in events])
    for secret in (key.secret_bytes().hex(), wrapped.blob.hex(), "secret-associated-data"):
        assert secret not in text


def test_vault_operations_name_the_object(tmp_path: Path) -> None:
    Vault.init_home(tmp_path / "h")
    vault = Vault.open_home(tmp_path / "h")
    sink = MemoryKeyEvents()
    vault.keys._provider = AuditedProvider(vault.keys._provider, sink)  # type: ignore[attr-defined]
    vault.create_tenant("acme")
    ctx = vault.context("acme", DataClass.RECORDING, "call-77")
    with acting_as("tenant-admin/acme/k1"):
        vault.open(ctx, vault.seal(ctx, b"audio"))
    generate = [e for e in sink.events if e.operation == "generate"]
    assert generate and generate[-1].object_id == "call-77"
    assert generate[-1].actor == "tenant-admin/acme/k1"


def test_logging_sink_writes_one_json_line(caplog: pytest.LogCaptureFixture) -> None:
    sink, memory = LoggingKeyEvents(), MemoryKeyEvents()
    caplog.set_level(logging.INFO, logger="callvault.keys.events")
    event = KeyEvent(
        datetime.now(UTC), "system", "unwrap", "local", KEY, 1, "acme", "o1", "ok", 0.25
    )
    sink.emit(event)
    memory.emit(event)
    assert len(caplog.records) == 1 and '"operation": "unwrap"' in caplog.text
    assert memory.events == [event]


def test_a_disabled_sink_costs_no_event(flaky: Flaky, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="callvault.keys.events")
    sink = LoggingKeyEvents()
    assert not sink.enabled
    provider = AuditedProvider(flaky, sink)  # type: ignore[arg-type]
    key, wrapped = provider.generate_data_key(KEY, b"ad")
    assert provider.unwrap(KEY, wrapped, b"ad").secret_bytes() == key.secret_bytes()
    assert not caplog.records
    caplog.set_level(logging.INFO, logger="callvault.keys.events")
    assert sink.enabled
    provider.unwrap(KEY, wrapped, b"ad")
    assert len(caplog.records) == 1
