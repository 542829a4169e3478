"""Where the CA keeps things, and the only code that reads or writes its keys.

Layout (modes in brackets)::

    <root_dir>/              [0700]  the OFFLINE root: move it to removable media after init
        root.key             [0600]
        root.pem             [0644]
    <ca_dir>/                [0700]  the online CA, beside the service that issues
        ca.json              [0644]  trust domain and format version
        root.pem             [0644]  trust anchor: give this to every server and client
        intermediate.pem     [0644]
        intermediate.key     [0600]
        index.json           [0644]  every certificate issued (no keys)
        revoked.json         [0644]  the revocation list PeerVerifier reads
        services/<service>/<serial>/{cert.pem, chain.pem, key.pem [0600]}

Each issuance gets its own directory, written once and never modified, so a reader can
never pair one certificate with another's key. Keys are written with atomic replace and
refused on load when group or others may read them; they never appear in a repr, a log
or an error message (messages name the path only).
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from callvault._atomic import atomic_write
from callvault.transport.ca._errors import CaError
from callvault.transport.ca._policy import PrivateKey

__all__ = ["CaLayout", "load_cert", "load_key", "make_private_dir", "write_cert", "write_key"]

PEM = serialization.Encoding.PEM


@dataclass(frozen=True, slots=True)
class CaLayout:
    """Paths of the online CA directory (see the module docstring)."""

    ca_dir: Path

    @property
    def meta(self) -> Path:
        return self.ca_dir / "ca.json"

    @property
    def root_cert(self) -> Path:
        return self.ca_dir / "root.pem"

    @property
    def intermediate_cert(self) -> Path:
        return self.ca_dir / "intermediate.pem"

    @property
    def intermediate_key(self) -> Path:
        return self.ca_dir / "intermediate.key"

    @property
    def index(self) -> Path:
        return self.ca_dir / "index.json"

    @property
    def revoked(self) -> Path:
        return self.ca_dir / "revoked.json"

    @property
    def lock(self) -> Path:
        return self.ca_dir / ".lock"

    def issued_dir(self, service: str, serial: str) -> Path:
        return self.ca_dir / "services" / service / serial


def make_private_dir(path: Path) -> None:
    """Create ``path`` 0700 (and parents); refuse an existing one others can write."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.stat().st_mode & 0o022:
        raise CaError(f"{path} is writable by group or others; refusing it")


def write_key(path: Path, key: PrivateKey) -> None:
    pem = key.private_bytes(PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    atomic_write(path, pem, mode=0o600)


def write_cert(path: Path, *certs: x509.Certificate) -> None:
    atomic_write(path, b"".join(c.public_bytes(PEM) for c in certs), mode=0o644)


def load_key(path: Path) -> PrivateKey:
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        raise CaError(f"missing private key {path}") from None
    if mode & 0o077:
        raise CaError(f"{path} has mode {mode:o}; private keys must be 0600")
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError):
        raise CaError(f"{path} is not a PEM private key") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey):
        raise CaError(f"{path} is not an ECDSA or Ed25519 key")
    return key


def load_cert(path: Path) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise CaError(f"cannot read certificate {path}: {exc}") from None
