"""From findings to a grade. The mapping (docs/posture/scan.md):

* ``F``  any critical or high finding
* ``C``  any medium finding
* ``B``  any low finding
* ``A``  info findings only
* ``A+`` info findings only, and the service sends HSTS meeting the profile's max-age

``passed`` is true for A+, A and B: the endpoint meets the profile up to low-severity
deviations. A grade can only be computed from a complete report: there is no partial
credit for a scan that failed (that raises instead).
"""

from __future__ import annotations

from typing import Any

from callvault.posture.scan._profiles import GradingProfile
from callvault.posture.scan._rules import evaluate

__all__ = ["GRADES", "grade", "grade_at_least"]

GRADES = ("A+", "A", "B", "C", "F")  # best first


def grade(report: dict[str, Any], profile: GradingProfile) -> dict[str, Any]:
    findings = evaluate(report, profile)
    severities = {f["severity"] for f in findings}
    if severities & {"critical", "high"}:
        letter = "F"
    elif "medium" in severities:
        letter = "C"
    elif "low" in severities:
        letter = "B"
    elif report["hsts"] is not None and report["hsts"]["present"]:
        letter = "A+"
    else:
        letter = "A"
    return {"grade": letter, "passed": letter in ("A+", "A", "B"), "findings": findings}


def grade_at_least(letter: str, threshold: str) -> bool:
    """``letter`` is ``threshold`` or better (``grade_at_least("A", "B")`` is true)."""
    return GRADES.index(letter) <= GRADES.index(threshold)
