"""moto's server mode in a child process: AWS KMS's (and S3's) API over real HTTP on
127.0.0.1, for tests and benchmarks. AWS itself cannot run here; this is the one mock.

``ThreadedMotoServer`` listens on an ephemeral port and runs until its stdin closes, so a
crashed test run cannot leave it behind. Callers give boto3 dummy credentials themselves.
"""

from __future__ import annotations

import contextlib
import importlib.util
import select
import subprocess
import sys
from collections.abc import Iterator

__all__ = ["MotoUnavailable", "moto_available", "moto_server"]

_SERVER = (
    "import sys\n"
    "from moto.server import ThreadedMotoServer\n"
    "server = ThreadedMotoServer('127.0.0.1', 0, verbose=False)\n"
    "server.start()\n"
    "print(server.get_host_and_port()[1], flush=True)\n"
    "sys.stdin.read()\n"  # run until the parent closes our stdin
)


class MotoUnavailable(RuntimeError):
    """moto[server] is not installed, or its server did not start."""


def moto_available() -> bool:
    return all(importlib.util.find_spec(m) is not None for m in ("moto", "flask", "boto3"))


@contextlib.contextmanager
def moto_server(start_timeout: float = 30.0) -> Iterator[int]:
    """The port of a fresh moto server on 127.0.0.1, stopped when the block ends."""
    if not moto_available():
        raise MotoUnavailable("moto[server] is not installed (pip install 'moto[server]' boto3)")
    proc = subprocess.Popen(  # noqa: S603  # this interpreter, a constant script
        [sys.executable, "-c", _SERVER],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None and proc.stdin is not None
    try:
        ready, _, _ = select.select([proc.stdout], [], [], start_timeout)
        line = proc.stdout.readline() if ready else ""
        if not line.strip().isdigit():
            raise MotoUnavailable("moto's server did not start")
        yield int(line)
    finally:
        proc.stdin.close()
        proc.kill()
        proc.wait(timeout=10)
        proc.stdout.close()
