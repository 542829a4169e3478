"""Start and stop the two API servers the benchmark compares, each over its own fresh home.

``prepare_home`` makes a home as ``callvault init`` + ``callvault tenant create`` +
``callvault token`` would (local KMS, tenant ``acme``, the local CA, a ``ROLE`` token);
``running_servers`` spawns one ``_server_main`` child per mode, waits until each accepts
connections and stops them (SIGTERM, then SIGKILL after a grace period) when the block
exits, whatever happened inside it. Only processes this module started are signalled.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import ssl
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from callvault import Vault
from callvault.auth import SigningKeyRing, TokenService
from callvault.transport import TlsProfile, client_context, ensure_local_tls

__all__ = ["TENANT", "Endpoint", "prepare_home", "running_servers"]

TENANT = "acme"
_ROOT = Path(__file__).resolve().parents[2]
_START_TIMEOUT = 60.0
_TOKEN_TTL = 3600
ROLE = "tenant-admin"
"""Reads transcripts' sensitive fields in clear, so a download opens every field-level seal
(``service`` would get them redacted, never opened: less crypto, a flattering figure)."""


@dataclass(frozen=True)
class Endpoint:
    """One running pipeline: where it listens, what to trust, how to authenticate."""

    mode: str
    home: Path
    url: str
    ca: Path
    token: str
    pid: int

    def client(self) -> httpx.Client:
        """A keep-alive HTTPS client: TLS 1.3 only, verified against the home's local CA."""
        return httpx.Client(
            base_url=self.url, verify=self._tls(), headers=self._auth(), timeout=120
        )

    def async_client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self.url, verify=self._tls(), headers=self._auth(), timeout=300
        )

    def _tls(self) -> ssl.SSLContext:
        return client_context(TlsProfile.MODERN, ca=self.ca)

    def _auth(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.token}"}


@dataclass(frozen=True)
class _Home:
    path: Path
    ca: Path
    token: str


def prepare_home(home: Path) -> _Home:
    Vault.init_home(home)
    vault = Vault.open_home(home)
    vault.create_tenant(TENANT)
    files = ensure_local_tls(home / "tls")
    tokens = TokenService(SigningKeyRing(home, vault.provider))
    return _Home(home, files.ca, tokens.mint(ROLE, TENANT, ttl=_TOKEN_TTL))


def _spawn(mode: str, home: Path, log: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(_ROOT), str(_ROOT / "src"), env.get("PYTHONPATH", "")) if p
    )
    with log.open("wb") as stderr:
        return subprocess.Popen(
            [sys.executable, "-m", "bench.api._server_main", mode, str(home)],
            cwd=_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr,
        )


def _wait_ready(proc: subprocess.Popen[bytes], log: Path) -> dict[str, int]:
    assert proc.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        ready = selector.select(_START_TIMEOUT)
    line = proc.stdout.readline() if ready else b""
    if not line:
        raise RuntimeError(
            f"bench API server did not start:\n{log.read_text(errors='replace')[-4000:]}"
        )
    announced: dict[str, int] = json.loads(line)
    return announced


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=15)


@contextlib.contextmanager
def running_servers(workdir: Path, modes: tuple[str, ...]) -> Iterator[dict[str, Endpoint]]:
    """``{mode: Endpoint}`` for fresh homes under ``workdir``; servers stop on exit."""
    homes = {mode: prepare_home(workdir / f"api-{mode}" / "home") for mode in modes}
    procs: dict[str, subprocess.Popen[bytes]] = {}
    try:
        for mode in modes:  # spawn all first: they import FastAPI in parallel
            procs[mode] = _spawn(mode, homes[mode].path, workdir / f"api-{mode}.log")
        endpoints = {}
        for mode, proc in procs.items():
            announced = _wait_ready(proc, workdir / f"api-{mode}.log")
            home = homes[mode]
            endpoints[mode] = Endpoint(
                mode=mode,
                home=home.path,
                url=f"https://localhost:{announced['port']}",
                ca=home.ca,
                token=home.token,
                pid=announced["pid"],
            )
        yield endpoints
    finally:
        for proc in procs.values():
            _stop(proc)
        for proc in procs.values():
            if proc.stdout is not None:
                proc.stdout.close()
