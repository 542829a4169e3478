"""The internal CA: create the hierarchy, issue service certificates, revoke, list.

The online half (``ca_dir``) holds the intermediate key and issues; the root key is only
needed by :meth:`InternalCa.init` (and, later, to re-sign an intermediate), so it is
written to its own directory for the operator to move offline. The library returns
*paths*, never key material; nothing here logs.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509

from callvault._atomic import atomic_write, exclusive_lock
from callvault.errors import InvalidRequest
from callvault.transport.ca._builder import (
    build_intermediate,
    build_root,
    build_service,
    listener_names,
)
from callvault.transport.ca._errors import CaError
from callvault.transport.ca._files import (
    CaLayout,
    load_cert,
    load_key,
    make_private_dir,
    write_cert,
    write_key,
)
from callvault.transport.ca._index import read_index, write_index
from callvault.transport.ca._inventory import CertStatus, Inventory, describe
from callvault.transport.ca._policy import (
    DEFAULT_SERVICE_TTL,
    DEFAULT_TRUST_DOMAIN,
    INTERMEDIATE_LIFETIME,
    MIN_SERVICE_TTL,
    ROOT_LIFETIME,
    KeyAlgorithm,
    parse_ttl,
)
from callvault.transport.ca._revocation import Revoked, read_revocations, write_revocations
from callvault.transport.ca._spiffe import SpiffeId, check_trust_domain

__all__ = ["REVOCATION_REASONS", "Clock", "InternalCa", "IssuedCertificate"]

Clock = Callable[[], dt.datetime]
REVOCATION_REASONS = ("unspecified", "key-compromise", "superseded", "cessation-of-operation")


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True, slots=True)
class IssuedCertificate:
    """Paths of one issuance; ``chain``/``key`` go to ``server_context``/``client_context``
    and ``trust_bundle`` (the root) to the peer's ``client_ca``/``ca``."""

    service: str
    spiffe_id: str
    serial: str
    not_before: dt.datetime
    not_after: dt.datetime
    cert: Path
    chain: Path
    key: Path
    trust_bundle: Path


