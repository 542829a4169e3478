"""``PostureHistory``: record, all, latest, prune, and corrupt files reported, not used."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from callvault.errors import InvalidRequest
from callvault.posture.history import HISTORY_DIR, PostureHistory


def scan(target: str, when: str, grade: str = "A") -> dict[str, Any]:
    return {
        "format": "callvault.scan/v1",
        "target": target,
        "server_name": target.rpartition(":")[0],
        "scanned_at": when,
        "grades": {"callvault-modern": {"grade": grade, "passed": grade == "A", "findings": []}},
    }


def lint(path: str, when: str) -> dict[str, Any]:
    return {"format": "callvault.lint/v1", "path": path, "linted_at": when, "findings": []}


class Clock:
    """A clock the test advances by hand (file names carry second resolution)."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture
def history(tmp_path: Path) -> PostureHistory:
    return PostureHistory(tmp_path, clock=Clock())


def test_record_names_and_reads_back(history: PostureHistory, tmp_path: Path) -> None:
    path = history.record("scan", scan("a:443", "2026-03-01T12:00:01Z"))
    assert path.parent == tmp_path / HISTORY_DIR / "scan"
    assert re.fullmatch(r"20260301T120001Z-[0-9a-f]{8}\.json", path.name)
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert history.all("scan") == [scan("a:443", "2026-03-01T12:00:01Z")]
    assert history.all("lint") == []
    assert history.problems("scan") == []


def test_latest_per_target_and_per_path(history: PostureHistory) -> None:
    history.record("scan", scan("a:443", "t1", "F"))
    history.record("scan", scan("b:443", "t2"))
    history.record("scan", scan("a:443", "t3", "A"))
    history.record("lint", lint("/srv/x", "t4"))
    history.record("lint", lint("/srv/x", "t5"))
    assert [r["scanned_at"] for r in history.all("scan")] == ["t1", "t2", "t3"]
    latest = history.latest("scan")
    assert [(r["target"], r["scanned_at"]) for r in latest] == [("a:443", "t3"), ("b:443", "t2")]
    assert [r["linted_at"] for r in history.latest("lint")] == ["t5"]


def test_same_second_orders_by_report_time(tmp_path: Path) -> None:
    fixed = datetime(2026, 3, 1, tzinfo=UTC)
    history = PostureHistory(tmp_path, clock=lambda: fixed)
    history.record("scan", scan("a:443", "2026-03-01T00:00:00.200000Z", "A"))
    history.record("scan", scan("a:443", "2026-03-01T00:00:00.100000Z", "F"))
    assert history.latest("scan")[0]["grades"]["callvault-modern"]["grade"] == "A"


@pytest.mark.parametrize(
    ("kind", "report"),
    [
        ("scan", lint("/x", "t")),  # the format of another kind
        ("lint", scan("a:1", "t")),
        ("scan", {"format": "callvault.scan/v1", "scanned_at": "t"}),  # no target
        ("scan", {**scan("a:1", "t"), "bad": float("nan")}),  # not plain JSON
        ("scan", {**scan("a:1", "t"), "bad": object()}),
        ("trend", scan("a:1", "t")),  # unknown kind
    ],
)
def test_record_refuses_what_is_not_a_report(
    history: PostureHistory, kind: str, report: dict[str, Any], tmp_path: Path
) -> None:
    with pytest.raises(InvalidRequest):
        history.record(kind, report)
    assert not any((tmp_path / HISTORY_DIR).rglob("*.json"))


def test_prune_keeps_count_but_never_a_targets_newest(tmp_path: Path) -> None:
    history = PostureHistory(tmp_path, keep=3, clock=Clock())
    history.record("scan", scan("rare:443", "t0"))
    for i in range(1, 6):
        history.record("scan", scan("busy:443", f"t{i}"))
    kept = history.all("scan")
    assert len(kept) == 3
    assert [r["scanned_at"] for r in kept] == ["t0", "t4", "t5"]  # rare's only report stays
    assert {r["target"] for r in history.latest("scan")} == {"rare:443", "busy:443"}
    history.record("lint", lint("/x", "l1"))  # kinds are pruned separately
    assert len(history.all("scan")) == 3 and len(history.all("lint")) == 1


def test_keep_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(InvalidRequest):
        PostureHistory(tmp_path, keep=0)


Corruption = Callable[[Path], None]


def _edit(path: Path) -> None:
    doc = json.loads(path.read_bytes())
    doc["grades"]["callvault-modern"]["passed"] = True  # a failing grade forged to pass
    path.write_text(json.dumps(doc))


@pytest.mark.parametrize(
    ("corrupt", "reason"),
    [
        (_edit, "does not match the hash"),
        (lambda p: p.write_bytes(p.read_bytes()[:10]), "does not match the hash"),
        (lambda p: p.rename(p.with_name("forged.json")), "file name"),
    ],
)
def test_corrupt_files_are_reported_not_used(
    history: PostureHistory, corrupt: Corruption, reason: str
) -> None:
    history.record("scan", scan("a:443", "t1", "A"))
    path = history.record("scan", scan("a:443", "t2", "F"))
    corrupt(path)
    read = history.read("scan")
    assert [r["scanned_at"] for r in read.reports] == ["t1"]
    assert len(read.problems) == 1 and reason in read.problems[0].reason
    assert history.latest("scan")[0]["scanned_at"] == "t1"


def test_valid_name_but_wrong_content_reported(history: PostureHistory, tmp_path: Path) -> None:
    import hashlib

    folder = tmp_path / HISTORY_DIR / "scan"
    folder.mkdir(parents=True)
    for data in (b"not json", json.dumps(lint("/x", "t")).encode(), b"[1, 2]"):
        name = f"20260101T000000Z-{hashlib.sha256(data).hexdigest()[:8]}.json"
        (folder / name).write_bytes(data)
    read = history.read("scan")
    assert read.reports == []
    assert sorted(p.reason for p in read.problems) == [
        "not JSON",
        "not a callvault.scan/v1 report",
        "not a callvault.scan/v1 report",
    ]
