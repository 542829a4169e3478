"""Tokens: what mint produces, and every way a forged or stale token must be refused."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from callvault.auth import (
    AuthenticationError,
    CredentialKind,
    Role,
    SigningKeyRing,
    TokenService,
    TokenSettings,
)
from callvault.errors import CallvaultError, InvalidRequest


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims_for(tokens: TokenService, now: int, **overrides: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "iss": tokens.settings.issuer,
        "aud": tokens.settings.audience,
        "sub": "service@acme",
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "jti": "forged-1",
        "role": "service",
        "tenant": "acme",
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def sign(ring: SigningKeyRing, claims: dict[str, Any], **header: Any) -> str:
    """A token signed with the ring's real current key: only the claims are wrong."""
    kid, key = ring._signing_key()
    headers = {"kid": kid, "typ": "JWT", **header}
    return jwt.encode(claims, key, algorithm="EdDSA", headers=headers)


def raw_token(header: dict[str, Any], claims: dict[str, Any], signature: bytes) -> str:
    head = b64(json.dumps(header).encode())
    body = b64(json.dumps(claims).encode())
    return f"{head}.{body}.{b64(signature)}"


def refused(tokens: TokenService, token: str, reason: str) -> None:
    with pytest.raises(AuthenticationError) as info:
        tokens.verify(token)
    assert info.value.reason == reason, info.value.reason
    assert str(info.value) == AuthenticationError.MESSAGE  # one public message
    assert info.value.status_code == 401


def now_ts(tokens: TokenService, clock: Any) -> int:
    return int(clock().timestamp())


# -- what mint produces ---------------------------------------------------------------


def test_mint_claims_header_and_principal(tokens: TokenService, ring: SigningKeyRing, clock: Any):
    token = tokens.mint(Role.SERVICE, "acme")
    header = jwt.get_unverified_header(token)
    assert header == {"alg": "EdDSA", "kid": ring.current().kid, "typ": "JWT"}
    claims = jwt.decode(token, options={"verify_signature": False})
    assert set(claims) == {"iss", "aud", "sub", "iat", "nbf", "exp", "jti", "role", "tenant"}
    assert claims["iss"] == "urn:callvault:dev:auth"
    assert claims["aud"] == "urn:callvault:dev:api"
    assert claims["iat"] == claims["nbf"] == int(clock().timestamp())
    assert claims["exp"] - claims["iat"] == 15 * 60  # short default lifetime
    principal = tokens.verify(token)
    assert principal.role is Role.SERVICE and principal.tenant == "acme"
    assert principal.token_id == claims["jti"] and principal.kind is CredentialKind.JWT
    assert principal.expires_at.timestamp() == claims["exp"]
    assert tokens.mint(Role.SERVICE, "acme") != token  # fresh jti


@pytest.mark.parametrize("role", [Role.PLATFORM_ADMIN, Role.AUDITOR])
def test_platform_tokens_carry_no_tenant(tokens: TokenService, role: Role):
    token = tokens.mint(role, ttl=60)
    assert "tenant" not in jwt.decode(token, options={"verify_signature": False})
    principal = tokens.verify(token)
    assert principal.tenant is None and principal.role is role


@pytest.mark.parametrize(
    ("role", "tenant", "ttl"),
    [
        ("service", None, 60),
        ("tenant-admin", None, 60),
        ("platform-admin", "acme", 60),
        ("auditor", "acme", 60),
        ("root", None, 60),
        ("service", "Acme!", 60),
        ("service", "acme", 0),
        ("service", "acme", 24 * 3600 + 1),
        ("service", "acme", -5),
    ],
)
def test_mint_refuses_bad_requests(tokens: TokenService, role: str, tenant: str | None, ttl: int):
    with pytest.raises(InvalidRequest):
        tokens.mint(role, tenant, ttl=ttl)


def test_max_ttl_is_24_hours(tokens: TokenService, clock: Any):
    token = tokens.mint("service", "acme", ttl=timedelta(hours=24))
    clock.advance(hours=23, minutes=59)
    assert tokens.verify(token).tenant == "acme"


# -- time -----------------------------------------------------------------------------


def test_expired_token_refused_after_leeway(tokens: TokenService, clock: Any):
    token = tokens.mint("service", "acme", ttl=60)
    clock.advance(seconds=60 + 10)
    assert tokens.verify(token).role is Role.SERVICE  # within the 30 s leeway
    clock.advance(seconds=21)
    refused(tokens, token, "token expired")


