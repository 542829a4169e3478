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
from cryptography import x509
from rich.console import Console
from rich.table import Table

from callvault._vault import Vault
from callvault.cli._admin import admin_action
from callvault.cli._common import HomeOption, JsonOption, cli_errors, emit_json, open_vault
from callvault.keys._cadence import (
    Cadence,
    DueState,
    KeyKind,
    ScheduledKey,
    rotate_due,
    rotation_status,
    scheduled,
)

__all__ = ["rotate_due_command", "status"]

_TLS_CERT = Path("tls") / "server.pem"


def _signing_key(vault: Vault, cadence: Cadence, now: datetime) -> list[ScheduledKey]:
    from callvault.auth import SigningKeyRing

    current = [k for k in SigningKeyRing(vault.home, vault.provider).list_keys() if k.current]
    return [
        scheduled(
            f"jwt-signing/{k.kid}",
            KeyKind.SIGNING,
            k.created_at,
            k.created_at,
            cadence,
            now,
            "automatic (next token minted or serve's timer), 7-day grace",
        )
        for k in current
    ]


def _certificate(vault: Vault, cadence: Cadence, now: datetime) -> list[ScheduledKey]:
    path = vault.home / _TLS_CERT
    if not path.exists():
        return []
    leaf = x509.load_pem_x509_certificates(path.read_bytes())[0]
    issued, expires = leaf.not_valid_before_utc, leaf.not_valid_after_utc
    due = min(issued + cadence.tls_certificate, expires - cadence.warn_before)
    return [
        scheduled(
            f"tls/server.pem (expires {expires:%Y-%m-%d})",
            KeyKind.TLS,
            issued,
            issued,
            cadence,
            now,
            "automatic at serve start",
            due=due,
        )
    ]


def collect(vault: Vault, now: datetime) -> list[ScheduledKey]:
    cadence = vault.settings.rotation.cadence()
    return [
        *rotation_status(vault.provider.list_keys(), cadence, now),
        *_signing_key(vault, cadence, now),
        *_certificate(vault, cadence, now),
    ]


@cli_errors
def status(
    check: bool = typer.Option(False, "--check", help="Exit 1 when any key is overdue."),
    home: Path | None = HomeOption,
    as_json: bool = JsonOption,
) -> None:
    """Every scheduled key: age, last rotation, next due date, overdue ones flagged."""
    now = datetime.now(UTC)
    items = collect(open_vault(home, audited=False), now)  # metadata reads only
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
