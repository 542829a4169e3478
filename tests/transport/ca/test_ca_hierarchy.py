"""The hierarchy on disk: layout and modes, extensions, and OpenSSL's independent verdict
(``openssl verify -x509_strict``) including the intermediate's name constraints."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID

from callvault.errors import InvalidRequest
from callvault.transport.ca import CaError, InternalCa, KeyAlgorithm, SpiffeId
from callvault.transport.ca._builder import build_service
from callvault.transport.ca._files import load_key

from .conftest import TRUST_DOMAIN, Clock

OPENSSL = shutil.which("openssl")


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def _openssl_verify(ca: InternalCa, leaf: Path, purpose: str) -> subprocess.CompletedProcess[str]:
    assert OPENSSL is not None, "the openssl binary is required"
    cmd = [
        OPENSSL,
        "verify",
        "-x509_strict",
        "-purpose",
        purpose,
        "-CAfile",
        str(ca.trust_bundle),
        "-untrusted",
        str(ca.layout.intermediate_cert),
        str(leaf),
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=20)


def test_layout_and_modes(ca: InternalCa, tmp_path: Path) -> None:
    root_dir = tmp_path / "ca-root"
    assert _mode(root_dir) == 0o700 and _mode(ca.layout.ca_dir) == 0o700
    assert _mode(root_dir / "root.key") == 0o600
    assert _mode(ca.layout.intermediate_key) == 0o600
    assert not (ca.layout.ca_dir / "root.key").exists()  # the root key is only offline
    issued = ca.issue("api")
    assert _mode(issued.key) == 0o600
    for d in (issued.key.parent, issued.key.parent.parent, issued.key.parent.parent.parent):
        assert _mode(d) == 0o700
    assert b"PRIVATE KEY" not in issued.chain.read_bytes()
    assert str(issued.key) in repr(issued) and "PRIVATE" not in repr(issued)


def test_root_can_go_offline(ca: InternalCa, tmp_path: Path) -> None:
    shutil.rmtree(tmp_path / "ca-root")  # the operator moved it away
    issued = InternalCa.open(ca.layout.ca_dir).issue("api")
    assert _openssl_verify(ca, issued.chain, "sslclient").returncode == 0


def test_init_refuses_to_replace_or_share_directories(ca: InternalCa, tmp_path: Path) -> None:
    with pytest.raises(CaError, match="already exists"):
        InternalCa.init(ca.layout.ca_dir, tmp_path / "other-root")
    with pytest.raises(CaError, match="own directory"):
        InternalCa.init(tmp_path / "x", tmp_path / "x")
    with pytest.raises(InvalidRequest):
        InternalCa.init(tmp_path / "y", tmp_path / "y-root", trust_domain="Bad Domain")
    assert not (tmp_path / "y").exists()


def test_extensions(ca: InternalCa, clock: Clock) -> None:
    inter = ca.intermediate
    bc = inter.extensions.get_extension_for_class(x509.BasicConstraints)
    assert bc.critical and bc.value.ca and bc.value.path_length == 0
    nc = inter.extensions.get_extension_for_class(x509.NameConstraints)
    assert nc.critical
    assert nc.value.permitted_subtrees == [x509.UniformResourceIdentifier(TRUST_DOMAIN)]
    issued = ca.issue("api", ttl="2h", dns=["api.internal"], ips=["10.0.0.7"])
    leaf = x509.load_pem_x509_certificate(issued.cert.read_bytes())
    san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.UniformResourceIdentifier) == [
        f"spiffe://{TRUST_DOMAIN}/api"
    ]
    assert san.get_values_for_type(x509.DNSName) == ["api.internal"]
    eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert set(eku) == {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH}
    ku = leaf.extensions.get_extension_for_class(x509.KeyUsage)
    assert ku.critical and ku.value.digital_signature and not ku.value.key_cert_sign
    assert not leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert leaf.not_valid_after_utc - clock.now <= dt.timedelta(hours=2)
    assert leaf.not_valid_after_utc - clock.now > dt.timedelta(hours=2) - dt.timedelta(minutes=1)


@pytest.mark.parametrize("algorithm", list(KeyAlgorithm))
def test_openssl_accepts_chain_strictly(ca: InternalCa, algorithm: KeyAlgorithm) -> None:
    issued = ca.issue("api", key_algorithm=algorithm)
    for purpose in ("sslserver", "sslclient"):
        result = _openssl_verify(ca, issued.cert, purpose)
        assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("uri", ["spiffe://evil.test/api", "spiffe://sub.callvault.test/api"])
def test_stolen_intermediate_cannot_leave_trust_domain(
    ca: InternalCa, tmp_path: Path, uri: str
) -> None:
    """Even with the intermediate key, OpenSSL refuses another trust domain (error 47)."""
    key = load_key(ca.layout.intermediate_key)
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    forged = build_service(
        leaf_key.public_key(),
        SpiffeId.parse(uri),
        key,
        ca.intermediate,
        dt.datetime.now(dt.UTC),
        dt.timedelta(hours=2),
    )
    path = tmp_path / "forged.pem"
    path.write_bytes(forged.public_bytes(serialization.Encoding.PEM))
    result = _openssl_verify(ca, path, "sslclient")
    assert result.returncode != 0 and "permitted subtree violation" in result.stdout + result.stderr


def test_issue_validates_input(ca: InternalCa) -> None:
    for bad in ("", "API", "a/b", "..", "-x", "x" * 64, "a b"):
        with pytest.raises(InvalidRequest):
            ca.issue(bad)
    for ttl in ("59m", "31d", "0h", "1y", "-1h", "24"):
        with pytest.raises(InvalidRequest):
            ca.issue("api", ttl=ttl)
    with pytest.raises(InvalidRequest):
        ca.issue("api", dns=["*.example.org"])
    with pytest.raises(InvalidRequest):
        ca.issue("api", ips=["300.1.1.1"])
    assert ca.inventory().certificates[2:] == ()  # nothing was issued


def test_loose_key_modes_are_refused(ca: InternalCa) -> None:
    ca.layout.intermediate_key.chmod(0o644)
    with pytest.raises(CaError, match="0600"):
        ca.issue("api")


def test_foreign_intermediate_is_refused(ca: InternalCa, tmp_path: Path) -> None:
    other = InternalCa.init(tmp_path / "o", tmp_path / "o-root", trust_domain=TRUST_DOMAIN)
    shutil.copy(other.layout.intermediate_cert, ca.layout.intermediate_cert)
    with pytest.raises(CaError, match="not issued by the root"):
        InternalCa.open(ca.layout.ca_dir)


def test_serial_and_signature(ca: InternalCa) -> None:
    a, b = ca.issue("api"), ca.issue("api")
    assert a.serial != b.serial and a.key != b.key
    leaf = x509.load_pem_x509_certificate(a.cert.read_bytes())
    assert isinstance(leaf.signature_hash_algorithm, hashes.SHA256)
    assert ca.current("api") is not None
