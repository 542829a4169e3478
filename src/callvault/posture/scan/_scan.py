"""``scan(target)``: probe, observe, grade; the library entry point of the scanner.

The result is a :class:`ScanReport` whose ``to_dict()`` is the shared ``callvault.scan/v1``
shape that the posture history, the evidence bundle and the dashboard read. Every profile
is graded on every scan; the caller chooses which one to headline.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from callvault.errors import InvalidRequest
from callvault.posture.scan._catalog import GROUPS, HYBRID_PQ_GROUPS, suites
from callvault.posture.scan._certs import describe_chain
from callvault.posture.scan._errors import ScanError
from callvault.posture.scan._grade import grade
from callvault.posture.scan._handshake import chain_der, observe, verifies
from callvault.posture.scan._http import read_hsts
from callvault.posture.scan._probe import Prober
from callvault.posture.scan._profiles import load_profiles

__all__ = ["FORMAT", "ScanReport", "parse_target", "scan"]

FORMAT = "callvault.scan/v1"
PROTOCOLS = ("SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")


@dataclass(frozen=True)
class ScanReport:
    """One scan. ``data`` is the JSON-serialisable ``callvault.scan/v1`` report."""

    data: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return self.data

    def grade(self, profile: str) -> dict[str, Any]:
        return dict(self.data["grades"][profile])


def parse_target(target: str) -> tuple[str, int]:
    """``host:port`` or ``[v6]:port``; the port is required (no silent default)."""
    host, sep, port = target.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise InvalidRequest(f"target must be HOST:PORT, got {target!r}")
    return host, int(port)


def _sni(name: str) -> str | None:
    try:
        ipaddress.ip_address(name)
        return None  # RFC 6066: no IP literals in SNI
    except ValueError:
        return name


def scan(
    target: str,
    *,
    server_name: str | None = None,
    ca_file: str | None = None,
    timeout: float = 5.0,
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
) -> ScanReport:
    """Scan ``target`` (``host:port``) and grade it against every shipped profile.

    Raises :class:`ScanError` when the target cannot be scanned at all (unreachable,
    timeout, not TLS) and :class:`InvalidRequest` for a malformed target.
    """
    host, port = parse_target(target)
    name = server_name or host
    sni = _sni(name)
    try:
        socket.getaddrinfo(host, port)
    except OSError as exc:
        raise ScanError(f"{host}: cannot resolve ({exc})") from None
    scanned_at = now()
    found = Prober(host, port, sni, timeout).enumerate()
    table = suites()
    accepted = {v: [table[c].iana for c in codes] for v, codes in found.suites.items()}
    protocols = {v: bool(accepted.get(v)) for v in PROTOCOLS}
    groups = [GROUPS[g] for g in found.groups]
    all_suites = [table[c] for codes in found.suites.values() for c in codes]
    certificate: dict[str, Any] = {"present": False}
    hsts = None
    if any(protocols.values()):
        with observe(host, port, sni, timeout) as tls:
            chain = chain_der(tls)
            hsts = read_hsts(tls, name)
        trust_error = verifies(host, port, sni, timeout, ca_file)
        certificate = describe_chain(chain, name, trust_error, scanned_at)
    data: dict[str, Any] = {
        "format": FORMAT,
        "target": f"{host}:{port}",
        "server_name": name,
        "scanned_at": scanned_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "protocols": protocols,
        "suites": {v: accepted[v] for v in PROTOCOLS if accepted.get(v)},
        "server_order": {v: found.server_order[v] for v in PROTOCOLS if accepted.get(v)},
        "groups": groups,
        "hybrid_pq": bool(HYBRID_PQ_GROUPS & set(groups)),
        "forward_secrecy": bool(all_suites) and all(s.forward_secrecy for s in all_suites),
        "certificate": certificate,
        "hsts": hsts,
    }
    data["grades"] = {pid: grade(data, p) for pid, p in load_profiles().items()}
    return ScanReport(data)