def test_not_yet_valid_token_refused(tokens: TokenService, ring: SigningKeyRing, clock: Any):
    now = now_ts(tokens, clock)
    refused(tokens, sign(ring, claims_for(tokens, now, nbf=now + 60)), "token not yet valid")
    # Inside the leeway a slightly early clock is tolerated.
    assert tokens.verify(sign(ring, claims_for(tokens, now, nbf=now + 10))).tenant == "acme"


def test_token_issued_in_the_future_refused(tokens, ring, clock):
    now = now_ts(tokens, clock)
    token = sign(ring, claims_for(tokens, now, iat=now + 120, nbf=now, exp=now + 600))
    refused(tokens, token, "token issued in the future")


def test_overlong_lifetime_refused_even_if_signed(tokens, ring, clock):
    now = now_ts(tokens, clock)
    token = sign(ring, claims_for(tokens, now, exp=now + 24 * 3600 + 1))
    refused(tokens, token, "token lifetime out of bounds")


@pytest.mark.parametrize("bad", [1.5e12, "9999999999", True])
def test_non_integer_time_claims_refused(tokens, ring, clock, bad):
    now = now_ts(tokens, clock)
    with pytest.raises(AuthenticationError):
        tokens.verify(sign(ring, claims_for(tokens, now, exp=bad)))


# -- issuer, audience, required claims ------------------------------------------------


@pytest.mark.parametrize(
    "override",
    [
        {"aud": "urn:callvault:prod:api"},
        {"aud": ["urn:callvault:dev:api", "other"]},  # a list is not accepted (strict aud)
        {"iss": "urn:callvault:prod:auth"},
        {"iss": "https://evil.example/"},
        {"aud": None},
        {"iss": None},
        {"sub": None},
        {"jti": None},
        {"exp": None},
        {"nbf": None},
        {"iat": None},
        {"role": None},
    ],
)
def test_wrong_or_missing_registered_claims_refused(tokens, ring, clock, override):
    token = sign(ring, claims_for(tokens, now_ts(tokens, clock), **override))
    with pytest.raises(AuthenticationError) as info:
        tokens.verify(token)
    assert info.value.reason.startswith("rejected:")


def test_token_of_another_environment_refused(tokens, ring):
    staging = TokenService(ring, TokenSettings.for_environment("staging"))
    with pytest.raises(AuthenticationError) as info:
        tokens.verify(staging.mint("service", "acme"))
    assert info.value.reason in {"rejected: InvalidIssuerError", "rejected: InvalidAudienceError"}


NO_TENANT = "tenant-bound role without a valid tenant"


@pytest.mark.parametrize(
    ("override", "reason"),
    [
        ({"role": "root"}, "unknown role"),
        ({"role": "service", "tenant": None}, NO_TENANT),
        ({"role": "tenant-admin", "tenant": "ACME/../x"}, NO_TENANT),
        ({"role": "platform-admin", "tenant": "acme"}, "platform role with a tenant claim"),
        ({"role": "auditor", "tenant": "acme"}, "platform role with a tenant claim"),
        ({"sub": ""}, "sub and jti must be non-empty strings"),
    ],
)
def test_role_and_tenant_binding_enforced(tokens, ring, clock, override, reason):
    refused(tokens, sign(ring, claims_for(tokens, now_ts(tokens, clock), **override)), reason)


# -- signature and header attacks -----------------------------------------------------


def test_tampered_payload_refused(tokens: TokenService):
    head, body, sig = tokens.mint("service", "acme").split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=="))
    claims["tenant"] = "globex"
    forged = f"{head}.{b64(json.dumps(claims).encode())}.{sig}"
    refused(tokens, forged, "rejected: InvalidSignatureError")


def test_tampered_signature_refused(tokens: TokenService):
    head, body, sig = tokens.mint("service", "acme").split(".")
    raw = bytearray(base64.urlsafe_b64decode(sig + "=="))
    raw[7] ^= 0x01
    refused(tokens, f"{head}.{body}.{b64(bytes(raw))}", "rejected: InvalidSignatureError")


