"""The PKCS#11 KMS: master keys are non-extractable AES-256 keys on an HSM token,
``pkcs11:///path/to/module.so?token=<label>``.

Every master key version is its own secret key object, generated inside the token and
never readable outside it; wraps and unwraps are ``CKM_AES_GCM`` operations the token
performs (``_pkcs11_wrap``). Key state lives in two places on the token
(``_pkcs11_objects``): a record (a private data object) says what the state is, and the
key objects' ``CKA_ENCRYPT`` / ``CKA_DECRYPT`` make the token enforce it. Every change
first withdraws what the new state no longer allows, then writes the record, then grants
what it newly allows, so a crash at any point leaves the token refusing more, never less.

The hot path reads no record: the token finds the one version allowed to encrypt (wrap)
or the named version if it may decrypt (unwrap); only when it refuses is the record read
to say why. Environment scoping: key ids start with their environment, checked on every
call, and ``list_keys`` shows only this environment's keys, so environments may share a
token (one token or partition per environment is still the recommended deployment).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pkcs11

from callvault._ids import Environment
from callvault.errors import KeyExists, KeyNotFound, KeyUnavailable
from callvault.keys._material import KeyMaterial
from callvault.keys.providers._base import KeyDescription, KeyState, WrappedKey, unusable_error
from callvault.keys.providers._pkcs11_config import Pin, Pkcs11Location
from callvault.keys.providers._pkcs11_objects import (
    HandleCache,
    KeyRecord,
    discard_unrecorded,
    find_versions,
    generate_version,
    load_record,
    load_records,
    set_usage,
    store_record,
    usage,
)
from callvault.keys.providers._pkcs11_session import TokenLink
from callvault.keys.providers._pkcs11_wrap import unwrap_in_token, wrap_in_token
from callvault.keys.providers._scoping import check_key_environment

__all__ = ["Pkcs11Kms"]

T = TypeVar("T")
Mutation = Callable[[KeyRecord, pkcs11.Session], KeyRecord]
_ENABLED, _DISABLED = KeyState.ENABLED.value, KeyState.DISABLED.value
_PENDING, _DESTROYED = KeyState.PENDING_DELETION.value, KeyState.DESTROYED.value


def _now() -> datetime:
    return datetime.now(UTC)


class Pkcs11Kms:
    """Master keys on one PKCS#11 token; safe to call from several threads."""

    scheme = "pkcs11"

    def __init__(
        self, location: Pkcs11Location, pin: Pin, environment: Environment, clock: Any = _now
    ) -> None:
        self.environment = Environment(environment)
        self.location = location
        self._pin = pin
        self._link = TokenLink.for_location(location)
        self._clock = clock

    def __repr__(self) -> str:
        return (
            f"Pkcs11Kms(module={str(self.location.module)!r}, token={self.location.token!r}, "
            f"environment={self.environment.value!r})"
        )

    # -- administration ---------------------------------------------------------------

    def create_key(self, key_id: str, labels: Mapping[str, str]) -> KeyDescription:
        check_key_environment(key_id, self.environment)

        def create(session: pkcs11.Session) -> KeyRecord:
            if load_record(session, key_id) is not None:
                raise KeyExists(f"key {key_id} already exists")
            if find_versions(session, key_id):
                raise KeyExists(
                    f"key objects for {key_id} are on the token without a callvault record; "
                    "refusing to adopt or overwrite them"
                )
            now = self._clock().isoformat()
            record = KeyRecord(key_id, _ENABLED, 1, 1, (1,), now, now, labels=dict(labels))
            key = generate_version(session, key_id, 1)  # no usage until the record exists
            store_record(session, record)
            set_usage(key, *usage(record, 1))
            return record

        return self._describe(self._run(create))

    def describe_key(self, key_id: str) -> KeyDescription:
        check_key_environment(key_id, self.environment)
        return self._describe(self._run(lambda session: self._record(session, key_id)))

    def list_keys(self) -> list[KeyDescription]:
        records = self._run(load_records)
        prefix = self.environment.value + "/"
        return [self._describe(r) for k, r in sorted(records.items()) if k.startswith(prefix)]

    def rotate_key(self, key_id: str) -> KeyDescription:
        def rotate(record: KeyRecord, session: pkcs11.Session) -> KeyRecord:
            _require_usable(record)
            version = max(record.versions) + 1
            discard_unrecorded(session, key_id, version)
            generate_version(session, key_id, version)  # no usage until the record says so
            return record.evolve(
                primary=version,
                versions=(*record.versions, version),
                rotated_at=self._clock().isoformat(),
            )

        return self._change(key_id, rotate)

    def disable_key(self, key_id: str) -> KeyDescription:
        return self._change(key_id, _transition(_ENABLED, _DISABLED))

    def enable_key(self, key_id: str) -> KeyDescription:
        return self._change(key_id, _transition(_DISABLED, _ENABLED))

    def set_min_decrypt_version(self, key_id: str, version: int) -> KeyDescription:
        def retire(record: KeyRecord, session: pkcs11.Session) -> KeyRecord:
            _require_usable(record)
            if not 1 <= version <= record.primary:
                raise ValueError(
                    f"minimum decryption version must be 1..{record.primary} (the primary)"
                )
            return record.evolve(min_decrypt=version)

        return self._change(key_id, retire)

    def schedule_deletion(self, key_id: str, pending_days: int) -> KeyDescription:
        if pending_days < 0:
            raise ValueError("pending_days must be >= 0")

        def schedule(record: KeyRecord, session: pkcs11.Session) -> KeyRecord:
            if record.state != _DISABLED:  # a disabled key may be deleted
                _require_usable(record)
            date = self._clock() + timedelta(days=pending_days)
            return record.evolve(state=_PENDING, deletion_date=date.isoformat())

        return self._change(key_id, schedule)

    def cancel_deletion(self, key_id: str) -> KeyDescription:
        def cancel(record: KeyRecord, session: pkcs11.Session) -> KeyRecord:
            if record.state != _PENDING:
                raise KeyUnavailable(f"key {key_id} is not pending deletion")
            return record.evolve(state=_ENABLED, deletion_date=None)

        return self._change(key_id, cancel)

    def destroy(self, key_id: str) -> KeyDescription:
        """``C_DestroyObject`` on every version, then a tombstone record. Irreversible."""
        check_key_environment(key_id, self.environment)

        def destroy(session: pkcs11.Session) -> KeyRecord:
            record = self._record(session, key_id)
            if record.state != _PENDING:
                raise KeyUnavailable(f"key {key_id} must be scheduled for deletion first")
            self._cache.forget(key_id)
            for key in find_versions(session, key_id):
                key.destroy()
            tombstone = record.evolve(state=_DESTROYED, destroyed_at=self._clock().isoformat())
            store_record(session, tombstone)
            return tombstone

        return self._describe(self._run(destroy))

    # -- cryptographic operations -----------------------------------------------------

    def generate_data_key(
        self, key_id: str, associated_data: bytes
    ) -> tuple[KeyMaterial, WrappedKey]:
        """A data key from the token's random generator, wrapped in the same call."""
        check_key_environment(key_id, self.environment)

        def generate(session: pkcs11.Session) -> tuple[bytes, WrappedKey]:
            secret = session.generate_random(256)
            return secret, wrap_in_token(session, self._cache, key_id, secret, associated_data)

        secret, wrapped = self._run(generate)
        return KeyMaterial(secret, f"data key under {key_id}"), wrapped

    def wrap(self, key_id: str, key: KeyMaterial, associated_data: bytes) -> WrappedKey:
        check_key_environment(key_id, self.environment)
        secret = key.secret_bytes()
        return self._run(lambda s: wrap_in_token(s, self._cache, key_id, secret, associated_data))

    def unwrap(self, key_id: str, wrapped: WrappedKey, associated_data: bytes) -> KeyMaterial:
        check_key_environment(key_id, self.environment)
        secret = self._run(
            lambda s: unwrap_in_token(s, self._cache, key_id, wrapped, associated_data)
        )
        return KeyMaterial(secret, f"key unwrapped by {key_id}#v{wrapped.version}")

    # -- internals --------------------------------------------------------------------

    @property
    def _cache(self) -> HandleCache:
        return self._link.cache

    def _run(self, operation: Callable[[pkcs11.Session], T]) -> T:
        return self._link.run(self._pin, operation)

    def _change(self, key_id: str, mutate: Mutation) -> KeyDescription:
        """Apply ``mutate`` to the record: withdraw, write, grant (see the module doc)."""
        check_key_environment(key_id, self.environment)

        def change(session: pkcs11.Session) -> KeyRecord:
            self._cache.forget(key_id)  # this process's handles re-found after any change
            old = self._record(session, key_id)
            new = mutate(old, session)
            keys = {v: find_versions(session, key_id, version=v) for v in new.versions}
            for version, found in keys.items():
                (old_enc, old_dec), (new_enc, new_dec) = usage(old, version), usage(new, version)
                for key in found:
                    set_usage(key, old_enc and new_enc, old_dec and new_dec)
            store_record(session, new)
            for version, found in keys.items():
                for key in found:
                    set_usage(key, *usage(new, version))
            return new

        return self._describe(self._run(change))

    @staticmethod
    def _record(session: pkcs11.Session, key_id: str) -> KeyRecord:
        record = load_record(session, key_id)
        if record is None:
            raise KeyNotFound(f"no key {key_id}")
        return record

    def _describe(self, record: KeyRecord) -> KeyDescription:
        return record.describe(self.scheme, self.environment)


def _transition(expected: str, new: str) -> Mutation:
    def apply(record: KeyRecord, session: pkcs11.Session) -> KeyRecord:
        if record.state not in (expected, new):
            _require_usable(record)  # destroyed / pending deletion: say which
        return record.evolve(state=new)

    return apply


def _require_usable(record: KeyRecord) -> None:
    if (error := unusable_error(record.state, record.key_id)) is not None:
        raise error
