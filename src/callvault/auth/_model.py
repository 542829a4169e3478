"""The vocabulary of authorization: roles, actions and the authenticated ``Principal``.

Roles and actions are enums so that code names them (``Action.TRANSCRIPTS_READ``), never
free strings; which role may do what is data (``permissions.json``), checked against these
enums when it is loaded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

__all__ = ["Action", "Clock", "CredentialKind", "Principal", "Role", "utc_now"]

#: Where "now" comes from. Injected so tests (and vectors) can move time explicitly.
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class Role(StrEnum):
    """The four roles of DESIGN.md. Whether a role is bound to a tenant is in the table."""

    PLATFORM_ADMIN = "platform-admin"
    TENANT_ADMIN = "tenant-admin"
    SERVICE = "service"
    AUDITOR = "auditor"


class Action(StrEnum):
    """Everything a route can ask permission for, as ``resource:verb``."""

    TENANTS_CREATE = "tenants:create"
    TENANTS_LIST = "tenants:list"
    TENANTS_READ = "tenants:read"
    RECORDINGS_WRITE = "recordings:write"
    RECORDINGS_READ = "recordings:read"
    RECORDINGS_DELETE = "recordings:delete"
    TRANSCRIPTS_WRITE = "transcripts:write"
    TRANSCRIPTS_READ = "transcripts:read"
    TRANSCRIPTS_READ_SENSITIVE = "transcripts:read-sensitive"
    ANALYTICS_WRITE = "analytics:write"
    ANALYTICS_READ = "analytics:read"
    ERASURES_CREATE = "erasures:create"
    ERASURES_LIST = "erasures:list"
    ERASURES_CANCEL = "erasures:cancel"
    KEYS_LIST = "keys:list"
    KEYS_ROTATE = "keys:rotate"
    KEYS_CUSTOMER = "keys:customer"
    AUDIT_READ = "audit:read"
    POSTURE_READ = "posture:read"
    APIKEYS_MANAGE = "apikeys:manage"


class CredentialKind(StrEnum):
    """How the principal proved itself (for the audit log)."""

    JWT = "jwt"
    API_KEY = "api-key"


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller. Only this package's verifiers construct it.

    ``tenant`` is set exactly when the role is tenant-bound (``tenant-admin``, ``service``);
    platform roles (``platform-admin``, ``auditor``) carry ``None``. ``token_id`` is the
    JWT's ``jti`` or the API key's id, for audit correlation and revocation.
    """

    subject: str
    role: Role
    tenant: str | None
    token_id: str
    expires_at: datetime
    kind: CredentialKind = CredentialKind.JWT
