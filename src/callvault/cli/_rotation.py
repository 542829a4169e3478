"""``callvault keys status`` and ``callvault keys rotate-due``: the rotation cadence.

``status`` lists every scheduled key (tenant master keys, backup keys, the platform's key
encryption keys, the current JWT signing key and ``serve``'s TLS certificate) with its age,
last rotation and next due date, and flags the overdue ones; ``--check`` makes an overdue
key a non-zero exit for CI or monitoring. ``rotate-due`` rotates what is overdue.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from callvault.cli._admin import admin_action
from callvault.cli._common import HomeOption, JsonOption, cli_errors, emit_json, open_vault
from callvault.keys._cadence import DueState, rotate_due
from callvault.lifecycle._schedule import rotation_schedule

__all__ = ["rotate_due_command", "status"]


@cli_errors
def status(
    check: bool = typer.Option(False, "--check", help="Exit 1 when any key is overdue."),
    home: Path | None = HomeOption,
    as_json: bool = JsonOption,
) -> None:
    """Every scheduled key: age, last rotation, next due date, overdue ones flagged."""
    now = datetime.now(UTC)
    items = rotation_schedule(open_vault(home, audited=False), now)  # metadata reads only
    if as_json:
        emit_json([item.as_json(now) for item in items])
    else:
        table = Table("key", "kind", "age (days)", "last rotated", "next due", "state")
        colours = {DueState.OK: "green", DueState.DUE_SOON: "yellow", DueState.OVERDUE: "red"}
        for item in items:
            table.add_row(
                item.name,
                item.kind.value,
                f"{item.age(now).days}",
                f"{item.last_rotated:%Y-%m-%d}",
                f"{item.next_due:%Y-%m-%d}",
                f"[{colours[item.state]}]{item.state.value}[/]",
            )
        Console().print(table)
    if check and any(item.state is DueState.OVERDUE for item in items):
        raise typer.Exit(1)


@cli_errors
def rotate_due_command(home: Path | None = HomeOption, as_json: bool = JsonOption) -> None:
    """Rotate every overdue master key and the JWT signing key if it is due."""
    from callvault.auth import SigningKeyRing

    vault = open_vault(home)
    with admin_action(vault, "admin.key.rotate_due") as detail:
        cadence = vault.settings.rotation.cadence()
        rotated = [k.key_id for k in rotate_due(vault.provider, cadence)]
        for key_id in rotated:
            vault.cache.evict(key_id)
        signing = SigningKeyRing(vault.home, vault.provider).rotate_if_due()
        detail.update(rotated=str(len(rotated)), signing_key_rotated=str(signing).lower())
    if as_json:
        emit_json({"rotated": rotated, "signing_key_rotated": signing})
    else:
        names = ", ".join(rotated) or "no master key"
        typer.echo(f"rotated {names}; JWT signing key {'rotated' if signing else 'not due'}")