class InternalCa:
    """The online CA of one trust domain. Build it with :meth:`init` or :meth:`open`."""

    def __init__(self, layout: CaLayout, trust_domain: str, clock: Clock) -> None:
        self.layout = layout
        self.trust_domain = trust_domain
        self._clock = clock
        self.root = load_cert(layout.root_cert)
        self.intermediate = load_cert(layout.intermediate_cert)
        try:
            self.intermediate.verify_directly_issued_by(self.root)
        except Exception:
            raise CaError(f"{layout.intermediate_cert} was not issued by the root") from None

    def clock(self) -> dt.datetime:
        """The CA's notion of now (injected in tests, so renewal can be driven)."""
        return self._clock()

    @property
    def trust_bundle(self) -> Path:
        """The trust anchor every service loads (``root.pem``)."""
        return self.layout.root_cert

    @classmethod
    def init(
        cls,
        ca_dir: Path,
        root_dir: Path,
        *,
        trust_domain: str = DEFAULT_TRUST_DOMAIN,
        clock: Clock = _utcnow,
    ) -> InternalCa:
        """Create root (in ``root_dir``) and intermediate (in ``ca_dir``); refuse to
        overwrite an existing CA."""
        check_trust_domain(trust_domain)
        layout = CaLayout(ca_dir)
        if ca_dir.resolve() == root_dir.resolve():
            raise CaError("the offline root needs its own directory, apart from the CA's")
        if layout.meta.exists() or (root_dir / "root.key").exists():
            raise CaError(f"a CA already exists in {ca_dir} or {root_dir}; refusing to replace it")
        make_private_dir(root_dir)
        make_private_dir(ca_dir)
        now = clock()
        root_key = KeyAlgorithm.ECDSA_P256.generate()
        root = build_root(root_key, trust_domain, now, ROOT_LIFETIME)
        write_key(root_dir / "root.key", root_key)
        write_cert(root_dir / "root.pem", root)
        key = KeyAlgorithm.ECDSA_P256.generate()
        inter = build_intermediate(key, root_key, root, trust_domain, now, INTERMEDIATE_LIFETIME)
        write_key(layout.intermediate_key, key)
        write_cert(layout.intermediate_cert, inter)
        write_cert(layout.root_cert, root)
        write_index(layout.index, [])
        write_revocations(layout.revoked, {})
        meta = {"version": 1, "trust_domain": trust_domain}
        atomic_write(layout.meta, json.dumps(meta).encode() + b"\n", mode=0o644)  # last
        return cls(layout, trust_domain, clock)

    @classmethod
    def open(cls, ca_dir: Path, *, clock: Clock = _utcnow) -> InternalCa:
        layout = CaLayout(ca_dir)
        try:
            meta: Any = json.loads(layout.meta.read_bytes())
            trust_domain = check_trust_domain(meta["trust_domain"])
        except FileNotFoundError:
            raise CaError(f"no internal CA in {ca_dir}; run `callvault ca init`") from None
        except (ValueError, TypeError, KeyError, InvalidRequest) as exc:
            raise CaError(f"{layout.meta} is unreadable: {exc}") from None
        return cls(layout, trust_domain, clock)

    def issue(
        self,
        service: str,
        *,
        ttl: str | dt.timedelta = DEFAULT_SERVICE_TTL,
        dns: Sequence[str] = (),
        ips: Sequence[str] = (),
        key_algorithm: KeyAlgorithm = KeyAlgorithm.ECDSA_P256,
    ) -> IssuedCertificate:
        """A new key and certificate for ``spiffe://<trust domain>/<service>``."""
        spiffe_id = SpiffeId.for_service(self.trust_domain, service)
        lifetime, extra = parse_ttl(ttl), listener_names(dns, ips)
        now = self._clock()
        if self.intermediate.not_valid_after_utc - now < MIN_SERVICE_TTL:
            raise CaError("the intermediate CA expires within the shortest lifetime; renew it")
        issuer_key = load_key(self.layout.intermediate_key)
        if issuer_key.public_key() != self.intermediate.public_key():
            raise CaError(f"{self.layout.intermediate_key} is not the intermediate's key")
        key = KeyAlgorithm(key_algorithm).generate()
        cert = build_service(
            key.public_key(), spiffe_id, issuer_key, self.intermediate, now, lifetime, extra
        )
        info = describe(cert, "service")
        out = self.layout.issued_dir(service, info.serial)
        with exclusive_lock(self.layout.lock):
            for directory in (out.parent.parent, out.parent, out):
                make_private_dir(directory)
            write_key(out / "key.pem", key)
            write_cert(out / "cert.pem", cert)
            write_cert(out / "chain.pem", cert, self.intermediate)
            write_index(self.layout.index, [*read_index(self.layout.index), (service, info)])
            self._prune_keys(now)
        return self._issued(service, info.serial, cert)

    def revoke(self, target: str, *, reason: str = "unspecified") -> list[str]:
        """Revoke one certificate (by hex serial) or every live one of a service.
        Returns the serials revoked; effective at each verifier's next check."""
        if reason not in REVOCATION_REASONS:
            raise InvalidRequest(f"unknown revocation reason {reason!r}: {REVOCATION_REASONS}")
        now = self._clock()
        with exclusive_lock(self.layout.lock):
            index = read_index(self.layout.index)
            revoked = read_revocations(self.layout.revoked)
            by_serial = [e for e in index if e[1].serial == target.lower()]
            chosen = by_serial or [
                e
                for e in index
                if e[0] == target and e[1].status(now, frozenset(revoked)) is CertStatus.VALID
            ]
            if not chosen:
                raise InvalidRequest(f"no live certificate with serial or service {target!r}")
            for _service, info in chosen:
                revoked.setdefault(
                    info.serial, Revoked(info.serial, info.spiffe_id or "", now.isoformat(), reason)
                )
            write_revocations(self.layout.revoked, revoked)
            for service, info in chosen:  # a revoked key is never needed again
                (self.layout.issued_dir(service, info.serial) / "key.pem").unlink(missing_ok=True)
        return [info.serial for _, info in chosen]

    def inventory(self) -> Inventory:
        now = self._clock()
        revoked = frozenset(read_revocations(self.layout.revoked))
        infos = [describe(self.root, "root"), describe(self.intermediate, "intermediate")]
        infos += [info for _, info in read_index(self.layout.index)]
        return Inventory(self.trust_domain, now, tuple((i, i.status(now, revoked)) for i in infos))

    def current(self, service: str) -> IssuedCertificate | None:
        """The valid, unrevoked certificate of ``service`` that expires last, if any."""
        now = self._clock()
        revoked = frozenset(read_revocations(self.layout.revoked))
        live = [
            i
            for s, i in read_index(self.layout.index)
            if s == service and i.status(now, revoked) is CertStatus.VALID
        ]
        if not live:
            return None
        best = max(live, key=lambda i: i.not_after)
        cert = load_cert(self.layout.issued_dir(service, best.serial) / "cert.pem")
        return self._issued(service, best.serial, cert)

    def _issued(self, service: str, serial: str, cert: x509.Certificate) -> IssuedCertificate:
        out = self.layout.issued_dir(service, serial)
        return IssuedCertificate(
            service=service,
            spiffe_id=str(SpiffeId.for_service(self.trust_domain, service)),
            serial=serial,
            not_before=cert.not_valid_before_utc,
            not_after=cert.not_valid_after_utc,
            cert=out / "cert.pem",
            chain=out / "chain.pem",
            key=out / "key.pem",
            trust_bundle=self.trust_bundle,
        )

    def _prune_keys(self, now: dt.datetime) -> None:
        """Delete the keys of expired certificates: they can never be used again."""
        for service, info in read_index(self.layout.index):
            if info.not_after <= now:
                (self.layout.issued_dir(service, info.serial) / "key.pem").unlink(missing_ok=True)
