"""Run every check over a tree and build the ``callvault.lint/v1`` report.

A finding is reported once per (check, file, line): two patterns of one rule matching the
same line are one problem. Findings are sorted by severity (worst first), then file and
line, so two runs over the same tree give byte-identical reports except ``linted_at``.
A check that raises is a bug, never a pass: the error propagates and the lint fails.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from callvault.errors import InvalidRequest
from callvault.posture.lint._context import LintContext, normalise_environment
from callvault.posture.lint._files import walk
from callvault.posture.lint._model import Check, Finding, Severity
from callvault.posture.lint._registry import CHECKS

__all__ = ["FORMAT", "LintReport", "lint_path"]

FORMAT = "callvault.lint/v1"


@dataclass(frozen=True, slots=True)
class LintReport:
    """The outcome of one lint: what was linted, the rules applied and what they found."""

    path: str
    linted_at: dt.datetime
    environment: str | None
    files_scanned: int
    checks: tuple[Check, ...]
    findings: tuple[Finding, ...]

    def failing(self, floor: Severity) -> tuple[Finding, ...]:
        """The findings at or above ``floor`` (what ``--fail-on`` counts)."""
        return tuple(f for f in self.findings if f.severity.at_least(floor))

    def as_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "path": self.path,
            "linted_at": self.linted_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "environment": self.environment,
            "files_scanned": self.files_scanned,
            "checks": [check.info.as_json() for check in self.checks],
            "findings": [finding.as_json() for finding in self.findings],
        }


def lint_path(
    path: Path,
    *,
    environment: str | None = None,
    excludes: Sequence[str] = (),
    checks: Sequence[Check] = CHECKS,
    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
) -> LintReport:
    """Lint a deployment directory or one file. ``environment`` (dev/staging/prod) overrides
    what the configuration declares. Raises ``InvalidRequest`` for a path that is not
    there or an unknown environment."""
    if not path.exists():
        raise InvalidRequest(f"{path}: no such file or directory")
    if environment is not None and normalise_environment(environment) is None:
        raise InvalidRequest(f"unknown environment {environment!r} (dev, staging or prod)")
    root = path.resolve()
    files = tuple(walk(root, excludes))
    env = normalise_environment(environment) if environment else None
    ctx = LintContext.build(root, files, env)
    findings: dict[tuple[str, str, int | None], Finding] = {}
    for check in checks:
        for hit in check.probe(ctx):
            key = (check.info.id, hit.file, hit.line)
            if key not in findings:
                findings[key] = Finding(
                    check.info.id,
                    hit.severity or check.info.severity,
                    hit.file,
                    hit.line,
                    hit.message,
                    check.info.fix,
                )
    ordered = sorted(
        findings.values(), key=lambda f: (-f.severity.rank, f.file, f.line or 0, f.check)
    )
    return LintReport(str(root), clock(), ctx.environment, len(files), tuple(checks),
                      tuple(ordered))  # fmt: skip
