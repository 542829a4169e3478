"""Fixtures for the service-client TLS tests: real servers on 127.0.0.1, no mocks.

* ``moto``: moto's server (S3 and KMS) in its own process, plaintext on 127.0.0.1.
* ``tls_front(upstream_port, ctx)``: TLS terminated with one of our ``server_context``s (or
  any context a test builds) and forwarded to ``upstream_port``; ``received`` keeps the
  bytes each connection sent after its handshake, so a test can prove that a refused
  connection carried no request byte.
* ``kms_backend_vault``: the OpenBao (TLS 1.3) of tests/keys/providers, loaded by path.
* ``elsewhere_leaf``: a trusted certificate for another host name.
* ``s_server`` and ``pki`` come from tests/transport/conftest.py (Debian's ``openssl
  s_server`` for TLS 1.2-only and weak-suite servers).
"""

from __future__ import annotations

import contextlib
import importlib.util
import select
import socket
import ssl
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from callvault.testing import MotoUnavailable, moto_available, moto_server

REGION = "eu-central-1"

_vault_path = Path(__file__).parents[2] / "keys" / "providers" / "_kms_vault.py"
_spec = importlib.util.spec_from_file_location("callvault_test_clients_kms_vault", _vault_path)
assert _spec is not None and _spec.loader is not None
_vault_module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_vault_module)
kms_backend_vault = _vault_module.kms_backend_vault

_pki_path = Path(__file__).parents[1] / "conftest.py"
_pki_spec = importlib.util.spec_from_file_location("callvault_test_clients_pki", _pki_path)
assert _pki_spec is not None and _pki_spec.loader is not None
_pki_module = importlib.util.module_from_spec(_pki_spec)
sys.modules[_pki_spec.name] = _pki_module  # its dataclasses look their module up
_pki_spec.loader.exec_module(_pki_module)


@pytest.fixture(scope="session")
def elsewhere_leaf(pki: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A server certificate from the trusted test CA for ``elsewhere.test`` only: right
    chain, wrong host for 127.0.0.1."""
    directory = tmp_path_factory.mktemp("elsewhere")
    return _pki_module.issue(pki.ca, directory, "elsewhere", dns=("elsewhere.test",), ips=())


@pytest.fixture(scope="session")
def moto() -> Iterator[int]:
    if not moto_available():
        pytest.skip("moto[server] is not installed")
    with contextlib.ExitStack() as stack:
        try:
            port = stack.enter_context(moto_server())
        except MotoUnavailable as exc:
            pytest.skip(str(exc))
        yield port


def boto_session(region: str = REGION) -> Any:
    """Dummy credentials in a session of our own (``os.environ`` is left alone)."""
    import boto3

    return boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=region
    )


class TlsFront:
    """Accept, handshake with ``ctx``, then pump bytes both ways to the upstream port."""

    def __init__(self, upstream: int | None, ctx: ssl.SSLContext) -> None:
        self.upstream, self.ctx = upstream, ctx
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port: int = self.sock.getsockname()[1]
        self.handshakes: list[str | None] = []
        self.received: list[bytearray] = []
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                raw, _ = self.sock.accept()
            except TimeoutError:
                continue
            thread = threading.Thread(target=self._one, args=(raw,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _one(self, raw: socket.socket) -> None:
        raw.settimeout(5)
        try:
            tls = self.ctx.wrap_socket(raw, server_side=True)
        except (ssl.SSLError, OSError):
            raw.close()
            return
        self.handshakes.append(tls.version())
        got = bytearray()
        self.received.append(got)
        if self.upstream is None:  # record only: read until the client goes away
            with tls, contextlib.suppress(ssl.SSLError, OSError):
                while chunk := tls.recv(65536):
                    got += chunk
            return
        up = socket.create_connection(("127.0.0.1", self.upstream), 5)
        _pump(tls, up, got)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.sock.close()
        for thread in self._threads:
            thread.join(timeout=5)


def _pump(tls: ssl.SSLSocket, up: socket.socket, got: bytearray) -> None:
    try:
        while True:
            readable, _, _ = select.select([tls, up], [], [], 5)
            if not readable:
                return
            for source in readable:
                data = source.recv(65536)
                if not data:
                    return
                while isinstance(source, ssl.SSLSocket) and source.pending():
                    data += source.recv(source.pending())
                if source is tls:
                    got += data
                (up if source is tls else tls).sendall(data)
    except OSError:
        return
    finally:
        tls.close()
        up.close()


@pytest.fixture
def tls_front() -> Iterator[Callable[[int | None, ssl.SSLContext], TlsFront]]:
    fronts: list[TlsFront] = []

    def start(upstream: int | None, ctx: ssl.SSLContext) -> TlsFront:
        fronts.append(TlsFront(upstream, ctx))
        return fronts[-1]

    yield start
    for front in fronts:
        front.close()
