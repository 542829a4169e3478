"""Real S3 servers for the object-store tests.

CI runs them against Ceph's RADOS Gateway (``scripts/services/radosgw.sh``: a one-node
in-memory Ceph cluster on 127.0.0.1, S3 over TLS 1.3 with a throwaway CA); ``eval
"$(scripts/services/radosgw.sh env)"`` exports ``CALLVAULT_TEST_S3_ENDPOINT``,
``CALLVAULT_TEST_S3_CA``, ``CALLVAULT_TEST_S3_ACCESS_KEY`` and ``CALLVAULT_TEST_S3_SECRET_KEY``.
Without them the tests fall back to moto's S3 server (its own process on an ephemeral port,
with a TLS 1.3 proxy and a throwaway CA in front of it for the TLS tests), unless
``CALLVAULT_TEST_S3_REQUIRED=1`` (CI), when they fail instead: CI must not pass on moto.
"""

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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from callvault.storage.objects import LocalObjectStore, S3ObjectStore, S3Settings, open_s3_store

ENDPOINT_VAR = "CALLVAULT_TEST_S3_ENDPOINT"
CA_VAR = "CALLVAULT_TEST_S3_CA"
ACCESS_VAR = "CALLVAULT_TEST_S3_ACCESS_KEY"
SECRET_VAR = "CALLVAULT_TEST_S3_SECRET_KEY"
REQUIRED_VAR = "CALLVAULT_TEST_S3_REQUIRED"

# As the store's own client: no aws-chunked checksum trailers, which radosgw refuses.
CLIENT_CONFIG = Config(
    s3={"addressing_style": "path"},
    retries={"max_attempts": 2},
    request_checksum_calculation="when_required",
    response_checksum_validation="when_required",
)


@dataclass(frozen=True)
class S3Server:
    """The server under test. ``honours_sse``: it confirms SSE-S3 (moto does; radosgw 16
    without a KMS ignores the request, stores plaintext and says nothing, so the store must
    refuse it with SSE on and run with SSE off)."""

    name: str
    endpoint: str
    ca: Path | None
    access_key: str
    secret_key: str
    honours_sse: bool

    def session(self) -> boto3.session.Session:
        return boto3.session.Session(
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name="us-east-1",
        )

    def client(self, session: boto3.session.Session | None = None) -> Any:
        verify = str(self.ca) if self.ca else None
        return (session or self.session()).client(
            "s3", endpoint_url=self.endpoint, verify=verify, config=CLIENT_CONFIG
        )


_MOTO = (
    "import sys, time\n"
    "from moto.server import ThreadedMotoServer\n"
    "server = ThreadedMotoServer('127.0.0.1', 0, verbose=False)\n"
    "server.start()\n"
    "print(server.get_host_and_port()[1], flush=True)\n"
    "sys.stdin.read()\n"  # run until the test session closes our stdin
)


def _moto() -> Iterator[S3Server]:
    proc = subprocess.Popen(
        [sys.executable, "-c", _MOTO],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None and proc.stdin is not None
    port = int(proc.stdout.readline())
    yield S3Server("moto", f"http://127.0.0.1:{port}", None, "testing", "testing", True)
    proc.stdin.close()
    proc.terminate()
    proc.wait(timeout=10)
    proc.stdout.close()


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    values = [os.environ.get(var) for var in (ENDPOINT_VAR, CA_VAR, ACCESS_VAR, SECRET_VAR)]
    if not all(values):
        if os.environ.get(REQUIRED_VAR) == "1":
            pytest.fail(
                f"radosgw not configured ({ENDPOINT_VAR}, {CA_VAR}, {ACCESS_VAR}, {SECRET_VAR}):"
                " run scripts/services/radosgw.sh start and eval its `env` output"
            )
        yield from _moto()
        return
    endpoint, ca, access, secret = (str(v) for v in values)
    server = S3Server("radosgw", endpoint, Path(ca), access, secret, honours_sse=False)
    try:
        server.client().list_buckets()
    except Exception as exc:  # configured but not answering is an error, never a skip
        pytest.fail(f"radosgw at {endpoint} does not answer: {type(exc).__name__}: {exc}")
    yield server


@pytest.fixture(scope="session")
def boto_session(s3_server: S3Server) -> boto3.session.Session:
    """The server's credentials (the store itself takes them from boto3's chain)."""
    return s3_server.session()


SettingsFor = Callable[..., S3Settings]


@pytest.fixture(scope="session")
def settings_for(s3_server: S3Server) -> SettingsFor:
    """``settings_for(bucket, **overrides)``: settings for a bucket on the test server
    (SSE on only where the server confirms it)."""

    def make(bucket: str, **overrides: object) -> S3Settings:
        values: dict[str, object] = {
            "bucket": bucket,
            "prefix": "vault/",
            "endpoint_url": s3_server.endpoint,
            "ca_bundle": s3_server.ca,
            "region": "us-east-1",
            "addressing_style": "path",
            "server_side_encryption": s3_server.honours_sse,
            "allow_plaintext_endpoint_for_tests": s3_server.ca is None,
        }
        values.update(overrides)
        return S3Settings.model_validate(values)

    return make


@pytest.fixture
def raw_s3(s3_server: S3Server, boto_session: boto3.session.Session) -> Any:
    """A plain boto3 client on the test server, to look behind the store's back."""
    return s3_server.client(boto_session)


@pytest.fixture
def bucket(raw_s3: Any) -> Iterator[str]:
    """A fresh bucket, emptied and removed afterwards (radosgw keeps it in memory)."""
    name = f"cv-{secrets.token_hex(6)}"
    raw_s3.create_bucket(Bucket=name)
    yield name
    for upload in raw_s3.list_multipart_uploads(Bucket=name).get("Uploads", []):
        raw_s3.abort_multipart_upload(Bucket=name, Key=upload["Key"], UploadId=upload["UploadId"])
    for page in raw_s3.get_paginator("list_objects_v2").paginate(Bucket=name):
        for item in page.get("Contents", []):
            raw_s3.delete_object(Bucket=name, Key=item["Key"])
    raw_s3.delete_bucket(Bucket=name)


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


# -- TLS: radosgw's own, or a proxy in front of moto --------------------------------------


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
    s3_server: S3Server, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path]]:
    """``(https://127.0.0.1:PORT, ca.pem)``: radosgw itself (TLS 1.3 only, its throwaway
    CA), or for moto TLS 1.3 terminated here and forwarded to it."""
    if s3_server.ca is not None:
        yield s3_server.endpoint, s3_server.ca
        return
    ca, cert, key = _certificate(tmp_path_factory.mktemp("tls"))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    context.load_cert_chain(cert, key)
    listener = socket.create_server(("127.0.0.1", 0))
    upstream_port = int(s3_server.endpoint.rsplit(":", 1)[1])
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
