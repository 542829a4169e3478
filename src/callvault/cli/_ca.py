"""``callvault ca init|issue|list|revoke``: the internal CA of the home directory.

A thin client of :mod:`callvault.transport.ca`. The CA lives in ``<home>/ca``; the offline
root in ``<home>/ca-root`` unless ``--root-dir`` says otherwise. Private keys are never
printed: ``issue`` prints the paths of the files it wrote.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from callvault.cli._common import HomeOption, JsonOption, cli_errors, emit_json
from callvault.config import default_home
from callvault.transport.ca import (
    DEFAULT_SERVICE_TTL,
    DEFAULT_TRUST_DOMAIN,
    REVOCATION_REASONS,
    InternalCa,
    KeyAlgorithm,
)

app = typer.Typer(
    help="The internal CA: SPIFFE service certificates for mTLS.", no_args_is_help=True
)


def _ca_dir(home: Path | None) -> Path:
    return (home or default_home()) / "ca"


@app.command("init")
@cli_errors
def init(
    trust_domain: str = typer.Option(
        DEFAULT_TRUST_DOMAIN, "--trust-domain", help="SPIFFE trust domain, e.g. example.org."
    ),
    root_dir: Path | None = typer.Option(
        None, "--root-dir", help="Where the offline root goes (default: <home>/ca-root)."
    ),
    home: Path | None = HomeOption,
    as_json: bool = JsonOption,
) -> None:
    """Create the offline root and the online intermediate."""
    base = home or default_home()
    root = root_dir or base / "ca-root"
    ca = InternalCa.init(base / "ca", root, trust_domain=trust_domain)
    if as_json:
        emit_json(
            {
                "trust_domain": ca.trust_domain,
                "ca_dir": str(ca.layout.ca_dir),
                "root_dir": str(root),
                "trust_bundle": str(ca.trust_bundle),
            }
        )
        return
    typer.echo(f"internal CA for spiffe://{ca.trust_domain} in {ca.layout.ca_dir}")
    typer.echo(f"trust bundle: {ca.trust_bundle}")
    typer.echo(
        f"offline root: {root} — move it off this machine; it is only needed to "
        "re-sign the intermediate"
    )


@app.command("issue")
@cli_errors
def issue(
    service: str = typer.Argument(..., help="Service name; becomes spiffe://<domain>/<service>."),
    ttl: str = typer.Option(
        f"{int(DEFAULT_SERVICE_TTL.total_seconds() // 3600)}h",
        "--ttl",
        help="Lifetime, 1h..30d (e.g. 90m, 24h, 7d).",
    ),
    dns: list[str] = typer.Option([], "--dns", help="DNS SAN for the listener (repeatable)."),
    ip: list[str] = typer.Option([], "--ip", help="IP SAN for the listener (repeatable)."),
    key_type: KeyAlgorithm = typer.Option(KeyAlgorithm.ECDSA_P256, "--key-type"),
    home: Path | None = HomeOption,
    as_json: bool = JsonOption,
) -> None:
    """Issue a short-lived service certificate; prints file paths, never the key."""
    issued = InternalCa.open(_ca_dir(home)).issue(
        service, ttl=ttl, dns=dns, ips=ip, key_algorithm=key_type
    )
    doc = {
        "service": issued.service,
        "spiffe_id": issued.spiffe_id,
        "serial": issued.serial,
        "not_after": issued.not_after.isoformat(),
        "cert": str(issued.cert),
        "chain": str(issued.chain),
        "key": str(issued.key),
        "trust_bundle": str(issued.trust_bundle),
    }
    if as_json:
        emit_json(doc)
        return
    for name, value in doc.items():
        typer.echo(f"{name}: {value}")


@app.command("list")
@cli_errors
def list_(home: Path | None = HomeOption, as_json: bool = JsonOption) -> None:
    """Inventory: every certificate of the hierarchy and its status."""
    inventory = InternalCa.open(_ca_dir(home)).inventory()
    if as_json:
        emit_json(inventory.to_json())
        return
    table = Table("role", "SPIFFE ID / subject", "serial", "not after", "status", "sha256")
    for info, status in inventory.certificates:
        table.add_row(
            info.role,
            info.spiffe_id or info.subject,
            info.serial,
            f"{info.not_after:%Y-%m-%d %H:%M}Z",
            status.value,
            info.sha256[:16],
        )
    Console(width=200).print(table)


@app.command("revoke")
@cli_errors
def revoke(
    target: str = typer.Argument(
        ..., help="A serial (hex) or a service name (all its live certificates)."
    ),
    reason: str = typer.Option("unspecified", "--reason", help=", ".join(REVOCATION_REASONS)),
    home: Path | None = HomeOption,
    as_json: bool = JsonOption,
) -> None:
    """Revoke; verifiers refuse the certificate from their next handshake on."""
    serials = InternalCa.open(_ca_dir(home)).revoke(target, reason=reason)
    if as_json:
        emit_json({"revoked": serials})
        return
    for serial in serials:
        typer.echo(f"revoked {serial}")
