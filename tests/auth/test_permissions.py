"""The permission table: DESIGN.md's rules, authorize(), and docs/auth.md kept in sync."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from callvault.auth import (
    Action,
    AuthorizationError,
    Principal,
    Role,
    authorize,
    check_grant,
    default_table,
    load_permission_table,
    permits,
    render_permission_markdown,
)
from callvault.auth._doc import BEGIN_MARKER, END_MARKER
from callvault.errors import ConfigError, InvalidRequest

A = Action
PLAINTEXT = {A.RECORDINGS_READ, A.TRANSCRIPTS_READ, A.TRANSCRIPTS_READ_SENSITIVE, A.ANALYTICS_READ}
# Written out independently of permissions.json, from DESIGN.md's users and their jobs:
# an edit of the data file that changes who may do what must be made here too.
EXPECTED: dict[Role, set[Action]] = {
    Role.PLATFORM_ADMIN: {
        A.TENANTS_CREATE,
        A.TENANTS_LIST,
        A.TENANTS_READ,
        A.KEYS_LIST,
        A.KEYS_ROTATE,
        A.AUDIT_READ,
        A.POSTURE_READ,
    },
    Role.TENANT_ADMIN: {
        A.TENANTS_READ,
        A.RECORDINGS_WRITE,
        A.RECORDINGS_READ,
        A.RECORDINGS_DELETE,
        A.TRANSCRIPTS_WRITE,
        A.TRANSCRIPTS_READ,
        A.TRANSCRIPTS_READ_SENSITIVE,
        A.ANALYTICS_WRITE,
        A.ANALYTICS_READ,
        A.ERASURES_CREATE,
        A.ERASURES_LIST,
        A.ERASURES_CANCEL,
        A.KEYS_LIST,
        A.KEYS_ROTATE,
        A.KEYS_CUSTOMER,
        A.APIKEYS_MANAGE,
    },
    Role.SERVICE: {
        A.RECORDINGS_WRITE,
        A.RECORDINGS_READ,
        A.TRANSCRIPTS_WRITE,
        A.TRANSCRIPTS_READ,
        A.ANALYTICS_WRITE,
        A.ANALYTICS_READ,
    },
    Role.AUDITOR: {A.AUDIT_READ, A.POSTURE_READ, A.KEYS_LIST},
}
PLATFORM_SCOPED = {A.TENANTS_CREATE, A.TENANTS_LIST, A.AUDIT_READ, A.POSTURE_READ}
REPO = Path(__file__).resolve().parents[2]


def principal(role: Role, tenant: str | None) -> Principal:
    return Principal("t", role, tenant, "jti", datetime(2030, 1, 1, tzinfo=UTC))


def who(role: Role) -> Principal:
    bound = default_table().is_tenant_bound(role)
    return principal(role, "acme" if bound else None)


def scope_tenant(action: Action) -> str | None:
    return None if action in PLATFORM_SCOPED else "acme"


def test_table_matches_design():
    table = default_table()
    for role, action in itertools.product(Role, Action):
        assert table.allows(role, action) == (action in EXPECTED[role]), (role, action)
    assert {r for r in Role if table.is_tenant_bound(r)} == {Role.TENANT_ADMIN, Role.SERVICE}
    assert {a for a in Action if table.actions[a].plaintext} == PLAINTEXT
    assert {a for a in Action if table.actions[a].scope == "platform"} == PLATFORM_SCOPED


@pytest.mark.parametrize(("role", "action"), list(itertools.product(Role, Action)))
def test_authorize_matrix_on_own_tenant(role: Role, action: Action):
    if action in EXPECTED[role]:
        authorize(who(role), action, scope_tenant(action))
    else:
        with pytest.raises(AuthorizationError) as info:
            authorize(who(role), action, scope_tenant(action))
        assert info.value.status_code == 403


@pytest.mark.parametrize("role", [Role.TENANT_ADMIN, Role.SERVICE])
@pytest.mark.parametrize("action", sorted(set(Action) - PLATFORM_SCOPED))
def test_tenant_a_token_refused_on_tenant_b(role: Role, action: Action):
    with pytest.raises(AuthorizationError):
        authorize(principal(role, "acme"), action, "globex")


@pytest.mark.parametrize("role", [Role.PLATFORM_ADMIN, Role.AUDITOR])
@pytest.mark.parametrize("action", sorted(PLAINTEXT))
def test_platform_roles_never_read_plaintext(role: Role, action: Action):
    for tenant in ("acme", "globex"):
        with pytest.raises(AuthorizationError):
            authorize(principal(role, None), action, tenant)


def test_named_cases():
    service_a, admin_a = principal(Role.SERVICE, "acme"), principal(Role.TENANT_ADMIN, "acme")
    with pytest.raises(AuthorizationError):
        authorize(service_a, A.KEYS_ROTATE, "acme")
    with pytest.raises(AuthorizationError):
        authorize(service_a, A.ERASURES_CREATE, "acme")
    with pytest.raises(AuthorizationError):
        authorize(admin_a, A.TENANTS_LIST)
    with pytest.raises(AuthorizationError):
        authorize(principal(Role.PLATFORM_ADMIN, None), A.TRANSCRIPTS_READ, "acme")
    with pytest.raises(AuthorizationError):
        authorize(principal(Role.AUDITOR, None), A.KEYS_ROTATE, "acme")
    authorize(admin_a, A.KEYS_ROTATE, "acme")
    authorize(principal(Role.PLATFORM_ADMIN, None), A.KEYS_ROTATE, "globex")
    authorize(principal(Role.AUDITOR, None), A.KEYS_LIST, "globex")


@pytest.mark.parametrize(
    "bad",
    [
        principal(Role.TENANT_ADMIN, None),
        principal(Role.SERVICE, None),
        principal(Role.PLATFORM_ADMIN, "acme"),
        principal(Role.AUDITOR, "acme"),
    ],
)
def test_principal_with_a_broken_tenant_binding_is_refused(bad: Principal):
    with pytest.raises(AuthorizationError):
        authorize(bad, A.KEYS_LIST, "acme")


def test_scope_mistakes_are_programming_errors():
    admin = principal(Role.PLATFORM_ADMIN, None)
    with pytest.raises(ValueError):
        authorize(admin, A.KEYS_LIST)  # tenant-scoped without a tenant
    with pytest.raises(ValueError):
        authorize(admin, A.TENANTS_LIST, "acme")  # platform-scoped with a tenant
    with pytest.raises(InvalidRequest):
        authorize(admin, A.KEYS_LIST, "../etc")


def _table() -> dict[str, Any]:
    data = resources.files("callvault.auth").joinpath("permissions.json").read_text()
    parsed: dict[str, Any] = json.loads(data)
    return parsed


def _grant(role: str, action: str) -> dict[str, Any]:
    table = _table()
    table["roles"][role]["actions"].append(action)
    return table


@pytest.mark.parametrize(
    "table",
    [
        _grant("auditor", "transcripts:read"),  # plaintext to a platform role
        _grant("platform-admin", "recordings:read"),
        _grant("platform-admin", "analytics:read"),
        _grant("auditor", "keys:rotate"),  # mutation by the read-only role
        _grant("service", "tenants:list"),  # platform scope for a tenant-bound role
        _grant("tenant-admin", "audit:read"),
        _grant("service", "keys:rotate "),  # unknown action
        _grant("service", "recordings:read"),  # duplicate
        _grant("auditor", "transcripts:read-sensitive"),  # plaintext to a platform role
    ],
)
def test_tables_breaking_the_rules_are_refused(table: dict[str, Any]):
    with pytest.raises(ConfigError):
        load_permission_table(json.dumps(table))


def test_structurally_wrong_tables_are_refused():
    no_action = _table()
    del no_action["actions"]["posture:read"]
    unbound = _table()
    unbound["roles"]["service"]["tenant_bound"] = False
    unbound["roles"]["service"]["actions"] = []
    extra = _table()
    extra["roles"]["auditor"]["superuser"] = True
    missing_role = _table()
    del missing_role["roles"]["auditor"]
    wrong_format = {**_table(), "format": "callvault-permissions/v0"}
    for table in (no_action, unbound, extra, missing_role, wrong_format):
        with pytest.raises(ConfigError):
            load_permission_table(json.dumps(table))
    with pytest.raises(ConfigError):
        load_permission_table("{not json")
    load_permission_table(json.dumps(_table()))  # the original passes


def test_a_refining_action_needs_the_action_it_refines():
    table = _table()
    table["actions"]["transcripts:read"]["plaintext"] = True
    admin = table["roles"]["tenant-admin"]["actions"]
    admin.remove("transcripts:read")
    with pytest.raises(ConfigError, match="requires transcripts:read"):
        load_permission_table(json.dumps(table))
    admin.remove("transcripts:read-sensitive")
    load_permission_table(json.dumps(table))  # control: dropping both is a valid table


def test_service_does_not_receive_sensitive_transcript_fields():
    service, admin = principal(Role.SERVICE, "acme"), principal(Role.TENANT_ADMIN, "acme")
    assert permits(service, A.TRANSCRIPTS_READ, "acme")
    assert not permits(service, A.TRANSCRIPTS_READ_SENSITIVE, "acme")
    assert permits(admin, A.TRANSCRIPTS_READ_SENSITIVE, "acme")
    assert not permits(admin, A.TRANSCRIPTS_READ_SENSITIVE, "globex")  # tenant still checked
    for role in (Role.PLATFORM_ADMIN, Role.AUDITOR):
        assert not permits(principal(role, None), A.TRANSCRIPTS_READ_SENSITIVE, "acme")


# Which credentials a principal may issue: tenant roles only, never one with an action the
# issuer does not hold itself. Written out from that rule, not read from the table.
GRANTABLE = {
    Role.TENANT_ADMIN: {Role.TENANT_ADMIN, Role.SERVICE},
    Role.SERVICE: {Role.SERVICE},
    Role.PLATFORM_ADMIN: set(),
    Role.AUDITOR: set(),
}


@pytest.mark.parametrize(("grantor", "role"), list(itertools.product(Role, Role)))
def test_check_grant(grantor: Role, role: Role):
    table = default_table()
    assert table.may_grant(grantor, role) == (role in GRANTABLE[grantor])
    if role in GRANTABLE[grantor]:
        check_grant(who(grantor), role)
    else:
        with pytest.raises(AuthorizationError) as info:
            check_grant(who(grantor), role)
        assert info.value.status_code == 403


def test_grant_rule_follows_the_table_not_role_names():
    table = _table()
    table["roles"]["tenant-admin"]["actions"].remove("analytics:read")  # service holds it
    changed = load_permission_table(json.dumps(table))
    assert not changed.may_grant(Role.TENANT_ADMIN, Role.SERVICE)
    assert changed.may_grant(Role.TENANT_ADMIN, Role.TENANT_ADMIN)


def test_docs_table_matches_the_data_file():
    doc = (REPO / "docs" / "auth.md").read_text()
    start, end = doc.index(BEGIN_MARKER), doc.index(END_MARKER) + len(END_MARKER)
    rendered = render_permission_markdown(default_table())
    assert doc[start:end] + "\n" == rendered, (
        "docs/auth.md is out of date: replace the generated block with "
        "callvault.auth.render_permission_markdown(callvault.auth.default_table())"
    )
