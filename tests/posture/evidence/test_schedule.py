"""The scheduled posture round and ``PostureJob``: reports recorded, failures recorded as
failed runs, and the job survives anything a round throws."""

from __future__ import annotations

import socket
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from callvault import Vault
from callvault.config import PostureSettings
from callvault.posture.history import PostureHistory
from callvault.posture.schedule import PostureJob, run_round

from .conftest import lint_report, scan_report


def _settings(**fields: Any) -> PostureSettings:
    return PostureSettings(**fields)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again when the block ends


def test_nothing_is_scheduled_by_default() -> None:
    assert not PostureSettings().scheduled  # type: ignore[call-arg]


@pytest.mark.parametrize("target", ["example.org", "example.org:0", ":443", "h:99999", "h:x"])
def test_scan_targets_must_be_host_port(target: str) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        _settings(scan_targets=[target])


def test_round_records_reports_and_failed_runs(tmp_path: Path) -> None:
    def scanner(target: str) -> Any:
        if target.startswith("down"):
            raise ConnectionRefusedError("connection refused")
        return scan_report(target, "2026-01-01T00:00:00Z")

    def linter(path: Path) -> Any:
        if not path.exists():
            raise FileNotFoundError(f"no such path: {path}")
        return lint_report(str(path), "2026-01-01T00:00:00Z")

    (tmp_path / "deploy").mkdir()
    settings = _settings(
        scan_targets=["down.example:443", "up.example:443"], lint_paths=["deploy", "/missing"]
    )
    result = run_round(tmp_path, settings, scanner=scanner, linter=linter)
    assert len(result.recorded) == 4
    assert {(f["kind"], f["subject"]) for f in result.failures} == {
        ("scan", "down.example:443"),
        ("lint", "/missing"),
    }
    history = PostureHistory(tmp_path)
    scans = {r["target"]: r for r in history.latest("scan")}
    assert "error" not in scans["up.example:443"]
    failed = scans["down.example:443"]
    assert failed["error"]["type"] == "ConnectionRefusedError"
    assert failed["grades"] == {}  # no profile passed: a failed scan never reads as a pass
    lints = {r["path"]: r for r in history.latest("lint")}
    assert lints[str(tmp_path / "deploy")]["findings"] == []
    failed_lint = lints["/missing"]
    assert [f["severity"] for f in failed_lint["findings"]] == ["high"]
    assert failed_lint["findings"][0]["check"] == "posture.run-failed"


def test_a_bad_report_is_recorded_as_a_failed_run(tmp_path: Path) -> None:
    settings = _settings(scan_targets=["a.example:443"])
    result = run_round(tmp_path, settings, scanner=lambda t: {"format": "something/else"})
    assert result.failures and result.failures[0]["type"] == "InvalidRequest"
    assert PostureHistory(tmp_path).latest("scan")[0]["error"]["type"] == "InvalidRequest"


def test_report_objects_with_to_json(tmp_path: Path) -> None:
    class Report:
        def to_json(self) -> dict[str, Any]:
            return scan_report("a.example:443", "2026-01-01T00:00:00Z")

    run_round(tmp_path, _settings(scan_targets=["a.example:443"]), scanner=lambda t: Report())
    assert "error" not in PostureHistory(tmp_path).latest("scan")[0]


def test_default_scanner_on_a_closed_port_is_a_failed_run(tmp_path: Path) -> None:
    """The real scanner (``callvault.posture.scan``) or, while that part is absent, the
    named import failure: either way a target that does not answer is a recorded failure."""
    target = f"127.0.0.1:{_closed_port()}"
    result = run_round(tmp_path, _settings(scan_targets=[target]))
    assert [f["subject"] for f in result.failures] == [target]
    assert PostureHistory(tmp_path).latest("scan")[0]["error"]


def test_job_records_and_survives_a_failing_round(tmp_path: Path) -> None:
    calls: list[str] = []

    def scanner(target: str) -> Any:
        calls.append(target)
        return scan_report(target, "2026-01-01T00:00:00Z")

    blocker = tmp_path / "posture"
    blocker.write_text("a file where the history directory goes")  # every write fails
    job = PostureJob(
        tmp_path,
        _settings(scan_targets=["a.example:443"]),
        interval=timedelta(milliseconds=20),
        first_delay=timedelta(0),
        scanner=scanner,
    )
    job.start()
    try:
        assert job.round_done.wait(30)
        assert job.last is None  # the round raised (history unwritable); the job caught it
        blocker.unlink()  # repaired: a later round records
        for _ in range(200):
            job.round_done.clear()
            assert job.round_done.wait(30)
            if job.last is not None:
                break
        assert job.last is not None and job.last.recorded
        assert job._thread is not None and job._thread.is_alive()
    finally:
        job.stop()
    assert calls and PostureHistory(tmp_path).latest("scan")[0]["target"] == "a.example:443"


def test_job_stopped_before_its_first_round_runs_none(tmp_path: Path) -> None:
    job = PostureJob(tmp_path, _settings(scan_targets=["a.example:443"]), scanner=scan_report)
    job.start()  # default first delay: 15 s
    job.stop()
    assert job.rounds == 0 and not job.round_done.is_set()


def test_serve_starts_the_job_only_when_configured(vault: Vault) -> None:
    from callvault.cli._serve import _posture_job

    assert _posture_job(vault) is None
    (vault.home / "callvault.toml").write_text(
        (vault.home / "callvault.toml").read_text()
        + '\n[posture]\nscan_targets = ["127.0.0.1:8443"]\ninterval_minutes = 60\n'
    )
    configured = Vault.open_home(vault.home)
    job = _posture_job(configured)
    try:
        assert isinstance(job, PostureJob)
        assert job._thread is not None and job._thread.is_alive()
    finally:
        job.stop()


def test_default_linter_records_a_real_lint(tmp_path: Path) -> None:
    """The real linter (``callvault.posture.lint``) through the scheduled round."""
    deploy = tmp_path / "deploy"
    deploy.mkdir()
    (deploy / "nginx.conf").write_text("server {\n  ssl_protocols TLSv1 TLSv1.2;\n}\n")
    result = run_round(tmp_path, _settings(lint_paths=["deploy"]))
    assert result.failures == []
    report = PostureHistory(tmp_path).latest("lint")[0]
    assert "error" not in report
    assert any(f["file"] == "nginx.conf" for f in report["findings"])
