"""The audit bench's quick plan runs and reports every figure, each against its baseline."""

from __future__ import annotations

from pathlib import Path

from bench.audit import AUDIT_QUICK, THREADS, audit_targets, bench_audit


def test_quick_plan_reports_rates_ratios_and_proof_times(tmp_path: Path) -> None:
    result = bench_audit(tmp_path, quick=True)
    assert result["appends"] == AUDIT_QUICK.appends - AUDIT_QUICK.appends % THREADS
    assert result["log_size"] == 1 + 2 * result["appends"]  # warm-up, single, threaded
    for key in ("single", "threaded"):
        assert result[f"{key}_per_second"] > 0 and result[f"{key}_baseline_per_second"] > 0
        ratio = result[f"{key}_baseline_per_second"] / result[f"{key}_per_second"]
        assert abs(result[f"{key}_ratio"] * ratio - 1) < 1e-9
    assert result["frame_bytes"] > 200  # a realistic entry, sealed
    assert result["checkpoint_seconds"] > 0 and result["inclusion_proof_seconds"] > 0
    assert result["proof_length"] >= 1
    (target,) = audit_targets(result)
    assert "entries" in target["text"] and target["value"] == result["threaded_entries_per_fsync"]
    assert target["passed"] == (result["threaded_entries_per_fsync"] >= 2)
