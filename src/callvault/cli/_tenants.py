"""``callvault tenants create|list``."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from callvault import DataClass
from callvault.cli._common import HomeOption, JsonOption, cli_errors, emit_json, open_vault

app = typer.Typer(help="Create and list tenants.", no_args_is_help=True)


@app.command("create")
@cli_errors
def create(
    tenant: str = typer.Argument(..., help="Tenant id: a-z, 0-9 and '-'."),
    dedicated: list[DataClass] = typer.Option(
        [], "--class", "-c", help="Give this data class its own master key (repeatable)."
    ),
    home: Path | None = HomeOption,
    as_json: bool = JsonOption,
) -> None:
    """Create a tenant and its master keys."""
    vault = open_vault(home)
    record = vault.create_tenant(tenant, dedicated)
    keys = [k.key_id for k in vault.list_keys(tenant)]
    if as_json:
        emit_json({"id": record.id, "created_at": record.created_at, "keys": keys})
    else:
        typer.echo(f"created tenant {record.id}; master keys: {', '.join(keys)}")


@app.command("list")
@cli_errors
def list_(home: Path | None = HomeOption, as_json: bool = JsonOption) -> None:
    """List tenants."""
    tenants = open_vault(home).tenants.list()
    if as_json:
        emit_json(
            [
                {
                    "id": t.id,
                    "created_at": t.created_at,
                    "dedicated_classes": sorted(c.value for c in t.dedicated_classes),
                }
                for t in tenants
            ]
        )
        return
    table = Table("tenant", "created", "dedicated class keys")
    for t in tenants:
        table.add_row(t.id, t.created_at, ", ".join(sorted(c.value for c in t.dedicated_classes)))
    Console().print(table)
