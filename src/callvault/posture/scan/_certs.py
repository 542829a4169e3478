"""The certificate facts the rules grade: validity window, key, signature hash, names,
self-signature and trust. Parsed with ``cryptography``; nothing here touches the network.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa

from callvault.posture._x509 import is_self_signed

__all__ = ["describe_chain", "hostname_matches"]


def _key(cert: x509.Certificate) -> tuple[str, int]:
    key = cert.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        return "rsa", key.key_size
    if isinstance(key, ec.EllipticCurvePublicKey):
        return "ecdsa", key.curve.key_size
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "ed25519", 256
    if isinstance(key, ed448.Ed448PublicKey):
        return "ed448", 456
    if isinstance(key, dsa.DSAPublicKey):
        return "dsa", key.key_size
    return "unknown", 0


def _names(cert: x509.Certificate) -> tuple[list[str], list[str]]:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return [], []
    ips = [str(ip) for ip in san.get_values_for_type(x509.IPAddress)]
    return san.get_values_for_type(x509.DNSName), ips


def hostname_matches(name: str, dns: list[str], ips: list[str]) -> bool:
    """RFC 6125 matching against subjectAltName only (no CN fallback); a wildcard covers
    exactly one left-most label."""
    try:
        return str(ipaddress.ip_address(name)) in ips
    except ValueError:
        pass
    wanted = name.lower().rstrip(".")
    for pattern in (d.lower().rstrip(".") for d in dns):
        if pattern == wanted:
            return True
        wild = pattern.startswith("*.") and pattern.count(".") >= 2
        if wild and "." in wanted and wanted.split(".", 1)[1] == pattern[2:]:
            return True
    return False


def describe_chain(
    chain: list[bytes], server_name: str, trust_error: str | None, now: dt.datetime
) -> dict[str, Any]:
    """The report's ``certificate`` object for a chain as sent (leaf first)."""
    if not chain:
        return {"present": False}
    certs = [x509.load_der_x509_certificate(der) for der in chain]
    leaf = certs[0]
    key_type, key_bits = _key(leaf)
    dns, ips = _names(leaf)
    hash_alg = leaf.signature_hash_algorithm
    after, before = leaf.not_valid_after_utc, leaf.not_valid_before_utc
    return {
        "present": True,
        "subject": leaf.subject.rfc4514_string(),
        "issuer": leaf.issuer.rfc4514_string(),
        "serial": format(leaf.serial_number, "x"),
        "sha256": hashlib.sha256(chain[0]).hexdigest(),
        "not_before": before.isoformat().replace("+00:00", "Z"),
        "not_after": after.isoformat().replace("+00:00", "Z"),
        "days_to_expiry": (after - now).days,
        "lifetime_days": (after - before).days,
        "expired": now > after,
        "not_yet_valid": now < before,
        "self_signed": is_self_signed(leaf),
        "key_type": key_type,
        "key_bits": key_bits,
        "signature_hash": hash_alg.name if hash_alg is not None else None,
        "san_dns": dns,
        "san_ip": ips,
        "hostname": server_name,
        "hostname_match": hostname_matches(server_name, dns, ips),
        "trusted": trust_error is None,
        "trust_error": trust_error,
        "chain": [c.subject.rfc4514_string() for c in certs],
    }
