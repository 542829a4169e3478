"""The local KMS backend for the provider suite: a keyring file per environment."""

from __future__ import annotations

import os
from typing import Any

import pytest

from callvault import Environment
from callvault.keys import KeyMaterial
from callvault.keys.providers import KmsProvider, LocalKms


@pytest.fixture(scope="session")
def kms_backend_local(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = KeyMaterial(os.urandom(32), "root")
    directory = tmp_path_factory.mktemp("local-kms")
    providers: dict[Environment, LocalKms] = {}

    def provider(environment: Environment) -> KmsProvider:
        if environment not in providers:
            path = directory / f"{environment.value}.cvkr"
            providers[environment] = LocalKms(path, root, environment)
        return providers[environment]

    return {"provider": provider}
