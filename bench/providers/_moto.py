"""moto's server mode for the ``aws`` provider: AWS KMS's API over real HTTP on 127.0.0.1.

moto runs in a child process (``ThreadedMotoServer`` on an ephemeral port, Werkzeug), as
in the provider suite (tests/keys/providers/_kms_aws.py), and the provider talks to it
through a real boto3 client. Its figures are those of moto's Python emulation plus
boto3's request signing and parsing, not of AWS KMS: they show the client-side and stack
cost of the provider, not a KMS latency (a real AWS KMS call is a network round trip of
milliseconds). moto needs plain HTTP, hence ``allow_plaintext_endpoint_for_tests``.

Credentials are dummies, given to boto3's default chain through the environment while the
provider is opened (the client resolves them once, when it is built); the user's AWS
configuration files are masked meanwhile so they cannot change the endpoint or profile.
"""

from __future__ import annotations

import importlib.util
import select
import subprocess
import sys
from pathlib import Path

from bench.providers._backend import Backend, Skipped

__all__ = ["MotoServer"]

REGION = "eu-central-1"
_MOTO = (
    "import sys\n"
    "from moto.server import ThreadedMotoServer\n"
    "server = ThreadedMotoServer('127.0.0.1', 0, verbose=False)\n"
    "server.start()\n"
    "print(server.get_host_and_port()[1], flush=True)\n"
    "sys.stdin.read()\n"  # run until the benchmark closes our stdin
)


class MotoServer:
    def __init__(self, tmp: Path) -> None:
        for module in ("moto", "flask", "boto3"):
            if importlib.util.find_spec(module) is None:
                raise Skipped(f"{module} is not installed (pip install 'moto[server]' boto3)")
        self._absent = str(tmp / "no-aws-config")
        self._process = subprocess.Popen(
            [sys.executable, "-c", _MOTO],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )

    def ready(self) -> Backend:
        assert self._process.stdout is not None
        ready, _, _ = select.select([self._process.stdout], [], [], 30)
        line = self._process.stdout.readline() if ready else ""
        if not line.strip().isdigit():
            raise RuntimeError("moto's server did not start")
        endpoint = f"http://127.0.0.1:{int(line)}"
        return Backend(
            "aws",
            f"aws://?region={REGION}&endpoint={endpoint}&allow_plaintext_endpoint_for_tests=true",
            environ={
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",  # moto's dummy credentials
                "AWS_SESSION_TOKEN": None,
                "AWS_PROFILE": None,
                "AWS_CONFIG_FILE": self._absent,
                "AWS_SHARED_CREDENTIALS_FILE": self._absent,
            },
            in_process=False,
            notes="moto server (Python emulation of the KMS API) over HTTP on 127.0.0.1",
        )

    def stop(self) -> None:
        if self._process.stdin is not None:
            self._process.stdin.close()
        self._process.terminate()
        try:
            self._process.wait(10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        if self._process.stdout is not None:
            self._process.stdout.close()
