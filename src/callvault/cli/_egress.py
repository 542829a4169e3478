"""``callvault egress report [--json] [--provider NAME]``: outbound TLS evidence.

A thin reader of :class:`callvault.transport.egress.EvidenceStore`: what each configured
STT/LLM/TTS provider negotiated on its recent new connections (protocol, suite, certificate
fingerprint, SPKI pin, not-after), accepted or refused. It opens no connection itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from callvault.cli._common import HomeOption, JsonOption, cli_errors, emit_json
from callvault.config import default_home, load_settings
from callvault.errors import ConfigError
from callvault.transport.egress import EVIDENCE_FORMAT, EvidenceStore

app = typer.Typer(help="Outbound TLS to STT/LLM/TTS providers.", no_args_is_help=True)


def _short(value: str | None, width: int = 16) -> str:
    if value is None:
        return "-"
    return value if len(value) <= width else value[:width] + "…"


@app.command("report")
@cli_errors
def report(
    provider: str | None = typer.Option(None, "--provider", help="Only this provider."),
    home: Path | None = HomeOption,
    as_json: bool = JsonOption,
) -> None:
    """Evidence of recent provider connections: protocol, suite, certificate, outcome."""
    base = home or default_home()
    settings = load_settings(base).egress
    entries = EvidenceStore(base, keep=settings.evidence_keep).read()
    if provider is not None:
        if provider not in entries and provider not in settings.providers:
            raise ConfigError(f"unknown egress provider {provider!r}")
        entries = {provider: entries.get(provider, [])}
    configured = {
        name: {"base_url": p.base_url, "allow_tls12": p.allow_tls12, "pinned": bool(p.pins)}
        for name, p in sorted(settings.providers.items())
        if provider is None or name == provider
    }
    if as_json:
        emit_json({"format": EVIDENCE_FORMAT, "configured": configured, "providers": entries})
        return
    _table(entries, configured)


def _table(entries: dict[str, list[dict[str, Any]]], configured: dict[str, Any]) -> None:
    console = Console(highlight=False)
    if not console.is_terminal:  # piped: do not squeeze the table into 80 columns
        console = Console(highlight=False, width=200)
    if not any(entries.values()):
        console.print("no egress connections recorded yet")
    table = Table("provider", "time", "host", "outcome", "protocol", "suite", "sha256", "not after")
    for name, rows in sorted(entries.items()):
        for row in rows:
            outcome = row["outcome"] if row["reason"] is None else f"refused: {row['reason']}"
            table.add_row(
                name,
                row["time"][:19] + "Z",
                f"{row['host']}:{row['port']}",
                outcome,
                row["protocol"] or "-",
                row["cipher"] or "-",
                _short(row["peer_cert_sha256"]),
                (row["not_after"] or "-")[:10],
            )
    if table.row_count:
        console.print(table)
    quiet = sorted(set(configured) - {n for n, rows in entries.items() if rows})
    if quiet:
        console.print("configured, no connection recorded: " + ", ".join(quiet))
