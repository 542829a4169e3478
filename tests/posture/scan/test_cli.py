"""The real ``callvault scan`` command: output, exit codes, HTML, and hostile peers."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from callvault.posture.scan import ScanError, scan

CALLVAULT = str(Path(sys.executable).with_name("callvault"))


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    cmd = [CALLVAULT, "scan", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)


def test_json_and_fail_under(servers: dict[str, int], pki: Any, tmp_path: Path) -> None:
    target = f"127.0.0.1:{servers['legacy']}"
    out = tmp_path / "r.html"
    got = _cli(target, "--server-name", "localhost", "--ca-file", str(pki.ca), "--json",
               "--html", str(out), "--fail-under", "B")  # fmt: skip
    assert got.returncode == 1, got.stderr
    report = json.loads(got.stdout)
    assert report["format"] == "callvault.scan/v1" and report["target"] == target
    assert report["grades"]["callvault-modern"]["grade"] == "F"
    html = out.read_text()
    assert "proto.tls10-enabled" in html and "<script" not in html
    assert "http://" not in html and "https://" not in html  # self-contained


def test_console_and_pass(servers: dict[str, int], pki: Any) -> None:
    got = _cli(f"127.0.0.1:{servers['callvault']}", "--server-name", "localhost",
               "--ca-file", str(pki.ca), "--fail-under", "A")  # fmt: skip
    assert got.returncode == 0, got.stderr
    assert "Grade A+ against callvault-modern" in got.stdout
    assert "TLS_AES_256_GCM_SHA384" in got.stdout


def test_closed_port_is_exit_2() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    got = _cli(f"127.0.0.1:{port}")
    assert got.returncode == 2 and got.stderr.startswith("error: ")
    assert "Traceback" not in got.stderr


@pytest.fixture
def hostile() -> Iterator[Any]:
    """``hostile(reply) -> port``: a TCP peer that sends ``reply`` (or nothing, and holds
    the connection open) to whatever arrives."""
    socks: list[socket.socket] = []

    def start(reply: bytes | None) -> int:
        srv = socket.create_server(("127.0.0.1", 0))
        socks.append(srv)

        def run() -> None:
            held = []
            while True:
                try:
                    conn, _ = srv.accept()
                except OSError:
                    return
                conn.recv(65536)
                if reply is None:
                    held.append(conn)
                    continue
                conn.sendall(reply)
                conn.close()

        threading.Thread(target=run, daemon=True).start()
        return int(srv.getsockname()[1])

    yield start
    for s in socks:
        s.close()


def test_non_tls_peer(hostile: Any) -> None:
    port = hostile(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
    with pytest.raises(ScanError, match="does not speak TLS"):
        scan(f"127.0.0.1:{port}", timeout=2)
    got = _cli(f"127.0.0.1:{port}")
    assert got.returncode == 2 and "does not speak TLS" in got.stderr


def test_silent_peer_times_out(hostile: Any) -> None:
    port = hostile(None)
    with pytest.raises(ScanError, match="timed out"):
        scan(f"127.0.0.1:{port}", timeout=0.3)


def test_bad_target_and_profile() -> None:
    assert _cli("no-port").returncode == 2
    assert _cli("127.0.0.1:1", "--profile", "nope").returncode == 2
