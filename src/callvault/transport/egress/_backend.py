"""httpcore network backends that run :class:`ProviderPolicy` inside the connection setup.

httpcore opens a connection as ``backend.connect_tcp()`` then ``stream.start_tls()``, and
only then writes the request. Wrapping those two calls is the one place where a check is
guaranteed to run after the handshake and before the first request byte: a pin mismatch
closes the socket with nothing sent but the TLS handshake itself. The plain TCP stream
refuses to carry data, so even a plaintext request that slipped past the transport's
scheme check could not leave the machine.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable
from typing import Any

import anyio.to_thread
import httpcore
from httpcore._backends.base import SOCKET_OPTION

from callvault.transport.egress._errors import EgressRefused
from callvault.transport.egress._guard import ProviderPolicy

__all__ = ["AsyncGuardedBackend", "GuardedBackend"]


def _plaintext(policy: ProviderPolicy) -> EgressRefused:
    return EgressRefused(f"egress provider {policy.name!r}: plaintext connections are refused")


def _same_context(policy: ProviderPolicy, ctx: ssl.SSLContext) -> None:
    if ctx is not policy.context:  # httpcore must use the context we built, never its own
        raise EgressRefused(f"egress provider {policy.name!r}: unexpected TLS context")


def _tls_of(policy: ProviderPolicy, stream: Any) -> ssl.SSLSocket | ssl.SSLObject:
    """The live TLS connection under an httpcore stream (the sync backend's ``ssl_object``
    is OpenSSL's bare ``_SSLSocket``, so its Python ``SSLSocket`` is used instead)."""
    for info in ("socket", "ssl_object"):
        conn = stream.get_extra_info(info)
        if isinstance(conn, ssl.SSLSocket | ssl.SSLObject):
            return conn
    raise EgressRefused(f"egress provider {policy.name!r}: no TLS connection to inspect")


class _GuardedStream(httpcore.NetworkStream):
    """A TCP stream that only ever becomes a checked TLS stream."""

    def __init__(self, inner: httpcore.NetworkStream, policy: ProviderPolicy, host: str,
                 port: int) -> None:  # fmt: skip
        self._inner, self._policy, self._host, self._port = inner, policy, host, port

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        raise _plaintext(self._policy)

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        raise _plaintext(self._policy)

    def close(self) -> None:
        self._inner.close()

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        _same_context(self._policy, ssl_context)
        try:
            tls = self._inner.start_tls(ssl_context, server_hostname, timeout)
        except httpcore.ConnectError as exc:
            self._policy.handshake_failed(self._host, self._port, exc)
            raise
        try:
            self._policy.check(_tls_of(self._policy, tls), self._host, self._port)
        except BaseException:
            tls.close()
            raise
        return tls


class GuardedBackend(httpcore.NetworkBackend):
    def __init__(self, policy: ProviderPolicy) -> None:
        self._policy = policy
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        inner = self._inner.connect_tcp(host, port, timeout, local_address, socket_options)
        return _GuardedStream(inner, self._policy, host, port)

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        raise _plaintext(self._policy)

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class _AsyncGuardedStream(httpcore.AsyncNetworkStream):
    def __init__(self, inner: httpcore.AsyncNetworkStream, policy: ProviderPolicy, host: str,
                 port: int) -> None:  # fmt: skip
        self._inner, self._policy, self._host, self._port = inner, policy, host, port

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        raise _plaintext(self._policy)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        raise _plaintext(self._policy)

    async def aclose(self) -> None:
        await self._inner.aclose()

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        _same_context(self._policy, ssl_context)
        try:
            tls = await self._inner.start_tls(ssl_context, server_hostname, timeout)
        except httpcore.ConnectError as exc:
            await anyio.to_thread.run_sync(self._policy.handshake_failed, self._host,
                                           self._port, exc)  # fmt: skip
            raise
        try:
            # The evidence write fsyncs: keep it off the event loop.
            conn = _tls_of(self._policy, tls)
            await anyio.to_thread.run_sync(self._policy.check, conn, self._host, self._port)
        except BaseException:
            await tls.aclose()
            raise
        return tls


class AsyncGuardedBackend(httpcore.AsyncNetworkBackend):
    def __init__(self, policy: ProviderPolicy) -> None:
        self._policy = policy
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        inner = await self._inner.connect_tcp(host, port, timeout, local_address, socket_options)
        return _AsyncGuardedStream(inner, self._policy, host, port)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise _plaintext(self._policy)

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)
