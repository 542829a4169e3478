"""``callvault evidence export|verify|run-checks``: the signed evidence bundle for auditors,
and one scheduled posture round by hand.

``verify`` exits 0 when the bundle verifies, 1 when it does not (each failure named), 2 on
usage errors. It trusts, in order: ``--public-key FILE`` (the line ``callvault audit
public-key`` prints), the audit key of ``--home`` / ``$CALLVAULT_HOME`` when that home has an
audit log, else only the key inside the bundle, and then it says so.
"""

from __future__ import annotations

import os
from pathlib import Path

import typer

from callvault.audit import AuditLog, NoteVerifier
from callvault.cli._admin import admin_action
from callvault.cli._common import HomeOption, JsonOption, cli_errors, emit_json, open_vault
from callvault.config import default_home
from callvault.errors import CallvaultError, ConfigError
from callvault.posture.evidence import EvidenceVerification, export_evidence, verify_evidence

app = typer.Typer(help="Export and verify the signed evidence bundle.", no_args_is_help=True)


@app.command("export")
@cli_errors
def export(
    out: Path = typer.Argument(..., help="The bundle to write (a .zip)."),
    days: int | None = typer.Option(
        None, "--days", min=1, max=3660, help="Key-access window (default [posture])."
    ),
    home: Path | None = HomeOption,
    as_json: bool = JsonOption,
) -> None:
    """Write scans, lint, keys, audit extract, certificates, egress and the posture
    document with a manifest signed by the audit key."""
    from datetime import timedelta

    vault = open_vault(home)
    window = timedelta(days=days) if days else None
    with admin_action(vault, "admin.evidence.export") as detail:
        result = export_evidence(vault, out, window=window)
        detail["files"] = str(len(result.manifest["files"]))
    if as_json:
        emit_json(
            {
                "path": str(out),
                "created_at": result.manifest["created_at"],
                "files": len(result.manifest["files"]),
                "missing": result.missing,
                "verifier_key": result.verifier_key,
            }
        )
        return
    typer.echo(f"wrote {out}: {len(result.manifest['files'])} files, manifest signed by")
    typer.echo(f"  {result.verifier_key}")
    for item in result.missing:
        typer.echo(f"  not included: {item['item']} ({item['reason']})")


def _trusted(public_key: Path | None, home: Path | None) -> tuple[NoteVerifier | None, str]:
    if public_key is not None and home is not None:
        raise typer.BadParameter("give --public-key or --home, not both")
    if public_key is not None:
        try:
            return NoteVerifier.from_string(public_key.read_text()), "public-key"
        except (OSError, UnicodeDecodeError, CallvaultError) as exc:
            raise typer.BadParameter(f"--public-key: {exc}") from None
    explicit = home is not None
    if home is None and os.environ.get("CALLVAULT_HOME"):
        home = default_home()
    if home is None:
        return None, "embedded"
    if not (home / "audit" / "log.json").is_file():
        if explicit:
            raise typer.BadParameter(f"--home: {home} has no audit log")
        return None, "embedded"
    try:
        return AuditLog.for_vault(open_vault(home, audited=False)).verifier(), "home"
    except CallvaultError as exc:
        raise typer.BadParameter(f"--home: {exc}") from None


@app.command("verify")
def verify(
    bundle: Path = typer.Argument(
        ..., exists=True, dir_okay=False, help="The bundle to check (a .zip)."
    ),
    public_key: Path | None = typer.Option(
        None,
        "--public-key",
        exists=True,
        dir_okay=False,
        help="Trusted verifier key file (callvault audit public-key).",
    ),
    home: Path | None = HomeOption,
    as_json: bool = JsonOption,
) -> None:
    """Check the signature (against a trusted key), every file's hash, no file missing or
    added, and the audit inclusion proofs. Exit 0 verified, 1 failed, 2 usage."""
    trusted, source = _trusted(public_key, home)
    result = _verify(bundle, trusted, source)
    if as_json:
        emit_json(result.to_json())
    else:
        _print(bundle, result)
    if not result.ok:
        raise typer.Exit(1)


@cli_errors
def _verify(bundle: Path, trusted: NoteVerifier | None, source: str) -> EvidenceVerification:
    return verify_evidence(bundle, trusted, source)


def _print(bundle: Path, result: EvidenceVerification) -> None:
    for failure in result.failures:
        where = f" {failure.member}" if failure.member else ""
        typer.echo(f"FAILED ({failure.code}){where}: {failure.message}")
    if not result.ok:
        return
    typer.echo(
        f"verified: {bundle} ({result.files} files, {result.proofs} audit proofs) "
        f"signed by {result.signer}"
    )
    if result.trust == "embedded":
        typer.echo(
            "warning: checked against the key embedded in the bundle only: it is intact, "
            "but its origin is unproven; pass --home or --public-key",
            err=True,
        )
    for item in (result.manifest or {}).get("missing", []):
        typer.echo(f"  not included: {item.get('item')} ({item.get('reason')})")


@app.command("run-checks")
@cli_errors
def run_checks(home: Path | None = HomeOption, as_json: bool = JsonOption) -> None:
    """Run one scheduled posture round now (scans and lint from [posture]); exit 1 if a
    run failed (it is recorded as a failed report)."""
    from callvault.posture.schedule import run_round

    vault = open_vault(home, audited=False)
    settings = vault.settings.posture
    if not settings.scheduled:
        raise ConfigError("nothing to check: [posture] lists no scan_targets or lint_paths")
    result = run_round(vault.home, settings)
    if as_json:
        emit_json(result.to_json())
    else:
        for path in result.recorded:
            typer.echo(f"recorded {path.parent.name}/{path.name}")
        for failure in result.failures:
            typer.echo(f"failed {failure['kind']} {failure['subject']}: {failure['message']}")
    if result.failures:
        raise typer.Exit(1)
