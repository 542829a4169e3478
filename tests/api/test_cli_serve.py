"""The real commands: ``callvault serve`` in a subprocess (TLS 1.3 only, no plaintext
port) and ``callvault token`` (a JWT on stdout, one-line errors)."""

from __future__ import annotations

import os
import queue
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from callvault.transport import TlsProfile, client_context

CALLVAULT = [sys.executable, "-c", "from callvault.cli import main; main()"]


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLVAULT_")}
    env["CALLVAULT_HOME"] = str(home)
    return env


def _run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CALLVAULT, *args], env=_env(home), capture_output=True, text=True,
                          timeout=60, stdin=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def cli_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, int]]:
    home = tmp_path_factory.mktemp("cli") / "home"
    assert _run(home, "init").returncode == 0
    assert _run(home, "tenants", "create", "acme").returncode == 0
    proc = subprocess.Popen([*CALLVAULT, "serve", "--port", "0"], env=_env(home),
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    lines: queue.Queue[str] = queue.Queue()
    stream = proc.stderr
    reader = threading.Thread(target=lambda: [lines.put(x) for x in stream], daemon=True)
    reader.start()
    seen, port = [], None
    deadline = time.monotonic() + 30
    while port is None and time.monotonic() < deadline:
        try:
            line = lines.get(timeout=1)
        except queue.Empty:
            continue
        seen.append(line)
        if match := re.search(r"running on https://127\.0\.0\.1:(\d+)", line):
            port = int(match.group(1))
    try:
        assert port, "".join(seen)
        assert any("callvault token --role platform-admin" in s for s in seen)
        assert any("--cacert" in s for s in seen)
        yield home, port
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        reader.join(timeout=5)
        stream.close()


def test_serve_over_tls13_with_a_cli_token(cli_server: tuple[Path, int]) -> None:
    home, port = cli_server
    minted = _run(home, "token", "--role", "tenant-admin", "--tenant", "acme", "--ttl", "120")
    assert minted.returncode == 0, minted.stderr
    token = minted.stdout.strip()
    assert token.count(".") == 2 and "\n" not in token
    ctx = client_context(TlsProfile.MODERN, ca=home / "tls" / "ca.pem")
    with httpx.Client(base_url=f"https://localhost:{port}", verify=ctx, timeout=30,
                      headers={"authorization": f"Bearer {token}"}) as client:
        put = client.put("/v1/tenants/acme/recordings/cli-1", content=b"from the cli test")
        assert put.status_code == 201
        got = client.get("/v1/tenants/acme/recordings/cli-1")
        assert got.content == b"from the cli test"
        assert got.extensions["network_stream"].get_extra_info("ssl_object").version() == \
            "TLSv1.3"
    openssl = shutil.which("openssl")
    assert openssl is not None
    tls12 = subprocess.run(
        [openssl, "s_client", "-connect", f"127.0.0.1:{port}", "-tls1_2", "-brief",
         "-CAfile", str(home / "tls" / "ca.pem")],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=20)
    assert tls12.returncode != 0 and "CONNECTION ESTABLISHED" not in tls12.stdout
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"http://127.0.0.1:{port}/v1/tenants", timeout=10)


def test_token_errors_are_one_line(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert _run(home, "init").returncode == 0
    for args, needle in [
        (("--role", "service"), "bound to a tenant"),
        (("--role", "platform-admin", "--tenant", "acme"), "no tenant acme"),
        (("--role", "tenant-admin", "--tenant", "nope"), "no tenant nope"),
    ]:
        result = _run(home, "token", *args)
        assert result.returncode == 1, result
        assert result.stdout == ""
        assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
        assert needle in result.stderr
    assert _run(home, "token", "--role", "root").returncode == 2  # usage error
