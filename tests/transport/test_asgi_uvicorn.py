"""Proof for ``callvault serve``: uvicorn (>= 0.47, ``ssl_context_factory``) serving an ASGI
app with *our* ``server_context`` enforces the policy exactly. uvicorn hands the context to
``loop.create_server`` unchanged, so the same probes as for the plain socket server apply."""

from __future__ import annotations

import http.client
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

uvicorn = pytest.importorskip("uvicorn")

from callvault.transport import (  # noqa: E402
    HSTS_HEADER,
    HSTS_HEADER_VALUE,
    TlsProfile,
    client_context,
    server_context,
)


async def _app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    assert scope["type"] == "http"
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(HSTS_HEADER.lower().encode(), HSTS_HEADER_VALUE.encode())],
        }
    )
    await send({"type": "http.response.body", "body": scope["scheme"].encode()})


def _factory(profile: TlsProfile, cert: Path, key: Path) -> Callable[..., ssl.SSLContext]:
    """The shape ``callvault serve`` will pass: ignore uvicorn's default context, build ours.
    (With ``--workers`` it must be picklable: a module-level function or a partial.)"""

    def factory(config: Any, default_factory: Callable[[], ssl.SSLContext]) -> ssl.SSLContext:
        return server_context(profile, cert, key)

    return factory


@pytest.fixture
def uvicorn_server(pki: Any) -> Iterator[Callable[[TlsProfile], int]]:
    started: list[tuple[Any, threading.Thread]] = []

    def start(profile: TlsProfile) -> int:
        sock = socket.create_server(("127.0.0.1", 0))
        config = uvicorn.Config(
            _app,
            ssl_context_factory=_factory(profile, pki.server_ec.cert, pki.server_ec.key),
            lifespan="off",
            ws="none",
            http="h11",
            log_level="error",
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        started.append((server, thread))
        deadline = time.monotonic() + 10
        while not server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        assert config.ssl is not None and config.ssl.num_tickets == 0  # ours, not uvicorn's
        return int(sock.getsockname()[1])

    yield start
    for server, thread in started:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.mark.parametrize("profile", list(TlsProfile))
def test_uvicorn_serves_with_our_context(
    pki: Any, uvicorn_server: Any, s_client: Any, profile: TlsProfile
) -> None:
    port = uvicorn_server(profile)
    conn = http.client.HTTPSConnection(
        "localhost", port, context=client_context(profile, ca=pki.ca.path), timeout=10
    )
    conn.request("GET", "/")
    response = conn.getresponse()
    assert response.status == 200
    assert response.read() == b"https"
    assert response.getheader(HSTS_HEADER) == HSTS_HEADER_VALUE
    conn.close()

    for suite in (
        "TLS_AES_256_GCM_SHA384",
        "TLS_CHACHA20_POLY1305_SHA256",
        "TLS_AES_128_GCM_SHA256",
    ):
        got = s_client(port, "-tls1_3", "-ciphersuites", suite)
        assert got.ok and got.cipher == suite, got.output
    assert not s_client(port, "-tls1_3", "-ciphersuites", "TLS_AES_128_CCM_SHA256").ok
    assert not s_client(port, "-tls1_1", "-cipher", "ALL:@SECLEVEL=0").ok
    assert not s_client(port, "-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256").ok
    legacy = s_client(port, "-tls1_2", "-cipher", "ECDHE-ECDSA-AES256-GCM-SHA384")
    assert legacy.ok is (profile is TlsProfile.LEGACY_INTEROP), legacy.output
