"""Render the permission table as Markdown for ``docs/auth.md``.

The doc embeds this output between markers and a test re-renders it, so the document and
the data file cannot drift apart.
"""

from __future__ import annotations

from callvault.auth._model import Role
from callvault.auth._policy import PermissionTable, Scope

__all__ = ["BEGIN_MARKER", "END_MARKER", "render_permission_markdown"]

BEGIN_MARKER = "<!-- BEGIN GENERATED PERMISSION TABLE -->"
END_MARKER = "<!-- END GENERATED PERMISSION TABLE -->"


def render_permission_markdown(table: PermissionTable) -> str:
    """Both tables (roles, then actions by roles) between the markers, ending in a newline."""
    roles = list(Role)
    lines = [
        BEGIN_MARKER,
        f"Permission table version {table.version} (`src/callvault/auth/permissions.json`).",
        "",
        "| Role | Bound to a tenant | Read-only | Purpose |",
        "| --- | --- | --- | --- |",
    ]
    for role in roles:
        rule = table.roles[role]
        lines.append(
            f"| `{role}` | {_yes(rule.tenant_bound)} | {_yes(rule.read_only)} | "
            f"{rule.description} |"
        )
    lines += [
        "",
        "| Action | Scope | Returns plaintext | " + " | ".join(f"`{r}`" for r in roles) + " |",
        "| --- | --- | --- | " + " | ".join("---" for _ in roles) + " |",
    ]
    for action, spec in table.actions.items():
        scope = "tenant" if spec.scope is Scope.TENANT else "platform"
        cells = " | ".join("✅" if table.allows(r, action) else "—" for r in roles)
        lines.append(f"| `{action}` | {scope} | {_yes(spec.plaintext)} | {cells} |")
    lines.append(END_MARKER)
    return "\n".join(lines) + "\n"


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"
