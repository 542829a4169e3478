"""Vault / OpenBao Transit as a KMS provider: ``vault+https://HOST:PORT/?mount=transit``.

Master keys are Transit keys (``aes256-gcm96``, ``derived=true``, never exportable); the
key material never leaves the server. Wraps are Transit ciphertexts bound to the caller's
associated data through the derivation context (``_vault_wire``). Labels and the deletion
lifecycle live in a KV v2 record beside each key (``_vault_meta``).

Hot paths cost one request: ``generate_data_key`` is ``datakey/plaintext``, ``wrap`` is
``encrypt``, ``unwrap`` is ``decrypt`` and ``rewrap`` is ``rewrap``. The server enforces
what matters: a disabled or pending-deletion key is *soft-deleted* in OpenBao (every use
refused), retired versions are refused through ``min_decryption_version``, a destroyed key
is deleted. Only when the server refuses does the provider read the KV record and the key
to say why (``KeyDestroyed``, ``KeyUnavailable``) or, for anything else, ``OpenError``.

Lifecycle changes order their two writes so that a crash in between leaves the key *more*
restricted, never less: restrict on Transit first and record second; when lifting a
restriction, record first and lift second.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from callvault._ids import Environment
from callvault.errors import (
    ConfigError,
    InvalidRequest,
    KeyDestroyed,
    KeyNotFound,
    KeyUnavailable,
    OpenError,
)
from callvault.keys._material import KeyMaterial
from callvault.keys.providers._base import WrappedKey
from callvault.keys.providers._scoping import check_key_environment
from callvault.keys.providers._vault_admin import TransitAdmin
from callvault.keys.providers._vault_client import VaultClient, VaultDenied, VaultRefused
from callvault.keys.providers._vault_meta import DESTROYED, PENDING_DELETION, MetaStore
from callvault.keys.providers._vault_settings import VaultSettings, parse_vault_uri
from callvault.keys.providers._vault_token import TokenSource
from callvault.keys.providers._vault_wire import (
    context,
    from_b64,
    from_transit,
    key_name,
    to_transit,
)

if TYPE_CHECKING:
    from callvault.keys.providers._registry import ProviderSettings

__all__ = ["VaultTransitKms", "open_vault"]


def _now() -> datetime:
    return datetime.now(UTC)


class VaultTransitKms(TransitAdmin):
    """Master keys in a Vault / OpenBao Transit mount, scoped to one environment."""

    scheme = "vault"

    def __init__(
        self,
        settings: VaultSettings,
        environment: Environment,
        environ: Mapping[str, str] = os.environ,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        client = VaultClient(settings, TokenSource(environ))
        super().__init__(
            client,
            MetaStore(client, settings.meta_mount, settings.transit_mount),
            Environment(environment),
        )
        self.settings = settings
        self._clock = clock

    @classmethod
    def from_uri(
        cls,
        uri: str,
        home: Path,
        environment: Environment,
        environ: Mapping[str, str] = os.environ,
    ) -> VaultTransitKms:
        return cls(parse_vault_uri(uri, home), environment, environ)

    def __repr__(self) -> str:
        return (
            f"VaultTransitKms({self.settings.address}, mount={self.settings.transit_mount!r}, "
            f"environment={self.environment.value!r})"
        )

    # -- cryptographic operations -----------------------------------------------------

    def generate_data_key(
        self, key_id: str, associated_data: bytes
    ) -> tuple[KeyMaterial, WrappedKey]:
        name = self._name(key_id)
        ctx = context(key_id, associated_data)
        try:
            answer = self._client.call(
                "generating a data key",
                lambda c: c.secrets.transit.generate_data_key(
                    name=name, key_type="plaintext", context=ctx, bits=256, mount_point=self._mount
                ),
            )
        except VaultRefused as refusal:
            raise self._explain(key_id, name, None, refusal) from None
        key = KeyMaterial(from_b64(answer["data"]["plaintext"], 32), f"data key under {key_id}")
        return key, _wrapped(answer)

    def wrap(self, key_id: str, key: KeyMaterial, associated_data: bytes) -> WrappedKey:
        name = self._name(key_id)
        self._require_no_upsert()
        plaintext = base64.b64encode(key.secret_bytes()).decode()
        ctx = context(key_id, associated_data)
        try:
            answer = self._client.call(
                "wrapping a key",
                lambda c: c.secrets.transit.encrypt_data(
                    name=name, plaintext=plaintext, context=ctx, mount_point=self._mount
                ),
            )
        except VaultRefused as refusal:
            raise self._explain(key_id, name, None, refusal) from None
        except VaultDenied:
            # The recommended policy has no `create` on encrypt, so Vault answers a wrap
            # under a missing key with 403: say which, if the token can still read.
            if self._meta.read(key_id) is None:
                raise KeyNotFound(f"no key {key_id}") from None
            raise
        return _wrapped(answer)

    def unwrap(self, key_id: str, wrapped: WrappedKey, associated_data: bytes) -> KeyMaterial:
        name, ciphertext = self._opening(key_id, wrapped)
        ctx = context(key_id, associated_data)
        try:
            answer = self._client.call(
                "unwrapping a key",
                lambda c: c.secrets.transit.decrypt_data(
                    name=name, ciphertext=ciphertext, context=ctx, mount_point=self._mount
                ),
            )
        except VaultRefused as refusal:
            raise self._explain(key_id, name, wrapped.version, refusal) from None
        try:
            raw = from_b64(answer["data"]["plaintext"], 32)
        except KeyUnavailable:  # authentic, but not a 256-bit key wrapped by callvault
            raise OpenError from None
        return KeyMaterial(raw, f"key unwrapped by {key_id}#v{wrapped.version}")

    def rewrap(self, key_id: str, wrapped: WrappedKey, associated_data: bytes) -> WrappedKey:
        """``wrapped`` moved to the newest version on the server (``transit/rewrap``): the
        key never reaches callvault, and the associated data stays bound (a wrong one is an
        ``OpenError``)."""
        name, ciphertext = self._opening(key_id, wrapped)
        ctx = context(key_id, associated_data)
        try:
            answer = self._client.call(
                "rewrapping a key",
                lambda c: c.secrets.transit.rewrap_data(
                    name=name, ciphertext=ciphertext, context=ctx, mount_point=self._mount
                ),
            )
        except VaultRefused as refusal:
            raise self._explain(key_id, name, wrapped.version, refusal) from None
        return _wrapped(answer)

    # -- internals --------------------------------------------------------------------

    def _opening(self, key_id: str, wrapped: WrappedKey) -> tuple[str, str]:
        """Name and ciphertext of a wrap to open; a malformed one is just a bad ciphertext."""
        check_key_environment(key_id, self.environment)
        try:
            return key_name(key_id), to_transit(wrapped.version, wrapped.blob)
        except InvalidRequest:
            raise OpenError from None

    def _explain(
        self, key_id: str, name: str, version: int | None, refusal: VaultRefused
    ) -> Exception:
        """Why the server refused a wrap (``version`` None) or an unwrap of ``version``."""
        opening = version is not None
        record = self._meta.read(key_id)
        if record is None:
            return OpenError() if opening else KeyNotFound(f"no key {key_id}")
        if record.state == DESTROYED:
            return KeyDestroyed(f"key {key_id} was destroyed")
        if record.state == PENDING_DELETION:
            return KeyUnavailable(f"key {key_id} is scheduled for deletion")
        try:
            info = self._read_key(name)
        except VaultRefused:
            return OpenError() if opening else KeyUnavailable(f"Transit key of {key_id} missing")
        if info.get("soft_deleted"):
            return KeyUnavailable(f"key {key_id} is disabled")
        if version is not None and version < int(info["min_decryption_version"]):
            return KeyUnavailable(
                f"key {key_id} version {version} is retired (minimum decryption version "
                f"{info['min_decryption_version']})"
            )
        return OpenError() if opening else KeyUnavailable(f"Vault refused {key_id}: {refusal}")

    def _require_no_upsert(self) -> None:
        """Transit's ``encrypt`` creates a missing key unless the mount forbids it; a wrap
        under a mistyped key id must fail, not mint a key. Checked once per provider."""
        if self._upsert_checked:
            return
        try:
            answer = self._client.call(
                "reading the Transit mount configuration",
                lambda c: c.adapter.get(f"/v1/{self._mount}/config/keys"),
            )
        except VaultRefused:
            answer = {}
        data = answer.get("data") if isinstance(answer, dict) else None
        if not isinstance(data, dict) or data.get("disable_upsert") is not True:
            raise ConfigError(
                f"the Transit mount {self._mount!r} allows upsert (encrypt would create "
                f"missing keys): run `bao write {self._mount}/config/keys disable_upsert=true`"
            )
        self._upsert_checked = True

    def _now(self) -> datetime:
        return self._clock()


def open_vault(uri: str, settings: ProviderSettings) -> VaultTransitKms:
    """The registry's factory for ``vault+https://`` (token from the process environment)."""
    return VaultTransitKms.from_uri(uri, settings.home, settings.environment)


def _wrapped(answer: Mapping[str, Any]) -> WrappedKey:
    data = answer["data"]
    return WrappedKey(*from_transit(data["ciphertext"], data["key_version"]))
