"""Fixtures for the API tests: a real home (tenants ``acme`` and ``globex``), its local CA,
the real app served by uvicorn over TLS (the same context factory ``callvault serve`` uses)
on an ephemeral 127.0.0.1 port, and httpx clients that trust only that CA."""

from __future__ import annotations

import functools
import os
import queue
import re
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import text
from sqlalchemy.engine import URL

from callvault import Vault
from callvault.api import ApiServices, create_app
from callvault.auth import SigningKeyRing, TokenService
from callvault.cli._serve import tls_context
from callvault.config import ApiSettings, StorageSettings
from callvault.storage.records import create_records_engine
from callvault.transport import LocalTlsFiles, TlsProfile, client_context, ensure_local_tls

TENANTS = ("acme", "globex")
_BIND = text("SELECT set_config('callvault.tenant', :tenant, true)")


def _as_bytes(value: object) -> bytes:
    return bytes(value) if isinstance(value, bytes | memoryview) else str(value).encode()


@dataclass
class Server:
    vault: Vault
    tls: LocalTlsFiles
    port: int
    app: Any
    tokens: TokenService
    owner_url: URL | None = None
    """PostgreSQL: the schema owner's URL (for tests that play an attacker with the
    database); None on SQLite."""

    @property
    def backend(self) -> str:
        return "sqlite" if self.owner_url is None else "postgresql"

    def records_bytes(self) -> bytes:
        """Everything the records database holds, as an attacker with the files (SQLite) or
        with owner access to every tenant's rows (PostgreSQL) would see it."""
        if self.owner_url is None:
            return b"".join(p.read_bytes() for p in sorted(self.vault.home.glob("records.db*")))
        engine = create_records_engine(self.owner_url)
        seen: list[bytes] = []
        try:
            for tenant in TENANTS:
                with engine.begin() as connection:
                    connection.execute(_BIND, {"tenant": tenant})
                    for table in ("transcripts", "analytics"):
                        for row in connection.execute(text(f"SELECT * FROM {table}")):
                            seen.extend(_as_bytes(value) for value in row)
        finally:
            engine.dispose()
        return b"\n".join(seen)

    def edit_records(self, sql: str, *args: object, tenant: str = "acme") -> None:
        """Run one tampering statement (``?`` placeholders) that must change one row."""
        if self.owner_url is None:
            with sqlite3.connect(self.vault.home / "records.db") as db:
                assert db.execute(sql, args).rowcount == 1
            return
        names = iter(f"p{i}" for i in range(len(args)))
        statement = re.sub(r"\?", lambda _: f":{next(names)}", sql)
        engine = create_records_engine(self.owner_url)
        try:
            with engine.begin() as connection:
                connection.execute(_BIND, {"tenant": tenant})
                params = {f"p{i}": value for i, value in enumerate(args)}
                assert connection.execute(text(statement), params).rowcount == 1
        finally:
            engine.dispose()

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


@pytest.fixture
def start_server() -> Iterator[Callable[..., Server]]:
    """``start_server(vault, services) -> Server``: one more replica, stopped after the test."""
    stops: list[tuple[Any, threading.Thread, ApiServices]] = []

    def start(vault: Vault, services: ApiServices) -> Server:
        server, thread, port, (tls, app) = _start(vault, services)
        stops.append((server, thread, services))
        return Server(vault, tls, port, app, services.tokens)

    yield start
    for server, thread, services in stops:
        server.should_exit = True
        thread.join(timeout=10)
        services.close()


