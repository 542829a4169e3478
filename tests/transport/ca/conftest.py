"""Fixtures for the internal CA tests: an injected clock, a fresh CA per test, and a real
mTLS server on 127.0.0.1 that runs :class:`PeerVerifier` after each handshake.

The server speaks a line protocol: every request line gets ``ok <peer SPIFFE ID>`` (or
``refused <reason>`` and a close when ``recheck`` is on and the peer was revoked meanwhile).
Each connection has its own thread, so long-lived connections and new handshakes overlap.
"""

from __future__ import annotations

import datetime as dt
import queue
import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509

from callvault.transport import TlsProfile, client_context
from callvault.transport.ca import (
    CaError,
    InternalCa,
    IssuedCertificate,
    PeerRejected,
    PeerVerifier,
    RejectReason,
)

TRUST_DOMAIN = "callvault.test"
CA_ERROR = "ca-error"


class Clock:
    """A settable UTC clock shared by the CA, the verifier and the renewer."""

    def __init__(self) -> None:
        self.now = dt.datetime.now(dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, delta: dt.timedelta) -> None:
        self.now += delta


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def ca(tmp_path: Path, clock: Clock) -> InternalCa:
    return InternalCa.init(
        tmp_path / "ca", tmp_path / "ca-root", trust_domain=TRUST_DOMAIN, clock=clock
    )


def issue_listener(ca: InternalCa, service: str = "keyd", **kw: Any) -> IssuedCertificate:
    return ca.issue(service, dns=["localhost"], ips=["127.0.0.1"], **kw)


def client_ctx(issued: IssuedCertificate, trust: Path | None = None) -> ssl.SSLContext:
    return client_context(
        TlsProfile.MODERN, ca=trust or issued.trust_bundle, cert=issued.chain, key=issued.key
    )


class MtlsServer:
    """Real TLS 1.3 mTLS server; ``rejections`` collects every refusal's reason."""

    def __init__(self, ctx: ssl.SSLContext, verifier: PeerVerifier, *, recheck: bool) -> None:
        self.ctx, self.verifier, self.recheck = ctx, verifier, recheck
        self.rejections: queue.Queue[RejectReason | str] = queue.Queue()
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.05)
        self.port: int = self.sock.getsockname()[1]
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._accept = threading.Thread(target=self._serve, daemon=True)
        self._accept.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            thread = threading.Thread(target=self._handle, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _handle(self, conn: socket.socket) -> None:
        conn.settimeout(10)
        try:
            tls = self.ctx.wrap_socket(conn, server_side=True)
        except (ssl.SSLError, OSError) as exc:
            conn.close()
            if isinstance(exc, ssl.SSLError):
                self.rejections.put(PeerVerifier.explain(exc).reason)
            return
        with tls:
            try:
                peer = self.verifier.check(tls)
            except PeerRejected as exc:
                self.rejections.put(exc.reason)
                return
            except CaError:  # e.g. an unreadable revocation list: fail closed
                self.rejections.put(CA_ERROR)
                return
            self._answer(tls, str(peer))

    def _answer(self, tls: ssl.SSLSocket, peer: str) -> None:
        with tls.makefile("rwb") as stream:
            try:
                for _line in stream:
                    if self.recheck:
                        try:
                            self.verifier.check(tls)
                        except PeerRejected as exc:
                            self.rejections.put(exc.reason)
                            stream.write(f"refused {exc.reason.value}\n".encode())
                            stream.flush()
                            return
                    stream.write(f"ok {peer}\n".encode())
                    stream.flush()
            except (ssl.SSLError, OSError):
                return

    def rejection(self) -> RejectReason | str:
        return self.rejections.get(timeout=10)

    def close(self) -> None:
        self._stop.set()
        self._accept.join(timeout=5)
        for thread in self._threads:
            thread.join(timeout=5)
        self.sock.close()


@pytest.fixture
def mtls_server() -> Iterator[Any]:
    """``mtls_server(ctx, verifier, recheck=False) -> MtlsServer``; stopped at teardown."""
    servers: list[MtlsServer] = []

    def start(ctx: ssl.SSLContext, verifier: PeerVerifier, *, recheck: bool = False) -> MtlsServer:
        servers.append(MtlsServer(ctx, verifier, recheck=recheck))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


class Connection:
    """One client connection: ``ask()`` sends a line and returns the answer."""

    def __init__(self, ctx: ssl.SSLContext, port: int) -> None:
        raw = socket.create_connection(("127.0.0.1", port), timeout=10)
        try:
            self.tls = ctx.wrap_socket(raw, server_hostname="localhost")
        except BaseException:
            raw.close()
            raise
        self.stream = self.tls.makefile("rwb")

    @property
    def server_serial(self) -> str:
        der = self.tls.getpeercert(binary_form=True)
        assert der is not None
        return format(x509.load_der_x509_certificate(der).serial_number, "x")

    def ask(self, line: str = "ping") -> str:
        self.stream.write(line.encode() + b"\n")
        self.stream.flush()
        return self.stream.readline().decode().strip()

    def close(self) -> None:
        try:
            self.stream.close()
        except (ssl.SSLError, OSError):
            pass  # the server hung up first
        finally:
            self.tls.close()

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def one_request(ctx: ssl.SSLContext, port: int) -> str:
    """A fresh connection, one request; the answer ('' when the server hung up)."""
    with Connection(ctx, port) as conn:
        return conn.ask()
