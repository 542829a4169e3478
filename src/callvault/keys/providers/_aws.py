"""The AWS KMS provider, ``aws://``: master keys that never leave AWS KMS.

One KMS key per callvault key version, joined by aliases and tags (``_aws_layout``).
Data keys come from ``GenerateDataKey`` (AES_256) or are wrapped with ``Encrypt`` under the
primary alias; ``Decrypt`` and ``ReEncrypt`` pin the claimed version's KMS key (through its
alias), so a blob of another key or version does not open, and the KMS key that answered is
checked against its tags. The caller's associated data is bound by the encryption context, which AWS
authenticates. AWS itself enforces key state (disabled, pending deletion) on every
cryptographic call; callvault adds nothing there, so what moto does not enforce is not
enforced on moto either (see docs/keys.md). Lifecycle calls live in ``_aws_lifecycle``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NoReturn

from callvault._ids import Environment
from callvault.errors import (
    ConfigError,
    InvalidRequest,
    KeyDestroyed,
    KeyExists,
    KeyNotFound,
    KeyUnavailable,
    OpenError,
)
from callvault.keys._material import KeyMaterial
from callvault.keys.providers import _aws_lifecycle as lifecycle
from callvault.keys.providers._aws_errors import error_code, kms_errors, raise_crypto
from callvault.keys.providers._aws_layout import (
    check_labels,
    encryption_context,
    key_id_of_alias,
    primary_alias,
    retired_alias,
    valid_key_id,
    version_alias,
)
from callvault.keys.providers._aws_settings import AwsKmsSettings, build_client, parse_aws_uri
from callvault.keys.providers._aws_store import AwsKeyStore
from callvault.keys.providers._base import KeyDescription, WrappedKey
from callvault.keys.providers._scoping import check_key_environment
from callvault.transport.clients import ClientTlsEvidence, botocore_tls_guard

if TYPE_CHECKING:
    from callvault.keys.providers._registry import ProviderSettings

__all__ = ["AwsKms", "open_aws_kms"]

_MAX_BLOB = 6144  # AWS's CiphertextBlob limit
_REFUSED_BY_STATE = frozenset({"KMSInvalidStateException", "DisabledException"})
_DELETION_STATES = frozenset({"PendingDeletion", "PendingReplicaDeletion"})


def _now() -> datetime:
    return datetime.now(UTC)


class AwsKms:
    """Master keys in AWS KMS (or an endpoint speaking its API), for one environment."""

    scheme = "aws"

    def __init__(
        self,
        settings: AwsKmsSettings,
        environment: Environment,
        *,
        session: Any | None = None,
        clock: Any = _now,
    ) -> None:
        """``session``: a ``boto3.session.Session`` to take credentials from; None builds a
        default-chain session (``settings.profile``). Credentials are never settings."""
        self.environment = Environment(environment)
        self.settings = settings
        client = build_client(settings, session)
        if client.meta.endpoint_url.startswith("http://") and not (
            settings.allow_plaintext_endpoint_for_tests
        ):
            raise ConfigError("the AWS KMS endpoint must be https://")
        self._store = AwsKeyStore(client, self.environment, clock)

    def __repr__(self) -> str:
        return f"AwsKms(region={self._store.client.meta.region_name!r}, {self.environment.value})"

    def tls_evidence(self) -> tuple[ClientTlsEvidence, ...]:
        """What the KMS client's latest new connections negotiated, oldest first (empty
        for a plaintext test endpoint)."""
        guard = botocore_tls_guard(self._store.client)
        return guard.evidence() if guard is not None else ()

    # -- administration ---------------------------------------------------------------

    def create_key(self, key_id: str, labels: Mapping[str, str]) -> KeyDescription:
        self._named(key_id)
        tags = check_labels(labels)
        store = self._store
        if store.meta(primary_alias(key_id), key_id) is not None:
            raise KeyExists(f"key {key_id} already exists")
        kms_key = store.create_version_key(key_id, 1, tags, anchor=None)
        if not store.claim_alias(version_alias(key_id, 1), kms_key, key_id):
            store.abandon(kms_key, key_id)  # another creator got there first
            raise KeyExists(f"key {key_id} already exists (or is being created)")
        if not store.claim_alias(primary_alias(key_id), kms_key, key_id):
            current = store.meta(primary_alias(key_id), key_id)
            if current is None or current["KeyId"] != kms_key:
                raise KeyExists(f"key {key_id} already exists")
        return self.describe_key(key_id)

    def describe_key(self, key_id: str) -> KeyDescription:
        self._named(key_id)
        return self._store.snapshot(key_id).description

    def list_keys(self) -> list[KeyDescription]:
        key_ids: set[str] = set()
        paginator = self._store.client.get_paginator("list_aliases")
        try:
            for page in paginator.paginate():
                for alias in page.get("Aliases", []):
                    key_id = key_id_of_alias(alias["AliasName"], self.environment)
                    if key_id is not None:
                        key_ids.add(key_id)
        except kms_errors() as exc:
            raise KeyUnavailable(f"AWS KMS ListAliases failed ({error_code(exc) or exc})") from None
        described = []
        for key_id in sorted(key_ids):
            try:
                described.append(self._store.snapshot(key_id).description)
            except KeyNotFound:  # removed between the listing and now
                continue
        return described

    def rotate_key(self, key_id: str) -> KeyDescription:
        """A new KMS key becomes version N+1 and the primary alias moves to it. A rotation
        that was interrupted (or runs concurrently) is completed instead of duplicated."""
        self._named(key_id)
        store = self._store
        snapshot = store.snapshot(key_id)
        lifecycle.require_usable(snapshot.description)
        version = snapshot.description.primary_version + 1
        labels = dict(snapshot.description.labels)
        kms_key = store.create_version_key(key_id, version, labels, anchor=snapshot.anchor_arn)
        if not store.claim_alias(version_alias(key_id, version), kms_key, key_id):
            store.abandon(kms_key, key_id)
            winner = store.meta(version_alias(key_id, version), key_id)
            if winner is None:
                raise KeyUnavailable(f"a concurrent rotation of {key_id} is in progress")
            if store.version_of(winner["Arn"], key_id) != version:
                raise KeyUnavailable(f"alias {version_alias(key_id, version)} is misplaced")
            kms_key = winner["KeyId"]
        current = store.meta(primary_alias(key_id), key_id)
        if current is None or store.version_of(current["Arn"], key_id) < version:
            store.call("update_alias", key_id, AliasName=primary_alias(key_id), TargetKeyId=kms_key)
        return self.describe_key(key_id)

    def disable_key(self, key_id: str) -> KeyDescription:
        self._named(key_id)
        return lifecycle.disable(self._store, key_id)

    def enable_key(self, key_id: str) -> KeyDescription:
        self._named(key_id)
        return lifecycle.enable(self._store, key_id)

    def set_min_decrypt_version(self, key_id: str, version: int) -> KeyDescription:
        self._named(key_id)
        return lifecycle.set_min_decrypt_version(self._store, key_id, version)

    def schedule_deletion(self, key_id: str, pending_days: int) -> KeyDescription:
        self._named(key_id)
        return lifecycle.schedule_deletion(self._store, key_id, pending_days)

    def cancel_deletion(self, key_id: str) -> KeyDescription:
        self._named(key_id)
        return lifecycle.cancel_deletion(self._store, key_id)

    def destroy(self, key_id: str) -> KeyDescription:
        self._named(key_id)
        return lifecycle.destroy(self._store, key_id)

    # -- cryptographic operations -----------------------------------------------------

    def generate_data_key(
        self, key_id: str, associated_data: bytes
    ) -> tuple[KeyMaterial, WrappedKey]:
        self._named(key_id)
        response = self._store.call(
            "generate_data_key",
            key_id,
            KeyId=primary_alias(key_id),
            KeySpec="AES_256",
            EncryptionContext=encryption_context(key_id, associated_data),
        )
        version = self._store.version_of(response["KeyId"], key_id)
        key = KeyMaterial(response["Plaintext"], f"data key under {key_id}")
        return key, WrappedKey(version, response["CiphertextBlob"])

    def wrap(self, key_id: str, key: KeyMaterial, associated_data: bytes) -> WrappedKey:
        self._named(key_id)
        response = self._store.call(
            "encrypt",
            key_id,
            KeyId=primary_alias(key_id),
            Plaintext=key.secret_bytes(),
            EncryptionContext=encryption_context(key_id, associated_data),
        )
        version = self._store.version_of(response["KeyId"], key_id)
        return WrappedKey(version, response["CiphertextBlob"])

    def unwrap(self, key_id: str, wrapped: WrappedKey, associated_data: bytes) -> KeyMaterial:
        self._from_header(key_id, wrapped)
        try:
            response = self._store.client.decrypt(
                KeyId=version_alias(key_id, wrapped.version),
                CiphertextBlob=wrapped.blob,
                EncryptionContext=encryption_context(key_id, associated_data),
                EncryptionAlgorithm="SYMMETRIC_DEFAULT",
            )
        except kms_errors() as exc:
            self._refused(exc, "Decrypt", key_id, wrapped.version)
        if self._store.version_of(response["KeyId"], key_id) != wrapped.version:
            raise KeyUnavailable(f"alias {version_alias(key_id, wrapped.version)} is misplaced")
        if len(response["Plaintext"]) != 32:
            raise OpenError
        return KeyMaterial(response["Plaintext"], f"key unwrapped by {key_id}#v{wrapped.version}")

    def rewrap(self, key_id: str, wrapped: WrappedKey, associated_data: bytes) -> WrappedKey:
        """Re-wrap under the primary version inside KMS (``ReEncrypt``): the data key never
        reaches this process. Same checks and errors as ``unwrap``. The claimed version's
        KMS key is resolved first and checked against the key that decrypted, because not
        every KMS implementation honours ``SourceKeyId`` (moto ignores it)."""
        self._from_header(key_id, wrapped)
        source = self._store.meta(version_alias(key_id, wrapped.version), key_id)
        if source is None:
            self._no_version(key_id, wrapped.version)
        context = encryption_context(key_id, associated_data)
        try:
            response = self._store.client.re_encrypt(
                CiphertextBlob=wrapped.blob,
                SourceKeyId=source["Arn"],
                SourceEncryptionContext=context,
                SourceEncryptionAlgorithm="SYMMETRIC_DEFAULT",
                DestinationKeyId=primary_alias(key_id),
                DestinationEncryptionContext=context,
                DestinationEncryptionAlgorithm="SYMMETRIC_DEFAULT",
            )
        except kms_errors() as exc:
            self._refused(exc, "ReEncrypt", key_id, wrapped.version)
        if response["SourceKeyId"] != source["Arn"]:
            raise OpenError
        if self._store.version_of(source["Arn"], key_id) != wrapped.version:
            raise KeyUnavailable(f"alias {version_alias(key_id, wrapped.version)} is misplaced")
        version = self._store.version_of(response["KeyId"], key_id)
        return WrappedKey(version, response["CiphertextBlob"])

    # -- internals --------------------------------------------------------------------

    def _named(self, key_id: str) -> None:
        """A key id from configuration or an operator."""
        check_key_environment(key_id, self.environment)
        if not valid_key_id(key_id):
            raise InvalidRequest(f"key id {key_id!r} cannot name an AWS KMS alias")

    def _from_header(self, key_id: str, wrapped: WrappedKey) -> None:
        """A key id and wrap read from a ciphertext header: anything malformed is OpenError."""
        check_key_environment(key_id, self.environment)
        if not valid_key_id(key_id) or wrapped.version < 1:
            raise OpenError
        if not 1 <= len(wrapped.blob) <= _MAX_BLOB:
            raise OpenError

    def _refused(self, exc: Exception, operation: str, key_id: str, version: int) -> NoReturn:
        """A failed Decrypt / ReEncrypt: a missing version alias is looked into, the rest
        is mapped (``raise_crypto``)."""
        code = error_code(exc)
        if code == "NotFoundException":
            self._no_version(key_id, version)
        if code in _REFUSED_BY_STATE:
            self._pending_deletion(key_id, version)
        raise_crypto(exc, operation, key_id)

    def _pending_deletion(self, key_id: str, version: int) -> None:
        """A version key scheduled for deletion is erased as far as callvault is concerned
        (an erasure schedules it; AWS cannot delete at once): ``KeyDestroyed``, the explicit
        outcome, rather than "unavailable, retry later". A merely disabled key falls through
        to ``KeyUnavailable``: it may be enabled again."""
        meta = self._store.meta(version_alias(key_id, version), key_id)
        if meta is not None and meta.get("KeyState") in _DELETION_STATES:
            raise KeyDestroyed(
                f"key {key_id} version {version} is scheduled for deletion "
                f"(on {meta.get('DeletionDate', 'a date AWS set')}): the data it protects is erased"
            )

    def _no_version(self, key_id: str, version: int) -> NoReturn:
        """No live alias for that version: retired (``KeyUnavailable``, it may come back)
        or never there (``OpenError``: the header named it)."""
        if self._store.meta(retired_alias(key_id, version), key_id) is not None:
            raise KeyUnavailable(
                f"key {key_id} version {version} is retired (below the minimum decryption version)"
            )
        raise OpenError


def open_aws_kms(uri: str, settings: ProviderSettings) -> AwsKms:
    """The registry's factory for ``aws://?…`` (see ``_aws_settings`` for the parameters)."""
    return AwsKms(parse_aws_uri(uri), settings.environment)
