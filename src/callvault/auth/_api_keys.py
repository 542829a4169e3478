"""Customer API keys: self-service, shown once, stored only as keyed hashes.

The store (``keys/api-keys.json``) keeps per key its tenant, role, label, dates, lifetime,
and for each live secret

    HMAC-SHA256(pepper, encode_fields("callvault/api-key/v1", [id, tenant, role, secret]))

Why a keyed HMAC and not scrypt/argon2: a password hash slows guessing of *low-entropy*
secrets; a 256-bit random secret cannot be guessed at any speed, so a slow hash would only
add latency to every request. The pepper (a 256-bit key wrapped by the KMS under
``<env>/platform/api-keys``, never on disk in clear) means a stolen store file is not even
enough to test a candidate key offline; binding tenant and role into the MAC means editing
the file to move a key to another tenant or a stronger role makes it stop verifying.

A key lives ``policy.lifetime`` (90 days) unless its creator asks for less; rotation issues a
new secret, renews the key for its own lifetime, and keeps the previous secret valid for an
overlap (default and maximum ``policy.rotation_overlap``, 24 h: long enough to roll a
deployment; 0 retires it at once). An expired key's secrets are never revived by rotating
it. Revocation drops every hash at once. Which roles a *principal* may mint keys for is the
permission table's ``check_grant``, applied by the HTTP layer; the store only refuses
platform roles outright.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from callvault._ids import check_tenant_id
from callvault._json_store import JsonStore
from callvault.auth._api_key_model import (
    DEFAULT_API_KEYS,
    KEY_PATTERN,
    MIN_LIFETIME,
    ApiKeyInfo,
    ApiKeyPolicy,
    NewApiKey,
    entry_info,
    random_b32,
)
from callvault.auth._errors import AuthenticationError
from callvault.auth._model import Clock, CredentialKind, Principal, Role, utc_now
from callvault.auth._platform_keys import PlatformKey, wrapped_from_json, wrapped_to_json
from callvault.auth._policy import PermissionTable, default_table
from callvault.errors import (
    ConfigError,
    EnvironmentMismatch,
    InvalidRequest,
    KeyNotFound,
    OpenError,
)
from callvault.format._encoding import encode_fields
from callvault.keys import KeyMaterial
from callvault.keys.providers import KmsProvider

__all__ = ["API_KEY_FILE", "ApiKeyStore"]

API_KEY_FILE = Path("keys") / "api-keys.json"
_FORMAT = "callvault-api-keys/v1"
_MAC_LABEL = b"callvault/api-key/v1"


class ApiKeyStore:
    """API keys of every tenant of one home, in ``keys/api-keys.json``."""

    def __init__(
        self,
        home: Path,
        provider: KmsProvider,
        policy: ApiKeyPolicy = DEFAULT_API_KEYS,
        *,
        table: PermissionTable | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self.policy = policy
        self._clock = clock
        self._table = table or default_table()
        self._environment = provider.environment.value
        self._kek = PlatformKey(provider, "api-keys")
        self._store = JsonStore(home / API_KEY_FILE, self._empty)
        self._lock = threading.Lock()
        self._pepper: tuple[str, KeyMaterial] | None = None

    def create(
        self, tenant: str, role: Role | str, label: str, *, lifetime: timedelta | None = None
    ) -> NewApiKey:
        """A new key of ``role`` for ``tenant``; ``lifetime`` may shorten the policy's."""
        check_tenant_id(tenant)
        role = _role(role)
        if not self._table.is_tenant_bound(role):
            raise InvalidRequest(f"API keys are for tenant roles; {role} is a platform role")
        if not label or len(label) > 64 or not label.isprintable():
            raise InvalidRequest("label must be 1-64 printable characters")
        lifetime = self.policy.lifetime if lifetime is None else lifetime
        if not MIN_LIFETIME <= lifetime <= self.policy.lifetime:
            raise InvalidRequest(
                f"an API key's lifetime must be between {MIN_LIFETIME} and {self.policy.lifetime}"
            )
        key_id, secret = random_b32(10), random_b32(32)
        now = self._clock()
        with self._store.transaction() as doc:
            pepper = self._pepper_key(self._checked(doc), create=True)
            doc["keys"][key_id] = {
                "tenant": tenant,
                "role": role.value,
                "label": label,
                "created_at": now.isoformat(),
                "rotated_at": None,
                "revoked_at": None,
                "lifetime_s": int(lifetime.total_seconds()),
                "expires_at": (now + lifetime).isoformat(),
                "secrets": [_secret_entry(pepper, key_id, tenant, role, secret, now)],
            }
            info = entry_info(key_id, doc["keys"][key_id])
        return NewApiKey(info, f"cvk_{key_id}_{secret}")

    def rotate(self, tenant: str, key_id: str, *, overlap: timedelta | None = None) -> NewApiKey:
        """A new secret, and the key renewed for its lifetime. The previous secret keeps
        working for ``overlap`` (default and maximum: the policy's; 0: retired now), never
        past its own end, and not at all if the key had already expired."""
        overlap = self.policy.rotation_overlap if overlap is None else overlap
        if not timedelta(0) <= overlap <= self.policy.rotation_overlap:
            raise InvalidRequest(
                f"the rotation overlap must be between 0 and {self.policy.rotation_overlap}"
            )
        secret, now = random_b32(32), self._clock()
        with self._store.transaction() as doc:
            entry = self._entry(self._checked(doc), tenant, key_id)
            if entry["revoked_at"] is not None:
                raise InvalidRequest(f"API key {key_id} is revoked")
            pepper = self._pepper_key(doc, create=False)
            expired = now >= datetime.fromisoformat(entry["expires_at"])
            overlap_end = now if expired else now + overlap
            kept, previous = [], None
            for old in entry["secrets"]:
                until = min(_until(old) or overlap_end, overlap_end)
                if now < until:
                    kept.append({**old, "valid_until": until.isoformat()})
                    previous = until if previous is None else max(previous, until)
            role = Role(entry["role"])
            kept.append(_secret_entry(pepper, key_id, tenant, role, secret, now))
            entry.update(
                secrets=kept,
                rotated_at=now.isoformat(),
                expires_at=(now + self._lifetime_of(entry)).isoformat(),
            )
            info = entry_info(key_id, entry)
        return NewApiKey(info, f"cvk_{key_id}_{secret}", previous)

    def revoke(self, tenant: str, key_id: str) -> ApiKeyInfo:
        """Refuse the key from now on, every secret of it at once. Idempotent."""
        with self._store.transaction() as doc:
            entry = self._entry(self._checked(doc), tenant, key_id)
            if entry["revoked_at"] is None:
                entry["revoked_at"] = self._clock().isoformat()
            entry["secrets"] = []
            return entry_info(key_id, entry)

    def get(self, tenant: str, key_id: str) -> ApiKeyInfo:
        """One key's metadata; another tenant's key is ``KeyNotFound``."""
        return entry_info(key_id, self._entry(self._checked(self._store.read()), tenant, key_id))

    def list(self, tenant: str) -> list[ApiKeyInfo]:
        check_tenant_id(tenant)
        doc = self._checked(self._store.read())
        return [entry_info(k, e) for k, e in sorted(doc["keys"].items()) if e["tenant"] == tenant]

    def verify(self, presented: str) -> Principal:
        """The principal of a presented API key, or ``AuthenticationError``."""
        match = KEY_PATTERN.fullmatch(presented) if isinstance(presented, str) else None
        if match is None:
            raise AuthenticationError("malformed API key")
        key_id, secret = match.groups()
        doc = self._checked(self._store.read())
        entry = doc["keys"].get(key_id)
        if entry is None or doc["pepper"] is None:
            raise AuthenticationError("unknown API key")
        now, role = self._clock(), Role(entry["role"])
        expected = _mac(self._pepper_key(doc, create=False), key_id, entry["tenant"], role, secret)
        matched = False
        for stored in entry["secrets"]:
            until = _until(stored)
            live = until is None or now < until
            # Compare every entry, so timing does not say which secret matched.
            matched |= hmac.compare_digest(bytes.fromhex(stored["mac"]), expected) and live
        if not matched:
            raise AuthenticationError("wrong, superseded or revoked API key secret")
        info = entry_info(key_id, entry)
        if info.revoked_at is not None:
            raise AuthenticationError("revoked API key")
        if now >= info.expires_at:
            raise AuthenticationError("expired API key")
        return Principal(
            f"api-key:{key_id}", role, info.tenant, key_id, info.expires_at, CredentialKind.API_KEY
        )

    # -- internals --------------------------------------------------------------------

    def _empty(self) -> dict[str, Any]:
        return {"format": _FORMAT, "environment": self._environment, "pepper": None, "keys": {}}

    def _checked(self, doc: dict[str, Any]) -> dict[str, Any]:
        if doc.get("format") != _FORMAT:
            raise ConfigError("the API key file has an unknown format")
        if doc.get("environment") != self._environment:
            raise EnvironmentMismatch("the API key file belongs to another environment")
        return doc

    def _lifetime_of(self, entry: dict[str, Any]) -> timedelta:
        # Entries written before per-key lifetimes have none: the policy's. Never longer
        # than the policy now allows, should it have been shortened since.
        stored = entry.get("lifetime_s")
        lifetime = self.policy.lifetime if stored is None else timedelta(seconds=int(stored))
        return min(lifetime, self.policy.lifetime)

    def _entry(self, doc: dict[str, Any], tenant: str, key_id: str) -> dict[str, Any]:
        entry: dict[str, Any] | None = doc["keys"].get(key_id)
        if entry is None or entry["tenant"] != check_tenant_id(tenant):
            # Another tenant's key is "not found", not "forbidden": ids do not leak.
            raise KeyNotFound(f"no API key {key_id} for tenant {tenant}")
        return entry

    def _pepper_key(self, doc: dict[str, Any], *, create: bool) -> KeyMaterial:
        if doc["pepper"] is None:
            if not create:
                raise ConfigError("the API key file has no pepper")
            pepper, wrapped = self._kek.generate([b"pepper"], "api-key pepper")
            doc["pepper"] = wrapped_to_json(wrapped)
            return pepper
        blob = doc["pepper"]["blob"]
        with self._lock:
            if self._pepper is not None and self._pepper[0] == blob:
                return self._pepper[1]
        try:
            pepper = self._kek.unwrap(wrapped_from_json(doc["pepper"]), [b"pepper"], "pepper")
        except OpenError:
            raise ConfigError("the API key pepper does not unwrap: file altered") from None
        with self._lock:
            self._pepper = (blob, pepper)
        return pepper


def _role(role: Role | str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise InvalidRequest(f"unknown role {role!r}") from None


def _mac(pepper: KeyMaterial, key_id: str, tenant: str, role: Role, secret: str) -> bytes:
    message = encode_fields(
        _MAC_LABEL, [key_id.encode(), tenant.encode(), role.value.encode(), secret.encode()]
    )
    return hmac.new(pepper.secret_bytes(), message, hashlib.sha256).digest()


def _secret_entry(
    pepper: KeyMaterial, key_id: str, tenant: str, role: Role, secret: str, now: datetime
) -> dict[str, Any]:
    return {
        "mac": _mac(pepper, key_id, tenant, role, secret).hex(),
        "created_at": now.isoformat(),
        "valid_until": None,
    }


def _until(stored: dict[str, Any]) -> datetime | None:
    return datetime.fromisoformat(stored["valid_until"]) if stored["valid_until"] else None
