"""urllib3 connection and pool classes that enforce a :class:`ClientTlsGuard` themselves.

botocore and requests both send through urllib3, and both configure its TLS from their own
settings: ``verify`` becomes ``ca_certs`` (which urllib3 *loads into the context it is
given*, widening its trust to certifi's bundle), ``assert_hostname=False`` switches the
host name check off, ``cert_reqs`` rewrites the context's ``verify_mode``. So the policy is
enforced one level lower, where it cannot be configured around: the connection class.

Before each handshake it resets every TLS option of the connection to the guard's context
alone (no CA file, no client certificate, no hostname override, ``CERT_REQUIRED``), refuses
to tunnel through a proxy, and after the handshake hands the live socket to the guard,
which records it and refuses anything out of policy before the first request byte. The
classes are attached through urllib3's public extension points, ``ConnectionCls`` on a pool
class and ``PoolManager.pool_classes_by_scheme``.
"""

from __future__ import annotations

import ssl
from typing import Any

from urllib3.connectionpool import HTTPSConnectionPool

from callvault.transport.clients._guard import ClientTlsGuard, ClientTlsRefused
from callvault.transport.trace import current_trace, record_tls

__all__ = ["guarded_https_pool"]


class _GuardedConnection:
    """Mixed in before an ``HTTPSConnection`` subclass; ``_guard`` is set per class."""

    _guard: ClientTlsGuard
    sock: Any
    host: str
    port: int

    def connect(self) -> None:
        me: Any = self
        guard = self._guard
        if me.proxy_is_tunneling or me.proxy_is_forwarding:
            raise ClientTlsRefused(f"{guard.service}: connections through a proxy are refused")
        me.ssl_context = guard.context
        me.cert_reqs = "CERT_REQUIRED"
        me.ca_certs = me.ca_cert_dir = me.ca_cert_data = None
        me.cert_file = me.key_file = me.key_password = None
        me.assert_hostname = me.assert_fingerprint = None
        me.server_hostname = None
        try:
            super().connect()  # type: ignore[misc]
        except ClientTlsRefused:
            raise
        except ssl.SSLError as exc:  # version, suite or certificate refused: record it
            guard.handshake_failed(self.host, self.port, exc)
            raise
        conn = self.sock
        if not isinstance(conn, ssl.SSLSocket | ssl.SSLObject):
            self._drop()
            raise ClientTlsRefused(f"{guard.service}: no TLS connection to inspect")
        try:
            guard.check(conn, self.host, self.port)
        except ClientTlsRefused:
            self._drop()
            raise

    def request(self, *args: Any, **kwargs: Any) -> None:
        """Each request on this connection is a hop of the current call's trace, if any."""
        sock = self.sock
        if current_trace() is not None and isinstance(sock, ssl.SSLSocket | ssl.SSLObject):
            record_tls(
                self._guard.service,
                f"{self.host}:{self.port}",
                sock,
                authenticated_by="chain to the configured CA and host name",
            )
        super().request(*args, **kwargs)  # type: ignore[misc]

    def _drop(self) -> None:
        sock, self.sock = self.sock, None
        if sock is not None:
            sock.close()


def guarded_https_pool(
    guard: ClientTlsGuard, base: type[HTTPSConnectionPool] = HTTPSConnectionPool
) -> type[HTTPSConnectionPool]:
    """A subclass of ``base`` whose connections obey ``guard`` (see the module docstring)."""
    connection_base = base.ConnectionCls
    connection = type(
        f"Guarded{connection_base.__name__}",
        (_GuardedConnection, connection_base),
        {"_guard": guard, "__module__": __name__},
    )
    return type(
        f"Guarded{base.__name__}",
        (base,),
        {"ConnectionCls": connection, "__module__": __name__},
    )
