"""``callvault erase`` and ``callvault erasures list|cancel|run-due|verify-receipt|public-key``.

Over the stores ``[storage]`` configures (the same ones ``serve`` uses). ``run-due`` is
what a scheduler (cron, a systemd timer) runs; it writes each receipt to
``<home>/receipts/<erasure id>.json`` as well as keeping it with the request.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer

from callvault._atomic import atomic_write
from callvault.cli._admin import admin_action
from callvault.cli._common import HomeOption, JsonOption, cli_errors, emit_json, open_vault
from callvault.erasure import ErasureRequest, Erasures, Target, load_public_key, verify_receipt

__all__ = ["app", "erase"]

RECEIPTS_DIR = "receipts"

app = typer.Typer(
    help="Erasure requests: list, cancel, run the due ones, verify receipts.", no_args_is_help=True
)


@contextmanager
def _erasures(home: Path | None, action: str | None = None) -> Iterator[Erasures]:
    """The home's erasure service; with ``action``, the command is logged as an admin act
    (the service logs each request's own ``erasure.*`` entries as well)."""
    from callvault.api import ApiServices  # the store wiring, not the HTTP stack

    vault = open_vault(home)
    services = ApiServices.from_settings(vault)
    try:
        erasures = Erasures(vault, services.objects, services.records)
        if action is None:
            yield erasures
        else:
            with admin_action(vault, action):
                yield erasures
    finally:
        services.close()


def _line(r: ErasureRequest) -> str:
    target = r.target if r.record_kind is None else f"{r.record_kind.value} {r.target}"
    due = f"{r.due_at:%Y-%m-%d %H:%M} UTC"
    return f"{r.id}  {r.tenant}  {r.kind.value}:{target}  {r.state.value}  due {due}"


@cli_errors
def erase(
    tenant: str = typer.Option(..., "--tenant", "-t", help="The tenant."),
    subject: str | None = typer.Option(
        None, "--subject", "-s", help="A caller (E.164, sip:, anon:)."
    ),
    record: str | None = typer.Option(
        None, "--record", "-r", help="A recording, transcript or analytics id."
    ),
    all_: bool = typer.Option(False, "--all", help="The whole tenant."),
    grace_days: int | None = typer.Option(
        None, "--grace-days", help="7-30 (default 7; 0 in dev only)."
    ),
    home: Path | None = HomeOption,
    as_json: bool = JsonOption,
) -> None:
    """Schedule an erasure: after the grace period, `erasures run-due` destroys the keys,
    deletes the data and signs a receipt. Cancel with `erasures cancel ID` until then."""
    with _erasures(home) as erasures:
        request = erasures.schedule(
            tenant, Target(subject=subject, record=record, tenant=all_), grace_days
        )
    if as_json:
        emit_json(request.as_json())
    else:
        typer.echo(f"scheduled {_line(request)}")


@app.command("list")
@cli_errors
def list_(
    tenant: str | None = typer.Option(None, "--tenant", "-t", help="Only this tenant."),
    home: Path | None = HomeOption,
    as_json: bool = JsonOption,
) -> None:
    """List erasure requests (subjects appear as blind ids, never as numbers)."""
    with _erasures(home) as erasures:
        requests = erasures.list_requests(tenant)
    if as_json:
        emit_json([r.as_json() for r in requests])
    else:
        for request in requests:
            typer.echo(_line(request))


@app.command("cancel")
@cli_errors
def cancel(
    erasure_id: str = typer.Argument(..., help="The request id (er_…)."),
    home: Path | None = HomeOption,
    as_json: bool = JsonOption,
) -> None:
    """Cancel a scheduled erasure within its grace period."""
    with _erasures(home) as erasures:
        request = erasures.cancel(erasure_id)
    if as_json:
        emit_json(request.as_json())
    else:
        typer.echo(f"cancelled {_line(request)}")


@app.command("run-due")
@cli_errors
def run_due(home: Path | None = HomeOption, as_json: bool = JsonOption) -> None:
    """Execute every erasure whose grace period is over; write each signed receipt."""
    with _erasures(home, "admin.erasures.run_due") as erasures:
        done = erasures.run_due()
        directory = erasures.home / RECEIPTS_DIR
    out: list[dict[str, Any]] = []
    for request in done:
        assert request.receipt is not None
        directory.mkdir(mode=0o700, exist_ok=True)
        path = directory / f"{request.id}.json"
        atomic_write(path, request.receipt.encode())
        out.append({**request.as_json(), "receipt_file": str(path)})
    if as_json:
        emit_json(out)
    else:
        for request, entry in zip(done, out, strict=True):
            typer.echo(f"done {_line(request)}  receipt {entry['receipt_file']}")
        if not done:
            typer.echo("nothing due")


@app.command("verify-receipt")
@cli_errors
def verify(
    file: Path = typer.Argument(..., help="A receipt file."),
    public_key: Path | None = typer.Option(
        None, "--public-key", help="PEM (or base64 raw) Ed25519 key; default: this home's."
    ),
    home: Path | None = HomeOption,
    as_json: bool = JsonOption,
) -> None:
    """Check a receipt's signature and print what it attests; exit 1 if it fails."""
    key = load_public_key(public_key.read_bytes() if public_key else _home_pem(home))
    verified = verify_receipt(file.read_bytes(), key)
    body = verified.body
    if as_json:
        emit_json({"valid": True, "kid": verified.kid, "receipt": body})
        return
    deleted = ", ".join(f"{k} {v}" for k, v in sorted(body["deleted"].items()))
    destroyed = body["destroyed"]
    typer.echo(f"valid receipt {body['erasure_id']} (key {verified.kid})")
    typer.echo(
        f"  {body['kind']} erasure in tenant {body['tenant']} ({body['environment']}): "
        f"{body['target']}"
    )
    typer.echo(f"  completed {body['completed_at']}, requested {body['requested_at']}")
    for master in destroyed.get("master_keys", []):
        if master.get("outcome") == "deletion_scheduled":
            state = f"disabled, deletion scheduled for {master['deletion_date']}"
        else:
            state = master["state"]
        typer.echo(f"  master key {master['key_id']}: {state}")
    typer.echo(f"  managed keys destroyed: {len(destroyed.get('managed_keys', []))}")
    typer.echo(f"  deleted: {deleted}")


@app.command("public-key")
@cli_errors
def public_key_command(home: Path | None = HomeOption) -> None:
    """Print this home's receipt-verification key (PEM), for verifiers elsewhere."""
    typer.echo(_home_pem(home).decode(), nl=False)


def _home_pem(home: Path | None) -> bytes:
    from callvault.erasure import ReceiptKey

    vault = open_vault(home)
    return ReceiptKey(vault.home, vault.provider).public_pem()
