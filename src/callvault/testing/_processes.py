"""Waiting for a server subprocess's start-up line.

Servers started by tests (``callvault keyd``, ``callvault serve``) print a stable banner
line with their port once they listen; reading stderr with a deadline, instead of sleeping,
makes the tests as fast as the server and gives everything it printed when it fails.
"""

from __future__ import annotations

import selectors
import subprocess
import time

__all__ = ["wait_for_line"]


def wait_for_line(proc: subprocess.Popen[bytes], prefix: bytes, timeout: float = 30.0) -> bytes:
    """The first stderr line of ``proc`` starting with ``prefix``; AssertionError with what it
    printed if it exits or the timeout passes first."""
    assert proc.stderr is not None
    selector = selectors.DefaultSelector()
    selector.register(proc.stderr, selectors.EVENT_READ)
    deadline, seen = time.monotonic() + timeout, b""
    try:
        while time.monotonic() < deadline:
            if selector.select(timeout=0.5):
                line = proc.stderr.readline()
                seen += line
                if line.startswith(prefix):
                    return line
                if not line and proc.poll() is not None:
                    break
    finally:
        selector.close()
    raise AssertionError(f"process did not start: {seen.decode(errors='replace')}")
