"""``callvault init``: create a home directory with its configuration and root key."""

from __future__ import annotations

from pathlib import Path

import typer

from callvault import Environment, Vault
from callvault.cli._common import HomeOption, JsonOption, cli_errors, emit_json
from callvault.config import default_home


@cli_errors
def init(
    home: Path | None = HomeOption,
    environment: Environment = typer.Option(
        Environment.DEV, "--environment", "-e", help="dev, staging or prod."
    ),
    external_root_key: bool = typer.Option(
        False,
        "--external-root-key",
        help="Do not create root.key: the root key will come from CALLVAULT_ROOT_KEY or "
        "CALLVAULT_ROOT_PASSPHRASE.",
    ),
    as_json: bool = JsonOption,
) -> None:
    """Create a callvault home: callvault.toml and a fresh 0600 root key."""
    result = Vault.init_home(
        home or default_home(), environment, root_key_file=not external_root_key
    )
    if as_json:
        emit_json(
            {
                "home": str(result.home),
                "environment": result.environment.value,
                "root_key_file": str(result.root_key_file) if result.root_key_file else None,
            }
        )
        return
    typer.echo(f"initialised {result.home} (environment {result.environment.value})")
    if result.root_key_file:
        typer.echo(f"root key: {result.root_key_file} (mode 0600; back it up offline)")
