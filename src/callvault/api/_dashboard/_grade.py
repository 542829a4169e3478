"""The overview grade: one letter for the whole posture, computed, never asserted.

It is the *worst* of what the checks and the latest scans say, so one bad fact cannot be
averaged away by many good ones (the scanner's own rule: no partial credit):

* a failing **critical** check (the audit log does not verify, the envelope or the cipher
  allowlist is wrong, a key crosses environments, backups unencrypted…): ``F``;
* the latest scan of any target graded ``F`` for the configured profile: ``F``;
* any other failing check (an overdue key, an overdue erasure, a CA near expiry, a
  blocking lint finding…): ``C``;
* a failing **advisory** check (a migration item such as the hybrid post-quantum group),
  a check without evidence, or a scan without a grade for the configured profile: ``B``;
* otherwise the worst latest scan grade (``A+``, ``A``, ``B``…). With every check passing
  there is at least one scan (``scan.graded`` needs one), so ``A`` is always measured.

A check id this table does not know counts as a plain check (``C`` when it fails): a new
check can never be silently ignored. The table lives in docs/api.md ("The dashboard").
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from callvault.api._dashboard._models import CheckResult, Grade, OverviewGrade, ScanSummary

__all__ = ["ADVISORY", "CRITICAL", "GRADES", "overview_grade"]

GRADES: Final[tuple[Grade, ...]] = ("A+", "A", "B", "C", "F")  # best first, as the scanner's
CRITICAL: Final = frozenset(
    {
        "audit.verified",
        "algo.envelope",
        "algo.library",
        "tls.allowlist",
        "tls.legacy_disabled",
        "keys.environment_scoped",
        "backup.encrypted",
        "storage.db_tls",
        "identity.admin_binding",
    }
)
ADVISORY: Final = frozenset({"tls.hybrid_pq"})
_LABELS: Final[dict[Grade, str]] = {
    "A+": "A+: every check passes and every endpoint scans at the top grade",
    "A": "A: every check passes and every scanned endpoint passes its profile",
    "B": "B: passing, with gaps in evidence or advisory items",
    "C": "C: failing checks need attention",
    "F": "F: critical failure",
}


def _worse(a: Grade, b: Grade) -> Grade:
    return a if GRADES.index(a) >= GRADES.index(b) else b


def _check_cap(check: CheckResult) -> Grade:
    if check.status == "pass":
        return "A+"
    if check.status == "no-evidence" or check.id in ADVISORY:
        return "B"
    return "F" if check.id in CRITICAL else "C"


def _scan_cap(scan: ScanSummary) -> Grade:
    if scan.grade in GRADES:
        return scan.grade
    return "B"  # reported, but not against the profile this deployment enforces


def overview_grade(checks: Iterable[CheckResult], scans: Iterable[ScanSummary]) -> OverviewGrade:
    """The worst cap over ``checks`` and ``scans``, with a reason for each cap below A+."""
    grade: Grade = "A+"
    reasons: list[tuple[Grade, str]] = []
    for check in checks:
        cap = _check_cap(check)
        if cap != "A+":
            reasons.append((cap, f"{check.id}: {check.status}"))
        grade = _worse(grade, cap)
    for scan in scans:
        cap = _scan_cap(scan)
        if cap != "A+":
            shown = scan.grade or "no grade"
            reasons.append((cap, f"scan {scan.target}: {shown} for {scan.profile}"))
        grade = _worse(grade, cap)
    reasons.sort(key=lambda r: -GRADES.index(r[0]))  # the worst first: what to fix first
    return OverviewGrade(
        grade=grade,
        label=_LABELS[grade],
        reasons=[f"{cap}: {text}" for cap, text in reasons],
    )
