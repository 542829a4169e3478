"""What Transit cannot hold, kept beside it in a KV v2 mount: labels and lifecycle.

Transit keys carry versions, creation times and the minimum decryption version, but no
labels and no notion of "scheduled for deletion on a date" or "destroyed". Those live in
one KV v2 secret per key at ``<meta mount>/data/<transit mount>/<env>/<tenant>/<scope>``
(the Transit mount is part of the path, so two Transit mounts can share one KV mount), so every
callvault process that reaches the server agrees on them. Writes use KV v2 check-and-set:
creation only if absent (two processes creating one key: one wins, the other gets
``KeyExists``), updates only against the version read (a concurrent change is refused
with ``KeyUnavailable`` rather than silently overwritten).

A destroyed key leaves a tombstone here (state ``destroyed``, its last description and the
destruction date), so ``describe_key`` says DESTROYED and unwrapping raises
``KeyDestroyed`` after the Transit key itself is gone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from callvault.errors import KeyUnavailable
from callvault.keys.providers._vault_client import VaultClient, VaultRefused

__all__ = ["ACTIVE", "DESTROYED", "PENDING_DELETION", "MetaRecord", "MetaStore"]

ACTIVE = "active"
PENDING_DELETION = "pending_deletion"
DESTROYED = "destroyed"


@dataclass(frozen=True, slots=True)
class MetaRecord:
    """One key's record and the KV version it was read at (for check-and-set)."""

    data: dict[str, Any]
    version: int

    @property
    def state(self) -> str:
        return str(self.data.get("state", ACTIVE))


class MetaStore:
    """Key records in a KV v2 mount."""

    def __init__(self, client: VaultClient, mount: str, prefix: str) -> None:
        self._client = client
        self._mount = mount
        self._prefix = prefix

    def read(self, key_id: str) -> MetaRecord | None:
        try:
            answer = self._client.call(
                "reading key metadata",
                lambda c: c.secrets.kv.v2.read_secret_version(
                    path=f"{self._prefix}/{key_id}",
                    mount_point=self._mount,
                    raise_on_deleted_version=True,
                ),
            )
        except VaultRefused as exc:
            if exc.status == 404:
                return None
            raise KeyUnavailable(f"cannot read the metadata of {key_id}: {exc}") from None
        try:  # a proxy or a misrouted request may answer 200 with something else
            data = answer["data"]
            return MetaRecord(dict(data["data"]), int(data["metadata"]["version"]))
        except (KeyError, TypeError, ValueError):
            raise KeyUnavailable(f"Vault answered an unreadable record for {key_id}") from None

    def create(self, key_id: str, data: dict[str, Any]) -> bool:
        """Write a new record; False if one exists already."""
        try:
            self._write(key_id, data, cas=0)
        except VaultRefused as exc:
            if exc.status == 400 and any("check-and-set" in e for e in exc.errors):
                return False
            raise KeyUnavailable(f"cannot record key {key_id}: {exc}") from None
        return True

    def update(self, key_id: str, record: MetaRecord, changes: dict[str, Any]) -> MetaRecord:
        data = {**record.data, **changes}
        try:
            version = self._write(key_id, data, cas=record.version)
        except VaultRefused as exc:
            raise KeyUnavailable(
                f"key {key_id} changed concurrently or its record cannot be written ({exc}); retry"
            ) from None
        return MetaRecord(data, version)

    def list_ids(self, environment: str) -> list[str]:
        ids: list[str] = []
        for tenant in self._list(f"{self._prefix}/{environment}"):
            if tenant.endswith("/"):
                ids.extend(
                    f"{environment}/{tenant}{scope}"
                    for scope in self._list(f"{self._prefix}/{environment}/{tenant.rstrip('/')}")
                    if not scope.endswith("/")
                )
        return sorted(ids)

    def _list(self, path: str) -> list[str]:
        try:
            answer = self._client.call(
                "listing keys",
                lambda c: c.secrets.kv.v2.list_secrets(path=path, mount_point=self._mount),
            )
        except VaultRefused as exc:
            if exc.status == 404:
                return []
            raise KeyUnavailable(f"cannot list keys: {exc}") from None
        return [str(k) for k in answer["data"]["keys"]]

    def _write(self, key_id: str, data: dict[str, Any], cas: int) -> int:
        answer = self._client.call(
            "writing key metadata",
            lambda c: c.secrets.kv.v2.create_or_update_secret(
                path=f"{self._prefix}/{key_id}", secret=data, cas=cas, mount_point=self._mount
            ),
        )
        return int(answer["data"]["version"])
