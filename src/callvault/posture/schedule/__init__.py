"""Scheduled posture checks: scans of ``[posture] scan_targets`` and lint of
``[posture] lint_paths`` every interval inside ``serve``, recorded in the posture history.
``run_round`` is one round (``callvault evidence run-checks``). See docs/posture/evidence.md."""

from callvault.posture.schedule._job import PostureJob
from callvault.posture.schedule._round import (
    Linter,
    RoundResult,
    Scanner,
    default_linter,
    default_scanner,
    failed_lint,
    failed_scan,
    run_round,
)

__all__ = [
    "Linter",
    "PostureJob",
    "RoundResult",
    "Scanner",
    "default_linter",
    "default_scanner",
    "failed_lint",
    "failed_scan",
    "run_round",
]
