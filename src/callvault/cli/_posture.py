"""``callvault posture [--format md|html|pdf|json] [--out PATH] [--fail-on-gaps]``: the
encryption posture document, generated from the live system.

Exit 0 even when controls do not pass (the document *reports* gaps); ``--fail-on-gaps``
makes any control that is failing or without evidence exit 1, for CI and monitoring.
"""

from __future__ import annotations

import enum
import sys
from pathlib import Path

import typer

from callvault.cli._common import HomeOption, atomic_output, cli_errors, stderr
from callvault.config import default_home

__all__ = ["posture"]


class Format(enum.StrEnum):
    MD = "md"
    HTML = "html"
    PDF = "pdf"
    JSON = "json"


@cli_errors
def posture(
    fmt: Format = typer.Option(Format.MD, "--format", "-f", help="md, html, pdf or json."),
    out: str = typer.Option("-", "--out", "-o", help="Output file ('-': stdout)."),
    fail_on_gaps: bool = typer.Option(
        False, "--fail-on-gaps", help="Exit 1 if any control fails or lacks evidence."
    ),
    home: Path | None = HomeOption,
) -> None:
    """Generate the encryption posture document from the live system."""
    import json

    from callvault.posture.document import build_posture

    if fmt is Format.PDF and out == "-" and sys.stdout.isatty():
        raise typer.BadParameter("a PDF is binary: give --out FILE", param_hint="--out")
    document = build_posture(home or default_home())
    if fmt is Format.PDF:
        data = document.pdf()
    elif fmt is Format.HTML:
        data = document.html().encode()
    elif fmt is Format.JSON:
        data = (json.dumps(document.as_json(), indent=2, sort_keys=True) + "\n").encode()
    else:
        data = document.markdown().encode()
    with atomic_output(out) as handle:
        handle.write(data)
    gaps = document.gaps
    passing = len(document.controls) - len(gaps)
    if out != "-":
        stderr.print(f"wrote {out}: {passing} of {len(document.controls)} controls pass")
    if fail_on_gaps and gaps:
        names = ", ".join(f"{c.framework} {c.control}" for c in gaps)
        sys.stderr.write(f"error: controls not passing: {names}\n")
        raise typer.Exit(1)
