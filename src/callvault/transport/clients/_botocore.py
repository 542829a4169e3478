"""Put a botocore client (S3, KMS) under a :class:`ClientTlsGuard`.

botocore has no public way to pass an ``SSLContext`` or a TLS version floor (boto/botocore
#1822, #2488; AWS's own advice is to rebuild OpenSSL). Its HTTP layer is one object per
client, ``client._endpoint.http_session``, a ``botocore.httpsession.URLLib3Session``, which
builds its urllib3 ``PoolManager`` from ``_get_ssl_context()`` and sets ``ca_certs`` per
request in ``_setup_ssl_cert()``. :func:`secure_botocore_client` replaces that object with a
subclass that

* hands urllib3 the guard's context (verification on, TLS 1.3 floor unless the guard's
  profile is ``LEGACY_INTEROP``) and no CA file;
* sends through :func:`guarded_https_pool`, so every connection is reset to that context and
  read back after its handshake (the part that holds even if botocore changes how it
  configures urllib3);
* refuses any URL that is not ``https://`` and uses no proxy from the environment, as the
  egress client does (the environment cannot reroute key or object traffic).

Timeouts, pool size and TCP keep-alive come from the client's public ``meta.config``.
This touches botocore internals, so it fails closed: if the client does not look exactly
as expected, or the new session does not read back as installed, :class:`TlsPolicyError`
is raised and no client is returned. ``tests/transport/clients`` pins the behaviour.
"""

from __future__ import annotations

import socket
from typing import Any
from urllib.parse import urlsplit

from callvault.transport._errors import TlsPolicyError
from callvault.transport.clients._guard import ClientTlsGuard, ClientTlsRefused
from callvault.transport.clients._urllib3 import guarded_https_pool

__all__ = ["botocore_tls_guard", "secure_botocore_client"]

_HOOKS = ("_get_ssl_context", "_setup_ssl_cert", "send", "close")


def _session_class() -> type[Any]:
    from botocore.awsrequest import AWSHTTPSConnectionPool  # type: ignore[import-untyped]
    from botocore.exceptions import HTTPClientError  # type: ignore[import-untyped]
    from botocore.httpsession import URLLib3Session  # type: ignore[import-untyped]

    missing = [name for name in _HOOKS if not callable(getattr(URLLib3Session, name, None))]
    if missing:
        raise TlsPolicyError(
            f"this botocore's URLLib3Session lacks {missing}: callvault cannot apply its TLS "
            "policy to S3 / KMS clients, so it builds none"
        )

    class GuardedURLLib3Session(URLLib3Session):  # type: ignore[misc]
        """botocore's session with the guard's context, pool classes and https only."""

        def __init__(self, guard: ClientTlsGuard, config: Any) -> None:
            self.guard = guard
            options = [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]
            if getattr(config, "tcp_keepalive", False):
                options.append((socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1))
            super().__init__(
                verify=True,
                proxies={},
                timeout=(config.connect_timeout, config.read_timeout),
                max_pool_connections=config.max_pool_connections,
                socket_options=options,
            )
            self._pool_classes_by_scheme = {
                "https": guarded_https_pool(guard, AWSHTTPSConnectionPool)
            }
            self._manager.pool_classes_by_scheme = self._pool_classes_by_scheme

        def _get_ssl_context(self) -> Any:
            return self.guard.context

        def _setup_ssl_cert(self, conn: Any, url: str, verify: Any) -> None:
            conn.cert_reqs, conn.ca_certs, conn.ca_cert_dir = "CERT_REQUIRED", None, None

        def send(self, request: Any) -> Any:
            if urlsplit(request.url).scheme != "https":
                raise HTTPClientError(
                    error=ClientTlsRefused(f"{self.guard.service}: plaintext requests are refused")
                )
            return super().send(request)

    return GuardedURLLib3Session


_SESSION_CLASS: type[Any] | None = None


def _guarded_class() -> type[Any]:
    global _SESSION_CLASS
    if _SESSION_CLASS is None:
        _SESSION_CLASS = _session_class()
    return _SESSION_CLASS


def botocore_tls_guard(client: Any) -> ClientTlsGuard | None:
    """The guard a botocore client sends under, None if it has none."""
    session = getattr(getattr(client, "_endpoint", None), "http_session", None)
    guard = getattr(session, "guard", None) if isinstance(session, _guarded_class()) else None
    return guard if isinstance(guard, ClientTlsGuard) else None


def secure_botocore_client(client: Any, guard: ClientTlsGuard) -> ClientTlsGuard:
    """Send every request of ``client`` under ``guard``; returns the guard in force (a
    client that already has one keeps it). :class:`TlsPolicyError` if it cannot be done."""
    from botocore.httpsession import URLLib3Session

    existing = botocore_tls_guard(client)
    if existing is not None:
        return existing
    endpoint: Any = getattr(client, "_endpoint", None)
    current: Any = getattr(endpoint, "http_session", None)
    if type(current) is not URLLib3Session:
        raise TlsPolicyError(
            f"the {guard.service} client's HTTP session is {type(current).__name__}, not "
            "botocore's URLLib3Session: callvault cannot apply its TLS policy to it"
        )
    session = _guarded_class()(guard, client.meta.config)
    endpoint.http_session = session
    current.close()
    manager = session._manager
    if (
        botocore_tls_guard(client) is not guard
        or manager.connection_pool_kw.get("ssl_context") is not guard.context
        or manager.pool_classes_by_scheme.get("http") is not None
    ):
        raise TlsPolicyError(f"the {guard.service} client did not take callvault's TLS policy")
    return guard
