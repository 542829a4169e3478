"""``callvault seal`` and ``callvault open``: files or stdin/stdout, streamed in constant
memory; ``open --range`` decrypts only the chunks that cover the range."""

from __future__ import annotations

import re
from pathlib import Path

import typer

from callvault import DataClass, InvalidRequest
from callvault.cli._common import (
    HomeOption,
    atomic_output,
    cli_errors,
    input_stream,
    open_vault,
    progress_bar,
)

_RANGE = re.compile(r"(\d+)-(\d*)")

TenantOption = typer.Option(..., "--tenant", "-t", help="Tenant that owns the object.")
ClassOption = typer.Option(..., "--class", "-c", help="Data class of the object.")
ObjectOption = typer.Option(..., "--object-id", "-o", help="Object id (bound into the ciphertext).")
SubjectOption = typer.Option(
    None, "--subject", "-s", help="Data subject (e.g. caller number), for erasure by subject."
)
InArg = typer.Argument(..., help="Input file, or - for stdin.")
OutArg = typer.Argument(..., help="Output file, or - for stdout.")


@cli_errors
def seal(
    tenant: str = TenantOption,
    data_class: DataClass = ClassOption,
    object_id: str = ObjectOption,
    subject: str | None = SubjectOption,
    infile: str = InArg,
    outfile: str = OutArg,
    home: Path | None = HomeOption,
) -> None:
    """Encrypt IN to OUT under the tenant's keys."""
    vault = open_vault(home)
    context = vault.context(tenant, data_class, object_id, subject)
    with (
        input_stream(infile) as (src, size),
        progress_bar(size, "sealing") as progress,
        atomic_output(outfile) as dst,
    ):
        vault.seal_stream(context, src, dst, progress)


@cli_errors
def open_(
    tenant: str = TenantOption,
    data_class: DataClass = ClassOption,
    object_id: str = ObjectOption,
    subject: str | None = SubjectOption,
    byte_range: str | None = typer.Option(
        None, "--range", "-r", help="Inclusive byte range START-END (END optional), as HTTP Range."
    ),
    infile: str = InArg,
    outfile: str = OutArg,
    home: Path | None = HomeOption,
) -> None:
    """Decrypt IN to OUT; OUT appears only if every byte authenticated."""
    vault = open_vault(home)
    context = vault.context(tenant, data_class, object_id, subject)
    if byte_range is not None:
        if infile == "-":
            raise InvalidRequest("--range needs a seekable input file, not stdin")
        match = _RANGE.fullmatch(byte_range)
        if match is None:
            raise InvalidRequest(f"bad range {byte_range!r}: expected START-END, e.g. 0-1023")
        with open(infile, "rb") as src:
            reader = vault.range_reader(context, src)
            start = int(match.group(1))
            end = int(match.group(2)) if match.group(2) else reader.length - 1
            if end >= reader.length:  # clamp like HTTP Range, on the authenticated length
                end = reader.authenticated_length() - 1
            if end < start:
                raise InvalidRequest(f"bad range {byte_range!r}: END is before START")
            with atomic_output(outfile) as dst:
                for piece in reader.iter_range(start, end):
                    dst.write(piece)
        return
    with (
        input_stream(infile) as (src, size),
        progress_bar(size, "opening") as progress,
        atomic_output(outfile) as dst,
    ):
        vault.open_stream(context, src, dst, progress)
