"""Posture reports for the bundle: the latest scan and lint reports with the history index,
and the posture document (Markdown and PDF).

The index lists every report the history holds (file, target or path, time, outcome) and
every file the history could not use, so an auditor sees the trend and any gap, not only
the last good run. The posture document comes from ``callvault.posture.document``; when that
cannot be imported or fails, the bundle says so in the manifest's ``missing`` list.
"""

from __future__ import annotations

import hashlib
import importlib
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from callvault.posture.evidence._inventory import Missing
from callvault.posture.evidence._manifest import Member, canonical_json
from callvault.posture.history import PostureHistory

__all__ = ["DocumentBuilder", "document_members", "history_members"]

DocumentBuilder = Callable[[Path], Any]
"""``build_posture(home)``: an object with ``.markdown() -> str`` and ``.pdf() -> bytes``."""

_SUBJECT = {"scan": "target", "lint": "path"}
_TIME = {"scan": "scanned_at", "lint": "linted_at"}
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _slug(text: str) -> str:
    return _UNSAFE.sub("_", text).strip("._")[:80] or "report"


def _summary(kind: str, report: dict[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {
        _SUBJECT[kind]: report.get(_SUBJECT[kind]),
        "time": report.get(_TIME[kind]),
        "failed_run": "error" in report,
    }
    if kind == "scan":
        grades = report.get("grades") or {}
        row["grades"] = {
            str(profile): {"grade": g.get("grade"), "passed": g.get("passed") is True}
            for profile, g in sorted(grades.items())
            if isinstance(g, dict)
        }
    else:
        findings = report.get("findings") or []
        row["findings"] = len(findings) if isinstance(findings, list) else None
    return row


def history_members(history: PostureHistory) -> tuple[list[Member], list[Missing]]:
    members: list[Member] = []
    missing: list[Missing] = []
    for kind, folder in (("scan", "scans"), ("lint", "lint")):
        read = history.read(kind)
        index = []
        for report, path in zip(read.reports, read.files, strict=True):
            data = path.read_bytes()
            index.append(
                {"file": path.name, "sha256": hashlib.sha256(data).hexdigest()}
                | _summary(kind, report)
            )
        members.append(
            Member(
                f"{folder}/history-index.json",
                canonical_json(
                    {
                        "kind": kind,
                        "reports": index,
                        "problems": [p.to_json() for p in read.problems],
                    }
                ),
                f"index of every {kind} report in the posture history, and unusable files",
            )
        )
        latest = history.latest(kind)
        if not latest:
            missing.append(
                Missing(
                    f"{kind} reports",
                    f"no {kind} report in the posture history "
                    f"(configure [posture] or run callvault {kind})",
                )
            )
        for number, report in enumerate(latest, 1):
            subject = str(report[_SUBJECT[kind]])
            members.append(
                Member(
                    f"{folder}/latest/{number:03d}-{_slug(subject)}.json",
                    canonical_json(report),
                    f"latest {kind} report of {subject}",
                )
            )
    return members, missing


def _default_builder() -> DocumentBuilder | None:
    # By name, not a static import: the document is another part of the posture package
    # and the bundle must not fail to build (only mark it missing) while it is absent.
    try:
        module = importlib.import_module("callvault.posture.document")
    except ImportError:
        return None
    builder = getattr(module, "build_posture", None)
    return builder if callable(builder) else None


def document_members(
    home: Path, builder: DocumentBuilder | None = None
) -> tuple[list[Member], list[Missing]]:
    builder = builder or _default_builder()
    if builder is None:
        reason = "callvault.posture.document (build_posture) is not available in this build"
        return [], [Missing("posture document", reason)]
    try:
        document = builder(home)
        markdown = document.markdown()
        pdf = document.pdf()
    except Exception as exc:  # a broken document is reported as missing, never faked
        reason = f"the posture document could not be built: {type(exc).__name__}: {exc}"
        return [], [Missing("posture document", " ".join(reason.split())[:500])]
    return [
        Member("posture/posture.md", str(markdown).encode(), "posture document (Markdown)"),
        Member("posture/posture.pdf", bytes(pdf), "posture document (PDF)"),
    ], []
