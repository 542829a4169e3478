"""The AWS KMS plumbing under the provider: aliases, tags and version keys (see ``_aws_layout``).

Everything here is one or two KMS calls with the failure mapped; the provider composes them.
The map from a KMS key ARN to the callvault key id and version it carries is cached for the
process's life: those tags are written once, by ``CreateKey``, and never change. Everything
mutable (which key an alias points at, key states, the minimum decryption version) is read
from KMS on every call, so several processes sharing the keys always agree.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from callvault._ids import Environment
from callvault.errors import KeyNotFound, KeyUnavailable
from callvault.keys.providers._aws_errors import error_code, kms_errors, raise_admin
from callvault.keys.providers._aws_layout import (
    VersionTags,
    primary_alias,
    retired_alias,
    version_alias,
    version_tags,
)
from callvault.keys.providers._base import KeyDescription, KeyState

__all__ = ["AwsKeyStore", "Snapshot", "VersionKey"]

_OWNER_CACHE_LIMIT = 65536
_STATES = {
    "Enabled": KeyState.ENABLED,
    "Disabled": KeyState.DISABLED,
    "PendingDeletion": KeyState.PENDING_DELETION,
}


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A key as KMS shows it now, with the two KMS keys its description came from."""

    description: KeyDescription
    primary_arn: str
    anchor_arn: str


@dataclass(frozen=True, slots=True)
class VersionKey:
    """A version's KMS key, by its key id (the UUID: some KMS look-alikes accept no ARN in
    state-changing calls), and whether it is retired."""

    version: int
    kms_key: str
    retired: bool


