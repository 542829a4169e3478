"""Build the three kinds of certificate: offline root, intermediate, service (X509-SVID).

Pure functions of keys, names and a time; no I/O. Every certificate carries what OpenSSL's
``VERIFY_X509_STRICT`` and the SPIFFE X509-SVID specification demand:

* **Root**: self-signed, ``basicConstraints CA:TRUE, pathlen:1`` (critical), ``keyUsage
  keyCertSign, cRLSign`` (critical), SKI.
* **Intermediate**: ``CA:TRUE, pathlen:0`` (it signs leaves only), same key usage, SKI, AKI,
  and critical **name constraints** permitting only URIs whose host is the trust domain
  (RFC 5280 §4.2.1.10: a URI constraint is a host). OpenSSL enforces it during the
  handshake, so even a stolen intermediate key cannot mint an identity OpenSSL accepts in
  another trust domain; it also carries the trust domain's own SPIFFE ID.
* **Service**: ``CA:FALSE`` (critical), ``keyUsage digitalSignature`` (critical), EKU
  ``serverAuth, clientAuth`` (one certificate per service for both directions of mTLS),
  exactly one URI SAN (the SPIFFE ID) plus optional DNS/IP SANs for its listener, SKI, AKI.

All signatures are SHA-256 (ECDSA) or pure Ed25519.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Sequence

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from callvault.errors import InvalidRequest
from callvault.transport.ca._policy import BACKDATE, PrivateKey
from callvault.transport.ca._spiffe import SpiffeId

__all__ = ["build_intermediate", "build_root", "build_service", "listener_names"]

_CA_USAGE = x509.KeyUsage(False, False, False, False, False, True, True, False, False)
_LEAF_USAGE = x509.KeyUsage(True, False, False, False, False, False, False, False, False)


def _algorithm(key: PrivateKey) -> hashes.SHA256 | None:
    return None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256()


def _name(trust_domain: str, common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "callvault"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, trust_domain),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def build_root(
    key: PrivateKey, trust_domain: str, now: dt.datetime, lifetime: dt.timedelta
) -> x509.Certificate:
    name = _name(trust_domain, "callvault root CA")
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + lifetime)
        .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
        .add_extension(_CA_USAGE, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .sign(key, _algorithm(key))
    )


def build_intermediate(
    key: PrivateKey,
    root_key: PrivateKey,
    root: x509.Certificate,
    trust_domain: str,
    now: dt.datetime,
    lifetime: dt.timedelta,
) -> x509.Certificate:
    not_after = min(now + lifetime, root.not_valid_after_utc)
    constraints = x509.NameConstraints(
        permitted_subtrees=[x509.UniformResourceIdentifier(trust_domain)],
        excluded_subtrees=None,
    )
    return (
        x509.CertificateBuilder()
        .subject_name(_name(trust_domain, "callvault intermediate CA"))
        .issuer_name(root.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_CA_USAGE, critical=True)
        .add_extension(constraints, critical=True)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.UniformResourceIdentifier(f"spiffe://{trust_domain}")]
            ),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), False
        )
        .sign(root_key, _algorithm(root_key))
    )


def listener_names(dns: Sequence[str], ips: Sequence[str]) -> list[x509.GeneralName]:
    """DNS and IP SANs for a service's listener, validated (no wildcards, no spaces)."""
    names: list[x509.GeneralName] = []
    for host in dns:
        label = host.lower()
        if not label or "*" in label or any(not (c.isalnum() or c in ".-") for c in label):
            raise InvalidRequest(f"not a DNS name: {host!r}")
        names.append(x509.DNSName(label))
    for ip in ips:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(ip)))
        except ValueError:
            raise InvalidRequest(f"not an IP address: {ip!r}") from None
    return names


def build_service(
    public_key: CertificatePublicKeyTypes,
    spiffe_id: SpiffeId,
    issuer_key: PrivateKey,
    issuer: x509.Certificate,
    now: dt.datetime,
    ttl: dt.timedelta,
    extra_names: Sequence[x509.GeneralName] = (),
) -> x509.Certificate:
    """A short-lived X509-SVID. ``notAfter`` never outlives the intermediate."""
    not_after = min(now + ttl, issuer.not_valid_after_utc)
    sans = [x509.UniformResourceIdentifier(str(spiffe_id)), *extra_names]
    return (
        x509.CertificateBuilder()
        .subject_name(_name(spiffe_id.trust_domain, spiffe_id.service))
        .issuer_name(issuer.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_LEAF_USAGE, critical=True)
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), False
        )
        .sign(issuer_key, _algorithm(issuer_key))
    )
