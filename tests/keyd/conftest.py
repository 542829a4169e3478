"""Fixtures for keyd: a keyd home (local KMS, internal CA of ``callvault.test``) served by a
real keyd on 127.0.0.1 in a thread, clients with chosen certificates, and the keyd audit
log read back.

Refusals of a handshake are audited by the server thread after OpenSSL has already sent
its alert, so ``audited()`` waits (bounded) for the entry to appear instead of racing it.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from callvault import Environment, Vault
from callvault.audit import AuditEntry, AuditLog, attach_audit
from callvault.keyd import Keyd
from callvault.keys.providers._remote import RemoteKms
from callvault.keys.providers._remote_settings import RemoteSettings
from callvault.transport.ca import InternalCa, IssuedCertificate

TRUST_DOMAIN = "callvault.test"


@pytest.fixture
def clean_env() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as mp:
        for name in list(os.environ):
            if name.startswith("CALLVAULT_"):
                mp.delenv(name)
        yield


def make_keyd_home(home: Path, extra_config: str = "") -> Path:
    """``callvault init`` + ``ca init`` for a keyd home; ``extra_config`` is appended."""
    Vault.init_home(home, Environment.DEV)
    with (home / "callvault.toml").open("a") as config:
        config.write("\n" + extra_config)
    InternalCa.init(home / "ca", home / "ca-root", trust_domain=TRUST_DOMAIN)
    return home


@dataclass
class RunningKeyd:
    keyd: Keyd
    home: Path
    clients: list[RemoteKms] = field(default_factory=list)

    @property
    def port(self) -> int:
        return self.keyd.port

    @property
    def ca(self) -> InternalCa:
        return InternalCa.open(self.home / "ca")

    @property
    def log(self) -> AuditLog:
        return self.keyd.audit_log

    def client(self, issued: IssuedCertificate, **settings: Any) -> RemoteKms:
        """A ``keyd://`` provider presenting ``issued`` (explicit cert and key files)."""
        remote = RemoteSettings(
            host="127.0.0.1",
            port=self.port,
            ca=self.home / "ca",
            cert=issued.chain,
            key=issued.key,
            identity=issued.service,
            **settings,
        )
        self.clients.append(RemoteKms(remote, Environment.DEV))
        return self.clients[-1]

    def as_service(self, service: str) -> RemoteKms:
        return self.client(self.ca.issue(service))

    def audited(self, match: Callable[[AuditEntry], bool], *, timeout: float = 10.0) -> AuditEntry:
        """The first keyd entry matching ``match``, waiting for the server thread."""
        deadline = time.monotonic() + timeout
        while True:
            found = [e for e in self.log.entries() if e.action.startswith("keyd.") and match(e)]
            if found:
                return found[0]
            if time.monotonic() > deadline:
                actions = [(e.action, e.actor, e.outcome) for e in self.log.entries()]
                raise AssertionError(f"no matching keyd audit entry; log has {actions}")
            time.sleep(0.05)


@pytest.fixture
def keyd_factory(tmp_path: Path, clean_env: None) -> Iterator[Callable[..., RunningKeyd]]:
    """``keyd_factory(extra_config="")``: a started keyd on a fresh home; stopped after."""
    started: list[RunningKeyd] = []

    def start(extra_config: str = "") -> RunningKeyd:
        home = make_keyd_home(tmp_path / f"keyd{len(started)}", extra_config)
        keyd = Keyd(home, host="127.0.0.1", port=0)
        keyd.start()
        started.append(RunningKeyd(keyd, home))
        return started[-1]

    yield start
    for running in started:
        for client in running.clients:
            client.close()
        running.keyd.stop()


@pytest.fixture
def keyd(keyd_factory: Callable[..., RunningKeyd]) -> RunningKeyd:
    """keyd with the default policy (api uses keys, ops administers them)."""
    return keyd_factory()


def past_ca(ca_dir: Path, days: float) -> InternalCa:
    """The same CA with its clock ``days`` in the past (to issue expired certificates)."""
    then = dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
    return InternalCa.open(ca_dir, clock=lambda: then)


def open_log(home: Path) -> AuditLog:
    return attach_audit(Vault.open_home(home))