def _launch(
    home: Path, vault_factory: Any, max_recording_bytes: int | None, database: Any
) -> tuple[Server, Callable[[], None]]:
    """A fresh home served over TLS, and the function that stops it."""
    vault = vault_factory(home)
    update: dict[str, Any] = {}
    if max_recording_bytes is not None:
        update["api"] = ApiSettings(max_recording_bytes=max_recording_bytes)
    if database is not None:
        url = database.app_url.render_as_string(hide_password=False)
        update["storage"] = StorageSettings(records_url=url)
    vault = Vault(vault.home, vault.settings.model_copy(update=update), vault.provider)
    if max_recording_bytes is not None:
        services = ApiServices.embedded(vault, records=False)
    else:
        services = ApiServices.from_settings(vault)
    server, thread, port, (tls, app) = _start(vault, services)
    tokens = TokenService(SigningKeyRing(vault.home, vault.provider))
    owner = database.owner_url if database is not None else None

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=10)
        services.close()

    return Server(vault, tls, port, app, tokens, owner), stop


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory, vault_factory: Any) -> Iterator[
    Callable[..., Server]
]:
    """``served(max_recording_bytes=None) -> Server``: one server per distinct setting,
    each over its own fresh home (records in SQLite), stopped at the end of the session."""
    running: dict[Any, Server] = {}
    stops: list[Callable[[], None]] = []

    def get(max_recording_bytes: int | None = None) -> Server:
        if max_recording_bytes not in running:
            home = tmp_path_factory.mktemp("api") / "home"
            server, stop = _launch(home, vault_factory, max_recording_bytes, None)
            running[max_recording_bytes] = server
            stops.append(stop)
        return running[max_recording_bytes]

    yield get
    for stop in stops:
        stop()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def api(
    request: pytest.FixtureRequest,
    served: Callable[..., Server],
    tmp_path_factory: pytest.TempPathFactory,
    vault_factory: Any,
) -> Iterator[Server]:
    """The API over each records backend: SQLite in the home, and the TLS-only PostgreSQL
    (row-level security, application role)."""
    if request.param == "sqlite":
        yield served()
        return
    database = request.getfixturevalue("pg_database")()
    home = tmp_path_factory.mktemp("api-pg") / "home"
    server, stop = _launch(home, vault_factory, None, database)
    yield server
    stop()  # before pg_database drops the database: it waits for no connection


@pytest.fixture
def objects_dir(api: Server) -> Path:
    return api.vault.home / "objects"


CALLVAULT = [sys.executable, "-c", "from callvault.cli import main; main()"]


def cli_env(home: Path, **extra: str) -> dict[str, str]:
    """The test runner's environment minus every ``CALLVAULT_*``, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLVAULT_")}
    env["CALLVAULT_HOME"] = str(home)
    env.update(extra)
    return env


def _run_cli(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CALLVAULT, *args],
        env=cli_env(home, **env),
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture(scope="session")
def run_cli() -> Callable[..., subprocess.CompletedProcess[str]]:
    """``run_cli(home, *args, **env)``: the real ``callvault`` command in a subprocess."""
    return _run_cli


@dataclass
class CliServer:
    """``callvault serve`` in a subprocess: its port and what it printed at start-up."""

    home: Path
    port: int
    banner: list[str]

    def client(self, token: str) -> httpx.Client:
        ctx = client_context(TlsProfile.MODERN, ca=self.home / "tls" / "ca.pem")
        return httpx.Client(
            base_url=f"https://localhost:{self.port}",
            verify=ctx,
            timeout=30,
            headers={"authorization": f"Bearer {token}"},
        )


@pytest.fixture
def cli_serve() -> Iterator[Callable[..., CliServer]]:
    """``cli_serve(home, **env) -> CliServer``; stopped at the end of the test. Fails the
    test with everything the server printed if it does not come up within 30 s."""
    running: list[tuple[subprocess.Popen[str], threading.Thread]] = []

    def start(home: Path, **env: str) -> CliServer:
        proc = subprocess.Popen(
            [*CALLVAULT, "serve", "--port", "0"],
            env=cli_env(home, **env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert proc.stderr is not None
        lines: queue.Queue[str] = queue.Queue()
        stream = proc.stderr
        reader = threading.Thread(target=lambda: [lines.put(x) for x in stream], daemon=True)
        reader.start()
        running.append((proc, reader))
        seen: list[str] = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=0.5)
            except queue.Empty:
                if proc.poll() is not None and lines.empty():
                    break
                continue
            seen.append(line)
            if match := re.search(r"running on https://127\.0\.0\.1:(\d+)", line):
                return CliServer(home, int(match.group(1)), seen)
        pytest.fail("callvault serve did not start:\n" + "".join(seen))

    yield start
    for proc, reader in running:
        proc.terminate()
        proc.wait(timeout=10)
        reader.join(timeout=5)
        if proc.stderr is not None:
            proc.stderr.close()
