"""Security headers on every response, and the last-resort 500, as one ASGI middleware.

It wraps the whole application, so even an error page carries HSTS: a client that reached
us once over HTTPS must never be talked into plain HTTP, whatever the response was.

* ``Strict-Transport-Security`` (``transport.HSTS_HEADER_VALUE``) on every response;
* ``Cache-Control: no-store`` unless a route chose its own (the JWKS may be cached; call
  data and errors may not sit in a proxy or browser cache);
* ``X-Content-Type-Options: nosniff`` (a recording is never rendered as HTML).

An exception that escapes the application before the response started becomes the same
JSON 500 every other error uses; the log line names the exception type and the route
only, never its message (which could echo input) or a traceback's locals.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from callvault.api._errors import error_body, map_error
from callvault.transport import HSTS_HEADER, HSTS_HEADER_VALUE

__all__ = ["SecurityHeadersMiddleware"]

log = logging.getLogger("callvault.api")

_ALWAYS = (
    (HSTS_HEADER.lower().encode(), HSTS_HEADER_VALUE.encode()),
    (b"x-content-type-options", b"nosniff"),
)


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() not in _NAMES]
                headers.extend(_ALWAYS)
                if not any(k.lower() == b"cache-control" for k, _ in headers):
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception as exc:
            log.error("unhandled %s in %s %s", type(exc).__name__, scope["method"], scope["path"])
            if started:
                raise  # the status is on the wire; the server aborts the connection
            status, code, message = map_error(exc)
            await _send_json(send_with_headers, status, error_body(code, message))


_NAMES = frozenset(k for k, _ in _ALWAYS)


async def _send_json(send: Send, status: int, body: Any) -> None:
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
