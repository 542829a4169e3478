"""``Keyd``: one home directory's KMS provider, served over mTLS, assembled in one place.

The home is an ordinary callvault home (``callvault init``) with an internal CA
(``callvault ca init``). keyd serves that home's configured provider (``kms = "local://"``,
``aws://…``, ``vault+https://…``, ``pkcs11://…``; never ``keyd://``, which would call
itself), below its ``AuditedProvider``: keyd writes its own ``keyd.<operation>`` entry per
call, with the caller's SPIFFE ID, so each call is audited exactly once. The audit log is
the home's (``attach_audit``); the platform keys it unwraps for itself are logged as usual.

Its certificate (``spiffe://<td>/keyd``, SANs: the listen address and ``server_names``) is
issued at start and renewed by ``CertificateRenewer`` while keyd runs.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

from callvault._vault import Vault
from callvault.audit import attach_audit
from callvault.errors import ConfigError
from callvault.keyd._audit import KeydAudit
from callvault.keyd._policy import KeydPolicy
from callvault.keyd._server import KeydServer
from callvault.keyd._service import KeydService
from callvault.keys.providers import KmsProvider
from callvault.transport.ca import CertificateRenewer, InternalCa, PeerVerifier, SpiffeId

__all__ = ["Keyd"]

_WILDCARDS = frozenset({"0.0.0.0", "::", ""})  # noqa: S104 (names, not a bind)


def _split_names(names: list[str]) -> tuple[list[str], list[str]]:
    dns: list[str] = []
    ips: list[str] = []
    for name in dict.fromkeys(names):
        try:
            ips.append(str(ipaddress.ip_address(name)))
        except ValueError:
            dns.append(name)
    return dns, ips


class Keyd:
    """A keyd ready to serve; ``start()``/``stop()`` for a thread, or ``serve_forever()``."""

    def __init__(self, home: Path, *, host: str | None = None, port: int | None = None) -> None:
        self.vault = Vault.open_home(home)
        settings = self.vault.settings.keyd
        if self.vault.settings.kms.startswith("keyd:"):
            raise ConfigError("keyd cannot serve a keyd:// provider: it would call itself")
        host = settings.host if host is None else host
        port = settings.port if port is None else port
        names = [n for n in (host, *settings.server_names) if n not in _WILDCARDS]
        if not names:
            raise ConfigError(f"keyd listens on {host!r}: name it in [keyd] server_names")
        ca_dir = home / "ca"
        ca = InternalCa.open(ca_dir)
        self.policy = KeydPolicy.build(ca.trust_domain, settings.policy, settings.grants)
        self.spiffe_id = SpiffeId.for_service(ca.trust_domain, "keyd")
        self.audit_log = attach_audit(self.vault)
        provider: KmsProvider = getattr(self.vault.provider, "inner", self.vault.provider)
        service = KeydService(
            provider, self.policy, PeerVerifier(ca_dir), KeydAudit(self.audit_log)
        )
        dns, ips = _split_names(names)
        self.renewer = CertificateRenewer(
            ca, "keyd", ttl=settings.certificate_ttl, dns=dns, ips=ips
        )
        self.renewer.renew()  # this start's names, whatever an earlier start was issued for
        self.server = KeydServer((host, port), self.renewer.server_context, service)

    @property
    def port(self) -> int:
        return self.server.port

    def start(self) -> None:
        self.renewer.start()
        self.server.start()

    def serve_forever(self) -> None:
        self.renewer.start()
        try:
            self.server.serve_forever()
        finally:
            self.stop()

    def stop(self) -> None:
        self.renewer.stop()
        self.server.stop()
