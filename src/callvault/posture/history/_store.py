"""``PostureHistory``: the scan and lint reports a home has produced, one JSON file each.

Layout: ``<home>/posture/history/<kind>/<UTC yyyymmddTHHMMSSZ>-<8 hex>.json`` where the hex
is the start of the SHA-256 of the file's bytes. The name is therefore a check on the
content: a report edited in place no longer matches its name and is *reported* as corrupt
(``problems``), never used. Files are written atomically (``callvault._atomic``) under a
per-kind lock, so a crash leaves a whole report or none, and two processes (``serve``'s
schedule and a ``callvault scan``) cannot prune each other's fresh file.

Pruning keeps the newest ``keep`` reports of a kind, but never the newest report of a
target (scan) or path (lint): a target scanned once a month keeps its latest state even
when a busy one fills the history.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from callvault._atomic import atomic_write, exclusive_lock
from callvault.errors import InvalidRequest

__all__ = [
    "DEFAULT_KEEP",
    "FORMATS",
    "HISTORY_DIR",
    "HistoryProblem",
    "HistoryRead",
    "PostureHistory",
]

HISTORY_DIR = Path("posture") / "history"
FORMATS = {"scan": "callvault.scan/v1", "lint": "callvault.lint/v1"}
"""kind -> the ``format`` a report of that kind must carry."""
_SUBJECT = {"scan": "target", "lint": "path"}
_TIME_FIELD = {"scan": "scanned_at", "lint": "linted_at"}
DEFAULT_KEEP = 200
_MAX_REPORT = 16 * 1024 * 1024
_NAME = re.compile(r"(\d{8}T\d{6}Z)-([0-9a-f]{8})\.json")


@dataclass(frozen=True, slots=True)
class HistoryProblem:
    """A file in the history that is not a usable report, and why (it is skipped)."""

    path: Path
    reason: str

    def to_json(self) -> dict[str, str]:
        return {"file": self.path.name, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class HistoryRead:
    """Every report of a kind, oldest first, and the files that could not be used."""

    reports: list[dict[str, Any]]
    files: list[Path]
    problems: list[HistoryProblem]


def _canonical(report: dict[str, Any]) -> bytes:
    try:
        return json.dumps(report, sort_keys=True, indent=1, allow_nan=False).encode() + b"\n"
    except (TypeError, ValueError) as exc:
        raise InvalidRequest(f"a posture report must be plain JSON: {exc}") from None


class PostureHistory:
    def __init__(
        self,
        home: Path,
        *,
        keep: int = DEFAULT_KEEP,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if keep < 1:
            raise InvalidRequest("the posture history must keep at least one report")
        self.root = home / HISTORY_DIR
        self.keep = keep
        self._clock = clock

    def directory(self, kind: str) -> Path:
        if kind not in FORMATS:
            raise InvalidRequest(f"unknown posture report kind {kind!r} (scan or lint)")
        return self.root / kind

    # -- writing ----------------------------------------------------------------------

    def record(self, kind: str, report: dict[str, Any]) -> Path:
        """Store ``report`` (its ``format`` must be the kind's) and prune; the new file."""
        folder = self.directory(kind)
        if not isinstance(report, dict) or report.get("format") != FORMATS[kind]:
            raise InvalidRequest(f"a {kind} report must have format {FORMATS[kind]!r}")
        if not isinstance(report.get(_SUBJECT[kind]), str) or not report[_SUBJECT[kind]]:
            raise InvalidRequest(f"a {kind} report must name its {_SUBJECT[kind]}")
        data = _canonical(report)
        if len(data) > _MAX_REPORT:
            raise InvalidRequest(f"a {kind} report is limited to {_MAX_REPORT} bytes")
        stamp = self._clock().astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = folder / f"{stamp}-{hashlib.sha256(data).hexdigest()[:8]}.json"
        with exclusive_lock(folder / ".lock"):
            atomic_write(path, data, mode=0o600)
            self._prune(kind)
        return path

    def _prune(self, kind: str) -> None:
        read = self.read(kind)
        excess = len(read.files) - self.keep
        if excess <= 0:
            return
        newest = {id(r) for r in self._newest(kind, read.reports)}
        for report, path in zip(read.reports, read.files, strict=True):
            if excess <= 0:
                break
            if id(report) not in newest:
                path.unlink(missing_ok=True)
                excess -= 1

    # -- reading ----------------------------------------------------------------------

    def read(self, kind: str) -> HistoryRead:
        """Every valid report of ``kind`` oldest first; unusable files as ``problems``."""
        folder = self.directory(kind)
        found: list[tuple[tuple[str, str, str], dict[str, Any], Path]] = []
        problems: list[HistoryProblem] = []
        paths = sorted(folder.glob("*.json")) if folder.is_dir() else []
        for path in paths:
            report, reason = _load(kind, path)
            if report is None:
                problems.append(HistoryProblem(path, reason))
                continue
            when = report.get(_TIME_FIELD[kind])
            found.append(((path.name[:16], str(when), path.name), report, path))
        found.sort(key=lambda item: item[0])
        return HistoryRead([r for _, r, _ in found], [p for _, _, p in found], problems)

    def all(self, kind: str) -> list[dict[str, Any]]:
        return self.read(kind).reports

    def problems(self, kind: str) -> list[HistoryProblem]:
        return self.read(kind).problems

    def latest(self, kind: str) -> list[dict[str, Any]]:
        """The newest report per target (scan) or path (lint), sorted by that name."""
        newest = self._newest(kind, self.all(kind))
        return sorted(newest, key=lambda r: str(r[_SUBJECT[kind]]))

    @staticmethod
    def _newest(kind: str, reports: list[dict[str, Any]]) -> list[dict[str, Any]]:
        by_subject: dict[str, dict[str, Any]] = {}
        for report in reports:  # oldest first: later ones replace earlier ones
            by_subject[str(report[_SUBJECT[kind]])] = report
        return list(by_subject.values())


def _load(kind: str, path: Path) -> tuple[dict[str, Any] | None, str]:
    match = _NAME.fullmatch(path.name)
    if match is None:
        return None, "file name is not <yyyymmddTHHMMSSZ>-<8 hex>.json"
    try:
        data = path.read_bytes()
    except OSError as exc:
        return None, f"unreadable: {exc.strerror or exc}"
    if hashlib.sha256(data).hexdigest()[:8] != match.group(2):
        return None, "content does not match the hash in its name (edited or corrupt)"
    try:
        report = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return None, "not JSON"
    if not isinstance(report, dict) or report.get("format") != FORMATS[kind]:
        return None, f"not a {FORMATS[kind]} report"
    if not isinstance(report.get(_SUBJECT[kind]), str):
        return None, f"report names no {_SUBJECT[kind]}"
    return report, ""
