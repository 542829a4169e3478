"""The signing key ring: kids, JWKS, rotation and grace, and the key file at rest."""

from __future__ import annotations

import base64
import json
import stat
from datetime import timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from callvault import Environment, Vault
from callvault.auth import (
    SIGNING_KEY_FILE,
    AuthenticationError,
    RotationPolicy,
    SigningKeyRing,
    TokenService,
)
from callvault.auth._jwk import jwk_thumbprint
from callvault.errors import ConfigError, EnvironmentMismatch


def forge(tokens: TokenService, key: Ed25519PrivateKey, kid: str, now: int) -> str:
    """A fresh, well-formed token signed with ``key`` (as if that key had leaked)."""
    claims = {
        "iss": tokens.settings.issuer,
        "aud": tokens.settings.audience,
        "sub": "x",
        "iat": now,
        "nbf": now,
        "exp": now + 300,
        "jti": "j",
        "role": "service",
        "tenant": "acme",
    }
    return jwt.encode(claims, key, algorithm="EdDSA", headers={"kid": kid, "typ": "JWT"})


def test_rfc8037_thumbprint_vector():
    # RFC 8037 appendix A.3: the JWK thumbprint of the A.2 Ed25519 public key.
    x = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
    assert jwk_thumbprint(x) == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


def test_jwks_document_shape(ring: SigningKeyRing):
    jwks = ring.jwks()
    assert list(jwks) == ["keys"] and len(jwks["keys"]) == 1
    (jwk,) = jwks["keys"]
    assert set(jwk) == {"kty", "crv", "x", "kid", "alg", "use"}  # no private "d"
    assert (jwk["kty"], jwk["crv"], jwk["alg"], jwk["use"]) == ("OKP", "Ed25519", "EdDSA", "sig")
    assert jwk["kid"] == jwk_thumbprint(jwk["x"]) == ring.current().kid
    public = ring._signing_key()[1].public_key().public_bytes_raw()
    assert base64.urlsafe_b64decode(jwk["x"] + "=") == public
    json.dumps(jwks)  # serialisable as is


def test_jwks_verifies_tokens_with_a_generic_client(tokens: TokenService, ring: SigningKeyRing):
    """A third party holding only the JWKS can verify our tokens (interop)."""
    token = tokens.mint("auditor")
    key = jwt.PyJWKSet.from_dict(ring.jwks())[jwt.get_unverified_header(token)["kid"]]
    claims = jwt.decode(
        token,
        key,
        algorithms=["EdDSA"],
        audience=tokens.settings.audience,
        options={"verify_exp": False, "verify_iat": False, "verify_nbf": False},
    )
    assert claims["role"] == "auditor"


def test_rotation_grace_and_expiry(tokens: TokenService, ring: SigningKeyRing, clock: Any):
    old_kid, old_key = ring._signing_key()
    old_token = tokens.mint("service", "acme", ttl=3600)
    assert not ring.due_for_rotation()

    new = ring.rotate()
    assert new.kid != old_kid and new.current
    assert [k["kid"] for k in ring.jwks()["keys"]] == [new.kid, old_kid]
    assert ring._signing_key()[0] == new.kid
    assert jwt.get_unverified_header(tokens.mint("service", "acme"))["kid"] == new.kid
    # Within grace: tokens of the old key still verify, even one freshly forged with it.
    assert tokens.verify(old_token).tenant == "acme"
    clock.advance(days=6, hours=23)
    assert tokens.verify(forge(tokens, old_key, old_kid, int(clock().timestamp())))

    clock.advance(hours=1)  # exactly 7 days after rotation: grace is over
    assert [k["kid"] for k in ring.jwks()["keys"]] == [new.kid]
    with pytest.raises(AuthenticationError) as info:
        tokens.verify(forge(tokens, old_key, old_kid, int(clock().timestamp())))
    assert info.value.reason == "unknown or retired key id"
    (info_old,) = [k for k in ring.list_keys() if k.kid == old_kid]
    assert info_old.accepted_until == info_old.retired_at + timedelta(days=7)


def test_rotated_jwks_holds_every_key_in_grace(ring: SigningKeyRing, clock: Any):
    first = ring.current().kid
    second = ring.rotate().kid
    clock.advance(days=3)
    third = ring.rotate().kid
    assert [k["kid"] for k in ring.jwks()["keys"]] == [third, second, first]
    clock.advance(days=4)  # first retired 7 days ago, second 4 days ago
    assert [k["kid"] for k in ring.jwks()["keys"]] == [third, second]
    clock.advance(days=3)
    assert [k["kid"] for k in ring.jwks()["keys"]] == [third]


def test_expired_keys_become_tombstones_without_key_material(ring, clock, vault: Vault):
    first = ring.current().kid
    ring.rotate()
    clock.advance(days=8)
    ring.rotate()
    doc = json.loads((vault.home / SIGNING_KEY_FILE).read_text())
    assert "wrapped" not in doc["keys"][first] and "destroyed_at" in doc["keys"][first]
    assert len([k for k in doc["keys"].values() if "wrapped" in k]) == 2
    assert len(ring.list_keys()) == 3


