"""The lint report as SARIF 2.1.0, the format CI code-scanning dashboards read.

One ``run`` whose ``tool.driver.rules`` are the checks (id, short description, full
rationale as help, default level) and whose ``results`` are the findings, each with its
rule, level and a physical location relative to ``%SRCROOT%`` (the linted directory).
``properties.security-severity`` carries a CVSS-like number so GitHub orders the alerts.
"""

from __future__ import annotations

from typing import Any

from callvault.posture.lint._engine import LintReport
from callvault.posture.lint._model import Severity

__all__ = ["SARIF_SCHEMA", "SARIF_VERSION", "to_sarif"]

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {Severity.CRITICAL: "error", Severity.HIGH: "error", Severity.MEDIUM: "warning",
          Severity.LOW: "note", Severity.INFO: "note"}  # fmt: skip
_SCORE = {Severity.CRITICAL: "9.5", Severity.HIGH: "8.0", Severity.MEDIUM: "5.5",
          Severity.LOW: "3.0", Severity.INFO: "0.0"}  # fmt: skip


def to_sarif(report: LintReport, *, version: str = "0") -> dict[str, Any]:
    rules = [
        {
            "id": check.info.id,
            "name": check.info.id.replace(".", "/"),
            "shortDescription": {"text": check.info.title},
            "fullDescription": {"text": check.info.rationale},
            "help": {"text": f"{check.info.rationale}\n\nFix: {check.info.fix}"},
            "defaultConfiguration": {"level": _LEVEL[check.info.severity]},
            "properties": {
                "security-severity": _SCORE[check.info.severity],
                "tags": ["security", "encryption"],
            },
        }
        for check in report.checks
    ]
    index = {check.info.id: i for i, check in enumerate(report.checks)}
    results = []
    for finding in report.findings:
        physical: dict[str, Any] = {
            "artifactLocation": {"uri": finding.file, "uriBaseId": "%SRCROOT%"}
        }
        if finding.line is not None:
            physical["region"] = {"startLine": finding.line}
        results.append(
            {
                "ruleId": finding.check,
                "ruleIndex": index[finding.check],
                "level": _LEVEL[finding.severity],
                "message": {"text": f"{finding.message}. Fix: {finding.fix}"},
                "locations": [{"physicalLocation": physical}],
                "properties": {"severity": finding.severity.value},
            }
        )
    root_uri = "file://" + report.path.rstrip("/") + "/"
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [{
            "tool": {"driver": {
                "name": "callvault lint",
                "version": version,
                "rules": rules,
            }},
            "originalUriBaseIds": {"%SRCROOT%": {"uri": root_uri}},
            "results": results,
        }],
    }  # fmt: skip
