"""Fixtures for the egress tests: a real HTTPS "provider" on 127.0.0.1 that records what
reached it after the handshake, a plain TCP listener that counts connections, and helpers
to configure providers against the session PKI of ``tests/transport/conftest.py``.

The provider server is Python's ``ssl`` behind :func:`server_context`; TLS 1.2-only and
weak-suite providers are Debian's ``openssl s_server`` (the ``s_server`` fixture), an
implementation that really offers what the client must refuse.
"""

from __future__ import annotations

import queue
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from callvault.transport import TlsProfile, server_context
from callvault.transport.egress import EgressProviderSettings, EgressSettings

RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0


class HttpsProvider:
    """Per connection: handshake, read one request (head and Content-Length body), answer
    ``200 ok``. ``handshakes`` counts completed handshakes; ``received`` holds every byte
    that arrived after one, per connection."""

    def __init__(self, ctx: ssl.SSLContext, response: bytes = RESPONSE) -> None:
        self.ctx, self.response = ctx, response
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port: int = self.sock.getsockname()[1]
        self.handshakes = 0
        self.received: list[bytes] = []
        self.done: queue.Queue[None] = queue.Queue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(5)
                self._one(conn)
            self.done.put(None)

    def _one(self, conn: socket.socket) -> None:
        try:
            tls = self.ctx.wrap_socket(conn, server_side=True)
        except (ssl.SSLError, OSError):
            return
        self.handshakes += 1
        data = b""
        with tls:
            try:
                while b"\r\n\r\n" not in data:
                    chunk = tls.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                head, _, body = data.partition(b"\r\n\r\n")
                length = _content_length(head)
                while len(body) < length and (chunk := tls.recv(65536)):
                    body += chunk
                    data += chunk
                if data:
                    tls.sendall(self.response)
            except (ssl.SSLError, OSError):
                pass
        self.received.append(data)

    def wait(self, connections: int = 1) -> None:
        """Block until ``connections`` more connections were fully handled."""
        for _ in range(connections):
            self.done.get(timeout=10)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.sock.close()


class PlainListener:
    """A TCP listener that only counts the connections it accepts."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port: int = self.sock.getsockname()[1]
        self.accepted = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            self.accepted += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.sock.close()


@pytest.fixture
def provider_server(pki: Any) -> Iterator[Callable[..., HttpsProvider]]:
    """``provider_server(leaf=pki.server_ec, response=RESPONSE) -> HttpsProvider``."""
    servers: list[HttpsProvider] = []

    def start(leaf: Any = None, response: bytes = RESPONSE) -> HttpsProvider:
        leaf = leaf or pki.server_ec
        ctx = server_context(TlsProfile.MODERN, leaf.cert, leaf.key)
        servers.append(HttpsProvider(ctx, response))
        return servers[-1]

    yield start
    for s in servers:
        s.close()


@pytest.fixture
def plain_listener() -> Iterator[PlainListener]:
    listener = PlainListener()
    yield listener
    listener.close()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture
def egress_settings(pki: Any) -> Callable[..., EgressSettings]:
    """``egress_settings(port, name="stt", **provider_fields)``: one provider trusting the
    test CA at ``https://localhost:<port>``."""

    def make(port: int, name: str = "stt", keep: int = 50, **fields: Any) -> EgressSettings:
        fields.setdefault("ca_bundle", str(pki.ca.path))
        fields.setdefault("base_url", f"https://localhost:{port}")
        provider = EgressProviderSettings(**fields)
        return EgressSettings(evidence_keep=keep, providers={name: provider})

    return make
