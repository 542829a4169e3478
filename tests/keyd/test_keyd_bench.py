"""The keyd bench's quick plan runs against a real ``callvault keyd`` child process and
reports every figure with its in-process baseline."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:  # the repository's bench package is not installed
    sys.path.insert(0, _ROOT)

from bench.keyd import KEYD_QUICK, bench_keyd, keyd_targets  # noqa: E402


def test_quick_plan_reports_handshake_and_unwrap_against_in_process(
    tmp_path: Path, clean_env: None
) -> None:
    result = bench_keyd(tmp_path, quick=True)
    assert result["unwrap_remote"]["calls"] == KEYD_QUICK.unwraps
    assert result["handshake"]["calls"] == KEYD_QUICK.handshakes
    for key in ("handshake", "tcp_connect", "first_request", "unwrap_remote", "unwrap_in_process"):
        assert 0 < result[key]["median_ms"] <= result[key]["p99_ms"]
    ratio = result["unwrap_remote"]["median_ms"] / result["unwrap_in_process"]["median_ms"]
    assert result["unwrap_median_ratio"] == pytest.approx(ratio)
    # a handshake costs more than a bare TCP connect; a kept-alive call less than a new one
    assert result["handshake"]["median_ms"] > result["tcp_connect"]["median_ms"]
    assert result["first_request"]["median_ms"] > result["unwrap_remote"]["median_ms"]
    (target,) = keyd_targets(result)
    assert target["value"] == result["unwrap_remote"]["median_ms"]
    assert "handshake" in target["text"] and "p99" in target["text"]
