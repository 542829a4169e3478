"""``callvault keyd``: serve the home's KMS provider to other services over mTLS only.

The home must exist (``callvault init``) and hold an internal CA (``callvault ca init``);
keyd issues itself ``spiffe://<td>/keyd`` and renews it while running. The banner on
stderr names the address and identity; the line ``keyd listening on HOST:PORT`` is stable
(tests and scripts read the port from it when ``--port 0``). SIGTERM and Ctrl-C stop it
cleanly. Host and port default to ``[keyd]`` in callvault.toml (127.0.0.1:8444).
"""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from types import FrameType

import typer

from callvault.cli._common import HomeOption, cli_errors
from callvault.config import default_home
from callvault.keys import acting_as


def keyd(
    host: str | None = typer.Option(
        None, "--host", help="Address (default: keyd.host in callvault.toml, 127.0.0.1)."
    ),
    port: int | None = typer.Option(
        None, "--port", min=0, max=65535, help="TCP port (default: keyd.port, 8444; 0: any)."
    ),
    home: Path | None = HomeOption,
) -> None:
    """Serve the key service (mTLS, TLS 1.3, SPIFFE-ID policy, every call audited)."""
    _keyd(host, port, home)


@cli_errors
def _keyd(host: str | None, port: int | None, home: Path | None) -> None:
    from callvault.keyd import Keyd

    with acting_as("system"):  # keyd's own key use (its audit log key); calls name theirs
        server = Keyd(home or default_home(), host=host, port=port)
    bound = str(server.server.server_address[0])
    sys.stderr.write(
        f"keyd listening on {bound}:{server.port}\n"
        f"  identity {server.spiffe_id} (mTLS, TLS 1.3 only)\n"
        f"  policy: {', '.join(server.policy.as_json())}\n"
    )
    sys.stderr.flush()

    def stop(_signum: int, _frame: FrameType | None) -> None:
        # shutdown() waits for serve_forever to return, so not from the serving thread.
        threading.Thread(target=server.server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    try:
        with acting_as("system"):
            server.serve_forever()
    except KeyboardInterrupt:
        server.stop()
