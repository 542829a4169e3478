"""``callvault scan HOST:PORT``: the TLS scanner's command (a client of posture.scan).

Exit codes: 0 scanned (and, with ``--fail-under``, the headline grade is at least that);
1 the headline grade is below ``--fail-under``; 2 the target could not be scanned
(unreachable, timeout, not TLS) or a usage error.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from callvault.cli._common import JsonOption, emit_json
from callvault.errors import CallvaultError

__all__ = ["scan"]


def _fail(message: str) -> None:
    sys.stderr.write("error: " + " ".join(message.split()) + "\n")
    raise typer.Exit(2)


def _console(report: dict[str, Any], headline: str) -> None:
    out = Console(highlight=False)
    g = report["grades"][headline]
    out.print(f"[bold]{report['target']}[/] ({report['server_name']}) {report['scanned_at']}")
    out.print(
        f"Grade [bold]{g['grade']}[/] against {headline} ({'passed' if g['passed'] else 'FAILED'})"
    )
    table = Table("Protocol", "Accepted", "Suites")
    for version, on in report["protocols"].items():
        table.add_row(version, "yes" if on else "no", "\n".join(report["suites"].get(version, [])))
    out.print(table)
    cert = report["certificate"]
    out.print(f"Groups: {', '.join(report['groups']) or 'none found'}; hybrid PQ: "
              f"{report['hybrid_pq']}; forward secrecy: {report['forward_secrecy']}")  # fmt: skip
    if cert.get("present"):
        out.print(
            f"Certificate: {cert['subject']} ({cert['key_type']} {cert['key_bits']}, "
            f"{cert['signature_hash']}), expires in {cert['days_to_expiry']} days, "
            f"trusted: {cert['trusted']}, hostname match: {cert['hostname_match']}"
        )
    hsts = report["hsts"]
    out.print(
        f"HSTS: {hsts['value'] if hsts and hsts['present'] else 'absent' if hsts else 'not HTTP'}"
    )
    findings = Table("Severity", "Rule", "Message")
    for f in g["findings"]:
        findings.add_row(f["severity"], f["rule"], f["message"])
    out.print(findings)
    others = ", ".join(f"{p} {x['grade']}" for p, x in report["grades"].items() if p != headline)
    out.print(f"Other profiles: {others}")


def scan(
    target: str = typer.Argument(..., help="HOST:PORT to scan."),
    profile: str = typer.Option("callvault-modern", "--profile", help="Profile to headline."),
    server_name: str = typer.Option(None, "--server-name", help="SNI / hostname to verify."),
    ca_file: Path = typer.Option(None, "--ca-file", help="Also trust this CA bundle."),
    timeout: float = typer.Option(5.0, "--timeout", min=0.1, help="Seconds per network step."),
    fail_under: str = typer.Option(None, "--fail-under", help="Exit 1 below this grade."),
    html: Path = typer.Option(None, "--html", help="Also write a self-contained HTML report."),
    as_json: bool = JsonOption,
) -> None:
    """Probe a TLS endpoint and grade it against the shipped profiles."""
    from callvault._atomic import atomic_write
    from callvault.posture.scan import GRADES, PROFILE_IDS, grade_at_least, render_html
    from callvault.posture.scan import scan as run_scan

    if profile not in PROFILE_IDS:
        _fail(f"unknown profile {profile!r} (one of {', '.join(PROFILE_IDS)})")
    if fail_under is not None and fail_under not in GRADES:
        _fail(f"--fail-under must be one of {', '.join(GRADES)}")
    try:
        report = run_scan(
            target,
            server_name=server_name,
            ca_file=str(ca_file) if ca_file else None,
            timeout=timeout,
        ).to_dict()
    except CallvaultError as exc:
        _fail(str(exc))
    if html is not None:
        atomic_write(html, render_html(report, profile).encode("utf-8"), mode=0o644)
    if as_json:
        emit_json(report)
    else:
        _console(report, profile)
    if fail_under is not None and not grade_at_least(
        report["grades"][profile]["grade"], fail_under
    ):
        raise typer.Exit(1)
