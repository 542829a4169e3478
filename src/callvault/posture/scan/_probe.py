"""Enumeration by probes: protocol versions, accepted suites per version, groups.

Each probe is one TCP connection carrying one hand-built ClientHello (``_wire``). For
TLS <= 1.2 the prober offers every suite it knows, records the one the server picks,
removes it and asks again until the server refuses: that finds every accepted suite, in
the server's order when it enforces one. For TLS 1.3 it offers one group with an empty
key_share: a server that supports the group answers with a HelloRetryRequest naming it,
so groups and TLS 1.3 suites are enumerated without any key exchange.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field

from callvault.posture.scan._catalog import GROUPS, suites
from callvault.posture.scan._errors import ScanError
from callvault.posture.scan._wire import VERSIONS, Answer, NotTls, client_hello, parse_answer

__all__ = ["Enumeration", "Prober"]

_MAX_ROUNDS = 400  # more accepted suites than any real server has: a loop guard


@dataclass
class Enumeration:
    """What the probes found: suites by protocol (IANA codes, in order), groups, and
    whether the server imposed its own suite order per protocol."""

    suites: dict[str, list[int]] = field(default_factory=dict)
    groups: list[int] = field(default_factory=list)
    server_order: dict[str, bool] = field(default_factory=dict)


class Prober:
    """Probes one endpoint; every socket operation is bounded by ``timeout`` seconds."""

    def __init__(self, host: str, port: int, server_name: str | None, timeout: float) -> None:
        self.host, self.port, self.sni, self.timeout = host, port, server_name, timeout
        self.probes = 0

    def hello(self, version: int, offer: list[int], groups: list[int]) -> Answer:
        """Send one ClientHello, return the server's first answer."""
        record = client_hello(version, offer, groups, self.sni)
        self.probes += 1
        try:
            with socket.create_connection((self.host, self.port), self.timeout) as sock:
                sock.settimeout(self.timeout)
                sock.sendall(record)
                data = b""
                while True:
                    try:
                        chunk = sock.recv(16384)
                    except ConnectionResetError:
                        chunk = b""
                    answer = parse_answer(data + chunk, eof=not chunk)
                    if answer is not None:
                        return answer
                    data += chunk
        except NotTls as exc:
            raise ScanError(f"{self.host}:{self.port} does not speak TLS ({exc})") from None
        except TimeoutError:
            raise ScanError(f"{self.host}:{self.port}: timed out after {self.timeout}s") from None
        except OSError as exc:
            raise ScanError(f"{self.host}:{self.port}: {exc.strerror or exc}") from None

    def enumerate(self) -> Enumeration:
        result = Enumeration()
        table = suites()
        legacy = [c for c, s in table.items() if not s.tls13]
        ec_groups = [g for g in GROUPS if g < 0x0100]
        for name in ("SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2"):
            found = self._walk(VERSIONS[name], legacy, ec_groups)
            if found:
                result.suites[name] = found
                result.server_order[name] = self._server_order(VERSIONS[name], found, ec_groups)
        tls13 = [c for c, s in table.items() if s.tls13]
        result.groups = [g for g in GROUPS if self._hrr_group(tls13, g)]
        if result.groups:
            found = self._walk(0x0304, tls13, [result.groups[0]])
            result.suites["TLSv1.3"] = found
            result.server_order["TLSv1.3"] = self._server_order(0x0304, found, [result.groups[0]])
        else:
            result.groups = self._legacy_groups(result, ec_groups)
        return result

    def _walk(self, version: int, candidates: list[int], groups: list[int]) -> list[int]:
        """Offer, record the choice, remove it, repeat until refused."""
        offer, found = list(candidates), []
        for _ in range(_MAX_ROUNDS):
            if not offer:
                break
            answer = self.hello(version, offer, groups)
            if answer.kind not in ("hello", "hrr") or answer.version != version:
                break
            if answer.suite not in offer:  # a server picking what we did not offer
                break
            found.append(answer.suite)
            offer.remove(answer.suite)
        return found

    def _server_order(self, version: int, found: list[int], groups: list[int]) -> bool:
        """Offer the accepted suites reversed: a server that still picks its first choice
        enforces its own order."""
        if len(found) < 2:
            return False
        answer = self.hello(version, list(reversed(found)), groups)
        return answer.suite == found[0]

    def _hrr_group(self, tls13_suites: list[int], group: int) -> bool:
        answer = self.hello(0x0304, tls13_suites, [group])
        return answer.kind == "hrr" and answer.version == 0x0304 and answer.group == group

    def _legacy_groups(self, result: Enumeration, ec_groups: list[int]) -> list[int]:
        """Without TLS 1.3: which ECDHE curves the server accepts, one per probe."""
        table = suites()
        for name in ("TLSv1.2", "TLSv1.1", "TLSv1", "SSLv3"):
            ecdhe = [c for c in result.suites.get(name, []) if table[c].kx == "ECDHE"]
            if ecdhe:
                version = VERSIONS[name]
                return [
                    g
                    for g in ec_groups
                    if (a := self.hello(version, ecdhe, [g])).kind == "hello"
                    and a.version == version
                    and a.suite in ecdhe
                ]
        return []
