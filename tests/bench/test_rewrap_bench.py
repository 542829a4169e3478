"""The rewrap benchmark's quick plan: every seeded DEK is rewrapped (the rate is over all of
them, not over a subset that happened to succeed), and the report has its figures."""

from __future__ import annotations

from pathlib import Path

from bench.rewrap import REWRAP_QUICK, bench_rewrap


def test_quick_plan_rewraps_every_seeded_dek(tmp_path: Path) -> None:
    result = bench_rewrap(tmp_path, quick=True)
    counts = {name: r["deks"] for name, r in result["results"].items()}
    # Each tenant's index key is a managed record of its own: the + 1.
    assert counts == {
        "rows": 2 * REWRAP_QUICK.rows + 1,
        "managed": REWRAP_QUICK.managed + 1,
        "objects": REWRAP_QUICK.objects + 1,
    }
    assert all(r["deks_per_second"] > 0 for r in result["results"].values())
