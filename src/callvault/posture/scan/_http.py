"""HSTS: one ``GET /`` over the observed handshake, reading Strict-Transport-Security.

Any status counts (a 404 or a 401 still carries the header on a well-configured server).
A peer that does not answer HTTP is not an HTTPS service: the report's ``hsts`` is then
``null`` and the HSTS rules do not apply.
"""

from __future__ import annotations

import re
import ssl
from typing import Any

__all__ = ["read_hsts"]

_MAX_HEADER_BYTES = 65536


def read_hsts(tls: ssl.SSLSocket, host_header: str) -> dict[str, Any] | None:
    request = f"GET / HTTP/1.1\r\nHost: {host_header}\r\nConnection: close\r\n\r\n"
    data = b""
    try:
        tls.sendall(request.encode("ascii"))
        while b"\r\n\r\n" not in data and len(data) < _MAX_HEADER_BYTES:
            chunk = tls.recv(4096)
            if not chunk:
                break
            data += chunk
    except (OSError, ssl.SSLError):
        pass
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    lines = head.split("\r\n")
    status = re.match(r"HTTP/\d(?:\.\d)? (\d{3})", lines[0])
    if status is None:
        return None
    values = [
        line.split(":", 1)[1].strip()
        for line in lines[1:]
        if line.lower().startswith("strict-transport-security:")
    ]
    value = values[0] if values else None
    age = re.search(r"max-age\s*=\s*\"?(\d+)", value or "", re.IGNORECASE)
    directives = {d.strip().lower() for d in (value or "").split(";")}
    return {
        "status": int(status[1]),
        "present": value is not None,
        "value": value,
        "max_age": int(age[1]) if age else None,
        "include_subdomains": "includesubdomains" in directives,
        "preload": "preload" in directives,
    }
