"""Key states of the AWS KMS provider: disable, retire versions, schedule and cancel deletion.

A callvault key is several KMS keys (one per version), so every state change is applied to
each version's KMS key, the primary last: the key's state is read from the primary, so it
changes only once every version has followed, and re-running an interrupted call finishes
it (every step is idempotent). Retiring versions below the minimum decryption version moves
their alias from ``…/v<N>`` to ``…/retired/v<N>`` (callvault stops resolving them at once)
and disables their KMS key (AWS itself refuses them to every caller); the minimum is
recorded in a tag on version 1's key. AWS cannot delete a key sooner than 7 days after it
was scheduled, nor on request, so ``destroy`` explains that instead of pretending.
"""

from __future__ import annotations

from callvault.errors import KeyUnavailable
from callvault.keys.providers._aws_errors import error_code, kms_errors, raise_admin
from callvault.keys.providers._aws_layout import TAG_MIN, retired_alias, version_alias
from callvault.keys.providers._aws_store import AwsKeyStore, Snapshot, VersionKey
from callvault.keys.providers._base import KeyDescription, KeyState, unusable_error

__all__ = [
    "cancel_deletion",
    "destroy",
    "disable",
    "enable",
    "require_usable",
    "schedule_deletion",
    "set_min_decrypt_version",
]

MIN_PENDING_DAYS, MAX_PENDING_DAYS = 7, 30  # what ScheduleKeyDeletion accepts


def require_usable(description: KeyDescription) -> None:
    if (error := unusable_error(description.state, description.key_id)) is not None:
        raise error


def _settled(store: AwsKeyStore, key_id: str) -> tuple[Snapshot, list[VersionKey]]:
    """The key and its version keys, refusing keys that are pending deletion or destroyed."""
    snapshot = store.snapshot(key_id)
    if snapshot.description.state not in (KeyState.ENABLED, KeyState.DISABLED):
        require_usable(snapshot.description)
    return snapshot, store.version_keys(key_id, snapshot.description.primary_version)


def disable(store: AwsKeyStore, key_id: str) -> KeyDescription:
    _, versions = _settled(store, key_id)
    for key in versions:
        store.call("disable_key", key_id, KeyId=key.kms_key)
    return store.snapshot(key_id).description


def enable(store: AwsKeyStore, key_id: str) -> KeyDescription:
    snapshot, versions = _settled(store, key_id)
    _enable_live(store, key_id, snapshot, versions)
    return store.snapshot(key_id).description


def _enable_live(
    store: AwsKeyStore, key_id: str, snapshot: Snapshot, versions: list[VersionKey]
) -> None:
    """Enable the versions at or above the minimum; retired ones stay disabled."""
    minimum = snapshot.description.min_decrypt_version
    for key in versions:
        if key.version >= minimum:
            store.call("enable_key", key_id, KeyId=key.kms_key)


def set_min_decrypt_version(store: AwsKeyStore, key_id: str, version: int) -> KeyDescription:
    snapshot, versions = _settled(store, key_id)
    require_usable(snapshot.description)
    primary = snapshot.description.primary_version
    if not 1 <= version <= primary:
        raise ValueError(f"minimum decryption version must be 1..{primary} (the primary)")
    for key in versions:
        live, retired = version_alias(key_id, key.version), retired_alias(key_id, key.version)
        if key.version < version:
            store.claim_alias(retired, key.kms_key, key_id)
            store.drop_alias(live, key_id)
            store.call("disable_key", key_id, KeyId=key.kms_key)
        else:
            store.claim_alias(live, key.kms_key, key_id)
            store.drop_alias(retired, key_id)
            store.call("enable_key", key_id, KeyId=key.kms_key)
    store.call(
        "tag_resource",
        key_id,
        KeyId=snapshot.anchor_arn,
        Tags=[{"TagKey": TAG_MIN, "TagValue": str(version)}],
    )
    return store.snapshot(key_id).description


def schedule_deletion(store: AwsKeyStore, key_id: str, pending_days: int) -> KeyDescription:
    """Schedule every version's KMS key for deletion in ``pending_days`` (7 to 30: AWS's
    window; a shorter one is refused rather than silently lengthened)."""
    if not MIN_PENDING_DAYS <= pending_days <= MAX_PENDING_DAYS:
        raise ValueError(
            f"AWS KMS deletes a key {MIN_PENDING_DAYS} to {MAX_PENDING_DAYS} days after it "
            f"is scheduled; pending_days={pending_days} is outside that window"
        )
    _, versions = _settled(store, key_id)
    for key in versions:
        try:
            store.client.schedule_key_deletion(KeyId=key.kms_key, PendingWindowInDays=pending_days)
        except kms_errors() as exc:
            if not _already(store, exc, key, "PendingDeletion"):
                raise_admin(exc, "ScheduleKeyDeletion", key_id)
    return store.snapshot(key_id).description


def cancel_deletion(store: AwsKeyStore, key_id: str) -> KeyDescription:
    snapshot = store.snapshot(key_id)
    if snapshot.description.state is KeyState.DESTROYED:
        require_usable(snapshot.description)
    if snapshot.description.state is not KeyState.PENDING_DELETION:
        raise KeyUnavailable(f"key {key_id} is not pending deletion")
    versions = store.version_keys(key_id, snapshot.description.primary_version)
    for key in versions:
        try:
            store.client.cancel_key_deletion(KeyId=key.kms_key)
        except kms_errors() as exc:
            if not _already(store, exc, key, "Enabled", "Disabled"):
                raise_admin(exc, "CancelKeyDeletion", key_id)
    _enable_live(store, key_id, snapshot, versions)  # AWS leaves cancelled keys disabled
    return store.snapshot(key_id).description


def destroy(store: AwsKeyStore, key_id: str) -> KeyDescription:
    """AWS deletes a scheduled key on its deletion date, never on request: report the key
    as destroyed once that date has passed, and refuse (``KeyUnavailable``) before."""
    description = store.snapshot(key_id).description
    if description.state is KeyState.DESTROYED:
        return description
    if description.state is not KeyState.PENDING_DELETION:
        raise KeyUnavailable(f"key {key_id} must be scheduled for deletion first")
    raise KeyUnavailable(
        f"AWS KMS cannot destroy {key_id} on request: it deletes every version's KMS key on "
        f"{description.deletion_date:%Y-%m-%d %H:%M} UTC. Until then the key refuses every "
        "use (pending deletion); cancel_deletion can still restore it."
    )


def _already(store: AwsKeyStore, exc: Exception, key: VersionKey, *states: str) -> bool:
    """Whether a refused state change failed only because an earlier, interrupted run
    had made it already (``KMSInvalidStateException`` and the key is in ``states``)."""
    if error_code(exc) != "KMSInvalidStateException":
        return False
    metadata = store.call("describe_key", key.kms_key, KeyId=key.kms_key)["KeyMetadata"]
    return metadata.get("KeyState") in states
