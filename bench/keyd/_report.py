"""Console table of the ``keyd`` section."""

from __future__ import annotations

from typing import Any

__all__ = ["print_keyd"]


def print_keyd(console: Any, result: dict[str, Any]) -> None:
    from rich.table import Table

    table = Table(
        title=f"keyd over mTLS ({result['plan']['name']} plan): ms per call, keyd in a child "
        "process on 127.0.0.1",
        title_justify="left",
    )
    for column in ("measure", "calls", "median ms", "p99 ms", "x in-process (median / p99)"):
        table.add_column(column, justify="left" if column == "measure" else "right")
    rows = (
        ("TCP connect (floor)", "tcp_connect"),
        ("new connection: TCP + TLS 1.3 mTLS handshake + SPIFFE check", "handshake"),
        ("new connection + one unwrap", "first_request"),
        ("unwrap via keyd, kept-alive connection", "unwrap_remote"),
        ("unwrap in-process (bare local provider)", "unwrap_in_process"),
    )
    for label, key in rows:
        m = result[key]
        ratio = ""
        if key == "unwrap_remote":
            ratio = f"{result['unwrap_median_ratio']:,.0f} / {result['unwrap_p99_ratio']:,.0f}"
        table.add_row(
            label, f"{m['calls']:,}", f"{m['median_ms']:.3f}", f"{m['p99_ms']:.3f}", ratio
        )
    console.print(table)
