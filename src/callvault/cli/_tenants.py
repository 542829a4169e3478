"""``callvault tenants create|list`` and ``callvault tenants customer-key set|remove|list``."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from callvault import DataClass
from callvault.cli._admin import admin_action
from callvault.cli._common import HomeOption, JsonOption, cli_errors, emit_json, open_vault
from callvault.tenants import Tenant

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
    with admin_action(vault, "admin.tenant.create", tenant=tenant) as detail:
        record = vault.create_tenant(tenant, dedicated)
        keys = [k.key_id for k in vault.list_keys(tenant)]
        detail["master_keys"] = str(len(keys))
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


customer_app = typer.Typer(
    help="A tenant's own (customer-managed) keys, per data class.", no_args_is_help=True
)
app.add_typer(customer_app, name="customer-key")


def _customer_rows(tenant: Tenant) -> list[dict[str, str]]:
    return [
        {
            "class": c.value,
            "provider": k.provider,
            "key_id": k.key_id,
            "registered_at": k.registered_at,
        }
        for c, k in sorted(tenant.customer_keys.items())
    ]


def _show(tenant: Tenant, as_json: bool) -> None:
    rows = _customer_rows(tenant)
    if as_json:
        emit_json(rows)
        return
    table = Table("class", "provider", "key id", "registered")
    for row in rows:
        table.add_row(row["class"], row["provider"], row["key_id"], row["registered_at"])
    Console().print(table)


@customer_app.command("set")
@cli_errors
def customer_set(
    tenant: str = typer.Option(..., "--tenant", "-t", help="The tenant."),
    data_class: DataClass = typer.Option(..., "--class", "-c", help="The data class."),
    provider: str = typer.Option(..., "--provider", help="A name from [kms_providers]."),
    key_id: str = typer.Option(..., "--key-id", help="<environment>/<tenant>/<name>"),
    home: Path | None = HomeOption,
    as_json: bool = JsonOption,
) -> None:
    """Wrap the class under the tenant's own key from now on (its subject keys move too)."""
    vault = open_vault(home)
    with admin_action(vault, "admin.customer_key.set", tenant=tenant, key_id=key_id) as detail:
        detail.update({"class": data_class.value, "provider": provider})
        record = vault.customer_keys.register(tenant, data_class, provider, key_id)
    _show(record, as_json)


@customer_app.command("remove")
@cli_errors
def customer_remove(
    tenant: str = typer.Option(..., "--tenant", "-t", help="The tenant."),
    data_class: DataClass = typer.Option(..., "--class", "-c", help="The data class."),
    home: Path | None = HomeOption,
    as_json: bool = JsonOption,
) -> None:
    """Back to the tenant's own master key for the class."""
    vault = open_vault(home)
    with admin_action(vault, "admin.customer_key.remove", tenant=tenant) as detail:
        detail["class"] = data_class.value
        record = vault.customer_keys.remove(tenant, data_class)
    _show(record, as_json)


@customer_app.command("list")
@cli_errors
def customer_list(
    tenant: str = typer.Option(..., "--tenant", "-t", help="The tenant."),
    home: Path | None = HomeOption,
    as_json: bool = JsonOption,
) -> None:
    """The tenant's customer-managed keys."""
    _show(open_vault(home).tenants.get(tenant), as_json)
