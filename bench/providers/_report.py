"""Console tables of the ``providers`` section (what the figures mean: bench/README.md)."""

from __future__ import annotations

from typing import Any

__all__ = ["print_providers"]

_OPS = ("generate_data_key", "wrap", "unwrap")


def _us(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def _seconds(value: float) -> str:
    return f"{value:.2f}" if value >= 1 else f"{value:.3f}"


def _mid_p90(m: dict[str, Any]) -> str:
    return f"{_us(m['median_us'])} / {_us(m['p90_us'])}"


def print_providers(console: Any, result: dict[str, Any]) -> None:
    from rich.table import Table

    measured = {n: r for n, r in result["providers"].items() if r["status"] == "ok"}
    plan = result["plan"]
    latency = Table(
        title=f"KMS providers ({plan['name']} plan): µs per call, median / p90; bare provider "
        "vs the full stack (open_provider: key events + retries)",
        title_justify="left",
    )
    for column in ("provider", "operation", "calls", "bare", "full stack", "stack overhead"):
        latency.add_column(
            column, justify="left" if column in ("provider", "operation") else "right"
        )
    for name, r in measured.items():
        for op in _OPS:
            m = r["latency"][op]
            latency.add_row(
                name,
                op,
                f"{m['bare']['calls']:,}",
                _mid_p90(m["bare"]),
                _mid_p90(m["stack"]),
                f"{m['overhead_us']:+.1f} µs",
            )
    console.print(latency)
    hierarchy = Table(
        title="unwrap through the key hierarchy, vault.keys.data_key(header, context): "
        "µs per call, median / p90",
        title_justify="left",
    )
    for column in (
        "provider",
        "calls",
        "warm cache",
        "cold cache (provider unwrap)",
        "cold / warm",
    ):
        hierarchy.add_column(column, justify="left" if column == "provider" else "right")
    for name, r in measured.items():
        h = r["hierarchy"]
        hierarchy.add_row(
            name,
            f"{h['warm']['calls']:,}",
            _mid_p90(h["warm"]),
            _mid_p90(h["cold"]),
            f"{h['cold_over_warm']:,.1f} x",
        )
    console.print(hierarchy)
    base = result["baseline"]
    rewrap = Table(
        title="rewrap after a rotation, v1 -> v2, through the full stack; x AESGCM = rate / "
        f"raw AESGCM unwrap+wrap rate ({base['deks_per_second']:,.0f} DEKs/s)",
        title_justify="left",
    )
    for column in ("provider", "method", "DEKs", "seconds", "DEKs/s", "x AESGCM"):
        rewrap.add_column(column, justify="left" if column in ("provider", "method") else "right")
    for name, r in measured.items():
        w = r["rewrap"]
        rewrap.add_row(
            name,
            w["method"],
            f"{w['deks']:,}",
            _seconds(w["seconds"]),
            f"{w['deks_per_second']:,.0f}",
            f"{w['x_aesgcm']:.3g}",
        )
    rewrap.add_row(
        "baseline",
        "raw AESGCM decrypt + encrypt",
        f"{base['deks']:,}",
        _seconds(base["seconds"]),
        f"{base['deks_per_second']:,.0f}",
        "1",
    )
    console.print(rewrap)
    for name, r in result["providers"].items():
        if r["status"] == "ok":
            console.print(f"{name}: {r['notes']}", highlight=False)
        else:
            console.print(f"{name}: skipped ({r['reason']})", highlight=False)
