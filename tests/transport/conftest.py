"""Fixtures for the TLS policy tests: a throw-away PKI, real TLS servers on 127.0.0.1 in
threads, and Debian's ``openssl s_client`` as an independent client.

The PKI is built with ``cryptography``'s x509 builder: two unrelated CAs (ECDSA P-256), server
leaves with ECDSA P-256 and RSA-2048 keys (SAN ``localhost`` + ``127.0.0.1``) and client
leaves carrying SPIFFE IDs, one from each CA. Certificates carry the extensions that
``VERIFY_X509_STRICT`` demands (basicConstraints, keyUsage, SKI/AKI, EKU).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import queue
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from callvault.transport import negotiated

_NOW = dt.datetime.now(dt.UTC)
SPIFFE_CLIENT = "spiffe://callvault.test/voice-agent"


def _key(kind: str) -> Any:
    if kind == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ec.generate_private_key(ec.SECP256R1())


@dataclass(frozen=True)
class Ca:
    name: str
    key: Any
    cert: x509.Certificate
    path: Path


@dataclass(frozen=True)
class Leaf:
    cert: Path
    key: Path
    der: bytes


def make_ca(directory: Path, name: str) -> Ca:
    key = _key("ec")
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_NOW - dt.timedelta(minutes=5))
        .not_valid_after(_NOW + dt.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(ski, critical=False)
        .sign(key, hashes.SHA256())
    )
    path = directory / f"{name}.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return Ca(name, key, cert, path)


def issue(
    ca: Ca,
    directory: Path,
    stem: str,
    *,
    kind: str = "ec",
    dns: tuple[str, ...] = ("localhost",),
    ips: tuple[str, ...] = ("127.0.0.1",),
    uris: tuple[str, ...] = (),
    client: bool = False,
) -> Leaf:
    """A leaf signed by ``ca``; the chain file holds leaf + CA, as servers send it."""
    key = _key(kind)
    names: list[x509.GeneralName] = [x509.DNSName(d) for d in dns]
    names += [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
    names += [x509.UniformResourceIdentifier(u) for u in uris]
    eku = ExtendedKeyUsageOID.CLIENT_AUTH if client else ExtendedKeyUsageOID.SERVER_AUTH
    # keyEncipherment on RSA leaves lets the permissive control server do RSA key exchange,
    # so the probes that our servers must refuse are shown to be offered for real.
    signing = kind == "ec"
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, stem)]))
        .issuer_name(ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_NOW - dt.timedelta(minutes=5))
        .not_valid_after(_NOW + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, not signing, False, False, False, False, False, False),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([eku]), critical=False)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), False
        )
        .sign(ca.key, hashes.SHA256())
    )
    cert_path, key_path = directory / f"{stem}.crt", directory / f"{stem}.key"
    pem = serialization.Encoding.PEM
    cert_path.write_bytes(cert.public_bytes(pem) + ca.cert.public_bytes(pem))
    key_path.write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    key_path.chmod(0o600)
    return Leaf(cert_path, key_path, cert.public_bytes(serialization.Encoding.DER))


@dataclass(frozen=True)
class Pki:
    ca: Ca
    other_ca: Ca
    server_ec: Leaf
    server_rsa: Leaf
    client: Leaf
    client_other_ca: Leaf


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    d = tmp_path_factory.mktemp("pki")
    ca, other = make_ca(d, "callvault-test-ca"), make_ca(d, "other-ca")
    return Pki(
        ca=ca,
        other_ca=other,
        server_ec=issue(ca, d, "server-ec"),
        server_rsa=issue(ca, d, "server-rsa", kind="rsa"),
        client=issue(ca, d, "client", dns=(), ips=(), uris=(SPIFFE_CLIENT,), client=True),
        client_other_ca=issue(other, d, "client-other", dns=(), ips=(), client=True),
    )


class TlsServer:
    """Accepts connections one at a time, handshakes with ``ctx``, records the outcome
    (a :func:`negotiated` dict or the exception), greets, closes."""

    GREETING = b"hello from callvault\n"

    def __init__(self, ctx: ssl.SSLContext) -> None:
        self.ctx = ctx
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port: int = self.sock.getsockname()[1]
        self.results: queue.Queue[Any] = queue.Queue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(5)
                try:
                    tls = self.ctx.wrap_socket(conn, server_side=True)
                except (ssl.SSLError, OSError) as exc:
                    self.results.put(exc)
                    continue
                with tls:
                    self.results.put(negotiated(tls))
                    try:
                        tls.sendall(self.GREETING)
                        tls.unwrap()  # close_notify, so clean clients exit 0
                    except (ssl.SSLError, OSError):
                        pass  # the client left first

    def outcome(self) -> Any:
        return self.results.get(timeout=10)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.sock.close()


@pytest.fixture
def serve() -> Iterator[Any]:
    """``serve(ctx) -> TlsServer``; every server started is stopped at teardown."""
    servers: list[TlsServer] = []

    def start(ctx: ssl.SSLContext) -> TlsServer:
        servers.append(TlsServer(ctx))
        return servers[-1]

    yield start
    for s in servers:
        s.close()


@dataclass(frozen=True)
class SClientResult:
    ok: bool
    protocol: str | None
    cipher: str | None
    output: str


OPENSSL = shutil.which("openssl")


@pytest.fixture(scope="session")
def s_client(pki: Pki) -> Any:
    """``s_client(port, *args) -> SClientResult``: a full verifying handshake by the
    system ``openssl`` binary (an implementation independent of Python's ``ssl``)."""
    if OPENSSL is None:
        pytest.fail("the openssl binary is required for the transport tests")

    def run(port: int, *args: str) -> SClientResult:
        cmd = [OPENSSL, "s_client", "-connect", f"127.0.0.1:{port}", "-brief"]
        cmd += ["-servername", "localhost", "-verify_hostname", "localhost"]
        cmd += ["-CAfile", str(pki.ca.path), "-verify_return_error", *args]
        proc = subprocess.run(
            cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=20
        )
        out = proc.stdout + proc.stderr
        fields = dict(line.split(": ", 1) for line in out.splitlines() if ": " in line)
        ok = proc.returncode == 0 and "CONNECTION ESTABLISHED" in out
        return SClientResult(ok, fields.get("Protocol version"), fields.get("Ciphersuite"), out)

    return run


@pytest.fixture
def s_server(pki: Pki) -> Iterator[Any]:
    """``s_server(leaf, *args) -> port``: Debian's ``openssl s_server -www`` on 127.0.0.1,
    an independent server to point our *clients* at (and a control that really offers
    what ours must refuse). Every server started is killed at teardown."""
    assert OPENSSL is not None
    procs: list[subprocess.Popen[str]] = []
    readers: list[threading.Thread] = []

    def start(leaf: Leaf, *args: str) -> int:
        cmd = [OPENSSL, "s_server", "-accept", "127.0.0.1:0", "-www"]
        cmd += ["-cert", str(leaf.cert), "-key", str(leaf.key), *args]
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        procs.append(proc)
        assert proc.stdout is not None
        lines: queue.Queue[str] = queue.Queue()
        stdout = proc.stdout
        reader = threading.Thread(target=lambda: [lines.put(x) for x in stdout], daemon=True)
        reader.start()
        readers.append(reader)
        deadline = time.monotonic() + 10
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = lines.get(timeout=left)
            except queue.Empty:
                break
            if line.startswith("ACCEPT "):
                return int(line.rsplit(":", 1)[1])
        raise AssertionError(f"s_server did not start: {' '.join(cmd)}")

    yield start
    for proc in procs:
        proc.kill()
        proc.wait(timeout=5)
    for reader in readers:
        reader.join(timeout=5)  # EOF once the process is gone
    for proc in procs:
        if proc.stdout is not None:
            proc.stdout.close()
