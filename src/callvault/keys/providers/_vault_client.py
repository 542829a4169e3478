"""The one place the Vault Transit provider talks HTTP: hvac over a TLS 1.3 session.

Every call goes through :meth:`VaultClient.call`, which turns transport failures into the
error tree, so the provider never sees ``requests`` or ``hvac`` exceptions:

* unreachable, TLS failure, timeout, 429, 5xx, sealed → ``KeyUnavailable`` (may pass later);
* 401/403 → ``KeyUnavailable`` naming the likely cause (token invalid, expired, revoked,
  or its policy does not allow the path);
* 400/404/405/412 → :class:`VaultRefused`, which the provider explains (bad ciphertext,
  unknown key, disabled key, retired version...).

Connections: HTTPS under the ``vault`` :class:`ClientTlsGuard`: its
``client_context(MODERN)`` (TLS 1.3 only; ``LEGACY_INTEROP`` under ``allow_tls12``),
certificate and host name always verified, trust from ``ca`` alone or the system store,
and every new connection read back after its handshake and kept as evidence
(:meth:`VaultClient.tls_evidence`); the guarded urllib3 pool enforces this below
``requests``, whatever options it passes down;
``trust_env`` off, so no proxy, CA bundle or ``.netrc`` credentials sneak in from the
environment; redirects are not followed (``X-Vault-Token`` is a custom header that
``requests`` would forward to wherever a redirect points); a 3 s connect and 10 s read
timeout; no retries here (the lead's common wrapper retries with backoff). One hvac client
per thread, because a ``requests.Session`` is not documented as thread-safe.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from requests import PreparedRequest, RequestException, Session
from requests.adapters import HTTPAdapter
from requests.exceptions import SSLError

from callvault.errors import ConfigError, KeyUnavailable
from callvault.keys.providers._vault_settings import VaultSettings
from callvault.keys.providers._vault_token import TokenSource
from callvault.transport import TlsProfile
from callvault.transport.clients import ClientTlsEvidence, ClientTlsGuard, guarded_https_pool

__all__ = ["TIMEOUT", "VaultClient", "VaultDenied", "VaultRefused"]

TIMEOUT = (3.0, 10.0)
"""Connect and read timeouts in seconds: a hung server fails closed instead of hanging."""

T = TypeVar("T")


class VaultRefused(Exception):
    """The server understood the request and refused it (HTTP 400, 404, 405 or 412)."""

    def __init__(self, status: int, errors: list[str]) -> None:
        super().__init__(f"HTTP {status}: {'; '.join(errors) or 'no detail'}")
        self.status = status
        self.errors = errors


class VaultDenied(KeyUnavailable):
    """HTTP 401/403: the token is invalid, expired or revoked, or the policy says no."""


class _ContextAdapter(HTTPAdapter):
    """Every HTTPS connection uses the guard's verified ``SSLContext`` through the guarded
    pool, and trust comes from it alone: ``requests`` would otherwise add its default CA
    bundle to the context."""

    def __init__(self, guard: ClientTlsGuard) -> None:
        self._guard = guard
        self._context = guard.context
        super().__init__(pool_connections=1, pool_maxsize=2, max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["ssl_context"] = self._context
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"https": guarded_https_pool(self._guard)}

    def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
        conn.cert_reqs, conn.ca_certs, conn.ca_cert_dir = "CERT_REQUIRED", None, None

    def build_connection_pool_key_attributes(
        self, request: PreparedRequest, verify: Any, cert: Any = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        host, pool = super().build_connection_pool_key_attributes(request, True, cert)
        pool.pop("ca_certs", None)
        pool.pop("ca_cert_dir", None)
        pool.update(cert_reqs="CERT_REQUIRED", ssl_context=self._context)
        return host, pool


class VaultClient:
    """hvac clients (one per thread) for one server, with the current token."""

    def __init__(self, settings: VaultSettings, tokens: TokenSource) -> None:
        try:
            import hvac  # type: ignore[import-untyped]  # noqa: F401
        except ImportError:  # pragma: no cover - hvac is the `vault` extra
            raise ConfigError(
                "the vault KMS provider needs hvac: pip install 'callvault[vault]'"
            ) from None
        self.settings = settings
        self._tokens = tokens
        profile = TlsProfile.LEGACY_INTEROP if settings.allow_tls12 else TlsProfile.MODERN
        self._guard = (
            ClientTlsGuard("vault", profile, ca=settings.ca)
            if settings.address.startswith("https://")
            else None
        )
        self._local = threading.local()

    def tls_evidence(self) -> tuple[ClientTlsEvidence, ...]:
        """What the latest new connections negotiated, oldest first (empty over plaintext)."""
        return self._guard.evidence() if self._guard is not None else ()

    def call(self, what: str, operation: Callable[[Any], T]) -> T:
        """``operation(hvac_client)``, with every failure mapped (see the module docstring).
        ``what`` names the operation in messages; it never contains the token."""
        import hvac.exceptions as errors  # type: ignore[import-untyped]

        client = self._client()
        client.token = self._tokens.token()
        try:
            return operation(client)
        except (errors.InvalidRequest, errors.InvalidPath, errors.PreconditionFailed) as exc:
            raise VaultRefused(_status(exc), _errors(exc)) from None
        except errors.UnsupportedOperation as exc:
            raise VaultRefused(405, _errors(exc)) from None
        except (errors.Forbidden, errors.Unauthorized):
            raise VaultDenied(
                f"Vault at {self.settings.address} denied {what}: the token is invalid, "
                "expired or revoked, or its policy does not allow this path"
            ) from None
        except errors.RateLimitExceeded:
            raise KeyUnavailable(f"Vault at {self.settings.address} throttled {what}") from None
        except (errors.VaultDown, errors.VaultNotInitialized):
            raise KeyUnavailable(
                f"Vault at {self.settings.address} is sealed, uninitialised or standby ({what})"
            ) from None
        except errors.VaultError as exc:
            raise KeyUnavailable(
                f"Vault at {self.settings.address} failed {what}: {'; '.join(_errors(exc))}"
            ) from None
        except SSLError as exc:
            raise KeyUnavailable(
                f"TLS with Vault at {self.settings.address} failed ({what}): {_reason(exc)}"
            ) from None
        except RequestException as exc:
            raise KeyUnavailable(
                f"Vault at {self.settings.address} is unreachable ({what}): {type(exc).__name__}"
            ) from None

    def _client(self) -> Any:
        client = getattr(self._local, "client", None)
        if client is None:
            import hvac

            session = Session()
            session.trust_env = False
            if self._guard is not None:
                session.mount("https://", _ContextAdapter(self._guard))
            client = hvac.Client(
                url=self.settings.address,
                session=session,
                timeout=TIMEOUT,
                allow_redirects=False,
                namespace=self.settings.namespace,
            )
            self._local.client = client
        return client


def _status(exc: Any) -> int:
    return {"InvalidRequest": 400, "InvalidPath": 404, "PreconditionFailed": 412}.get(
        type(exc).__name__, 400
    )


def _errors(exc: Any) -> list[str]:
    return [str(e).strip() for e in (getattr(exc, "errors", None) or [])]


def _reason(exc: SSLError) -> str:
    text = str(exc)
    for marker in ("CERTIFICATE_VERIFY_FAILED", "WRONG_VERSION_NUMBER", "UNSUPPORTED_PROTOCOL"):
        if marker in text:
            return marker.lower().replace("_", " ")
    return "handshake failed"