def test_signature_by_a_foreign_key_with_our_kid_refused(tokens, ring, clock):
    kid = ring.current().kid
    attacker = Ed25519PrivateKey.generate()
    claims = claims_for(tokens, now_ts(tokens, clock))
    token = jwt.encode(claims, attacker, algorithm="EdDSA", headers={"kid": kid})
    refused(tokens, token, "rejected: InvalidSignatureError")


@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
def test_alg_none_refused(tokens, ring, clock, alg):
    header = {"alg": alg, "kid": ring.current().kid, "typ": "JWT"}
    token = raw_token(header, claims_for(tokens, now_ts(tokens, clock)), b"")
    refused(tokens, token, "algorithm not allowed")
    refused(tokens, token[: token.rindex(".")], "malformed token")  # no third segment


def _public_key_secrets(ring: SigningKeyRing) -> list[bytes]:
    public = ring._signing_key()[1].public_key()
    jwk = ring.jwks()["keys"][0]
    return [
        public.public_bytes_raw(),
        jwk["x"].encode(),
        json.dumps(jwk).encode(),
        public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        public.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
    ]


@pytest.mark.parametrize("alg", ["HS256", "HS384", "HS512"])
def test_hmac_keyed_with_the_public_key_refused(tokens, ring, clock, alg):
    """The classic key-confusion attack: HMAC 'signed' with the verifier's public key."""
    digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[alg]
    claims = claims_for(tokens, now_ts(tokens, clock), role="tenant-admin")
    header = {"alg": alg, "kid": ring.current().kid, "typ": "JWT"}
    for secret in _public_key_secrets(ring):
        head = b64(json.dumps(header).encode())
        body = b64(json.dumps(claims).encode())
        mac = hmac.new(secret, f"{head}.{body}".encode(), digest).digest()
        refused(tokens, f"{head}.{body}.{b64(mac)}", "algorithm not allowed")


def test_other_asymmetric_algorithms_refused(tokens, ring, clock):
    claims = claims_for(tokens, now_ts(tokens, clock))
    kid = ring.current().kid
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    for alg, key in [("RS256", rsa_key), ("PS256", rsa_key), ("ES256", ec_key)]:
        token = jwt.encode(claims, key, algorithm=alg, headers={"kid": kid})
        refused(tokens, token, "algorithm not allowed")


def test_unknown_or_missing_kid_refused(tokens, ring, clock):
    claims = claims_for(tokens, now_ts(tokens, clock))
    _, key = ring._signing_key()
    unknown = jwt.encode(claims, key, algorithm="EdDSA", headers={"kid": "A" * 43})
    refused(tokens, unknown, "unknown or retired key id")
    missing = jwt.encode(claims, key, algorithm="EdDSA")
    refused(tokens, missing, "unknown or retired key id")


@pytest.mark.parametrize(
    "extra",
    [
        {"jku": "https://evil.example/jwks.json"},
        {"x5u": "https://evil.example/cert.pem"},
        {"crit": ["exp"]},
        {"b64": False},
    ],
)
def test_unexpected_header_fields_refused(tokens, ring, clock, extra):
    token = sign(ring, claims_for(tokens, now_ts(tokens, clock)), **extra)
    with pytest.raises(AuthenticationError) as info:
        tokens.verify(token)
    # PyJWT itself already rejects an unsupported "crit"; we reject every other extra field.
    assert info.value.reason in {"unexpected header fields", "malformed token"}


def test_embedded_jwk_header_refused(tokens, ring, clock):
    """A token that brings its own verification key must not be trusted with it."""
    attacker = Ed25519PrivateKey.generate()
    x = b64(attacker.public_key().public_bytes_raw())
    header = {"kid": ring.current().kid, "jwk": {"kty": "OKP", "crv": "Ed25519", "x": x}}
    token = jwt.encode(claims_for(tokens, now_ts(tokens, clock)), attacker, "EdDSA", header)
    refused(tokens, token, "unexpected header fields")


def test_wrong_typ_refused(tokens, ring, clock):
    token = sign(ring, claims_for(tokens, now_ts(tokens, clock)), typ="at+jwt")
    refused(tokens, token, "wrong token type")


@pytest.mark.parametrize("token", ["", "a.b.c", "x" * 9000, "....", "eyJhbGciOiJFZERTQSJ9..", 42])
def test_garbage_refused(tokens, token):
    with pytest.raises(AuthenticationError):
        tokens.verify(token)


def test_auth_errors_are_callvault_errors():
    assert issubclass(AuthenticationError, CallvaultError)
