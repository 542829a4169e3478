"""Customer API keys: self-service, shown once, stored only as keyed hashes.

A key reads ``cvk_<id>_<secret>``: ``id`` is 80 random bits and ``secret`` 256 random bits,
both lowercase base32 (no padding, so the whole key is one word for copy-paste and for
secret scanners that match the ``cvk_`` prefix). The store keeps

    HMAC-SHA256(pepper, encode_fields("callvault/api-key/v1", [id, tenant, role, secret]))

Why a keyed HMAC and not scrypt/argon2: a password hash slows guessing of *low-entropy*
secrets; a 256-bit random secret cannot be guessed at any speed, so a slow hash would only
add latency to every request. The pepper (a 256-bit key wrapped by the KMS under
``<env>/platform:api-keys``, never on disk in clear) means a stolen store file is not even
enough to test a candidate key offline; binding tenant and role into the MAC means editing
the file to move a key to another tenant or a stronger role makes it stop verifying.

Rotation issues a new secret and keeps the previous one valid for a short overlap (default
24 h, long enough to roll a deployment); revocation drops every hash at once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from callvault._ids import check_tenant_id
from callvault._json_store import JsonStore
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

__all__ = ["API_KEY_FILE", "DEFAULT_API_KEYS", "ApiKeyInfo", "ApiKeyPolicy", "ApiKeyStore",
           "NewApiKey"]

API_KEY_FILE = Path("keys") / "api-keys.json"
_FORMAT = "callvault-api-keys/v1"
_KEY = re.compile(r"cvk_([a-z2-7]{16})_([a-z2-7]{52})")
_MAC_LABEL = b"callvault/api-key/v1"


@dataclass(frozen=True, slots=True)
class ApiKeyPolicy:
    """How long a key lives and how long its previous secret survives a rotation."""

    lifetime: timedelta = timedelta(days=90)
    rotation_overlap: timedelta = timedelta(hours=24)

    def __post_init__(self) -> None:
        if not timedelta(hours=1) <= self.lifetime <= timedelta(days=365):
            raise ValueError("API key lifetime must be between 1 hour and 365 days")
        if not timedelta(0) <= self.rotation_overlap <= timedelta(days=7):
            raise ValueError("rotation overlap must be between 0 and 7 days")


DEFAULT_API_KEYS = ApiKeyPolicy()


@dataclass(frozen=True, slots=True)
class ApiKeyInfo:
    """What may be listed about a key: never the secret, never its hash."""

    key_id: str
    tenant: str
    role: Role
    label: str
    created_at: datetime
    expires_at: datetime
    rotated_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class NewApiKey:
    """Returned once by create/rotate. ``secret`` is the whole key; it is not in repr."""

    info: ApiKeyInfo
    secret: str = field(repr=False)


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

    def create(self, tenant: str, role: Role | str, label: str) -> NewApiKey:
        check_tenant_id(tenant)
        role = _role(role)
        if not self._table.is_tenant_bound(role):
            raise InvalidRequest(f"API keys are for tenant roles; {role} is a platform role")
        if not label or len(label) > 64 or not label.isprintable():
            raise InvalidRequest("label must be 1-64 printable characters")
        key_id, secret = _b32(10), _b32(32)
        now = self._clock()
        with self._store.transaction() as doc:
            pepper = self._pepper_key(self._checked(doc), create=True)
            doc["keys"][key_id] = {
                "tenant": tenant, "role": role.value, "label": label,
                "created_at": now.isoformat(), "rotated_at": None, "revoked_at": None,
                "expires_at": (now + self.policy.lifetime).isoformat(),
                "secrets": [_secret_entry(pepper, key_id, tenant, role, secret, now, None)],
            }
            info = _info(key_id, doc["keys"][key_id])
        return NewApiKey(info, f"cvk_{key_id}_{secret}")

    def rotate(self, tenant: str, key_id: str) -> NewApiKey:
        """A new secret; the previous one keeps working for ``rotation_overlap``."""
        secret, now = _b32(32), self._clock()
        with self._store.transaction() as doc:
            entry = self._entry(self._checked(doc), tenant, key_id)
            if entry["revoked_at"] is not None:
                raise InvalidRequest(f"API key {key_id} is revoked")
            pepper = self._pepper_key(doc, create=False)
            overlap_end = now + self.policy.rotation_overlap
            kept = []
            for old in entry["secrets"]:
                until = _until(old) or overlap_end
                if now < until:
                    kept.append({**old, "valid_until": min(until, overlap_end).isoformat()})
            role = Role(entry["role"])
            kept.append(_secret_entry(pepper, key_id, tenant, role, secret, now, None))
            entry.update(secrets=kept, rotated_at=now.isoformat(),
                         expires_at=(now + self.policy.lifetime).isoformat())
            info = _info(key_id, entry)
        return NewApiKey(info, f"cvk_{key_id}_{secret}")

    def revoke(self, tenant: str, key_id: str) -> ApiKeyInfo:
        """Refuse the key from now on, every secret of it at once. Idempotent."""
        with self._store.transaction() as doc:
            entry = self._entry(self._checked(doc), tenant, key_id)
            if entry["revoked_at"] is None:
                entry["revoked_at"] = self._clock().isoformat()
            entry["secrets"] = []
            return _info(key_id, entry)

    def list(self, tenant: str) -> list[ApiKeyInfo]:
        check_tenant_id(tenant)
        doc = self._checked(self._store.read())
        return [_info(k, e) for k, e in sorted(doc["keys"].items()) if e["tenant"] == tenant]

    def verify(self, presented: str) -> Principal:
        """The principal of a presented API key, or ``AuthenticationError``."""
        match = _KEY.fullmatch(presented) if isinstance(presented, str) else None
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
        info = _info(key_id, entry)
        if info.revoked_at is not None:
            raise AuthenticationError("revoked API key")
        if now >= info.expires_at:
            raise AuthenticationError("expired API key")
        return Principal(f"api-key:{key_id}", role, info.tenant, key_id, info.expires_at,
                         CredentialKind.API_KEY)

    # -- internals --------------------------------------------------------------------

    def _empty(self) -> dict[str, Any]:
        return {"format": _FORMAT, "environment": self._environment, "pepper": None, "keys": {}}

    def _checked(self, doc: dict[str, Any]) -> dict[str, Any]:
        if doc.get("format") != _FORMAT:
            raise ConfigError("the API key file has an unknown format")
        if doc.get("environment") != self._environment:
            raise EnvironmentMismatch("the API key file belongs to another environment")
        return doc

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


def _b32(n: int) -> str:
    return base64.b32encode(secrets.token_bytes(n)).decode().rstrip("=").lower()


def _role(role: Role | str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise InvalidRequest(f"unknown role {role!r}") from None


def _mac(pepper: KeyMaterial, key_id: str, tenant: str, role: Role, secret: str) -> bytes:
    message = encode_fields(_MAC_LABEL, [key_id.encode(), tenant.encode(),
                                         role.value.encode(), secret.encode()])
    return hmac.new(pepper.secret_bytes(), message, hashlib.sha256).digest()


def _secret_entry(pepper: KeyMaterial, key_id: str, tenant: str, role: Role, secret: str,
                  now: datetime, valid_until: str | None) -> dict[str, Any]:
    return {"mac": _mac(pepper, key_id, tenant, role, secret).hex(),
            "created_at": now.isoformat(), "valid_until": valid_until}


def _until(stored: dict[str, Any]) -> datetime | None:
    return datetime.fromisoformat(stored["valid_until"]) if stored["valid_until"] else None


def _info(key_id: str, entry: dict[str, Any]) -> ApiKeyInfo:
    def when(name: str) -> datetime | None:
        return datetime.fromisoformat(entry[name]) if entry[name] else None

    return ApiKeyInfo(key_id, entry["tenant"], Role(entry["role"]), entry["label"],
                      datetime.fromisoformat(entry["created_at"]),
                      datetime.fromisoformat(entry["expires_at"]),
                      when("rotated_at"), when("revoked_at"))
