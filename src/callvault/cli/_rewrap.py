"""``callvault keys rewrap`` and ``callvault keys retire``: after a rotation, move every
stored DEK and managed key to the primary master-key version, then retire the old ones.

Both run over the stores ``[storage]`` configures (the same ones ``serve`` uses), through
the library's ``callvault.lifecycle``; the bar is drawn from its progress observer.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

from callvault import DataClass
from callvault.cli._admin import admin_action
from callvault.cli._common import HomeOption, JsonOption, cli_errors, emit_json, open_vault, stderr

if TYPE_CHECKING:
    from callvault import Vault
    from callvault.api import ApiServices
    from callvault.lifecycle import Observer, RewrapReport

__all__ = ["retire_command", "rewrap_command"]

# callvault.lifecycle (and the API's store wiring it shares) is imported by the commands
# themselves: it costs a second of start-up that no other command should pay.
DEFAULT_BATCH = 500  # callvault.lifecycle.DEFAULT_BATCH; a test checks they agree
TenantOption = typer.Option(None, "--tenant", "-t", help="Only this tenant (default: all).")


@contextlib.contextmanager
def _bar(enabled: bool) -> Iterator[Observer | None]:
    """An item-count bar on stderr when it is a terminal; ``None`` (no observer) otherwise."""
    if not enabled or not stderr.is_terminal:
        yield None
        return
    columns = (BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=stderr, transient=True) as progress:
        task = progress.add_task("rewrap", total=None)

        def observe(advance: int, total: int) -> None:
            progress.update(task, total=total, advance=advance)

        yield observe


def _services(home: Path | None) -> tuple[Vault, ApiServices]:
    from callvault.api import ApiServices  # the API's store wiring, not its HTTP stack

    vault = open_vault(home)
    return vault, ApiServices.from_settings(vault)


def _summary(report: RewrapReport) -> str:
    c = report.counts()
    verb = "would rewrap" if report.dry_run else "rewrapped"
    done = c["pending"] if report.dry_run else c["rewrapped"]
    return (
        f"examined {c['examined']}: {verb} {done}, already current {c['already_current']}, "
        f"skipped (subject-wrapped) {c['subject_wrapped']}, conflicts {c['conflicts']}, "
        f"failed {c['failed']}" + (" (resumed)" if report.resumed else "")
    )


@cli_errors
def rewrap_command(
    tenant: str | None = TenantOption,
    batch: int = typer.Option(DEFAULT_BATCH, "--batch", min=1, help="Items per checkpoint."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Count per key version; write nothing."),
    pause: float = typer.Option(
        0.0, "--pause", min=0.0, help="Seconds to sleep between batches (spreads KMS load)."
    ),
    home: Path | None = HomeOption,
    as_json: bool = JsonOption,
) -> None:
    """Re-wrap stored DEKs and managed keys under the newest master key versions.

    Bodies are not re-encrypted. Resumable: rerun after a crash continues after the last
    completed batch. Exit status 1 if any value failed.
    """
    from callvault.lifecycle import rewrap

    vault, services = _services(home)
    try:
        with (
            admin_action(vault, "admin.key.rewrap", tenant=tenant) as detail,
            _bar(not as_json) as observer,
        ):
            report = rewrap(
                vault,
                services.objects,
                services.records,
                tenant=tenant,
                batch=batch,
                dry_run=dry_run,
                pause=pause,
                observer=observer,
            )
            counts = report.counts()
            detail.update({k: str(counts[k]) for k in ("examined", "rewrapped", "failed")})
            detail["dry_run"] = str(dry_run).lower()
    finally:
        services.close()
    if as_json:
        emit_json(report.as_json())
    else:
        typer.echo(_summary(report))
        for key_id, versions in sorted(report.versions.items()):
            found = ", ".join(f"v{v}: {n}" for v, n in sorted(versions.items()))
            typer.echo(f"  {key_id}  {found}")
        for failure in report.failures:
            typer.echo(f"  failed: {failure.item} ({failure.error})", err=True)
    if report.failed:
        raise typer.Exit(1)


@cli_errors
def retire_command(
    tenant: str = typer.Option(..., "--tenant", "-t", help="Tenant whose master key retires."),
    data_class: DataClass | None = typer.Option(
        None, "--class", "-c", help="The key that protects this class (as for rotate)."
    ),
    below: int = typer.Option(..., "--below", min=1, help="New minimum decryption version."),
    force: bool = typer.Option(
        False, "--force", help="Retire even while stored values still need older versions."
    ),
    home: Path | None = HomeOption,
    as_json: bool = JsonOption,
) -> None:
    """Retire master key versions below --below (values under them stop opening).

    Refuses while a managed key or a header still depends on such a version, unless --force.
    """
    from callvault.lifecycle import retire

    vault, services = _services(home)
    try:
        with admin_action(vault, "admin.key.retire", tenant=tenant) as detail:
            detail.update(below=str(below), force=str(force).lower())
            result = retire(
                vault,
                services.objects,
                services.records,
                tenant=tenant,
                below=below,
                data_class=data_class,
                force=force,
            )
    finally:
        services.close()
    key = result.key
    if as_json:
        emit_json(
            {
                "key_id": key.key_id,
                "min_decrypt_version": key.min_decrypt_version,
                "primary_version": key.primary_version,
                "still_below": result.below,
                "unreadable": result.unreadable,
            }
        )
    else:
        typer.echo(
            f"retired {key.key_id} below v{key.min_decrypt_version} "
            f"(primary v{key.primary_version})"
            + (f"; {result.below} value(s) left unreadable" if result.below else "")
        )
