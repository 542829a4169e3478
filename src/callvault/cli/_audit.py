"""``callvault audit verify|export|checkpoint|public-key``: the tamper-evident audit log.

``verify`` exits 1 when it finds tampering and names the entry; ``export`` writes opened
entries as JSON lines (caller values stay HMACs); ``public-key`` prints the checkpoint
verifier key a witness configures.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import typer

from callvault.audit import AuditLog, NoteVerifier, verify_log
from callvault.cli._common import (
    HomeOption,
    JsonOption,
    atomic_output,
    cli_errors,
    emit_json,
    open_vault,
)
from callvault.errors import InvalidRequest

app = typer.Typer(help="Verify, export and checkpoint the audit log.", no_args_is_help=True)


def _log(home: Path | None) -> AuditLog:
    return AuditLog.for_vault(open_vault(home, audited=False))


def _when(text: str | None, what: str) -> datetime | None:
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidRequest(f"--{what} must be an ISO 8601 date or time") from None
    if value.tzinfo is None:
        raise InvalidRequest(f"--{what} needs a timezone (e.g. 2026-01-01T00:00:00Z)")
    return value


@app.command("verify")
@cli_errors
def verify(
    key: str | None = typer.Option(
        None, "--key", help="Pin the checkpoint verifier key (name+id+base64)."
    ),
    home: Path | None = HomeOption,
    as_json: bool = JsonOption,
) -> None:
    """Recompute the log and its Merkle tree; report any tampering and where."""
    trusted = NoteVerifier.from_string(key) if key else None
    report = verify_log(_log(home), trusted)
    if as_json:
        emit_json(report.as_json())
    else:
        for warning in report.warnings:
            typer.echo(f"warning: {warning.message}", err=True)
        for finding in report.findings:
            where = f"entry {finding.index}" if finding.index is not None else "log"
            typer.echo(f"TAMPERED ({finding.kind}) at {where}: {finding.message}")
        if report.ok:
            typer.echo(
                f"ok: {report.entries} entries, root {report.root}, "
                f"{report.checkpoints} signed checkpoint(s) consistent"
            )
    if not report.ok:
        raise typer.Exit(1)


@app.command("export")
@cli_errors
def export(
    since: str | None = typer.Option(None, "--since", help="From this time (inclusive)."),
    until: str | None = typer.Option(None, "--until", help="Up to this time (exclusive)."),
    out: str = typer.Option("-", "--out", "-o", help="Output file ('-': stdout)."),
    home: Path | None = HomeOption,
) -> None:
    """Write the entries of a time range as JSON lines."""
    log = _log(home)
    entries = log.entries(_when(since, "since"), _when(until, "until"))
    with atomic_output(out) as handle:
        for entry in entries:
            handle.write(json.dumps(entry.as_json(), sort_keys=True).encode() + b"\n")


@app.command("checkpoint")
@cli_errors
def checkpoint(home: Path | None = HomeOption, as_json: bool = JsonOption) -> None:
    """Sign and store a checkpoint of the log now; print the signed note."""
    point, note = _log(home).checkpoint()
    if as_json:
        emit_json({"origin": point.origin, "size": point.size, "note": note})
    else:
        typer.echo(note, nl=False)


@app.command("public-key")
@cli_errors
def public_key(home: Path | None = HomeOption) -> None:
    """Print the checkpoint verifier key (C2SP signed-note format) for witnesses."""
    typer.echo(str(_log(home).verifier()))
