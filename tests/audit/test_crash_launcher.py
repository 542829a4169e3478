"""Test-only launcher (no tests here): the real app over a home, served over TLS by uvicorn,
with one crash point patched in. Run as ``python tests/audit/test_crash_launcher.py MODE
HOME``; prints ``{"port": N}`` once it accepts connections. Modes:

* ``after-audit-commit``: ``Recordings._write_marker`` (the upload's commit) exits the
  process at once: the audit entry was appended, the commit never ran;
* ``after-audit-delete``: ``Recordings._delete_objects`` exits likewise;
* ``in-audit-append``: the audit store's ``fsync`` exits the process while it makes a
  ``recording.write`` or ``recording.delete`` entry durable: the action must not happen.

``os._exit`` skips every cleanup, like a kill -9 at that instruction.
"""

from __future__ import annotations

import functools
import json
import os
import socket
import sys
import threading
import time
import types
from pathlib import Path
from typing import Any

CRASH_STATUS = 71
MODES = ("after-audit-commit", "after-audit-delete", "in-audit-append")


def _exit(*_: Any, **__: Any) -> None:
    os._exit(CRASH_STATUS)


def _patch(mode: str) -> None:
    from callvault.api._recordings import Recordings
    from callvault.audit import AuditLog, _store

    if mode == "after-audit-commit":
        Recordings._write_marker = _exit  # type: ignore[method-assign]
    elif mode == "after-audit-delete":
        Recordings._delete_objects = _exit  # type: ignore[method-assign]
    else:
        armed = threading.local()
        original_append = AuditLog.append

        def append(self: AuditLog, entry: Any, subject: Any = None) -> Any:
            armed.on = entry.action in ("recording.write", "recording.delete")
            try:
                return original_append(self, entry, subject)
            finally:
                armed.on = False

        def fsync(fd: int) -> None:
            if getattr(armed, "on", False):
                os._exit(CRASH_STATUS)
            os.fsync(fd)

        AuditLog.append = append  # type: ignore[method-assign]
        _store.os = types.SimpleNamespace(  # type: ignore[attr-defined]
            **{name: getattr(os, name) for name in dir(os) if not name.startswith("__")}
        )
        _store.os.fsync = fsync  # type: ignore[attr-defined]


def main(mode: str, home: Path) -> None:
    import uvicorn

    from callvault import Vault
    from callvault.api import ApiServices, create_app
    from callvault.cli._serve import tls_context
    from callvault.transport import TlsProfile, ensure_local_tls

    if mode not in MODES:
        raise SystemExit(f"unknown mode {mode}")
    _patch(mode)
    vault = Vault.open_home(home)
    tls = ensure_local_tls(home / "tls")
    app = create_app(vault, services=ApiServices.embedded(vault, records=False))
    sock = socket.create_server(("127.0.0.1", 0))
    config = uvicorn.Config(
        app,
        ssl_context_factory=functools.partial(tls_context, TlsProfile.MODERN, tls.chain, tls.key),
        lifespan="off",
        ws="none",
        http="h11",
        log_level="critical",
        access_log=False,
    )
    server = uvicorn.Server(config)

    def announce() -> None:
        while not server.started:
            time.sleep(0.02)
        print(json.dumps({"port": sock.getsockname()[1]}), flush=True)

    threading.Thread(target=announce, daemon=True).start()
    server.run(sockets=[sock])


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))
