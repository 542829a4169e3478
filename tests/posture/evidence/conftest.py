"""A populated home for the evidence tests, built through real components only: sealed and
opened objects through the audited vault (``key.*`` entries), a key rotation, the internal
CA with an issued service certificate, a real egress connection (the egress client against
a TLS server on 127.0.0.1 whose certificate the home's CA issued, with a provider API key
that must never reach the bundle), a minted JWT, and scan and lint reports in the history.

``World.secrets`` lists byte strings no bundle may contain: the root key (file and raw),
a DEK of a sealed object, the bearer token, the egress API key and the plaintext.
"""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from callvault import DataClass, Vault
from callvault.audit import AuditLog, attach_audit
from callvault.envelope import header_of
from callvault.keys.providers import resolve_root_key
from callvault.posture.history import PostureHistory
from callvault.transport import TlsProfile, server_context
from callvault.transport.ca import InternalCa
from callvault.transport.egress import EgressProviderSettings, EgressSettings, egress_client

PLAINTEXT = b"caller +15551234567 said: my card number is 4111 1111 1111 1111"
API_KEY = "Token egress-api-key-5f1e2d3c4b5a"


@dataclass
class World:
    vault: Vault
    home: Path
    secrets: dict[str, bytes] = field(default_factory=dict)

    def log(self) -> AuditLog:
        return AuditLog.for_vault(self.vault)


def scan_report(target: str, when: str, passed: bool = True) -> dict[str, Any]:
    grade = {"grade": "A" if passed else "F", "passed": passed, "findings": []}
    return {
        "format": "callvault.scan/v1",
        "target": target,
        "server_name": target.rpartition(":")[0],
        "scanned_at": when,
        "protocols": {"TLSv1.3": True, "TLSv1.2": False},
        "suites": {"TLSv1.3": ["TLS_AES_256_GCM_SHA384"]},
        "groups": ["x25519"],
        "hybrid_pq": False,
        "forward_secrecy": True,
        "certificate": {},
        "hsts": None,
        "grades": {"callvault-modern": grade},
    }


def lint_report(path: str, when: str, findings: int = 0) -> dict[str, Any]:
    return {
        "format": "callvault.lint/v1",
        "path": path,
        "linted_at": when,
        "checks": [],
        "findings": [
            {
                "check": "tls.protocol-legacy",
                "severity": "high",
                "file": "nginx.conf",
                "line": 3,
                "message": "TLSv1 enabled",
                "fix": "remove it",
            }
        ]
        * findings,
    }


def _tls_once(ctx: ssl.SSLContext) -> tuple[int, threading.Thread]:
    """A TLS server on 127.0.0.1 answering one HTTP request with 200."""
    server = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        with server:
            conn, _ = server.accept()
            with ctx.wrap_socket(conn, server_side=True) as tls:
                data = b""
                while b"\r\n\r\n" not in data and (chunk := tls.recv(65536)):
                    data += chunk
                tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return server.getsockname()[1], thread


def build_world(vault: Vault) -> World:
    home = vault.home
    world = World(vault, home)
    attach_audit(vault)
    context = vault.context("acme", DataClass.TRANSCRIPT, "call-1", subject="+15551234567")
    sealed = vault.seal(context, PLAINTEXT)
    assert vault.open(context, sealed) == PLAINTEXT
    world.secrets["dek"] = vault.keys.data_key(header_of(sealed), context).secret_bytes()
    vault.rotate_key("acme")
    vault.open(context, sealed)
    world.secrets["root key file"] = (home / "root.key").read_bytes()
    world.secrets["root key"] = resolve_root_key(home).secret_bytes()
    world.secrets["plaintext"] = PLAINTEXT
    # the internal CA, and a real egress connection to a provider it certified
    ca = InternalCa.init(home / "ca", home / "ca-root", trust_domain="example.org")
    ca.issue("keyd", ttl="24h")
    stt = ca.issue("stt", ttl="24h", ips=["127.0.0.1"])
    port, thread = _tls_once(server_context(TlsProfile.MODERN, stt.chain, stt.key))
    provider = EgressProviderSettings(  # type: ignore[call-arg]
        base_url=f"https://127.0.0.1:{port}", ca_bundle=str(stt.trust_bundle)
    )
    settings = EgressSettings(providers={"stt": provider})  # type: ignore[call-arg]
    with egress_client(
        "stt", home=home, settings=settings, headers={"Authorization": API_KEY}
    ) as c:
        assert c.get("/v1/listen").status_code == 200
    thread.join(10)
    world.secrets["egress api key"] = API_KEY.encode()
    # a bearer token
    from callvault.auth import Role, SigningKeyRing, TokenService

    token = TokenService(SigningKeyRing(home, vault.provider)).mint(Role("auditor"), None, ttl=60)
    world.secrets["token"] = token.encode()
    history = PostureHistory(home)
    history.record("scan", scan_report("127.0.0.1:8443", "2026-01-01T00:00:00Z"))
    history.record("scan", scan_report("legacy.example:443", "2026-01-01T00:00:01Z", False))
    history.record("lint", lint_report("/srv/deploy", "2026-01-01T00:00:02Z", findings=1))
    return world


@pytest.fixture
def world(vault: Vault) -> World:
    return build_world(vault)


@pytest.fixture(scope="module")
def shared_world(tmp_path_factory: pytest.TempPathFactory, vault_factory: Any) -> World:
    """One populated home for the read-only tamper tests of a module."""
    return build_world(vault_factory(tmp_path_factory.mktemp("evidence") / "home"))


class FakeDocument:
    """A stand-in posture document (the real one is another part's; its own tests cover it)."""

    def markdown(self) -> str:
        return "# Encryption posture\n\nAll call data is encrypted.\n"

    def pdf(self) -> bytes:
        return b"%PDF-1.7\n% posture\n%%EOF\n"


DocumentFactory = Callable[[Path], FakeDocument]


@pytest.fixture
def document() -> DocumentFactory:
    return lambda home: FakeDocument()
