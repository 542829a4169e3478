"""mTLS to keyd: a small keep-alive pool of verified HTTP/1.1 connections.

Every connection is TLS 1.3 (``client_context(MODERN)``: chain and host name verified
against the internal CA's root), presents our service certificate, and is then checked by
:class:`PeerVerifier` for keyd's SPIFFE ID (``spiffe://<td>/keyd``) and revocation. A
connection taken back out of the pool is checked again, so a keyd certificate revoked
meanwhile stops being used at the next request, as the server does for ours.

When our certificate is renewed, idle connections are dropped and new ones use a new
context (a client ``SSLContext`` cannot switch certificates per handshake). A kept-alive
connection that the server closed meanwhile is retried once on a fresh connection, for
idempotent operations only (a rotation whose answer was lost may have happened).

Failures map to kinds: nothing listening, a timeout or a broken connection is
``ProviderUnreachable`` (retried by ``ResilientProvider``); keyd refusing our certificate
is ``KeyAccessDenied``; keyd failing *our* checks is ``KeyUnavailable``. Fail closed.
"""

from __future__ import annotations

import http.client
import json
import ssl
import threading
import time
from typing import Any

from callvault.errors import KeyUnavailable, ProviderUnreachable
from callvault.keys.providers._remote_settings import RemoteSettings
from callvault.keys.providers._remote_wire import (
    API_PREFIX,
    IDEMPOTENT,
    MAX_BODY_BYTES,
    KeyAccessDenied,
    Operation,
    error_from_body,
)
from callvault.transport import TlsProfile, client_context
from callvault.transport.ca import (
    CaError,
    CertificateRenewer,
    InternalCa,
    PeerRejected,
    PeerVerifier,
    SpiffeId,
)
from callvault.transport.trace import current_trace, record_tls

__all__ = ["KeydTransport"]

_MAX_IDLE_SECONDS = 30.0  # below keyd's idle timeout, so pooled connections are usually alive
_STALE = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError)


