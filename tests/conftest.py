"""Shared fixtures: a fresh callvault home (local KMS, ``dev``) with tenants ``acme`` and
``globex``. Homes are built with every ``CALLVAULT_*`` variable removed, so the developer's
or CI's environment cannot leak into a test."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from callvault import Environment, Vault

TENANTS = ("acme", "globex")

VaultFactory = Callable[..., Vault]


def _make_vault(home: Path, environment: Environment = Environment.DEV) -> Vault:
    with pytest.MonkeyPatch.context() as mp:
        for name in list(os.environ):
            if name.startswith("CALLVAULT_"):
                mp.delenv(name)
        Vault.init_home(home, environment)
        vault = Vault.open_home(home)
    for tenant in TENANTS:
        vault.create_tenant(tenant)
    return vault


@pytest.fixture(scope="session")
def vault_factory() -> VaultFactory:
    """``vault_factory(home, environment=Environment.DEV)``: a new home with both tenants."""
    return _make_vault


@pytest.fixture
def vault(tmp_path: Path) -> Vault:
    """A fresh home for one test."""
    return _make_vault(tmp_path / "home")


@pytest.fixture(scope="module")
def module_vault(tmp_path_factory: pytest.TempPathFactory) -> Vault:
    """One home shared by a module's tests (for hypothesis, which re-runs a test body)."""
    return _make_vault(tmp_path_factory.mktemp("vault") / "home")
