"""``callvault keys revoke``: a master key version leaked; re-encrypt what it exposes.

Through ``callvault.lifecycle.revoke`` over the stores ``[storage]`` configures (the same
ones ``serve`` and ``keys rewrap`` use). A dry run counts what would be re-encrypted and
re-keyed and writes nothing. Exit status 1 unless the version ended retired.
"""

from __future__ import annotations

from pathlib import Path

import typer

from callvault import DataClass
from callvault.cli._admin import admin_action
from callvault.cli._common import HomeOption, JsonOption, cli_errors, emit_json
from callvault.cli._rewrap import _services

__all__ = ["revoke_command"]


@cli_errors
def revoke_command(
    tenant: str = typer.Option(..., "--tenant", "-t", help="Tenant whose master key leaked."),
    data_class: DataClass | None = typer.Option(
        None, "--class", "-c", help="The key that protects this class (as for rotate)."
    ),
    version: int = typer.Option(..., "--version", min=1, help="The compromised version."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Count what is exposed; write nothing."),
    home: Path | None = HomeOption,
    as_json: bool = JsonOption,
) -> None:
    """Revoke a compromised master key version: re-encrypt every value whose DEK it wrapped,
    re-key every subject key it ever wrapped, rewrap the rest, retire it and all below.

    Resumable: after a crash (or failures), rerun the same command.
    """
    from callvault.lifecycle import revoke

    vault, services = _services(home)
    try:
        with admin_action(vault, "admin.key.revoke", tenant=tenant) as detail:
            detail.update(version=str(version), dry_run=str(dry_run).lower())
            report = revoke(
                vault,
                services.objects,
                services.records,
                tenant=tenant,
                version=version,
                data_class=data_class,
                dry_run=dry_run,
            )
            detail["complete"] = str(report.complete).lower()
    finally:
        services.close()
    data = report.as_json()
    if as_json:
        emit_json(data)
    else:
        verb = "would re-encrypt" if dry_run else "re-encrypted"
        done = data["exposed"] if dry_run else data["reencrypted"]
        typer.echo(
            f"{report.key_id} v{version}: {verb} {done}, subjects re-keyed "
            f"{data['subjects_rekeyed']}/{data['subjects']}, rewrapped {data['rewrapped']}, "
            f"conflicts {data['conflicts']}, failed {data['failed']}"
            + (f"; retired below v{report.min_decrypt_version}" if report.complete else "")
        )
        for failure in data["failures"]:
            typer.echo(f"  failed: {failure['item']} ({failure['error']})", err=True)
    if not dry_run and not report.complete:
        raise typer.Exit(1)
