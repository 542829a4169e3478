"""The keyd wire protocol, shared by the server (``callvault.keyd``) and the ``keyd://``
provider: operation names, JSON forms of keys and descriptions, and error kinds.

It lives beside the provider, not in ``keyd``, because the provider is the lower layer:
keyd (which imports providers and the audit log) builds on it, never the reverse.
docs/protocols/keyd.md is the specification; this module is its one implementation.

Blobs travel as standard base64 (RFC 4648 §4, with padding). Errors travel as
``{"error": {"code": <kind>, "message": <text>}}``, where ``code`` is the class name of a
callvault error (or ``ValueError``), so the provider re-raises the very kind the server's
provider raised: callers branch on kinds, and a remote KMS must not change them.
"""

from __future__ import annotations

import base64
import binascii
import enum
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import callvault.errors as errors
from callvault._ids import Environment
from callvault.keys._material import KeyMaterial
from callvault.keys.providers._base import KeyDescription, KeyState, WrappedKey

__all__ = [
    "API_PREFIX",
    "IDEMPOTENT",
    "MAX_BODY_BYTES",
    "KeyAccessDenied",
    "Operation",
    "b64",
    "description_from_json",
    "description_to_json",
    "error_body",
    "error_code",
    "error_from_body",
    "error_status",
    "key_from_json",
    "key_to_json",
    "unb64",
    "wrapped_from_json",
    "wrapped_to_json",
]

API_PREFIX = "/v1/"
MAX_BODY_BYTES = 64 * 1024
"""Every request fits easily (a key id, a wrapped key, short associated data)."""


class Operation(enum.StrEnum):
    """One POST path per provider operation: ``/v1/<value>``; audit action ``keyd.<value>``."""

    GENERATE_DATA_KEY = "generate_data_key"
    WRAP = "wrap"
    UNWRAP = "unwrap"
    REWRAP = "rewrap"
    CREATE_KEY = "create_key"
    DESCRIBE_KEY = "describe_key"
    LIST_KEYS = "list_keys"
    ROTATE_KEY = "rotate_key"
    DISABLE_KEY = "disable_key"
    ENABLE_KEY = "enable_key"
    SET_MIN_DECRYPT_VERSION = "set_min_decrypt_version"
    SCHEDULE_DELETION = "schedule_deletion"
    CANCEL_DELETION = "cancel_deletion"
    DESTROY = "destroy"


IDEMPOTENT = frozenset(
    {
        Operation.GENERATE_DATA_KEY,
        Operation.WRAP,
        Operation.UNWRAP,
        Operation.REWRAP,
        Operation.DESCRIBE_KEY,
        Operation.LIST_KEYS,
    }
)
"""Safe to send again when a kept-alive connection turned out to be closed."""


class KeyAccessDenied(errors.KeyUnavailable):
    """keyd refused the caller: its certificate (another CA, expired, revoked) or its
    SPIFFE ID is not allowed this operation. A ``KeyUnavailable`` because, to the caller,
    the key cannot be used now; never retried (asking again changes nothing)."""


_KINDS: dict[str, type[Exception]] = {
    cls.__name__: cls
    for cls in (
        errors.OpenError,
        errors.KeyDestroyed,
        errors.KeyUnavailable,
        errors.ProviderUnreachable,
        errors.EnvironmentMismatch,
        errors.KeyNotFound,
        errors.KeyExists,
        errors.InvalidRequest,
        errors.AuditUnavailable,
        KeyAccessDenied,
        ValueError,
    )
}

_STATUS: dict[str, int] = {
    "InvalidRequest": 400,
    "ValueError": 400,
    "KeyAccessDenied": 403,
    "KeyNotFound": 404,
    "KeyExists": 409,
    "EnvironmentMismatch": 409,
    "KeyDestroyed": 410,
    "OpenError": 422,
    "KeyUnavailable": 503,
    "ProviderUnreachable": 503,
    "AuditUnavailable": 503,
}


