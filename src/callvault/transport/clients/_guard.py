"""The TLS policy of one outbound service client (S3, AWS KMS, Vault), checked per connection.

A :class:`ClientTlsGuard` owns the one ``SSLContext`` its client may use
(``client_context(profile, ca=ca)``: verification always on, TLS 1.3 floor unless the
profile is ``LEGACY_INTEROP``) and reads every new connection back after its handshake,
before a request byte is written. OpenSSL has already refused anything outside the
context; the read-back decides again, so a context that a library mutated or replaced
fails closed instead of carrying keys or sealed objects, and it leaves evidence: the last
connections' protocol, suite and peer certificate fingerprint, refusals included.

Evidence is kept in memory (a short ring per client): the clients are long-lived, and the
posture and walkthrough code ask the live client what it negotiated.
"""

from __future__ import annotations

import datetime as dt
import ssl
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from urllib3.exceptions import SSLError as Urllib3SSLError

from callvault.transport._context import StrPath, client_context
from callvault.transport._negotiated import negotiated
from callvault.transport._profiles import TlsProfile, profile_spec

__all__ = ["EVIDENCE_KEEP", "ClientTlsEvidence", "ClientTlsGuard", "ClientTlsRefused"]

EVIDENCE_KEEP = 32
"""Connections remembered per client (new connections are rare: clients keep them alive)."""

_REASON_LIMIT = 300


class ClientTlsRefused(Urllib3SSLError):
    """A connection outside the client's TLS policy; closed before any request byte.

    It is urllib3's ``SSLError`` so that botocore and requests report it as the TLS failure
    it is (``botocore.exceptions.SSLError``, ``requests.exceptions.SSLError``) and the
    callers' existing error maps turn it into ``ObjectStoreError`` / ``KeyUnavailable``."""


@dataclass(frozen=True, slots=True)
class ClientTlsEvidence:
    """One connection attempt of a service client, as evidence (never a request byte)."""

    service: str
    host: str
    port: int
    time: str
    outcome: Literal["ok", "refused"]
    reason: str | None
    protocol: str | None
    """``TLSv1.3`` or ``TLSv1.2``; None when the handshake never completed."""
    cipher: str | None
    peer_cert_sha256: str | None


class ClientTlsGuard:
    """The TLS policy of one named service client: its context, its check, its evidence."""

    def __init__(
        self,
        service: str,
        profile: TlsProfile = TlsProfile.MODERN,
        *,
        ca: StrPath | None = None,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.service = service
        self.profile = TlsProfile(profile)
        self.context = client_context(self.profile, ca=ca)
        spec = profile_spec(self.profile)
        self.protocols = frozenset(
            {"TLSv1.2", "TLSv1.3"} if spec.min_version == "TLSv1.2" else {"TLSv1.3"}
        )
        self.suites = spec.suite_names
        self._clock = clock
        self._lock = threading.Lock()
        self._evidence: deque[ClientTlsEvidence] = deque(maxlen=EVIDENCE_KEEP)

    def __repr__(self) -> str:
        return f"ClientTlsGuard({self.service!r}, {self.profile.value})"

    def check(self, conn: ssl.SSLSocket | ssl.SSLObject, host: str, port: int) -> None:
        """Record a completed handshake; raise :class:`ClientTlsRefused` unless it is in
        policy (protocol, suite, our context with verification on, a peer certificate)."""
        got = negotiated(conn)
        ctx = conn.context
        reason = None
        if ctx is not self.context:
            reason = "the connection did not use the client's TLS context"
        elif ctx.verify_mode != ssl.CERT_REQUIRED or not ctx.check_hostname:
            reason = "certificate or host name verification was switched off"
        elif got["peer_cert_sha256"] is None:
            reason = "the server sent no certificate"
        elif got["protocol"] not in self.protocols:
            reason = f"negotiated {got['protocol']}, outside the {self.profile.value} profile"
        elif got["cipher"] not in self.suites:
            reason = f"negotiated suite {got['cipher']}, not on the allowlist"
        self._record(
            host,
            port,
            reason,
            protocol=got["protocol"],
            cipher=got["cipher"],
            peer_cert_sha256=got["peer_cert_sha256"],
        )
        if reason is not None:
            raise ClientTlsRefused(f"{self.service} at {host}:{port} refused: {reason}")

    def handshake_failed(self, host: str, port: int, exc: BaseException) -> None:
        """Record a connection whose handshake failed (nothing was sent, nothing verified)."""
        message = " ".join(str(exc).split())[:_REASON_LIMIT] or type(exc).__name__
        self._record(host, port, f"handshake: {message}")

    def evidence(self) -> tuple[ClientTlsEvidence, ...]:
        """The latest connection attempts, oldest first."""
        with self._lock:
            return tuple(self._evidence)

    def latest(self) -> ClientTlsEvidence | None:
        with self._lock:
            return self._evidence[-1] if self._evidence else None

    def _record(
        self,
        host: str,
        port: int,
        reason: str | None,
        *,
        protocol: str | None = None,
        cipher: str | None = None,
        peer_cert_sha256: str | None = None,
    ) -> None:
        entry = ClientTlsEvidence(
            service=self.service,
            host=host,
            port=port,
            time=self._clock().astimezone(dt.UTC).isoformat(),
            outcome="ok" if reason is None else "refused",
            reason=reason,
            protocol=protocol,
            cipher=cipher,
            peer_cert_sha256=peer_cert_sha256,
        )
        with self._lock:
            self._evidence.append(entry)
