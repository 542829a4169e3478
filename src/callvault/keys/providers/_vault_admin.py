"""Administration of Transit master keys: create, describe, rotate, retire, disable, delete.

How each call maps onto the server:

==========================  ===============================================================
``create_key``              ``POST transit/keys/<name>`` (aes256-gcm96, derived, not
                            exportable), then the KV record (check-and-set: absent only)
``rotate_key``              ``POST transit/keys/<name>/rotate``
``set_min_decrypt_version`` ``POST transit/keys/<name>/config`` ``min_decryption_version``
``disable_key``             ``DELETE transit/keys/<name>/soft-delete`` (OpenBao)
``enable_key``              ``POST transit/keys/<name>/soft-delete-restore``
``schedule_deletion``       soft-delete, then the KV record says ``pending_deletion`` + date
``cancel_deletion``         the KV record says ``active``, then soft-delete-restore
``destroy``                 KV tombstone, then ``deletion_allowed=true`` and
                            ``DELETE transit/keys/<name>``: every version's material is gone
==========================  ===============================================================

HashiCorp Vault has no Transit soft-delete: there ``disable_key`` and ``schedule_deletion``
raise ``ConfigError`` instead of pretending (a flag only callvault would honour is not a
disabled key).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from callvault._ids import Environment
from callvault.errors import ConfigError, KeyDestroyed, KeyExists, KeyNotFound, KeyUnavailable
from callvault.keys.providers._base import KeyDescription
from callvault.keys.providers._scoping import check_key_environment
from callvault.keys.providers._vault_client import VaultClient, VaultRefused
from callvault.keys.providers._vault_describe import (
    check_key_config,
    created_at,
    describe,
    require_usable,
    snapshot,
)
from callvault.keys.providers._vault_meta import (
    ACTIVE,
    DESTROYED,
    PENDING_DELETION,
    MetaRecord,
    MetaStore,
)
from callvault.keys.providers._vault_wire import key_name

__all__ = ["TransitAdmin"]


class TransitAdmin:
    """The administrative half of ``VaultTransitKms`` (which adds the hot paths)."""

    def __init__(self, client: VaultClient, meta: MetaStore, environment: Environment) -> None:
        self.environment = environment
        self._client = client
        self._meta = meta
        self._mount = client.settings.transit_mount
        self._upsert_checked = False

    def create_key(self, key_id: str, labels: Mapping[str, str]) -> KeyDescription:
        name = self._name(key_id)
        clean = {str(k): str(v) for k, v in labels.items()}
        if self._meta.read(key_id) is not None:
            raise KeyExists(f"key {key_id} already exists")
        answer = self._transit(
            f"creating {key_id}",
            lambda c: c.secrets.transit.create_key(
                name=name,
                key_type="aes256-gcm96",
                derived=True,
                exportable=False,
                allow_plaintext_backup=False,
                mount_point=self._mount,
            ),
        )
        info = self._key_data(answer, name)
        check_key_config(key_id, info)
        data = {"key_id": key_id, "labels": clean, "state": ACTIVE, "created_at": created_at(info)}
        if not self._meta.create(key_id, data):
            raise KeyExists(f"key {key_id} already exists")
        return describe(key_id, self.environment, MetaRecord(data, 1), info)

    def describe_key(self, key_id: str) -> KeyDescription:
        record, info = self._load(key_id)
        return describe(key_id, self.environment, record, info)

    def list_keys(self) -> list[KeyDescription]:
        return [self.describe_key(k) for k in self._meta.list_ids(self.environment.value)]

    def rotate_key(self, key_id: str) -> KeyDescription:
        record, info = self._load(key_id)
        require_usable(key_id, record, info)
        name = key_name(key_id)
        answer = self._transit(
            f"rotating {key_id}",
            lambda c: c.secrets.transit.rotate_key(name=name, mount_point=self._mount),
        )
        return describe(key_id, self.environment, record, self._key_data(answer, name))

    def set_min_decrypt_version(self, key_id: str, version: int) -> KeyDescription:
        record, info = self._load(key_id)
        require_usable(key_id, record, info)
        assert info is not None
        if not 1 <= version <= int(info["latest_version"]):
            raise ValueError(
                f"minimum decryption version must be 1..{info['latest_version']} (the primary)"
            )
        name = key_name(key_id)
        answer = self._transit(
            f"retiring versions of {key_id}",
            lambda c: c.secrets.transit.update_key_configuration(
                name=name, min_decryption_version=version, mount_point=self._mount
            ),
        )
        return describe(key_id, self.environment, record, self._key_data(answer, name))

    def disable_key(self, key_id: str) -> KeyDescription:
        record, _ = self._load(key_id)
        self._require_not_deleting(key_id, record)
        return describe(key_id, self.environment, record, self._soft_delete(key_id))

    def enable_key(self, key_id: str) -> KeyDescription:
        record, _ = self._load(key_id)
        self._require_not_deleting(key_id, record)
        self._restore(key_id)
        return self.describe_key(key_id)

    def schedule_deletion(self, key_id: str, pending_days: int) -> KeyDescription:
        if pending_days < 0:
            raise ValueError("pending_days must be >= 0")
        record, _ = self._load(key_id)
        self._require_not_deleting(key_id, record)
        info = self._soft_delete(key_id)
        date = (self._now() + timedelta(days=pending_days)).isoformat()
        record = self._meta.update(
            key_id, record, {"state": PENDING_DELETION, "deletion_date": date}
        )
        return describe(key_id, self.environment, record, info)

    def cancel_deletion(self, key_id: str) -> KeyDescription:
        record, _ = self._load(key_id)
        if record.state == DESTROYED:
            raise KeyDestroyed(f"key {key_id} was destroyed")
        if record.state != PENDING_DELETION:
            raise KeyUnavailable(f"key {key_id} is not pending deletion")
        self._meta.update(key_id, record, {"state": ACTIVE, "deletion_date": None})
        self._restore(key_id)
        return self.describe_key(key_id)

    def destroy(self, key_id: str) -> KeyDescription:
        """Delete every version's material on the server; a tombstone remains in KV.
        Irreversible. Re-running it on a destroyed key finishes an interrupted deletion."""
        record, info = self._load(key_id)
        if record.state == ACTIVE:
            raise KeyUnavailable(f"key {key_id} must be scheduled for deletion first")
        if record.state == PENDING_DELETION:
            final = snapshot(describe(key_id, self.environment, record, info))
            changes = {"state": DESTROYED, "destroyed_at": self._now().isoformat()}
            record = self._meta.update(key_id, record, {**changes, "final": final})
        name = key_name(key_id)
        try:
            self._transit(
                f"allowing deletion of {key_id}",
                lambda c: c.secrets.transit.update_key_configuration(
                    name=name, deletion_allowed=True, mount_point=self._mount
                ),
            )
            self._transit(
                f"deleting {key_id}",
                lambda c: c.secrets.transit.delete_key(name=name, mount_point=self._mount),
            )
        except KeyNotFound:
            if self._exists(name):  # refused for another reason: never claim it is gone
                raise KeyUnavailable(
                    f"Vault did not delete the Transit key of {key_id}; run destroy again"
                ) from None
            # else: deleted by an earlier, interrupted destroy
        return describe(key_id, self.environment, record, None)

    # -- shared with the hot paths ----------------------------------------------------

    def _name(self, key_id: str) -> str:
        check_key_environment(key_id, self.environment)
        return key_name(key_id)

    def _load(self, key_id: str) -> tuple[MetaRecord, dict[str, Any] | None]:
        """The key's KV record and Transit key (None once destroyed)."""
        name = self._name(key_id)
        record = self._meta.read(key_id)
        if record is None:
            raise KeyNotFound(f"no key {key_id}")
        if record.state == DESTROYED:
            return record, None
        try:
            return record, self._read_key(name)
        except VaultRefused:
            raise KeyUnavailable(
                f"the Transit key of {key_id} ({name}) is missing on the server"
            ) from None

    def _read_key(self, name: str) -> dict[str, Any]:
        answer = self._client.call(
            "reading a key",
            lambda c: c.secrets.transit.read_key(name=name, mount_point=self._mount),
        )
        return dict(answer["data"])

    def _exists(self, name: str) -> bool:
        try:
            self._read_key(name)
        except VaultRefused as exc:
            if exc.status == 404:
                return False
            raise KeyUnavailable(f"cannot check Transit key {name}: {exc}") from None
        return True

    def _key_data(self, answer: Any, name: str) -> dict[str, Any]:
        """The key from a write's answer; older servers answer 204 (no body): read it."""
        if isinstance(answer, dict) and isinstance(answer.get("data"), dict):
            return dict(answer["data"])
        return self._read_key(name)

    def _transit(self, what: str, operation: Any) -> Any:
        """A call whose refusal means the key is missing (admin calls checked the rest)."""
        try:
            return self._client.call(what, operation)
        except VaultRefused as exc:
            raise KeyNotFound(f"Vault refused {what}: {exc}") from None

    def _soft_delete(self, key_id: str) -> dict[str, Any]:
        name = key_name(key_id)
        path = f"/v1/{self._mount}/keys/{name}/soft-delete"
        try:
            answer = self._client.call(f"disabling {key_id}", lambda c: c.adapter.delete(path))
        except VaultRefused as exc:
            raise ConfigError(
                f"this server cannot disable Transit keys ({exc}): callvault needs OpenBao's "
                "soft-delete; HashiCorp Vault has no way to disable a Transit key"
            ) from None
        return self._key_data(answer, name)

    def _restore(self, key_id: str) -> None:
        path = f"/v1/{self._mount}/keys/{key_name(key_id)}/soft-delete-restore"
        self._transit(f"enabling {key_id}", lambda c: c.adapter.post(path))

    @staticmethod
    def _require_not_deleting(key_id: str, record: MetaRecord) -> None:
        if record.state == DESTROYED:
            raise KeyDestroyed(f"key {key_id} was destroyed")
        if record.state == PENDING_DELETION:
            raise KeyUnavailable(f"key {key_id} is scheduled for deletion")

    def _now(self) -> datetime:  # pragma: no cover - replaced by VaultTransitKms
        raise NotImplementedError