class AwsKeyStore:
    """One KMS client bound to one environment."""

    def __init__(self, client: Any, environment: Environment, clock: Callable[[], datetime]):
        self.client = client
        self.environment = environment
        self._clock = clock
        self._owners: dict[str, tuple[str, int]] = {}
        self._lock = threading.Lock()

    def call(self, operation: str, key_id: str, **params: Any) -> dict[str, Any]:
        """One KMS call; failures mapped as for a key named by configuration."""
        try:
            response: dict[str, Any] = getattr(self.client, operation)(**params)
        except kms_errors() as exc:
            raise_admin(exc, operation, key_id)
        return response

    def meta(self, alias: str, key_id: str) -> dict[str, Any] | None:
        """``DescribeKey`` of what ``alias`` points at, None if the alias does not exist."""
        try:
            metadata: dict[str, Any] = self.client.describe_key(KeyId=alias)["KeyMetadata"]
        except kms_errors() as exc:
            if error_code(exc) == "NotFoundException":
                return None
            raise_admin(exc, "DescribeKey", key_id)
        return metadata

    def tags(self, arn: str, key_id: str) -> VersionTags:
        """The version tags of a KMS key reached through ``key_id``'s aliases, checked:
        a key not tagged as one of ``key_id``'s versions in this environment is refused."""
        response = self.call("list_resource_tags", key_id, KeyId=arn, Limit=50)
        tags = VersionTags.parse(response.get("Tags", []))
        if tags is None or tags.key_id != key_id or tags.environment != self.environment.value:
            raise KeyUnavailable(
                f"an alias of {key_id} points at a KMS key not tagged as one of its versions "
                "(callvault:key-id / callvault:environment); refusing to use it"
            )
        self._remember(arn, tags)
        return tags

    def owner(self, arn: str, key_id: str) -> tuple[str, int] | None:
        """(key id, version) a KMS key is tagged with in this environment, None if it is no
        callvault version key of this environment; cached, the tags never change."""
        with self._lock:
            known = self._owners.get(arn)
        if known is not None:
            return known
        response = self.call("list_resource_tags", key_id, KeyId=arn, Limit=50)
        tags = VersionTags.parse(response.get("Tags", []))
        if tags is None or tags.environment != self.environment.value:
            return None
        return self._remember(arn, tags)

    def version_of(self, arn: str, key_id: str) -> int:
        """The version of ``key_id`` that the KMS key ``arn`` (from a response) holds."""
        owner = self.owner(arn, key_id)
        if owner is None or owner[0] != key_id:
            raise KeyUnavailable(
                f"an alias of {key_id} points at a KMS key that is not one of its versions; "
                "refusing to use it"
            )
        return owner[1]

    def _remember(self, arn: str, tags: VersionTags) -> tuple[str, int]:
        with self._lock:
            if len(self._owners) >= _OWNER_CACHE_LIMIT:
                self._owners.clear()
            self._owners[arn] = owner = (tags.key_id, tags.version)
        return owner

    def snapshot(self, key_id: str) -> Snapshot:
        primary = self.meta(primary_alias(key_id), key_id)
        if primary is None:
            raise KeyNotFound(f"no AWS KMS key {key_id}")
        primary_tags = self.tags(primary["Arn"], key_id)
        anchor, anchor_tags = primary, primary_tags
        if primary_tags.anchor is not None:
            anchor = self.call("describe_key", key_id, KeyId=primary_tags.anchor)["KeyMetadata"]
            anchor_tags = self.tags(anchor["Arn"], key_id)
        deletion = _utc(primary.get("DeletionDate"))
        state = _STATES.get(primary["KeyState"], KeyState.DISABLED)
        if state is KeyState.PENDING_DELETION and deletion and deletion <= self._clock():
            state = KeyState.DESTROYED
        description = KeyDescription(
            provider="aws",
            key_id=key_id,
            environment=self.environment,
            state=state,
            primary_version=primary_tags.version,
            min_decrypt_version=anchor_tags.min_decrypt or 1,
            versions=tuple(range(1, primary_tags.version + 1)),
            created_at=_utc(anchor["CreationDate"]) or self._clock(),
            rotated_at=_utc(primary["CreationDate"]) or self._clock(),
            deletion_date=deletion,
            labels=primary_tags.labels,
        )
        return Snapshot(description, primary["Arn"], anchor["Arn"])

    def version_keys(self, key_id: str, primary: int) -> list[VersionKey]:
        """Every version's KMS key, found through its live or its retired alias."""
        found = []
        for version in range(1, primary + 1):
            retired = False
            meta = self.meta(version_alias(key_id, version), key_id)
            if meta is None:
                retired = True
                meta = self.meta(retired_alias(key_id, version), key_id)
            if meta is not None:
                found.append(VersionKey(version, meta["KeyId"], retired))
        return found

    def create_version_key(
        self, key_id: str, version: int, labels: dict[str, str], anchor: str | None
    ) -> str:
        """A new symmetric KMS key, tagged in the same call, with AWS's own rotation of
        its backing material switched on; returns its KMS key id."""
        metadata = self.call(
            "create_key",
            key_id,
            Description=f"callvault master key {key_id} version {version}",
            KeyUsage="ENCRYPT_DECRYPT",
            KeySpec="SYMMETRIC_DEFAULT",
            Tags=version_tags(key_id, self.environment, version, labels, anchor),
        )["KeyMetadata"]
        self.call("enable_key_rotation", key_id, KeyId=metadata["KeyId"])
        return str(metadata["KeyId"])

    def claim_alias(self, alias: str, kms_key: str, key_id: str) -> bool:
        """Create ``alias`` → ``kms_key``; False if the alias exists already (someone else
        won the race, or an interrupted call made it)."""
        try:
            self.client.create_alias(AliasName=alias, TargetKeyId=kms_key)
        except kms_errors() as exc:
            if error_code(exc) == "AlreadyExistsException":
                return False
            raise_admin(exc, "CreateAlias", key_id)
        return True

    def drop_alias(self, alias: str, key_id: str) -> None:
        try:
            self.client.delete_alias(AliasName=alias)
        except kms_errors() as exc:
            if error_code(exc) != "NotFoundException":
                raise_admin(exc, "DeleteAlias", key_id)

    def abandon(self, kms_key: str, key_id: str) -> None:
        """Schedule a KMS key that lost a creation race for deletion (AWS's 7-day minimum).
        It never got an alias, so nothing was ever wrapped under it."""
        self.call("schedule_key_deletion", key_id, KeyId=kms_key, PendingWindowInDays=7)


def _utc(value: datetime | None) -> datetime | None:
    return value.astimezone(UTC) if value is not None else None
