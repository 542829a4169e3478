"""Fixtures for the API tests: a real home (tenants ``acme`` and ``globex``), its local CA,
the real app served by uvicorn over TLS (the same context factory ``callvault serve`` uses)
on an ephemeral 127.0.0.1 port, and httpx clients that trust only that CA."""

from __future__ import annotations

import functools
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from callvault import Vault
from callvault.api import ApiServices, create_app
from callvault.auth import SigningKeyRing, TokenService
from callvault.cli._serve import tls_context
from callvault.config import ApiSettings
from callvault.transport import LocalTlsFiles, TlsProfile, client_context, ensure_local_tls


@dataclass
class Server:
    vault: Vault
    tls: LocalTlsFiles
    port: int
    app: Any
    tokens: TokenService

    @property
    def url(self) -> str:
        return f"https://localhost:{self.port}"

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        ctx = client_context(TlsProfile.MODERN, ca=self.tls.ca)
        return httpx.Client(base_url=self.url, verify=ctx, headers=headers, timeout=30)

    def token(self, role: str, tenant: str | None = None, **kwargs: Any) -> str:
        return self.tokens.mint(role, tenant, **kwargs)


def _start(vault: Vault, services: ApiServices | None = None) -> tuple[Any, Any, int, Any]:
    tls = ensure_local_tls(vault.home / "tls")
    app = create_app(vault, services=services)
    sock = socket.create_server(("127.0.0.1", 0))
    config = uvicorn.Config(
        app,
        ssl_context_factory=functools.partial(
            tls_context, TlsProfile.MODERN, tls.chain, tls.key
        ),
        lifespan="off",
        ws="none",
        http="h11",
        log_level="critical",
        access_log=False,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    return server, thread, int(sock.getsockname()[1]), (tls, app)


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory, vault_factory: Any) -> Iterator[
    Callable[..., Server]
]:
    """``served(max_recording_bytes=None) -> Server``: one server per distinct setting,
    each over its own fresh home, stopped at the end of the session."""
    running: dict[Any, Server] = {}
    stops: list[tuple[Any, threading.Thread]] = []

    def get(max_recording_bytes: int | None = None) -> Server:
        if max_recording_bytes in running:
            return running[max_recording_bytes]
        home = tmp_path_factory.mktemp("api") / "home"
        vault = vault_factory(home)
        services = None
        if max_recording_bytes is not None:
            settings = vault.settings.model_copy(
                update={"api": ApiSettings(max_recording_bytes=max_recording_bytes)}
            )
            vault = Vault(vault.home, settings, vault.provider)
            services = ApiServices.embedded(vault, records=False)
        server, thread, port, (tls, app) = _start(vault, services)
        stops.append((server, thread))
        tokens = TokenService(SigningKeyRing(vault.home, vault.provider))
        running[max_recording_bytes] = Server(vault, tls, port, app, tokens)
        return running[max_recording_bytes]

    yield get
    for server, thread in stops:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def api(served: Callable[..., Server]) -> Server:
    return served()


@pytest.fixture
def objects_dir(api: Server) -> Path:
    return api.vault.home / "objects"
