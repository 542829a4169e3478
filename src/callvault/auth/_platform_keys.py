"""Platform secrets (JWT signing keys, the API-key pepper) wrapped by the KMS.

Such secrets are not tenant data, so they live under their own *platform* master key per
purpose, ``<env>/platform/<purpose>``. ``platform`` is a reserved tenant id
(``_ids.RESERVED_TENANT_IDS``), so this id can never collide with a tenant's key; it has the
same three-part shape as every key id, which every provider can name (AWS aliases, Transit
key names), and the ``<env>/`` prefix keeps the environment scoping every provider
enforces. The secret is stored only in wrapped form; the associated data binds the purpose
and the caller's fields (the ``kid``), so a wrapped blob copied to another entry or purpose
does not unwrap.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

from callvault.errors import CallvaultError, ConfigError, KeyNotFound
from callvault.format._encoding import encode_fields
from callvault.keys import KeyMaterial
from callvault.keys.providers import KmsProvider, WrappedKey

__all__ = ["PlatformKey", "wrapped_from_json", "wrapped_to_json"]

_AD_LABEL = b"callvault/platform-secret/v1"


class PlatformKey:
    """The master key of one platform purpose, created in the KMS on first use."""

    def __init__(self, provider: KmsProvider, purpose: str) -> None:
        self._provider = provider
        self._purpose = purpose
        self.key_id = f"{provider.environment.value}/platform/{purpose}"
        self._ready = False

    def generate(self, fields: Sequence[bytes], label: str) -> tuple[KeyMaterial, WrappedKey]:
        """A fresh 256-bit secret from the KMS and its wrapped form."""
        self._ensure()
        secret, wrapped = self._provider.generate_data_key(self.key_id, self._ad(fields))
        return KeyMaterial(secret.secret_bytes(), label), wrapped

    def wrap(self, secret: KeyMaterial, fields: Sequence[bytes]) -> WrappedKey:
        """Wrap a secret made elsewhere (an Ed25519 seed) under this purpose's key."""
        self._ensure()
        return self._provider.wrap(self.key_id, secret, self._ad(fields))

    def unwrap(self, wrapped: WrappedKey, fields: Sequence[bytes], label: str) -> KeyMaterial:
        """Unwrap; provider errors (``OpenError``, ``KeyUnavailable``, …) propagate."""
        secret = self._provider.unwrap(self.key_id, wrapped, self._ad(fields))
        return KeyMaterial(secret.secret_bytes(), label)

    def _ad(self, fields: Sequence[bytes]) -> bytes:
        return encode_fields(_AD_LABEL, [self._purpose.encode(), *fields])

    def _ensure(self) -> None:
        if self._ready:
            return
        try:
            self._provider.describe_key(self.key_id)
        except KeyNotFound:
            try:
                self._provider.create_key(
                    self.key_id, {"platform": self._purpose, "class": "platform"}
                )
            except CallvaultError:
                # Another process may have created it between describe and create; if it
                # really is missing, describe_key below raises.
                self._provider.describe_key(self.key_id)
        self._ready = True


def wrapped_to_json(wrapped: WrappedKey) -> dict[str, Any]:
    return {"version": wrapped.version, "blob": base64.b64encode(wrapped.blob).decode()}


def wrapped_from_json(entry: Any) -> WrappedKey:
    try:
        return WrappedKey(int(entry["version"]), base64.b64decode(entry["blob"], validate=True))
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"malformed wrapped key entry: {exc}") from None