class KeydTransport:
    """POST JSON to keyd over verified mTLS; thread-safe."""

    def __init__(self, settings: RemoteSettings) -> None:
        self._settings = settings
        self._verifier = PeerVerifier(settings.ca)
        self.expected = SpiffeId.for_service(self._verifier.trust_domain, settings.server)
        self._lock = threading.Lock()
        self._idle: list[tuple[http.client.HTTPSConnection, float, int]] = []
        self._generation = 0
        self._renewer: CertificateRenewer | None = None
        if settings.cert is not None and settings.key is not None:
            root = settings.ca / "root.pem"
            self._ctx = client_context(
                TlsProfile.MODERN, ca=root, cert=settings.cert, key=settings.key
            )
        else:
            ca = InternalCa.open(settings.ca)
            self._renewer = CertificateRenewer(ca, settings.identity)
            self._renewer.on_renew(lambda _issued: self._renewed())
            self._renewer.start()
            self._ctx = self._renewer.client_context()

    # -- pool -----------------------------------------------------------------------------

    def _renewed(self) -> None:
        assert self._renewer is not None
        ctx = self._renewer.client_context()
        with self._lock:
            self._ctx, self._generation = ctx, self._generation + 1
            idle, self._idle = self._idle, []
        for conn, _, _ in idle:
            conn.close()

    def _checkout(self) -> tuple[http.client.HTTPSConnection, int, bool]:
        now = time.monotonic()
        with self._lock:
            while self._idle:
                conn, since, generation = self._idle.pop()
                if now - since < _MAX_IDLE_SECONDS and generation == self._generation:
                    break
                conn.close()
            else:
                conn, generation = self._connect_locked()
                return conn, generation, False
        self._check_peer(conn)
        return conn, generation, True

    def _connect_locked(self) -> tuple[http.client.HTTPSConnection, int]:
        s = self._settings
        return (
            http.client.HTTPSConnection(s.host, s.port, context=self._ctx, timeout=s.timeout),
            self._generation,
        )

    def _checkin(self, conn: http.client.HTTPSConnection, generation: int) -> None:
        with self._lock:
            if generation == self._generation and len(self._idle) < self._settings.pool_size:
                self._idle.append((conn, time.monotonic(), generation))
                return
        conn.close()

    def _check_peer(self, conn: http.client.HTTPSConnection) -> None:
        sock = conn.sock
        if not isinstance(sock, ssl.SSLSocket):
            conn.close()
            raise KeyUnavailable("keyd connection is not TLS")
        try:
            peer = self._verifier.check(sock)
        except (PeerRejected, CaError) as exc:
            conn.close()
            raise KeyUnavailable(f"keyd's certificate is not acceptable: {exc}") from None
        if peer != self.expected:
            conn.close()
            raise KeyUnavailable(f"keyd presented {peer}, expected {self.expected}")

    def _open(self, conn: http.client.HTTPSConnection) -> None:
        try:
            conn.connect()
        except ssl.SSLCertVerificationError as exc:
            conn.close()
            raise KeyUnavailable(f"keyd's certificate failed verification: {exc.reason}") from None
        except ssl.SSLError as exc:
            conn.close()
            raise _tls_failure(exc) from None
        except OSError as exc:
            conn.close()
            raise ProviderUnreachable(f"keyd unreachable: {type(exc).__name__}") from None
        self._check_peer(conn)

    # -- requests -------------------------------------------------------------------------

    def call(self, operation: Operation, payload: dict[str, Any]) -> dict[str, Any]:
        """The JSON answer of a successful call, or the error it stands for, raised."""
        data = json.dumps(payload, separators=(",", ":")).encode()
        for attempt in (0, 1):
            conn, generation, reused = self._checkout()
            if not reused:
                self._open(conn)
            self._trace(conn)
            try:
                status, raw, will_close = self._exchange(conn, operation, data)
            except _STALE:
                conn.close()
                if reused and attempt == 0 and operation in IDEMPOTENT:
                    continue
                raise ProviderUnreachable("keyd closed the connection") from None
            except ssl.SSLError as exc:
                conn.close()
                raise _tls_failure(exc) from None
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                raise ProviderUnreachable(f"keyd unreachable: {type(exc).__name__}") from None
            if will_close:
                conn.close()
            else:
                self._checkin(conn, generation)
            return _answer(status, raw)
        raise ProviderUnreachable("keyd closed the connection")  # pragma: no cover

    def _trace(self, conn: http.client.HTTPSConnection) -> None:
        if current_trace() is not None and isinstance(conn.sock, ssl.SSLSocket):
            record_tls(
                "keyd",
                f"{self._settings.host}:{self._settings.port}",
                conn.sock,
                authenticated_by="mTLS: internal CA chain, SPIFFE ID, revocation list",
                identity=str(self.expected),
            )

    @staticmethod
    def _exchange(
        conn: http.client.HTTPSConnection, operation: Operation, data: bytes
    ) -> tuple[int, bytes, bool]:
        conn.request(
            "POST",
            API_PREFIX + operation.value,
            body=data,
            headers={"Content-Type": "application/json", "Accept": "application/json"},
        )
        response = conn.getresponse()
        raw = response.read(MAX_BODY_BYTES + 1)
        return response.status, raw, bool(response.will_close)

    def drop_idle(self) -> None:
        """Close the kept-alive connections: the next call makes a new one."""
        with self._lock:
            idle, self._idle = self._idle, []
        for conn, _, _ in idle:
            conn.close()

    def close(self) -> None:
        if self._renewer is not None:
            self._renewer.stop()
        self.drop_idle()


def _tls_failure(exc: ssl.SSLError) -> KeyUnavailable:
    """TLS 1.3 clients learn that the server refused their certificate only at the first
    read, as an alert; other TLS failures are the transport's."""
    reason = exc.reason or ""
    if "ALERT" in reason and ("CERTIFICATE" in reason or "UNKNOWN_CA" in reason):
        return KeyAccessDenied(f"keyd refused our certificate ({reason.lower()})")
    return ProviderUnreachable(f"TLS failure talking to keyd: {reason or type(exc).__name__}")


def _answer(status: int, raw: bytes) -> dict[str, Any]:
    if len(raw) > MAX_BODY_BYTES:
        raise KeyUnavailable("keyd's answer is too large")
    try:
        body = json.loads(raw)
    except ValueError:
        body = None
    if status != 200:
        raise error_from_body(status, body)
    if not isinstance(body, dict):
        raise KeyUnavailable("keyd sent a malformed answer")
    return body
