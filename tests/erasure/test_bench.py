"""The erasure bench's quick plan runs, erases everything, and reports both figures."""

from __future__ import annotations

from pathlib import Path

from bench.erasure import ERASURE_QUICK, bench_erasure, erasure_targets


def test_quick_plan_reports_key_destruction_and_total(tmp_path: Path) -> None:
    result = bench_erasure(tmp_path, quick=True)
    rows = result["results"]
    assert [r["objects"] for r in rows] == list(ERASURE_QUICK.sizes)
    for r in rows:
        assert 0 < r["key_destruction_seconds"] <= r["total_seconds"]
        assert (r["master_keys"], r["managed_keys"]) == (1, 2)  # default key; index + subject
    (target,) = erasure_targets(result)
    assert "key destruction" in target["text"] and target["value"] > 0
