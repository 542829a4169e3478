"""The latest scan and lint reports from the posture history (``PostureHistory.latest``).

No report is *no evidence*, not a pass: a control about cipher hardening that nobody has
tested from the outside is not proven. A scan passes when its grade for the configured
profile (``callvault-<tls_profile>``) passed; a lint report passes when it has no finding
at ``high`` or ``critical``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from callvault.posture.facts._model import Check, CheckStatus, Section
from callvault.posture.history import PostureHistory

__all__ = ["BLOCKING_SEVERITIES", "collect_history"]

BLOCKING_SEVERITIES = frozenset({"critical", "high"})


def _scan_summary(report: dict[str, Any], profile_id: str) -> dict[str, Any]:
    grade = (report.get("grades") or {}).get(profile_id) or {}
    return {
        "target": report.get("target"),
        "scanned_at": report.get("scanned_at"),
        "protocols": report.get("protocols"),
        "hybrid_pq": report.get("hybrid_pq"),
        "forward_secrecy": report.get("forward_secrecy"),
        "profile": profile_id,
        "grade": grade.get("grade"),
        "passed": grade.get("passed") is True,
        "findings": [f.get("rule") for f in grade.get("findings", [])],
    }


def _lint_summary(report: dict[str, Any]) -> dict[str, Any]:
    findings = report.get("findings") or []
    blocking = [f for f in findings if f.get("severity") in BLOCKING_SEVERITIES]
    return {
        "path": report.get("path"),
        "linted_at": report.get("linted_at"),
        "findings": len(findings),
        "blocking": [f"{f.get('check')} ({f.get('file')})" for f in blocking],
    }


def _scan_check(scans: list[dict[str, Any]], profile_id: str) -> Check:
    title = f"External TLS scans grade every endpoint as passing {profile_id}"
    source = "posture history: callvault scan"
    if not scans:
        return Check("scan.graded", title, CheckStatus.NO_EVIDENCE, "no scan recorded", source)
    failing = [f"{s['target']} ({s['grade'] or 'no grade'})" for s in scans if not s["passed"]]
    if failing:
        return Check(
            "scan.graded", title, CheckStatus.FAIL, "not passing: " + ", ".join(failing), source
        )
    grades = ", ".join(f"{s['target']} {s['grade']} at {s['scanned_at']}" for s in scans)
    return Check("scan.graded", title, CheckStatus.PASS, grades, source)


def _lint_check(lints: list[dict[str, Any]]) -> Check:
    title = "The deployment lint finds no high or critical misconfiguration"
    source = "posture history: callvault lint"
    if not lints:
        return Check(
            "lint.clean", title, CheckStatus.NO_EVIDENCE, "no lint report recorded", source
        )
    blocking = [b for lint in lints for b in lint["blocking"]]
    if blocking:
        return Check(
            "lint.clean",
            title,
            CheckStatus.FAIL,
            f"{len(blocking)} blocking finding(s): " + ", ".join(blocking[:5]),
            source,
        )
    paths = ", ".join(f"{lint['path']} at {lint['linted_at']}" for lint in lints)
    return Check("lint.clean", title, CheckStatus.PASS, f"clean: {paths}", source)


def collect_history(home: Path, tls_profile: str) -> Section:
    history = PostureHistory(home)
    profile_id = f"callvault-{tls_profile}"
    scans = [_scan_summary(r, profile_id) for r in history.latest("scan")]
    lints = [_lint_summary(r) for r in history.latest("lint")]
    problems = [p.to_json() for kind in ("scan", "lint") for p in history.problems(kind)]
    facts = {"scans": scans, "lint": lints, "unusable_reports": problems}
    return Section("history", facts, (_scan_check(scans, profile_id), _lint_check(lints)))
