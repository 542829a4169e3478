"""Real TLS servers with known configurations on 127.0.0.1, and Debian's testssl.sh as
the reference scanner.

Servers (session-scoped, started once): ``legacy`` (openssl s_server, TLS 1.0-1.2, every
suite at security level 0, RSA certificate: CBC, RSA-kex, anon), ``tls13`` (s_server,
TLS 1.3 only), ``ecdhe12`` (s_server, TLS 1.2 only with the four callvault-legacy-interop
suites, server order enforced) and ``callvault`` (uvicorn serving through
``callvault.transport.server_context(MODERN)`` with HSTS: our own listener).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from callvault.transport import HSTS_HEADER, HSTS_HEADER_VALUE, TlsProfile, server_context

OPENSSL = "/usr/bin/openssl"
TESTSSL = shutil.which("testssl") or shutil.which("testssl.sh")
_NOW = dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Pki:
    ca: Path
    ec_cert: Path
    ec_key: Path
    rsa_cert: Path
    rsa_key: Path


def _write_key(key: Any, path: Path) -> None:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """A CA and two 60-day leaves (EC P-256, RSA-2048) for ``localhost``/127.0.0.1."""
    d = tmp_path_factory.mktemp("scan-pki")
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "scan-test-ca")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_NOW - dt.timedelta(minutes=5))
        .not_valid_after(_NOW + dt.timedelta(days=90))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    (d / "ca.pem").write_bytes(ca.public_bytes(pem))
    paths = {}
    for kind, key in (
        ("ec", ec.generate_private_key(ec.SECP256R1())),
        ("rsa", rsa.generate_private_key(public_exponent=65537, key_size=2048)),
    ):
        sans = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
        leaf = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
            .issuer_name(ca_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(_NOW - dt.timedelta(minutes=5))
            .not_valid_after(_NOW + dt.timedelta(days=60))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
            )
            .sign(ca_key, hashes.SHA256())
        )
        cert, keyfile = d / f"{kind}.crt", d / f"{kind}.key"
        cert.write_bytes(leaf.public_bytes(pem) + ca.public_bytes(pem))
        _write_key(key, keyfile)
        paths[kind] = (cert, keyfile)
    return Pki(d / "ca.pem", *paths["ec"], *paths["rsa"])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_listening(port: int) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    pytest.fail(f"server on {port} did not start")


async def _hsts_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    headers = [(HSTS_HEADER.lower().encode(), HSTS_HEADER_VALUE.encode())]
    await send({"type": "http.response.start", "status": 404, "headers": headers})
    await send({"type": "http.response.body", "body": b"not found"})


S_SERVER_ARGS = {
    "legacy": ("rsa", ["-min_protocol", "TLSv1", "-max_protocol", "TLSv1.2",
                       "-cipher", "ALL:COMPLEMENTOFALL:@SECLEVEL=0"]),
    "tls13": ("ec", ["-min_protocol", "TLSv1.3"]),
    "ecdhe12": ("rsa", ["-min_protocol", "TLSv1.2", "-max_protocol", "TLSv1.2", "-serverpref",
                        "-cipher", "ECDHE-RSA-CHACHA20-POLY1305:ECDHE-RSA-AES256-GCM-SHA384"]),
}  # fmt: skip


@pytest.fixture(scope="session")
def servers(pki: Pki) -> Iterator[dict[str, int]]:
    """Every test server's port by name."""
    ports: dict[str, int] = {}
    procs: list[subprocess.Popen[bytes]] = []
    for name, (kind, args) in S_SERVER_ARGS.items():
        cert, key = (pki.ec_cert, pki.ec_key) if kind == "ec" else (pki.rsa_cert, pki.rsa_key)
        port = _free_port()
        cmd = [OPENSSL, "s_server", "-accept", f"127.0.0.1:{port}", "-cert", str(cert),
               "-key", str(key), "-www", "-quiet", "-naccept", "100000", *args]  # fmt: skip
        procs.append(subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL))  # fmt: skip
        ports[name] = port
    sock = socket.create_server(("127.0.0.1", 0))
    ctx = server_context(TlsProfile.MODERN, pki.ec_cert, pki.ec_key)
    config = uvicorn.Config(
        _hsts_app,
        ssl_context_factory=lambda config, default: ctx,
        lifespan="off",
        ws="none",
        http="h11",
        log_level="error",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    ports["callvault"] = int(sock.getsockname()[1])
    for port in ports.values():
        _wait_listening(port)
    yield ports
    server.should_exit = True
    thread.join(timeout=10)
    for proc in procs:
        proc.kill()
        proc.wait(timeout=10)


def _testssl(port: int, out: Path) -> list[dict[str, Any]]:
    assert TESTSSL is not None
    cmd = [TESTSSL, "--openssl", OPENSSL, "-p", "-E", "--warnings", "off", "--quiet",
           "--color", "0", "--sneaky", "--jsonfile", str(out), f"127.0.0.1:{port}"]  # fmt: skip
    subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=300, check=False)
    return list(json.loads(out.read_text()))


@pytest.fixture(scope="session")
def testssl(
    servers: dict[str, int], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, list[dict[str, Any]]]:
    """testssl.sh's JSON findings per server, all four runs concurrently (~40-60 s)."""
    if TESTSSL is None:
        if os.environ.get("CALLVAULT_TEST_TESTSSL_REQUIRED") == "1":
            pytest.fail("testssl.sh is required (apt-get install testssl.sh)")
        pytest.skip("testssl.sh not installed (apt-get install testssl.sh)")
    d = tmp_path_factory.mktemp("testssl")
    with ThreadPoolExecutor(len(servers)) as pool:
        futures = {n: pool.submit(_testssl, p, d / f"{n}.json") for n, p in servers.items()}
        return {n: f.result() for n, f in futures.items()}
