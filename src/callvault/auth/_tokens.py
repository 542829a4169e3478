"""Minting and verifying the API's bearer tokens (compact JWS, EdDSA/Ed25519, PyJWT).

Verification is deliberately narrower than what JOSE allows (RFC 8725, JWT BCP):

* the header may carry only ``alg``, ``kid`` and ``typ``; ``alg`` must be exactly
  ``EdDSA`` (``none``, ``HS256`` keyed with our public key, RS/ES/PS… are refused before
  any cryptography), ``typ`` must be ``JWT``, and ``kid`` must name a key of the current
  JWKS: no key is ever taken from the token itself (``jwk``, ``jku``, ``x5u``, ``crit``);
* ``iss`` and ``aud`` must equal this environment's values exactly (``aud`` a single
  string); ``sub``, ``jti``, ``iat``, ``nbf``, ``exp`` and ``role`` are required;
* time is checked here, against the injected clock, with at most 30 s of leeway, and a
  token may not claim a lifetime above 24 h even if correctly signed;
* ``tenant`` is present exactly when the role is tenant-bound, and is a valid tenant id.

Every failure raises ``AuthenticationError`` with one public message; ``reason`` says why.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from callvault._ids import check_tenant_id
from callvault.auth._errors import AuthenticationError
from callvault.auth._jwk import ALGORITHM
from callvault.auth._model import Clock, CredentialKind, Principal, Role
from callvault.auth._policy import PermissionTable, default_table
from callvault.auth._signing import MAX_TOKEN_LIFETIME, SigningKeyRing
from callvault.errors import CallvaultError, InvalidRequest

__all__ = ["DEFAULT_TTL", "LEEWAY", "MAX_TTL", "TokenService", "TokenSettings"]

DEFAULT_TTL = timedelta(minutes=15)
MAX_TTL = MAX_TOKEN_LIFETIME
LEEWAY = timedelta(seconds=30)
_MAX_TOKEN_CHARS = 8192
_HEADER_FIELDS = frozenset({"alg", "kid", "typ"})
_REQUIRED = ["iss", "aud", "sub", "iat", "nbf", "exp", "jti", "role"]


@dataclass(frozen=True, slots=True)
class TokenSettings:
    """Issuer and audience; per environment, so a dev token is refused by staging/prod."""

    issuer: str
    audience: str

    @classmethod
    def for_environment(cls, environment: str) -> TokenSettings:
        return cls(f"urn:callvault:{environment}:auth", f"urn:callvault:{environment}:api")


class TokenService:
    """Mint and verify tokens signed by one ``SigningKeyRing``."""

    def __init__(
        self,
        keyring: SigningKeyRing,
        settings: TokenSettings | None = None,
        *,
        table: PermissionTable | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._ring = keyring
        self.settings = settings or TokenSettings.for_environment(keyring.environment)
        self._table = table or default_table()
        self._clock = clock or keyring.clock

    def mint(
        self,
        role: Role | str,
        tenant: str | None = None,
        *,
        ttl: timedelta | int = DEFAULT_TTL,
        subject: str | None = None,
    ) -> str:
        """A signed token for ``role`` (bound to ``tenant`` iff the role is tenant-bound)."""
        try:
            role = Role(role)
        except ValueError:
            raise InvalidRequest(f"unknown role {role!r}") from None
        if self._table.is_tenant_bound(role):
            if tenant is None:
                raise InvalidRequest(f"role {role} is bound to a tenant: pass --tenant")
            check_tenant_id(tenant)
        elif tenant is not None:
            raise InvalidRequest(f"role {role} is a platform role: it takes no tenant")
        lifetime = ttl if isinstance(ttl, timedelta) else timedelta(seconds=ttl)
        if not timedelta(seconds=1) <= lifetime <= MAX_TTL:
            raise InvalidRequest("token lifetime must be between 1 second and 24 hours")
        subject = subject or (f"{role}@{tenant}" if tenant else str(role))
        if not subject.isprintable() or len(subject) > 256:
            raise InvalidRequest("subject must be 1-256 printable characters")
        issued = int(self._clock().timestamp())
        claims: dict[str, Any] = {
            "iss": self.settings.issuer,
            "aud": self.settings.audience,
            "sub": subject,
            "iat": issued,
            "nbf": issued,
            "exp": issued + int(lifetime.total_seconds()),
            "jti": secrets.token_urlsafe(16),
            "role": role.value,
        }
        if tenant is not None:
            claims["tenant"] = tenant
        kid, key = self._ring._signing_key()
        return jwt.encode(claims, key, algorithm=ALGORITHM, headers={"kid": kid, "typ": "JWT"})

    def verify(self, token: str) -> Principal:
        """The principal a token proves, or ``AuthenticationError``."""
        if not isinstance(token, str) or not 0 < len(token) <= _MAX_TOKEN_CHARS:
            raise AuthenticationError("missing or oversized token")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise AuthenticationError("malformed token") from None
        if set(header) - _HEADER_FIELDS:
            raise AuthenticationError("unexpected header fields")
        if header.get("alg") != ALGORITHM:
            raise AuthenticationError("algorithm not allowed")
        if header.get("typ") != "JWT":
            raise AuthenticationError("wrong token type")
        kid = header.get("kid")
        key = self._ring.verification_key(kid) if isinstance(kid, str) else None
        if key is None:
            raise AuthenticationError("unknown or retired key id")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=self.settings.audience,
                issuer=self.settings.issuer,
                options={
                    "require": _REQUIRED,
                    "strict_aud": True,
                    # Time is checked below against the injected clock.
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                },
            )
        except jwt.PyJWTError as exc:
            raise AuthenticationError(f"rejected: {type(exc).__name__}") from None
        expires_at = self._check_time(claims)
        return self._principal(claims, expires_at)

    def _check_time(self, claims: dict[str, Any]) -> datetime:
        times = [claims[name] for name in ("iat", "nbf", "exp")]
        if any(type(value) is not int for value in times):
            raise AuthenticationError("time claims must be integers")
        iat, nbf, exp = times
        now, leeway = self._clock().timestamp(), LEEWAY.total_seconds()
        if now >= exp + leeway:
            raise AuthenticationError("token expired")
        if now < nbf - leeway:
            raise AuthenticationError("token not yet valid")
        if now < iat - leeway:
            raise AuthenticationError("token issued in the future")
        if not iat < exp <= iat + MAX_TTL.total_seconds():
            raise AuthenticationError("token lifetime out of bounds")
        return datetime.fromtimestamp(exp, UTC)

    def _principal(self, claims: dict[str, Any], expires_at: datetime) -> Principal:
        try:
            role = Role(claims["role"])
        except ValueError:
            raise AuthenticationError("unknown role") from None
        subject, jti, tenant = claims["sub"], claims["jti"], claims.get("tenant")
        if not all(isinstance(v, str) and v for v in (subject, jti)):
            raise AuthenticationError("sub and jti must be non-empty strings")
        if self._table.is_tenant_bound(role):
            try:
                check_tenant_id(tenant)  # type: ignore[arg-type]
            except CallvaultError:
                raise AuthenticationError("tenant-bound role without a valid tenant") from None
        elif "tenant" in claims:
            raise AuthenticationError("platform role with a tenant claim")
        return Principal(subject, role, tenant, jti, expires_at, CredentialKind.JWT)
