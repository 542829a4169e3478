"""The permission table (``permissions.json``) as typed models, and ``authorize``.

The table is versioned data so that a reviewer reads one file to know who may do what, and
``docs/auth.md`` is rendered from it. Loading enforces the rules that no edit of the data
may break, so a bad table fails at import-time use, never at request time:

* the table names exactly the ``Role`` and ``Action`` enums, nothing more or less;
* ``tenant-admin`` and ``service`` are tenant-bound, ``platform-admin`` and ``auditor``
  are not (DESIGN.md);
* a role not bound to a tenant never gets an action that returns tenant plaintext: the
  platform operator and the auditor can never read call data;
* a tenant-bound role gets only tenant-scoped actions: its token cannot act outside its
  tenant (no ``tenants:list``, no platform-wide audit log);
* a read-only role (the auditor) gets no action that changes anything;
* an action that refines another (``transcripts:read-sensitive`` widens what
  ``transcripts:read`` returns) is only granted together with it.

``may_grant`` is the rule for credentials a principal issues (customer API keys): only a
tenant-bound role, and only one whose actions are all the grantor's own, so a key can never
hold more than whoever minted it.
"""

from __future__ import annotations

import functools
import json
from enum import StrEnum
from importlib import resources
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from callvault._ids import check_tenant_id
from callvault.auth._errors import AuthorizationError
from callvault.auth._model import Action, Principal, Role
from callvault.errors import ConfigError

__all__ = [
    "ActionRule",
    "PermissionTable",
    "RoleRule",
    "Scope",
    "authorize",
    "check_grant",
    "default_table",
    "load_permission_table",
    "permits",
]

_TENANT_BOUND = {
    Role.PLATFORM_ADMIN: False,
    Role.TENANT_ADMIN: True,
    Role.SERVICE: True,
    Role.AUDITOR: False,
}
#: An action that only refines another is useless (and misleading in the table) without it.
_REQUIRES = {Action.TRANSCRIPTS_READ_SENSITIVE: Action.TRANSCRIPTS_READ}


class Scope(StrEnum):
    """``tenant``: the request names a tenant (``/v1/tenants/{tenant}/…``); ``platform``:
    it does not (``/v1/tenants``, ``/v1/audit``, ``/v1/posture``)."""

    PLATFORM = "platform"
    TENANT = "tenant"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ActionRule(_Strict):
    scope: Scope
    mutates: bool
    plaintext: bool
    description: str


class RoleRule(_Strict):
    tenant_bound: bool
    read_only: bool
    description: str
    actions: tuple[Action, ...]


class PermissionTable(_Strict):
    format: Literal["callvault-permissions/v1"]
    version: int
    actions: dict[Action, ActionRule]
    roles: dict[Role, RoleRule]

    @model_validator(mode="after")
    def _invariants(self) -> PermissionTable:
        if set(self.actions) != set(Action):
            raise ValueError(f"actions must be exactly {sorted(a.value for a in Action)}")
        if set(self.roles) != set(Role):
            raise ValueError(f"roles must be exactly {sorted(r.value for r in Role)}")
        for role, rule in self.roles.items():
            if len(set(rule.actions)) != len(rule.actions):
                raise ValueError(f"{role}: duplicate action")
            if rule.tenant_bound is not _TENANT_BOUND[role]:
                raise ValueError(f"{role}: tenant_bound must be {_TENANT_BOUND[role]}")
            for action in rule.actions:
                spec = self.actions[action]
                if spec.plaintext and not rule.tenant_bound:
                    raise ValueError(f"{role} is not tenant-bound and may not {action}")
                if spec.scope is Scope.PLATFORM and rule.tenant_bound:
                    raise ValueError(f"{role} is tenant-bound and may not {action}")
                if spec.mutates and rule.read_only:
                    raise ValueError(f"{role} is read-only and may not {action}")
                if action in _REQUIRES and _REQUIRES[action] not in rule.actions:
                    raise ValueError(f"{role}: {action} requires {_REQUIRES[action]}")
        return self

    def allows(self, role: Role, action: Action) -> bool:
        return action in self.roles[role].actions

    def is_tenant_bound(self, role: Role) -> bool:
        return self.roles[role].tenant_bound

    def may_grant(self, grantor: Role, role: Role) -> bool:
        """Whether ``grantor`` may issue a credential of ``role``: a tenant-bound role whose
        every action ``grantor`` holds itself (never a platform role, never an escalation)."""
        wanted, own = self.roles[Role(role)], self.roles[Role(grantor)]
        return wanted.tenant_bound and set(wanted.actions) <= set(own.actions)

    def check_grant(self, principal: Principal, role: Role) -> None:
        """Raise ``AuthorizationError`` unless ``principal`` may issue a ``role`` credential."""
        if not self.may_grant(principal.role, role):
            raise AuthorizationError(f"role {principal.role} may not issue {role} credentials")

    def permits(self, principal: Principal, action: Action, tenant: str | None = None) -> bool:
        """``authorize`` as a yes/no, for actions that widen a response rather than gate it."""
        try:
            self.authorize(principal, action, tenant)
        except AuthorizationError:
            return False
        return True

    def authorize(self, principal: Principal, action: Action, tenant: str | None = None) -> None:
        """Return if ``principal`` may do ``action`` (on ``tenant``); raise
        ``AuthorizationError`` otherwise. ``tenant`` must be given exactly for
        tenant-scoped actions: passing it wrong is a programming error (``ValueError``)."""
        role, action = Role(principal.role), Action(action)
        spec, rule = self.actions[action], self.roles[role]
        if spec.scope is Scope.TENANT:
            if tenant is None:
                raise ValueError(f"{action} is tenant-scoped: pass the tenant it acts on")
            check_tenant_id(tenant)
        elif tenant is not None:
            raise ValueError(f"{action} is not tenant-scoped: do not pass a tenant")
        if rule.tenant_bound != (principal.tenant is not None):
            # A principal that contradicts its role cannot come from our verifiers; refuse.
            raise AuthorizationError(f"credential for role {role} has an invalid tenant binding")
        if action not in rule.actions:
            raise AuthorizationError(f"role {role} may not {action}")
        if rule.tenant_bound and principal.tenant != tenant:
            raise AuthorizationError(f"this credential is not valid for tenant {tenant!r}")


def load_permission_table(text: str | bytes | None = None) -> PermissionTable:
    """Parse and check a permission table; ``None`` reads the packaged ``permissions.json``."""
    if text is None:
        text = resources.files("callvault.auth").joinpath("permissions.json").read_bytes()
    try:
        return PermissionTable.model_validate(json.loads(text))
    except (ValidationError, json.JSONDecodeError) as exc:
        raise ConfigError(f"invalid permission table: {exc}") from None


@functools.cache
def _default_table() -> PermissionTable:
    return load_permission_table()


def authorize(principal: Principal, action: Action, tenant: str | None = None) -> None:
    """``authorize`` against the packaged table (see ``PermissionTable.authorize``)."""
    _default_table().authorize(principal, action, tenant)


def permits(principal: Principal, action: Action, tenant: str | None = None) -> bool:
    """``permits`` against the packaged table (see ``PermissionTable.permits``)."""
    return _default_table().permits(principal, action, tenant)


def check_grant(principal: Principal, role: Role) -> None:
    """``check_grant`` against the packaged table (see ``PermissionTable.check_grant``)."""
    _default_table().check_grant(principal, role)


def default_table() -> PermissionTable:
    """The packaged permission table (loaded and checked once)."""
    return _default_table()
