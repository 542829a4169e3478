"""The API section of the console report (rich tables); the figures come from ``_summary``."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from bench.api._summary import BASE, ENC

__all__ = ["print_api"]


def _row(label: str, enc: float, base: float, unit: str, digits: int = 1) -> list[str]:
    return [
        label,
        f"{enc:,.{digits}f} {unit}",
        f"{base:,.{digits}f} {unit}",
        f"{enc - base:+,.{digits + 1}f} {unit}",
    ]


def print_api(console: Console, api: dict[str, Any]) -> None:
    seq, conc, call = api["sequential"], api["concurrent"], api["call"]
    enc, base = seq[ENC], seq[BASE]
    table = Table(
        title=f"API over HTTPS ({seq['tls'].get(ENC, '?')}): one 5-minute call = PUT "
        f"{call['recording_bytes'] / 1e6:.1f} MB recording + POST "
        f"{call['transcript_bytes'] / 1e3:.1f} kB transcript + GET both; "
        f"{enc['calls']} calls per pipeline, interleaved",
        title_justify="left",
    )
    for col in ("per call", "encrypted", "plaintext baseline", "added by encryption"):
        table.add_column(col, justify="left" if col == "per call" else "right")
    table.add_row(*_row("latency median", enc["median_ms"], base["median_ms"], "ms"))
    table.add_row(*_row("latency p99", enc["p99_ms"], base["p99_ms"], "ms"))
    table.add_row(*_row("latency mean", enc["mean_ms"], base["mean_ms"], "ms"))
    table.add_row(
        *_row("upload (PUT+POST) median", enc["upload_median_ms"], base["upload_median_ms"], "ms")
    )
    table.add_row(
        *_row(
            "download (2 GETs) median", enc["download_median_ms"], base["download_median_ms"], "ms"
        )
    )
    table.add_row(
        "paired difference (same call, back to back)",
        "",
        "",
        f"median {seq['paired_added_median_ms']:+.2f} ms, p99 {seq['paired_added_p99_ms']:+.2f} ms",
    )
    table.add_row(
        "calls/s (sequential, one connection)",
        f"{enc['calls_per_s']:.2f}",
        f"{base['calls_per_s']:.2f}",
        f"ratio {seq['throughput_ratio']:.3f}",
    )
    console.print(table)
    table = Table(
        title=f"API over HTTPS: {conc['clients']} concurrent clients, one "
        f"{conc['object_bytes'] / 1e6:.1f} MB recording each, then all downloaded and "
        f"SHA-256 checked; median of {conc[ENC]['rounds']} rounds",
        title_justify="left",
    )
    for col in ("aggregate", "encrypted", "plaintext baseline", "ratio E/B"):
        table.add_column(col, justify="left" if col == "aggregate" else "right")
    for key, label in (("upload", "upload MB/s"), ("download", "download MB/s")):
        table.add_row(
            label,
            f"{conc[ENC][f'{key}_mb_per_s']:,.1f}",
            f"{conc[BASE][f'{key}_mb_per_s']:,.1f}",
            f"{conc[f'{key}_ratio']:.3f}",
        )
    table.add_row("errors", str(conc[ENC]["errors"]), str(conc[BASE]["errors"]), "")
    table.add_row(
        "SHA-256 intact",
        f"{conc[ENC]['intact']}/{conc[ENC]['objects']}",
        f"{conc[BASE]['intact']}/{conc[BASE]['objects']}",
        "",
    )
    console.print(table)
    for mode in (ENC, BASE):
        for sample in conc[mode]["error_samples"]:
            console.print(f"[red]{mode} error:[/] {sample}", highlight=False)
