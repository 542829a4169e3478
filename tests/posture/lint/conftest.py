"""Fixture deployments for the linter: the static files under ``fixtures/`` plus what
must not live in the repository as a file: certificates (generated here, the planted one
by callvault's real local CA code) and hardcoded secrets (random per run, so the tests
can search every output for the exact values)."""

from __future__ import annotations

import datetime as dt
import secrets
import shutil
import string
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from callvault.transport._local_ca import ensure_local_tls

FIXTURES = Path(__file__).parent / "fixtures"


@dataclass(frozen=True)
class Planted:
    root: Path
    secrets: tuple[str, ...] = field(repr=False)


def _random(alphabet: str, n: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(n))


def planted_secrets() -> tuple[str, str, str]:
    """An AWS access key id, an AWS secret access key and a callvault root key."""
    key_id = "AKIA" + _random(string.ascii_uppercase + "234567", 16)
    secret = _random(string.ascii_letters + string.digits + "/+", 40)
    return key_id, secret, secrets.token_hex(32)


def issue_chain(ca_name: str, leaf_name: str) -> bytes:
    """A leaf for ``leaf_name`` issued by a fresh CA named ``ca_name``: leaf + CA PEM."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_subject = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Acme Voice"),
            x509.NameAttribute(NameOID.COMMON_NAME, ca_name),
        ]
    )
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_subject)
        .issuer_name(ca_subject)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, leaf_name)]))
        .issuer_name(ca_subject)
        .public_key(leaf_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=90))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(leaf_name)]), False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    return leaf.public_bytes(pem) + ca.public_bytes(pem)


def self_signed_leaf(name: str) -> bytes:
    now = dt.datetime.now(dt.UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=90))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)


@pytest.fixture
def planted(tmp_path: Path) -> Planted:
    """The deployment with one of each red flag."""
    root = tmp_path / "planted"
    shutil.copytree(FIXTURES / "planted", root)
    local = ensure_local_tls(tmp_path / "callvault-home" / "tls")  # callvault's dev CA
    (root / "tls" / "server.pem").write_bytes(local.chain.read_bytes())
    key_id, secret, root_key = planted_secrets()
    (root / "app" / "settings.py").write_text(
        '"""Voice agent settings."""\n\n'
        f'AWS_ACCESS_KEY_ID = "{key_id}"\n'
        f'AWS_SECRET_ACCESS_KEY = "{secret}"\n'
        f'CALLVAULT_ROOT_KEY = "{root_key}"\n'
        'STT_MODEL = "nova-3"\n'
    )
    return Planted(root, (key_id, secret, root_key))


@pytest.fixture
def clean(tmp_path: Path) -> Path:
    """The same deployment done right: nothing to report."""
    root = tmp_path / "clean"
    shutil.copytree(FIXTURES / "clean", root)
    (root / "tls" / "server.pem").write_bytes(
        issue_chain("Acme Voice Issuing CA", "api.acme-voice.example")
    )
    return root
