"""The real commands: ``callvault serve`` in a subprocess (TLS 1.3 only, no plaintext
port) and ``callvault token`` (a JWT on stdout, one-line errors)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from callvault.transport import TlsProfile, client_context


@pytest.fixture
def cli_server(
    tmp_path: Path, cli_serve: Callable[..., Any], run_cli: Callable[..., Any]
) -> tuple[Path, int]:
    home = tmp_path / "home"
    assert run_cli(home, "init").returncode == 0
    assert run_cli(home, "tenants", "create", "acme").returncode == 0
    server = cli_serve(home)
    assert any("callvault token --role platform-admin" in s for s in server.banner)
    assert any("--cacert" in s for s in server.banner)
    return home, server.port


def test_serve_over_tls13_with_a_cli_token(
    cli_server: tuple[Path, int], run_cli: Callable[..., Any]
) -> None:
    home, port = cli_server
    minted = run_cli(home, "token", "--role", "tenant-admin", "--tenant", "acme", "--ttl", "120")
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


def test_token_errors_are_one_line(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    home = tmp_path / "home"
    assert run_cli(home, "init").returncode == 0
    for args, needle in [
        (("--role", "service"), "bound to a tenant"),
        (("--role", "platform-admin", "--tenant", "acme"), "no tenant acme"),
        (("--role", "tenant-admin", "--tenant", "nope"), "no tenant nope"),
    ]:
        result = run_cli(home, "token", *args)
        assert result.returncode == 1, result
        assert result.stdout == ""
        assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
        assert needle in result.stderr
    assert run_cli(home, "token", "--role", "root").returncode == 2  # usage error