def test_due_for_rotation_after_90_days(ring: SigningKeyRing, clock: Any):
    kid = ring.current().kid
    clock.advance(days=89, hours=23)
    assert not ring.due_for_rotation() and not ring.rotate_if_due()
    assert ring.current().kid == kid
    clock.advance(hours=1)
    assert ring.due_for_rotation() and ring.rotate_if_due()
    assert ring.current().kid != kid and not ring.due_for_rotation()


@pytest.mark.parametrize(("rotation", "grace"), [(90, 0.5), (5, 7), (7, 7)])
def test_rotation_policy_validated(rotation: float, grace: float):
    with pytest.raises(ValueError):
        RotationPolicy(timedelta(days=rotation), timedelta(days=grace))


def _encodings(secret: bytes) -> list[bytes]:
    forms = [secret, secret.hex().encode(), secret.hex().upper().encode()]
    for enc in (base64.b64encode, base64.urlsafe_b64encode, base64.b32encode):
        forms += [enc(secret), enc(secret).rstrip(b"=")]
    return forms


def _private_forms(key: Ed25519PrivateKey) -> list[bytes]:
    raw = key.private_bytes_raw()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    der = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    body = b"".join(pem.splitlines()[1:-1])  # PEM body without armour
    return [*_encodings(raw), *_encodings(der), pem, body, b"PRIVATE KEY"]


def test_key_file_holds_no_private_key_in_any_encoding(ring, clock, vault: Vault):
    keys = [ring._signing_key()[1]]
    ring.rotate()
    keys.append(ring._signing_key()[1])
    path = vault.home / SIGNING_KEY_FILE
    content = path.read_bytes()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    for key in keys:
        for form in _private_forms(key):
            assert form not in content
    assert b'"d"' not in content  # no private JWK member either
    assert json.loads(content)["kek_id"] == "dev/platform/jwt-signing"
    assert vault.provider.describe_key("dev/platform/jwt-signing").labels == {
        "platform": "jwt-signing",
        "class": "platform",
    }


def test_repr_of_ring_objects_shows_no_key(ring: SigningKeyRing):
    key = ring._signing_key()[1]
    raw = key.private_bytes_raw()
    for text in (repr(ring), repr(ring.current()), repr(ring.list_keys()), repr(key)):
        for form in _encodings(raw):
            assert form.decode(errors="ignore") not in text


def test_a_key_slipped_into_the_file_is_never_trusted(tokens, ring, clock, vault: Vault):
    """Write access to the file without the KMS must not let an attacker add a key."""
    ring.current()
    path = vault.home / SIGNING_KEY_FILE
    doc = json.loads(path.read_text())
    genuine = doc["keys"][doc["current"]]
    attacker = Ed25519PrivateKey.generate()
    x = base64.urlsafe_b64encode(attacker.public_key().public_bytes_raw()).rstrip(b"=").decode()
    kid = jwk_thumbprint(x)
    doc["keys"][kid] = {**genuine, "x": x, "retired_at": clock().isoformat()}
    path.write_text(json.dumps(doc))
    token = forge(tokens, attacker, kid, int(clock().timestamp()))
    with pytest.raises((AuthenticationError, ConfigError)):
        tokens.verify(token)


def test_public_key_swapped_in_the_file_is_refused(tokens, ring, clock, vault: Vault):
    ring.current()
    path = vault.home / SIGNING_KEY_FILE
    doc = json.loads(path.read_text())
    attacker = Ed25519PrivateKey.generate()
    x = base64.urlsafe_b64encode(attacker.public_key().public_bytes_raw()).rstrip(b"=").decode()
    doc["keys"][doc["current"]]["x"] = x
    path.write_text(json.dumps(doc))
    fresh = SigningKeyRing(vault.home, vault.provider, clock=clock)  # nothing cached
    with pytest.raises(ConfigError):
        now = int(clock().timestamp())
        TokenService(fresh).verify(forge(tokens, attacker, doc["current"], now))


def test_two_processes_share_rotation(vault: Vault, clock: Any):
    one = SigningKeyRing(vault.home, vault.provider, clock=clock)
    two = SigningKeyRing(vault.home, vault.provider, clock=clock)
    assert one.current().kid == two.current().kid
    token = TokenService(one).mint("service", "acme")
    new = one.rotate()
    assert two.current().kid == new.kid
    assert TokenService(two).verify(token).tenant == "acme"  # old key, in grace


def test_key_file_of_another_environment_refused(tmp_path, vault_factory, vault: Vault, clock):
    SigningKeyRing(vault.home, vault.provider, clock=clock).current()
    prod = vault_factory(tmp_path / "prod", Environment.PROD)
    target = prod.home / SIGNING_KEY_FILE
    target.write_bytes((vault.home / SIGNING_KEY_FILE).read_bytes())
    with pytest.raises(EnvironmentMismatch):
        SigningKeyRing(prod.home, prod.provider, clock=clock).jwks()


def test_key_file_copied_to_another_home_does_not_unwrap(tmp_path, vault_factory, vault, clock):
    SigningKeyRing(vault.home, vault.provider, clock=clock).current()
    other = vault_factory(tmp_path / "other")
    (other.home / SIGNING_KEY_FILE).write_bytes((vault.home / SIGNING_KEY_FILE).read_bytes())
    with pytest.raises(ConfigError, match="does not unwrap"):
        SigningKeyRing(other.home, other.provider, clock=clock)._signing_key()
