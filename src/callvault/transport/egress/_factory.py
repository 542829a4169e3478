"""``egress_client("deepgram")``: the one way callvault code calls an STT/LLM/TTS provider.

The client is an ordinary ``httpx.Client`` whose only transport is built here:

* its ``SSLContext`` comes from :func:`callvault.transport.client_context` (MODERN, TLS 1.3
  only; LEGACY_INTEROP only for a provider with ``allow_tls12 = true``), so verification,
  hostname checks and the suite allowlist are the policy's, read back and fail-closed;
* every new connection passes :class:`ProviderPolicy` (pins, protocol, suite) between the
  handshake and the first request byte, and leaves one evidence entry;
* ``http://`` URLs (including redirect targets) are refused before any socket is opened;
* environment proxies, ``SSL_CERT_FILE`` and ``.netrc`` are ignored (``trust_env=False``):
  a variable must not be able to route provider traffic around the policy.

Callers get no TLS knobs: headers (API keys) and the provider name are all they pass.
"""

from __future__ import annotations

import datetime as dt
import ssl
from collections.abc import Callable, Mapping
from pathlib import Path

import httpcore
import httpx

from callvault.errors import ConfigError
from callvault.transport._context import client_context
from callvault.transport._errors import TlsPolicyError
from callvault.transport._profiles import TlsProfile
from callvault.transport.egress._backend import AsyncGuardedBackend, GuardedBackend
from callvault.transport.egress._errors import EgressRefused
from callvault.transport.egress._evidence import EvidenceStore, utc_now
from callvault.transport.egress._guard import ProviderPolicy
from callvault.transport.egress._settings import EgressProviderSettings, EgressSettings
from callvault.transport.trace import current_trace, record_tls, record_tls_values

__all__ = ["async_egress_client", "egress_client", "provider_policy"]

_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=5.0)
Clock = Callable[[], dt.datetime]


def _refuse_plaintext(request: httpx.Request, provider: str) -> None:
    if request.url.scheme != "https":
        raise EgressRefused(
            f"egress provider {provider!r}: {request.url.scheme}:// is refused; https:// only"
        )


def _unguardable() -> TlsPolicyError:
    return TlsPolicyError(f"httpx {httpx.__version__} changed its transport; egress refused")


class _EgressTransport(httpx.HTTPTransport):
    """httpx's transport (request/response and error mapping) over a guarded pool."""

    def __init__(self, policy: ProviderPolicy) -> None:
        super().__init__(verify=policy.context, trust_env=False, limits=_LIMITS)
        if not isinstance(getattr(self, "_pool", None), httpcore.ConnectionPool):
            raise _unguardable()
        self._pool.close()
        self._pool = httpcore.ConnectionPool(
            ssl_context=policy.context,
            network_backend=GuardedBackend(policy),
            max_connections=_LIMITS.max_connections,
            max_keepalive_connections=_LIMITS.max_keepalive_connections,
            keepalive_expiry=_LIMITS.keepalive_expiry,
        )
        self._provider = policy.name
        self._pinned = bool(policy.pins)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        _refuse_plaintext(request, self._provider)
        response = super().handle_request(request)
        _trace(response, request, self._provider, self._pinned)
        return response


class _AsyncEgressTransport(httpx.AsyncHTTPTransport):
    def __init__(self, policy: ProviderPolicy) -> None:
        super().__init__(verify=policy.context, trust_env=False, limits=_LIMITS)
        if not isinstance(getattr(self, "_pool", None), httpcore.AsyncConnectionPool):
            raise _unguardable()
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=policy.context,
            network_backend=AsyncGuardedBackend(policy),
            max_connections=_LIMITS.max_connections,
            max_keepalive_connections=_LIMITS.max_keepalive_connections,
            keepalive_expiry=_LIMITS.keepalive_expiry,
        )
        self._provider = policy.name
        self._pinned = bool(policy.pins)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        _refuse_plaintext(request, self._provider)
        response = await super().handle_async_request(request)
        _trace(response, request, self._provider, self._pinned)
        return response


