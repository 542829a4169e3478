"""``callvault keys list|rotate|status|rotate-due|rewrap|retire|revoke``: master keys, their
versions, states and rotation schedule; rewrap after a rotation and retirement of old
versions (``_rewrap``); revocation of a compromised version (``_revoke``). Never key bytes."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from callvault import DataClass, InvalidRequest
from callvault.cli import _revoke, _rewrap, _rotation
from callvault.cli._admin import admin_action
from callvault.cli._common import HomeOption, JsonOption, cli_errors, emit_json, open_vault

app = typer.Typer(help="Inspect and rotate master keys.", no_args_is_help=True)


@app.command("list")
@cli_errors
def list_(
    tenant: str | None = typer.Option(None, "--tenant", "-t", help="Only this tenant's keys."),
    home: Path | None = HomeOption,
    as_json: bool = JsonOption,
) -> None:
    """List master keys with their versions and state."""
    keys = open_vault(home).list_keys(tenant)
    if as_json:
        emit_json([k.as_json() for k in keys])
        return
    table = Table("key id", "provider", "state", "primary", "versions", "rotated")
    for k in keys:
        table.add_row(
            k.key_id,
            k.provider,
            k.state.value,
            f"v{k.primary_version}",
            ",".join(str(v) for v in k.versions),
            k.rotated_at.strftime("%Y-%m-%d %H:%M"),
        )
    Console().print(table)


@app.command("rotate")
@cli_errors
def rotate(
    tenant: str = typer.Option(..., "--tenant", "-t", help="Tenant whose master key rotates."),
    data_class: DataClass | None = typer.Option(
        None, "--class", "-c", help="Rotate the key that protects this class."
    ),
    home: Path | None = HomeOption,
    as_json: bool = JsonOption,
) -> None:
    """Add a new master key version; new wraps use it, old versions still decrypt."""
    vault = open_vault(home)
    scope = data_class.value if data_class else "default"
    with admin_action(vault, "admin.key.rotate", tenant=tenant) as detail:
        detail["class"] = scope
        key = vault.rotate_key(tenant, data_class)
        detail["primary_version"] = str(key.primary_version)
    if as_json:
        emit_json(key.as_json())
    else:
        typer.echo(f"rotated {key.key_id}: primary version is now v{key.primary_version}")


app.command("status")(_rotation.status)
app.command("rotate-due")(_rotation.rotate_due_command)
app.command("rewrap")(_rewrap.rewrap_command)
app.command("retire")(_rewrap.retire_command)
app.command("revoke")(_revoke.revoke_command)


@app.command("create")
@cli_errors
def create(
    provider: str = typer.Option(..., "--provider", help="A provider name from [kms_providers]."),
    key_id: str = typer.Option(..., "--key-id", help="<environment>/<tenant>/<name>"),
    home: Path | None = HomeOption,
    as_json: bool = JsonOption,
) -> None:
    """Create a master key on a named provider (e.g. a tenant's own HSM), to register with
    ``tenants customer-key set``. Tenants' own master keys are created with the tenant."""
    vault = open_vault(home)
    named = vault.named_providers
    with admin_action(vault, "admin.key.create", key_id=key_id) as detail:
        detail["provider"] = provider
        if provider not in named:
            raise InvalidRequest(f"no KMS provider named {provider!r} in [kms_providers]")
        key = named[provider].create_key(key_id, {"purpose": "customer-managed"})
    if as_json:
        emit_json(key.as_json())
    else:
        typer.echo(f"created {key.key_id} on {provider}")
