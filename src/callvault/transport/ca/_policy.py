"""The internal CA's fixed choices: key algorithms, lifetimes, bounds and renewal point.

Named presets, not free parameters: callers pick a :class:`KeyAlgorithm` and a service
certificate lifetime inside :data:`MIN_SERVICE_TTL` .. :data:`MAX_SERVICE_TTL`.

Why these lifetimes:

* **Root, 10 years**: it signs only intermediates and lives offline; replacing it means
  redistributing the trust anchor to every service, so it is rare by design.
* **Intermediate, 1 year**: online (it signs every service certificate), so it is
  re-signed by the offline root yearly; a stolen intermediate key is useful for at most
  that long and only inside the trust domain its name constraints allow.
* **Service certificates, 1 hour to 30 days, default 24 hours** (DESIGN.md: "hours to
  days"). Short lifetimes bound the damage of a stolen key even when revocation is missed.
* **Renew when a third of the lifetime remains**: a 24 h certificate is replaced after
  16 h, leaving 8 h to survive a CA outage before anything expires.
"""

from __future__ import annotations

import datetime as dt
import enum
import re

from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from callvault.errors import InvalidRequest

__all__ = [
    "BACKDATE",
    "DEFAULT_SERVICE_TTL",
    "DEFAULT_TRUST_DOMAIN",
    "INTERMEDIATE_LIFETIME",
    "MAX_SERVICE_TTL",
    "MIN_SERVICE_TTL",
    "RENEW_WHEN_REMAINING",
    "ROOT_LIFETIME",
    "KeyAlgorithm",
    "PrivateKey",
    "parse_ttl",
]

ROOT_LIFETIME = dt.timedelta(days=3650)
INTERMEDIATE_LIFETIME = dt.timedelta(days=365)
MIN_SERVICE_TTL = dt.timedelta(hours=1)
MAX_SERVICE_TTL = dt.timedelta(days=30)
DEFAULT_SERVICE_TTL = dt.timedelta(hours=24)
RENEW_WHEN_REMAINING = 1 / 3
BACKDATE = dt.timedelta(minutes=5)
"""notBefore is set this far in the past to tolerate clock skew between services."""
DEFAULT_TRUST_DOMAIN = "callvault.internal"
"""``.internal`` is reserved for private use (ICANN, 2024): it can never collide with a
public domain someone else controls."""

PrivateKey = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey


class KeyAlgorithm(enum.StrEnum):
    """Key types the CA issues. ECDSA P-256 is the default: every TLS stack has it.

    Ed25519 works with Python's ``ssl`` on OpenSSL >= 1.1.1 in TLS 1.3 (signature scheme
    ``ed25519``, tested here); some older or FIPS-mode peers do not offer it, so it is
    opt-in per service certificate.
    """

    ECDSA_P256 = "ecdsa-p256"
    ED25519 = "ed25519"

    def generate(self) -> PrivateKey:
        if self is KeyAlgorithm.ED25519:
            return ed25519.Ed25519PrivateKey.generate()
        return ec.generate_private_key(ec.SECP256R1())


_TTL = re.compile(r"([1-9][0-9]{0,6})([smhd])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def _human(value: dt.timedelta) -> str:
    seconds = int(value.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def parse_ttl(value: str | dt.timedelta) -> dt.timedelta:
    """A service certificate lifetime (``"90m"``, ``"24h"``, ``"7d"``), within bounds."""
    if isinstance(value, str):
        match = _TTL.fullmatch(value.strip())
        if match is None:
            raise InvalidRequest(f"not a lifetime: {value!r} (e.g. 90m, 24h, 7d)")
        value = dt.timedelta(**{_UNITS[match[2]]: int(match[1])})
    if not MIN_SERVICE_TTL <= value <= MAX_SERVICE_TTL:
        raise InvalidRequest(f"service certificate lifetime {_human(value)} is outside 1h .. 30d")
    return value