def _trace(response: httpx.Response, request: httpx.Request, provider: str, pinned: bool) -> None:
    """Each request is a hop of the current call's trace, if any, read off the live
    connection that carried it (new or kept alive)."""
    if current_trace() is None:
        return
    stream = response.extensions.get("network_stream")
    conn = stream.get_extra_info("ssl_object") if stream is not None else None
    how = "chain to the configured CA bundle and host name" + (", SPKI pin" if pinned else "")
    hop, peer = f"egress:{provider}", f"{request.url.host}:{request.url.port or 443}"
    # httpcore hands out the C-level ``_ssl._SSLSocket``: the same methods, another type.
    if conn is not None and callable(getattr(conn, "cipher", None)):
        record_tls(hop, peer, conn, authenticated_by=how)
    else:  # the guard checked it at connect; the trace says it could not look again
        record_tls_values(hop, peer, protocol="unknown", cipher="unknown", authenticated_by=how)


def _context(provider: EgressProviderSettings, home: Path) -> ssl.SSLContext:
    profile = TlsProfile.LEGACY_INTEROP if provider.allow_tls12 else TlsProfile.MODERN
    ca = None
    if provider.ca_bundle is not None:
        ca = Path(provider.ca_bundle)
        ca = ca if ca.is_absolute() else home / ca
    return client_context(profile, ca=ca)


def _load(home: Path | None, settings: EgressSettings | None) -> tuple[Path, EgressSettings]:
    from callvault.config import default_home, load_settings  # config imports this package

    home = home or default_home()
    return home, settings if settings is not None else load_settings(home).egress


def provider_policy(
    name: str,
    *,
    home: Path | None = None,
    settings: EgressSettings | None = None,
    clock: Clock = utc_now,
) -> tuple[ProviderPolicy, EgressProviderSettings]:
    """The named provider's checked policy and settings; unknown names are a ConfigError."""
    home, settings = _load(home, settings)
    provider = settings.providers.get(name)
    if provider is None:
        known = ", ".join(sorted(settings.providers)) or "none configured"
        raise ConfigError(f"unknown egress provider {name!r} ([egress.providers]: {known})")
    policy = ProviderPolicy(
        name=name,
        profile=TlsProfile.LEGACY_INTEROP if provider.allow_tls12 else TlsProfile.MODERN,
        pins=frozenset(provider.pins),
        context=_context(provider, home),
        evidence=EvidenceStore(home, keep=settings.evidence_keep),
        clock=clock,
    )
    return policy, provider


def egress_client(
    provider: str,
    *,
    home: Path | None = None,
    settings: EgressSettings | None = None,
    headers: Mapping[str, str] | None = None,
    clock: Clock = utc_now,
) -> httpx.Client:
    """An ``httpx.Client`` for ``[egress.providers.<provider>]``, relative to its base URL.

    ``settings`` defaults to the home's configuration; ``headers`` (e.g. the provider's API
    key) are sent on every request and are never recorded.
    """
    policy, conf = provider_policy(provider, home=home, settings=settings, clock=clock)
    return httpx.Client(
        base_url=conf.base_url,
        transport=_EgressTransport(policy),
        headers=headers,
        timeout=conf.timeout_seconds,
        trust_env=False,
        follow_redirects=False,
    )


def async_egress_client(
    provider: str,
    *,
    home: Path | None = None,
    settings: EgressSettings | None = None,
    headers: Mapping[str, str] | None = None,
    clock: Clock = utc_now,
) -> httpx.AsyncClient:
    """The ``httpx.AsyncClient`` twin of :func:`egress_client` (asyncio or trio via anyio)."""
    policy, conf = provider_policy(provider, home=home, settings=settings, clock=clock)
    return httpx.AsyncClient(
        base_url=conf.base_url,
        transport=_AsyncEgressTransport(policy),
        headers=headers,
        timeout=conf.timeout_seconds,
        trust_env=False,
        follow_redirects=False,
    )
