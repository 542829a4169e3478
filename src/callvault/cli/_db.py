"""``callvault db migrate|status``: the records schema, applied by its owner.

The API never migrates PostgreSQL itself: it connects as an application role that must not
own the tables (an owner could switch row-level security off; docs/storage.md). So a
deployment runs ``callvault db migrate --grant-to <app role>`` once per release, as the
owner, with the owner's URL in ``CALLVAULT_DB_OWNER_URL`` — an environment variable rather
than an argument, because arguments show in every ``ps`` listing and shell history. The
embedded SQLite database needs none of this (``serve`` migrates it), but the command works
on it too.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import typer

from callvault.cli._admin import admin_action
from callvault.cli._common import HomeOption, JsonOption, cli_errors, emit_json, open_vault
from callvault.config import CONFIG_FILE, default_home

app = typer.Typer(help="Migrate and inspect the records database.", no_args_is_help=True)

OWNER_URL_VARIABLE = "CALLVAULT_DB_OWNER_URL"


def _url(home: Path | None) -> str:
    from callvault.storage.records import embedded_url

    owner = os.environ.get(OWNER_URL_VARIABLE)
    if owner:
        return owner
    vault = open_vault(home)
    return vault.settings.storage.records_url or embedded_url(vault.home)


@contextlib.contextmanager
def _audited(home: Path | None) -> Iterator[dict[str, str]]:
    if not ((home or default_home()) / CONFIG_FILE).exists():
        yield {}
        return
    with admin_action(open_vault(home), "admin.db.migrate") as detail:
        yield detail


@app.command("migrate")
@cli_errors
def migrate(
    grant_to: str | None = typer.Option(
        None,
        "--grant-to",
        help="PostgreSQL: the application role to grant exactly what the API needs.",
    ),
    home: Path | None = HomeOption,
    as_json: bool = JsonOption,
) -> None:
    """Upgrade the records schema to this release's head (as the schema owner)."""
    from callvault.storage.records import create_records_engine, run_migrations

    engine = create_records_engine(_url(home))
    try:
        # Logged in the home's audit log; a migration run with only the owner URL and no
        # home (a deploy job) has no log to write to.
        with _audited(home) as detail:
            head = run_migrations(engine, grant_to=grant_to)
            detail["revision"] = str(head)
    finally:
        engine.dispose()
    if as_json:
        emit_json({"revision": head, "granted_to": grant_to})
    else:
        granted = f"; access granted to {grant_to}" if grant_to else ""
        typer.echo(f"records schema at revision {head}{granted}")


@app.command("status")
@cli_errors
def status(home: Path | None = HomeOption, as_json: bool = JsonOption) -> None:
    """Show the records schema revision; exit 1 when it is behind this release."""
    from callvault.storage.records import create_records_engine, current_revision, head_revision

    engine = create_records_engine(_url(home))
    try:
        with engine.connect() as connection:
            found = current_revision(connection)
        backend = engine.dialect.name
    finally:
        engine.dispose()
    head = head_revision()
    if as_json:
        emit_json({"backend": backend, "revision": found, "head": head, "current": found == head})
    else:
        typer.echo(f"{backend}: revision {found or 'none'} (this release: {head})")
    if found != head:
        raise typer.Exit(1)
