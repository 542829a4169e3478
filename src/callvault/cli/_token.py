"""``callvault token``: mint a bearer token for the API (stdout: the JWT, nothing else).

Minting needs the home directory and its KMS (the signing key is KMS-wrapped), so only an
operator with the home can mint; the printed token is a secret and is never logged.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from callvault.auth import Role, SigningKeyRing, TokenService
from callvault.cli._admin import admin_action
from callvault.cli._common import HomeOption, cli_errors, open_vault


@cli_errors
def token(
    role: Role = typer.Option(
        ..., "--role", help="platform-admin, tenant-admin, service or auditor."
    ),
    tenant: str | None = typer.Option(
        None, "--tenant", help="Tenant the token is bound to (tenant-admin and service)."
    ),
    ttl: int = typer.Option(900, "--ttl", min=1, max=86400, help="Lifetime in seconds."),
    home: Path | None = HomeOption,
) -> None:
    """Print a signed JWT for ROLE (and TENANT) on stdout."""
    vault = open_vault(home)
    with admin_action(vault, "admin.token.mint", tenant=tenant) as detail:
        detail.update(role=role.value, ttl=str(ttl))
        if tenant is not None:
            vault.tenants.get(tenant)  # a token for a tenant that does not exist is a mistake
        keyring = SigningKeyRing(vault.home, vault.provider)
        minted = TokenService(keyring).mint(role, tenant, ttl=ttl)
    sys.stdout.write(minted + "\n")
