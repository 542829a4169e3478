"""The keyd backend for the provider suite: the ``keyd://`` provider against a real keyd.

One keyd per environment (dev and prod, each its own home, local KMS and internal CA),
serving on 127.0.0.1 in this process's threads, over real mTLS sockets. The client is
``RemoteKms`` with the identity ``contract``, whose certificate it issues from keyd's CA and
which keyd's ``[keyd.grants]`` allows every operation (the default preset splits them
between ``api`` and ``ops``; tests/keyd covers that). ``unreachable`` points at a port where
nothing listens.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from callvault import Environment, Vault
from callvault.keyd import Operation
from callvault.keys.providers import KmsProvider
from callvault.transport.ca import InternalCa

TRUST_DOMAIN = "callvault.test"
ALL_OPERATIONS = [op.value for op in Operation]


def _clean_env() -> pytest.MonkeyPatch:
    mp = pytest.MonkeyPatch()
    for name in list(os.environ):
        if name.startswith("CALLVAULT_"):
            mp.delenv(name)
    return mp


def _keyd_home(home: Path, environment: Environment) -> Path:
    Vault.init_home(home, environment)
    grants = ", ".join(f'"{op}"' for op in ALL_OPERATIONS)
    with (home / "callvault.toml").open("a") as config:
        config.write(f"\n[keyd]\nport = 0\n\n[keyd.grants]\ncontract = [{grants}]\n")
    InternalCa.init(home / "ca", home / "ca-root", trust_domain=TRUST_DOMAIN)
    return home


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture(scope="session")
def kms_backend_keyd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    from callvault.keyd import Keyd
    from callvault.keys.providers._remote import RemoteKms
    from callvault.keys.providers._remote_settings import RemoteSettings

    servers: dict[Environment, Keyd] = {}
    clients: dict[Environment, RemoteKms] = {}
    mp = _clean_env()
    try:
        for environment in (Environment.DEV, Environment.PROD):
            home = _keyd_home(tmp_path_factory.mktemp(f"keyd-{environment.value}"), environment)
            servers[environment] = Keyd(home, host="127.0.0.1", port=0)
            servers[environment].start()
    finally:
        mp.undo()

    def settings(environment: Environment, port: int) -> RemoteSettings:
        home = servers[environment].vault.home
        return RemoteSettings(host="127.0.0.1", port=port, identity="contract", ca=home / "ca")

    def provider(environment: Environment) -> KmsProvider:
        if environment not in clients:
            port = servers[environment].port
            clients[environment] = RemoteKms(settings(environment, port), environment)
        return clients[environment]

    def unreachable(environment: Environment) -> KmsProvider:
        return RemoteKms(settings(environment, _closed_port()), environment)

    yield {"provider": provider, "unreachable": unreachable}
    for client in clients.values():
        client.close()
    for server in servers.values():
        server.stop()
