"""``callvault lint PATH``: the deployment misconfiguration linter, for humans and CI.

A thin client of :mod:`callvault.posture.lint`: prints a table (or ``--json``, the
``callvault.lint/v1`` report), writes SARIF 2.1.0 with ``--sarif OUT``, optionally records
the report in the home's posture history (``--record``), and exits 1 when a finding is at
or above ``--fail-on`` (default ``high``), 0 otherwise, 2 for usage errors (bad option, a
path that does not exist or cannot be read). Secrets never reach the output: findings
carry fingerprints only.
"""

from __future__ import annotations

import json
import os
import sys
from enum import StrEnum
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from callvault._atomic import atomic_write
from callvault.cli._common import HomeOption, JsonOption, cli_errors, emit_json
from callvault.config import default_home
from callvault.posture.lint import LintReport, Severity, lint_path, to_sarif

__all__ = ["lint"]


class _Env(StrEnum):
    DEV = "dev"
    STAGING = "staging"
    PROD = "prod"


_STYLE = {Severity.CRITICAL: "bold red", Severity.HIGH: "red", Severity.MEDIUM: "yellow",
          Severity.LOW: "cyan", Severity.INFO: "dim"}  # fmt: skip


@cli_errors
def lint(
    path: Path = typer.Argument(..., help="Deployment directory or file to lint."),
    fail_on: Severity = typer.Option(
        Severity.HIGH, "--fail-on", help="Exit 1 when a finding is at or above this severity."
    ),
    environment: _Env | None = typer.Option(
        None, "--environment", help="The deployment's environment (default: from its config)."
    ),
    sarif: str | None = typer.Option(
        None, "--sarif", metavar="OUT", help="Also write SARIF 2.1.0 to OUT ('-': stdout)."
    ),
    exclude: list[str] = typer.Option(
        [], "--exclude", metavar="GLOB", help="Skip files whose relative path matches."
    ),
    record: bool = typer.Option(
        False, "--record", help="Keep the report in the home's posture history."
    ),
    home: Path | None = HomeOption,
    as_json: bool = JsonOption,
) -> None:
    """Check a deployment for the seed's encryption red flags (TLS, certificates, secrets,
    KMS keys, backups, PostgreSQL TLS, debug endpoints, logging)."""
    if as_json and sarif == "-":
        raise typer.BadParameter("--json and --sarif - both print on stdout; pick one")
    if not path.exists():
        raise typer.BadParameter(f"{path}: no such file or directory", param_hint="PATH")
    if not os.access(path, os.R_OK | (os.X_OK if path.is_dir() else 0)):
        raise typer.BadParameter(f"{path}: not readable", param_hint="PATH")
    report = lint_path(
        path, environment=environment.value if environment else None, excludes=exclude
    )
    document = report.as_json()
    if sarif is not None:
        _write_sarif(report, sarif)
    if record:
        from callvault.posture.history import PostureHistory

        PostureHistory(home or default_home()).record("lint", document)
    if as_json:
        emit_json(document)
    elif sarif != "-":
        _table(report, fail_on)
    if report.failing(fail_on):
        raise typer.Exit(1)


def _write_sarif(report: LintReport, out: str) -> None:
    try:
        tool_version = version("callvault")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        tool_version = "0"
    text = json.dumps(to_sarif(report, version=tool_version), indent=2) + "\n"
    if out == "-":
        sys.stdout.write(text)
    else:
        atomic_write(Path(out), text.encode(), mode=0o644)


def _table(report: LintReport, fail_on: Severity) -> None:
    console = Console(highlight=False)
    if not console.is_terminal:  # piped: do not squeeze the table into 80 columns
        console = Console(highlight=False, width=200)
    env = report.environment or "unknown"
    console.print(f"callvault lint {report.path} ({report.files_scanned} files, env {env})")
    if not report.findings:
        console.print("[green]no findings[/green]")
        return
    table = Table(show_lines=False)
    for column in ("severity", "check", "location", "finding"):
        table.add_column(column, overflow="fold")
    for finding in report.findings:
        where = finding.file + (f":{finding.line}" if finding.line else "")
        style = _STYLE[finding.severity]
        table.add_row(f"[{style}]{finding.severity}[/]", finding.check, where, finding.message)
    console.print(table)
    failing = len(report.failing(fail_on))
    console.print(
        f"{len(report.findings)} finding(s), {failing} at or above {fail_on.value}"
        + ("" if not failing else "; fix hints: callvault lint --json")
    )
