"""``callvault serve`` with ``[posture]`` configured scans and lints on its own schedule,
into the posture history: a real serve process, a real TLS endpoint to scan (Debian's
``openssl s_server``, TLS 1.3 only) and a deployment directory with one red flag."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from callvault.transport import ensure_local_tls

from .conftest import CliServer

OPENSSL = shutil.which("openssl")


@pytest.fixture
def tls13_endpoint(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """``openssl s_server -www`` on 127.0.0.1, TLS 1.3 only: (host:port, its CA file)."""
    if OPENSSL is None:
        pytest.skip("openssl is not installed")
    tls = ensure_local_tls(tmp_path / "target-tls")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen(
        [
            OPENSSL,
            "s_server",
            "-accept",
            f"127.0.0.1:{port}",
            "-cert",
            str(tls.chain),
            "-key",
            str(tls.key),
            "-tls1_3",
            "-www",
            "-quiet",
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "s_server did not start"
                time.sleep(0.1)
        yield f"127.0.0.1:{port}", tls.ca
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _reports(home: Path, kind: str) -> list[dict[str, Any]]:
    folder = home / "posture" / "history" / kind
    return [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))]


def test_serve_scans_and_lints_on_its_schedule(
    tmp_path: Path,
    tls13_endpoint: tuple[str, Path],
    cli_serve: Callable[..., CliServer],
    run_cli: Callable[..., Any],
) -> None:
    target, target_ca = tls13_endpoint
    home = tmp_path / "home"
    assert run_cli(home, "init").returncode == 0
    deploy = home / "deploy"
    deploy.mkdir()
    (deploy / "nginx.conf").write_text(
        "server {\n  listen 443 ssl;\n  ssl_protocols TLSv1 TLSv1.2 TLSv1.3;\n"
        "  ssl_ciphers ECDHE-ECDSA-AES256-GCM-SHA384;\n}\n"
    )
    with (home / "callvault.toml").open("a") as config:
        config.write(
            "\n[posture]\n"
            f'scan_targets = ["{target}"]\n'
            'lint_paths = ["deploy"]\n'
            f'scan_ca_file = "{target_ca}"\n'
            "first_delay_seconds = 0\n"
        )
    server = cli_serve(home)
    assert any(
        "posture checks: 1 scan target(s), 1 lint path(s)" in line for line in server.banner
    ), server.banner

    deadline = time.monotonic() + 60
    while not (_reports(home, "scan") and _reports(home, "lint")):
        assert time.monotonic() < deadline, "no scheduled posture round within 60 s"
        time.sleep(0.5)
    (scan,) = _reports(home, "scan")
    assert scan["target"] == target and "error" not in scan, scan.get("error")
    assert scan["protocols"]["TLSv1.3"] and not scan["protocols"]["TLSv1.2"]
    assert scan["certificate"]["trusted"] is True  # scan_ca_file was used
    assert scan["grades"]["callvault-modern"]["grade"]
    (lint,) = _reports(home, "lint")
    assert {(f["check"], f["file"]) for f in lint["findings"]} == {
        ("tls.legacy-protocol", "nginx.conf")
    }
