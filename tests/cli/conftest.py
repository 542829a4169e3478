"""Fixtures for CLI tests: the real ``callvault`` executable run in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

CALLVAULT = str(Path(sys.executable).with_name("callvault"))

Run = Callable[..., subprocess.CompletedProcess[bytes]]


@pytest.fixture
def cli_home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def run(cli_home: Path) -> Run:
    """Run ``callvault ARGS`` with CALLVAULT_HOME set; returns the completed process."""

    def _run(*args: str, input: bytes | None = None, env: dict[str, str] | None = None,
             check: bool = False) -> subprocess.CompletedProcess[bytes]:
        environ = {k: v for k, v in os.environ.items() if not k.startswith("CALLVAULT_")}
        environ["CALLVAULT_HOME"] = str(cli_home)
        environ.update(env or {})
        result = subprocess.run(
            [CALLVAULT, *args], input=input, capture_output=True, env=environ, timeout=120
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"callvault {' '.join(args)} exited {result.returncode}: {result.stderr!r}"
            )
        return result

    return _run


@pytest.fixture
def initialised(run: Run) -> Run:
    run("init", check=True)
    run("tenants", "create", "acme", check=True)
    run("tenants", "create", "globex", check=True)
    return run
