"""Object keys: ``tenant/class/object-id``, checked before any path or URL is built.

A key becomes a file path under the store's root and an S3 key under the bucket prefix, so
it is validated once, here, against the same small alphabets as the identifiers it is made
of (``callvault._ids``). No segment can be empty, ``.``, ``..`` or contain a slash, and a
key is never absolute: nothing a caller passes can name a path outside the store.
"""

from __future__ import annotations

from callvault._ids import DataClass, check_object_id, check_tenant_id
from callvault.errors import InvalidRequest

__all__ = ["check_key", "check_prefix", "object_key", "split_key"]

_SEGMENTS = 3


def object_key(tenant: str, data_class: DataClass | str, object_id: str) -> str:
    """The store key of one object: ``tenant/class/object-id`` (each part validated)."""
    return check_key(f"{tenant}/{_class_value(data_class)}/{object_id}")


def check_key(key: str) -> str:
    """``key`` itself if it is a well-formed object key, else ``InvalidRequest``."""
    parts = _segments(key)
    if len(parts) != _SEGMENTS:
        raise InvalidRequest("object key must be 'tenant/class/object-id'")
    _check_segments(parts)
    return key


def split_key(key: str) -> tuple[str, DataClass, str]:
    tenant, data_class, object_id = _segments(check_key(key))
    return tenant, DataClass(data_class), object_id


def check_prefix(prefix: str) -> tuple[str, ...]:
    """The whole segments of a listing prefix: ``""``, ``"tenant"`` or ``"tenant/class"``.

    Prefixes are whole segments only (a trailing slash is allowed), so a listing of tenant
    ``acme`` can never include tenant ``acme-corp``.
    """
    if not isinstance(prefix, str):
        raise InvalidRequest("prefix must be a string")
    if not prefix:
        return ()
    parts = _segments(prefix[:-1] if prefix.endswith("/") else prefix)
    if len(parts) >= _SEGMENTS:
        raise InvalidRequest("prefix must be '', 'tenant' or 'tenant/class'")
    _check_segments(parts)
    return tuple(parts)


def _segments(key: str) -> list[str]:
    if not isinstance(key, str):
        raise InvalidRequest("object key must be a string")
    return key.split("/")


def _check_segments(parts: list[str]) -> None:
    check_tenant_id(parts[0])
    if len(parts) > 1:
        _class_value(parts[1])
    if len(parts) > 2:
        check_object_id(parts[2])


def _class_value(data_class: DataClass | str) -> str:
    try:
        return DataClass(data_class).value
    except ValueError:
        allowed = ", ".join(c.value for c in DataClass)
        raise InvalidRequest(f"data class must be one of {allowed}") from None
