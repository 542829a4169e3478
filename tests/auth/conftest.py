"""Fixtures for the auth tests: a real home (local KMS) and an injectable clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from callvault import Vault
from callvault.auth import ApiKeyStore, SigningKeyRing, TokenService

START = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def ring(vault: Vault, clock: FakeClock) -> SigningKeyRing:
    return SigningKeyRing(vault.home, vault.provider, clock=clock)


@pytest.fixture
def tokens(ring: SigningKeyRing) -> TokenService:
    return TokenService(ring)


@pytest.fixture
def api_keys(vault: Vault, clock: FakeClock) -> ApiKeyStore:
    return ApiKeyStore(vault.home, vault.provider, clock=clock)