def error_code(exc: BaseException) -> str:
    """The wire kind of ``exc``: the nearest class in the table (``KeyUnavailable`` for
    any other ``KeyUnavailable``…); anything unknown is an internal error."""
    for cls in type(exc).__mro__:
        if cls.__name__ in _KINDS and isinstance(exc, _KINDS[cls.__name__]):
            return cls.__name__
    return "InternalError"


def error_status(code: str) -> int:
    return _STATUS.get(code, 500)


def error_body(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def error_from_body(status: int, body: Any) -> Exception:
    """The exception a response's error body stands for; unknown kinds (and bodies that
    are not ours) become ``KeyUnavailable``: fail closed, never a guess."""
    try:
        code, message = body["error"]["code"], str(body["error"]["message"])[:500]
    except (TypeError, KeyError):
        return errors.KeyUnavailable(f"keyd answered HTTP {status} without an error body")
    if code == "OpenError":
        return errors.OpenError()
    kind = _KINDS.get(code) if isinstance(code, str) else None
    if kind is None:
        return errors.KeyUnavailable(f"keyd failed ({code}): {message}")
    return kind(message)


# -- values -----------------------------------------------------------------------------


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(value: Any, what: str) -> bytes:
    if not isinstance(value, str):
        raise errors.InvalidRequest(f"{what} must be a base64 string")
    try:
        return base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise errors.InvalidRequest(f"{what} is not valid base64") from None


def key_to_json(key: KeyMaterial) -> str:
    return b64(key.secret_bytes())


def key_from_json(value: Any, label: str) -> KeyMaterial:
    secret = unb64(value, "key")
    if len(secret) != 32:
        raise errors.InvalidRequest("key must be 32 bytes")
    return KeyMaterial(secret, label)


def wrapped_to_json(wrapped: WrappedKey) -> dict[str, Any]:
    return {"version": wrapped.version, "blob": b64(wrapped.blob)}


def wrapped_from_json(value: Any) -> WrappedKey:
    if not isinstance(value, Mapping) or set(value) != {"version", "blob"}:
        raise errors.InvalidRequest("wrapped must be {version, blob}")
    version = value["version"]
    if not isinstance(version, int) or isinstance(version, bool) or not 0 <= version < 2**31:
        raise errors.InvalidRequest("wrapped.version must be a non-negative integer")
    return WrappedKey(version, unb64(value["blob"], "wrapped.blob"))


def description_to_json(d: KeyDescription) -> dict[str, Any]:
    return {
        "provider": d.provider,
        "key_id": d.key_id,
        "environment": d.environment.value,
        "state": d.state.value,
        "primary_version": d.primary_version,
        "min_decrypt_version": d.min_decrypt_version,
        "versions": list(d.versions),
        "created_at": d.created_at.isoformat(),
        "rotated_at": d.rotated_at.isoformat(),
        "deletion_date": d.deletion_date.isoformat() if d.deletion_date else None,
        "labels": dict(d.labels),
    }


def description_from_json(value: Any) -> KeyDescription:
    """A description from keyd; a malformed one is ``KeyUnavailable`` (the server is not
    speaking this protocol), never a half-filled object."""
    try:
        deletion = value["deletion_date"]
        return KeyDescription(
            provider=str(value["provider"]),
            key_id=str(value["key_id"]),
            environment=Environment(value["environment"]),
            state=KeyState(value["state"]),
            primary_version=int(value["primary_version"]),
            min_decrypt_version=int(value["min_decrypt_version"]),
            versions=tuple(int(v) for v in value["versions"]),
            created_at=datetime.fromisoformat(value["created_at"]),
            rotated_at=datetime.fromisoformat(value["rotated_at"]),
            deletion_date=datetime.fromisoformat(deletion) if deletion else None,
            labels={str(k): str(v) for k, v in dict(value["labels"]).items()},
        )
    except (TypeError, KeyError, ValueError):
        raise errors.KeyUnavailable("keyd sent a malformed key description") from None
