"""A KMS outage, end to end over TLS: the API runs with the AWS KMS provider against moto,
reached through a relay the test can cut. While it is cut, reads of recently used keys keep
working from the unwrapped-key cache; anything that needs a fresh wrap fails closed with
503 ``key_unavailable`` (never plaintext, and fast: the circuit breaker answers at once);
once it is restored and the breaker's cool-down has passed, writes work again."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from callvault import Vault
from callvault.api import ApiServices
from callvault.testing import moto_available, moto_server


class Relay:
    """A TCP relay 127.0.0.1:port → target that can be cut (connections refused) and
    restored on the same port."""

    def __init__(self, target: int) -> None:
        self.target = target
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._up = True
        threading.Thread(target=self._accept, args=(self._listener,), daemon=True).start()

    def cut(self) -> None:
        self._up = False
        self._listener.close()

    def restore(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._up = True
        threading.Thread(target=self._accept, args=(self._listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            if not self._up:
                client.close()
                continue
            upstream = socket.create_connection(("127.0.0.1", self.target))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)
            source.close()  # each socket is the source of exactly one pipe


@pytest.fixture
def moto_port() -> Iterator[int]:
    if not moto_available():
        pytest.skip("moto[server] is not installed")
    with moto_server() as port:
        yield port


def test_a_kms_outage_fails_writes_closed_and_keeps_cached_reads(
    tmp_path: Path,
    moto_port: int,
    monkeypatch: pytest.MonkeyPatch,
    start_server: Callable[..., Any],
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    relay = Relay(moto_port)
    home = tmp_path / "home"
    Vault.init_home(home)
    monkeypatch.setenv(
        "CALLVAULT_KMS",
        f"aws://?region=eu-central-1&endpoint=http://127.0.0.1:{relay.port}"
        "&allow_plaintext_endpoint_for_tests=true&connect_timeout=1&read_timeout=2"
        "&max_attempts=1",
    )
    vault = Vault.open_home(home)
    assert vault.provider.scheme == "aws"
    vault.create_tenant("acme")
    api = start_server(vault, ApiServices.from_settings(vault))
    with api.client(api.token("service", "acme")) as client:
        put = client.put("/v1/tenants/acme/recordings/before", content=b"before the outage")
        assert put.status_code == 201, put.text
        assert client.get("/v1/tenants/acme/recordings/before").status_code == 200

        relay.cut()
        began = time.monotonic()
        for attempt in range(7):  # more than the 5 unreachable answers that open the circuit
            refused = client.put(f"/v1/tenants/acme/recordings/during-{attempt}", content=b"x")
            assert refused.status_code == 503, refused.text
            assert refused.json()["error"]["code"] == "key_unavailable"
            assert refused.headers["retry-after"]
        assert time.monotonic() - began < 30  # failing fast, not waiting out timeouts
        cached = client.get("/v1/tenants/acme/recordings/before")
        assert cached.status_code == 200 and cached.content == b"before the outage"
        assert client.get("/v1/tenants/acme/recordings/during-0").status_code == 404

        relay.restore()
        time.sleep(10.2)  # the breaker's cool-down; then one trial call goes through
        after = client.put("/v1/tenants/acme/recordings/after", content=b"after")
        assert after.status_code == 201, after.text
        assert client.get("/v1/tenants/acme/recordings/after").content == b"after"
