"""One scheduled posture round: scan every configured target, lint every configured path,
record each report in the posture history.

A run that fails (target unreachable, scanner error, path missing) is recorded as a *failed
report* of its kind, so the history shows the gap instead of the last good result: a scan
with an ``error`` object and no grades (no profile passed), a lint report with an ``error``
and one ``high`` finding ``posture.run-failed`` (a failed lint never reads as clean). One
target's failure never stops the others.

The scanner and linter are other parts of ``callvault.posture``; they are imported by name
when first used, and tests (or other deployments) may inject their own runners.
"""

from __future__ import annotations

import functools
import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from callvault.config import PostureSettings
from callvault.posture.history import FORMATS, PostureHistory

__all__ = [
    "Linter",
    "RoundResult",
    "Scanner",
    "default_linter",
    "default_scanner",
    "failed_lint",
    "failed_scan",
    "run_round",
]

log = logging.getLogger("callvault.posture.schedule")

Scanner = Callable[[str], Any]
"""``scan("host:port")`` -> a scan report (a dict, or an object with ``to_json()``)."""
Linter = Callable[[Path], Any]
"""``lint(path)`` -> a lint report (a dict, or an object with ``to_json()``)."""


@dataclass(slots=True)
class RoundResult:
    recorded: list[Path] = field(default_factory=list)
    failures: list[dict[str, str]] = field(default_factory=list)
    """``{"kind", "subject", "error"}`` for each run that failed (also recorded)."""

    def to_json(self) -> dict[str, Any]:
        return {"recorded": [p.name for p in self.recorded], "failures": list(self.failures)}


def _named(module: str, *names: str) -> Callable[..., Any]:
    loaded = importlib.import_module(module)
    for name in names:
        function = getattr(loaded, name, None)
        if callable(function):
            return function  # type: ignore[no-any-return]
    raise RuntimeError(f"{module}.{names[0]} is not available in this build")


def default_scanner(target: str, ca_file: str | None = None) -> Any:
    return _named("callvault.posture.scan", "scan")(target, ca_file=ca_file)


def scan_ca_file(home: Path, settings: PostureSettings) -> str | None:
    """The trust anchors of scheduled scans beside the system store: ``[posture]
    scan_ca_file`` (relative to the home), else the home's local CA when it has one (what
    clients of the embedded default trust), else the system store alone."""
    if settings.scan_ca_file is not None:
        path = Path(settings.scan_ca_file)
        return str(path if path.is_absolute() else home / path)
    local = home / "tls" / "ca.pem"
    return str(local) if local.exists() else None


def default_linter(path: Path) -> Any:
    return _named("callvault.posture.lint", "lint_path", "lint")(path)


def _as_report(result: Any) -> dict[str, Any]:
    """The report dict of whatever the runner returned (a dict, or a report object with
    ``to_json``, ``as_json`` or ``to_dict``)."""
    report = result
    for method in ("to_json", "as_json", "to_dict"):
        if not isinstance(report, dict) and callable(getattr(result, method, None)):
            report = getattr(result, method)()
    if not isinstance(report, dict):
        raise TypeError(f"a report must be a dict, not {type(report).__name__}")
    return report


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def _error(exc: BaseException) -> dict[str, str]:
    return {"type": type(exc).__name__, "message": " ".join(str(exc).split())[:500]}


def failed_scan(target: str, exc: BaseException) -> dict[str, Any]:
    host = target.rpartition(":")[0].strip("[]")
    return {
        "format": FORMATS["scan"],
        "target": target,
        "server_name": host,
        "scanned_at": _now(),
        "error": _error(exc),
        "protocols": {},
        "suites": {},
        "groups": [],
        "hybrid_pq": False,
        "forward_secrecy": False,
        "certificate": None,
        "hsts": None,
        "grades": {},
    }


def failed_lint(path: str, exc: BaseException) -> dict[str, Any]:
    error = _error(exc)
    return {
        "format": FORMATS["lint"],
        "path": path,
        "linted_at": _now(),
        "error": error,
        "checks": [],
        "findings": [
            {
                "check": "posture.run-failed",
                "severity": "high",
                "file": ".",
                "line": None,
                "message": f"lint did not run: {error['type']}: {error['message']}",
                "fix": "make the path readable to serve, or fix [posture] lint_paths",
            }
        ],
    }


def run_round(
    home: Path,
    settings: PostureSettings,
    history: PostureHistory | None = None,
    *,
    scanner: Scanner | None = None,
    linter: Linter = default_linter,
) -> RoundResult:
    """Scan and lint what ``settings`` lists, once; every outcome is recorded."""
    history = history or PostureHistory(home, keep=settings.history_keep)
    if scanner is None:
        scanner = functools.partial(default_scanner, ca_file=scan_ca_file(home, settings))
    result = RoundResult()
    for target in settings.scan_targets:
        try:
            report = _as_report(scanner(target))
            if report.get("target") != target:
                report = {**report, "target": target}
            result.recorded.append(history.record("scan", report))
        except Exception as exc:  # one target's failure is recorded, never fatal
            log.warning("posture scan of %s failed: %s", target, type(exc).__name__)
            result.failures.append({"kind": "scan", "subject": target, **_error(exc)})
            result.recorded.append(history.record("scan", failed_scan(target, exc)))
    for name in settings.lint_paths:
        path = settings.lint_path(home, name)
        try:
            report = _as_report(linter(path))
            result.recorded.append(history.record("lint", report))
        except Exception as exc:
            log.warning("posture lint of %s failed: %s", path, type(exc).__name__)
            result.failures.append({"kind": "lint", "subject": str(path), **_error(exc)})
            result.recorded.append(history.record("lint", failed_lint(str(path), exc)))
    return result
