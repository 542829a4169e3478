"""Ed25519 public keys as JWKs (RFC 8037) and their RFC 7638 thumbprints.

The thumbprint is the key id (``kid``): it is derived from the public key alone, so a
``kid`` cannot be attached to the wrong key, and a verifier holding the JWK can recompute
it. Only public keys pass through here.
"""

from __future__ import annotations

import base64
import hashlib
import json

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

__all__ = [
    "ALGORITHM",
    "b64url",
    "b64url_decode",
    "jwk_thumbprint",
    "public_jwk",
    "public_key_from_x",
    "x_of",
]

ALGORITHM = "EdDSA"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def jwk_thumbprint(x: str) -> str:
    """RFC 7638 §3: SHA-256 over the required members (crv, kty, x) in lexicographic
    order, no whitespace; base64url without padding."""
    canonical = json.dumps(
        {"crv": "Ed25519", "kty": "OKP", "x": x}, separators=(",", ":"), sort_keys=True
    )
    return b64url(hashlib.sha256(canonical.encode("ascii")).digest())


def public_jwk(x: str) -> dict[str, str]:
    """The JWKS entry of one signing key."""
    return {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": x,
        "kid": jwk_thumbprint(x),
        "alg": ALGORITHM,
        "use": "sig",
    }


def x_of(public_key: Ed25519PublicKey) -> str:
    return b64url(public_key.public_bytes_raw())


def public_key_from_x(x: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(b64url_decode(x))
