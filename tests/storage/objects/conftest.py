"""Real servers for the object-store tests: moto's S3 server in its own process on an
ephemeral 127.0.0.1 port, and (for TLS tests) a TLS-terminating proxy in front of it with
a throwaway CA, so certificate verification is exercised against a real handshake."""

from __future__ import annotations

import datetime
import ipaddress
import os
import secrets
import select
import socket
import ssl
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import boto3
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from callvault.storage.objects import LocalObjectStore, S3ObjectStore, S3Settings, open_s3_store

_MOTO = (
    "import sys, time\n"
    "from moto.server import ThreadedMotoServer\n"
    "server = ThreadedMotoServer('127.0.0.1', 0, verbose=False)\n"
    "server.start()\n"
    "print(server.get_host_and_port()[1], flush=True)\n"
    "sys.stdin.read()\n"  # run until the test session closes our stdin
)


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", _MOTO],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None and proc.stdin is not None
    port = int(proc.stdout.readline())
    yield f"http://127.0.0.1:{port}"
    proc.stdin.close()
    proc.terminate()
    proc.wait(timeout=10)
    proc.stdout.close()


@pytest.fixture(scope="session")
def boto_session() -> boto3.session.Session:
    """Dummy credentials for moto (the store itself takes them from boto3's chain)."""
    return boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )


SettingsFor = Callable[..., S3Settings]


@pytest.fixture(scope="session")
def settings_for(moto_endpoint: str) -> SettingsFor:
    """``settings_for(bucket, **overrides)``: settings for a bucket on the moto server."""

    def make(bucket: str, **overrides: object) -> S3Settings:
        values: dict[str, object] = {
            "bucket": bucket,
            "prefix": "vault/",
            "endpoint_url": moto_endpoint,
            "region": "us-east-1",
            "addressing_style": "path",
            "allow_plaintext_endpoint_for_tests": True,
        }
        values.update(overrides)
        return S3Settings.model_validate(values)

    return make


@pytest.fixture
def raw_s3(moto_endpoint: str, boto_session: boto3.session.Session) -> object:
    """A plain boto3 client on the moto server, to look behind the store's back."""
    return boto_session.client("s3", endpoint_url=moto_endpoint)


@pytest.fixture
def bucket(raw_s3: object) -> str:
    name = f"cv-{secrets.token_hex(6)}"
    raw_s3.create_bucket(Bucket=name)  # type: ignore[attr-defined]
    return name


@pytest.fixture
def s3_store(
    settings_for: SettingsFor, bucket: str, boto_session: boto3.session.Session
) -> S3ObjectStore:
    return open_s3_store(settings_for(bucket), session=boto_session)


@pytest.fixture
def local_store(tmp_path: Path) -> LocalObjectStore:
    return LocalObjectStore(tmp_path / "objects")


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest) -> LocalObjectStore | S3ObjectStore:
    name = "local_store" if request.param == "local" else "s3_store"
    store: LocalObjectStore | S3ObjectStore = request.getfixturevalue(name)
    return store


# -- TLS in front of moto ---------------------------------------------------------------


def _certificate(tmp: Path) -> tuple[Path, Path, Path]:
    """A CA and a 127.0.0.1 server certificate it signed: (ca.pem, cert.pem, key.pem)."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "objects test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    paths = (tmp / "ca.pem", tmp / "cert.pem", tmp / "key.pem")
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    os.chmod(paths[2], 0o600)
    return paths


def _pump(a: socket.socket, b: socket.socket) -> None:
    try:
        while True:
            readable, _, _ = select.select([a, b], [], [], 5)
            if not readable:
                return
            for source in readable:
                data = source.recv(65536)
                if not data:
                    return
                while isinstance(source, ssl.SSLSocket) and source.pending():
                    data += source.recv(source.pending())
                (b if source is a else a).sendall(data)
    except OSError:
        return
    finally:
        a.close()
        b.close()


@pytest.fixture(scope="session")
def tls_endpoint(
    moto_endpoint: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path]]:
    """``(https://127.0.0.1:PORT, ca.pem)``: TLS 1.3 terminated here, forwarded to moto."""
    ca, cert, key = _certificate(tmp_path_factory.mktemp("tls"))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    context.load_cert_chain(cert, key)
    listener = socket.create_server(("127.0.0.1", 0))
    upstream_port = int(moto_endpoint.rsplit(":", 1)[1])
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                raw, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=_handle, args=(raw,), daemon=True).start()

    def _handle(raw: socket.socket) -> None:
        try:
            raw.settimeout(5)
            tls = context.wrap_socket(raw, server_side=True)
            tls.settimeout(None)
        except (OSError, ssl.SSLError):
            raw.close()
            return
        upstream = socket.create_connection(("127.0.0.1", upstream_port))
        _pump(tls, upstream)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{listener.getsockname()[1]}", ca
    stop.set()
    thread.join()
    listener.close()
