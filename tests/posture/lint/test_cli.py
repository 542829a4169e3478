"""``callvault lint`` as CI runs it: exit codes and outputs. One test runs the real
executable; the others drive the same Typer app in-process (each ``callvault`` start
imports the whole CLI, seconds on this machine)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from sarif_kit.validate import validation_errors
from typer.testing import CliRunner

from callvault.cli._app import app

CALLVAULT = str(Path(sys.executable).with_name("callvault"))


@dataclass(frozen=True)
class Outcome:
    returncode: int
    stdout: str
    stderr: str


def lint(*args: str) -> Outcome:
    result = CliRunner().invoke(app, ["lint", *args], env={"CALLVAULT_HOME": None})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Outcome(result.exit_code, result.stdout, result.stderr)


def test_real_executable(planted, clean, tmp_path: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CALLVAULT_")}
        return subprocess.run(
            [CALLVAULT, "lint", *args], capture_output=True, text=True, env=env, timeout=120
        )

    red = run(str(planted.root))
    assert red.returncode == 1, red.stderr
    assert "tls.legacy-protocol" in red.stdout and "nginx/nginx.conf:20" in red.stdout
    for value in planted.secrets:
        assert value not in red.stdout + red.stderr
    green = run(str(clean))
    assert green.returncode == 0, green.stdout + green.stderr
    assert "no findings" in green.stdout
    missing = run(str(tmp_path / "nope"))
    assert missing.returncode == 2
    assert "no such file" in missing.stderr


def test_fail_on_threshold(tmp_path: Path) -> None:
    (tmp_path / "nginx.conf").write_text("ssl_protocols TLSv1.1 TLSv1.2;\n")  # one high finding
    assert lint(str(tmp_path)).returncode == 1  # default: high
    assert lint(str(tmp_path), "--fail-on", "critical").returncode == 0
    assert lint(str(tmp_path), "--fail-on", "medium").returncode == 1


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert lint(str(tmp_path / "nope")).returncode == 2
    assert lint(str(tmp_path), "--fail-on", "severe").returncode == 2
    assert lint(str(tmp_path), "--environment", "moon").returncode == 2
    assert lint(str(tmp_path), "--json", "--sarif", "-").returncode == 2


def test_json_and_sarif_outputs(planted, tmp_path: Path) -> None:
    out = tmp_path / "lint.sarif"
    result = lint(str(planted.root), "--json", "--sarif", str(out))
    assert result.returncode == 1
    document = json.loads(result.stdout)
    assert document["format"] == "callvault.lint/v1"
    assert len(document["findings"]) >= 11
    sarif = json.loads(out.read_text())
    assert validation_errors(sarif) == []
    assert len(sarif["runs"][0]["results"]) == len(document["findings"])


def test_environment_option_overrides_config(clean) -> None:
    (clean / "callvault.toml").write_text('environment = "dev"\n')
    (clean / "env" / ".env.production").unlink()
    assert json.loads(lint(str(clean), "--json").stdout)["environment"] == "staging"
    prod = json.loads(lint(str(clean), "--json", "--environment", "prod").stdout)
    assert prod["environment"] == "prod"


def test_never_prints_a_secret(planted, tmp_path: Path) -> None:
    out = tmp_path / "lint.sarif"
    outputs = []
    for args in ((), ("--json",), ("--sarif", str(out)), ("--sarif", "-")):
        result = lint(str(planted.root), *args)
        assert result.returncode == 1
        outputs += [result.stdout, result.stderr]
    outputs.append(out.read_text())
    text = "\n".join(outputs)
    assert "fingerprint sha256:" in text
    for value in planted.secrets:
        assert value not in text


def test_record_keeps_history(planted, tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert lint(str(planted.root), "--record", "--home", str(home)).returncode == 1
    [saved] = (home / "posture" / "history" / "lint").glob("*.json")
    assert json.loads(saved.read_text())["format"] == "callvault.lint/v1"
