"""Child process of the API benchmark: the real app over one home, served like ``callvault
serve``, with the real vault (``encrypted``) or the bench-only ``PlaintextVault``
(``plaintext``).

Run by ``bench.api._servers`` as ``python -m bench.api._server_main MODE HOME``. It binds an
ephemeral port on 127.0.0.1, starts uvicorn with the TLS context factory ``callvault serve``
uses (``cli._serve.tls_context``, profile from the home's config: TLS 1.3 only by default)
and the same uvicorn options, and prints one JSON line ``{"port": N, "pid": P}`` once the
server accepts connections. SIGTERM stops it (uvicorn's own graceful shutdown).

A separate process per pipeline keeps the client's GIL out of the server's way, as in
production, and gives both pipelines identical, independent interpreters.
"""

from __future__ import annotations

import functools
import json
import os
import socket
import sys
import threading
import time
from pathlib import Path

__all__ = ["MODES"]

MODES = ("encrypted", "plaintext")


def _announce(server: object, port: int) -> None:
    deadline = time.monotonic() + 60
    while not getattr(server, "started", False):
        if time.monotonic() > deadline:
            os._exit(3)  # the parent sees EOF and reports our stderr
        time.sleep(0.01)
    print(json.dumps({"port": port, "pid": os.getpid()}), flush=True)


def main(argv: list[str]) -> int:
    mode, home = argv[0], Path(argv[1])
    if mode not in MODES:
        raise SystemExit(f"unknown mode {mode!r}; expected one of {MODES}")
    import uvicorn

    from bench.api._plaintext import PlaintextVault
    from callvault import Vault
    from callvault.api import ApiServices, create_app
    from callvault.cli._serve import tls_context, uvicorn_config
    from callvault.transport import TlsProfile, ensure_local_tls

    vault = Vault.open_home(home)
    if mode == "plaintext":
        vault = PlaintextVault.over(vault)
    files = ensure_local_tls(home / "tls")
    factory = functools.partial(
        tls_context, TlsProfile(vault.settings.tls_profile), files.chain, files.key
    )
    factory()  # fail now if the TLS policy cannot be enforced, as `callvault serve` does
    app = create_app(vault, services=ApiServices.embedded(vault))
    sock = socket.create_server(("127.0.0.1", 0))
    config = uvicorn_config(app, factory, log_level="warning")
    server = uvicorn.Server(config)
    port = int(sock.getsockname()[1])
    threading.Thread(target=_announce, args=(server, port), daemon=True).start()
    server.run(sockets=[sock])
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
