"""The ``keyd://`` provider: every master-key operation done by keyd, over mTLS.

``kms = "keyd://keyd.internal:8444/?identity=api"`` makes the api process a client of the
key service: master keys stay in keyd's provider (local keyring, AWS KMS, Vault, HSM), keyd
authorises each call by our SPIFFE ID and audits it, and this class maps answers back to
the same error kinds the provider behind keyd raised. Data keys do cross the wire (that is
what unwrapping means), inside TLS 1.3 only.

Key ids are checked against our environment before any call (as every provider does), and
keyd's provider checks them against its own: an api of one environment pointed at a keyd of
another gets ``EnvironmentMismatch`` on every call, never a key. ``rewrap`` is always
offered: keyd rewraps inside its provider, so the secret never reaches us.

The caller's in-process identity (``acting_as``) and object id travel as ``on_behalf_of``
for keyd's audit entries; they are informational, never used to authorise.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from callvault._ids import Environment
from callvault.keys._events import current_use
from callvault.keys._material import KeyMaterial
from callvault.keys.providers._base import KeyDescription, WrappedKey
from callvault.keys.providers._remote_settings import RemoteSettings, parse_keyd_uri
from callvault.keys.providers._remote_transport import KeydTransport
from callvault.keys.providers._remote_wire import (
    Operation,
    b64,
    description_from_json,
    key_from_json,
    key_to_json,
    wrapped_from_json,
    wrapped_to_json,
)
from callvault.keys.providers._scoping import check_key_environment

__all__ = ["RemoteKms", "open_remote_kms"]


class RemoteKms:
    """A ``KmsProvider`` whose keys live behind keyd."""

    scheme = "keyd"

    def __init__(self, settings: RemoteSettings, environment: Environment) -> None:
        self.environment = Environment(environment)
        self.settings = settings
        self._transport = KeydTransport(settings)

    def __repr__(self) -> str:
        s = self.settings
        return f"RemoteKms(keyd://{s.host}:{s.port}, identity={s.identity!r})"

    def close(self) -> None:
        """Stop renewing our certificate and close every connection."""
        self._transport.close()

    def drop_connections(self) -> None:
        """Close kept-alive connections (benchmarks; after rotating trust by hand)."""
        self._transport.drop_idle()

    def _call(self, operation: Operation, key_id: str | None, **fields: Any) -> dict[str, Any]:
        payload: dict[str, Any] = dict(fields)
        if key_id is not None:
            check_key_environment(key_id, self.environment)
            payload["key_id"] = key_id
        use = current_use()
        payload["on_behalf_of"] = {"actor": use.actor, "object_id": use.object_id}
        return self._transport.call(operation, payload)

    def _described(self, operation: Operation, key_id: str, **fields: Any) -> KeyDescription:
        return description_from_json(self._call(operation, key_id, **fields).get("key"))

    # -- key use ----------------------------------------------------------------------------

    def generate_data_key(
        self, key_id: str, associated_data: bytes
    ) -> tuple[KeyMaterial, WrappedKey]:
        answer = self._call(
            Operation.GENERATE_DATA_KEY, key_id, associated_data=b64(associated_data)
        )
        key = key_from_json(answer.get("key"), f"data key under {key_id}")
        return key, wrapped_from_json(answer.get("wrapped"))

    def wrap(self, key_id: str, key: KeyMaterial, associated_data: bytes) -> WrappedKey:
        answer = self._call(
            Operation.WRAP, key_id, key=key_to_json(key), associated_data=b64(associated_data)
        )
        return wrapped_from_json(answer.get("wrapped"))

    def unwrap(self, key_id: str, wrapped: WrappedKey, associated_data: bytes) -> KeyMaterial:
        answer = self._call(
            Operation.UNWRAP,
            key_id,
            wrapped=wrapped_to_json(wrapped),
            associated_data=b64(associated_data),
        )
        return key_from_json(answer.get("key"), f"key unwrapped under {key_id}")

    def rewrap(self, key_id: str, wrapped: WrappedKey, associated_data: bytes) -> WrappedKey:
        answer = self._call(
            Operation.REWRAP,
            key_id,
            wrapped=wrapped_to_json(wrapped),
            associated_data=b64(associated_data),
        )
        return wrapped_from_json(answer.get("wrapped"))

    # -- administration ---------------------------------------------------------------------

    def create_key(self, key_id: str, labels: Mapping[str, str]) -> KeyDescription:
        return self._described(Operation.CREATE_KEY, key_id, labels=dict(labels))

    def describe_key(self, key_id: str) -> KeyDescription:
        return self._described(Operation.DESCRIBE_KEY, key_id)

    def list_keys(self) -> list[KeyDescription]:
        keys = self._call(Operation.LIST_KEYS, None).get("keys")
        if not isinstance(keys, list):
            keys = [None]  # malformed: description_from_json raises KeyUnavailable
        return [description_from_json(k) for k in keys]

    def rotate_key(self, key_id: str) -> KeyDescription:
        return self._described(Operation.ROTATE_KEY, key_id)

    def disable_key(self, key_id: str) -> KeyDescription:
        return self._described(Operation.DISABLE_KEY, key_id)

    def enable_key(self, key_id: str) -> KeyDescription:
        return self._described(Operation.ENABLE_KEY, key_id)

    def set_min_decrypt_version(self, key_id: str, version: int) -> KeyDescription:
        return self._described(Operation.SET_MIN_DECRYPT_VERSION, key_id, version=version)

    def schedule_deletion(self, key_id: str, pending_days: int) -> KeyDescription:
        return self._described(Operation.SCHEDULE_DELETION, key_id, pending_days=pending_days)

    def cancel_deletion(self, key_id: str) -> KeyDescription:
        return self._described(Operation.CANCEL_DELETION, key_id)

    def destroy(self, key_id: str) -> KeyDescription:
        return self._described(Operation.DESTROY, key_id)


def open_remote_kms(uri: str, settings: Any) -> RemoteKms:
    """The registry's factory for ``keyd://`` (``settings``: ``ProviderSettings``)."""
    return RemoteKms(parse_keyd_uri(uri, settings.home), settings.environment)
