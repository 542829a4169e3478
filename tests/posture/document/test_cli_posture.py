"""``callvault posture`` as a user runs it: formats, --out, --fail-on-gaps, errors."""

from __future__ import annotations

import json
from pathlib import Path

from callvault.posture.history import PostureHistory

from .conftest import run_cli, scan_report


def test_markdown_on_stdout_exit_zero_despite_gaps(home: Path) -> None:
    done = run_cli(home, "posture")
    assert done.returncode == 0, done.stderr
    assert b"# callvault encryption posture" in done.stdout
    assert b"dev/acme/default" in done.stdout
    gaps = run_cli(home, "posture", "--fail-on-gaps")
    assert gaps.returncode == 1
    assert gaps.stderr.startswith(b"error: controls not passing: ")
    assert b"PCI DSS 4.0 Req 4" in gaps.stderr  # no scan recorded: not a pass


def test_json_html_pdf_to_files(home: Path, tmp_path: Path) -> None:
    PostureHistory(home).record("scan", scan_report("127.0.0.1:8443", passed=True))
    for fmt, check in (
        ("json", lambda b: json.loads(b)["format"] == "callvault.posture/v1"),
        ("html", lambda b: b.startswith(b"<!DOCTYPE html>")),
        ("pdf", lambda b: b.startswith(b"%PDF-")),
    ):
        out = tmp_path / f"posture.{fmt}"
        done = run_cli(home, "posture", "--format", fmt, "--out", str(out))
        assert done.returncode == 0, done.stderr
        assert check(out.read_bytes()), fmt
        assert b"controls pass" in done.stderr
    data = json.loads((tmp_path / "posture.json").read_text())
    scan = next(c for c in data["checks"] if c["id"] == "scan.graded")
    assert scan["status"] == "pass"


def test_bad_input_is_a_one_line_error(home: Path, tmp_path: Path) -> None:
    bad_format = run_cli(home, "posture", "--format", "docx")
    assert bad_format.returncode == 2
    not_home = run_cli(tmp_path / "nowhere", "posture")
    assert not_home.returncode == 1
    assert not_home.stderr.decode().count("\n") == 1
    assert "not a callvault home" in not_home.stderr.decode()
    assert not (tmp_path / "nowhere").exists()
