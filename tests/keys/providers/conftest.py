"""One provider suite for every KMS backend (issue 4: "one parametrised suite, not four
copies").

Each backend lives beside this file in ``_kms_<name>.py`` and defines one session fixture
``kms_backend_<name>`` returning a dict of ``Backend``'s fields (all but ``name``): how to
get a provider for an environment, which optional behaviours the real server enforces, and
(where it can be done) a provider pointed at a dead endpoint. This conftest loads those
files by path (the test tree is not a package) and parametrises ``backend`` over them, so
``test_contract.py`` runs unchanged against local, PKCS#11 (SoftHSM2), Vault Transit
(OpenBao) and AWS KMS (moto).

A backend whose server is missing skips, unless ``CALLVAULT_TEST_<NAME>_REQUIRED=1`` (CI),
when it fails: a missing server must never pass as green.
"""

from __future__ import annotations

import importlib.util
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from callvault import Environment
from callvault.keys.providers import KmsProvider

HERE = Path(__file__).parent


@dataclass(frozen=True)
class Backend:
    name: str
    provider: Callable[[Environment], KmsProvider]
    """A provider for that environment; may share a server with other tests, so tests use
    fresh tenant names (``new_key_id``)."""
    enforces_key_state: bool = True
    """False for moto: disabled / pending-deletion keys keep working there."""
    destroys_immediately: bool = True
    """False where the provider can only schedule (AWS: 7 days minimum)."""
    unreachable: Callable[[Environment], KmsProvider] | None = None
    """A provider configured for an endpoint where nothing listens (None: not applicable)."""
    notes: dict[str, str] = field(default_factory=dict)


def _load_backends() -> list[str]:
    names = []
    for path in sorted(HERE.glob("_kms_*.py")):
        spec = importlib.util.spec_from_file_location(f"callvault_test_{path.stem}", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        name = path.stem.removeprefix("_kms_")
        globals()[f"kms_backend_{name}"] = getattr(module, f"kms_backend_{name}")
        names.append(name)
    return names


BACKENDS = _load_backends()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> Backend:
    fields = request.getfixturevalue(f"kms_backend_{request.param}")
    return Backend(request.param, **fields)


@pytest.fixture
def new_key_id() -> Callable[..., str]:
    """``new_key_id(environment=DEV, scope="default")``: a key id no other test uses."""

    def make(environment: Environment = Environment.DEV, scope: str = "default") -> str:
        return f"{environment.value}/t{secrets.token_hex(5)}/{scope}"

    return make
