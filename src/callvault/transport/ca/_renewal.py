"""Keep a service's certificate fresh inside a live TLS server, without dropping requests.

:class:`CertificateRenewer` owns one service identity. ``server_context`` is the context to
hand to the server (plain ``ssl`` sockets, uvicorn's ``ssl_context_factory``, …); it is
built once and never mutated afterwards. Renewal issues a new key and certificate,
builds a *new* context with :func:`~callvault.transport.server_context` (so the read-back
policy check runs on it too), and publishes it; an ``sni_callback`` on the front context
moves every new handshake onto the newest context (``SSLObject.context = …``, i.e.
``SSL_set_SSL_CTX``). OpenSSL calls that callback for every ClientHello, with or without
SNI.

Why not ``load_cert_chain`` on the live context: Python releases the GIL while OpenSSL
replaces the certificate and then the key of the shared ``SSL_CTX``; a handshake that starts
in between gets the new certificate with no (or the old) key and fails, and the two
threads touch the same ``CERT`` structure without a lock. Publishing a whole new context
is one reference assignment.

Connections already established keep their keys and continue untouched; only new
handshakes see the new certificate. Renewal is due when a third of the lifetime remains
(:data:`RENEW_WHEN_REMAINING`), or at once if the current certificate was revoked.
"""

from __future__ import annotations

import datetime as dt
import logging
import ssl
import threading
from collections.abc import Callable, Sequence

from callvault.transport._context import client_context, server_context
from callvault.transport._profiles import TlsProfile
from callvault.transport.ca._authority import InternalCa, IssuedCertificate
from callvault.transport.ca._policy import (
    DEFAULT_SERVICE_TTL,
    RENEW_WHEN_REMAINING,
    KeyAlgorithm,
    parse_ttl,
)
from callvault.transport.ca._revocation import RevocationList

__all__ = ["CertificateRenewer"]

_log = logging.getLogger(__name__)


class CertificateRenewer:
    """A service identity that renews itself; see the module docstring."""

    def __init__(
        self,
        ca: InternalCa,
        service: str,
        *,
        profile: TlsProfile = TlsProfile.MODERN,
        ttl: str | dt.timedelta = DEFAULT_SERVICE_TTL,
        dns: Sequence[str] = (),
        ips: Sequence[str] = (),
        key_algorithm: KeyAlgorithm = KeyAlgorithm.ECDSA_P256,
    ) -> None:
        self._ca, self._service, self._profile = ca, service, TlsProfile(profile)
        self._ttl, self._dns, self._ips = parse_ttl(ttl), tuple(dns), tuple(ips)
        self._key_algorithm = KeyAlgorithm(key_algorithm)
        self._revoked = RevocationList(ca.layout.revoked)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._listeners: list[Callable[[IssuedCertificate], None]] = []
        current = ca.current(service)
        if current is None or self._due(current):
            current = self._issue()
        self._current = current
        self._active = self._build(current)
        self.server_context = self._build(current)
        self.server_context.sni_callback = self._select
        self.last_error: Exception | None = None

    @property
    def current(self) -> IssuedCertificate:
        return self._current

    def client_context(self) -> ssl.SSLContext:
        """A client context presenting the *current* certificate. Client contexts cannot
        be switched per handshake; rebuild connection pools from :meth:`on_renew`."""
        c = self._current
        return client_context(self._profile, ca=c.trust_bundle, cert=c.chain, key=c.key)

    def on_renew(self, callback: Callable[[IssuedCertificate], None]) -> None:
        """Call ``callback(new)`` after each renewal (e.g. to rebuild a client pool)."""
        self._listeners.append(callback)

    def renew_if_due(self) -> bool:
        if not self._due(self._current):
            return False
        self.renew()
        return True

    def renew(self) -> IssuedCertificate:
        """Issue now and switch new handshakes to the new certificate."""
        with self._lock:
            issued = self._issue()
            self._active = self._build(issued)  # built and policy-checked before publishing
            self._current = issued
        for callback in self._listeners:
            callback(issued)
        return issued

    def start(self, check_every: dt.timedelta = dt.timedelta(minutes=1)) -> None:
        """Check (and renew) in a daemon thread until :meth:`stop`."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._run,
            args=(check_every.total_seconds(),),
            daemon=True,
            name=f"callvault-renew-{self._service}",
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _run(self, interval: float) -> None:
        while not self._stop.wait(interval):
            try:
                self.renew_if_due()
                self.last_error = None
            except Exception as exc:  # keep serving the current certificate; retry later
                self.last_error = exc
                _log.warning(
                    "renewing %s failed (%s); will retry", self._service, type(exc).__name__
                )

    def _due(self, cert: IssuedCertificate) -> bool:
        now = self._ca_now()
        remaining = cert.not_after - now
        lifetime = cert.not_after - cert.not_before
        return remaining <= lifetime * RENEW_WHEN_REMAINING or self._revoked.is_revoked(cert.serial)

    def _ca_now(self) -> dt.datetime:
        return self._ca.clock()

    def _issue(self) -> IssuedCertificate:
        return self._ca.issue(
            self._service,
            ttl=self._ttl,
            dns=self._dns,
            ips=self._ips,
            key_algorithm=self._key_algorithm,
        )

    def _build(self, cert: IssuedCertificate) -> ssl.SSLContext:
        return server_context(self._profile, cert.chain, cert.key, client_ca=cert.trust_bundle)

    def _select(self, conn: ssl.SSLObject, _server_name: str | None, _ctx: ssl.SSLContext) -> None:
        active = self._active
        if conn.context is not active:
            conn.context = active
