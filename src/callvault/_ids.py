"""Validation of the identifiers that name tenants, objects and keys.

Identifiers end up in key ids, file names and URLs, so they are checked once, at the edge,
against a small alphabet; everything below can then trust them.
"""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum

from callvault.errors import InvalidRequest

__all__ = ["DataClass", "Environment", "check_object_id", "check_subject", "check_tenant_id"]

_TENANT = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
_OBJECT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
_MAX_SUBJECT_BYTES = 256


class DataClass(StrEnum):
    """The kinds of call data; each may have its own master key."""

    RECORDING = "recording"
    TRANSCRIPT = "transcript"
    ANALYTICS = "analytics"
    AUDIT = "audit"
    BACKUP = "backup"


class Environment(StrEnum):
    """Deployment environments; a key of one is refused in another."""

    DEV = "dev"
    STAGING = "staging"
    PROD = "prod"


RESERVED_TENANT_IDS = frozenset({"platform"})
"""Never a tenant: ``<env>/platform/<purpose>`` names the platform's own master keys."""


def check_tenant_id(tenant: str) -> str:
    if not isinstance(tenant, str) or not _TENANT.fullmatch(tenant):
        raise InvalidRequest(
            "tenant id must be 1-63 characters of a-z, 0-9 and '-', starting with a letter or digit"
        )
    if tenant in RESERVED_TENANT_IDS:
        raise InvalidRequest(f"tenant id {tenant!r} is reserved")
    return tenant


def check_object_id(object_id: str) -> str:
    if not isinstance(object_id, str) or not _OBJECT.fullmatch(object_id):
        raise InvalidRequest(
            "object id must be 1-128 characters of A-Z, a-z, 0-9, '.', '_', ':' and '-'"
        )
    return object_id


def check_subject(subject: str) -> str:
    if not isinstance(subject, str) or not subject or not subject.isprintable():
        raise InvalidRequest("subject must be a non-empty printable string")
    if unicodedata.normalize("NFC", subject) != subject:
        # Two spellings of one name would get two blind ids, and erasing one would silently
        # leave the other: one canonical form, or a clear error.
        raise InvalidRequest("subject must be in Unicode NFC form")
    if len(subject.encode()) > _MAX_SUBJECT_BYTES:
        raise InvalidRequest(f"subject must be at most {_MAX_SUBJECT_BYTES} bytes")
    return subject
