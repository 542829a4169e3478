"""``callvault lint``: the deployment misconfiguration linter (docs/posture/lint.md).

Walks a deployment (callvault config, environment files, nginx/HAProxy/Apache TLS configs,
PostgreSQL connection strings, logging configs, certificates, source code) for the seed's
red flags. One rule per module under ``checks/``, listed in ``CHECKS``; ``lint_path`` runs
them and returns a ``LintReport`` (``as_json()``: the ``callvault.lint/v1`` shape;
``to_sarif``: SARIF 2.1.0).
"""

from callvault.posture.lint._engine import FORMAT, LintReport, lint_path
from callvault.posture.lint._model import Check, CheckInfo, Finding, Hit, Severity
from callvault.posture.lint._registry import CHECKS, check_ids
from callvault.posture.lint._sarif import to_sarif

__all__ = [
    "CHECKS",
    "FORMAT",
    "Check",
    "CheckInfo",
    "Finding",
    "Hit",
    "LintReport",
    "Severity",
    "check_ids",
    "lint_path",
    "to_sarif",
]
