"""The embedded default's self-issued local CA and the HTTPS server certificate it signs.

``callvault serve`` needs a certificate before it can open its one (TLS-only) listener.
With no operator PKI, the home directory gets its own CA on first use, under ``home/tls/``:

* ``ca.pem`` / ``ca.key``: ECDSA P-256, valid 10 years, ``pathLenConstraint 0`` (it signs
  leaves only). Clients trust ``ca.pem`` (``curl --cacert``, ``client_context(ca=…)``).
* ``server.pem`` / ``server.key``: ECDSA P-256 leaf for ``localhost``, ``127.0.0.1`` and
  ``::1`` (plus any extra names asked for), valid 90 days (DESIGN.md's TLS cadence) and
  re-issued whenever fewer than 30 days remain, the names differ, or it was not signed by
  the current CA. ``server.pem`` holds leaf + CA, as a server sends it.

Private keys are written 0600 with atomic replace, in a 0700 directory, and refused when
group or others can read them (as the root key is). They never appear in a repr, a log or
an error message. Every certificate carries the extensions ``VERIFY_X509_STRICT`` demands
(basicConstraints, keyUsage, SKI/AKI, EKU on the leaf).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from callvault._atomic import atomic_write
from callvault.transport._errors import TlsPolicyError

__all__ = [
    "CA_LIFETIME",
    "DEFAULT_SERVER_NAMES",
    "RENEW_BEFORE",
    "SERVER_LIFETIME",
    "LocalTlsFiles",
    "ensure_local_tls",
]

CA_LIFETIME = dt.timedelta(days=3650)
SERVER_LIFETIME = dt.timedelta(days=90)
RENEW_BEFORE = dt.timedelta(days=30)
DEFAULT_SERVER_NAMES = ("localhost", "127.0.0.1", "::1")
_BACKDATE = dt.timedelta(minutes=5)  # tolerate small clock skew between host and clients
_PEM = serialization.Encoding.PEM


@dataclass(frozen=True, slots=True)
class LocalTlsFiles:
    """Paths only: ``ca`` for clients to trust, ``chain``/``key`` for ``server_context``."""

    ca: Path
    chain: Path
    key: Path
    renewed: bool
    """True when this call issued a new server certificate (first run or renewal)."""
    not_after: dt.datetime


def ensure_local_tls(
    tls_dir: Path,
    names: Iterable[str] = DEFAULT_SERVER_NAMES,
    *,
    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
) -> LocalTlsFiles:
    """Create the local CA if absent; (re-)issue the server certificate when due."""
    now = clock()
    wanted = _unique(names)
    tls_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    _check_private_dir(tls_dir)
    ca_cert_path, ca_key_path = tls_dir / "ca.pem", tls_dir / "ca.key"
    chain_path, key_path = tls_dir / "server.pem", tls_dir / "server.key"
    if not ca_key_path.exists():
        ca_key, ca_cert = _new_ca(now)
        _write_key(ca_key_path, ca_key)
        atomic_write(ca_cert_path, ca_cert.public_bytes(_PEM), mode=0o644)
    ca_key, ca_cert = _load_key(ca_key_path), _load_cert(ca_cert_path)
    if ca_cert.not_valid_after_utc <= now + RENEW_BEFORE:
        raise TlsPolicyError(
            f"the local CA {ca_cert_path} expires on {ca_cert.not_valid_after_utc:%Y-%m-%d}; "
            "replace it (move tls/ aside and restart) and redistribute ca.pem"
        )
    if ca_key.public_key() != ca_cert.public_key():
        raise TlsPolicyError(f"{ca_key_path} is not the key of {ca_cert_path}")
    current = _current_leaf(chain_path, key_path, ca_cert, wanted, now)
    if current is not None:
        return LocalTlsFiles(ca_cert_path, chain_path, key_path, False, current)
    leaf_key, leaf = _new_leaf(ca_key, ca_cert, wanted, now)
    _write_key(key_path, leaf_key)
    atomic_write(chain_path, leaf.public_bytes(_PEM) + ca_cert.public_bytes(_PEM), mode=0o644)
    return LocalTlsFiles(ca_cert_path, chain_path, key_path, True, leaf.not_valid_after_utc)


def _current_leaf(
    chain_path: Path, key_path: Path, ca: x509.Certificate, names: tuple[str, ...],
    now: dt.datetime,
) -> dt.datetime | None:
    """The expiry of a still-good leaf, or None when it must be (re-)issued."""
    if not (chain_path.exists() and key_path.exists()):
        return None
    leaf, key = _load_cert(chain_path), _load_key(key_path)
    if leaf.public_key() != key.public_key() or leaf.issuer != ca.subject:
        return None
    try:
        leaf.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        return None
    san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    if set(_names_of(san)) != set(names) or leaf.not_valid_after_utc - now < RENEW_BEFORE:
        return None
    return leaf.not_valid_after_utc


def _new_ca(now: dt.datetime) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "callvault"),
        x509.NameAttribute(NameOID.COMMON_NAME, "callvault local CA"),
    ])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _BACKDATE)
        .not_valid_after(now + CA_LIFETIME)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def _new_leaf(
    ca_key: ec.EllipticCurvePrivateKey, ca: x509.Certificate, names: tuple[str, ...],
    now: dt.datetime,
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    not_after = min(now + SERVER_LIFETIME, ca.not_valid_after_utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _BACKDATE)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, False, False, False, False),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
        .add_extension(x509.SubjectAlternativeName([_general_name(n) for n in names]), False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    return key, cert


def _general_name(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def _names_of(san: x509.SubjectAlternativeName) -> list[str]:
    ips = [str(ip) for ip in san.get_values_for_type(x509.IPAddress)]
    return [*san.get_values_for_type(x509.DNSName), *ips]


def _unique(names: Iterable[str]) -> tuple[str, ...]:
    out: list[str] = []
    for name in names:
        if not name or any(c.isspace() or c in "/*" for c in name):
            raise TlsPolicyError(f"not a host name or IP address: {name!r}")
        canonical = str(ipaddress.ip_address(name)) if _is_ip(name) else name.lower()
        if canonical not in out:
            out.append(canonical)
    if not out:
        raise TlsPolicyError("the server certificate needs at least one name")
    return tuple(out)


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def _check_private_dir(directory: Path) -> None:
    if directory.stat().st_mode & 0o022:
        raise TlsPolicyError(f"{directory} is writable by group or others; refusing it")


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    der = key.private_bytes(
        _PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    atomic_write(path, der, mode=0o600)


def _load_key(path: Path) -> ec.EllipticCurvePrivateKey:
    mode = stat.S_IMODE(os.stat(path).st_mode)
    if mode & 0o077:
        raise TlsPolicyError(f"{path} has mode {mode:o}; private keys must be 0600")
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError):
        raise TlsPolicyError(f"{path} is not a PEM private key") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise TlsPolicyError(f"{path} is not an ECDSA key")
    return key


def _load_cert(path: Path) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise TlsPolicyError(f"cannot read certificate {path}: {exc}") from None
