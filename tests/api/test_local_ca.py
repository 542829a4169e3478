"""The home's self-issued local CA and the server certificate it signs."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from callvault.transport import TlsPolicyError, ensure_local_tls
from callvault.transport._local_ca import CA_LIFETIME, RENEW_BEFORE, SERVER_LIFETIME

NOW = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)


def _at(when: dt.datetime):
    return lambda: when


def _cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def test_first_run_issues_ca_and_leaf(tmp_path: Path) -> None:
    files = ensure_local_tls(tmp_path / "tls", clock=_at(NOW))
    assert files.renewed
    ca, leaf = _cert(files.ca), _cert(files.chain)
    for cert in (ca, leaf):
        key = cert.public_key()
        assert isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == "secp256r1"
    assert ca.not_valid_after_utc - ca.not_valid_before_utc >= CA_LIFETIME
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert leaf.not_valid_after_utc == NOW + SERVER_LIFETIME
    leaf.verify_directly_issued_by(ca)
    san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["localhost"]
    assert set(san.get_values_for_type(x509.IPAddress)) == {
        ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1")}
    for key_file in (tmp_path / "tls" / "ca.key", files.key):
        assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(tmp_path / "tls").st_mode) == 0o700
    assert b"PRIVATE KEY" not in files.chain.read_bytes() + files.ca.read_bytes()


def test_kept_while_fresh_renewed_when_due(tmp_path: Path) -> None:
    first = ensure_local_tls(tmp_path / "tls", clock=_at(NOW))
    serial = _cert(first.chain).serial_number
    ca_serial = _cert(first.ca).serial_number
    fresh = NOW + SERVER_LIFETIME - RENEW_BEFORE - dt.timedelta(days=1)
    again = ensure_local_tls(tmp_path / "tls", clock=_at(fresh))
    assert not again.renewed and _cert(again.chain).serial_number == serial
    due = NOW + SERVER_LIFETIME - RENEW_BEFORE + dt.timedelta(minutes=1)
    renewed = ensure_local_tls(tmp_path / "tls", clock=_at(due))
    assert renewed.renewed and _cert(renewed.chain).serial_number != serial
    assert _cert(renewed.chain).not_valid_after_utc == due + SERVER_LIFETIME
    assert _cert(renewed.ca).serial_number == ca_serial  # the CA clients trust stays


def test_new_names_reissue_the_leaf(tmp_path: Path) -> None:
    ensure_local_tls(tmp_path / "tls", clock=_at(NOW))
    files = ensure_local_tls(tmp_path / "tls", ["localhost", "127.0.0.1", "api.internal"],
                             clock=_at(NOW))
    assert files.renewed
    san = _cert(files.chain).extensions.get_extension_for_class(x509.SubjectAlternativeName)
    assert "api.internal" in san.value.get_values_for_type(x509.DNSName)


def test_leaf_from_another_ca_is_replaced(tmp_path: Path) -> None:
    ensure_local_tls(tmp_path / "a", clock=_at(NOW))
    ensure_local_tls(tmp_path / "b", clock=_at(NOW))
    for name in ("server.pem", "server.key"):
        (tmp_path / "b" / name).write_bytes((tmp_path / "a" / name).read_bytes())
    files = ensure_local_tls(tmp_path / "b", clock=_at(NOW))
    assert files.renewed
    _cert(files.chain).verify_directly_issued_by(_cert(files.ca))


def test_loose_key_permissions_refused(tmp_path: Path) -> None:
    ensure_local_tls(tmp_path / "tls", clock=_at(NOW))
    (tmp_path / "tls" / "ca.key").chmod(0o644)
    with pytest.raises(TlsPolicyError, match="0600"):
        ensure_local_tls(tmp_path / "tls", clock=_at(NOW))


def test_expiring_ca_refused(tmp_path: Path) -> None:
    ensure_local_tls(tmp_path / "tls", clock=_at(NOW))
    with pytest.raises(TlsPolicyError, match="local CA"):
        ensure_local_tls(tmp_path / "tls", clock=_at(NOW + CA_LIFETIME - dt.timedelta(days=1)))


def test_errors_never_show_key_bytes(tmp_path: Path) -> None:
    ensure_local_tls(tmp_path / "tls", clock=_at(NOW))
    key_pem = (tmp_path / "tls" / "ca.key").read_bytes()
    (tmp_path / "tls" / "ca.key").write_bytes(key_pem[:-40])  # corrupt, keep 0600
    with pytest.raises(TlsPolicyError) as info:
        ensure_local_tls(tmp_path / "tls", clock=_at(NOW))
    body = b"".join(key_pem.splitlines()[1:-1]).decode()
    assert body[:24] not in str(info.value)
