"""Shared plumbing of the CLI: opening the vault, one-line errors, JSON output, progress.

The CLI is a client of the library: it never touches formats or keys itself.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO, NoReturn, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from callvault import CallvaultError, Vault
from callvault._atomic import atomic_file
from callvault.config import default_home

__all__ = [
    "PROGRESS_THRESHOLD",
    "HomeOption",
    "JsonOption",
    "atomic_output",
    "cli_errors",
    "emit_json",
    "input_stream",
    "open_vault",
    "progress_bar",
    "stderr",
]

P = ParamSpec("P")
R = TypeVar("R")

stderr = Console(stderr=True, highlight=False)
PROGRESS_THRESHOLD = 8 * 1024 * 1024  # show a bar for inputs of 8 MiB and more

HomeOption = typer.Option(
    None, "--home", help="Home directory (default: $CALLVAULT_HOME or ~/.callvault)."
)
JsonOption = typer.Option(False, "--json", help="Print machine-readable JSON.")


def open_vault(home: Path | None, *, audited: bool = True) -> Vault:
    """The home's vault; ``audited``: its key events go to the audit log (as ``cli:<user>``,
    which ``cli_errors`` sets for the command). Off only for commands that read the log
    itself (which must not write to it) or read key metadata only (no key events)."""
    vault = Vault.open_home(home or default_home())
    if audited:
        from callvault.audit import attach_audit

        attach_audit(vault)
    return vault


def cli_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn library errors into one line on stderr and exit status 1 (2 is for usage); the
    command's key operations are attributed to ``cli:<os user>``."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        from callvault.cli._admin import cli_actor
        from callvault.keys import acting_as

        try:
            with acting_as(cli_actor()):
                return func(*args, **kwargs)
        except CallvaultError as exc:
            _fail(str(exc))
        except OSError as exc:
            where = f": {exc.filename}" if exc.filename else ""
            _fail(f"{exc.strerror or exc}{where}")

    return wrapper


def _fail(message: str) -> NoReturn:
    """One line on stderr, never wrapped, then exit status 1."""
    sys.stderr.write("error: " + " ".join(message.split()) + "\n")
    sys.stderr.flush()
    raise typer.Exit(1)


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")


@contextlib.contextmanager
def input_stream(path: str) -> Iterator[tuple[BinaryIO, int | None]]:
    """An input file (or stdin for ``-``) and its size when known."""
    if path == "-":
        yield sys.stdin.buffer, None
        return
    with open(path, "rb") as handle:
        yield handle, os.fstat(handle.fileno()).st_size


@contextlib.contextmanager
def atomic_output(path: str) -> Iterator[BinaryIO]:
    """Write to ``path`` only if the whole operation succeeds.

    Output goes to a 0600 temporary file beside the target, renamed into place at the end;
    on any failure it is deleted, so a failed open never leaves partial plaintext on disk.
    """
    if path == "-":
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    with atomic_file(Path(path), mode=0o600) as handle:
        yield handle


@contextlib.contextmanager
def progress_bar(total: int | None, label: str) -> Iterator[Callable[[int], None] | None]:
    """A progress observer for large inputs, drawn on stderr; ``None`` for small ones."""
    if total is None or total < PROGRESS_THRESHOLD or not stderr.is_terminal:
        yield None
        return
    columns = (BarColumn(), DownloadColumn(), TransferSpeedColumn(), TimeRemainingColumn())
    with Progress(*columns, console=stderr, transient=True) as progress:
        task = progress.add_task(label, total=total)
        yield lambda n: progress.advance(task, n)
