"""Run one decoded keyd request against the provider and encode the answer.

The request body is validated field by field before the provider is touched (unknown
fields are refused, as everywhere in callvault): a caller error is ``InvalidRequest`` and
changes nothing. ``rewrap`` uses the provider's own rewrap when it has one (Vault
Transit, AWS KMS) and otherwise unwraps and wraps inside keyd, so the secret never leaves.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from callvault.errors import InvalidRequest
from callvault.keys._material import KeyMaterial
from callvault.keys.providers import KeyDescription, KmsProvider, WrappedKey
from callvault.keys.providers._remote_wire import (
    Operation,
    description_to_json,
    key_from_json,
    key_to_json,
    unb64,
    wrapped_from_json,
    wrapped_to_json,
)

__all__ = ["Result", "dispatch"]

_COMMON = frozenset({"on_behalf_of"})
_FIELDS: Mapping[Operation, frozenset[str]] = {
    Operation.GENERATE_DATA_KEY: frozenset({"key_id", "associated_data"}),
    Operation.WRAP: frozenset({"key_id", "key", "associated_data"}),
    Operation.UNWRAP: frozenset({"key_id", "wrapped", "associated_data"}),
    Operation.REWRAP: frozenset({"key_id", "wrapped", "associated_data"}),
    Operation.CREATE_KEY: frozenset({"key_id", "labels"}),
    Operation.DESCRIBE_KEY: frozenset({"key_id"}),
    Operation.LIST_KEYS: frozenset(),
    Operation.ROTATE_KEY: frozenset({"key_id"}),
    Operation.DISABLE_KEY: frozenset({"key_id"}),
    Operation.ENABLE_KEY: frozenset({"key_id"}),
    Operation.SET_MIN_DECRYPT_VERSION: frozenset({"key_id", "version"}),
    Operation.SCHEDULE_DELETION: frozenset({"key_id", "pending_days"}),
    Operation.CANCEL_DELETION: frozenset({"key_id"}),
    Operation.DESTROY: frozenset({"key_id"}),
}


@dataclass(frozen=True, slots=True)
class Result:
    body: dict[str, Any]
    key_version: int | None


def check_fields(operation: Operation, body: Mapping[str, Any]) -> None:
    allowed = _FIELDS[operation] | _COMMON
    unknown = set(body) - allowed
    missing = _FIELDS[operation] - set(body)
    if unknown or missing:
        raise InvalidRequest(
            f"{operation.value}: unknown fields {sorted(unknown)}, missing {sorted(missing)}"
        )
    if "key_id" in body and not (
        isinstance(body["key_id"], str) and 0 < len(body["key_id"]) <= 256
    ):
        raise InvalidRequest("key_id must be a string of 1-256 characters")


def _int(value: Any, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidRequest(f"{what} must be an integer")
    return value


def _labels(value: Any) -> dict[str, str]:
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise InvalidRequest("labels must be an object of strings")
    return value


def _rewrap(provider: KmsProvider, key_id: str, wrapped: WrappedKey, ad: bytes) -> WrappedKey:
    native: Callable[[str, WrappedKey, bytes], WrappedKey] | None = getattr(
        provider, "rewrap", None
    )
    if native is not None:
        return native(key_id, wrapped, ad)
    return provider.wrap(key_id, provider.unwrap(key_id, wrapped, ad), ad)


def _described(d: KeyDescription) -> Result:
    return Result({"key": description_to_json(d)}, d.primary_version)


def dispatch(provider: KmsProvider, operation: Operation, body: Mapping[str, Any]) -> Result:
    """``body`` already passed :func:`check_fields`."""
    op, key_id = Operation, body.get("key_id", "")
    if operation is op.LIST_KEYS:
        return Result({"keys": [description_to_json(d) for d in provider.list_keys()]}, None)
    if operation in (op.GENERATE_DATA_KEY, op.WRAP, op.UNWRAP, op.REWRAP):
        ad = unb64(body["associated_data"], "associated_data")
        if operation is op.GENERATE_DATA_KEY:
            key, wrapped = provider.generate_data_key(key_id, ad)
            return Result({"key": key_to_json(key), **_w(wrapped)}, wrapped.version)
        if operation is op.WRAP:
            material: KeyMaterial = key_from_json(body["key"], "key to wrap")
            wrapped = provider.wrap(key_id, material, ad)
            return Result(_w(wrapped), wrapped.version)
        given = wrapped_from_json(body["wrapped"])
        if operation is op.UNWRAP:
            return Result({"key": key_to_json(provider.unwrap(key_id, given, ad))}, given.version)
        wrapped = _rewrap(provider, key_id, given, ad)
        return Result(_w(wrapped), wrapped.version)
    admin: dict[Operation, Callable[[], KeyDescription]] = {
        op.CREATE_KEY: lambda: provider.create_key(key_id, _labels(body["labels"])),
        op.DESCRIBE_KEY: lambda: provider.describe_key(key_id),
        op.ROTATE_KEY: lambda: provider.rotate_key(key_id),
        op.DISABLE_KEY: lambda: provider.disable_key(key_id),
        op.ENABLE_KEY: lambda: provider.enable_key(key_id),
        op.SET_MIN_DECRYPT_VERSION: lambda: provider.set_min_decrypt_version(
            key_id, _int(body["version"], "version")
        ),
        op.SCHEDULE_DELETION: lambda: provider.schedule_deletion(
            key_id, _int(body["pending_days"], "pending_days")
        ),
        op.CANCEL_DELETION: lambda: provider.cancel_deletion(key_id),
        op.DESTROY: lambda: provider.destroy(key_id),
    }
    return _described(admin[operation]())


def _w(wrapped: WrappedKey) -> dict[str, Any]:
    return {"wrapped": wrapped_to_json(wrapped)}
