"""keyd's listener: stdlib ``ThreadingHTTPServer`` doing the TLS handshake itself.

Why not uvicorn (the api's server): keyd must (a) authorise each request by the client
certificate's SPIFFE ID and (b) audit refused handshakes. uvicorn 0.54 gives the ASGI app
no peer certificate (the ASGI TLS extension is not implemented: encode/uvicorn#1119 and
Kludex/uvicorn#3043, #3132, #3133 are unmerged proposals), and its handshakes run inside
asyncio's SSL protocol, so a failed one is logged by asyncio and never reaches application
code: refusals could not be audited. Here each connection's thread calls ``wrap_socket``
itself, so a failed handshake is an ``ssl.SSLError`` we explain (``PeerVerifier.explain``)
and audit, and the handler holds the ``SSLSocket`` (``getpeercert(binary_form=True)``).

One thread per connection, at most ``MAX_CONNECTIONS``; HTTP/1.1 keep-alive; bodies are
bounded (``MAX_BODY_BYTES``) and must carry ``Content-Length``; the handshake must finish
within ``HANDSHAKE_TIMEOUT`` and an idle connection is closed after ``IDLE_TIMEOUT``. Nothing is
logged per request: the audit log is the record.
"""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from callvault.keyd._service import Answer, KeydService
from callvault.keys.providers._remote_wire import MAX_BODY_BYTES, error_body

__all__ = ["HANDSHAKE_TIMEOUT", "IDLE_TIMEOUT", "MAX_CONNECTIONS", "KeydServer"]

HANDSHAKE_TIMEOUT = 10.0
IDLE_TIMEOUT = 60.0
MAX_CONNECTIONS = 256
_DRAIN_LIMIT = 1024 * 1024
_LINGER_SECONDS = 1.0


class _Handler(BaseHTTPRequestHandler):
    server: KeydServer
    protocol_version = "HTTP/1.1"
    server_version = "callvault-keyd"
    sys_version = ""
    timeout = IDLE_TIMEOUT
    # One write per answer, sent at once: headers and body in separate segments meet
    # Nagle's algorithm and the client's delayed ACK, which cost 40 ms per request.
    wbufsize = 64 * 1024
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: the audit log records every call; request lines would only duplicate
        it outside the tamper-evident log."""

    def _send(self, answer: Answer, *, close: bool = False) -> None:
        status, body = answer
        data = json.dumps(body, separators=(",", ":")).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        if close or status == 403:  # a refused peer gets no second request on this connection
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(data)

    def _refuse(self, status: int, message: str) -> None:
        self._send((status, error_body("InvalidRequest", message)), close=True)

    def do_POST(self) -> None:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._refuse(411, "Content-Length is required")
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            return self._refuse(411, "Content-Length is required")
        if not 0 <= length <= MAX_BODY_BYTES:
            if 0 < length <= _DRAIN_LIMIT:  # read it, so closing does not reset the answer
                self.rfile.read(length)
            return self._refuse(413, f"bodies are at most {MAX_BODY_BYTES} bytes")
        raw = self.rfile.read(length)
        conn = self.connection
        assert isinstance(conn, ssl.SSLSocket)
        peer = f"{self.client_address[0]}:{self.client_address[1]}"
        self._send(self.server.service.handle(conn, self.path, raw, peer))

    def _not_post(self) -> None:
        self._send((405, error_body("InvalidRequest", "only POST")), close=True)

    do_GET = do_PUT = do_DELETE = do_HEAD = do_PATCH = _not_post


class KeydServer(ThreadingHTTPServer):
    """The mTLS listener; ``ssl_context`` demands client certificates (``client_ca``)."""

    daemon_threads = True
    request_queue_size = 128  # socketserver's default of 5 drops bursts of new connections

    def __init__(
        self, address: tuple[str, int], ssl_context: ssl.SSLContext, service: KeydService
    ) -> None:
        if ssl_context.verify_mode != ssl.CERT_REQUIRED:
            raise ValueError("keyd serves mTLS only: the context must require client certs")
        self.ssl_context, self.service = ssl_context, service
        self._thread: threading.Thread | None = None
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        super().__init__(address, _Handler)

    @property
    def port(self) -> int:
        port: int = self.server_address[1]
        return port

    def process_request(self, request: Any, client_address: Any) -> None:
        """At most ``MAX_CONNECTIONS`` connection threads; beyond that, close at once (the
        client sees a reset and retries) rather than grow threads without bound."""
        if not self._slots.acquire(blocking=False):
            request.close()
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def finish_request(self, request: Any, client_address: Any) -> None:
        """Handshake in this connection's thread; refusals are audited, then closed."""
        peer = f"{client_address[0]}:{client_address[1]}"
        request.settimeout(HANDSHAKE_TIMEOUT)
        tls = self.ssl_context.wrap_socket(request, server_side=True, do_handshake_on_connect=False)
        try:
            tls.do_handshake()
        except (ssl.SSLEOFError, ssl.SSLZeroReturnError):  # the client hung up: no refusal
            tls.close()
            return
        except ssl.SSLError as exc:
            self.service.refused_handshake(exc, peer)
            _linger(tls)
            return
        except OSError:  # reset or timed out before a TLS record: nothing to audit
            tls.close()
            return
        try:
            _Handler(tls, client_address, self)
        except (OSError, ssl.SSLError):
            pass  # the peer went away mid-request
        finally:
            _close(tls)

    def shutdown_request(self, request: Any) -> None:
        request.close()  # finish_request closed the TLS socket; this is the detached one

    def start(self) -> None:
        """Serve in a daemon thread (tests, benches, ``serve_forever`` for the CLI)."""
        self._thread = threading.Thread(target=self.serve_forever, daemon=True, name="keyd")
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self.shutdown()
            self._thread.join(timeout=10)
            self._thread = None
        self.server_close()


def _close(tls: ssl.SSLSocket) -> None:
    with contextlib.suppress(OSError):
        tls.shutdown(socket.SHUT_RDWR)
    tls.close()


def _linger(tls: ssl.SSLSocket) -> None:
    """Close a refused connection without resetting it. A TLS 1.3 client sends its request
    right after its certificate; closing with that request unread would send a TCP RST,
    which can destroy our alert before the client reads it (it would then see a bare EOF,
    not "certificate refused"). So: FIN after the alert, read what arrives, then close."""
    raw = socket.socket(fileno=tls.detach())
    try:
        raw.shutdown(socket.SHUT_WR)
        raw.settimeout(_LINGER_SECONDS)
        for _ in range(64):
            if not raw.recv(16384):
                break
    except OSError:
        pass
    finally:
        raw.close()
