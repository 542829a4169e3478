"""``callvault backup create OUT`` and ``callvault backup restore IN --home EMPTY_HOME``.

``create`` backs up the stores ``[storage]`` names (the same ones ``serve`` uses);
``restore`` rebuilds a home in an empty directory and re-applies every erasure tombstone
written since (docs/backup.md). Both print a summary (``--json`` for data).
"""

from __future__ import annotations

from pathlib import Path

import typer

from callvault._ids import Environment
from callvault.cli._admin import admin_action
from callvault.cli._common import HomeOption, JsonOption, cli_errors, emit_json, open_vault
from callvault.config import default_home

__all__ = ["app"]

app = typer.Typer(help="Encrypted backups: create one, restore one.", no_args_is_help=True)


@app.command("create")
@cli_errors
def create(
    out: Path = typer.Argument(..., help="The backup file to write (0600, atomically)."),
    home: Path | None = HomeOption,
    as_json: bool = JsonOption,
) -> None:
    """Back up records, objects and key metadata, sealed under the environment's backup
    key. The tombstone ledger, the audit log, root.key and tls/ are never included."""
    from callvault.api import ApiServices  # the store wiring, not the HTTP stack
    from callvault.backup import create_backup

    vault = open_vault(home)
    services = ApiServices.from_settings(vault)
    try:
        with admin_action(vault, "admin.backup.create") as detail:
            summary = create_backup(vault, out, services.objects)
            detail.update(backup_id=summary.backup_id, objects=str(summary.objects))
    finally:
        services.close()
    if as_json:
        emit_json(summary.as_json())
        return
    rows = ", ".join(f"{n} {t}" for t, n in sorted(summary.records.items()))
    typer.echo(
        f"backup {summary.backup_id} ({summary.environment}) -> {summary.path}: "
        f"{summary.objects} objects, {rows}, {summary.bytes} bytes; "
        f"key {summary.key_id} v{summary.key_version}"
    )


@app.command("restore")
@cli_errors
def restore(
    source: Path = typer.Argument(..., help="The backup file."),
    home: Path | None = HomeOption,
    environment: Environment = typer.Option(
        ...,
        "--environment",
        envvar="CALLVAULT_ENVIRONMENT",
        help="The environment restored into; a backup of another one is refused.",
    ),
    root_key: Path | None = typer.Option(
        None,
        "--root-key",
        help="Local KMS: the root key file (else CALLVAULT_ROOT_KEY / _PASSPHRASE); "
        "it becomes the restored home's root.key.",
    ),
    tombstones: Path | None = typer.Option(
        None, "--tombstones", help="The tombstone ledger directory of the backed-up home."
    ),
    accept_empty_ledger: bool = typer.Option(
        False,
        "--accept-empty-ledger",
        help="Restore without a ledger (first-ever restore only: erasures made after the "
        "backup would NOT be re-applied).",
    ),
    as_json: bool = JsonOption,
) -> None:
    """Restore into an empty home: verify the whole backup, re-apply every erasure
    tombstone, then make the home appear in one rename. Nothing is written on failure."""
    from callvault.backup import restore_backup

    summary = restore_backup(
        source,
        home or default_home(),
        environment,
        root_key_file=root_key,
        tombstones=tombstones,
        accept_empty_ledger=accept_empty_ledger,
    )
    # The restored home's (new) log records where it came from, before success is reported.
    with admin_action(open_vault(summary.home), "admin.backup.restore") as detail:
        detail.update(
            backup_id=summary.backup_id,
            backup_created_at=summary.created_at,
            tombstones=str(summary.tombstones["tombstones"]),
        )
    if as_json:
        emit_json(summary.as_json())
        return
    rows = ", ".join(f"{n} {t}" for t, n in sorted(summary.records.items()))
    applied = summary.tombstones
    typer.echo(
        f"restored backup {summary.backup_id} of {summary.created_at} into {summary.home}: "
        f"{summary.objects} objects, {rows}; {applied['tombstones']} tombstones re-applied"
    )
