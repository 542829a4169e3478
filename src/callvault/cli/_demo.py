"""``callvault demo``: the embedded default, end to end, in a throwaway home."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from callvault.cli._common import cli_errors
from callvault.demo import Step, run_walkthrough


@cli_errors
def demo(
    minutes: float = typer.Option(5.0, "--minutes", min=0.01, max=120, help="Recording length."),
    keep: bool = typer.Option(False, "--keep", help="Keep the demo home directory."),
) -> None:
    """Seal and open a synthetic call recording and transcript through the whole key
    hierarchy, show tampering refused, then erase the caller."""
    console = Console(highlight=False)
    workdir = Path(tempfile.mkdtemp(prefix="callvault-demo-"))

    def show(step: Step) -> None:
        table = Table(show_header=False, box=None, padding=(0, 2))
        for name, value in step.facts.items():
            table.add_row(f"[dim]{name}[/dim]", value)
        mark = "[green]✔[/green]" if step.ok else "[red]✘[/red]"
        console.print(f"{mark} [bold]{step.title}[/bold]")
        console.print(table)

    try:
        ok = run_walkthrough(workdir / "home", minutes, show)
    finally:
        if keep:
            console.print(f"demo home kept at {workdir / 'home'}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    if ok:
        console.print("[green]demo complete: every check held[/green]")
    else:
        console.print("[red]demo failed: a check did not hold[/red]")
        raise typer.Exit(1)
